/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Block I/O engines: what a disk device uses to read and write its backing
 * file without blocking its I/O thread.  One interface, three engines:
 *
 *   io_uring  one ring per engine (a device makes one engine per queue),
 *             fixed files, opcodes restricted, io-wq workers bounded;
 *   sync      a bounded pool of worker threads making plain syscalls, for
 *             hosts where io_uring is unavailable, and for tests;
 *   fault     (fault_testlib.h, unit tests only) injects errors.
 *
 * Flow: io_engine_submit() queues requests (no syscall), io_engine_flush()
 * starts everything queued in one go, io_engine_fd() becomes readable when
 * completions are ready, io_engine_reap() hands them back.
 *
 * Results: a read or write completes with exactly the bytes it asked for
 * or with -errno, never with fewer bytes: the engine continues short
 * transfers itself, and fails the request with -EIO when a read hits end of
 * file or a transfer makes no progress.  Host errors (EIO, ENOSPC, EFBIG,
 * EBADF...) fail only their request; the engine keeps working.  A failed
 * data sync is reported, never retried.
 *
 * Threads: every function below, except where noted, is called by one
 * thread at a time, the owner: the device's I/O thread.  Create and
 * destroy may run on another thread (construction, teardown) as long as no
 * other call runs concurrently.  Worker threads (sync engine, io-wq) are
 * internal and never call back into the device.
 */
#ifndef WISP_DEVICES_IO_ENGINE_H
#define WISP_DEVICES_IO_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Limits and defaults (a config field of 0 picks the default). */
#define IO_DEFAULT_DEPTH	128
#define IO_MAX_DEPTH		4096
#define IO_DEFAULT_IOVECS	256
#define IO_MIN_IOVECS		16
#define IO_MAX_IOVECS		1024		/* IOV_MAX */
#define IO_DEFAULT_FILES	4
#define IO_MAX_FILES		64
#define IO_DEFAULT_WORKERS	4
#define IO_MAX_WORKERS		64
#define IO_BOUNCE_SIZE		(128u << 10)	/* one bounce buffer */
#define IO_DEFAULT_BOUNCE	(1u << 20)	/* per engine */
#define IO_MAX_ALIGN		4096u
#define IO_MAX_LEN		0x7ffff000u	/* bytes per read/write request */

enum io_op {
	IO_OP_READ,		/* preadv into @iov */
	IO_OP_WRITE,		/* pwritev from @iov */
	IO_OP_DSYNC,		/* fdatasync of the file */
	IO_OP_DISCARD,		/* fallocate(PUNCH_HOLE | KEEP_SIZE) */
	IO_OP_WRITE_ZEROES,	/* fallocate(ZERO_RANGE | KEEP_SIZE), see below */
	IO_OP_COUNT
};

/*
 * One request.  The engine copies it (iovec array included) at submit, so
 * the struct and the array may live on the caller's stack; the buffers the
 * iovecs point at (guest memory) must stay valid until the completion is
 * reaped or the engine destroyed.
 *
 * WRITE_ZEROES: when the file system refuses ZERO_RANGE with EOPNOTSUPP,
 * the engine punches a hole instead (the range reads back as zeros but is
 * deallocated), and when that is refused too, writes zeros.
 */
struct io_request {
	enum io_op op;
	unsigned int file;		/* index from io_engine_add_file() */
	uint64_t offset;		/* bytes; unused by DSYNC */
	uint64_t len;			/* DISCARD, WRITE_ZEROES: bytes, > 0 */
	const struct iovec *iov;	/* READ, WRITE: 1..max_iovecs entries */
	unsigned int iovcnt;
	void *data;			/* handed back in the completion */
};

struct io_completion {
	void *data;	/* io_request.data */
	int64_t res;	/* READ, WRITE: bytes (== asked); others: 0; or -errno */
};

enum io_engine_kind {
	IO_ENGINE_AUTO,		/* io_uring, else the sync engine */
	IO_ENGINE_URING,	/* io_uring or fail */
	IO_ENGINE_SYNC,		/* the sync engine */
};

struct io_engine_config {
	enum io_engine_kind kind;	/* io_engine_create() only */
	unsigned int depth;		/* requests in flight at most */
	unsigned int max_iovecs;	/* per request; at least IO_MIN_IOVECS */
	unsigned int max_files;		/* io_engine_add_file() calls */
	unsigned int workers;		/* io-wq bound, or sync threads */
	size_t bounce_bytes;		/* O_DIRECT bounce buffers, in all */
};

/* Engine flags, for logs and tests. */
#define IO_ENGINE_RESTRICTED	(1u << 0)	/* io_uring opcodes restricted */
#define IO_ENGINE_WORKERS_BOUND	(1u << 1)	/* worker threads bounded */

