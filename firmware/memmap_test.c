// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the guest memory map builder (firmware/memmap.c): the
 * exact entries for guests below and above 3 GiB, and the error paths.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "memmap.h"

#define KiB	1024ULL
#define MiB	(1024 * KiB)
#define GiB	(1024 * MiB)

#define SENTINEL 0x5a

static void expect_entry(const struct memmap_entry *e, uint64_t addr,
			 uint64_t size, uint32_t type)
{
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->size, size);
	assert_int_equal(e->type, type);
}

static void expect_untouched(const struct memmap_entry *e, size_t n)
{
	const uint8_t *p = (const uint8_t *)e;
	size_t i;

	for (i = 0; i < n * sizeof(*e); i++)
		assert_int_equal(p[i], SENTINEL);
}

/* map[1..3]: reserved, the ACPI tables' window, reserved, up to 1 MiB. */
static void expect_low_hole(const struct memmap_entry *map)
{
	expect_entry(&map[1], 0x9fc00, 0xe0000 - 0x9fc00, MEMMAP_RESERVED);
	expect_entry(&map[2], 0xe0000, 0x10000, MEMMAP_ACPI);
	expect_entry(&map[3], 0xf0000, 0x10000, MEMMAP_RESERVED);
}

static void test_constants(void **state)
{
	(void)state;
	assert_int_equal(MEMMAP_RAM, 1);
	assert_int_equal(MEMMAP_RESERVED, 2);
	assert_int_equal(MEMMAP_ACPI, 3);
	assert_int_equal(MEMMAP_LOW_RAM_END, 0x9fc00);
	assert_int_equal(MEMMAP_HIGH_START, 0x100000);
	assert_int_equal(MEMMAP_ACPI_START, 0xe0000);
	assert_int_equal(MEMMAP_ACPI_END, 0xf0000);
}

static void test_512m_below_4g(void **state)
{
	struct memmap_entry map[8];

	(void)state;
	memset(map, SENTINEL, sizeof(map));
	assert_int_equal(memmap_build(map, 8, 512 * MiB, 0, 0), 5);
	expect_entry(&map[0], 0, 0x9fc00, MEMMAP_RAM);
	expect_low_hole(map);
	expect_entry(&map[4], 0x100000, 512 * MiB - 0x100000, MEMMAP_RAM);
	/* Room beyond what was used stays as it was. */
	expect_untouched(&map[5], 3);
}

static void test_3g_exactly_below(void **state)
{
	struct memmap_entry map[5];

	(void)state;
	assert_int_equal(memmap_build(map, 5, 3 * GiB, 0, 0), 5);
	expect_entry(&map[0], 0, 0x9fc00, MEMMAP_RAM);
	expect_low_hole(map);
	expect_entry(&map[4], 0x100000, 3 * GiB - 0x100000, MEMMAP_RAM);
}

static void test_4g_split_around_hole(void **state)
{
	struct memmap_entry map[6];

	(void)state;
	/* 4 GiB of RAM: 3 GiB below the PCI hole, 1 GiB from 4 GiB up. */
	assert_int_equal(memmap_build(map, 6, 3 * GiB, 4 * GiB, 1 * GiB), 6);
	expect_entry(&map[0], 0, 0x9fc00, MEMMAP_RAM);
	expect_low_hole(map);
	expect_entry(&map[4], 0x100000, 0xbff00000ULL, MEMMAP_RAM);
	expect_entry(&map[5], 0x100000000ULL, 0x40000000ULL, MEMMAP_RAM);
}

static void test_large_high_ram(void **state)
{
	struct memmap_entry map[8];
	uint64_t ram = 0;
	int i, n;

	(void)state;
	n = memmap_build(map, 8, 3 * GiB, 4 * GiB, 61 * GiB);
	assert_int_equal(n, 6);
	expect_entry(&map[5], 4 * GiB, 61 * GiB, MEMMAP_RAM);
	/* The RAM entries add up to what the guest has, less the BIOS hole. */
	for (i = 0; i < n; i++)
		if (map[i].type == MEMMAP_RAM)
			ram += map[i].size;
	assert_int_equal(ram, 64 * GiB - 0x60400);
	/* Sorted and not overlapping. */
	for (i = 1; i < n; i++)
		assert_true(map[i].addr >= map[i - 1].addr + map[i - 1].size);
}

static void test_minimum_low_size(void **state)
{
	struct memmap_entry map[6];
	uint64_t ram = 0;
	int i, n;

	(void)state;
	n = memmap_build(map, 6, 1 * MiB, 0, 0);
	assert_int_equal(n, 4);		/* no empty RAM entry above 1 MiB */
	expect_entry(&map[0], 0, 0x9fc00, MEMMAP_RAM);
	expect_low_hole(map);
	for (i = 0; i < n; i++)
		if (map[i].type == MEMMAP_RAM)
			ram += map[i].size;
	assert_int_equal(ram, 0x9fc00);
}

static void test_einval_below_1m(void **state)
{
	struct memmap_entry map[4];

	(void)state;
	memset(map, SENTINEL, sizeof(map));
	assert_int_equal(memmap_build(map, 4, 0, 0, 0), -EINVAL);
	assert_int_equal(memmap_build(map, 4, 0x9fc00, 0, 0), -EINVAL);
	assert_int_equal(memmap_build(map, 4, 1 * MiB - 1, 0, 0), -EINVAL);
	assert_int_equal(memmap_build(map, 4, 640 * KiB, 4 * GiB, GiB),
			 -EINVAL);
	/* A bad size is reported as such even when room is short too. */
	assert_int_equal(memmap_build(map, 0, 0, 0, 0), -EINVAL);
	expect_untouched(map, 4);
}

static void test_bad_high_range(void **state)
{
	struct memmap_entry map[4];

	(void)state;
	/* High RAM overlapping low RAM, or wrapping, is refused. */
	assert_int_equal(memmap_build(map, 4, 512 * MiB, 256 * MiB, MiB), -EINVAL);
	assert_int_equal(memmap_build(map, 4, 512 * MiB, UINT64_MAX - MiB,
				      2 * MiB), -EINVAL);
}

static void test_enospc(void **state)
{
	struct memmap_entry map[6];

	(void)state;
	memset(map, SENTINEL, sizeof(map));
	assert_int_equal(memmap_build(map, 0, 512 * MiB, 0, 0), -ENOSPC);
	assert_int_equal(memmap_build(map, 4, 512 * MiB, 0, 0), -ENOSPC);
	assert_int_equal(memmap_build(map, 5, 3 * GiB, 4 * GiB, GiB),
			 -ENOSPC);
	/* Nothing written on failure, not even a partial map. */
	expect_untouched(map, 6);
	/* Exactly enough room is enough. */
	assert_int_equal(memmap_build(map, 5, 512 * MiB, 0, 0), 5);
	assert_int_equal(memmap_build(map, 6, 3 * GiB, 4 * GiB, GiB), 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_512m_below_4g),
		cmocka_unit_test(test_3g_exactly_below),
		cmocka_unit_test(test_4g_split_around_hole),
		cmocka_unit_test(test_large_high_ram),
		cmocka_unit_test(test_minimum_low_size),
		cmocka_unit_test(test_einval_below_1m),
		cmocka_unit_test(test_bad_high_range),
		cmocka_unit_test(test_enospc),
	};

	return cmocka_run_group_tests_name("memmap", tests, NULL, NULL);
}
