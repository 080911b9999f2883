// SPDX-License-Identifier: Apache-2.0
/* The guest RAM layout and the checked translator, at every edge. */
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "memory.h"

/* A fake host base: the translator only does arithmetic on it. */
#define HOST	((uint8_t *)(uintptr_t)0x100000000000ULL)
#define GiB	(1ULL << 30)
#define MiB	(1ULL << 20)

static uintptr_t ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return (uintptr_t)guest_ptr(m, gpa, len);
}

/* Every byte of a page counts, the first and the last included. */
static void test_page_is_zero(void **state)
{
	static uint8_t page[4096] __attribute__((aligned(8)));
	unsigned int off;

	(void)state;
	assert_true(guest_page_is_zero(page));
	for (off = 0; off < sizeof(page); off++) {
		page[off] = 0x80;
		if (guest_page_is_zero(page))
			fail_msg("byte %u set, the page reads as zeros", off);
		page[off] = 0;
	}
	assert_true(guest_page_is_zero(page));
}

static void test_small_layout(void **state)
{
	struct guest_mem m;

	(void)state;
	guest_mem_layout(&m, HOST, 256 * MiB);
	assert_int_equal(m.n_regions, 1);
	assert_int_equal(m.regions[0].gpa, 0);
	assert_int_equal(m.regions[0].size, 256 * MiB);
	assert_int_equal(guest_low_ram_size(&m), 256 * MiB);

	assert_int_equal(ptr(&m, 0, 0), (uintptr_t)HOST);
	assert_int_equal(ptr(&m, 0, 256 * MiB), (uintptr_t)HOST);
	assert_int_equal(ptr(&m, 256 * MiB - 1, 1), (uintptr_t)HOST + 256 * MiB - 1);
	assert_int_equal(ptr(&m, 256 * MiB - 8, 8), (uintptr_t)HOST + 256 * MiB - 8);
	assert_int_equal(ptr(&m, 256 * MiB - 8, 9), 0);
	assert_int_equal(ptr(&m, 256 * MiB, 0), 0);
	assert_int_equal(ptr(&m, 256 * MiB, 1), 0);
	assert_int_equal(ptr(&m, 0, 256 * MiB + 1), 0);
	/* Overflowing inputs never wrap into RAM. */
	assert_int_equal(ptr(&m, UINT64_MAX, 2), 0);
	assert_int_equal(ptr(&m, 16, UINT64_MAX), 0);
	assert_int_equal(ptr(&m, UINT64_MAX - 15, 32), 0);
	assert_int_equal(ptr(&m, 0xfee00000, 4), 0);
}

static void test_split_layout(void **state)
{
	struct guest_mem m;
	const uint64_t hole = GUEST_MMIO_HOLE_START, high = GUEST_HIGH_RAM_START;

	(void)state;
	guest_mem_layout(&m, HOST, 5 * GiB);
	assert_int_equal(m.n_regions, 2);
	assert_int_equal(m.regions[0].size, 3 * GiB);
	assert_int_equal(m.regions[1].gpa, 4 * GiB);
	assert_int_equal(m.regions[1].size, 2 * GiB);

	assert_int_equal(ptr(&m, hole - 4, 4), (uintptr_t)HOST + hole - 4);
	/* Nothing in the hole, nothing across it. */
	assert_int_equal(ptr(&m, hole, 1), 0);
	assert_int_equal(ptr(&m, hole - 4, 8), 0);
	assert_int_equal(ptr(&m, 0xfeb00000, 4), 0);
	assert_int_equal(ptr(&m, high - 1, 2), 0);
	/* High RAM continues the host mapping right after low RAM. */
	assert_int_equal(ptr(&m, high, 8), (uintptr_t)HOST + 3 * GiB);
	assert_int_equal(ptr(&m, high + 2 * GiB - 1, 1), (uintptr_t)HOST + 5 * GiB - 1);
	assert_int_equal(ptr(&m, high + 2 * GiB - 1, 2), 0);
	assert_int_equal(ptr(&m, high + 2 * GiB, 0), 0);
	assert_int_equal(ptr(&m, high, 2 * GiB), (uintptr_t)HOST + 3 * GiB);
	assert_int_equal(ptr(&m, high, 2 * GiB + 1), 0);
	assert_int_equal(ptr(&m, 0, 5 * GiB), 0);
}

