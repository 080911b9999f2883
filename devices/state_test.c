// SPDX-License-Identifier: Apache-2.0
/*
 * The state tree: every put/get round trip, the reader's sticky path
 * errors, the writer's growth and ordering rule, and the reader's checks
 * against truncated, corrupted and fuzzed trees.  Mutated trees are
 * placed between PROT_NONE guard pages, so that a read past either end,
 * even inside uninstrumented libfdt, faults.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libfdt.h>

#include "state.h"

/* xorshift64*: deterministic pseudo-random numbers. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* ---- guarded buffers ----------------------------------------------------- */

struct guarded {
	uint8_t *map;
	size_t map_len;
	uint8_t *data;		/* @len bytes ending at the trailing guard */
};

/*
 * A copy of @len bytes of @src between PROT_NONE pages.  libfdt wants
 * the tree 8-byte aligned (else -FDT_ERR_ALIGNMENT), so the copy starts
 * aligned and ends less than 8 bytes before the trailing guard: exactly
 * at it when @len is a multiple of 8.
 */
static void guarded_copy(struct guarded *g, const void *src, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (len + 7) / 8 * 8;
	size_t pages = (body + page - 1) / page;

	if (!pages)
		pages = 1;
	g->map_len = (pages + 2) * page;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	assert_int_equal(mprotect(g->map, page, PROT_NONE), 0);
	assert_int_equal(mprotect(g->map + (pages + 1) * page, page,
				  PROT_NONE), 0);
	g->data = g->map + (pages + 1) * page - body;
	if (len)
		memcpy(g->data, src, len);
}

static void guarded_free(struct guarded *g)
{
	munmap(g->map, g->map_len);
}

/* ---- helpers --------------------------------------------------------- */

/* A finished tree copied out of its writer (malloc'd). */
static void *finish_copy(struct state_writer *w, size_t *len)
{
	void *blob;

	assert_int_equal(state_writer_finish(w), 0);
	*len = fdt_totalsize(w->fdt);
	blob = malloc(*len);
	assert_non_null(blob);
	memcpy(blob, w->fdt, *len);
	state_writer_free(w);
	return blob;
}

static const uint8_t some_bytes[] = { 0xde, 0xad, 0x00, 0xbe, 0xef, 0x01, 0x02 };

/*
 *  /            u32 = 0x12345678, u64 = 0x0123456789abcdef, bytes, str,
 *               empty, max = 10, nonterm = "abc" (no NUL), list = "a\0b\0"
 *  /a           x = 1
 *  /a/b         y = 2, s = "deep"
 *  /c           (empty)
 */
static void *small_tree(size_t *len)
{
	struct state_writer w;

	assert_int_equal(state_writer_init(&w), 0);
	state_put_u32(&w, "u32", 0x12345678);
	state_put_u64(&w, "u64", 0x0123456789abcdefULL);
	state_put_bytes(&w, "bytes", some_bytes, sizeof(some_bytes));
	state_put_str(&w, "str", "hello, tree");
	state_put_bytes(&w, "empty", "", 0);
	state_put_u32(&w, "max", 10);
	state_put_bytes(&w, "nonterm", "abc", 3);
	state_put_bytes(&w, "list", "a\0b", 4);
	state_begin(&w, "a");
	state_put_u32(&w, "x", 1);
	state_begin(&w, "b");
	state_put_u32(&w, "y", 2);
	state_put_str(&w, "s", "deep");
	state_end(&w);
	state_end(&w);
	state_begin(&w, "c");
	state_end(&w);
	return finish_copy(&w, len);
}

/* ---- round trips ----------------------------------------------------- */

