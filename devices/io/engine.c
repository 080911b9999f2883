// SPDX-License-Identifier: Apache-2.0
/*
 * What every engine shares: the public entry points, the file table,
 * request slots, bounce buffers and the per-request state machine.  See
 * engine.h and engine_impl.h.
 *
 * A request runs as a series of steps.  READ and WRITE go straight to the
 * iovecs (IO_PH_RW) unless the file needs alignment the request lacks;
 * then they are bounced: the aligned file range around the request is cut
 * into chunks of at most IO_BOUNCE_SIZE, and each chunk is read into the
 * request's bounce buffer and copied out (READ), or, for WRITE, the
 * chunk's partly covered first and last blocks are read (HEAD, TAIL), the
 * data copied in and the whole chunk written.  A short transfer is
 * continued from where it stopped; a transfer of 0 bytes ends a READ
 * with -EIO (end of file) and a WRITE with -EIO (no progress), except
 * that the HEAD and TAIL reads of a read-modify-write treat end of file
 * as zeros.  With O_DIRECT a transfer cannot go on from an unaligned
 * position: a short transfer that stops there is end of file inside a
 * block for reads (-EIO unless the data asked for is already in), and
 * -EIO for writes.
 *
 * WRITE_ZEROES tries fallocate(ZERO_RANGE), then on EOPNOTSUPP
 * fallocate(PUNCH_HOLE), then on EOPNOTSUPP writes zeros: from a shared
 * zero buffer (IO_PH_ZERO), or, on a file needing alignment the range
 * lacks, through the bounce buffer reserved for it at submit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "engine_impl.h"

/* The source of zeros for the WRITE_ZEROES fallback; aligned for O_DIRECT. */
static const _Alignas(IO_MAX_ALIGN) uint8_t io_zero_buf[IO_ZERO_BUF];