static void test_exactly_3g(void **state)
{
	struct guest_mem m;

	(void)state;
	guest_mem_layout(&m, HOST, 3 * GiB);
	assert_int_equal(m.n_regions, 1);
	assert_int_equal(ptr(&m, 3 * GiB - 1, 1), (uintptr_t)HOST + 3 * GiB - 1);
	assert_int_equal(ptr(&m, 4 * GiB, 1), 0);
}

static void test_real_mapping(void **state)
{
	struct wisp_err err = { 0 };
	struct guest_mem m;
	uint8_t *p;

	(void)state;
	assert_int_equal(guest_mem_map(&m, 64 * MiB, false, &err), 0);
	assert_true(m.mapped);
	assert_false(m.hugetlb);
	p = guest_ptr(&m, 0x100000, 4096);
	assert_non_null(p);
	p[0] = 0x5a;
	assert_int_equal(m.base[0x100000], 0x5a);
	guest_mem_unmap(&m);
	assert_int_equal(m.n_regions, 0);
	assert_null(guest_ptr(&m, 0, 1));
}

/* Is [start, end) exactly one mapping in /proc/self/maps? */
static bool mapped_exactly(uintptr_t start, uintptr_t end)
{
	char want[64], line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	snprintf(want, sizeof(want), "%lx-%lx ", (unsigned long)start,
		 (unsigned long)end);
	while (fgets(line, sizeof(line), f))
		found |= !strncmp(line, want, strlen(want));
	fclose(f);
	return found;
}

static void test_mapping_2m_aligned(void **state)
{
	static const uint64_t sizes[] = { 16 * MiB, 17 * MiB, 64 * MiB + 4096 };
	struct wisp_err err = { 0 };
	struct guest_mem m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(guest_mem_map(&m, sizes[i], false, &err), 0);
		/* KVM and THP need host and guest addresses congruent mod 2 MiB. */
		assert_int_equal((uintptr_t)m.base & (2 * MiB - 1), 0);
		/* The slack around it is given back: one mapping, no more. */
		assert_true(mapped_exactly((uintptr_t)m.base,
					   (uintptr_t)m.base + sizes[i]));
		guest_mem_unmap(&m);
	}
}

/* Is every byte of [p, p + len) @v? */
static bool all_bytes(const uint8_t *p, uint64_t len, uint8_t v)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* 4 KiB backing: whole pages inside the range go, the rest stays. */
static void test_discard(void **state)
{
	struct wisp_err err = { 0 };
	struct guest_mem m;

	(void)state;
	assert_int_equal(guest_mem_map(&m, 16 * MiB, false, &err), 0);
	memset(m.base, 0xaa, 16 * MiB);
	/* [4 KiB + 100, 5 * 4 KiB + 100): pages 2-4 only. */
	assert_int_equal(guest_mem_discard(&m, 4096 + 100, 4 * 4096, false),
			 3 * 4096);
	assert_true(all_bytes(m.base, 2 * 4096, 0xaa));
	assert_true(all_bytes(m.base + 2 * 4096, 3 * 4096, 0));
	assert_true(all_bytes(m.base + 5 * 4096, 4096, 0xaa));
	/* Less than a page: nothing. */
	assert_int_equal(guest_mem_discard(&m, 8 * 4096 + 1, 4095, true), 0);
	assert_true(all_bytes(m.base + 8 * 4096, 4096, 0xaa));
	/* Outside RAM, across its end, empty, wrapping: refused. */
	assert_int_equal(guest_mem_discard(&m, 16 * MiB, 4096, true), -EINVAL);
	assert_int_equal(guest_mem_discard(&m, 16 * MiB - 4096, 8192, true),
			 -EINVAL);
	assert_int_equal(guest_mem_discard(&m, 0, 0, true), -EINVAL);
	assert_int_equal(guest_mem_discard(&m, UINT64_MAX - 4095, 8192, true),
			 -EINVAL);
	/* The balloon's pages need no bitmap without hugetlb. */
	assert_null(m.ballooned);
	guest_mem_reclaim(&m, 0, UINT64_MAX);
	guest_mem_unmap(&m);
}

