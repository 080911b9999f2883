/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The behavioural tests every block I/O engine must pass, against
 * temporary files.  Included (once) by uring_test.c, sync_test.c and
 * fault_test.c, which run engine_suite_run() for each engine of their
 * table.  Include cmocka.h and the system headers first.
 */
#ifndef WISP_DEVICES_IO_ENGINE_SUITE_TEST_H
#define WISP_DEVICES_IO_ENGINE_SUITE_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "engine.h"

#define SUITE_WAIT_MS	20000
#define SUITE_ALIGN	4096u

struct engine_kind {
	const char *name;
	int (*create)(const struct io_engine_config *cfg,
		      struct io_engine **out);
	unsigned int workers;	/* 0: default */
};

struct fx {
	const struct engine_kind *kind;
	char path[PATH_MAX];
	int fd;			/* read-write, buffered */
	struct io_engine *e;	/* depth 16; NULL when unavailable */
	int err;		/* why e is NULL */
	int file;		/* fd's index in e */
};

/* ---- helpers, also used by the engine-specific tests ---- */

static int suite_create(const struct engine_kind *k, unsigned int depth,
			struct io_engine **out)
{
	struct io_engine_config cfg = {
		.depth = depth,
		.workers = k->workers,
	};

	return k->create(&cfg, out);
}

static void suite_temp(char *path, size_t size, const char *dir, int *fd)
{
	snprintf(path, size, "%s/wisp-io-XXXXXX", dir);
	*fd = mkstemp(path);
	assert_true(*fd >= 0);
}

/* Deterministic bytes that differ with @seed and position. */
static void suite_fill(uint8_t *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 9));
}

static void suite_wait(const struct io_engine *e)
{
	struct pollfd p = { .fd = io_engine_fd(e), .events = POLLIN };

	assert_int_equal(poll(&p, 1, SUITE_WAIT_MS), 1);
}

/* Wait and reap until @n completions arrived. */
static void suite_reap(struct io_engine *e, struct io_completion *out,
		       unsigned int n)
{
	unsigned int got = 0;

	while (got < n) {
		int r;

		suite_wait(e);
		r = io_engine_reap(e, out + got, n - got);
		assert_true(r >= 0);
		got += (unsigned int)r;
	}
}

/* Submit, flush, wait: the request's result. */
static int64_t suite_run(struct io_engine *e, const struct io_request *req)
{
	struct io_completion c = { 0 };

	assert_int_equal(io_engine_submit(e, req), 0);
	assert_int_equal(io_engine_flush(e), 0);
	suite_reap(e, &c, 1);
	assert_ptr_equal(c.data, req->data);
	return c.res;
}

static int64_t suite_rw(struct io_engine *e, int file, enum io_op op,
			uint64_t off, void *buf, size_t len)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };
	struct io_request req = {
		.op = op, .file = (unsigned int)file, .offset = off,
		.iov = &v, .iovcnt = 1, .data = buf,
	};

	return suite_run(e, &req);
}

static int64_t suite_range(struct io_engine *e, int file, enum io_op op,
			   uint64_t off, uint64_t len)
{
	struct io_request req = {
		.op = op, .file = (unsigned int)file, .offset = off,
		.len = len, .data = &req,
	};

	return suite_run(e, &req);
}

static void suite_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
}

static void suite_expect(int fd, const uint8_t *want, size_t len, off_t off)
{
	uint8_t *got = malloc(len);

	assert_non_null(got);
	assert_int_equal(pread(fd, got, len, off), (ssize_t)len);
	assert_memory_equal(got, want, len);
	free(got);
}

/* ---- fixture ---- */

static int suite_setup(void **state)
{
	const struct engine_kind *k = *state;
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->kind = k;
	suite_temp(f->path, sizeof(f->path), "/tmp", &f->fd);
	f->err = suite_create(k, 16, &f->e);
	if (f->err) {
		f->e = NULL;
	} else {
		f->file = io_engine_add_file(f->e, f->fd, 0);
		assert_int_equal(f->file, 0);
	}
	*state = f;
	return 0;
}