static void test_round_trip(void **state)
{
	struct state_reader r;
	uint8_t out[sizeof(some_bytes)];
	const void *blob;
	size_t len, n;
	void *tree = small_tree(&len);
	int a, b, c;

	(void)state;
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_false(r.failed);
	assert_int_equal(state_get_u32(&r, STATE_ROOT, "u32"), 0x12345678);
	assert_true(state_get_u64(&r, STATE_ROOT, "u64") ==
		    0x0123456789abcdefULL);
	state_get_bytes(&r, STATE_ROOT, "bytes", out, sizeof(out));
	assert_memory_equal(out, some_bytes, sizeof(some_bytes));
	blob = state_get_blob(&r, STATE_ROOT, "bytes", &n);
	assert_non_null(blob);
	assert_int_equal(n, sizeof(some_bytes));
	assert_memory_equal(blob, some_bytes, n);
	assert_string_equal(state_get_str(&r, STATE_ROOT, "str"),
			    "hello, tree");
	/* An empty property: present, zero bytes. */
	n = 99;
	blob = state_get_blob(&r, STATE_ROOT, "empty", &n);
	assert_non_null(blob);
	assert_int_equal(n, 0);
	state_get_bytes(&r, STATE_ROOT, "empty", out, 0);
	assert_true(state_has(&r, STATE_ROOT, "empty"));
	assert_int_equal(state_get_u32_max(&r, STATE_ROOT, "max", 10), 10);
	assert_int_equal(state_get_u32_max(&r, STATE_ROOT, "max", UINT32_MAX),
			 10);

	a = state_node(&r, STATE_ROOT, "a");
	assert_true(a > 0);
	assert_int_equal(state_get_u32(&r, a, "x"), 1);
	b = state_node(&r, a, "b");
	assert_true(b > a);
	assert_int_equal(state_get_u32(&r, b, "y"), 2);
	assert_string_equal(state_get_str(&r, b, "s"), "deep");
	c = state_node(&r, STATE_ROOT, "c");
	assert_true(c > b);
	assert_int_equal(state_node_opt(&r, STATE_ROOT, "c"), c);
	assert_int_equal(state_node_opt(&r, STATE_ROOT, "nope"), -1);
	assert_int_equal(state_node_opt(&r, a, "c"), -1);
	assert_true(state_has(&r, STATE_ROOT, "a"));
	assert_true(state_has(&r, STATE_ROOT, "u32"));
	assert_true(state_has(&r, a, "b"));
	assert_false(state_has(&r, a, "y"));	/* b's, not a's */
	assert_false(state_has(&r, STATE_ROOT, "nope"));
	/* None of that was an error. */
	assert_false(r.failed);
	assert_string_equal(r.err, "");
	free(tree);
}

/* Extreme values of each type survive. */
static void test_round_trip_extremes(void **state)
{
	static const uint32_t u32s[] = { 0, 1, 0x80000000u, UINT32_MAX };
	static const uint64_t u64s[] = { 0, 1, 0xffffffffULL, 0x100000000ULL,
					 0x8000000000000000ULL, UINT64_MAX };
	struct state_writer w;
	struct state_reader r;
	char name[16];
	unsigned int i;
	size_t len;
	void *tree;

	(void)state;
	assert_int_equal(state_writer_init(&w), 0);
	for (i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++) {
		snprintf(name, sizeof(name), "w%u", i);
		state_put_u32(&w, name, u32s[i]);
	}
	for (i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++) {
		snprintf(name, sizeof(name), "d%u", i);
		state_put_u64(&w, name, u64s[i]);
	}
	state_put_str(&w, "empty-str", "");
	tree = finish_copy(&w, &len);
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	for (i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++) {
		snprintf(name, sizeof(name), "w%u", i);
		assert_true(state_get_u32(&r, STATE_ROOT, name) == u32s[i]);
	}
	for (i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++) {
		snprintf(name, sizeof(name), "d%u", i);
		assert_true(state_get_u64(&r, STATE_ROOT, name) == u64s[i]);
	}
	assert_string_equal(state_get_str(&r, STATE_ROOT, "empty-str"), "");
	assert_false(r.failed);
	free(tree);
}

/* ---- reader errors ---------------------------------------------------- */