#define IO_MAX_BOUNCE_BUFS	512	/* 64 MiB per engine */
/* Files are addressed with off_t: keep aligned ends below 2^63. */
#define IO_MAX_END		((uint64_t)INT64_MAX - IO_MAX_ALIGN + 1)

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t align_down(uint64_t x, uint64_t a)
{
	return x & ~(a - 1);
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* ---- public entry points ---- */

int io_engine_add_file(struct io_engine *e, int fd, unsigned int align)
{
	return e->ops->add_file(e, fd, align);
}

int io_engine_submit(struct io_engine *e, const struct io_request *req)
{
	return e->ops->submit(e, req);
}

int io_engine_flush(struct io_engine *e)
{
	return e->ops->flush(e);
}

int io_engine_fd(const struct io_engine *e)
{
	return e->fd;
}

int io_engine_reap(struct io_engine *e, struct io_completion *out,
		   unsigned int max)
{
	if (!max)
		return 0;
	return e->ops->reap(e, out, max);
}

unsigned int io_engine_inflight(const struct io_engine *e)
{
	return container_of(e, const struct io_core, engine)->inflight;
}

void io_engine_destroy(struct io_engine *e)
{
	if (e)
		e->ops->destroy(e);
}

static bool io_uring_unavailable(int err)
{
	return err == -ENOSYS || err == -EPERM || err == -EINVAL ||
	       err == -EOPNOTSUPP;
}

int io_engine_create(const struct io_engine_config *cfg,
		     struct io_engine **out, int *uring_err)
{
	struct io_engine_config resolved;
	int ret, err;

	*uring_err = 0;
	ret = io_config_resolve(cfg, &resolved);
	if (ret)
		return ret;
	if (cfg->kind == IO_ENGINE_SYNC)
		return io_engine_create_sync(cfg, out);
	err = io_engine_create_uring(cfg, out);
	if (!err || cfg->kind == IO_ENGINE_URING ||
	    !io_uring_unavailable(err))
		return err;
	ret = io_engine_create_sync(cfg, out);
	if (!ret)
		*uring_err = err;
	return ret;
}

const char *io_engine_fallback_reason(int uring_err)
{
	switch (uring_err) {
	case 0:
		return "io_uring in use";
	case -ENOSYS:
		return "this kernel has no io_uring";
	case -EPERM:
		return "io_uring is not permitted (sysctl kernel.io_uring_disabled, or a seccomp filter)";
	case -EINVAL:
	case -EOPNOTSUPP:
		return "this kernel's io_uring lacks what wisp needs (Linux 5.19 or later)";
	default:
		return "io_uring is unavailable";
	}
}

/* ---- eventfd ---- */

void io_efd_signal(int fd)
{
	(void)eventfd_write(fd, 1);
}

void io_efd_clear(int fd)
{
	eventfd_t v;

	(void)eventfd_read(fd, &v);	/* nonblocking: EAGAIN when 0 */
}

/* ---- the core ---- */

int io_config_resolve(const struct io_engine_config *cfg,
		      struct io_engine_config *out)
{
	*out = *cfg;
	if (!out->depth)
		out->depth = IO_DEFAULT_DEPTH;
	if (!out->max_iovecs)
		out->max_iovecs = IO_DEFAULT_IOVECS;
	if (out->max_iovecs < IO_MIN_IOVECS)
		out->max_iovecs = IO_MIN_IOVECS;
	if (!out->max_files)
		out->max_files = IO_DEFAULT_FILES;
	if (!out->workers)
		out->workers = IO_DEFAULT_WORKERS;
	if (!out->bounce_bytes)
		out->bounce_bytes = IO_DEFAULT_BOUNCE;
	if ((unsigned int)out->kind > IO_ENGINE_SYNC ||
	    out->depth > IO_MAX_DEPTH || out->max_iovecs > IO_MAX_IOVECS ||
	    out->max_files > IO_MAX_FILES || out->workers > IO_MAX_WORKERS)
		return -EINVAL;
	return 0;
}

int io_core_init(struct io_core *c, const struct io_engine_config *cfg,
		 const struct io_engine_ops *ops, const char *name)
{
	struct io_engine_config r;
	unsigned int i;
	size_t nbuf;
	int ret;

	memset(c, 0, sizeof(*c));
	c->engine.fd = -1;
	ret = io_config_resolve(cfg, &r);
	if (ret)
		return ret;
	c->engine.ops = ops;
	c->engine.name = name;
	c->depth = r.depth;
	c->max_iovecs = r.max_iovecs;
	c->max_files = r.max_files;
	c->workers = r.workers;
	nbuf = r.bounce_bytes / IO_BOUNCE_SIZE;
	c->nbounce = nbuf < 1 ? 1 : nbuf > IO_MAX_BOUNCE_BUFS ?
		     IO_MAX_BOUNCE_BUFS : (unsigned int)nbuf;

	ret = -ENOMEM;
	c->files = calloc(c->max_files, sizeof(*c->files));
	if (!c->files)
		goto fail;
	c->slots = calloc(c->depth, sizeof(*c->slots));
	if (!c->slots)
		goto fail;
	c->iov_pool = calloc((size_t)c->depth * c->max_iovecs,
			     sizeof(*c->iov_pool));
	if (!c->iov_pool)
		goto fail;
	c->free_slots = calloc(c->depth, sizeof(*c->free_slots));
	if (!c->free_slots)
		goto fail;
	for (i = 0; i < c->depth; i++) {
		c->slots[i].iov = c->iov_pool + (size_t)i * c->max_iovecs;
		c->slots[i].bounce = -1;
		/* Hand out low indices first: easier to read in a debugger. */
		c->free_slots[i] = c->depth - 1 - i;
	}
	c->nfree = c->depth;
	c->engine.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->engine.fd < 0) {
		ret = -errno;
		goto fail;
	}
	return 0;
fail:
	io_core_fini(c);
	return ret;
}

void io_core_fini(struct io_core *c)
{
	if (c->engine.fd >= 0)
		close(c->engine.fd);
	c->engine.fd = -1;
	free(c->free_bounce);
	free(c->bounce_mem);
	free(c->free_slots);
	free(c->iov_pool);
	free(c->slots);
	free(c->files);
	c->free_bounce = NULL;
	c->bounce_mem = NULL;
	c->free_slots = NULL;
	c->iov_pool = NULL;
	c->slots = NULL;
	c->files = NULL;
}

/* The bounce buffers, allocated with the first file that needs them. */
static int io_core_alloc_bounce(struct io_core *c)
{
	unsigned int i;
	void *mem;

	if (c->bounce_mem)
		return 0;
	c->free_bounce = calloc(c->nbounce, sizeof(*c->free_bounce));
	if (!c->free_bounce)
		return -ENOMEM;
	if (posix_memalign(&mem, IO_MAX_ALIGN,
			   (size_t)c->nbounce * IO_BOUNCE_SIZE)) {
		free(c->free_bounce);
		c->free_bounce = NULL;
		return -ENOMEM;
	}
	c->bounce_mem = mem;
	for (i = 0; i < c->nbounce; i++)
		c->free_bounce[i] = c->nbounce - 1 - i;
	c->nfree_bounce = c->nbounce;
	return 0;
}