struct io_engine;

/* What every engine implements; callers use the functions below. */
struct io_engine_ops {
	int (*add_file)(struct io_engine *e, int fd, unsigned int align);
	int (*submit)(struct io_engine *e, const struct io_request *req);
	int (*flush)(struct io_engine *e);
	int (*reap)(struct io_engine *e, struct io_completion *out,
		    unsigned int max);
	void (*destroy)(struct io_engine *e);
};

/* The public part of every engine; read-only for callers. */
struct io_engine {
	const struct io_engine_ops *ops;
	const char *name;	/* "io_uring", "sync", "fault" */
	int fd;			/* completion eventfd, see io_engine_fd() */
	unsigned int flags;	/* IO_ENGINE_* */
};

/*
 * Make an engine as @cfg->kind asks.  For IO_ENGINE_AUTO, when io_uring is
 * unavailable (io_uring_setup fails with ENOSYS; EPERM, as when the sysctl
 * kernel.io_uring_disabled or a seccomp filter forbids it; EINVAL or
 * EOPNOTSUPP, a kernel older than 5.19 lacking a setup flag or register
 * operation used) the sync engine is made
 * instead and *@uring_err gets that -errno (the caller prints one line,
 * see io_engine_fallback_reason()); otherwise *@uring_err is 0.  Returns
 * 0 with *@out set, or -errno (-EINVAL for a bad config, -ENOMEM...).
 */
int io_engine_create(const struct io_engine_config *cfg,
		     struct io_engine **out, int *uring_err);

/* The io_uring engine, no fallback.  Returns 0 or -errno. */
int io_engine_create_uring(const struct io_engine_config *cfg,
			   struct io_engine **out);

/* The sync engine.  Returns 0 or -errno. */
int io_engine_create_sync(const struct io_engine_config *cfg,
			  struct io_engine **out);

/* One line saying why io_uring was not used, for *@uring_err. */
const char *io_engine_fallback_reason(int uring_err);

/*
 * Register @fd (not owned: the caller closes it after destroying the
 * engine) with @align, the alignment O_DIRECT needs of its buffers,
 * offsets and lengths (a power of two up to IO_MAX_ALIGN; 0 or 1: none).
 * Requests that are not aligned are bounced through aligned buffers, so
 * callers never see EINVAL for alignment; a bounced write that covers a
 * block only partly reads it first (read-modify-write), may extend the
 * file to a multiple of @align, and is serialized against overlapping
 * writes of this engine only: a device with several queues on one O_DIRECT
 * file should advertise @align as its logical block size.
 * Returns the file's index (0, 1, ...) or -errno (-ENOSPC: max_files
 * reached, -EINVAL: bad @align, -EBADF: @fd not open, -ENOMEM: no bounce
 * buffers).
 */
int io_engine_add_file(struct io_engine *e, int fd, unsigned int align);

/*
 * Queue @req; it starts no later than the next io_engine_flush().  Never
 * blocks.  Returns 0, or:
 *   -EAGAIN  back-pressure: depth requests in flight, no bounce buffer free,
 *            or @req overlaps an in-flight read-modify-write.  Nothing was
 *            queued; flush, wait for io_engine_fd(), reap, then retry;
 *   -EINVAL  malformed: no iovecs or more than max_iovecs, zero length,
 *            more than IO_MAX_LEN bytes, offset + length above
 *            2^63 - IO_MAX_ALIGN, an unknown op;
 *   -EBADF   @req->file was not registered.
 */
int io_engine_submit(struct io_engine *e, const struct io_request *req);

/*
 * Start everything queued, entering the kernel at most once (io_uring) or
 * waking the workers.  Returns 0, or -errno when the kernel refused
 * (-EAGAIN, -EBUSY: reap, then flush again); requests stay queued then.
 */
int io_engine_flush(struct io_engine *e);

/*
 * Readable (EPOLLIN) while completions are ready to reap; for the event
 * loop.  Owned by the engine.
 */
int io_engine_fd(const struct io_engine *e);

/*
 * Move up to @max completions into @out, in no particular order, and make
 * the engine's fd readable again if more remain.  Never blocks.  Returns
 * the number moved (0 is normal: the fd also wakes for internal steps such
 * as the rest of a short transfer).
 */
int io_engine_reap(struct io_engine *e, struct io_completion *out,
		   unsigned int max);

/* Requests submitted and not yet reaped. */
unsigned int io_engine_inflight(const struct io_engine *e);

/*
 * Start what is queued, wait for every request in flight to finish (drain;
 * their completions are dropped: reap first to see them), then free the
 * engine.  No I/O touches the request buffers once this returns.  NULL is
 * ignored.
 */
void io_engine_destroy(struct io_engine *e);

#endif