static void test_missing(void **state)
{
	struct state_reader r;
	size_t len;
	void *tree = small_tree(&len);
	int a;

	(void)state;
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	a = state_node(&r, STATE_ROOT, "a");
	assert_int_equal(state_node(&r, a, "zz"), -1);
	assert_true(r.failed);
	assert_string_equal(r.err, "/a/zz: missing");

	assert_int_equal(state_reader_init(&r, tree, len), 0);
	a = state_node(&r, STATE_ROOT, "a");
	assert_int_equal(state_get_u32(&r, a, "nope"), 0);
	assert_true(r.failed);
	assert_string_equal(r.err, "/a/nope: missing");

	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_int_equal(state_get_u64(&r, STATE_ROOT, "nope"), 0);
	assert_true(r.failed);
	assert_string_equal(r.err, "/nope: missing");

	/* A missing node's path, then its property reads as nothing. */
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	a = state_node(&r, STATE_ROOT, "a");
	assert_int_equal(state_get_u32(&r, state_node(&r, a, "q"), "x"), 0);
	assert_string_equal(r.err, "/a/q: missing");

	/* Deep paths are named in full. */
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	a = state_node(&r, STATE_ROOT, "a");
	assert_string_equal(state_get_str(&r, state_node(&r, a, "b"), "t"), "");
	assert_string_equal(r.err, "/a/b/t: missing");
	free(tree);
}

static void test_wrong_size(void **state)
{
	struct state_reader r;
	uint8_t out[8];
	size_t len;
	void *tree = small_tree(&len);

	(void)state;
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_int_equal(state_get_u32(&r, STATE_ROOT, "u64"), 0);
	assert_true(r.failed);
	assert_string_equal(r.err, "/u64: 8 bytes where 4 belong");

	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_true(state_get_u64(&r, STATE_ROOT, "u32") == 0);
	assert_string_equal(r.err, "/u32: 4 bytes where 8 belong");

	assert_int_equal(state_reader_init(&r, tree, len), 0);
	memset(out, 0x55, sizeof(out));
	state_get_bytes(&r, STATE_ROOT, "bytes", out, sizeof(out));
	assert_true(r.failed);
	assert_string_equal(r.err, "/bytes: 7 bytes where 8 belong");
	assert_memory_equal(out, "\0\0\0\0\0\0\0\0", 8);	/* zeroed */

	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_int_equal(state_get_u32(&r, STATE_ROOT, "empty"), 0);
	assert_string_equal(r.err, "/empty: 0 bytes where 4 belong");
	free(tree);
}

static void test_u32_max(void **state)
{
	struct state_reader r;
	size_t len;
	void *tree = small_tree(&len);

	(void)state;
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_int_equal(state_get_u32_max(&r, STATE_ROOT, "max", 11), 10);
	assert_int_equal(state_get_u32_max(&r, STATE_ROOT, "max", 10), 10);
	assert_false(r.failed);
	assert_int_equal(state_get_u32_max(&r, STATE_ROOT, "max", 9), 0);
	assert_true(r.failed);
	assert_string_equal(r.err, "/max: 10 is out of range (at most 9)");

	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_int_equal(state_get_u32_max(&r, STATE_ROOT, "max", 0), 0);
	assert_string_equal(r.err, "/max: 10 is out of range (at most 0)");
	free(tree);
}

static void test_str_checks(void **state)
{
	struct state_reader r;
	size_t len;
	void *tree = small_tree(&len);

	(void)state;
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_string_equal(state_get_str(&r, STATE_ROOT, "nonterm"), "");
	assert_true(r.failed);
	assert_string_equal(r.err, "/nonterm: not a string");

	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_string_equal(state_get_str(&r, STATE_ROOT, "empty"), "");
	assert_string_equal(r.err, "/empty: not a string");

	/* Two strings are not one. */
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_string_equal(state_get_str(&r, STATE_ROOT, "list"), "");
	assert_string_equal(r.err, "/list: not a string");

	/* Binary data with its only NUL last is a string. */
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_string_equal(state_get_str(&r, STATE_ROOT, "str"),
			    "hello, tree");
	assert_false(r.failed);
	free(tree);
}

