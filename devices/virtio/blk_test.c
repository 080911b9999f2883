// SPDX-License-Identifier: Apache-2.0
/* virtio-blk: the --disk sub-options and opening the backing file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libfdt.h>

#include "../fake_host_testlib.h"
#include "../pci_testlib.h"
#include "../state.h"
#include "../io/fault_testlib.h"
#include "blk.h"
#include "pci.h"

static void test_options_valid(void **state)
{
	struct blk_options o;
	char msg[200];

	(void)state;
	assert_int_equal(blk_parse_options("path=disk.img", &o, msg, sizeof(msg)), 0);
	assert_string_equal(o.path, "disk.img");
	assert_false(o.readonly);
	assert_false(o.direct);
	assert_string_equal(o.serial, "");
	assert_int_equal(o.queues, 0);

	assert_int_equal(blk_parse_options("readonly=on,path=/dev/vg/a,direct=on,serial=SN-01_x,queues=4",
					   &o, msg, sizeof(msg)), 0);
	assert_string_equal(o.path, "/dev/vg/a");
	assert_true(o.readonly);
	assert_true(o.direct);
	assert_string_equal(o.serial, "SN-01_x");
	assert_int_equal(o.queues, 4);

	/* ",," is a comma inside a value. */
	assert_int_equal(blk_parse_options("path=a,,b,,,readonly=off", &o, msg,
					   sizeof(msg)), 0);
	assert_string_equal(o.path, "a,b,");
	assert_false(o.readonly);
	/* A serial of exactly 20 bytes fits. */
	assert_int_equal(blk_parse_options("path=x,serial=12345678901234567890",
					   &o, msg, sizeof(msg)), 0);
	assert_string_equal(o.serial, "12345678901234567890");
}

static void test_options_bad(void **state)
{
	static const struct {
		const char *spec, *message;
	} cases[] = {
		{ "", "empty" },
		{ "disk.img", "is not KEY=VALUE" },
		{ "readonly=on", "no path= given" },
		{ "path=", "path is empty" },
		{ "path=a,path=b", "path given twice" },
		{ "path=a,ro=on", "unknown key 'ro'" },
		{ "path=a,readonly=yes", "readonly='yes' is not on or off" },
		{ "path=a,direct=", "direct='' is not on or off" },
		{ "path=a,serial=123456789012345678901", "longer than 20 bytes" },
		{ "path=a,serial=has space", "not printable ASCII" },
		{ "path=a,queues=0", "queues='0' is not a number from 1 to 64" },
		{ "path=a,queues=65", "from 1 to 64" },
		{ "path=a,queues=-1", "from 1 to 64" },
		{ "path=a,queues=2x", "from 1 to 64" },
		{ "path=a,=b", "is not KEY=VALUE" },
		{ "path=a,averyveryveryveryveryverylongkey=1", "is not KEY=VALUE" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct blk_options o;
		char msg[200] = "";

		if (blk_parse_options(cases[i].spec, &o, msg, sizeof(msg)) != -EINVAL ||
		    !strstr(msg, cases[i].message))
			fail_msg("'%s': got '%s', want '%s'", cases[i].spec, msg,
				 cases[i].message);
	}
}

static void write_file(const char *path, size_t size)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (size) {
		assert_int_equal(fseek(f, size - 1, SEEK_SET), 0);
		assert_int_equal(fputc(0, f), 0);
	}
	fclose(f);
}

static void test_backing(void **state)
{
	char dir[] = "/tmp/wisp-blk-XXXXXX", path[64], msg[300];
	struct blk_backing a, b, c;
	struct blk_options o;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	write_file(path, (1 << 20) + 100);
	assert_int_equal(blk_parse_options("path=x", &o, msg, sizeof(msg)), 0);
	strcpy(o.path, path);

	/* Whole sectors only: the 100-byte tail is left out. */
	assert_int_equal(blk_open_backing(&o, &a, msg, sizeof(msg)), 0);
	assert_int_equal(a.capacity, 1 << 20);
	assert_int_equal(a.ignored_tail, 100);
	assert_int_equal(a.logical_block, 512);
	assert_false(a.is_blockdev);
	/* A second read-write open is refused by the lock, a read-only too. */
	assert_int_equal(blk_open_backing(&o, &b, msg, sizeof(msg)), -EBUSY);
	assert_non_null(strstr(msg, "in use by another VM"));
	o.readonly = true;
	assert_int_equal(blk_open_backing(&o, &b, msg, sizeof(msg)), -EBUSY);
	blk_close_backing(&a);
	/* Read-only opens share the image, and keep writers out. */
	assert_int_equal(blk_open_backing(&o, &b, msg, sizeof(msg)), 0);
	assert_int_equal(blk_open_backing(&o, &c, msg, sizeof(msg)), 0);
	assert_true(b.readonly);
	o.readonly = false;
	assert_int_equal(blk_open_backing(&o, &a, msg, sizeof(msg)), -EBUSY);
	blk_close_backing(&b);
	blk_close_backing(&c);

	/* Missing, empty, and not a file. */
	snprintf(o.path, sizeof(o.path), "%s/none.img", dir);
	assert_int_equal(blk_open_backing(&o, &a, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "cannot open"));
	snprintf(o.path, sizeof(o.path), "%s/small.img", dir);
	write_file(o.path, 511);
	assert_int_equal(blk_open_backing(&o, &a, msg, sizeof(msg)), -ERANGE);
	assert_non_null(strstr(msg, "no whole 512-byte sector"));
	unlink(o.path);
	strcpy(o.path, dir);
	assert_int_equal(blk_open_backing(&o, &a, msg, sizeof(msg)), -EISDIR);
	o.readonly = true;
	assert_int_equal(blk_open_backing(&o, &a, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "neither a regular file nor a block device"));
	unlink(path);
	rmdir(dir);
}

/* ---- request parsing --------------------------------------------------------- */

#define CAP	(1ULL << 20)	/* a 1 MiB disk: 2048 sectors */

static uint8_t ram[65536];

static struct blk_seg seg(unsigned int off, uint32_t len, bool w)
{
	return (struct blk_seg){ ram + off, len, w };
}

static void put_header(unsigned int off, uint32_t type, uint64_t sector)
{
	memset(ram + off, 0, 16);
	memcpy(ram + off, &type, 4);
	memcpy(ram + off + 8, &sector, 8);
}

static void put_range(unsigned int off, uint64_t sector, uint32_t num,
		      uint32_t flags)
{
	memcpy(ram + off, &sector, 8);
	memcpy(ram + off + 8, &num, 4);
	memcpy(ram + off + 12, &flags, 4);
}