static int suite_teardown(void **state)
{
	struct fx *f = *state;

	io_engine_destroy(f->e);
	close(f->fd);
	unlink(f->path);
	free(f);
	return 0;
}

/* The fixture, or the test is skipped when the engine is unavailable. */
static struct fx *suite_fx(void **state)
{
	struct fx *f = *state;

	if (!f->e) {
		print_message("%s engine unavailable (%s): skipped\n",
			      f->kind->name, strerror(-f->err));
		skip();
	}
	return f;
}

/* ---- the tests ---- */

/* Vectored writes and reads at several offsets, split differently. */
static void suite_roundtrip(void **state)
{
	static const uint64_t offs[] = { 0, 513, (1u << 20) + 7, 12288 };
	struct fx *f = suite_fx(state);
	uint8_t a[100], b[4096], c[1000], all[5196], r1[3000], r2[2196];
	unsigned int i;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		struct iovec w[3] = { { a, sizeof(a) }, { b, sizeof(b) },
				      { c, sizeof(c) } };
		struct iovec r[2] = { { r1, sizeof(r1) }, { r2, sizeof(r2) } };
		struct io_request req = {
			.op = IO_OP_WRITE, .file = (unsigned int)f->file,
			.offset = offs[i], .iov = w, .iovcnt = 3, .data = w,
		};

		suite_fill(all, sizeof(all), i + 1);
		memcpy(a, all, sizeof(a));
		memcpy(b, all + sizeof(a), sizeof(b));
		memcpy(c, all + sizeof(a) + sizeof(b), sizeof(c));
		assert_int_equal(suite_run(f->e, &req), sizeof(all));
		suite_expect(f->fd, all, sizeof(all), (off_t)offs[i]);

		memset(r1, 0, sizeof(r1));
		memset(r2, 0, sizeof(r2));
		req.op = IO_OP_READ;
		req.iov = r;
		req.iovcnt = 2;
		req.data = r;
		assert_int_equal(suite_run(f->e, &req), sizeof(all));
		assert_memory_equal(r1, all, sizeof(r1));
		assert_memory_equal(r2, all + sizeof(r1), sizeof(r2));
	}
	assert_int_equal(io_engine_inflight(f->e), 0);
}

static void suite_dsync(void **state)
{
	struct fx *f = suite_fx(state);
	uint8_t buf[8192];

	suite_fill(buf, sizeof(buf), 9);
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_WRITE, 4096, buf,
				  sizeof(buf)), sizeof(buf));
	assert_int_equal(suite_range(f->e, f->file, IO_OP_DSYNC, 0, 0), 0);
	suite_expect(f->fd, buf, sizeof(buf), 4096);
}

/* DISCARD (@op) or WRITE_ZEROES: ranges read back as zeros, the rest kept. */
static void suite_zero_ranges(struct fx *f, enum io_op op)
{
	static const struct { uint64_t off, len; } r[] = {
		{ 8192, 16384 },	/* whole blocks */
		{ 100, 1000 },		/* inside one block */
		{ 30000, 9000 },	/* across blocks, unaligned ends */
		{ 60000, 16384 },	/* beyond the end: size kept */
	};
	enum { SIZE = 65536 };
	uint8_t *want = malloc(SIZE), *got = malloc(SIZE);
	struct stat st;
	unsigned int i;

	assert_non_null(want);
	assert_non_null(got);
	suite_fill(want, SIZE, 3);
	suite_pwrite(f->fd, want, SIZE, 0);
	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		uint64_t end = r[i].off + r[i].len;

		assert_int_equal(suite_range(f->e, f->file, op, r[i].off,
					     r[i].len), 0);
		memset(want + r[i].off, 0,
		       (end > SIZE ? SIZE : end) - r[i].off);
	}
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(st.st_size, SIZE);
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_READ, 0, got, SIZE),
			 SIZE);
	assert_memory_equal(got, want, SIZE);
	free(got);
	free(want);
}

static void suite_discard(void **state)
{
	suite_zero_ranges(suite_fx(state), IO_OP_DISCARD);
}