static void test_errors_stick(void **state)
{
	struct state_reader r;
	uint8_t out[sizeof(some_bytes)];
	size_t len, n;
	void *tree = small_tree(&len);

	(void)state;
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_int_equal(state_get_u32(&r, STATE_ROOT, "nope"), 0);
	assert_string_equal(r.err, "/nope: missing");

	/* Every later call reads nothing and keeps the first message. */
	assert_int_equal(state_get_u32(&r, STATE_ROOT, "u32"), 0);
	assert_true(state_get_u64(&r, STATE_ROOT, "u64") == 0);
	assert_int_equal(state_get_u32_max(&r, STATE_ROOT, "max", 100), 0);
	memset(out, 0x55, sizeof(out));
	state_get_bytes(&r, STATE_ROOT, "bytes", out, sizeof(out));
	assert_memory_equal(out, "\0\0\0\0\0\0\0", sizeof(out));
	n = 5;
	assert_null(state_get_blob(&r, STATE_ROOT, "bytes", &n));
	assert_int_equal(n, 0);
	assert_string_equal(state_get_str(&r, STATE_ROOT, "str"), "");
	assert_int_equal(state_node(&r, STATE_ROOT, "a"), -1);
	assert_int_equal(state_node_opt(&r, STATE_ROOT, "a"), -1);
	assert_false(state_has(&r, STATE_ROOT, "a"));
	/* Further failures do not overwrite it either. */
	assert_int_equal(state_get_u32(&r, STATE_ROOT, "u64"), 0);
	assert_int_equal(state_get_u32_max(&r, STATE_ROOT, "max", 1), 0);
	state_fail(&r, STATE_ROOT, "later %d", 2);
	assert_true(r.failed);
	assert_string_equal(r.err, "/nope: missing");
	free(tree);
}

static void test_state_fail(void **state)
{
	struct state_reader r;
	size_t len;
	void *tree = small_tree(&len);
	int a, b;

	(void)state;
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	a = state_node(&r, STATE_ROOT, "a");
	b = state_node(&r, a, "b");
	state_fail(&r, b, "y is %u, too odd", 2);
	assert_true(r.failed);
	assert_string_equal(r.err, "/a/b: y is 2, too odd");

	assert_int_equal(state_reader_init(&r, tree, len), 0);
	state_fail(&r, STATE_ROOT, "bad root");
	assert_string_equal(r.err, "/: bad root");
	free(tree);
}

/* A node handle of -1 (from a failed state_node_opt) reads as an error. */
static void test_negative_node(void **state)
{
	struct state_reader r;
	size_t len;
	void *tree = small_tree(&len);

	(void)state;
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_int_equal(state_get_u32(&r, -1, "x"), 0);
	assert_true(r.failed);
	assert_non_null(strstr(r.err, "no such node"));
	assert_int_equal(state_node(&r, -1, "x"), -1);
	assert_false(state_has(&r, -1, "x"));
	free(tree);
}

/* ---- the writer ------------------------------------------------------- */

static void test_property_after_child(void **state)
{
	struct state_writer w;

	(void)state;
	assert_int_equal(state_writer_init(&w), 0);
	state_begin(&w, "n");
	state_put_u32(&w, "before", 1);
	state_begin(&w, "child");
	state_end(&w);
	state_put_u32(&w, "after", 2);	/* in n, after its child */
	state_end(&w);
	assert_int_equal(state_writer_finish(&w), -EINVAL);
	state_writer_free(&w);

	/* At the root too. */
	assert_int_equal(state_writer_init(&w), 0);
	state_begin(&w, "child");
	state_end(&w);
	state_put_str(&w, "after", "x");
	assert_int_equal(state_writer_finish(&w), -EINVAL);
	state_writer_free(&w);

	/* A child's own properties after its sibling's are fine. */
	assert_int_equal(state_writer_init(&w), 0);
	state_begin(&w, "one");
	state_put_u32(&w, "p", 1);
	state_end(&w);
	state_begin(&w, "two");
	state_put_u32(&w, "p", 2);
	state_begin(&w, "grandchild");
	state_put_u32(&w, "p", 3);
	state_end(&w);
	state_end(&w);
	assert_int_equal(state_writer_finish(&w), 0);
	state_writer_free(&w);
}