static const struct blk_limits lim = {
	.capacity = CAP, .discard = true, .write_zeroes = true,
};

static void test_request_io(void **state)
{
	struct blk_request *req = malloc(sizeof(*req));
	struct blk_limits ro = lim;
	struct blk_seg s[4];

	(void)state;
	/* IN: header, data in two buffers, status. */
	put_header(0, BLK_T_IN, 7);
	s[0] = seg(0, 16, false);
	s[1] = seg(1024, 1024, true);
	s[2] = seg(4096, 3072, true);
	s[3] = seg(100, 1, true);
	assert_int_equal(blk_parse_request(s, 4, &lim, req), BLK_S_OK);
	assert_int_equal(req->type, BLK_T_IN);
	assert_int_equal(req->offset, 7 * 512);
	assert_int_equal(req->len, 4096);
	assert_int_equal(req->iovcnt, 2);
	assert_ptr_equal(req->iov[1].iov_base, ram + 4096);
	assert_int_equal(req->iov[1].iov_len, 3072);
	assert_ptr_equal(req->status, ram + 100);
	assert_int_equal(req->in_len, 4097);

	/* OUT with header and data in one buffer, header split in two. */
	put_header(200, BLK_T_OUT, 2047);
	s[0] = seg(200, 8, false);
	s[1] = seg(208, 8 + 512, false);
	s[2] = seg(101, 1, true);
	assert_int_equal(blk_parse_request(s, 3, &lim, req), BLK_S_OK);
	assert_int_equal(req->offset, 2047 * 512);	/* the last sector */
	assert_int_equal(req->iovcnt, 1);
	assert_ptr_equal(req->iov[0].iov_base, ram + 216);
	assert_int_equal(req->in_len, 1);
	/* ...refused on a read-only disk. */
	ro.readonly = true;
	assert_int_equal(blk_parse_request(s, 3, &ro, req), BLK_S_IOERR);
	assert_ptr_equal(req->status, ram + 101);

	/* One sector past the end, or a sector number that wraps. */
	put_header(200, BLK_T_OUT, 2048);
	assert_int_equal(blk_parse_request(s, 3, &lim, req), BLK_S_IOERR);
	put_header(200, BLK_T_OUT, UINT64_MAX);
	assert_int_equal(blk_parse_request(s, 3, &lim, req), BLK_S_IOERR);
	put_header(200, BLK_T_OUT, UINT64_MAX / 512 + 1);
	assert_int_equal(blk_parse_request(s, 3, &lim, req), BLK_S_IOERR);

	/* Not whole sectors, no data, data the wrong way. */
	put_header(0, BLK_T_IN, 0);
	s[0] = seg(0, 16, false);
	s[1] = seg(1024, 1000, true);
	s[2] = seg(100, 1, true);
	assert_int_equal(blk_parse_request(s, 3, &lim, req), BLK_S_IOERR);
	assert_int_equal(blk_parse_request(s, 1, &lim, req), BLK_S_IOERR);
	s[1] = seg(1024, 0, true);
	assert_int_equal(blk_parse_request(s, 3, &lim, req), BLK_S_IOERR);
	s[0] = seg(0, 16 + 512, false);
	s[1] = seg(1024, 512, true);
	assert_int_equal(blk_parse_request(s, 3, &lim, req), BLK_S_IOERR);
	free(req);
}

static void test_request_hostile(void **state)
{
	struct blk_request *req = malloc(sizeof(*req));
	struct blk_seg *s = calloc(BLK_MAX_DATA_SEGS + 3, sizeof(*s));
	unsigned int i;

	(void)state;
	put_header(0, BLK_T_IN, 0);
	/* No writable byte at all: nowhere to put a status (row 12). */
	s[0] = seg(0, 16, false);
	assert_int_equal(blk_parse_request(s, 1, &lim, req), BLK_S_IOERR);
	assert_null(req->status);
	/* The status byte outside RAM (row 9): the same. */
	s[1] = (struct blk_seg){ NULL, 1, true };
	assert_int_equal(blk_parse_request(s, 2, &lim, req), BLK_S_IOERR);
	assert_null(req->status);
	/* A data buffer outside RAM: IOERR, with a status to write. */
	s[1] = (struct blk_seg){ NULL, 512, true };
	s[2] = seg(100, 1, true);
	assert_int_equal(blk_parse_request(s, 3, &lim, req), BLK_S_IOERR);
	assert_ptr_equal(req->status, ram + 100);
	/* The header outside RAM, or short. */
	s[0] = (struct blk_seg){ NULL, 16, false };
	s[1] = seg(1024, 512, true);
	assert_int_equal(blk_parse_request(s, 3, &lim, req), BLK_S_IOERR);
	s[0] = seg(0, 15, false);
	assert_int_equal(blk_parse_request(s, 3, &lim, req), BLK_S_IOERR);
	/* More data buffers than seg_max. */
	s[0] = seg(0, 16, false);
	for (i = 1; i <= BLK_MAX_DATA_SEGS + 1; i++)
		s[i] = seg(1024, 512, true);
	s[i] = seg(100, 1, true);
	assert_int_equal(blk_parse_request(s, i + 1, &lim, req), BLK_S_IOERR);
	/* Exactly seg_max data buffers are fine. */
	s[BLK_MAX_DATA_SEGS + 1] = seg(100, 1, true);
	assert_int_equal(blk_parse_request(s, BLK_MAX_DATA_SEGS + 2, &lim, req),
			 BLK_S_OK);
	assert_int_equal(req->iovcnt, BLK_MAX_DATA_SEGS);
	/* An unknown type. */
	put_header(0, 99, 0);
	s[1] = seg(100, 1, true);
	assert_int_equal(blk_parse_request(s, 2, &lim, req), BLK_S_UNSUPP);
	/* The header is read once: rewriting it later changes nothing. */
	put_header(0, BLK_T_FLUSH, 0);
	assert_int_equal(blk_parse_request(s, 2, &lim, req), BLK_S_OK);
	put_header(0, BLK_T_OUT, 0);
	assert_int_equal(req->type, BLK_T_FLUSH);
	free(s);
	free(req);
}