static void suite_write_zeroes(void **state)
{
	suite_zero_ranges(suite_fx(state), IO_OP_WRITE_ZEROES);
}

/*
 * Four times more requests than the queue holds: submit says -EAGAIN,
 * and after reaping every request completes, none lost or doubled.
 */
static void suite_backpressure(void **state)
{
	enum { N = 64, SZ = 4096, DEPTH = 4 };
	struct fx *f = suite_fx(state);
	unsigned int next = 0, done = 0, eagain = 0, i, seen[N] = { 0 };
	struct io_engine *e;
	uint8_t *bufs = malloc((size_t)N * SZ);
	int file;

	assert_non_null(bufs);
	assert_int_equal(suite_create(f->kind, DEPTH, &e), 0);
	file = io_engine_add_file(e, f->fd, 0);
	assert_int_equal(file, 0);
	for (i = 0; i < N; i++)
		suite_fill(bufs + (size_t)i * SZ, SZ, i + 100);
	while (done < N) {
		struct io_completion out[8];
		int n, j;

		while (next < N) {
			struct iovec v = { bufs + (size_t)next * SZ, SZ };
			struct io_request req = {
				.op = IO_OP_WRITE, .offset = (uint64_t)next * SZ,
				.iov = &v, .iovcnt = 1,
				.data = (void *)(uintptr_t)next,
			};
			int ret = io_engine_submit(e, &req);

			if (ret == -EAGAIN) {
				eagain++;
				break;
			}
			assert_int_equal(ret, 0);
			next++;
		}
		assert_true(io_engine_inflight(e) <= DEPTH);
		assert_int_equal(io_engine_flush(e), 0);
		suite_wait(e);
		n = io_engine_reap(e, out, 8);
		assert_true(n >= 0);
		for (j = 0; j < n; j++) {
			uintptr_t k = (uintptr_t)out[j].data;

			assert_true(k < N);
			assert_int_equal(out[j].res, SZ);
			seen[k]++;
		}
		done += (unsigned int)n;
	}
	assert_true(eagain > 0);
	assert_int_equal(io_engine_inflight(e), 0);
	for (i = 0; i < N; i++)
		assert_int_equal(seen[i], 1);
	io_engine_destroy(e);
	suite_expect(f->fd, bufs, (size_t)N * SZ, 0);
	free(bufs);
}

/*
 * Bounced I/O on @fd registered with SUITE_ALIGN: unaligned buffers,
 * offsets and lengths, one block, several chunks; checked against a
 * model of the file and read back through @check (a buffered fd).
 */