static void test_unbalanced_nodes(void **state)
{
	struct state_writer w;

	(void)state;
	assert_int_equal(state_writer_init(&w), 0);
	state_begin(&w, "open");
	assert_int_equal(state_writer_finish(&w), -EINVAL);
	state_writer_free(&w);

	assert_int_equal(state_writer_init(&w), 0);
	state_end(&w);	/* the root is not the caller's to close */
	assert_int_equal(state_writer_finish(&w), -EINVAL);
	state_writer_free(&w);

	/* Too deep for the child bitmap. */
	assert_int_equal(state_writer_init(&w), 0);
	for (int i = 0; i < 70; i++)
		state_begin(&w, "d");
	assert_int_not_equal(w.err, 0);
	assert_int_not_equal(state_writer_finish(&w), 0);
	state_writer_free(&w);
}

/* More than the writer's first 64 KiB: the buffer grows, nothing lost. */
static void test_growth(void **state)
{
	enum { N = 256, SIZE = 4096 };
	struct state_writer w;
	struct state_reader r;
	uint8_t *data = malloc(N * SIZE), *out = malloc(SIZE);
	uint64_t seed = 42;
	char name[32];
	size_t len;
	void *tree;
	int node;
	unsigned int i;

	(void)state;
	assert_non_null(data);
	assert_non_null(out);
	for (i = 0; i < N * SIZE; i++)
		data[i] = (uint8_t)rng_next(&seed);
	assert_int_equal(state_writer_init(&w), 0);
	state_put_u32(&w, "first", 0xf1f1f1f1);
	state_begin(&w, "big");
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "prop-%u", i);
		state_put_bytes(&w, name, data + i * SIZE, SIZE);
	}
	state_end(&w);
	state_put_u32(&w, "late", 1);	/* after a child: still an error */
	assert_int_equal(state_writer_finish(&w), -EINVAL);
	state_writer_free(&w);

	assert_int_equal(state_writer_init(&w), 0);
	state_put_u32(&w, "first", 0xf1f1f1f1);
	state_begin(&w, "big");
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "prop-%u", i);
		state_put_bytes(&w, name, data + i * SIZE, SIZE);
	}
	state_put_str(&w, "last", "end");
	state_end(&w);
	tree = finish_copy(&w, &len);
	assert_true(len > N * SIZE);

	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_int_equal(state_get_u32(&r, STATE_ROOT, "first"), 0xf1f1f1f1);
	node = state_node(&r, STATE_ROOT, "big");
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "prop-%u", i);
		state_get_bytes(&r, node, name, out, SIZE);
		assert_memory_equal(out, data + i * SIZE, SIZE);
	}
	assert_string_equal(state_get_str(&r, node, "last"), "end");
	assert_false(r.failed);
	free(tree);
	free(data);
	free(out);
}

/* ---- state_reader_init ----------------------------------------------- */

static void test_reader_rejects_short(void **state)
{
	struct state_reader r;
	size_t len, n;
	void *tree = small_tree(&len);
	struct guarded g;

	(void)state;
	for (n = 0; n < sizeof(struct fdt_header); n++) {
		guarded_copy(&g, tree, n);
		assert_int_equal(state_reader_init(&r, g.data, n), -EINVAL);
		assert_true(r.failed);
		assert_non_null(strstr(r.err, "not a valid state tree"));
		guarded_free(&g);
	}
	free(tree);
}

