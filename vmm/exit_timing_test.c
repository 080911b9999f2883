// SPDX-License-Identifier: Apache-2.0
/* The exit-timing histogram: buckets, percentiles, the printed line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>

#include "exit_timing.h"

/* Every value lies inside its own bucket, and buckets are in order. */
static void test_bucket_bounds(void **state)
{
	static const uint64_t values[] = {
		0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 100, 850, 999,
		1000, 1023, 1024, 65535, 1000000, 123456789, 1ULL << 39,
		(1ULL << 40) - 1,
	};
	unsigned int i, b;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		b = exit_hist_bucket(values[i]);
		assert_true(b < EXIT_HIST_BUCKETS);
		assert_true(exit_hist_bucket_low(b) <= values[i]);
		assert_true(values[i] < exit_hist_bucket_low(b) +
					exit_hist_bucket_width(b));
	}
	for (b = 1; b < EXIT_HIST_BUCKETS; b++)
		assert_int_equal(exit_hist_bucket_low(b),
				 exit_hist_bucket_low(b - 1) +
				 exit_hist_bucket_width(b - 1));
	/* Below 32 every value has its own bucket. */
	for (i = 0; i < 32; i++) {
		assert_int_equal(exit_hist_bucket(i), i);
		assert_int_equal(exit_hist_bucket_width(i), 1);
	}
	/* A bucket is at most 1/16 of its lower bound wide. */
	for (b = EXIT_HIST_SUB; b < EXIT_HIST_BUCKETS; b++)
		assert_true(exit_hist_bucket_width(b) * EXIT_HIST_SUB <=
			    exit_hist_bucket_low(b));
}

static void test_bucket_clamps(void **state)
{
	(void)state;
	assert_int_equal(exit_hist_bucket(1ULL << 40), EXIT_HIST_BUCKETS - 1);
	assert_int_equal(exit_hist_bucket(UINT64_MAX), EXIT_HIST_BUCKETS - 1);
	assert_int_equal(exit_hist_bucket((1ULL << 40) - 1),
			 EXIT_HIST_BUCKETS - 1);
}

static void test_percentile_empty(void **state)
{
	struct exit_hist *h = calloc(1, sizeof(*h));

	(void)state;
	assert_int_equal(exit_hist_percentile(h, 50), 0);
	assert_int_equal(exit_hist_percentile(h, 90), 0);
	free(h);
}

static void test_percentile_exact(void **state)
{
	struct exit_hist *h = calloc(1, sizeof(*h));
	unsigned int i;

	(void)state;
	/* 1..10: exact buckets, nearest rank. */
	for (i = 1; i <= 10; i++)
		exit_hist_add(h, i);
	assert_int_equal(h->count, 10);
	assert_int_equal(exit_hist_percentile(h, 50), 5);
	assert_int_equal(exit_hist_percentile(h, 90), 9);
	assert_int_equal(exit_hist_percentile(h, 100), 10);
	assert_int_equal(exit_hist_percentile(h, 1), 1);
	exit_hist_add(h, 7);
	assert_int_equal(exit_hist_percentile(h, 50), 6);
	free(h);
}

/* Large values: within 1/32 of the true sample. */
static void test_percentile_relative_error(void **state)
{
	struct exit_hist *h = calloc(1, sizeof(*h));
	uint64_t p50, p90;
	unsigned int i;

	(void)state;
	/* 1000 samples 1000, 1010, ..., 10990 ns, in a scrambled order. */
	for (i = 0; i < 1000; i++)
		exit_hist_add(h, 1000 + 10 * ((i * 389) % 1000));
	p50 = exit_hist_percentile(h, 50);	/* true: 5990 */
	p90 = exit_hist_percentile(h, 90);	/* true: 9990 */
	assert_true(p50 * 32 >= 5990 * 31 && p50 * 32 <= 5990 * 33);
	assert_true(p90 * 32 >= 9990 * 31 && p90 * 32 <= 9990 * 33);
	/* Outliers move the median by at most one bucket. */
	for (i = 0; i < 10; i++)
		exit_hist_add(h, 50000000);
	assert_true(exit_hist_percentile(h, 50) <= p50 + 256);
	assert_true(exit_hist_percentile(h, 100) >= 48000000);
	free(h);
}

static void test_kind_of(void **state)
{
	(void)state;
	assert_int_equal(exit_kind_of(KVM_EXIT_IO), EXIT_KIND_IO);
	assert_int_equal(exit_kind_of(KVM_EXIT_MMIO), EXIT_KIND_MMIO);
	assert_int_equal(exit_kind_of(KVM_EXIT_HLT), EXIT_KIND_OTHER);
	assert_int_equal(exit_kind_of(KVM_EXIT_INTR), EXIT_KIND_OTHER);
	assert_int_equal(exit_kind_of(12345), EXIT_KIND_OTHER);
	assert_string_equal(exit_kind_name(EXIT_KIND_IO), "io");
	assert_string_equal(exit_kind_name(EXIT_KIND_MMIO), "mmio");
	assert_string_equal(exit_kind_name(EXIT_KIND_OTHER), "other");
}

static void test_format(void **state)
{
	struct exit_timing *t = calloc(1, sizeof(*t));
	char buf[256], small[20];
	int i, n;

	(void)state;
	for (i = 0; i < 3; i++)
		exit_hist_add(&t->kind[EXIT_KIND_IO], 5);
	exit_hist_add(&t->kind[EXIT_KIND_MMIO], 8);
	n = exit_timing_format(t, 3, buf, sizeof(buf));
	assert_string_equal(buf,
		"wisp: vcpu3 exits: io 3 (median 5 ns, p90 5 ns), "
		"mmio 1 (median 8 ns, p90 8 ns), other 0\n");
	assert_int_equal(n, (int)strlen(buf));
	/* With the clock's cost measured. */
	exit_hist_add(&t->clock, 20);
	exit_hist_add(&t->clock, 40);
	exit_hist_add(&t->clock, 24);
	n = exit_timing_format(t, 0, buf, sizeof(buf));
	assert_string_equal(buf,
		"wisp: vcpu0 exits: io 3 (median 5 ns, p90 5 ns), "
		"mmio 1 (median 8 ns, p90 8 ns), other 0; clock read 24 ns\n");
	assert_int_equal(n, (int)strlen(buf));
	/* Too small a buffer: truncated, terminated, full length returned. */
	assert_int_equal(exit_timing_format(t, 0, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, buf, sizeof(small) - 1);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_bounds),
		cmocka_unit_test(test_bucket_clamps),
		cmocka_unit_test(test_percentile_empty),
		cmocka_unit_test(test_percentile_exact),
		cmocka_unit_test(test_percentile_relative_error),
		cmocka_unit_test(test_kind_of),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