int io_core_add_file(struct io_core *c, int fd, unsigned int align)
{
	int ret;

	int fl = fd < 0 ? -1 : fcntl(fd, F_GETFL);

	if (fl < 0)
		return -EBADF;
	if (align <= 1)
		align = 1;
	else if ((align & (align - 1)) || align > IO_MAX_ALIGN)
		return -EINVAL;
	if (c->nfiles == c->max_files)
		return -ENOSPC;
	if (align > 1) {
		ret = io_core_alloc_bounce(c);
		if (ret)
			return ret;
	}
	c->files[c->nfiles].fd = fd;
	c->files[c->nfiles].align = align;
	c->files[c->nfiles].direct = fl & O_DIRECT;
	return (int)c->nfiles++;
}

static bool io_modifies(enum io_op op)
{
	return op == IO_OP_WRITE || op == IO_OP_DISCARD ||
	       op == IO_OP_WRITE_ZEROES;
}

/*
 * Would a modifying request on [lo, hi) of @fd race with one in flight?
 * Only where a read-modify-write is involved: it rewrites whole blocks,
 * so the blocks it touches must not change under it, and it must not
 * start while a write to those blocks is on its way.
 */
static bool io_core_conflicts(const struct io_core *c, int fd,
			      uint64_t lo, uint64_t hi, bool rmw)
{
	unsigned int i;

	for (i = 0; i < c->depth; i++) {
		const struct io_slot *s = &c->slots[i];
		uint64_t slo, shi;

		if (!s->busy || s->fd != fd || !io_modifies(s->op))
			continue;
		if (!rmw && !s->rmw)
			continue;
		slo = align_down(s->off, s->align);
		shi = align_up(s->off + s->len, s->align);
		if (lo < shi && slo < hi)
			return true;
	}
	return false;
}

static void io_chunk_begin(struct io_slot *s);

int io_core_start(struct io_core *c, const struct io_request *req,
		  struct io_slot **out)
{
	bool bad_mem = false, bad_range = false, bounce, rmw;
	const struct io_file *f;
	struct io_slot *s;
	uint64_t len = 0, a;
	unsigned int i;

	if (req->file >= c->nfiles)
		return -EBADF;
	f = &c->files[req->file];
	a = f->align;
	switch (req->op) {
	case IO_OP_READ:
	case IO_OP_WRITE:
		if (!req->iov || !req->iovcnt || req->iovcnt > c->max_iovecs)
			return -EINVAL;
		for (i = 0; i < req->iovcnt; i++) {
			const struct iovec *v = &req->iov[i];

			if (v->iov_len > IO_MAX_LEN - len)
				return -EINVAL;
			len += v->iov_len;
			if (((uintptr_t)v->iov_base | v->iov_len) & (a - 1))
				bad_mem = true;
		}
		break;
	case IO_OP_DISCARD:
	case IO_OP_WRITE_ZEROES:
		len = req->len;
		break;
	case IO_OP_DSYNC:
		break;
	default:
		return -EINVAL;
	}
	if (req->op != IO_OP_DSYNC) {
		if (!len || req->offset > IO_MAX_END ||
		    len > IO_MAX_END - req->offset)
			return -EINVAL;
		bad_range = (req->offset | len) & (a - 1);
	}
	switch (req->op) {
	case IO_OP_READ:
		bounce = bad_mem || bad_range;
		rmw = false;
		break;
	case IO_OP_WRITE:
		bounce = bad_mem || bad_range;
		rmw = bad_range;
		break;
	case IO_OP_WRITE_ZEROES:
		/* Only needed if both fallocate modes are refused. */
		bounce = rmw = bad_range;
		break;
	default:
		bounce = rmw = false;
		break;
	}

	if (!c->nfree || (bounce && !c->nfree_bounce))
		return -EAGAIN;
	if (io_modifies(req->op) && (rmw || c->rmw_inflight) &&
	    io_core_conflicts(c, f->fd, align_down(req->offset, a),
			      align_up(req->offset + len, a), rmw))
		return -EAGAIN;

