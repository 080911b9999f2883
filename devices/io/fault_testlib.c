// SPDX-License-Identifier: Apache-2.0
/*
 * The fault-injecting engine for unit tests.  See fault_testlib.h.  No
 * cmocka here: every unit test binary links this file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "fault_testlib.h"

_Static_assert(IO_STEP_READV == FAULT_READV && IO_STEP_WRITEV == FAULT_WRITEV &&
	       IO_STEP_DSYNC == FAULT_DSYNC &&
	       IO_STEP_FALLOCATE == FAULT_FALLOCATE, "fault_stats indices");

struct fault_engine {
	struct io_core core;
	unsigned int *pending;		/* submitted, not flushed */
	unsigned int npending;
	unsigned int *done;		/* finished, not reaped (stack) */
	unsigned int ndone;
	struct io_fault rules[FAULT_MAX_RULES];
	unsigned int nrules;
	unsigned int refuse;
	struct fault_stats stats;
	struct iovec *scratch;		/* a step's iovecs, cut short */
};

/* What a rule still does to the request it applies to. */
struct fault_run {
	uint64_t short_len;
	unsigned int short_left;
	bool stall;
	int error;
	unsigned int error_left;
};

static struct fault_engine *fault_of(struct io_engine *e)
{
	return container_of(io_core_of(e), struct fault_engine, core);
}

static void fault_pick(struct fault_engine *fe, enum io_op op,
		       struct fault_run *run)
{
	unsigned int i;

	memset(run, 0, sizeof(*run));
	for (i = 0; i < fe->nrules; i++) {
		struct io_fault *f = &fe->rules[i];

		if (!f->count || (f->ops && !(f->ops & (1u << op))))
			continue;
		if (f->skip) {
			f->skip--;
			continue;
		}
		f->count--;
		run->short_len = f->short_len;
		run->short_left = f->short_len ? f->short_steps : 0;
		run->stall = f->stall;
		run->error = f->error;
		run->error_left = f->error ? f->error_steps : 0;
		return;
	}
}

/* Run @st as @run says. */
static int64_t fault_exec(struct fault_engine *fe, const struct io_step *st,
			  struct fault_run *run)
{
	bool rw = st->kind == IO_STEP_READV || st->kind == IO_STEP_WRITEV;
	struct fault_stats *fs = &fe->stats;
	struct io_step cut;

	fs->steps[st->kind]++;
	if (st->kind == IO_STEP_FALLOCATE && fs->nmodes < FAULT_MAX_MODES)
		fs->modes[fs->nmodes++] = st->mode;
	if (rw && run->short_left && st->len > run->short_len) {
		uint64_t left = run->short_len;
		unsigned int i;

		run->short_left--;
		cut = *st;
		for (i = 0; i < st->iovcnt && left; i++) {
			fe->scratch[i] = st->iov[i];
			if (fe->scratch[i].iov_len > left)
				fe->scratch[i].iov_len = left;
			left -= fe->scratch[i].iov_len;
		}
		cut.iov = fe->scratch;
		cut.iovcnt = i;
		cut.len = run->short_len;
		fs->shortened++;
		fs->syscalls[st->kind]++;
		return io_step_exec(&cut);
	}
	if (rw && run->stall) {
		run->stall = false;
		fs->stalled++;
		return 0;
	}
	if (run->error_left) {
		run->error_left--;
		fs->failed++;
		return run->error;
	}
	fs->syscalls[st->kind]++;
	return io_step_exec(st);
}

static int fault_add_file(struct io_engine *e, int fd, unsigned int align)
{
	return io_core_add_file(io_core_of(e), fd, align);
}

static int fault_submit(struct io_engine *e, const struct io_request *req)
{
	struct fault_engine *fe = fault_of(e);
	struct io_slot *s;
	int ret;

	if (fe->refuse) {
		fe->refuse--;
		fe->stats.refused++;
		return -EAGAIN;
	}
	ret = io_core_start(&fe->core, req, &s);
	if (ret)
		return ret;
	fe->pending[fe->npending++] = io_slot_index(&fe->core, s);
	return 0;
}

