// SPDX-License-Identifier: Apache-2.0
/*
 * The engine layer under injected faults (fault_testlib): errors per op
 * and per request, short transfers continued to the end or failed, zero
 * progress, EINTR retried except for data syncs, a full queue, failing
 * syncs, the WRITE_ZEROES fallbacks, and bounced I/O with all of these.
 * Then the shared behavioural suite on the fault engine itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine_suite_test.h"
#include "fault_testlib.h"

#define OPBIT(op)	(1u << (op))
#define ZR		(FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)
#define PH		(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)

static const struct engine_kind fault_kind = {
	"io_fault", fault_engine_create, 0
};

static void inject(struct io_engine *e, struct io_fault f)
{
	assert_int_equal(fault_engine_inject(e, &f), 0);
}

static const struct fault_stats *stats(struct fx *f)
{
	return fault_engine_stats(f->e);
}

/* Fill the file with @len bytes of pattern @seed; return them (free). */
static uint8_t *prefill(struct fx *f, size_t len, unsigned int seed)
{
	uint8_t *buf = malloc(len);

	assert_non_null(buf);
	suite_fill(buf, len, seed);
	suite_pwrite(f->fd, buf, len, 0);
	return buf;
}

/* Errors chosen per op hit only that op; the engine keeps working. */
static void test_error_per_op(void **state)
{
	struct fx *f = suite_fx(state);
	uint8_t buf[4096];

	suite_fill(buf, sizeof(buf), 1);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE),
					.error = -ENOSPC });
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_READ, 0, buf, 0 + 1),
			 -EIO);		/* empty file: EOF, not the fault */
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_WRITE, 0, buf,
				  sizeof(buf)), -ENOSPC);
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_WRITE, 0, buf,
				  sizeof(buf)), sizeof(buf));
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE),
					.error = -EFBIG });
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_WRITE, 1 << 30, buf,
				  sizeof(buf)), -EFBIG);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_READ),
					.error = -EIO });
	assert_int_equal(suite_range(f->e, f->file, IO_OP_DSYNC, 0, 0), 0);
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_READ, 0, buf,
				  sizeof(buf)), -EIO);
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_READ, 0, buf,
				  sizeof(buf)), sizeof(buf));
	assert_int_equal(stats(f)->failed, 3);
	suite_expect(f->fd, buf, sizeof(buf), 0);
}

/* A rule for "the n-th upcoming request" fails that one only. */
static void test_error_nth_request(void **state)
{
	enum { N = 6 };
	struct fx *f = suite_fx(state);
	struct io_completion out[N];
	uint8_t buf[N][512];
	unsigned int i;

	inject(f->e, (struct io_fault){ .skip = 2, .count = 2,
					.error = -EIO });
	for (i = 0; i < N; i++) {
		struct iovec v = { buf[i], sizeof(buf[i]) };
		struct io_request req = {
			.op = i == 3 ? IO_OP_DSYNC : IO_OP_WRITE,
			.offset = i * 512, .iov = &v, .iovcnt = 1,
			.data = (void *)(uintptr_t)i,
		};

		assert_int_equal(io_engine_submit(f->e, &req), 0);
	}
	assert_int_equal(io_engine_flush(f->e), 0);
	suite_reap(f->e, out, N);
	for (i = 0; i < N; i++) {
		int64_t want = i == 2 || i == 3 ? -EIO : 512;

		assert_int_equal((uintptr_t)out[i].data, i);
		assert_int_equal(out[i].res, want);
	}
}

/* Short reads are continued until complete, across iovec boundaries. */
static void test_short_read(void **state)
{
	static const uint64_t lens[] = { 1, 7, 100, 511, 2000 };
	struct fx *f = suite_fx(state);
	uint8_t *want = prefill(f, 12288, 2), a[1000], b[5000], c[6288];
	unsigned int i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct iovec v[3] = { { a, sizeof(a) }, { b, sizeof(b) },
				      { c, sizeof(c) } };
		struct io_request req = {
			.op = IO_OP_READ, .iov = v, .iovcnt = 3, .data = a,
		};

		memset(a, 0, sizeof(a));
		memset(b, 0, sizeof(b));
		memset(c, 0, sizeof(c));
		fault_engine_reset_stats(f->e);
		inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_READ),
						.short_len = lens[i],
						.short_steps = 5 });
		assert_int_equal(suite_run(f->e, &req), 12288);
		assert_memory_equal(a, want, sizeof(a));
		assert_memory_equal(b, want + 1000, sizeof(b));
		assert_memory_equal(c, want + 6000, sizeof(c));
		assert_int_equal(stats(f)->shortened, 5);
		assert_int_equal(stats(f)->steps[FAULT_READV], 6);
	}
	free(want);
}

