// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../options.h"
#include "blk.h"
#include "pci.h"
#include "virtq.h"

enum { BLK_PATH, BLK_READONLY, BLK_DIRECT, BLK_SERIAL, BLK_QUEUES };

static const char *const blk_keys[] = {
	"path", "readonly", "direct", "serial", "queues", NULL,
};

#define BLK_KEYS "path, readonly, direct, serial, queues"

int blk_parse_options(const char *spec, struct blk_options *o, char *msg,
		      size_t msg_len)
{
	char value[BLK_PATH_MAX + 1], key[OPT_KEY_MAX];
	const char *p = spec;
	unsigned int seen = 0;
	unsigned long q;
	int ret;

	memset(o, 0, sizeof(*o));
	if (!*spec)
		return opt_bad(msg, msg_len, "empty: give path=FILE");
	while ((ret = opt_next(&p, key, value, sizeof(value), BLK_KEYS, msg,
			       msg_len)) > 0) {
		switch (opt_key(key, blk_keys, &seen, BLK_KEYS, msg, msg_len)) {
		case BLK_PATH:
			if (!*value)
				return opt_bad(msg, msg_len, "path is empty");
			if (strlen(value) >= sizeof(o->path))
				return opt_bad(msg, msg_len, "path too long");
			strcpy(o->path, value);
			break;
		case BLK_READONLY:
			if (opt_onoff(key, value, &o->readonly, msg, msg_len))
				return -EINVAL;
			break;
		case BLK_DIRECT:
			if (opt_onoff(key, value, &o->direct, msg, msg_len))
				return -EINVAL;
			break;
		case BLK_SERIAL: {
			size_t i, n = strlen(value);

			if (n > BLK_SERIAL_MAX)
				return opt_bad(msg, msg_len, "serial '%s' is longer than %d bytes",
					       value, BLK_SERIAL_MAX);
			for (i = 0; i < n; i++)
				if (value[i] < 0x21 || value[i] > 0x7e)
					return opt_bad(msg, msg_len, "serial '%s' has a character that is not printable ASCII",
						       value);
			strcpy(o->serial, value);
			break;
		}
		case BLK_QUEUES:
			if (opt_uint(key, value, 1, BLK_MAX_QUEUES, &q, msg,
				     msg_len))
				return -EINVAL;
			o->queues = q;
			break;
		default:
			return -EINVAL;	/* opt_key's message */
		}
	}
	if (ret < 0)
		return ret;
	if (!(seen & 1u << BLK_PATH))
		return opt_bad(msg, msg_len, "no path= given");
	return 0;
}