	s = &c->slots[c->free_slots[--c->nfree]];
	s->op = req->op;
	s->file = req->file;
	s->fd = f->fd;
	s->align = a;
	s->direct = f->direct;
	s->off = req->op == IO_OP_DSYNC ? 0 : req->offset;
	s->len = len;
	s->data = req->data;
	s->iovcnt = 0;
	if (req->op == IO_OP_READ || req->op == IO_OP_WRITE) {
		memcpy(s->iov, req->iov, req->iovcnt * sizeof(*s->iov));
		s->iovcnt = req->iovcnt;
	}
	s->iov_idx = 0;
	s->done = 0;
	s->step_len = 0;
	s->zmode = 0;
	s->retries = 0;
	s->res = 0;
	s->rmw = rmw;
	s->zero_src = false;
	s->bounce = -1;
	s->bbuf = NULL;
	if (bounce) {
		s->bounce = (int)c->free_bounce[--c->nfree_bounce];
		s->bbuf = c->bounce_mem + (size_t)s->bounce * IO_BOUNCE_SIZE;
	}
	s->busy = true;
	c->inflight++;
	if (rmw)
		c->rmw_inflight++;

	switch (req->op) {
	case IO_OP_READ:
	case IO_OP_WRITE:
		if (bounce) {
			s->cs = align_down(s->off, a);
			io_chunk_begin(s);
		} else {
			s->phase = IO_PH_RW;
		}
		break;
	case IO_OP_DSYNC:
		s->phase = IO_PH_DSYNC;
		break;
	default:
		s->phase = IO_PH_FALLOC;
		break;
	}
	*out = s;
	return 0;
}

void io_core_complete(struct io_core *c, struct io_slot *s,
		      struct io_completion *out)
{
	out->data = s->data;
	out->res = s->res;
	if (s->bounce >= 0)
		c->free_bounce[c->nfree_bounce++] = (unsigned int)s->bounce;
	s->bounce = -1;
	s->bbuf = NULL;
	if (s->rmw)
		c->rmw_inflight--;
	s->rmw = false;
	s->busy = false;
	c->free_slots[c->nfree++] = io_slot_index(c, s);
	c->inflight--;
}

/* ---- the state machine ---- */

/* Copy @n bytes starting @skip bytes into the iovecs out to @dst. */
static void iov_gather(const struct iovec *iov, unsigned int cnt,
		       uint64_t skip, uint8_t *dst, uint64_t n)
{
	unsigned int i;

	for (i = 0; i < cnt && n; i++) {
		uint64_t k;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		k = min_u64(iov[i].iov_len - skip, n);
		memcpy(dst, (const uint8_t *)iov[i].iov_base + skip, k);
		dst += k;
		n -= k;
		skip = 0;
	}
}

/* Copy @n bytes from @src into the iovecs, starting @skip bytes in. */
static void iov_scatter(const struct iovec *iov, unsigned int cnt,
			uint64_t skip, const uint8_t *src, uint64_t n)
{
	unsigned int i;

	for (i = 0; i < cnt && n; i++) {
		uint64_t k;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		k = min_u64(iov[i].iov_len - skip, n);
		memcpy((uint8_t *)iov[i].iov_base + skip, src, k);
		src += k;
		n -= k;
		skip = 0;
	}
}

/* Drop @n transferred bytes from the front of the slot's iovecs. */
static void iov_consume(struct io_slot *s, uint64_t n)
{
	while (n && s->iov_idx < s->iovcnt) {
		struct iovec *v = &s->iov[s->iov_idx];

		if (n < v->iov_len) {
			v->iov_base = (uint8_t *)v->iov_base + n;
			v->iov_len -= n;
			return;
		}
		n -= v->iov_len;
		s->iov_idx++;
	}
}

static bool io_finish(struct io_slot *s, int64_t res)
{
	s->res = res;
	return true;
}

void io_core_fail(struct io_slot *s, int err)
{
	io_finish(s, err);
}

/* Success: the bytes asked for (READ, WRITE), else 0. */
static bool io_succeed(struct io_slot *s)
{
	bool rw = s->op == IO_OP_READ || s->op == IO_OP_WRITE;

	return io_finish(s, rw ? (int64_t)s->len : 0);
}

static void io_transfer(struct io_slot *s, enum io_phase ph, uint8_t *buf,
			uint64_t pos, uint64_t len)
{
	s->phase = ph;
	s->ph_buf = buf;
	s->ph_pos = pos;
	s->ph_len = len;
	s->ph_done = 0;
}

/* The part of the request inside the current chunk: [lo, hi). */
static uint64_t io_chunk_lo(const struct io_slot *s)
{
	return max_u64(s->off, s->cs);
}

static uint64_t io_chunk_hi(const struct io_slot *s)
{
	return min_u64(s->off + s->len, s->ce);
}

