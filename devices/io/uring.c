// SPDX-License-Identifier: Apache-2.0
/*
 * The io_uring engine: one ring per engine, see engine.h.
 *
 * Setup: the ring is created disabled (IORING_SETUP_R_DISABLED) with
 * IORING_SETUP_SUBMIT_ALL (one bad SQE does not stop a batch); a sparse
 * table of max_files fixed files, the completion eventfd and the io-wq
 * worker bound (the same for bounded and unbounded work) are registered;
 * then restrictions allow only READV, WRITEV, FSYNC and FALLOCATE on fixed
 * files (IOSQE_FIXED_FILE required, no other SQE flag) and, after enabling,
 * only file-table updates among the register operations; then the ring is
 * enabled.  The io-wq bound belongs to the task that submits (the owner
 * thread): rings submitted from one thread share one io-wq.
 *
 * Every request has at most one SQE queued or in flight, and no more than
 * depth requests are in flight, so the SQ (at least depth entries) and
 * the CQ (twice that) never overflow.  A CQE advances its request's state
 * machine (engine.c); a request that needs another step (the rest of a
 * short transfer, a bounced chunk, a WRITE_ZEROES fallback) gets a new SQE,
 * submitted before reap returns.
 */
#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine_impl.h"

struct uring_engine {
	struct io_core core;
	struct io_uring ring;
	bool ring_ok;
	unsigned int running;	/* requests with an SQE queued or in flight */
};

static struct uring_engine *uring_of(struct io_engine *e)
{
	return container_of(io_core_of(e), struct uring_engine, core);
}

/*
 * io_uring_register(2) made directly: liburing 2.3's shared library does
 * not export io_uring_register_restrictions() and io_uring_enable_rings()
 * (they are missing from its symbol map).
 */
static int uring_register(struct io_uring *ring, unsigned int op,
			  const void *arg, unsigned int nr)
{
	long ret = syscall(__NR_io_uring_register, ring->ring_fd, op, arg, nr);

	return ret < 0 ? -errno : (int)ret;
}

static const struct io_uring_restriction uring_restrictions[] = {
	{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READV },
	{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITEV },
	{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FSYNC },
	{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FALLOCATE },
	{ .opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED,
	  .sqe_flags = IOSQE_FIXED_FILE },
	{ .opcode = IORING_RESTRICTION_REGISTER_OP,
	  .register_op = IORING_REGISTER_FILES_UPDATE },
	{ .opcode = IORING_RESTRICTION_REGISTER_OP,
	  .register_op = IORING_REGISTER_FILES_UPDATE2 },
};

/* Queue an SQE for the next step of @s.  Returns 0 or -EAGAIN (SQ full). */
static int uring_queue_step(struct uring_engine *ue, struct io_slot *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ue->ring);
	struct io_step st;
	int file;

	if (!sqe)
		return -EAGAIN;
	io_core_step(s, &st);
	file = (int)st.file;
	switch (st.kind) {
	case IO_STEP_READV:
		io_uring_prep_readv(sqe, file, st.iov, st.iovcnt, st.off);
		break;
	case IO_STEP_WRITEV:
		io_uring_prep_writev(sqe, file, st.iov, st.iovcnt, st.off);
		break;
	case IO_STEP_DSYNC:
		io_uring_prep_fsync(sqe, file, IORING_FSYNC_DATASYNC);
		break;
	default:
		io_uring_prep_fallocate(sqe, file, st.mode, (off_t)st.off,
					(off_t)st.len);
		break;
	}
	io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
	io_uring_sqe_set_data(sqe, s);
	return 0;
}

static int uring_add_file(struct io_engine *e, int fd, unsigned int align)
{
	struct uring_engine *ue = uring_of(e);
	int idx, ret;

	idx = io_core_add_file(&ue->core, fd, align);
	if (idx < 0)
		return idx;
	ret = io_uring_register_files_update(&ue->ring, (unsigned int)idx,
					     &fd, 1);
	if (ret < 0) {
		ue->core.nfiles--;
		return ret;
	}
	return idx;
}

static int uring_submit(struct io_engine *e, const struct io_request *req)
{
	struct uring_engine *ue = uring_of(e);
	struct io_completion dropped;
	struct io_slot *s;
	int ret;

	ret = io_core_start(&ue->core, req, &s);
	if (ret)
		return ret;
	ret = uring_queue_step(ue, s);
	if (ret) {
		/* Cannot happen (the SQ has room for depth): undo. */
		io_core_complete(&ue->core, s, &dropped);
		return ret;
	}
	ue->running++;
	return 0;
}