int blk_open_backing(const struct blk_options *o, struct blk_backing *b,
		     char *msg, size_t msg_len)
{
	int flags = (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC |
		    (o->direct ? O_DIRECT : 0);
	struct flock lock = {
		.l_type = o->readonly ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
	};
	struct stat st;
	int ret;

	memset(b, 0, sizeof(*b));
	b->fd = open(o->path, flags);
	if (b->fd < 0) {
		ret = -errno;
		if (ret == -EINVAL && o->direct)
			return opt_bad(msg, msg_len, "'%s': its file system does not support O_DIRECT (direct=on)",
				   o->path);
		snprintf(msg, msg_len, "cannot open '%s'%s: %s", o->path,
			 o->readonly ? "" : " read-write", strerror(-ret));
		return ret;
	}
	b->readonly = o->readonly;
	if (fstat(b->fd, &st)) {
		ret = -errno;
		snprintf(msg, msg_len, "cannot stat '%s': %s", o->path,
			 strerror(-ret));
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes;
		int ssz;

		if (ioctl(b->fd, BLKGETSIZE64, &bytes) ||
		    ioctl(b->fd, BLKSSZGET, &ssz)) {
			ret = -errno;
			snprintf(msg, msg_len, "'%s': cannot read its size: %s",
				 o->path, strerror(-ret));
			goto fail;
		}
		b->is_blockdev = true;
		b->capacity = bytes;
		b->logical_block = ssz > 0 ? ssz : 512;
	} else if (S_ISREG(st.st_mode)) {
		b->capacity = st.st_size;
		b->logical_block = 512;
	} else {
		ret = opt_bad(msg, msg_len, "'%s' is neither a regular file nor a block device",
			  o->path);
		goto fail;
	}
	/* The guest sees whole sectors; a partial one at the end is left out. */
	b->ignored_tail = b->capacity % 512;
	b->capacity -= b->ignored_tail;
	if (!b->capacity) {
		ret = -ERANGE;
		snprintf(msg, msg_len, "'%s' is empty (%llu bytes: no whole 512-byte sector)",
			 o->path, (unsigned long long)st.st_size);
		goto fail;
	}
	if (fcntl(b->fd, F_OFD_SETLK, &lock)) {
		ret = errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
		snprintf(msg, msg_len, ret == -EBUSY ?
			 "'%s' is in use by another VM or program (locked%s)" :
			 "'%s': cannot lock it: %s", o->path,
			 ret == -EBUSY ? (o->readonly ? " for writing" : "") :
			 strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	close(b->fd);
	b->fd = -1;
	return ret;
}

void blk_close_backing(struct blk_backing *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}

int blk_backing_lock(struct blk_backing *b, bool lock)
{
	struct flock l = {
		.l_type = !lock ? F_UNLCK : b->readonly ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
	};

	if (b->fd < 0)
		return -EBADF;
	if (fcntl(b->fd, F_OFD_SETLK, &l))
		return errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
	return 0;
}

void blk_release_backing(struct blk_backing *b)
{
	struct flock unlock = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	if (b->fd >= 0 && fcntl(b->fd, F_OFD_SETLK, &unlock))
		fprintf(stderr, "wisp: cannot unlock a disk image: %s\n",
			strerror(errno));
	blk_close_backing(b);
}

/* ---- requests -------------------------------------------------------------- */

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/*
 * Copy @len bytes found @skip bytes into the readable segments to @out.
 * False when they are not all there, or not all in guest RAM.
 */
static bool copy_readable(const struct blk_seg *segs, unsigned int n,
			  uint64_t skip, uint8_t *out, uint32_t len)
{
	unsigned int i;

	for (i = 0; i < n && len && !segs[i].writable; i++) {
		uint32_t take;

		if (skip >= segs[i].len) {
			skip -= segs[i].len;
			continue;
		}
		if (!segs[i].base)
			return false;
		take = segs[i].len - skip < len ? segs[i].len - skip : len;
		memcpy(out, segs[i].base + skip, take);
		out += take;
		len -= take;
		skip = 0;
	}
	return !len;
}

/*
 * Point req->iov at @len bytes of the segments of direction @writable,
 * from @skip bytes in.  False when a buffer is not guest RAM or there are
 * more pieces than BLK_MAX_DATA_SEGS.
 */
static bool gather(const struct blk_seg *segs, unsigned int n, bool writable,
		   uint64_t skip, uint64_t len, struct blk_request *req)
{
	unsigned int i;

	req->iovcnt = 0;
	for (i = 0; i < n && len; i++) {
		uint32_t take;

		if (segs[i].writable != writable || !segs[i].len)
			continue;
		if (skip >= segs[i].len) {
			skip -= segs[i].len;
			continue;
		}
		if (!segs[i].base || req->iovcnt == BLK_MAX_DATA_SEGS)
			return false;
		take = segs[i].len - skip < len ? segs[i].len - skip : len;
		req->iov[req->iovcnt++] = (struct iovec){
			segs[i].base + skip, take,
		};
		len -= take;
		skip = 0;
	}
	return !len;
}

/* Is [sector, sector + bytes / 512) inside the disk?  Overflow safe. */
static bool in_disk(const struct blk_limits *lim, uint64_t sector,
		    uint64_t bytes)
{
	uint64_t sectors = lim->capacity / BLK_SECTOR;

	return sector <= sectors && bytes / BLK_SECTOR <= sectors - sector;
}

static int parse_range(const struct blk_seg *segs, unsigned int n,
		       uint64_t data_r, uint64_t data_w,
		       const struct blk_limits *lim, struct blk_request *req)
{
	bool zeroes = req->type == BLK_T_WRITE_ZEROES;
	uint8_t range[16];
	uint64_t sector;
	uint32_t num, flags;

	if (!(zeroes ? lim->write_zeroes : lim->discard))
		return BLK_S_UNSUPP;
	/* One range per request (max_*_seg is 1), nothing to write back. */
	if (lim->readonly || data_w || data_r != sizeof(range) ||
	    !copy_readable(segs, n, BLK_HEADER_SIZE, range, sizeof(range)))
		return BLK_S_IOERR;
	sector = get_le(range, 8);
	num = get_le(range + 8, 4);
	flags = get_le(range + 12, 4);
	if (flags & ~(uint32_t)(zeroes ? BLK_WZ_FLAG_UNMAP : 0))
		return BLK_S_UNSUPP;
	if (!num || num > BLK_MAX_RANGE_SECTORS ||
	    !in_disk(lim, sector, (uint64_t)num * BLK_SECTOR))
		return BLK_S_IOERR;
	req->offset = sector * BLK_SECTOR;
	req->len = (uint64_t)num * BLK_SECTOR;
	req->unmap = flags & BLK_WZ_FLAG_UNMAP;
	return BLK_S_OK;
}

int blk_parse_request(const struct blk_seg *segs, unsigned int n,
		      const struct blk_limits *lim, struct blk_request *req)
{
	uint64_t readable = 0, writable = 0, data_r, data_w, sector;
	uint8_t header[BLK_HEADER_SIZE];
	int last_w = -1;
	unsigned int i;

	req->iovcnt = 0;
	req->status = NULL;
	req->in_len = 0;
	req->offset = req->len = 0;
	req->unmap = false;
	req->type = UINT32_MAX;
	for (i = 0; i < n; i++) {
		if (segs[i].writable) {
			writable += segs[i].len;
			if (segs[i].len)
				last_w = i;
		} else {
			readable += segs[i].len;
		}
	}
	/* The status byte: the last writable byte; none, nothing to say. */
	if (last_w < 0 || !segs[last_w].base)
		return BLK_S_IOERR;
	req->status = segs[last_w].base + segs[last_w].len - 1;
	req->in_len = 1;
	if (readable < BLK_HEADER_SIZE ||
	    !copy_readable(segs, n, 0, header, sizeof(header)))
		return BLK_S_IOERR;
	req->type = get_le(header, 4);
	sector = get_le(header + 8, 8);
	data_r = readable - BLK_HEADER_SIZE;
	data_w = writable - 1;

	switch (req->type) {
	case BLK_T_IN:
	case BLK_T_OUT: {
		bool in = req->type == BLK_T_IN;
		uint64_t len = in ? data_w : data_r;

		/* Data the wrong way, none, not whole sectors: IOERR (13, 26). */
		if ((in ? data_r : data_w) || !len || len % BLK_SECTOR ||
		    (!in && lim->readonly) || !in_disk(lim, sector, len))
			return BLK_S_IOERR;
		if (!gather(segs, n, in, in ? 0 : BLK_HEADER_SIZE, len, req))
			return BLK_S_IOERR;
		req->offset = sector * BLK_SECTOR;
		req->len = len;
		if (in)
			req->in_len += len;
		return BLK_S_OK;
	}
	case BLK_T_FLUSH:
		return BLK_S_OK;
	case BLK_T_GET_ID:
		if (data_w < BLK_SERIAL_MAX ||
		    !gather(segs, n, true, 0, BLK_SERIAL_MAX, req))
			return BLK_S_IOERR;
		req->len = BLK_SERIAL_MAX;
		req->in_len += BLK_SERIAL_MAX;
		return BLK_S_OK;
	case BLK_T_DISCARD:
	case BLK_T_WRITE_ZEROES:
		return parse_range(segs, n, data_r, data_w, lim, req);
	}
	return BLK_S_UNSUPP;
}

/* ---- a queue's I/O ------------------------------------------------------------ */

int blk_queue_init(struct blk_queue *q, struct io_engine *engine,
		   unsigned int file, const struct blk_limits *lim,
		   const char *serial, unsigned int depth,
		   const struct blk_queue_ops *ops, void *ctx)
{
	memset(q, 0, sizeof(*q));
	q->slots = calloc(depth, sizeof(*q->slots));
	if (!q->slots)
		return -ENOMEM;
	q->n_slots = depth;
	q->engine = engine;
	q->file = file;
	q->lim = lim;
	q->serial = serial;
	q->ops = ops;
	q->ctx = ctx;
	return 0;
}

void blk_queue_destroy(struct blk_queue *q)
{
	free(q->slots);
	q->slots = NULL;
}

bool blk_queue_can_take(const struct blk_queue *q)
{
	return !q->stalled && q->n_used < q->n_slots;
}

unsigned int blk_queue_in_flight(const struct blk_queue *q)
{
	return q->n_used;
}

/* Write @status and give chain @head back with @len bytes written. */
static void finish(struct blk_queue *q, uint16_t head, uint8_t *status,
		   uint8_t value, uint32_t len)
{
	if (status)
		*(volatile uint8_t *)status = value;
	else
		len = 0;	/* nowhere to say anything (row 12) */
	if (value != BLK_S_OK)
		q->stats.errors++;
	q->ops->complete(q->ctx, head, value == BLK_S_OK ? len : (status ? 1 : 0));
}

static unsigned int slot_get(struct blk_queue *q, const struct blk_request *req,
			     uint16_t head)
{
	unsigned int i;

	for (i = 0; q->slots[i].used; i++)
		;
	q->slots[i] = (struct blk_slot){
		.used = true, .head = head, .type = req->type,
		.in_len = req->in_len, .status = req->status,
		.is_write = req->type == BLK_T_OUT || req->type == BLK_T_DISCARD ||
			    req->type == BLK_T_WRITE_ZEROES,
	};
	q->n_used++;
	return i;
}

static void slot_done(struct blk_queue *q, unsigned int i, uint8_t value)
{
	struct blk_slot *s = &q->slots[i];

	if (s->is_write)
		q->writes_in_flight--;
	finish(q, s->head, s->status, value, s->in_len);
	s->used = false;
	q->n_used--;
}

/* Hand slot @i's request to the engine: 0, or -EAGAIN (try again later). */
static int start(struct blk_queue *q, unsigned int i,
		 const struct blk_request *req)
{
	static const enum io_op ops[] = {
		[BLK_T_IN] = IO_OP_READ, [BLK_T_OUT] = IO_OP_WRITE,
		[BLK_T_FLUSH] = IO_OP_DSYNC, [BLK_T_DISCARD] = IO_OP_DISCARD,
		[BLK_T_WRITE_ZEROES] = IO_OP_WRITE_ZEROES,
	};
	struct io_request io = {
		.op = ops[req->type],
		.file = q->file,
		.offset = req->offset,
		.len = req->len,
		.iov = req->iov,
		.iovcnt = req->iovcnt,
		.data = (void *)(uintptr_t)i,
	};
	int ret = io_engine_submit(q->engine, &io);

	if (ret == -EAGAIN)
		return ret;
	if (ret) {
		slot_done(q, i, BLK_S_IOERR);	/* the engine refused it */
		return 0;
	}
	if (q->slots[i].is_write)
		q->writes_in_flight++;
	return 0;
}

void blk_queue_take(struct blk_queue *q, const struct blk_chain *c)
{
	struct blk_request *req = &q->scratch;
	unsigned int i;
	int st;

	st = blk_parse_request(c->segs, c->n, q->lim, req);
	if (st != BLK_S_OK) {
		finish(q, c->head, req->status, st, 0);
		return;
	}
	switch (req->type) {
	case BLK_T_GET_ID: {
		char id[BLK_SERIAL_MAX] = { 0 };
		size_t off = 0;

		/* The serial, NUL-padded to 20 bytes. */
		strncpy(id, q->serial ? q->serial : "", sizeof(id));
		for (i = 0; i < req->iovcnt; i++) {
			memcpy(req->iov[i].iov_base, id + off, req->iov[i].iov_len);
			off += req->iov[i].iov_len;
		}
		q->stats.get_ids++;
		finish(q, c->head, req->status, BLK_S_OK, req->in_len);
		return;
	}
	case BLK_T_IN:
		q->stats.reads++;
		q->stats.bytes_read += req->len;
		break;
	case BLK_T_OUT:
		q->stats.writes++;
		q->stats.bytes_written += req->len;
		break;
	case BLK_T_FLUSH:
		q->stats.flushes++;
		break;
	case BLK_T_DISCARD:
		q->stats.discards++;
		break;
	case BLK_T_WRITE_ZEROES:
		q->stats.zeroes++;
		break;
	}
	i = slot_get(q, req, c->head);
	if (req->type == BLK_T_FLUSH && q->writes_in_flight) {
		/* After the writes before it (the ordering rule). */
		q->slots[i].deferred = true;
		q->deferred_flushes++;
		return;
	}
	if (start(q, i, req) == -EAGAIN) {
		q->waiting = *req;
		q->waiting_slot = i;
		q->stalled = true;
	}
}

void blk_queue_kick(struct blk_queue *q)
{
	io_engine_flush(q->engine);
}

/* Start deferred flushes once no write is in flight. */
static void start_flushes(struct blk_queue *q)
{
	struct blk_request flush = { .type = BLK_T_FLUSH };
	unsigned int i;

	if (!q->deferred_flushes || q->writes_in_flight)
		return;
	for (i = 0; i < q->n_slots && q->deferred_flushes; i++) {
		if (!q->slots[i].used || !q->slots[i].deferred)
			continue;
		if (start(q, i, &flush) == -EAGAIN)
			return;		/* the next completion retries */
		q->slots[i].deferred = false;
		q->deferred_flushes--;
	}
}

void blk_queue_reap(struct blk_queue *q)
{
	struct io_completion done[32];
	int n, k;

	while ((n = io_engine_reap(q->engine, done, 32)) > 0) {
		for (k = 0; k < n; k++) {
			unsigned int i = (uintptr_t)done[k].data;
			int64_t res = done[k].res;
			uint8_t value = BLK_S_OK;

			/* A discard the file system cannot do changes nothing: fine. */
			if (res < 0 && !(res == -EOPNOTSUPP &&
					 q->slots[i].type == BLK_T_DISCARD))
				value = BLK_S_IOERR;
			slot_done(q, i, value);
		}
	}
	if (q->stalled && start(q, q->waiting_slot, &q->waiting) == 0)
		q->stalled = false;
	start_flushes(q);
	io_engine_flush(q->engine);
	q->ops->completed(q->ctx);
}

/* ---- the device ------------------------------------------------------------------ */

/* Feature bits (virtio 1.x, 5.2.3). */
#define F_SIZE_MAX	1
#define F_SEG_MAX	2
#define F_RO		5
#define F_BLK_SIZE	6
#define F_FLUSH		9
#define F_TOPOLOGY	10
#define F_MQ		12
#define F_DISCARD	13
#define F_WRITE_ZEROES	14

#define SIZE_MAX_BYTES	(1u << 20)	/* one buffer */

struct blk_vq {
	struct blk_dev *dev;
	unsigned int index;
	struct virtq vq;
	struct blk_queue bq;
	struct io_engine *engine;
	struct host_watch kick, done;
	struct blk_chain chain;
	struct virtq_buf bufs[BLK_MAX_CHAIN];
	bool broken_told;
};

struct blk_dev {
	struct virtio_pci vp;		/* first: the transport's callbacks cast */
	const struct host_services *hs;
	struct blk_options opts;
	struct blk_backing backing;
	struct blk_limits lim;
	uint8_t config[BLK_CONFIG_SIZE];
	int reset_fd;			/* the I/O thread finishes resets */
	struct host_watch reset_watch;
	bool reset_pending;		/* atomic */
	unsigned int n_queues;
	struct blk_vq *q;
};

static void put_le(uint8_t *p, unsigned int n, uint64_t v)
{
	while (n--) {
		*p++ = v;
		v >>= 8;
	}
}

static void build_config(struct blk_dev *d)
{
	uint8_t *c = d->config;

	memset(c, 0, sizeof(d->config));
	put_le(c + 0, 8, d->backing.capacity / BLK_SECTOR);	/* capacity */
	put_le(c + 8, 4, SIZE_MAX_BYTES);			/* size_max */
	put_le(c + 12, 4, BLK_MAX_DATA_SEGS);			/* seg_max */
	put_le(c + 20, 4, d->backing.logical_block);		/* blk_size */
	put_le(c + 34, 2, d->n_queues);				/* num_queues */
	put_le(c + 36, 4, BLK_MAX_RANGE_SECTORS);		/* max_discard_sectors */
	put_le(c + 40, 4, 1);					/* max_discard_seg */
	put_le(c + 44, 4, d->backing.logical_block / BLK_SECTOR);	/* alignment */
	put_le(c + 48, 4, BLK_MAX_RANGE_SECTORS);		/* max_write_zeroes_sectors */
	put_le(c + 52, 4, 1);					/* max_write_zeroes_seg */
	c[56] = 1;						/* write_zeroes_may_unmap */
}

static struct blk_dev *dev_of(struct virtio_pci *vp)
{
	return (struct blk_dev *)vp;
}

static void vq_complete(void *ctx, uint16_t head, uint32_t len)
{
	struct blk_vq *q = ctx;

	virtq_push(&q->vq, head, len);
}

static void vq_completed(void *ctx)
{
	struct blk_vq *q = ctx;

	if (virtq_publish(&q->vq))
		virtio_pci_notify_queue(&q->dev->vp, q->index);
}

static const struct blk_queue_ops vq_ops = { vq_complete, vq_completed };

/* Take what the driver made available, as far as the engine has room. */
static void process(struct blk_vq *q)
{
	struct blk_dev *d = q->dev;
	unsigned int taken = 0;
	bool took = false;
	uint16_t head;
	int n, i;

	if (__atomic_load_n(&d->reset_pending, __ATOMIC_ACQUIRE) ||
	    !q->vq.active)
		return;
	while (blk_queue_can_take(&q->bq)) {
		/* Bounded work per pass (row 17): the loop serves others first. */
		if (taken == q->vq.size) {
			uint64_t one = 1;

			if (write(q->kick.fd, &one, sizeof(one)) < 0)
				break;	/* saturated: a wake-up is pending */
			break;
		}
		n = virtq_pop(&q->vq, q->bufs, BLK_MAX_CHAIN, &head);
		if (!n) {
			/*
			 * Ask for the next kick (EVENT_IDX: avail_event), then
			 * look again: the driver may have added one meanwhile.
			 */
			virtq_notifications(&q->vq, true);
			if (virtq_pending(&q->vq))
				continue;
			break;
		}
		if (n < 0) {
			if (!q->broken_told) {
				fprintf(stderr, "wisp: %s: queue %u: %s: device needs reset\n",
					d->vp.name, q->index, q->vq.why);
				q->broken_told = true;
				virtio_pci_needs_reset(&d->vp);
			}
			break;
		}
		q->chain.head = head;
		q->chain.n = n;
		for (i = 0; i < n; i++)
			q->chain.segs[i] = (struct blk_seg){
				q->bufs[i].base, q->bufs[i].len, q->bufs[i].writable,
			};
		blk_queue_take(&q->bq, &q->chain);
		took = true;
		taken++;
	}
	if (took) {
		blk_queue_kick(&q->bq);
		vq_completed(q);	/* chains completed at once */
	}
}

/* Finish a reset once nothing is in flight.  I/O thread. */
static void maybe_finish_reset(struct blk_dev *d)
{
	unsigned int i;

	if (!__atomic_load_n(&d->reset_pending, __ATOMIC_ACQUIRE))
		return;
	for (i = 0; i < d->n_queues; i++)
		if (blk_queue_in_flight(&d->q[i].bq))
			return;
	for (i = 0; i < d->n_queues; i++) {
		virtq_reset(&d->q[i].vq);
		d->q[i].broken_told = false;
	}
	__atomic_store_n(&d->reset_pending, false, __ATOMIC_RELEASE);
	virtio_pci_reset_done(&d->vp);
}

static void on_kick(void *arg)
{
	struct blk_vq *q = arg;

	host_drain_fd(q->kick.fd);
	process(q);
}

static void on_done(void *arg)
{
	struct blk_vq *q = arg;

	blk_queue_reap(&q->bq);
	maybe_finish_reset(q->dev);
	process(q);
}

static void on_reset(void *arg)
{
	struct blk_dev *d = arg;

	host_drain_fd(d->reset_fd);
	maybe_finish_reset(d);
}

static int op_queue_enable(struct virtio_pci *vp, unsigned int index)
{
	struct blk_dev *d = dev_of(vp);
	uint64_t f = vp->driver_features;	/* the lock is held */

	d->lim.discard = f >> F_DISCARD & 1;
	d->lim.write_zeroes = f >> F_WRITE_ZEROES & 1;
	return virtio_pci_activate_virtq(vp, index, &d->q[index].vq);
}

static bool op_reset(struct virtio_pci *vp)
{
	struct blk_dev *d = dev_of(vp);
	uint64_t one = 1;

	/* The I/O thread stops taking chains and finishes what is in flight. */
	__atomic_store_n(&d->reset_pending, true, __ATOMIC_RELEASE);
	if (write(d->reset_fd, &one, sizeof(one)) < 0)
		return false;	/* the counter is full: a wake-up is pending */
	return false;
}

static void op_config_read(struct virtio_pci *vp, uint64_t offset,
			   uint8_t *data, uint32_t len)
{
	memcpy(data, dev_of(vp)->config + offset, len);
}

static void op_config_write(struct virtio_pci *vp, uint64_t offset,
			    const uint8_t *data, uint32_t len)
{
	(void)data;
	(void)offset;
	(void)len;
	vp->ignored_writes++;	/* nothing in the config is writable here */
}

static void op_driver_ok(struct virtio_pci *vp)
{
	(void)vp;	/* queues start when kicked */
}

static struct virtq *op_queue_virtq(struct virtio_pci *vp, unsigned int index)
{
	struct blk_dev *d = dev_of(vp);

	return index < d->n_queues ? &d->q[index].vq : NULL;
}

static const struct virtio_pci_device_ops blk_ops = {
	.queue_enable = op_queue_enable,
	.reset = op_reset,
	.config_read = op_config_read,
	.config_write = op_config_write,
	.driver_ok = op_driver_ok,
	.queue_virtq = op_queue_virtq,
};

struct pci_device *blk_pci_device(struct blk_dev *dev)
{
	return &dev->vp.pd;
}

static int setup_queue(struct blk_dev *d, unsigned int i, char *msg,
		       size_t msg_len)
{
	struct io_engine_config cfg = {
		.kind = IO_ENGINE_AUTO, .depth = 128,
		.max_iovecs = BLK_MAX_DATA_SEGS,
	};
	struct blk_vq *q = &d->q[i];
	int uring_err = 0, file, ret;

	q->dev = d;
	q->index = i;
	q->vq.hs = d->hs;
	ret = io_engine_create(&cfg, &q->engine, &uring_err);
	if (ret) {
		snprintf(msg, msg_len, "'%s': no I/O engine: %s", d->opts.path,
			 strerror(-ret));
		return ret;
	}
	if (uring_err && !i)
		fprintf(stderr, "wisp: %s: %s; using worker threads\n",
			d->opts.path, io_engine_fallback_reason(uring_err));
	file = io_engine_add_file(q->engine, d->backing.fd,
				  d->opts.direct ? d->backing.logical_block : 0);
	if (file < 0) {
		snprintf(msg, msg_len, "'%s': I/O engine: %s", d->opts.path,
			 strerror(-file));
		return file;
	}
	ret = blk_queue_init(&q->bq, q->engine, file, &d->lim, d->opts.serial,
			     128, &vq_ops, q);
	if (ret)
		return ret;
	ret = host_watch_start(d->hs, &q->kick, d->vp.queues[i].notify_fd,
			       on_kick, q);
	if (!ret)
		ret = host_watch_start(d->hs, &q->done, io_engine_fd(q->engine),
				       on_done, q);
	if (ret)
		snprintf(msg, msg_len, "'%s': event loop: %s", d->opts.path,
			 strerror(-ret));
	return ret;
}

struct blk_dev *blk_create(const struct host_services *hs,
			   const struct blk_options *o,
			   struct blk_backing *backing,
			   unsigned int default_queues, char *msg,
			   size_t msg_len, int *err)
{
	struct blk_dev *d = calloc(1, sizeof(*d));
	uint64_t features;
	unsigned int i;
	int ret;

	if (!d) {
		blk_close_backing(backing);
		*err = -ENOMEM;
		snprintf(msg, msg_len, "out of memory");
		return NULL;
	}
	d->hs = hs;
	d->opts = *o;
	d->backing = *backing;
	backing->fd = -1;		/* the device's now */
	d->reset_fd = -1;
	d->n_queues = o->queues ? o->queues : default_queues;
	if (!d->n_queues || d->n_queues > BLK_MAX_QUEUES)
		d->n_queues = 1;
	d->lim = (struct blk_limits){
		.capacity = d->backing.capacity, .readonly = o->readonly,
	};
	build_config(d);
	features = 1ULL << F_SIZE_MAX | 1ULL << F_SEG_MAX |
		   1ULL << F_BLK_SIZE | 1ULL << F_FLUSH | 1ULL << F_DISCARD |
		   1ULL << F_WRITE_ZEROES | 1ULL << VIRTIO_F_INDIRECT_DESC_BIT |
		   1ULL << VIRTIO_F_EVENT_IDX_BIT |
		   (d->n_queues > 1 ? 1ULL << F_MQ : 0) |
		   (o->readonly ? 1ULL << F_RO : 0);
	ret = virtio_pci_init(&d->vp, "virtio-blk", hs, BLK_DEVICE_ID,
			      BLK_DEVICE_ID, 0x018000, d->n_queues,
			      BLK_QUEUE_SIZE, features, BLK_CONFIG_SIZE,
			      &blk_ops, d);
	if (ret) {
		snprintf(msg, msg_len, "'%s': virtio-pci: %s", o->path,
			 strerror(-ret));
		goto fail_backing;
	}
	d->reset_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d->q = calloc(d->n_queues, sizeof(*d->q));
	if (d->reset_fd < 0 || !d->q) {
		ret = -ENOMEM;
		snprintf(msg, msg_len, "out of memory");
		goto fail_all;
	}
	ret = host_watch_start(hs, &d->reset_watch, d->reset_fd, on_reset, d);
	for (i = 0; !ret && i < d->n_queues; i++)
		ret = setup_queue(d, i, msg, msg_len);
	if (ret)
		goto fail_all;
	return d;

fail_all:
	blk_destroy(d);
	*err = ret;
	return NULL;
fail_backing:
	blk_close_backing(&d->backing);
	free(d);
	*err = ret;
	return NULL;
}

void blk_get_stats(struct blk_dev *d, struct blk_queue_stats *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < d->n_queues; i++) {
		const struct blk_queue_stats *q = &d->q[i].bq.stats;

		s->reads += q->reads;
		s->writes += q->writes;
		s->flushes += q->flushes;
		s->discards += q->discards;
		s->zeroes += q->zeroes;
		s->get_ids += q->get_ids;
		s->errors += q->errors;
		s->bytes_read += q->bytes_read;
		s->bytes_written += q->bytes_written;
	}
}

/* ---- snapshots ------------------------------------------------------------ */

#define QUIESCE_POLL_MS		100
#define QUIESCE_LIMIT_MS	60000

int blk_quiesce(struct blk_dev *d)
{
	unsigned int i, waited = 0;
	uint64_t one = 1;

	for (i = 0; i < d->n_queues; i++) {
		struct blk_vq *q = &d->q[i];

		while (blk_queue_in_flight(&q->bq)) {
			struct pollfd p = {
				.fd = io_engine_fd(q->engine), .events = POLLIN,
			};
			int n = poll(&p, 1, QUIESCE_POLL_MS);

			if (n < 0 && errno != EINTR)
				return -errno;
			if (!n && (waited += QUIESCE_POLL_MS) >= QUIESCE_LIMIT_MS)
				return -ETIMEDOUT;
			/* Completions pushed and published, stalled ones started. */
			blk_queue_reap(&q->bq);
		}
	}
	maybe_finish_reset(d);
	/* What is still available is taken when the loop runs again. */
	for (i = 0; i < d->n_queues; i++)
		if (write(d->vp.queues[i].notify_fd, &one, sizeof(one)) < 0 &&
		    errno != EAGAIN)
			return -errno;
	return 0;
}

void blk_save(struct blk_dev *d, struct state_writer *w)
{
	state_put_u64(w, "capacity-sectors", d->backing.capacity / BLK_SECTOR);
	state_put_u32(w, "readonly", d->opts.readonly);
	state_put_u32(w, "queues", d->n_queues);
	state_put_u32(w, "block-size", d->backing.logical_block);
	state_put_str(w, "serial", d->opts.serial);
	virtio_pci_save(&d->vp, w);
}

void blk_load(struct blk_dev *d, struct state_reader *r, int node)
{
	uint64_t sectors = state_get_u64(r, node, "capacity-sectors");
	uint32_t readonly = state_get_u32(r, node, "readonly");
	uint32_t queues = state_get_u32(r, node, "queues");
	uint32_t block = state_get_u32(r, node, "block-size");
	const char *serial = state_get_str(r, node, "serial");
	unsigned int i;

	if (r->failed)
		return;
	if (sectors != d->backing.capacity / BLK_SECTOR) {
		state_fail(r, node, "'%s': the disk has %llu sectors, the snapshot %llu",
			   d->opts.path,
			   (unsigned long long)(d->backing.capacity / BLK_SECTOR),
			   (unsigned long long)sectors);
		return;
	}
	if (readonly != d->opts.readonly) {
		state_fail(r, node, "'%s': the disk is %s, in the snapshot it was %s",
			   d->opts.path, d->opts.readonly ? "read-only" : "read-write",
			   readonly ? "read-only" : "read-write");
		return;
	}
	if (queues != d->n_queues) {
		state_fail(r, node, "'%s': %u queues here, %u in the snapshot",
			   d->opts.path, d->n_queues, queues);
		return;
	}
	if (block != d->backing.logical_block) {
		state_fail(r, node, "'%s': logical block size %u here, %u in the snapshot",
			   d->opts.path, d->backing.logical_block, block);
		return;
	}
	if (strcmp(serial, d->opts.serial)) {
		state_fail(r, node, "'%s': serial '%s' here, '%s' in the snapshot",
			   d->opts.path, d->opts.serial, serial);
		return;
	}
	virtio_pci_load(&d->vp, r, node);
	/* A queue broken before the snapshot has already asked for a reset. */
	for (i = 0; i < d->n_queues; i++)
		if (d->q[i].vq.broken)
			d->q[i].broken_told = true;
}

void blk_destroy(struct blk_dev *d)
{
	unsigned int i;

	if (!d)
		return;
	for (i = 0; d->q && i < d->n_queues; i++) {
		struct blk_vq *q = &d->q[i];

		host_watch_stop(d->hs, &q->kick);
		host_watch_stop(d->hs, &q->done);
		/* Drain: every started request finishes (data is not lost). */
		io_engine_destroy(q->engine);
		blk_queue_destroy(&q->bq);
	}
	/* What the guest wrote reaches stable storage before wisp exits. */
	if (d->backing.fd >= 0 && !d->backing.readonly &&
	    fdatasync(d->backing.fd))
		fprintf(stderr, "wisp: %s: fdatasync at exit: %s\n", d->opts.path,
			strerror(errno));
	host_watch_stop(d->hs, &d->reset_watch);
	if (d->reset_fd >= 0)
		close(d->reset_fd);
	virtio_pci_destroy(&d->vp);
	blk_close_backing(&d->backing);
	free(d->q);
	free(d);
}