/* Fill the chunk's part of the bounce buffer and write the chunk. */
static void io_chunk_write(struct io_slot *s)
{
	uint64_t lo = io_chunk_lo(s), hi = io_chunk_hi(s);
	uint8_t *dst = s->bbuf + (lo - s->cs);

	if (s->zero_src)
		memset(dst, 0, hi - lo);
	else
		iov_gather(s->iov, s->iovcnt, lo - s->off, dst, hi - lo);
	io_transfer(s, IO_PH_B_WRITE, s->bbuf, s->cs, s->ce - s->cs);
}

/* Read the chunk's last block, if a write covers it only in part. */
static bool io_chunk_needs_tail(const struct io_slot *s)
{
	return s->off + s->len < s->ce &&
	       !(s->off > s->cs && s->ce - s->align == s->cs);
}

/* Start the bounced chunk that begins at s->cs. */
static void io_chunk_begin(struct io_slot *s)
{
	uint64_t a = s->align;

	s->ce = min_u64(s->cs + IO_BOUNCE_SIZE, align_up(s->off + s->len, a));
	if (s->op == IO_OP_READ)
		io_transfer(s, IO_PH_B_READ, s->bbuf, s->cs, s->ce - s->cs);
	else if (s->off > s->cs)
		io_transfer(s, IO_PH_B_HEAD, s->bbuf, s->cs, a);
	else if (io_chunk_needs_tail(s))
		io_transfer(s, IO_PH_B_TAIL, s->bbuf + (s->ce - a - s->cs),
			    s->ce - a, a);
	else
		io_chunk_write(s);
}

/* The chunk is done: the next one, or the request is finished. */
static bool io_chunk_next(struct io_slot *s)
{
	if (s->ce >= s->off + s->len)
		return io_succeed(s);
	s->cs = s->ce;
	io_chunk_begin(s);
	return false;
}

/* WRITE_ZEROES: both fallocate modes refused; write zeros. */
static bool io_zero_begin(struct io_slot *s)
{
	s->zero_src = true;
	s->retries = 0;
	if (s->bbuf) {
		s->cs = align_down(s->off, s->align);
		io_chunk_begin(s);
	} else {
		s->phase = IO_PH_ZERO;
		s->done = 0;
	}
	return false;
}

/*
 * O_DIRECT cannot go on from an unaligned file position: a transfer that
 * stopped there met end of file inside a block (or cannot be continued).
 */
static bool io_stuck(const struct io_slot *s, uint64_t pos)
{
	return s->direct && (pos & (s->align - 1));
}

static bool io_transfer_advance(struct io_slot *s, int64_t res)
{
	uint64_t a = s->align, n;

	if (res == -EINTR || res == -EAGAIN) {
		if (++s->retries <= IO_MAX_RETRIES)
			return false;	/* the same step again */
		return io_finish(s, -EIO);
	}
	if (res < 0)
		return io_finish(s, res);
	if ((uint64_t)res > s->step_len)
		return io_finish(s, -EIO);	/* the kernel cannot do that */
	s->retries = 0;
	n = (uint64_t)res;

	switch (s->phase) {
	case IO_PH_RW:
	case IO_PH_ZERO:
		if (!n)
			return io_finish(s, -EIO);	/* EOF, or no progress */
		s->done += n;
		if (s->phase == IO_PH_RW)
			iov_consume(s, n);
		if (s->done == s->len)
			return io_succeed(s);
		if (io_stuck(s, s->off + s->done))
			return io_finish(s, -EIO);
		return false;
	case IO_PH_B_READ:
		s->ph_done += n;
		if (n && s->ph_done < s->ph_len &&
		    !io_stuck(s, s->ph_pos + s->ph_done))
			return false;
		/* The chunk is in, or end of file came at ph_pos + ph_done. */
		if (s->ph_pos + s->ph_done < io_chunk_hi(s))
			return io_finish(s, -EIO);
		iov_scatter(s->iov, s->iovcnt, io_chunk_lo(s) - s->off,
			    s->bbuf + (io_chunk_lo(s) - s->cs),
			    io_chunk_hi(s) - io_chunk_lo(s));
		return io_chunk_next(s);
	case IO_PH_B_HEAD:
	case IO_PH_B_TAIL:
		s->ph_done += n;
		if (n && s->ph_done < s->ph_len &&
		    !io_stuck(s, s->ph_pos + s->ph_done))
			return false;
		/* Beyond end of file the block reads as zeros. */
		memset(s->ph_buf + s->ph_done, 0, s->ph_len - s->ph_done);
		if (s->phase == IO_PH_B_HEAD && io_chunk_needs_tail(s))
			io_transfer(s, IO_PH_B_TAIL,
				    s->bbuf + (s->ce - a - s->cs),
				    s->ce - a, a);
		else
			io_chunk_write(s);
		return false;
	case IO_PH_B_WRITE:
		if (!n)
			return io_finish(s, -EIO);
		s->ph_done += n;
		if (s->ph_done == s->ph_len)
			return io_chunk_next(s);
		if (io_stuck(s, s->ph_pos + s->ph_done))
			return io_finish(s, -EIO);
		return false;
	default:
		return io_finish(s, -EIO);
	}
}