static int fault_flush(struct io_engine *e)
{
	struct fault_engine *fe = fault_of(e);
	unsigned int i;

	for (i = 0; i < fe->npending; i++) {
		struct io_slot *s = &fe->core.slots[fe->pending[i]];
		struct fault_run run;
		struct io_step st;

		fault_pick(fe, s->op, &run);
		do
			io_core_step(s, &st);
		while (!io_core_advance(s, fault_exec(fe, &st, &run)));
		fe->done[fe->ndone++] = fe->pending[i];
	}
	if (fe->npending)
		io_efd_signal(e->fd);
	fe->npending = 0;
	return 0;
}

static int fault_reap(struct io_engine *e, struct io_completion *out,
		      unsigned int max)
{
	struct fault_engine *fe = fault_of(e);
	unsigned int n = 0;

	io_efd_clear(e->fd);
	/* Oldest first, as a test reading results in order expects. */
	while (n < max && n < fe->ndone) {
		io_core_complete(&fe->core, &fe->core.slots[fe->done[n]],
				 &out[n]);
		n++;
	}
	memmove(fe->done, fe->done + n, (fe->ndone - n) * sizeof(*fe->done));
	fe->ndone -= n;
	if (fe->ndone)
		io_efd_signal(e->fd);
	return (int)n;
}

static void fault_free(struct fault_engine *fe)
{
	free(fe->scratch);
	free(fe->done);
	free(fe->pending);
	io_core_fini(&fe->core);
	free(fe);
}

static void fault_destroy(struct io_engine *e)
{
	fault_flush(e);
	fault_free(fault_of(e));
}

static const struct io_engine_ops fault_ops = {
	.add_file = fault_add_file,
	.submit = fault_submit,
	.flush = fault_flush,
	.reap = fault_reap,
	.destroy = fault_destroy,
};

int fault_engine_create(const struct io_engine_config *cfg,
			struct io_engine **out)
{
	struct fault_engine *fe;
	int ret;

	fe = calloc(1, sizeof(*fe));
	if (!fe)
		return -ENOMEM;
	ret = io_core_init(&fe->core, cfg, &fault_ops, "fault");
	if (ret) {
		free(fe);
		return ret;
	}
	fe->pending = calloc(fe->core.depth, sizeof(*fe->pending));
	fe->done = calloc(fe->core.depth, sizeof(*fe->done));
	fe->scratch = calloc(fe->core.max_iovecs, sizeof(*fe->scratch));
	if (!fe->pending || !fe->done || !fe->scratch) {
		fault_free(fe);
		return -ENOMEM;
	}
	*out = &fe->core.engine;
	return 0;
}

int fault_engine_inject(struct io_engine *e, const struct io_fault *f)
{
	struct fault_engine *fe = fault_of(e);
	struct io_fault *r;

	if (fe->nrules == FAULT_MAX_RULES)
		return -ENOSPC;
	r = &fe->rules[fe->nrules++];
	*r = *f;
	if (!r->count)
		r->count = 1;
	if (r->short_len && !r->short_steps)
		r->short_steps = 1;
	if (r->error && !r->error_steps)
		r->error_steps = 1;
	return 0;
}

void fault_engine_refuse_submits(struct io_engine *e, unsigned int n)
{
	fault_of(e)->refuse = n;
}

void fault_engine_clear(struct io_engine *e)
{
	struct fault_engine *fe = fault_of(e);

	fe->nrules = 0;
	fe->refuse = 0;
}

const struct fault_stats *fault_engine_stats(struct io_engine *e)
{
	return &fault_of(e)->stats;
}

void fault_engine_reset_stats(struct io_engine *e)
{
	memset(&fault_of(e)->stats, 0, sizeof(fault_of(e)->stats));
}
