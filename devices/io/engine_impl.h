/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the engines share (engine.c), for devices/io/ only: the file table,
 * request slots, bounce buffers, and the per-request state machine that
 * turns a request into steps (one syscall or SQE each) and decides, from
 * each step's result, whether the request is done: short transfers are
 * continued, O_DIRECT requests bounced, WRITE_ZEROES falls back.
 *
 * Threads: io_core_start(), io_core_complete(), io_core_add_file() and the
 * free lists belong to the owner thread.  io_core_step(), io_core_advance()
 * and io_core_run() touch only their slot (which carries copies of what
 * they need): any one thread at a time per slot (a sync worker; the owner
 * for io_uring).
 */
#ifndef WISP_DEVICES_IO_ENGINE_IMPL_H
#define WISP_DEVICES_IO_ENGINE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "engine.h"

#define IO_ZERO_BUF	(64u << 10)	/* the zero source for WRITE_ZEROES */
#define IO_ZERO_CHUNK	(IO_MIN_IOVECS * IO_ZERO_BUF)
#define IO_MAX_RETRIES	16		/* EINTR/EAGAIN results in a row */

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct io_file {
	int fd;
	unsigned int align;	/* 1: none */
	bool direct;		/* opened with O_DIRECT */
};

/* What a step does: one preadv/pwritev/fdatasync/fallocate. */
enum io_step_kind {
	IO_STEP_READV,
	IO_STEP_WRITEV,
	IO_STEP_DSYNC,
	IO_STEP_FALLOCATE,
	IO_STEP_KINDS
};

struct io_step {
	enum io_step_kind kind;
	unsigned int file;		/* index: the fixed file for io_uring */
	int fd;
	const struct iovec *iov;	/* READV, WRITEV */
	unsigned int iovcnt;
	uint64_t off;
	uint64_t len;			/* bytes the step asks for; FALLOCATE */
	int mode;			/* FALLOCATE */
};

enum io_phase {
	IO_PH_RW,	/* READ/WRITE straight from/to the iovecs */
	IO_PH_DSYNC,
	IO_PH_FALLOC,	/* DISCARD, WRITE_ZEROES (mode from zmode) */
	IO_PH_ZERO,	/* WRITE_ZEROES fallback: write from the zero buffer */
	IO_PH_B_READ,	/* bounced: read the chunk */
	IO_PH_B_HEAD,	/* bounced write: read the chunk's first block */
	IO_PH_B_TAIL,	/* bounced write: read the chunk's last block */
	IO_PH_B_WRITE,	/* bounced: write the chunk */
};

struct io_slot {
	/* The request, copied, with what the steps need of its file. */
	enum io_op op;
	unsigned int file;
	int fd;
	uint64_t align;		/* the file's, 1 for none */
	bool direct;		/* the file's O_DIRECT */
	uint64_t off;
	uint64_t len;		/* bytes: iovec total, or the range */
	void *data;
	struct iovec *iov;	/* core-owned, max_iovecs entries */
	unsigned int iovcnt;

	/* Progress. */
	enum io_phase phase;
	unsigned int iov_idx;	/* IO_PH_RW: first iovec not finished */
	uint64_t done;		/* IO_PH_RW, IO_PH_ZERO: bytes finished */
	uint64_t step_len;	/* what the last step asked for */
	unsigned int zmode;	/* WRITE_ZEROES: 0 zero range, 1 punch, 2 write */
	unsigned int retries;
	int64_t res;		/* the result, once finished */

	/* Bounce: the file range [cs, ce) of this chunk, aligned. */
	int bounce;		/* buffer index, -1 for none */
	uint8_t *bbuf;		/* that buffer */
	bool rmw;		/* may write blocks it covers only partly */
	bool zero_src;		/* bounced write of zeros */
	uint64_t cs, ce;
	uint8_t *ph_buf;	/* transfer target inside the buffer */
	uint64_t ph_pos, ph_len, ph_done;
	struct iovec biov;
	bool busy;		/* taken by a request */
};

struct io_core {
	struct io_engine engine;	/* first: what callers see */

	unsigned int depth;
	unsigned int max_iovecs;
	unsigned int max_files;
	unsigned int workers;
	size_t bounce_bytes;

	struct io_file *files;
	unsigned int nfiles;

	struct io_slot *slots;		/* depth of them */
	struct iovec *iov_pool;		/* depth * max_iovecs */
	unsigned int *free_slots;	/* stack of slot indices */
	unsigned int nfree;

	uint8_t *bounce_mem;		/* nbounce * IO_BOUNCE_SIZE, aligned */
	unsigned int nbounce;
	unsigned int *free_bounce;
	unsigned int nfree_bounce;

	unsigned int inflight;		/* started, not yet completed */
	unsigned int rmw_inflight;
};

static inline struct io_core *io_core_of(struct io_engine *e)
{
	return container_of(e, struct io_core, engine);
}

/* @cfg with defaults for 0 fields in @out.  Returns 0 or -EINVAL. */
int io_config_resolve(const struct io_engine_config *cfg,
		      struct io_engine_config *out);

/*
 * Fill @c from @cfg (defaults for 0 fields), allocate slots and the
 * completion eventfd.  Returns 0 or -errno (-EINVAL: a field out of
 * range).  On failure nothing needs freeing.
 */
int io_core_init(struct io_core *c, const struct io_engine_config *cfg,
		 const struct io_engine_ops *ops, const char *name);

/* Free what io_core_init() and io_core_add_file() allocated. */
void io_core_fini(struct io_core *c);

/* Check @fd and @align, add the file.  Returns its index or -errno. */
int io_core_add_file(struct io_core *c, int fd, unsigned int align);

/*
 * Validate @req and take a slot (and a bounce buffer when needed) for it.
 * Returns 0 with *@out set, or -EAGAIN/-EINVAL/-EBADF as for
 * io_engine_submit().
 */
int io_core_start(struct io_core *c, const struct io_request *req,
		  struct io_slot **out);

/* Describe the next step of @s (not finished) in @st. */
void io_core_step(struct io_slot *s, struct io_step *st);

/*
 * Feed the result of the step last described for @s: bytes or -errno.
 * Returns true when the request is finished (s->res holds its result),
 * false when another step is due.
 */
bool io_core_advance(struct io_slot *s, int64_t res);

/* Finish @s with @err (a step could not be issued). */
void io_core_fail(struct io_slot *s, int err);

/* Fill @out from the finished @s and give its slot and buffer back. */
void io_core_complete(struct io_core *c, struct io_slot *s,
		      struct io_completion *out);

/* Run @st with a plain syscall.  Returns bytes (or 0) or -errno. */
int64_t io_step_exec(const struct io_step *st);

/* Run every step of @s synchronously, until it is finished. */
void io_core_run(struct io_slot *s);

/* The slot's index, for completion rings. */
static inline unsigned int io_slot_index(const struct io_core *c,
					 const struct io_slot *s)
{
	return (unsigned int)(s - c->slots);
}

/* Make the eventfd readable / consume its count.  Errors are ignored. */
void io_efd_signal(int fd);
void io_efd_clear(int fd);

#endif