/* Short writes are continued; the file gets every byte. */
static void test_short_write(void **state)
{
	struct fx *f = suite_fx(state);
	uint8_t a[3000], b[5192], all[8192];
	struct iovec v[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct io_request req = {
		.op = IO_OP_WRITE, .offset = 100, .iov = v, .iovcnt = 2,
		.data = a,
	};

	suite_fill(all, sizeof(all), 3);
	memcpy(a, all, sizeof(a));
	memcpy(b, all + sizeof(a), sizeof(b));
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE),
					.short_len = 333, .short_steps = 4 });
	assert_int_equal(suite_run(f->e, &req), sizeof(all));
	assert_int_equal(stats(f)->syscalls[FAULT_WRITEV], 5);
	suite_expect(f->fd, all, sizeof(all), 100);
}

/* No progress (EOF, a write of 0 bytes) fails the request with -EIO. */
static void test_stall(void **state)
{
	struct fx *f = suite_fx(state);
	uint8_t *want = prefill(f, 8192, 4), buf[4096];

	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_READ),
					.stall = true });
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_READ, 0, buf, 4096),
			 -EIO);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_READ),
					.short_len = 1000, .stall = true });
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_READ, 0, buf, 4096),
			 -EIO);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE),
					.stall = true });
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_WRITE, 0, buf, 4096),
			 -EIO);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE),
					.short_len = 100, .stall = true });
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_WRITE, 0, buf, 4096),
			 -EIO);
	assert_int_equal(stats(f)->stalled, 4);
	/* Without faults the same requests succeed. */
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_READ, 4096, buf, 4096),
			 4096);
	assert_memory_equal(buf, want + 4096, 4096);
	free(want);
}

/* A write that got partly through and then failed is a failure. */
static void test_short_then_error(void **state)
{
	struct fx *f = suite_fx(state);
	uint8_t buf[16384];

	suite_fill(buf, sizeof(buf), 5);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE),
					.short_len = 4096, .short_steps = 2,
					.error = -ENOSPC });
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_WRITE, 0, buf,
				  sizeof(buf)), -ENOSPC);
	assert_int_equal(stats(f)->syscalls[FAULT_WRITEV], 2);
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_WRITE, 0, buf,
				  sizeof(buf)), sizeof(buf));
	suite_expect(f->fd, buf, sizeof(buf), 0);
}

/* EINTR/EAGAIN from a read or write are retried, within a bound. */
static void test_eintr(void **state)
{
	struct fx *f = suite_fx(state);
	uint8_t *want = prefill(f, 4096, 6), buf[4096];

	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_READ),
					.error = -EINTR, .error_steps = 3 });
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_READ, 0, buf, 4096),
			 4096);
	assert_memory_equal(buf, want, 4096);
	assert_int_equal(stats(f)->steps[FAULT_READV], 4);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE),
					.error = -EAGAIN, .error_steps = 2 });
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_WRITE, 0, buf, 4096),
			 4096);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_READ),
					.error = -EINTR, .error_steps = 1000 });
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_READ, 0, buf, 4096),
			 -EIO);
	free(want);
}

/* A failed data sync is reported once, never retried into success. */
static void test_dsync_failure(void **state)
{
	struct fx *f = suite_fx(state);

	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_DSYNC),
					.error = -EIO });
	assert_int_equal(suite_range(f->e, f->file, IO_OP_DSYNC, 0, 0), -EIO);
	assert_int_equal(stats(f)->steps[FAULT_DSYNC], 1);
	assert_int_equal(stats(f)->syscalls[FAULT_DSYNC], 0);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_DSYNC),
					.error = -EINTR });
	assert_int_equal(suite_range(f->e, f->file, IO_OP_DSYNC, 0, 0),
			 -EINTR);
	assert_int_equal(stats(f)->steps[FAULT_DSYNC], 2);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_DSYNC),
					.error = -ENOSPC });
	assert_int_equal(suite_range(f->e, f->file, IO_OP_DSYNC, 0, 0),
			 -ENOSPC);
	assert_int_equal(suite_range(f->e, f->file, IO_OP_DSYNC, 0, 0), 0);
	assert_int_equal(stats(f)->steps[FAULT_DSYNC], 4);
	assert_int_equal(stats(f)->syscalls[FAULT_DSYNC], 1);
}

