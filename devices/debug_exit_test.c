// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the exit port (devices/debug_exit.c): every documented
 * width and value maps to the documented exit status.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "debug_exit.h"
#include "fake_host_testlib.h"

static int setup(void **state)
{
	struct fake_host *fh = malloc(sizeof(*fh));

	if (!fh || fake_host_init(fh, 0, 0)) {
		free(fh);
		return -1;
	}
	*state = fh;
	return 0;
}

static int teardown(void **state)
{
	struct fake_host *fh = *state;

	fake_host_free(fh);
	free(fh);
	return 0;
}

static void wr(struct fake_host *fh, uint64_t off, uint32_t len, uint64_t v)
{
	uint8_t data[8];

	io_put(data, len, v);
	debug_exit_io.write(&fh->hs, off, data, len);
}

/* The status a write of @v with width @len must give: v as the port saw it. */
static int expected_status(uint64_t v, uint32_t len)
{
	uint64_t seen = len >= 8 ? v : v & ((1ULL << (8 * len)) - 1);

	return seen > DEBUG_EXIT_MAX_STATUS ? DEBUG_EXIT_MAX_STATUS : (int)seen;
}

static void test_status_values(void **state)
{
	struct fake_host *fh = *state;
	static const uint64_t values[] = { 0, 1, 63, 64, 77, 0xffffffff };
	static const uint32_t lens[] = { 1, 2, 4 };
	unsigned int count = 0;
	size_t i, j;

	for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
		for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			wr(fh, 0, lens[j], values[i]);
			count++;
			assert_int_equal(fh->stop_count, count);
			assert_int_equal(fh->stop_status,
					 expected_status(values[i], lens[j]));
		}
	}
	assert_int_equal(fh->reset_count, 0);
	assert_int_equal(fh->irq_calls, 0);
}

static void test_status_table_spelled_out(void **state)
{
	struct fake_host *fh = *state;

	/* The same cases with the answers written down, not computed. */
	wr(fh, 0, 1, 0);
	assert_int_equal(fh->stop_status, 0);
	wr(fh, 0, 1, 1);
	assert_int_equal(fh->stop_status, 1);
	wr(fh, 0, 1, 63);
	assert_int_equal(fh->stop_status, 63);
	wr(fh, 0, 1, 64);
	assert_int_equal(fh->stop_status, 63);
	wr(fh, 0, 2, 77);
	assert_int_equal(fh->stop_status, 63);
	wr(fh, 0, 2, 42);
	assert_int_equal(fh->stop_status, 42);
	wr(fh, 0, 4, 0xffffffff);
	assert_int_equal(fh->stop_status, 63);
	wr(fh, 0, 4, 0x100);		/* a high byte alone is still > 63 */
	assert_int_equal(fh->stop_status, 63);
	wr(fh, 0, 4, 0x80000000);	/* never negative */
	assert_int_equal(fh->stop_status, 63);
	wr(fh, 0, 4, 0);
	assert_int_equal(fh->stop_status, 0);
	assert_int_equal(fh->stop_count, 10);
}

static void test_other_offsets_ignored(void **state)
{
	struct fake_host *fh = *state;
	uint64_t off;

	for (off = 1; off < DEBUG_EXIT_SIZE; off++) {
		wr(fh, off, 1, 5);
		wr(fh, off, 2, 0);
		wr(fh, off, 1, 0xff);
	}
	assert_int_equal(fh->stop_count, 0);
	assert_int_equal(fh->stop_status, -1);
}

static void test_reads_return_zero(void **state)
{
	struct fake_host *fh = *state;
	static const uint32_t lens[] = { 1, 2, 4 };
	uint8_t data[8];
	size_t j, i;
	uint64_t off;

	for (off = 0; off < DEBUG_EXIT_SIZE; off++) {
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			memset(data, 0xee, sizeof(data));
			debug_exit_io.read(&fh->hs, off, data, lens[j]);
			for (i = 0; i < lens[j]; i++)
				assert_int_equal(data[i], 0);
			for (; i < sizeof(data); i++)
				assert_int_equal(data[i], 0xee);
		}
	}
	assert_int_equal(fh->stop_count, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_status_values),
		T(test_status_table_spelled_out),
		T(test_other_offsets_ignored),
		T(test_reads_return_zero),
	};
#undef T

	return cmocka_run_group_tests_name("debug_exit", tests, NULL, NULL);
}