static void suite_bounce_on(struct fx *f, int fd, int check)
{
	enum { SIZE = 256 << 10 };
	static const struct { uint64_t off, len; unsigned int shift; } w[] = {
		{ 8192, 8192, 1 },		/* only the buffer unaligned */
		{ 1000, 5000, 3 },		/* head and tail blocks */
		{ 3 * 4096 + 10, 20, 5 },	/* inside one block */
		{ 4096, 100, 0 },		/* aligned start, short tail */
		{ 70000, 4096, 0 },		/* aligned length, odd offset */
	};
	static const struct { uint64_t off, len; } rd[] = {
		{ 1, 1000 }, { 4095, 2 }, { 0, SIZE }, { 200000, SIZE - 200000 },
		{ 131071, 3 },
	};
	uint8_t *model = malloc(SIZE), *abuf = NULL, *buf = malloc(SIZE + 64);
	int file = io_engine_add_file(f->e, fd, SUITE_ALIGN);
	unsigned int i;

	assert_true(file > 0);
	assert_non_null(model);
	assert_non_null(buf);
	assert_int_equal(posix_memalign((void **)&abuf, SUITE_ALIGN, SIZE), 0);

	/* Aligned: goes straight through. */
	suite_fill(model, SIZE, 40);
	memcpy(abuf, model, SIZE);
	assert_int_equal(suite_rw(f->e, file, IO_OP_WRITE, 0, abuf, SIZE),
			 SIZE);
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		suite_fill(buf + w[i].shift, w[i].len, 50 + i);
		memcpy(model + w[i].off, buf + w[i].shift, w[i].len);
		assert_int_equal(suite_rw(f->e, file, IO_OP_WRITE, w[i].off,
					  buf + w[i].shift, w[i].len),
				 w[i].len);
	}
	/* Several chunks, three unaligned iovecs. */
	{
		uint8_t *p = buf + 7;
		struct iovec v[3] = { { p, 100001 }, { p + 100001, 99999 },
				      { p + 200000, 1 } };
		struct io_request req = {
			.op = IO_OP_WRITE, .file = (unsigned int)file,
			.offset = 777, .iov = v, .iovcnt = 3, .data = v,
		};

		suite_fill(p, 200001, 60);
		memcpy(model + 777, p, 200001);
		assert_int_equal(suite_run(f->e, &req), 200001);

		memset(buf, 0, SIZE + 64);
		req.op = IO_OP_READ;
		req.offset = 770;
		assert_int_equal(suite_run(f->e, &req), 200001);
		assert_memory_equal(p, model + 770, 200001);
	}
	/* Zeroing and discarding need no bounce. */
	assert_int_equal(suite_range(f->e, file, IO_OP_WRITE_ZEROES, 5000,
				     3000), 0);
	memset(model + 5000, 0, 3000);
	assert_int_equal(suite_range(f->e, file, IO_OP_DISCARD, 65536, 8192),
			 0);
	memset(model + 65536, 0, 8192);

	for (i = 0; i < sizeof(rd) / sizeof(rd[0]); i++) {
		memset(buf, 0xee, SIZE + 64);
		assert_int_equal(suite_rw(f->e, file, IO_OP_READ, rd[i].off,
					  buf + 3, rd[i].len), rd[i].len);
		assert_memory_equal(buf + 3, model + rd[i].off, rd[i].len);
		assert_int_equal(buf[2], 0xee);
		assert_int_equal(buf[3 + rd[i].len], 0xee);
	}
	assert_int_equal(suite_rw(f->e, file, IO_OP_READ, 0, abuf, SIZE),
			 SIZE);
	assert_memory_equal(abuf, model, SIZE);
	suite_expect(check, model, SIZE, 0);

	/* Reads past the end fail, bounced or not. */
	assert_int_equal(suite_rw(f->e, file, IO_OP_READ, SIZE - 100, buf + 1,
				  200), -EIO);
	assert_int_equal(suite_rw(f->e, file, IO_OP_READ, SIZE, abuf, 4096),
			 -EIO);
	assert_int_equal(suite_rw(f->e, file, IO_OP_READ, SIZE + 9000,
				  buf + 1, 10), -EIO);
	assert_int_equal(io_engine_inflight(f->e), 0);
	free(abuf);
	free(buf);
	free(model);
}

/* Bounce logic on a buffered fd registered as if it needed alignment. */
static void suite_bounce(void **state)
{
	struct fx *f = suite_fx(state);

	suite_bounce_on(f, f->fd, f->fd);
}

/*
 * A bounced write past the end of the file: the blocks there read as
 * zeros (not as whatever the bounce buffer held before) and the file
 * grows to the end of the last block, as io_engine_add_file() says.
 */
static void suite_bounce_past_eof(void **state)
{
	struct fx *f = suite_fx(state);
	int file = io_engine_add_file(f->e, f->fd, SUITE_ALIGN);
	uint8_t want[8192], data[100], back[7990];
	struct stat st;

	assert_true(file > 0);
	suite_fill(want, sizeof(want), 21);
	suite_pwrite(f->fd, want, sizeof(want), 0);
	/* Leave file data in the bounce buffer, then cut the file. */
	assert_int_equal(suite_rw(f->e, file, IO_OP_READ, 10, back,
				  sizeof(back)), sizeof(back));
	assert_memory_equal(back, want + 10, sizeof(back));
	assert_int_equal(ftruncate(f->fd, 4096), 0);

	suite_fill(data, sizeof(data), 22);
	memset(want + 4096, 0, 4096);
	memcpy(want + 4196, data, sizeof(data));
	assert_int_equal(suite_rw(f->e, file, IO_OP_WRITE, 4196, data,
				  sizeof(data)), sizeof(data));
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(st.st_size, 8192);
	suite_expect(f->fd, want, sizeof(want), 0);
}