/* A full queue: -EAGAIN, nothing queued, then the retry goes through. */
static void test_queue_full(void **state)
{
	struct fx *f = suite_fx(state);
	uint8_t buf[512];
	struct iovec v = { buf, sizeof(buf) };
	struct io_request req = { .op = IO_OP_WRITE, .iov = &v, .iovcnt = 1,
				  .data = buf };
	unsigned int i;

	suite_fill(buf, sizeof(buf), 7);
	fault_engine_refuse_submits(f->e, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(io_engine_submit(f->e, &req), -EAGAIN);
		assert_int_equal(io_engine_inflight(f->e), 0);
	}
	assert_int_equal(suite_run(f->e, &req), sizeof(buf));
	assert_int_equal(stats(f)->refused, 3);
	assert_int_equal(stats(f)->syscalls[FAULT_WRITEV], 1);
	suite_expect(f->fd, buf, sizeof(buf), 0);
}

static void expect_zeros(struct fx *f, const uint8_t *orig, size_t size,
			 uint64_t off, uint64_t len)
{
	uint8_t *want = malloc(size);

	assert_non_null(want);
	memcpy(want, orig, size);
	memset(want + off, 0, len);
	suite_expect(f->fd, want, size, 0);
	free(want);
}

/* ZERO_RANGE refused: PUNCH_HOLE; that refused too: zeros written. */
static void test_write_zeroes_fallback(void **state)
{
	enum { SIZE = 3 << 20 };
	struct fx *f = suite_fx(state);
	uint8_t *orig = prefill(f, SIZE, 8);
	const struct fault_stats *fs = stats(f);
	struct stat st;

	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE_ZEROES),
					.error = -EOPNOTSUPP });
	assert_int_equal(suite_range(f->e, f->file, IO_OP_WRITE_ZEROES, 1000,
				     5000), 0);
	assert_int_equal(fs->nmodes, 2);
	assert_int_equal(fs->modes[0], ZR);
	assert_int_equal(fs->modes[1], PH);
	assert_int_equal(fs->syscalls[FAULT_FALLOCATE], 1);
	expect_zeros(f, orig, SIZE, 1000, 5000);
	memset(orig + 1000, 0, 5000);

	fault_engine_reset_stats(f->e);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE_ZEROES),
					.error = -EOPNOTSUPP,
					.error_steps = 2 });
	assert_int_equal(suite_range(f->e, f->file, IO_OP_WRITE_ZEROES,
				     100000, SIZE - 100000), 0);
	assert_int_equal(fs->nmodes, 2);
	assert_int_equal(fs->syscalls[FAULT_FALLOCATE], 0);
	assert_int_equal(fs->syscalls[FAULT_WRITEV], 3);	/* 1 MiB each */
	expect_zeros(f, orig, SIZE, 100000, SIZE - 100000);
	memset(orig + 100000, 0, SIZE - 100000);
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(st.st_size, SIZE);

	/* Zero writes cut short are continued too. */
	suite_fill(orig, 65536, 9);
	suite_pwrite(f->fd, orig, 65536, 0);
	fault_engine_reset_stats(f->e);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE_ZEROES),
					.error = -EOPNOTSUPP,
					.error_steps = 2, .short_len = 999,
					.short_steps = 3 });
	assert_int_equal(suite_range(f->e, f->file, IO_OP_WRITE_ZEROES, 10,
				     20000), 0);
	assert_int_equal(fs->shortened, 3);
	expect_zeros(f, orig, 65536, 10, 20000);

	/* DISCARD has no fallback: the refusal is the result. */
	fault_engine_reset_stats(f->e);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_DISCARD),
					.error = -EOPNOTSUPP });
	assert_int_equal(suite_range(f->e, f->file, IO_OP_DISCARD, 0, 4096),
			 -EOPNOTSUPP);
	assert_int_equal(fs->nmodes, 1);
	assert_int_equal(fs->modes[0], PH);
	free(orig);
}

/*
 * On a file needing alignment, the zero-writing fallback of an unaligned
 * range goes through the bounce buffer: partial blocks are read first.
 */
static void test_write_zeroes_fallback_bounced(void **state)
{
	struct fx *f = suite_fx(state);
	uint8_t *orig = prefill(f, 65536, 10);
	const struct fault_stats *fs = stats(f);
	int file = io_engine_add_file(f->e, f->fd, 4096);

	assert_int_equal(file, 1);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE_ZEROES),
					.error = -EOPNOTSUPP,
					.error_steps = 2 });
	assert_int_equal(suite_range(f->e, file, IO_OP_WRITE_ZEROES, 5000,
				     10000), 0);
	assert_int_equal(fs->syscalls[FAULT_READV], 2);		/* head, tail */
	assert_int_equal(fs->syscalls[FAULT_WRITEV], 1);	/* 12 KiB */
	expect_zeros(f, orig, 65536, 5000, 10000);
	memset(orig + 5000, 0, 10000);

	/* Aligned: written from the zero buffer, nothing read. */
	fault_engine_reset_stats(f->e);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE_ZEROES),
					.error = -EOPNOTSUPP,
					.error_steps = 2 });
	assert_int_equal(suite_range(f->e, file, IO_OP_WRITE_ZEROES, 32768,
				     8192), 0);
	assert_int_equal(fs->syscalls[FAULT_READV], 0);
	assert_int_equal(fs->syscalls[FAULT_WRITEV], 1);
	expect_zeros(f, orig, 65536, 32768, 8192);
	free(orig);
}