static void test_request_get_id_and_ranges(void **state)
{
	struct blk_request *req = malloc(sizeof(*req));
	struct blk_limits ro = lim, none = lim;
	struct blk_seg s[3];

	(void)state;
	put_header(0, BLK_T_GET_ID, 0);
	s[0] = seg(0, 16, false);
	s[1] = seg(1024, 20, true);
	s[2] = seg(100, 1, true);
	assert_int_equal(blk_parse_request(s, 3, &lim, req), BLK_S_OK);
	assert_int_equal(req->len, 20);
	assert_int_equal(req->in_len, 21);
	s[1] = seg(1024, 19, true);
	assert_int_equal(blk_parse_request(s, 3, &lim, req), BLK_S_IOERR);

	/* DISCARD: one range, whole sectors, inside the disk. */
	put_header(0, BLK_T_DISCARD, 0);
	put_range(16, 10, 8, 0);
	s[0] = seg(0, 32, false);
	s[1] = seg(100, 1, true);
	assert_int_equal(blk_parse_request(s, 2, &lim, req), BLK_S_OK);
	assert_int_equal(req->offset, 10 * 512);
	assert_int_equal(req->len, 8 * 512);
	none.discard = none.write_zeroes = false;
	assert_int_equal(blk_parse_request(s, 2, &none, req), BLK_S_UNSUPP);
	ro.readonly = true;
	assert_int_equal(blk_parse_request(s, 2, &ro, req), BLK_S_IOERR);
	put_range(16, 10, 8, BLK_WZ_FLAG_UNMAP);	/* not a discard flag */
	assert_int_equal(blk_parse_request(s, 2, &lim, req), BLK_S_UNSUPP);
	put_range(16, 2040, 9, 0);
	assert_int_equal(blk_parse_request(s, 2, &lim, req), BLK_S_IOERR);
	put_range(16, 0, 0, 0);
	assert_int_equal(blk_parse_request(s, 2, &lim, req), BLK_S_IOERR);
	put_range(16, UINT64_MAX - 2, 8, 0);
	assert_int_equal(blk_parse_request(s, 2, &lim, req), BLK_S_IOERR);
	s[0] = seg(0, 48, false);			/* two ranges */
	put_range(16, 0, 8, 0);
	assert_int_equal(blk_parse_request(s, 2, &lim, req), BLK_S_IOERR);

	/* WRITE_ZEROES may carry UNMAP, nothing else. */
	put_header(0, BLK_T_WRITE_ZEROES, 0);
	put_range(16, 0, 2048, BLK_WZ_FLAG_UNMAP);
	s[0] = seg(0, 32, false);
	assert_int_equal(blk_parse_request(s, 2, &lim, req), BLK_S_OK);
	assert_true(req->unmap);
	assert_int_equal(req->len, CAP);
	put_range(16, 0, 8, 2);
	assert_int_equal(blk_parse_request(s, 2, &lim, req), BLK_S_UNSUPP);
	free(req);
}

/* ---- a queue's I/O, on the fault engine over a real file ------------------------ */

struct qfix {
	char path[64];
	int fd;
	struct io_engine *e;
	struct blk_limits lim;
	struct blk_queue q;
	uint16_t done_head[64];
	uint32_t done_len[64];
	unsigned int n_done, batches;
};

static void q_complete(void *ctx, uint16_t head, uint32_t len)
{
	struct qfix *f = ctx;

	f->done_head[f->n_done] = head;
	f->done_len[f->n_done++] = len;
}

static void q_completed(void *ctx)
{
	((struct qfix *)ctx)->batches++;
}

static const struct blk_queue_ops q_ops = { q_complete, q_completed };