/* Every prefix of a valid tree is rejected, none read past its end. */
static void test_reader_rejects_truncation(void **state)
{
	struct state_reader r;
	size_t len, n;
	void *tree = small_tree(&len);
	struct guarded g;

	(void)state;
	for (n = 0; n < len; n++) {
		guarded_copy(&g, tree, n);
		if (state_reader_init(&r, g.data, n) != -EINVAL)
			fail_msg("a tree cut to %zu of %zu bytes was accepted",
				 n, len);
		assert_true(r.failed);
		assert_non_null(strstr(r.err, "not a valid state tree"));
		assert_null(strstr(r.err, "ALIGNMENT"));
		guarded_free(&g);
	}
	/* Whole, it is accepted. */
	guarded_copy(&g, tree, len);
	assert_int_equal(state_reader_init(&r, g.data, len), 0);
	assert_false(r.failed);
	guarded_free(&g);
	free(tree);
}

static void test_reader_rejects_header(void **state)
{
	struct state_reader r;
	size_t len;
	uint8_t *tree = small_tree(&len);
	struct fdt_header *h = (struct fdt_header *)tree;
	uint8_t *big;

	(void)state;
	/* Magic. */
	tree[0] ^= 0x01;
	assert_int_equal(state_reader_init(&r, tree, len), -EINVAL);
	assert_true(r.failed);
	assert_non_null(strstr(r.err, "not a valid state tree"));
	tree[0] ^= 0x01;
	assert_int_equal(state_reader_init(&r, tree, len), 0);

	/* A totalsize beyond the buffer. */
	h->totalsize = cpu_to_fdt32(len + 4);
	assert_int_equal(state_reader_init(&r, tree, len), -EINVAL);
	assert_true(r.failed);
	big = calloc(1, len + 4);
	assert_non_null(big);
	memcpy(big, tree, len);
	/* With the bytes present it is only padding. */
	assert_int_equal(state_reader_init(&r, big, len + 4), 0);
	h->totalsize = cpu_to_fdt32(len);
	/* Bytes after the tree: not one whole tree. */
	memcpy(big, tree, len);
	assert_int_equal(state_reader_init(&r, big, len + 4), -EINVAL);
	assert_non_null(strstr(r.err, "not a valid state tree"));
	h->totalsize = cpu_to_fdt32(0xffffffff);
	assert_int_equal(state_reader_init(&r, tree, len), -EINVAL);
	h->totalsize = cpu_to_fdt32(len);

	/* A strings block past the end. */
	h->size_dt_strings = cpu_to_fdt32(fdt32_to_cpu(h->size_dt_strings) + 64);
	assert_int_equal(state_reader_init(&r, tree, len), -EINVAL);
	free(big);
	free(tree);
}

/* ---- fuzzing ----------------------------------------------------------- */

/*
 * A tree shaped like a snapshot's (a few KiB): what a loader reads from
 * it is what fuzz_walk reads.
 */
static void *loader_tree(size_t *len)
{
	struct state_writer w;
	uint8_t xs[1024];
	uint32_t cells[16];
	unsigned int i, v;
	char name[16];

	for (i = 0; i < sizeof(xs); i++)
		xs[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i < 16; i++)
		cells[i] = cpu_to_fdt32(0x1000 + i);
	assert_int_equal(state_writer_init(&w), 0);
	state_put_str(&w, "format", "wisp-state");
	state_put_u32(&w, "version", 1);
	state_put_u64(&w, "checksum", 0x1122334455667788ULL);
	state_begin(&w, "config");
	state_put_bytes(&w, "argv", "run\0--mem\0" "64M\0kernel.elf", 25);
	state_put_str(&w, "cwd", "/home/user");
	state_put_u32(&w, "cpus", 2);
	state_put_u64(&w, "mem-size", 64ULL << 20);
	state_end(&w);
	state_begin(&w, "memory");
	state_put_str(&w, "file", "memory");
	state_put_u64(&w, "size", 64ULL << 20);
	state_put_u64(&w, "xxh3", 0xabcdef);
	state_end(&w);
	state_begin(&w, "vcpus");
	for (v = 0; v < 2; v++) {
		snprintf(name, sizeof(name), "vcpu@%u", v);
		state_begin(&w, name);
		state_put_u32(&w, "mp-state", 0);
		state_put_bytes(&w, "xsave", xs, sizeof(xs));
		state_put_bytes(&w, "lapic", xs, 1024);
		state_begin(&w, "regs");
		state_put_u64(&w, "rip", 0xfff0 + v);
		state_put_u64(&w, "rsp", 0x8000);
		state_end(&w);
		state_begin(&w, "msrs");
		state_put_bytes(&w, "index", cells, 8 * 4);
		state_put_bytes(&w, "value", cells, 16 * 4);
		state_end(&w);
		state_end(&w);
	}
	state_end(&w);
	state_begin(&w, "devices");
	state_begin(&w, "serial");
	state_put_bytes(&w, "regs", xs, 12);
	state_end(&w);
	state_end(&w);
	return finish_copy(&w, len);
}

