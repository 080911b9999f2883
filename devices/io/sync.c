// SPDX-License-Identifier: Apache-2.0
/*
 * The sync engine: a fixed pool of worker threads making plain syscalls
 * (preadv, pwritev, fdatasync, fallocate), for hosts without io_uring and
 * for tests.  See engine.h.
 *
 * The owner thread queues submitted slots in @pending (its own, no lock);
 * flush moves them into the shared @queue and wakes workers.  A worker
 * runs every step of one request (engine.c's state machine), puts the slot
 * in @done and signals the eventfd; reap takes slots from @done.  Queue
 * and done are rings of slot indices with room for every slot, so they
 * never fill up: back-pressure comes from the slots (depth).
 *
 * Workers block every signal: the VMM takes signals with signalfd on its
 * event loop, and a worker must never run a handler.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "engine_impl.h"

struct sync_engine {
	struct io_core core;

	/* Owner thread only. */
	unsigned int *pending;
	unsigned int npending;

	/* Under @lock. */
	pthread_mutex_t lock;
	pthread_cond_t work;		/* queue non-empty, or stop */
	pthread_cond_t idle;		/* outstanding dropped to 0 */
	unsigned int *queue;		/* flushed, not yet taken */
	unsigned int q_head, q_len;
	unsigned int *done;		/* finished, not yet reaped */
	unsigned int d_head, d_len;
	unsigned int outstanding;	/* flushed, not yet finished */
	bool stop;

	pthread_t *threads;
	unsigned int nthreads;
};

static struct sync_engine *sync_of(struct io_engine *e)
{
	return container_of(io_core_of(e), struct sync_engine, core);
}

static void *sync_worker(void *arg)
{
	struct sync_engine *se = arg;
	struct io_core *c = &se->core;
	unsigned int depth = c->depth, idx;

	pthread_mutex_lock(&se->lock);
	for (;;) {
		while (!se->q_len && !se->stop)
			pthread_cond_wait(&se->work, &se->lock);
		if (!se->q_len)
			break;		/* stopping, and nothing left */
		idx = se->queue[se->q_head];
		se->q_head = (se->q_head + 1) % depth;
		se->q_len--;
		pthread_mutex_unlock(&se->lock);

		io_core_run(&c->slots[idx]);

		pthread_mutex_lock(&se->lock);
		se->done[(se->d_head + se->d_len) % depth] = idx;
		se->d_len++;
		if (!--se->outstanding)
			pthread_cond_broadcast(&se->idle);
		io_efd_signal(c->engine.fd);
	}
	pthread_mutex_unlock(&se->lock);
	return NULL;
}

static int sync_add_file(struct io_engine *e, int fd, unsigned int align)
{
	return io_core_add_file(io_core_of(e), fd, align);
}

static int sync_submit(struct io_engine *e, const struct io_request *req)
{
	struct sync_engine *se = sync_of(e);
	struct io_slot *s;
	int ret;

	ret = io_core_start(&se->core, req, &s);
	if (ret)
		return ret;
	se->pending[se->npending++] = io_slot_index(&se->core, s);
	return 0;
}

static int sync_flush(struct io_engine *e)
{
	struct sync_engine *se = sync_of(e);
	unsigned int depth = se->core.depth, i, n = se->npending;

	if (!n)
		return 0;
	pthread_mutex_lock(&se->lock);
	for (i = 0; i < n; i++)
		se->queue[(se->q_head + se->q_len++) % depth] = se->pending[i];
	se->outstanding += n;
	if (n == 1)
		pthread_cond_signal(&se->work);
	else
		pthread_cond_broadcast(&se->work);
	pthread_mutex_unlock(&se->lock);
	se->npending = 0;
	return 0;
}