/* Open @path's file again with O_DIRECT, or -errno. */
static int suite_open_direct(const char *dir, char *path, size_t size)
{
	int fd, dfd;

	snprintf(path, size, "%s/wisp-io-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	close(fd);
	dfd = open(path, O_RDWR | O_DIRECT);
	if (dfd < 0) {
		int err = -errno;

		unlink(path);
		return err;
	}
	return dfd;
}

/* The same on a real O_DIRECT file (skipped where no file system has it). */
static void suite_odirect(void **state)
{
	static const char *const dirs[] = { "/tmp", "build" };
	struct fx *f = suite_fx(state);
	char path[PATH_MAX];
	int dfd = -EINVAL, check;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		dfd = suite_open_direct(dirs[i], path, sizeof(path));
		if (dfd >= 0)
			break;
		print_message("O_DIRECT in %s: %s\n", dirs[i], strerror(-dfd));
	}
	if (dfd < 0) {
		print_message("no file system here takes O_DIRECT: skipped\n");
		skip();
	}
	check = open(path, O_RDONLY);
	unlink(path);	/* the fds keep it, even if an assert fails */
	assert_true(check >= 0);
	suite_bounce_on(f, dfd, check);
	close(check);
	close(dfd);
}

/* Errors are per request: EBADF from a read-only fd, then all is well. */
static void suite_readonly(void **state)
{
	struct fx *f = suite_fx(state);
	uint8_t buf[4096], back[4096];
	int ro = open(f->path, O_RDONLY), file;

	assert_true(ro >= 0);
	file = io_engine_add_file(f->e, ro, 0);
	assert_int_equal(file, 1);
	suite_fill(buf, sizeof(buf), 77);
	suite_pwrite(f->fd, buf, sizeof(buf), 0);
	assert_int_equal(suite_rw(f->e, file, IO_OP_WRITE, 0, buf,
				  sizeof(buf)), -EBADF);
	assert_int_equal(suite_range(f->e, file, IO_OP_WRITE_ZEROES, 0, 512),
			 -EBADF);
	assert_int_equal(suite_rw(f->e, file, IO_OP_READ, 0, back,
				  sizeof(back)), sizeof(back));
	assert_memory_equal(back, buf, sizeof(buf));
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_WRITE, 4096, buf,
				  sizeof(buf)), sizeof(buf));
	suite_expect(f->fd, buf, sizeof(buf), 4096);
	io_engine_destroy(f->e);	/* before the fd goes */
	f->e = NULL;
	close(ro);
}

/* A read reaching end of file fails with -EIO, never a short success. */
static void suite_eof(void **state)
{
	struct fx *f = suite_fx(state);
	uint8_t buf[10000], back[10000];

	suite_fill(buf, sizeof(buf), 5);
	suite_pwrite(f->fd, buf, sizeof(buf), 0);
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_READ, 9000, back,
				  2000), -EIO);
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_READ, 20000, back, 10),
			 -EIO);
	assert_int_equal(suite_rw(f->e, f->file, IO_OP_READ, 0, back,
				  sizeof(back)), sizeof(back));
	assert_memory_equal(back, buf, sizeof(buf));
}