/* Bounced reads and read-modify-writes with short transfers and errors. */
static void test_bounce_faults(void **state)
{
	struct fx *f = suite_fx(state);
	uint8_t *model = prefill(f, 65536, 11), *buf = malloc(30000);
	const struct fault_stats *fs = stats(f);
	int file = io_engine_add_file(f->e, f->fd, 4096);

	assert_non_null(buf);
	assert_int_equal(file, 1);
	/* Write [1000, 10000): head read, tail read, write, all cut short. */
	suite_fill(buf + 1, 9000, 12);
	memcpy(model + 1000, buf + 1, 9000);
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE),
					.short_len = 1000, .short_steps = 8 });
	assert_int_equal(suite_rw(f->e, file, IO_OP_WRITE, 1000, buf + 1,
				  9000), 9000);
	assert_int_equal(fs->shortened, 8);
	suite_expect(f->fd, model, 65536, 0);

	/* Read [100, 20100) into an odd address, 512 bytes at a time. */
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_READ),
					.short_len = 512, .short_steps = 6 });
	memset(buf, 0, 30000);
	assert_int_equal(suite_rw(f->e, file, IO_OP_READ, 100, buf + 3,
				  20000), 20000);
	assert_memory_equal(buf + 3, model + 100, 20000);

	/* The head read fails: the write fails, the file is untouched. */
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE),
					.error = -EIO });
	assert_int_equal(suite_rw(f->e, file, IO_OP_WRITE, 50, buf, 100),
			 -EIO);
	/* The chunk write stalls: -EIO as well. */
	inject(f->e, (struct io_fault){ .ops = OPBIT(IO_OP_WRITE),
					.stall = true });
	assert_int_equal(suite_rw(f->e, file, IO_OP_WRITE, 8192, buf + 1,
				  4096), -EIO);
	suite_expect(f->fd, model, 65536, 0);
	free(buf);
	free(model);
}

/* One bounce buffer: a second bounced request waits for it (-EAGAIN). */
static void test_bounce_backpressure(void **state)
{
	struct fx *f = suite_fx(state);
	struct io_engine_config cfg = { .depth = 8,
					.bounce_bytes = IO_BOUNCE_SIZE };
	uint8_t a[100], b[100];
	struct iovec va = { a, 100 }, vb = { b, 100 };
	struct io_request ra = { .op = IO_OP_WRITE, .offset = 10, .iov = &va,
				 .iovcnt = 1, .data = a };
	struct io_request rb = { .op = IO_OP_WRITE, .offset = 20000,
				 .iov = &vb, .iovcnt = 1, .data = b };
	struct io_engine *e;
	struct io_completion c;
	uint8_t *model = prefill(f, 32768, 13);

	assert_int_equal(fault_engine_create(&cfg, &e), 0);
	assert_int_equal(io_engine_add_file(e, f->fd, 4096), 0);
	suite_fill(a, 100, 14);
	suite_fill(b, 100, 15);
	inject(e, (struct io_fault){ .error = -EIO });
	assert_int_equal(io_engine_submit(e, &ra), 0);
	assert_int_equal(io_engine_submit(e, &rb), -EAGAIN);
	assert_int_equal(io_engine_flush(e), 0);
	suite_reap(e, &c, 1);
	assert_int_equal(c.res, -EIO);	/* failed, and the buffer is back */
	assert_int_equal(suite_run(e, &rb), 100);
	assert_int_equal(suite_run(e, &ra), 100);
	memcpy(model + 10, a, 100);
	memcpy(model + 20000, b, 100);
	suite_expect(f->fd, model, 32768, 0);
	io_engine_destroy(e);
	free(model);
}

int main(void)
{
	void *k = (void *)&fault_kind;
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_prestate_setup_teardown(fn, suite_setup, \
						       suite_teardown, k)
		T(test_error_per_op),
		T(test_error_nth_request),
		T(test_short_read),
		T(test_short_write),
		T(test_stall),
		T(test_short_then_error),
		T(test_eintr),
		T(test_dsync_failure),
		T(test_queue_full),
		T(test_write_zeroes_fallback),
		T(test_write_zeroes_fallback_bounced),
		T(test_bounce_faults),
		T(test_bounce_backpressure),
#undef T
	};
	int fails = cmocka_run_group_tests_name("io_fault_injection", tests,
						NULL, NULL);

	return fails + engine_suite_run(&fault_kind);
}