static int uring_flush(struct io_engine *e)
{
	struct uring_engine *ue = uring_of(e);
	int ret;

	if (!io_uring_sq_ready(&ue->ring))
		return 0;
	do
		ret = io_uring_submit(&ue->ring);
	while (ret == -EINTR);
	return ret < 0 ? ret : 0;
}

/*
 * Feed a CQE's result to @s.  Returns true when @s is finished; else its
 * next step is queued (or, when that fails, @s is finished with -EIO).
 */
static bool uring_handle(struct uring_engine *ue, struct io_slot *s,
			 int32_t res)
{
	if (!io_core_advance(s, res)) {
		if (!uring_queue_step(ue, s))
			return false;
		io_core_fail(s, -EIO);
	}
	ue->running--;
	return true;
}

static int uring_reap(struct io_engine *e, struct io_completion *out,
		      unsigned int max)
{
	struct uring_engine *ue = uring_of(e);
	struct io_core *c = &ue->core;
	struct io_uring_cqe *cqe;
	unsigned int n = 0;

	io_efd_clear(c->engine.fd);
	while (n < max && !io_uring_peek_cqe(&ue->ring, &cqe)) {
		struct io_slot *s = io_uring_cqe_get_data(cqe);
		int32_t res = cqe->res;

		io_uring_cqe_seen(&ue->ring, cqe);
		if (uring_handle(ue, s, res))
			io_core_complete(c, s, &out[n++]);
	}
	/* Steps queued above go now; come back if anything is left. */
	if (uring_flush(e) < 0 || io_uring_cq_ready(&ue->ring))
		io_efd_signal(c->engine.fd);
	return (int)n;
}

/* Wait for every request to finish; their completions are dropped. */
static void uring_drain(struct uring_engine *ue)
{
	struct io_uring_cqe *cqe;
	struct io_slot *s;
	int32_t res;
	int ret;

	while (ue->running) {
		uring_flush(&ue->core.engine);
		ret = io_uring_wait_cqe(&ue->ring, &cqe);
		if (ret == -EINTR || ret == -EAGAIN || ret == -EBUSY)
			continue;
		if (ret < 0)
			return;	/* the ring is broken: nothing more comes */
		s = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&ue->ring, cqe);
		uring_handle(ue, s, res);
	}
}

static void uring_free(struct uring_engine *ue)
{
	if (ue->ring_ok)
		io_uring_queue_exit(&ue->ring);
	io_core_fini(&ue->core);
	free(ue);
}

static void uring_destroy(struct io_engine *e)
{
	struct uring_engine *ue = uring_of(e);

	uring_drain(ue);
	uring_free(ue);
}

static const struct io_engine_ops uring_ops = {
	.add_file = uring_add_file,
	.submit = uring_submit,
	.flush = uring_flush,
	.reap = uring_reap,
	.destroy = uring_destroy,
};

/* Register files, eventfd, worker bound and restrictions; enable. */
static int uring_setup(struct uring_engine *ue)
{
	struct io_core *c = &ue->core;
	unsigned int limits[2] = { c->workers, c->workers };
	int ret;

	ret = io_uring_register_files_sparse(&ue->ring, c->max_files);
	if (ret)
		return ret;
	ret = io_uring_register_eventfd(&ue->ring, c->engine.fd);
	if (ret)
		return ret;
	ret = io_uring_register_iowq_max_workers(&ue->ring, limits);
	if (ret)
		return ret;
	ret = uring_register(&ue->ring, IORING_REGISTER_RESTRICTIONS,
			     uring_restrictions,
			     sizeof(uring_restrictions) /
			     sizeof(uring_restrictions[0]));
	if (ret < 0)
		return ret;
	ret = uring_register(&ue->ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (ret < 0)
		return ret;
	c->engine.flags = IO_ENGINE_RESTRICTED | IO_ENGINE_WORKERS_BOUND;
	return 0;
}

int io_engine_create_uring(const struct io_engine_config *cfg,
			   struct io_engine **out)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_SUBMIT_ALL,
	};
	struct uring_engine *ue;
	int ret;

	ue = calloc(1, sizeof(*ue));
	if (!ue)
		return -ENOMEM;
	ret = io_core_init(&ue->core, cfg, &uring_ops, "io_uring");
	if (ret) {
		free(ue);
		return ret;
	}
	ret = io_uring_queue_init_params(ue->core.depth, &ue->ring, &p);
	if (ret)
		goto fail;
	ue->ring_ok = true;
	ret = -EINVAL;
	if (p.sq_entries < ue->core.depth)
		goto fail;
	ret = uring_setup(ue);
	if (ret)
		goto fail;
	*out = &ue->core.engine;
	return 0;
fail:
	uring_free(ue);
	return ret;
}