/* Destroy with requests in flight (and queued) waits for all of them. */
static void suite_destroy_drains(void **state)
{
	enum { N = 32, SZ = 65536 };
	struct fx *f = suite_fx(state);
	uint8_t *bufs = malloc((size_t)N * SZ);
	struct io_engine *e;
	unsigned int i;

	assert_non_null(bufs);
	suite_fill(bufs, (size_t)N * SZ, 11);
	assert_int_equal(suite_create(f->kind, N, &e), 0);
	assert_int_equal(io_engine_add_file(e, f->fd, 0), 0);
	for (i = 0; i < N; i++) {
		struct iovec v = { bufs + (size_t)i * SZ, SZ };
		struct io_request req = {
			.op = IO_OP_WRITE, .offset = (uint64_t)i * SZ,
			.iov = &v, .iovcnt = 1,
		};

		assert_int_equal(io_engine_submit(e, &req), 0);
		if (i == N / 2)
			assert_int_equal(io_engine_flush(e), 0);
	}
	assert_int_equal(io_engine_inflight(e), N);
	io_engine_destroy(e);
	/* Scribble over the buffers: a late write would show. */
	suite_expect(f->fd, bufs, (size_t)N * SZ, 0);
	memset(bufs, 0, (size_t)N * SZ);
	usleep(10000);
	suite_fill(bufs, (size_t)N * SZ, 11);
	suite_expect(f->fd, bufs, (size_t)N * SZ, 0);
	free(bufs);
}

/* Malformed requests and registrations are refused at once. */
static void suite_bad_requests(void **state)
{
	struct fx *f = suite_fx(state);
	struct iovec v[IO_DEFAULT_IOVECS + 1];
	uint8_t buf[16];
	struct io_request req = {
		.op = IO_OP_READ, .file = (unsigned int)f->file, .iov = v,
		.iovcnt = 1,
	};
	struct io_engine_config cfg = { .depth = 4, .max_files = 2,
					.workers = f->kind->workers };
	struct io_engine *e;
	unsigned int i;

	for (i = 0; i < IO_DEFAULT_IOVECS + 1; i++) {
		v[i].iov_base = buf;
		v[i].iov_len = 1;
	}
	req.file = 7;
	assert_int_equal(io_engine_submit(f->e, &req), -EBADF);
	req.file = (unsigned int)f->file;
	req.iovcnt = 0;
	assert_int_equal(io_engine_submit(f->e, &req), -EINVAL);
	req.iovcnt = IO_DEFAULT_IOVECS + 1;
	assert_int_equal(io_engine_submit(f->e, &req), -EINVAL);
	req.iovcnt = 1;
	v[0].iov_len = 0;
	assert_int_equal(io_engine_submit(f->e, &req), -EINVAL);
	v[0].iov_len = 1;
	req.offset = UINT64_MAX - 1;
	assert_int_equal(io_engine_submit(f->e, &req), -EINVAL);
	req.offset = 0;
	req.op = IO_OP_DISCARD;
	req.len = 0;
	assert_int_equal(io_engine_submit(f->e, &req), -EINVAL);
	req.op = (enum io_op)99;
	assert_int_equal(io_engine_submit(f->e, &req), -EINVAL);
	assert_int_equal(io_engine_inflight(f->e), 0);

	assert_int_equal(io_engine_add_file(f->e, f->fd, 3), -EINVAL);
	assert_int_equal(io_engine_add_file(f->e, f->fd, 8192), -EINVAL);
	assert_int_equal(io_engine_add_file(f->e, -1, 0), -EBADF);

	assert_int_equal(f->kind->create(&cfg, &e), 0);
	assert_int_equal(io_engine_add_file(e, f->fd, 0), 0);
	assert_int_equal(io_engine_add_file(e, f->fd, 512), 1);
	assert_int_equal(io_engine_add_file(e, f->fd, 0), -ENOSPC);
	io_engine_destroy(e);
	cfg.depth = IO_MAX_DEPTH + 1;
	assert_int_equal(f->kind->create(&cfg, &e), -EINVAL);
}

/* Reaping one at a time: the fd stays readable while completions remain. */
static void suite_reap_one_by_one(void **state)
{
	enum { N = 8 };
	struct fx *f = suite_fx(state);
	uint8_t buf[N][512];
	unsigned int got = 0, i;

	for (i = 0; i < N; i++) {
		struct iovec v = { buf[i], sizeof(buf[i]) };
		struct io_request req = {
			.op = IO_OP_WRITE, .file = (unsigned int)f->file,
			.offset = i * 512, .iov = &v, .iovcnt = 1,
		};

		suite_fill(buf[i], sizeof(buf[i]), i);
		assert_int_equal(io_engine_submit(f->e, &req), 0);
	}
	assert_int_equal(io_engine_flush(f->e), 0);
	while (got < N) {
		struct io_completion c;
		int n;

		suite_wait(f->e);
		n = io_engine_reap(f->e, &c, 1);
		assert_true(n == 0 || n == 1);
		if (n)
			assert_int_equal(c.res, 512);
		got += (unsigned int)n;
	}
	assert_int_equal(io_engine_reap(f->e, NULL, 0), 0);
	suite_expect(f->fd, &buf[0][0], sizeof(buf), 0);
}