bool io_core_advance(struct io_slot *s, int64_t res)
{
	switch (s->phase) {
	case IO_PH_DSYNC:
		/* Never retried: a failed sync may have lost the data. */
		return io_finish(s, res < 0 ? res : 0);
	case IO_PH_FALLOC:
		if (res == -EINTR && ++s->retries <= IO_MAX_RETRIES)
			return false;
		if (res == -EOPNOTSUPP && s->op == IO_OP_WRITE_ZEROES &&
		    s->zmode < 2) {
			s->retries = 0;
			if (++s->zmode == 1)
				return false;	/* punch a hole instead */
			return io_zero_begin(s);
		}
		return io_finish(s, res < 0 ? res : 0);
	default:
		return io_transfer_advance(s, res);
	}
}

void io_core_step(struct io_slot *s, struct io_step *st)
{
	memset(st, 0, sizeof(*st));
	st->file = s->file;
	st->fd = s->fd;
	switch (s->phase) {
	case IO_PH_RW:
		st->kind = s->op == IO_OP_READ ? IO_STEP_READV : IO_STEP_WRITEV;
		st->iov = s->iov + s->iov_idx;
		st->iovcnt = s->iovcnt - s->iov_idx;
		st->off = s->off + s->done;
		st->len = s->len - s->done;
		break;
	case IO_PH_DSYNC:
		st->kind = IO_STEP_DSYNC;
		break;
	case IO_PH_FALLOC:
		st->kind = IO_STEP_FALLOCATE;
		st->off = s->off;
		st->len = s->len;
		st->mode = FALLOC_FL_KEEP_SIZE |
			   (s->op == IO_OP_WRITE_ZEROES && s->zmode == 0 ?
			    FALLOC_FL_ZERO_RANGE : FALLOC_FL_PUNCH_HOLE);
		break;
	case IO_PH_ZERO: {
		uint64_t n = min_u64(s->len - s->done, IO_ZERO_CHUNK);
		unsigned int i;

		st->kind = IO_STEP_WRITEV;
		st->off = s->off + s->done;
		st->len = n;
		for (i = 0; n; i++) {
			uint64_t k = min_u64(n, IO_ZERO_BUF);

			/* The kernel only reads it. */
			s->iov[i].iov_base = (void *)io_zero_buf;
			s->iov[i].iov_len = k;
			n -= k;
		}
		st->iov = s->iov;
		st->iovcnt = i;
		break;
	}
	default:	/* bounced transfers */
		st->kind = s->phase == IO_PH_B_WRITE ? IO_STEP_WRITEV :
			   IO_STEP_READV;
		s->biov.iov_base = s->ph_buf + s->ph_done;
		s->biov.iov_len = s->ph_len - s->ph_done;
		st->iov = &s->biov;
		st->iovcnt = 1;
		st->off = s->ph_pos + s->ph_done;
		st->len = s->ph_len - s->ph_done;
		break;
	}
	s->step_len = st->len;
}

int64_t io_step_exec(const struct io_step *st)
{
	ssize_t n;

	switch (st->kind) {
	case IO_STEP_READV:
		n = preadv(st->fd, st->iov, (int)st->iovcnt, (off_t)st->off);
		return n < 0 ? -errno : n;
	case IO_STEP_WRITEV:
		n = pwritev(st->fd, st->iov, (int)st->iovcnt, (off_t)st->off);
		return n < 0 ? -errno : n;
	case IO_STEP_DSYNC:
		return fdatasync(st->fd) ? -errno : 0;
	case IO_STEP_FALLOCATE:
		return fallocate(st->fd, st->mode, (off_t)st->off,
				 (off_t)st->len) ? -errno : 0;
	default:
		return -EINVAL;
	}
}

void io_core_run(struct io_slot *s)
{
	struct io_step st;

	do
		io_core_step(s, &st);
	while (!io_core_advance(s, io_step_exec(&st)));
}