struct walk {
	uint32_t version, cpus, mp;
	uint64_t size, rip;
	const char *format, *cwd;
	size_t argv_len, xsave_len;
	uint8_t lapic[1024];
};

/* The fixed set of reads; returns whether the reader failed. */
static bool fuzz_walk(struct state_reader *r, struct walk *o,
		      const uint8_t *lo, const uint8_t *hi)
{
	const uint8_t *argv, *xs, *idx;
	size_t n_idx;
	int cfg, mem, vcpus, v, regs, msrs, devs;

	memset(o, 0, sizeof(*o));
	o->format = state_get_str(r, STATE_ROOT, "format");
	o->version = state_get_u32(r, STATE_ROOT, "version");
	(void)state_get_u64(r, STATE_ROOT, "checksum");
	cfg = state_node(r, STATE_ROOT, "config");
	argv = state_get_blob(r, cfg, "argv", &o->argv_len);
	o->cwd = state_get_str(r, cfg, "cwd");
	o->cpus = state_get_u32_max(r, cfg, "cpus", 254);
	mem = state_node(r, STATE_ROOT, "memory");
	o->size = state_get_u64(r, mem, "size");
	(void)state_get_str(r, mem, "file");
	vcpus = state_node(r, STATE_ROOT, "vcpus");
	v = state_node(r, vcpus, "vcpu@1");
	o->mp = state_get_u32_max(r, v, "mp-state", 8);
	xs = state_get_blob(r, v, "xsave", &o->xsave_len);
	state_get_bytes(r, v, "lapic", o->lapic, sizeof(o->lapic));
	regs = state_node(r, v, "regs");
	o->rip = state_get_u64(r, regs, "rip");
	msrs = state_node(r, v, "msrs");
	idx = state_get_blob(r, msrs, "index", &n_idx);
	(void)state_has(r, STATE_ROOT, "devices");
	devs = state_node_opt(r, STATE_ROOT, "devices");
	(void)state_has(r, devs, "serial");
	(void)state_node_opt(r, devs, "serial");
	if (!r->failed)
		state_get_bytes(r, state_node(r, devs, "serial"), "regs",
				o->lapic, 12);

	/* Whatever came back lies inside the tree and is what it claims. */
	if (argv) {
		assert_true(argv >= lo && argv + o->argv_len <= hi);
	}
	if (xs) {
		assert_true(xs >= lo && xs + o->xsave_len <= hi);
	}
	if (idx) {
		assert_true(idx >= lo && idx + n_idx <= hi);
	}
	if (*o->format) {
		assert_true((const uint8_t *)o->format >= lo &&
			    (const uint8_t *)o->format + strlen(o->format) < hi);
	}
	if (*o->cwd) {
		assert_true((const uint8_t *)o->cwd >= lo &&
			    (const uint8_t *)o->cwd + strlen(o->cwd) < hi);
	}
	assert_true(o->cpus <= 254);
	assert_true(o->mp <= 8);
	/* A failure says where; no failure, no message. */
	assert_true(memchr(r->err, '\0', sizeof(r->err)) != NULL);
	if (r->failed) {
		assert_true(r->err[0] != '\0');
	} else {
		assert_true(r->err[0] == '\0');
	}
	return r->failed;
}