static int q_setup(void **state)
{
	struct qfix *f = calloc(1, sizeof(*f));
	struct io_engine_config cfg = { .depth = 8 };

	strcpy(f->path, "/tmp/wisp-blkq-XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	assert_int_equal(ftruncate(f->fd, CAP), 0);
	assert_int_equal(fault_engine_create(&cfg, &f->e), 0);
	assert_int_equal(io_engine_add_file(f->e, f->fd, 0), 0);
	f->lim = lim;
	assert_int_equal(blk_queue_init(&f->q, f->e, 0, &f->lim, "WISP-SERIAL", 8,
					&q_ops, f), 0);
	memset(ram, 0, sizeof(ram));
	*state = f;
	return 0;
}

static int q_teardown(void **state)
{
	struct qfix *f = *state;

	blk_queue_destroy(&f->q);
	io_engine_destroy(f->e);
	close(f->fd);
	unlink(f->path);
	free(f);
	return 0;
}

/* A chain: header at @hdr, one data buffer, the status byte at @st. */
static struct blk_chain *chain(uint16_t head, uint32_t type, uint64_t sector,
			       unsigned int data, uint32_t len, unsigned int st)
{
	static struct blk_chain c;

	put_header(head * 32, type, sector);
	c.head = head;
	c.n = 0;
	c.segs[c.n++] = seg(head * 32, 16, false);
	if (len)
		c.segs[c.n++] = seg(data, len, type != BLK_T_OUT);
	c.segs[c.n++] = seg(st, 1, true);
	return &c;
}

/* Kick, then reap until @want chains are done (or give up). */
static void run(struct qfix *f, unsigned int want)
{
	int i;

	blk_queue_kick(&f->q);
	for (i = 0; i < 20 && f->n_done < want; i++)
		blk_queue_reap(&f->q);
	assert_int_equal(f->n_done, want);
}

static void test_queue_read_write_flush_order(void **state)
{
	struct qfix *f = *state;
	const struct fault_stats *st = fault_engine_stats(f->e);

	memset(ram + 8192, 0x5a, 4096);
	blk_queue_take(&f->q, chain(1, BLK_T_OUT, 8, 8192, 4096, 2000));
	/* The flush waits for the write taken before it. */
	blk_queue_take(&f->q, chain(2, BLK_T_FLUSH, 0, 0, 0, 2001));
	assert_int_equal(blk_queue_in_flight(&f->q), 2);
	assert_int_equal(io_engine_inflight(f->e), 1);	/* the sync is held */
	assert_int_equal(st->steps[FAULT_DSYNC], 0);
	run(f, 2);
	assert_int_equal(f->done_head[0], 1);	/* the write first */
	assert_int_equal(f->done_head[1], 2);
	assert_int_equal(st->syscalls[FAULT_DSYNC], 1);
	assert_int_equal(ram[2000], BLK_S_OK);
	assert_int_equal(ram[2001], BLK_S_OK);
	assert_int_equal(f->done_len[0], 1);
	/* Read it back. */
	blk_queue_take(&f->q, chain(3, BLK_T_IN, 8, 16384, 4096, 2002));
	run(f, 3);
	assert_int_equal(f->done_len[2], 4097);
	assert_memory_equal(ram + 16384, ram + 8192, 4096);
	assert_int_equal(ram[2002], BLK_S_OK);
	assert_int_equal(f->q.stats.bytes_written, 4096);
	assert_int_equal(f->q.stats.flushes, 1);
	assert_int_equal(blk_queue_in_flight(&f->q), 0);
}

static void test_queue_errors(void **state)
{
	struct qfix *f = *state;
	struct io_fault sync_fails = { .ops = 1u << IO_OP_DSYNC, .error = -EIO };
	struct io_fault nospace = { .ops = 1u << IO_OP_WRITE, .error = -ENOSPC };
	struct io_fault eio = { .ops = 1u << IO_OP_READ, .error = -EIO };
	const struct fault_stats *st = fault_engine_stats(f->e);

	/* A failed sync is IOERR, and is not retried into a success. */
	assert_int_equal(fault_engine_inject(f->e, &sync_fails), 0);
	blk_queue_take(&f->q, chain(1, BLK_T_FLUSH, 0, 0, 0, 2000));
	run(f, 1);
	assert_int_equal(ram[2000], BLK_S_IOERR);
	assert_int_equal(f->done_len[0], 1);
	assert_int_equal(st->steps[FAULT_DSYNC], 1);
	/* ENOSPC on a write, EIO on a read: IOERR each, the queue goes on. */
	assert_int_equal(fault_engine_inject(f->e, &nospace), 0);
	assert_int_equal(fault_engine_inject(f->e, &eio), 0);
	blk_queue_take(&f->q, chain(2, BLK_T_OUT, 0, 8192, 512, 2001));
	blk_queue_take(&f->q, chain(3, BLK_T_IN, 0, 8192, 512, 2002));
	blk_queue_take(&f->q, chain(4, BLK_T_IN, 1, 8192, 512, 2003));
	run(f, 4);
	assert_int_equal(ram[2001], BLK_S_IOERR);
	assert_int_equal(ram[2002], BLK_S_IOERR);
	assert_int_equal(ram[2003], BLK_S_OK);
	assert_int_equal(f->q.stats.errors, 3);
	/* A malformed chain completes at once, with its status... */
	blk_queue_take(&f->q, chain(5, BLK_T_IN, 0, 8192, 500, 2004));
	assert_int_equal(f->n_done, 5);
	assert_int_equal(ram[2004], BLK_S_IOERR);
	assert_int_equal(f->done_len[4], 1);
	/* ...or with length 0 when it has no status byte. */
	{
		struct blk_chain *c = chain(6, BLK_T_IN, 0, 0, 0, 0);

		c->n = 1;
		blk_queue_take(&f->q, c);
		assert_int_equal(f->n_done, 6);
		assert_int_equal(f->done_len[5], 0);
	}
}

static void test_queue_back_pressure(void **state)
{
	struct qfix *f = *state;
	unsigned int i;

	/* The engine refuses: the request waits, nothing is lost. */
	fault_engine_refuse_submits(f->e, 1);
	blk_queue_take(&f->q, chain(1, BLK_T_IN, 0, 8192, 512, 2000));
	assert_false(blk_queue_can_take(&f->q));
	blk_queue_reap(&f->q);		/* starts it */
	assert_true(blk_queue_can_take(&f->q));
	run(f, 1);
	assert_int_equal(ram[2000], BLK_S_OK);
	/* A full queue takes no more until completions. */
	for (i = 0; i < 8; i++)
		blk_queue_take(&f->q, chain(10 + i, BLK_T_IN, i, 8192, 512, 2001 + i));
	assert_false(blk_queue_can_take(&f->q));
	run(f, 9);
	assert_true(blk_queue_can_take(&f->q));
	for (i = 0; i < 8; i++)
		assert_int_equal(ram[2001 + i], BLK_S_OK);
}

static void test_queue_get_id_and_discard(void **state)
{
	struct qfix *f = *state;
	struct io_fault no_punch = {
		.ops = 1u << IO_OP_DISCARD, .error = -EOPNOTSUPP,
	};
	struct blk_chain *c;

	memset(ram + 8192, 0xff, 20);
	blk_queue_take(&f->q, chain(1, BLK_T_GET_ID, 0, 8192, 20, 2000));
	assert_int_equal(f->n_done, 1);
	assert_int_equal(f->done_len[0], 21);
	assert_memory_equal(ram + 8192, "WISP-SERIAL\0\0\0\0\0\0\0\0\0", 20);

	/* A discard the file system cannot do is fine: data unchanged. */
	assert_int_equal(fault_engine_inject(f->e, &no_punch), 0);
	c = chain(2, BLK_T_DISCARD, 0, 0, 0, 2001);
	put_range(2 * 32 + 16, 0, 8, 0);
	c->segs[0].len = 32;
	blk_queue_take(&f->q, c);
	run(f, 2);
	assert_int_equal(ram[2001], BLK_S_OK);
	assert_int_equal(f->q.stats.discards, 1);
}

/* ---- the whole device, driven as a driver would, through the fake host ------------ */

#define DRAM		(1 << 20)
#define R_DESC		0x1000
#define R_AVAIL		0x2000
#define R_USED		0x3000
#define R_HDR		0x8000
#define R_DATA		0x9000
#define R_STATUS	0xa000

struct dfix {
	struct fake_host fh;
	char path[64];
	struct blk_dev *dev;
	struct pci_device *pd;
	uint16_t avail;
};

static void bar_wr(struct dfix *f, uint64_t off, uint32_t len, uint64_t v)
{
	fake_io_write(&virtio_pci_bar_io, f->pd, off, len, v);
}

static uint64_t bar_rd(struct dfix *f, uint64_t off, uint32_t len)
{
	uint64_t v;

	assert_int_equal(fake_io_read(&virtio_pci_bar_io, f->pd, off, len, &v), 0);
	return v;
}

static void desc(struct dfix *f, unsigned int i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	uint8_t *p = f->fh.ram + R_DESC + 16 * i;

	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static int d_setup(void **state)
{
	struct dfix *f = calloc(1, sizeof(*f));
	struct blk_backing backing;
	struct blk_options o;
	char msg[200];
	int fd, err = 0;

	assert_int_equal(fake_host_init(&f->fh, 0, DRAM), 0);
	strcpy(f->path, "/tmp/wisp-blkdev-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, CAP), 0);
	close(fd);
	assert_int_equal(blk_parse_options("path=x,serial=DEV1", &o, msg,
					   sizeof(msg)), 0);
	strcpy(o.path, f->path);
	assert_int_equal(blk_open_backing(&o, &backing, msg, sizeof(msg)), 0);
	f->dev = blk_create(&f->fh.hs, &o, &backing, 2, msg, sizeof(msg),
			    &err);
	assert_int_equal(backing.fd, -1);	/* handed over */
	if (!f->dev)
		fail_msg("blk_create: %s (%d)", msg, err);
	f->pd = blk_pci_device(f->dev);
	*state = f;
	return 0;
}

static int d_teardown(void **state)
{
	struct dfix *f = *state;

	blk_destroy(f->dev);
	unlink(f->path);
	fake_host_free(&f->fh);
	free(f);
	return 0;
}

/* Bring queue 0 up as Linux does: features, rings, DRIVER_OK. */
static void bring_up(struct dfix *f)
{
	uint32_t hi;

	bar_wr(f, 0x14, 1, 1);
	bar_wr(f, 0x14, 1, 3);
	bar_wr(f, 0x00, 4, 1);
	hi = bar_rd(f, 0x04, 4);
	assert_int_equal(hi & 1, 1);			/* VERSION_1 */
	bar_wr(f, 0x08, 4, 0);
	bar_wr(f, 0x0c, 4, 1u << 9 | 1u << 13 | 1u << 29);	/* FLUSH, DISCARD, EVENT_IDX */
	bar_wr(f, 0x08, 4, 1);
	bar_wr(f, 0x0c, 4, 1);
	bar_wr(f, 0x14, 1, 0x0b);
	assert_int_equal(bar_rd(f, 0x14, 1), 0x0b);
	bar_wr(f, 0x16, 2, 0);
	bar_wr(f, 0x18, 2, 16);
	bar_wr(f, 0x20, 8, R_DESC);
	bar_wr(f, 0x28, 8, R_AVAIL);
	bar_wr(f, 0x30, 8, R_USED);
	bar_wr(f, 0x1c, 2, 1);
	assert_int_equal(bar_rd(f, 0x1c, 2), 1);
	bar_wr(f, 0x14, 1, 0x0f);
}

/* Offer a 3-descriptor request at head 0 and kick. */
static void submit(struct dfix *f, uint32_t type, uint64_t sector,
		   uint32_t len)
{
	uint8_t *hdr = f->fh.ram + R_HDR;
	uint16_t slot = f->avail % 16, head = 0, idx;

	memset(hdr, 0, 16);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	desc(f, 0, R_HDR, 16, 1, 1);
	desc(f, 1, R_DATA, len, 1 | (type == BLK_T_IN ? 2 : 0), 2);
	desc(f, 2, R_STATUS, 1, 2, 0);
	f->fh.ram[R_STATUS] = 0xee;
	memcpy(f->fh.ram + R_AVAIL + 4 + 2 * slot, &head, 2);
	idx = ++f->avail;
	memcpy(f->fh.ram + R_AVAIL + 2, &idx, 2);
	bar_wr(f, VIRTIO_PCI_NOTIFY, 2, 0);
}

/* Serve the event loop until the used ring reaches @want. */
static void serve(struct dfix *f, uint16_t want)
{
	uint16_t used = 0;
	int i;

	for (i = 0; i < 200; i++) {
		memcpy(&used, f->fh.ram + R_USED + 2, 2);
		if (used == want)
			return;
		fake_host_poll(&f->fh, 10);
	}
	fail_msg("used index %u, want %u", used, want);
}

static void test_device_end_to_end(void **state)
{
	struct dfix *f = *state;
	uint8_t cfg[8];
	uint32_t used_len;
	int i;

	/* Device config: capacity in sectors, two queues (num_queues). */
	for (i = 0; i < 8; i++)
		cfg[i] = bar_rd(f, VIRTIO_PCI_DEVCFG + i, 1);
	assert_int_equal(cfg[0] | cfg[1] << 8, CAP / 512);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVCFG + 34, 2), 2);
	assert_int_equal(bar_rd(f, 0x12, 2), 2);
	bring_up(f);

	memset(f->fh.ram + R_DATA, 0x3c, 4096);
	submit(f, BLK_T_OUT, 16, 4096);
	serve(f, 1);
	assert_int_equal(f->fh.ram[R_STATUS], BLK_S_OK);
	/* EVENT_IDX: the device asks to be kicked for the next chain. */
	{
		uint16_t avail_event;

		memcpy(&avail_event, f->fh.ram + R_USED + 4 + 8 * 16, 2);
		assert_int_equal(avail_event, 1);
	}
	submit(f, BLK_T_FLUSH, 0, 0 + 0);
	serve(f, 2);
	assert_int_equal(f->fh.ram[R_STATUS], BLK_S_OK);
	memset(f->fh.ram + R_DATA, 0, 4096);
	submit(f, BLK_T_IN, 16, 4096);
	serve(f, 3);
	assert_int_equal(f->fh.ram[R_STATUS], BLK_S_OK);
	assert_int_equal(f->fh.ram[R_DATA + 4095], 0x3c);
	memcpy(&used_len, f->fh.ram + R_USED + 4 + 8 * 2 + 4, 4);
	assert_int_equal(used_len, 4097);
	/* Out of range: IOERR, and the device goes on. */
	submit(f, BLK_T_IN, CAP / 512, 512);
	serve(f, 4);
	assert_int_equal(f->fh.ram[R_STATUS], BLK_S_IOERR);

	/* Ring corruption (a head beyond the queue): NEEDS_RESET... */
	{
		uint16_t bad = 99, idx = ++f->avail;

		memcpy(f->fh.ram + R_AVAIL + 4 + 2 * ((idx - 1) % 16), &bad, 2);
		memcpy(f->fh.ram + R_AVAIL + 2, &idx, 2);
		bar_wr(f, VIRTIO_PCI_NOTIFY, 2, 0);
		fake_host_poll(&f->fh, 10);
		assert_true(bar_rd(f, 0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
	}
	/* ...and a reset brings it back. */
	bar_wr(f, 0x14, 1, 0);
	for (i = 0; i < 50 && bar_rd(f, 0x14, 1); i++)
		fake_host_poll(&f->fh, 10);
	assert_int_equal(bar_rd(f, 0x14, 1), 0);
	memset(f->fh.ram + R_USED, 0, 0x100);
	f->avail = 0;
	memset(f->fh.ram + R_AVAIL, 0, 0x100);
	bring_up(f);
	submit(f, BLK_T_IN, 16, 512);
	serve(f, 1);
	assert_int_equal(f->fh.ram[R_STATUS], BLK_S_OK);
	assert_int_equal(f->fh.ram[R_DATA], 0x3c);
}

/* ---- snapshot and restore ------------------------------------------------------- */

/* A whole VM's worth for one disk: RAM, a PCI host, the device. */
struct side {
	struct dfix d;
	struct pci_host host;
	struct virtio_pci *vp;
};

static void side_create(struct side *s, const char *path, const uint8_t *image)
{
	struct blk_backing backing;
	struct blk_options o;
	char msg[200];
	int err = 0, i;

	memset(s, 0, sizeof(*s));
	assert_int_equal(fake_host_init(&s->d.fh, 0, DRAM), 0);
	if (image)
		memcpy(s->d.fh.ram, image, DRAM);
	assert_int_equal(pci_host_init(&s->host, &s->d.fh.hs, 0, 0), 0);
	assert_int_equal(blk_parse_options("path=x,serial=DEV1", &o, msg,
					   sizeof(msg)), 0);
	strcpy(o.path, path);
	strcpy(s->d.path, path);
	/* The source's lock may outlive it a moment (io_uring's file). */
	for (i = 0; i < 200 && blk_open_backing(&o, &backing, msg,
						 sizeof(msg)) == -EBUSY; i++)
		usleep(10000);
	assert_true(i < 200);
	s->d.dev = blk_create(&s->d.fh.hs, &o, &backing, 2, msg, sizeof(msg),
			      &err);
	if (!s->d.dev)
		fail_msg("blk_create: %s (%d)", msg, err);
	s->d.pd = blk_pci_device(s->d.dev);
	s->vp = (struct virtio_pci *)s->d.pd;	/* pd is its first member */
	assert_int_equal(pci_host_add(&s->host, s->d.pd), 1);
}

static void side_destroy(struct side *s)
{
	blk_destroy(s->d.dev);
	pci_host_destroy(&s->host);
	fake_host_free(&s->d.fh);
}

/*
 * Offer a request on queue 0 with descriptors @first..@first + 2 and its
 * header, data and status at @base, @base + 0x1000 and @base + 0x3000;
 * kick only when @kick.
 */
static void post(struct dfix *f, unsigned int first, uint64_t base,
		 uint32_t type, uint64_t sector, uint32_t len, bool kick)
{
	uint16_t slot = f->avail % 16, head = first, idx;
	uint8_t *hdr = f->fh.ram + base;

	memset(hdr, 0, 16);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	desc(f, first, base, 16, 1, first + 1);
	desc(f, first + 1, base + 0x1000, len,
	     1 | (type == BLK_T_IN ? 2 : 0), first + 2);
	desc(f, first + 2, base + 0x3000, 1, 2, 0);
	f->fh.ram[base + 0x3000] = 0xee;
	memcpy(f->fh.ram + R_AVAIL + 4 + 2 * slot, &head, 2);
	idx = ++f->avail;
	memcpy(f->fh.ram + R_AVAIL + 2, &idx, 2);
	if (kick)
		bar_wr(f, VIRTIO_PCI_NOTIFY, 2, 0);
}

/* Used element @i's length, its head in *@head. */
static uint32_t vdrv_used_len(struct dfix *f, unsigned int i, uint16_t *head)
{
	uint32_t id, len;

	memcpy(&id, f->fh.ram + R_USED + 4 + 8 * (i % 16), 4);
	memcpy(&len, f->fh.ram + R_USED + 4 + 8 * (i % 16) + 4, 4);
	*head = id;
	return len;
}

static uint16_t used_idx(struct dfix *f)
{
	uint16_t used;

	memcpy(&used, f->fh.ram + R_USED + 2, 2);
	return used;
}

struct snapshot {
	void *blob;
	size_t len;
	uint8_t *ram;
	uint16_t avail;
	struct virtio_pci vp;		/* the source's transport, copied */
	struct virtq vq;		/* and queue 0 */
	uint8_t cfg[256];
	uint64_t bar;
};

static void *blk_blob_copy(struct state_writer *w, size_t *len)
{
	void *b;

	*len = fdt_totalsize(w->fdt);
	b = malloc(*len);
	assert_non_null(b);
	memcpy(b, w->fdt, *len);
	return b;
}

/*
 * The source: bring the disk up with MSI-X, write and read through it,
 * leave a write in flight and a read available but not kicked, quiesce,
 * save; the source is destroyed (it holds the disk's lock).
 */
static void make_snapshot(const char *path, struct snapshot *snap)
{
	struct side a;
	struct state_writer w;
	unsigned int cap;
	struct virtq *vq;

	side_create(&a, path, NULL);
	cap = a.vp->msix.cap;
	pci_test_cfg_write(&a.host, 1, PCI_COMMAND, 2,
			   PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	pci_test_cfg_write(&a.host, 1, cap + 2, 2, MSIX_CTRL_ENABLE);
	assert_true(a.vp->pd.bar[0].mapped);
	bar_wr(&a.d, VIRTIO_PCI_MSIX_TABLE + 16, 4, 0xfee00000);
	bar_wr(&a.d, VIRTIO_PCI_MSIX_TABLE + 24, 4, 0x41);
	bar_wr(&a.d, VIRTIO_PCI_MSIX_TABLE + 28, 4, 0);	/* unmask vector 1 */
	bar_wr(&a.d, VIRTIO_PCI_MSIX_TABLE + 0, 4, 0xfee01000);
	bar_wr(&a.d, 0x10, 2, 0);		/* config: vector 0, masked */
	bar_wr(&a.d, 0x16, 2, 0);
	bar_wr(&a.d, 0x1a, 2, 1);		/* queue 0: vector 1 */
	bring_up(&a.d);

	memset(a.d.fh.ram + R_DATA, 0x5a, 4096);
	post(&a.d, 0, R_HDR, BLK_T_OUT, 8, 4096, true);
	serve(&a.d, 1);
	assert_int_equal(a.d.fh.ram[R_STATUS], BLK_S_OK);
	post(&a.d, 0, R_HDR, BLK_T_IN, 8, 512, true);
	serve(&a.d, 2);
	assert_int_equal(a.d.fh.ram[R_STATUS], BLK_S_OK);
	assert_true(fake_host_msi_count(&a.d.fh, a.vp->msix.vec[1].handle) > 0);

	/* A write the device takes (one pass of the loop), still in flight. */
	memset(a.d.fh.ram + 0x10000 + 0x1000, 0x77, 4096);
	post(&a.d, 3, 0x10000, BLK_T_OUT, 64, 4096, true);
	fake_host_poll(&a.d.fh, 0);
	/* A read made available whose kick is lost with the pause. */
	post(&a.d, 6, 0x20000, BLK_T_IN, 64, 4096, false);
	virtio_pci_notify_config(a.vp);		/* generation 1, pending bit */
	bar_wr(&a.d, 0x16, 2, 1);		/* queue_select ends at 1 */

	assert_int_equal(blk_quiesce(a.d.dev), 0);
	/* Quiesced: the write completed and is published, the read waits. */
	assert_int_equal(used_idx(&a.d), 3);
	assert_int_equal(a.d.fh.ram[0x10000 + 0x3000], BLK_S_OK);
	assert_int_equal(a.d.fh.ram[0x20000 + 0x3000], 0xee);

	assert_int_equal(state_writer_init(&w), 0);
	state_begin(&w, "pci");
	pci_host_save(&a.host, &w);
	state_end(&w);
	state_begin(&w, "virtio-blk@0");
	blk_save(a.d.dev, &w);
	state_end(&w);
	assert_int_equal(state_writer_finish(&w), 0);
	snap->blob = blk_blob_copy(&w, &snap->len);
	state_writer_free(&w);

	snap->ram = malloc(DRAM);
	assert_non_null(snap->ram);
	memcpy(snap->ram, a.d.fh.ram, DRAM);
	snap->avail = a.d.avail;
	snap->vp = *a.vp;
	vq = a.vp->ops->queue_virtq(a.vp, 0);
	snap->vq = *vq;
	memcpy(snap->cfg, a.vp->pd.cfg, 256);
	snap->bar = a.vp->pd.bar[0].mapped_at;
	assert_int_equal(snap->vq.last_avail, 3);
	assert_int_equal(snap->vq.used_idx, 3);
	side_destroy(&a);
}

static void load_side(struct side *s, const void *blob, size_t len,
		      struct state_reader *r)
{
	assert_int_equal(state_reader_init(r, blob, len), 0);
	pci_host_load(&s->host, r, state_node(r, STATE_ROOT, "pci"));
	blk_load(s->d.dev, r, state_node(r, STATE_ROOT, "virtio-blk@0"));
}

static char *blk_tmp_disk(void)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/wisp-blksnap-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, CAP), 0);
	close(fd);
	return path;
}

static void test_snapshot_restore(void **state)
{
	struct snapshot snap;
	struct state_reader r;
	struct side b;
	const struct virtq *vq;
	const char *path = blk_tmp_disk();
	unsigned int i;

	(void)state;
	make_snapshot(path, &snap);
	side_create(&b, path, snap.ram);
	load_side(&b, snap.blob, snap.len, &r);
	if (r.failed)
		fail_msg("load: %s", r.err);

	/* Every transport field as it was. */
	assert_int_equal(b.vp->status, 0x0f);
	assert_int_equal(b.vp->status, snap.vp.status);
	assert_int_equal(b.vp->driver_features, snap.vp.driver_features);
	assert_int_equal(b.vp->device_feature_select, snap.vp.device_feature_select);
	assert_int_equal(b.vp->driver_feature_select, snap.vp.driver_feature_select);
	assert_int_equal(b.vp->config_generation, 1);
	assert_int_equal(b.vp->config_msix_vector, snap.vp.config_msix_vector);
	assert_int_equal(b.vp->queue_select, 1);
	assert_int_equal(b.vp->isr, snap.vp.isr);
	assert_int_equal(b.vp->isr, 3);
	assert_false(b.vp->resetting);
	for (i = 0; i < b.vp->num_queues; i++) {
		const struct virtio_pci_queue *q = &b.vp->queues[i];
		const struct virtio_pci_queue *o = &snap.vp.queues[i];

		assert_int_equal(q->size, o->size);
		assert_int_equal(q->msix_vector, o->msix_vector);
		assert_int_equal(q->enabled, o->enabled);
		assert_int_equal(q->desc, o->desc);
		assert_int_equal(q->driver, o->driver);
		assert_int_equal(q->device, o->device);
	}
	assert_true(b.vp->queues[0].enabled);
	assert_false(b.vp->queues[1].enabled);
	assert_int_equal(b.vp->queues[0].msix_vector, 1);
	/* The queue's progress. */
	vq = b.vp->ops->queue_virtq(b.vp, 0);
	assert_int_equal(vq->last_avail, snap.vq.last_avail);
	assert_int_equal(vq->used_idx, snap.vq.used_idx);
	assert_int_equal(vq->signalled_used, snap.vq.signalled_used);
	assert_int_equal(vq->signalled_valid, snap.vq.signalled_valid);
	assert_true(vq->event_idx);
	assert_memory_equal(vq->in_flight, snap.vq.in_flight,
			    sizeof(vq->in_flight));
	/* MSI-X: table, routes, the pending config interrupt. */
	for (i = 0; i < b.vp->msix.n; i++) {
		assert_int_equal(b.vp->msix.vec[i].addr_lo, snap.vp.msix.vec[i].addr_lo);
		assert_int_equal(b.vp->msix.vec[i].data, snap.vp.msix.vec[i].data);
		assert_int_equal(b.vp->msix.vec[i].ctrl, snap.vp.msix.vec[i].ctrl);
	}
	assert_int_equal(b.vp->msix.pending, 1);
	assert_int_equal(b.vp->msix.control, MSIX_CTRL_ENABLE);
	assert_int_equal(b.d.fh.msi[b.vp->msix.vec[1].handle].data, 0x41);
	/* PCI: configuration space, the BAR mapped where it was. */
	assert_memory_equal(b.vp->pd.cfg, snap.cfg, 256);
	assert_true(b.vp->pd.bar[0].mapped);
	assert_int_equal(b.vp->pd.bar[0].mapped_at, snap.bar);
	assert_non_null(fake_host_region(&b.d.fh, false, snap.bar));
	assert_int_equal(b.d.fh.n_ioeventfds, 2);

	/* The read whose kick was lost is taken (load kicks once)... */
	b.d.avail = snap.avail;
	{
		uint16_t used_event = 3;	/* EVENT_IDX: interrupt after 3 */

		memcpy(b.d.fh.ram + R_AVAIL + 4 + 2 * 16, &used_event, 2);
	}
	serve(&b.d, 4);
	assert_int_equal(b.d.fh.ram[0x20000 + 0x3000], BLK_S_OK);
	assert_int_equal(b.d.fh.ram[0x20000 + 0x1000 + 4095], 0x77);
	/* ...and the queue goes on where it stopped. */
	memset(b.d.fh.ram + R_DATA, 0, 4096);
	post(&b.d, 0, R_HDR, BLK_T_IN, 8, 4096, true);
	serve(&b.d, 5);
	assert_int_equal(b.d.fh.ram[R_STATUS], BLK_S_OK);
	assert_int_equal(b.d.fh.ram[R_DATA + 4095], 0x5a);
	{
		uint16_t head;

		assert_int_equal(vdrv_used_len(&b.d, 4, &head), 4097);
		assert_int_equal(head, 0);
	}
	assert_true(fake_host_msi_count(&b.d.fh, b.vp->msix.vec[1].handle) > 0);
	side_destroy(&b);
	free(snap.blob);
	free(snap.ram);
	unlink(path);
}

/* A copy of @snap's tree with one property changed (@len 0: deleted). */
static void *mutate(const struct snapshot *snap, const char *node,
		    const char *prop, const void *val, int len, size_t *out_len)
{
	size_t size = snap->len + 4096;
	void *t = malloc(size);
	int off;

	assert_non_null(t);
	assert_int_equal(fdt_open_into(snap->blob, t, size), 0);
	off = fdt_path_offset(t, node);
	assert_true(off >= 0);
	if (len)
		assert_int_equal(fdt_setprop(t, off, prop, val, len), 0);
	else
		assert_int_equal(fdt_delprop(t, off, prop), 0);
	assert_int_equal(fdt_pack(t), 0);
	*out_len = fdt_totalsize(t);
	return t;
}

static void test_snapshot_hostile(void **state)
{
	static const struct {
		const char *node, *prop;
		int bytes;		/* 4, 8, or 0: delete */
		uint64_t value;
		const char *want;
	} cases[] = {
		{ "/virtio-blk@0/queue@0", "size", 4, 12, "/virtio-blk@0/queue@0: size 12 of an enabled queue" },
		{ "/virtio-blk@0/queue@0", "size", 4, 512, "above the maximum 256" },
		{ "/virtio-blk@0/queue@0", "size", 4, 0x10000, "/virtio-blk@0/queue@0/size: 65536 is out of range" },
		{ "/virtio-blk@0/queue@0", "desc", 8, DRAM - 16, "/virtio-blk@0/queue@0: virtio-blk: queue 0 (size 16, rings 0xffff0/" },
		{ "/virtio-blk@0/queue@0", "device", 8, 1ULL << 40, "a ring is not in guest RAM" },
		{ "/virtio-blk@0/queue@0", "msix-vector", 4, 3, "/virtio-blk@0/queue@0: msix-vector 3 is out of range" },
		{ "/virtio-blk@0", "config-msix-vector", 4, 40, "/virtio-blk@0: config-msix-vector 40 is out of range" },
		{ "/virtio-blk@0", "driver-features", 8, (1ULL << 32) | (1ULL << 40), "/virtio-blk@0: status has FEATURES_OK, but driver features 0x10100000000" },
		{ "/virtio-blk@0", "driver-features", 8, 1ULL << 9, "not a subset of the offered" },
		{ "/virtio-blk@0", "status", 4, 0x2f, "/virtio-blk@0: status 0x2f has unknown bits" },
		{ "/virtio-blk@0", "status", 0, 0, "/virtio-blk@0/status: missing" },
		{ "/virtio-blk@0", "resetting", 4, 1, "reset was in progress" },
		{ "/virtio-blk@0", "isr", 4, 4, "/virtio-blk@0/isr: 4 is out of range" },
		{ "/virtio-blk@0", "capacity-sectors", 8, 4096, "the disk has 2048 sectors, the snapshot 4096" },
		{ "/virtio-blk@0", "readonly", 4, 1, "the disk is read-write, in the snapshot it was read-only" },
		{ "/virtio-blk@0", "serial", 0, 0, "/virtio-blk@0/serial: missing" },
		{ "/virtio-blk@0", "device-features", 8, 1, "offers features" },
		{ "/virtio-blk@0/queue@0", "last-avail", 4, 4, "/virtio-blk@0/queue@0: 0 heads in flight, but last-avail 4 and used-idx 3 say 1" },
		{ "/virtio-blk@0/queue@0", "in-flight", 4, 0xffffffff, "in-flight: 4 bytes where 2 belong" },
		{ "/virtio-blk@0/queue@0", "last-avail", 0, 0, "/virtio-blk@0/queue@0/last-avail: missing" },
		{ "/virtio-blk@0/queue@1", "max-size", 4, 128, "holds at most 256 entries here, 128" },
		{ "/virtio-blk@0/msix", "pending", 8, 1ULL << 5, "/virtio-blk@0/msix: pending bits 0x20 beyond the 3 vectors" },
		{ "/pci", "config-address", 4, 3, "/pci: config-address 0x00000003" },
		{ "/pci", "slots", 4, 7, "the snapshot has devices in slots 0x00000007" },
		{ "/pci/slot@1", "bars-mapped", 4, 0, "/pci/slot@1: virtio-blk: BARs mapped 0x0 in the snapshot, 0x1 here" },
	};
	const char *path = blk_tmp_disk();
	struct snapshot snap;
	size_t i;

	(void)state;
	make_snapshot(path, &snap);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t val[8];
		struct state_reader r;
		struct side b;
		size_t len;
		void *t;

		if (cases[i].bytes == 4) {
			fdt32_t v = cpu_to_fdt32(cases[i].value);

			memcpy(val, &v, 4);
		} else {
			fdt64_t v = cpu_to_fdt64(cases[i].value);

			memcpy(val, &v, 8);
		}
		t = mutate(&snap, cases[i].node, cases[i].prop, val,
			   cases[i].bytes, &len);
		side_create(&b, path, snap.ram);
		load_side(&b, t, len, &r);
		if (!r.failed || !strstr(r.err, cases[i].want))
			fail_msg("case %zu (%s/%s): got '%s', want '%s'", i,
				 cases[i].node, cases[i].prop,
				 r.failed ? r.err : "no error", cases[i].want);
		side_destroy(&b);
		free(t);
	}
	/* A changed read-only byte of the function: a different device. */
	{
		uint8_t cfg[256];
		struct state_reader r;
		struct side b;
		size_t len;
		void *t;

		memcpy(cfg, snap.cfg, 256);
		cfg[PCI_DEVICE_ID] ^= 1;
		t = mutate(&snap, "/pci/slot@1", "config", cfg, 256, &len);
		side_create(&b, path, snap.ram);
		load_side(&b, t, len, &r);
		assert_true(r.failed);
		assert_non_null(strstr(r.err, "/pci/slot@1: virtio-blk: read-only configuration byte 0x02"));
		side_destroy(&b);
		free(t);
	}
	free(snap.blob);
	free(snap.ram);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_valid),
		cmocka_unit_test(test_options_bad),
		cmocka_unit_test(test_backing),
		cmocka_unit_test(test_request_io),
		cmocka_unit_test(test_request_hostile),
		cmocka_unit_test(test_request_get_id_and_ranges),
		cmocka_unit_test_setup_teardown(test_queue_read_write_flush_order,
						q_setup, q_teardown),
		cmocka_unit_test_setup_teardown(test_queue_errors, q_setup, q_teardown),
		cmocka_unit_test_setup_teardown(test_queue_back_pressure, q_setup,
						q_teardown),
		cmocka_unit_test_setup_teardown(test_queue_get_id_and_discard,
						q_setup, q_teardown),
		cmocka_unit_test_setup_teardown(test_device_end_to_end, d_setup,
						d_teardown),
		cmocka_unit_test(test_snapshot_restore),
		cmocka_unit_test(test_snapshot_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