/*
 * A read-modify-write holds back overlapping writes (-EAGAIN) until it
 * completes; writes elsewhere, and reads, go on.
 */
static void suite_rmw_overlap(void **state)
{
	struct fx *f = suite_fx(state);
	uint8_t a[100], b[100], d[100], r[100], want[12288];
	struct iovec va = { a, 100 }, vb = { b, 100 }, vd = { d, 100 };
	struct iovec vr = { r, 100 }, vc = { want, 4096 };
	struct io_request ra = { .op = IO_OP_WRITE, .offset = 100, .iov = &va,
				 .iovcnt = 1, .data = a };
	struct io_request rb = { .op = IO_OP_WRITE, .offset = 300, .iov = &vb,
				 .iovcnt = 1, .data = b };
	struct io_request rc = { .op = IO_OP_WRITE, .offset = 0, .iov = &vc,
				 .iovcnt = 1, .data = want };
	struct io_request rd = { .op = IO_OP_WRITE, .offset = 8292,
				 .iov = &vd, .iovcnt = 1, .data = d };
	struct io_request rr = { .op = IO_OP_READ, .offset = 150, .iov = &vr,
				 .iovcnt = 1, .data = r };
	struct io_request rz = { .op = IO_OP_WRITE_ZEROES, .offset = 4000,
				 .len = 200 };
	struct io_completion out[3];
	int file = io_engine_add_file(f->e, f->fd, SUITE_ALIGN);

	assert_true(file > 0);
	ra.file = rb.file = rc.file = rd.file = rr.file = rz.file =
		(unsigned int)file;
	memset(want, 0x11, sizeof(want));
	suite_pwrite(f->fd, want, sizeof(want), 0);
	suite_fill(a, 100, 1);
	suite_fill(b, 100, 2);
	suite_fill(d, 100, 3);

	assert_int_equal(io_engine_submit(f->e, &ra), 0);
	assert_int_equal(io_engine_submit(f->e, &rb), -EAGAIN);
	assert_int_equal(io_engine_submit(f->e, &rc), -EAGAIN);
	assert_int_equal(io_engine_submit(f->e, &rz), -EAGAIN);
	assert_int_equal(io_engine_submit(f->e, &rd), 0);
	assert_int_equal(io_engine_submit(f->e, &rr), 0);
	assert_int_equal(io_engine_flush(f->e), 0);
	suite_reap(f->e, out, 3);
	assert_int_equal(out[0].res, 100);
	assert_int_equal(out[1].res, 100);
	assert_int_equal(out[2].res, 100);
	assert_int_equal(suite_run(f->e, &rb), 100);

	memcpy(want + 100, a, 100);
	memcpy(want + 300, b, 100);
	memcpy(want + 8292, d, 100);
	suite_expect(f->fd, want, sizeof(want), 0);
}

/* Run the suite against @k, as a cmocka group named after it. */
static int engine_suite_run(const struct engine_kind *k)
{
	void *p = (void *)k;
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_prestate_setup_teardown(fn, suite_setup, \
						       suite_teardown, p)
		T(suite_roundtrip),
		T(suite_dsync),
		T(suite_discard),
		T(suite_write_zeroes),
		T(suite_backpressure),
		T(suite_bounce),
		T(suite_bounce_past_eof),
		T(suite_odirect),
		T(suite_readonly),
		T(suite_eof),
		T(suite_destroy_drains),
		T(suite_bad_requests),
		T(suite_reap_one_by_one),
		T(suite_rmw_overlap),
#undef T
	};

	return cmocka_run_group_tests_name(k->name, tests, NULL, NULL);
}

#endif