struct fuzz_stats {
	unsigned int runs, rejected_init, failed_reads, clean;
};

static void fuzz_one(const uint8_t *blob, size_t len, struct fuzz_stats *st)
{
	struct state_reader r;
	struct guarded g;
	struct walk o;

	guarded_copy(&g, blob, len);
	st->runs++;
	if (state_reader_init(&r, g.data, len)) {
		assert_true(r.failed);
		assert_true(r.err[0] != '\0');
		st->rejected_init++;
	} else if (fuzz_walk(&r, &o, g.data, g.data + len)) {
		st->failed_reads++;
	} else {
		st->clean++;
	}
	guarded_free(&g);
}

static void test_fuzz(void **state)
{
	struct fuzz_stats st = { 0 };
	struct state_reader r;
	struct walk o;
	uint64_t seed = 0x5eed0fd7ULL;
	size_t len, i;
	uint8_t *tree = loader_tree(&len), *m = malloc(len);
	int k;

	(void)state;
	assert_non_null(m);
	assert_true(len > 2048 && len < 16384);
	/* Unmutated, every read succeeds. */
	assert_int_equal(state_reader_init(&r, tree, len), 0);
	assert_false(fuzz_walk(&r, &o, tree, tree + len));
	assert_string_equal(o.format, "wisp-state");
	assert_int_equal(o.version, 1);
	assert_int_equal(o.cpus, 2);
	assert_true(o.rip == 0xfff1);
	assert_int_equal(o.xsave_len, 1024);

	/* Every byte inverted. */
	for (i = 0; i < len; i++) {
		memcpy(m, tree, len);
		m[i] ^= 0xff;
		fuzz_one(m, len, &st);
	}
	/* Single-bit flips. */
	for (k = 0; k < 2000; k++) {
		uint64_t x = rng_next(&seed);

		memcpy(m, tree, len);
		m[x % len] ^= 1u << (x >> 32 & 7);
		fuzz_one(m, len, &st);
	}
	/* Random byte overwrites, favouring the header and the structure. */
	for (k = 0; k < 500; k++) {
		uint64_t x = rng_next(&seed);
		size_t at = (k & 1) ? x % 64 : x % len;

		memcpy(m, tree, len);
		m[at] = (uint8_t)(x >> 40);
		fuzz_one(m, len, &st);
	}
	/* Several overwrites at once, some of them cell-sized. */
	for (k = 0; k < 500; k++) {
		int j;

		memcpy(m, tree, len);
		for (j = 0; j < 4; j++) {
			uint64_t x = rng_next(&seed);
			size_t at = (x % len) & ~(size_t)3;
			uint32_t v = (uint32_t)(x >> 32);

			if (at + 4 <= len)
				memcpy(m + at, &v, 4);
		}
		fuzz_one(m, len, &st);
	}
	/* Truncations of mutated trees too. */
	for (k = 0; k < 200; k++) {
		uint64_t x = rng_next(&seed);

		memcpy(m, tree, len);
		m[x % len] ^= (uint8_t)(x >> 32) | 1;
		fuzz_one(m, (x >> 40) % len, &st);
	}
	print_message("fuzz: %u trees: %u rejected by the reader, %u with a failed read, %u read clean\n",
		      st.runs, st.rejected_init, st.failed_reads, st.clean);
	assert_int_equal(st.runs, len + 2000 + 500 + 500 + 200);
	assert_true(st.rejected_init > 0);
	assert_true(st.failed_reads > 0);
	free(m);
	free(tree);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_extremes),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_wrong_size),
		cmocka_unit_test(test_u32_max),
		cmocka_unit_test(test_str_checks),
		cmocka_unit_test(test_errors_stick),
		cmocka_unit_test(test_state_fail),
		cmocka_unit_test(test_negative_node),
		cmocka_unit_test(test_property_after_child),
		cmocka_unit_test(test_unbalanced_nodes),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_reader_rejects_short),
		cmocka_unit_test(test_reader_rejects_truncation),
		cmocka_unit_test(test_reader_rejects_header),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