static int sync_reap(struct io_engine *e, struct io_completion *out,
		     unsigned int max)
{
	struct sync_engine *se = sync_of(e);
	struct io_core *c = &se->core;
	unsigned int n = 0;
	bool more;

	io_efd_clear(c->engine.fd);
	pthread_mutex_lock(&se->lock);
	while (n < max && se->d_len) {
		unsigned int idx = se->done[se->d_head];

		se->d_head = (se->d_head + 1) % c->depth;
		se->d_len--;
		io_core_complete(c, &c->slots[idx], &out[n++]);
	}
	more = se->d_len;
	pthread_mutex_unlock(&se->lock);
	if (more)
		io_efd_signal(c->engine.fd);
	return (int)n;
}

/* Stop and join the workers; with @drain, after everything finished. */
static void sync_stop(struct sync_engine *se, bool drain)
{
	unsigned int i;

	pthread_mutex_lock(&se->lock);
	while (drain && se->outstanding)
		pthread_cond_wait(&se->idle, &se->lock);
	se->stop = true;
	pthread_cond_broadcast(&se->work);
	pthread_mutex_unlock(&se->lock);
	for (i = 0; i < se->nthreads; i++)
		pthread_join(se->threads[i], NULL);
	se->nthreads = 0;
}

static void sync_free(struct sync_engine *se)
{
	pthread_cond_destroy(&se->idle);
	pthread_cond_destroy(&se->work);
	pthread_mutex_destroy(&se->lock);
	free(se->threads);
	free(se->done);
	free(se->queue);
	free(se->pending);
	io_core_fini(&se->core);
	free(se);
}

static void sync_destroy(struct io_engine *e)
{
	struct sync_engine *se = sync_of(e);

	sync_flush(e);
	sync_stop(se, true);
	sync_free(se);
}

static const struct io_engine_ops sync_ops = {
	.add_file = sync_add_file,
	.submit = sync_submit,
	.flush = sync_flush,
	.reap = sync_reap,
	.destroy = sync_destroy,
};

/* Start the workers with every signal blocked. */
static int sync_start_workers(struct sync_engine *se, unsigned int n)
{
	sigset_t all, old;
	int ret = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (se->nthreads = 0; se->nthreads < n; se->nthreads++) {
		ret = -pthread_create(&se->threads[se->nthreads], NULL,
				      sync_worker, se);
		if (ret)
			break;
		pthread_setname_np(se->threads[se->nthreads], "wisp-io");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int io_engine_create_sync(const struct io_engine_config *cfg,
			  struct io_engine **out)
{
	struct sync_engine *se;
	unsigned int depth, n;
	int ret;

	se = calloc(1, sizeof(*se));
	if (!se)
		return -ENOMEM;
	ret = io_core_init(&se->core, cfg, &sync_ops, "sync");
	if (ret) {
		free(se);
		return ret;
	}
	depth = se->core.depth;
	n = se->core.workers < depth ? se->core.workers : depth;
	ret = -ENOMEM;
	se->pending = calloc(depth, sizeof(*se->pending));
	se->queue = calloc(depth, sizeof(*se->queue));
	se->done = calloc(depth, sizeof(*se->done));
	se->threads = calloc(n, sizeof(*se->threads));
	if (!se->pending || !se->queue || !se->done || !se->threads)
		goto fail_mem;
	ret = -pthread_mutex_init(&se->lock, NULL);
	if (ret)
		goto fail_mem;
	ret = -pthread_cond_init(&se->work, NULL);
	if (ret)
		goto fail_lock;
	ret = -pthread_cond_init(&se->idle, NULL);
	if (ret)
		goto fail_work;
	ret = sync_start_workers(se, n);
	if (ret) {
		sync_stop(se, false);
		sync_free(se);
		return ret;
	}
	se->core.engine.flags = IO_ENGINE_WORKERS_BOUND;
	*out = &se->core.engine;
	return 0;

fail_work:
	pthread_cond_destroy(&se->work);
fail_lock:
	pthread_mutex_destroy(&se->lock);
fail_mem:
	free(se->threads);
	free(se->done);
	free(se->queue);
	free(se->pending);
	io_core_fini(&se->core);
	free(se);
	return ret;
}