/*
 * hugetlb rules (ordinary pages standing in: madvise zeroes them the same
 * way): the balloon gives a 2 MiB page back only once it holds all 512 of
 * its pages, a page reclaimed in between keeps it, and reported ranges
 * give back only whole 2 MiB pages.
 */
static void test_discard_hugetlb(void **state)
{
	struct wisp_err err = { 0 };
	struct guest_mem m;
	uint64_t i;

	(void)state;
	assert_int_equal(guest_mem_map(&m, 8 * MiB, false, &err), 0);
	m.hugetlb = true;
	memset(m.base, 0xaa, 8 * MiB);
	/* 511 of the 512 pages of [2 MiB, 4 MiB), one by one, twice. */
	for (i = 0; i < 511; i++)
		assert_int_equal(guest_mem_discard(&m, 2 * MiB + i * 4096, 4096,
						   true), 0);
	assert_int_equal(guest_mem_discard(&m, 2 * MiB + 7 * 4096, 4096, true), 0);
	assert_true(all_bytes(m.base + 2 * MiB, 2 * MiB, 0xaa));
	/* The guest takes page 5 back, then the last page goes in: kept. */
	guest_mem_reclaim(&m, 2 * MiB + 5 * 4096, 4096);
	assert_int_equal(guest_mem_discard(&m, 4 * MiB - 4096, 4096, true), 0);
	assert_true(all_bytes(m.base + 2 * MiB, 2 * MiB, 0xaa));
	/* Page 5 back in the balloon: the whole 2 MiB page goes. */
	assert_int_equal(guest_mem_discard(&m, 2 * MiB + 5 * 4096, 4096, true),
			 2 * MiB);
	assert_true(all_bytes(m.base + 2 * MiB, 2 * MiB, 0));
	assert_true(all_bytes(m.base, 2 * MiB, 0xaa));
	assert_true(all_bytes(m.base + 4 * MiB, 4 * MiB, 0xaa));
	/* A run covering [4 MiB, 6 MiB) at once. */
	assert_int_equal(guest_mem_discard(&m, 4 * MiB, 2 * MiB, true), 2 * MiB);
	/* After a reset (all reclaimed), a partial run gives nothing back. */
	guest_mem_reclaim(&m, 0, UINT64_MAX);
	memset(m.base, 0xbb, 8 * MiB);
	assert_int_equal(guest_mem_discard(&m, 6 * MiB, MiB, true), 0);
	assert_int_equal(guest_mem_discard(&m, 2 * MiB, 2 * MiB - 4096, true), 0);
	assert_true(all_bytes(m.base, 8 * MiB, 0xbb));
	/* Reported free ranges: only whole, aligned 2 MiB pages inside. */
	assert_int_equal(guest_mem_discard(&m, MiB, 4 * MiB, false), 2 * MiB);
	assert_true(all_bytes(m.base, 2 * MiB, 0xbb));
	assert_true(all_bytes(m.base + 2 * MiB, 2 * MiB, 0));
	assert_true(all_bytes(m.base + 4 * MiB, 4 * MiB, 0xbb));
	guest_mem_unmap(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_is_zero),
		cmocka_unit_test(test_small_layout),
		cmocka_unit_test(test_split_layout),
		cmocka_unit_test(test_exactly_3g),
		cmocka_unit_test(test_real_mapping),
		cmocka_unit_test(test_mapping_2m_aligned),
		cmocka_unit_test(test_discard),
		cmocka_unit_test(test_discard_hugetlb),
	};

	return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
