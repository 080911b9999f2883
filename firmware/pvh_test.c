// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the PVH start-info builder (firmware/pvh.c).  The checks
 * decode the output bytes little-endian at the ABI's offsets rather than
 * through the builder's own structs, so a layout change shows up here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "le.h"
#include "memmap.h"
#include "pvh.h"

/* The layout of the PVH boot ABI (Xen's arch-x86/hvm/start_info.h). */
_Static_assert(sizeof(struct hvm_start_info) == 56, "start info size");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "modlist size");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap size");
_Static_assert(offsetof(struct hvm_start_info, modlist_paddr) == 16, "");
_Static_assert(offsetof(struct hvm_start_info, cmdline_paddr) == 24, "");
_Static_assert(offsetof(struct hvm_start_info, rsdp_paddr) == 32, "");
_Static_assert(offsetof(struct hvm_start_info, memmap_paddr) == 40, "");
_Static_assert(offsetof(struct hvm_start_info, memmap_entries) == 48, "");
_Static_assert(offsetof(struct hvm_memmap_table_entry, type) == 16, "");
_Static_assert(offsetof(struct hvm_modlist_entry, cmdline_paddr) == 16, "");

/* Byte offsets, as a guest reads them. */
#define SI_MAGIC		0
#define SI_VERSION		4
#define SI_FLAGS		8
#define SI_NR_MODULES		12
#define SI_MODLIST_PADDR	16
#define SI_CMDLINE_PADDR	24
#define SI_RSDP_PADDR		32
#define SI_MEMMAP_PADDR		40
#define SI_MEMMAP_ENTRIES	48
#define SI_RESERVED		52
#define SI_SIZE			56
#define MOD_SIZE		32
#define MM_SIZE			24

#define BUF_PADDR	0x6000ULL
#define BUF_SIZE	4096
#define FILL		0xa7

static const struct memmap_entry two_gib_map[] = {
	{ 0, 0x9fc00, MEMMAP_RAM },
	{ 0x9fc00, 0x60400, MEMMAP_RESERVED },
	{ 0x100000, 0x7ff00000, MEMMAP_RAM },
	{ 0xfee00000, 0x1000, MEMMAP_ACPI },
};

#define MAP_N (sizeof(two_gib_map) / sizeof(two_gib_map[0]))

static void expect_memmap(const uint8_t *buf, size_t at,
			  const struct memmap_entry *map, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const uint8_t *e = buf + at + i * MM_SIZE;

		assert_int_equal(le_get(e, 8), map[i].addr);
		assert_int_equal(le_get(e + 8, 8), map[i].size);
		assert_int_equal(le_get(e + 16, 4), map[i].type);
		assert_int_equal(le_get(e + 20, 4), 0);
	}
}

static void test_header_without_initrd(void **state)
{
	uint8_t buf[BUF_SIZE];
	struct pvh_params p = {
		.cmdline_paddr = 0x20000,
		.rsdp_paddr = 0xe0000,
		.memmap = two_gib_map,
		.memmap_entries = MAP_N,
	};
	long used;

	(void)state;
	memset(buf, FILL, sizeof(buf));
	used = pvh_build_start_info(buf, sizeof(buf), BUF_PADDR, &p);
	assert_int_equal(used, SI_SIZE + MAP_N * MM_SIZE);
	assert_int_equal(le_get(buf + SI_MAGIC, 4), 0x336ec578);
	assert_int_equal(le_get(buf + SI_VERSION, 4), 1);
	assert_int_equal(le_get(buf + SI_FLAGS, 4), 0);
	assert_int_equal(le_get(buf + SI_NR_MODULES, 4), 0);
	assert_int_equal(le_get(buf + SI_MODLIST_PADDR, 8), 0);
	assert_int_equal(le_get(buf + SI_CMDLINE_PADDR, 8), 0x20000);
	assert_int_equal(le_get(buf + SI_RSDP_PADDR, 8), 0xe0000);
	assert_int_equal(le_get(buf + SI_MEMMAP_PADDR, 8), BUF_PADDR + SI_SIZE);
	assert_int_equal(le_get(buf + SI_MEMMAP_ENTRIES, 4), MAP_N);
	assert_int_equal(le_get(buf + SI_RESERVED, 4), 0);
	expect_memmap(buf, SI_SIZE, two_gib_map, MAP_N);
}

static void test_header_with_initrd(void **state)
{
	uint8_t buf[BUF_SIZE];
	struct pvh_params p = {
		.cmdline_paddr = 0x20000,
		.rsdp_paddr = 0xe0000,
		.module_paddr = 0x7f000000,
		.module_size = 0x123456,
		.memmap = two_gib_map,
		.memmap_entries = MAP_N,
	};
	long used;

	(void)state;
	memset(buf, FILL, sizeof(buf));
	used = pvh_build_start_info(buf, sizeof(buf), BUF_PADDR, &p);
	assert_int_equal(used, SI_SIZE + MOD_SIZE + MAP_N * MM_SIZE);
	assert_int_equal(le_get(buf + SI_MAGIC, 4), PVH_START_MAGIC);
	assert_int_equal(le_get(buf + SI_VERSION, 4), PVH_START_VERSION);
	assert_int_equal(le_get(buf + SI_NR_MODULES, 4), 1);
	assert_int_equal(le_get(buf + SI_MODLIST_PADDR, 8), BUF_PADDR + SI_SIZE);
	assert_int_equal(le_get(buf + SI_MEMMAP_PADDR, 8),
			 BUF_PADDR + SI_SIZE + MOD_SIZE);
	assert_int_equal(le_get(buf + SI_MEMMAP_ENTRIES, 4), MAP_N);
	/* The module entry: the initrd, no command line. */
	assert_int_equal(le_get(buf + SI_SIZE, 8), 0x7f000000);
	assert_int_equal(le_get(buf + SI_SIZE + 8, 8), 0x123456);
	assert_int_equal(le_get(buf + SI_SIZE + 16, 8), 0);
	assert_int_equal(le_get(buf + SI_SIZE + 24, 8), 0);
	expect_memmap(buf, SI_SIZE + MOD_SIZE, two_gib_map, MAP_N);
}

static void test_module_needs_a_size(void **state)
{
	uint8_t buf[BUF_SIZE];
	struct pvh_params p = {
		.module_paddr = 0x7f000000,	/* but module_size 0 */
		.memmap = two_gib_map,
		.memmap_entries = 1,
	};

	(void)state;
	assert_int_equal(pvh_build_start_info(buf, sizeof(buf), 0, &p),
			 SI_SIZE + MM_SIZE);
	assert_int_equal(le_get(buf + SI_NR_MODULES, 4), 0);
	assert_int_equal(le_get(buf + SI_MODLIST_PADDR, 8), 0);
	assert_int_equal(le_get(buf + SI_CMDLINE_PADDR, 8), 0);
	assert_int_equal(le_get(buf + SI_RSDP_PADDR, 8), 0);
	assert_int_equal(le_get(buf + SI_MEMMAP_PADDR, 8), SI_SIZE);
	expect_memmap(buf, SI_SIZE, two_gib_map, 1);
}

static void test_rest_of_buffer_zeroed(void **state)
{
	uint8_t buf[512];
	struct pvh_params p = {
		.module_paddr = 0x1000000,
		.module_size = 1,
		.memmap = two_gib_map,
		.memmap_entries = 2,
	};
	long used, i;

	(void)state;
	memset(buf, FILL, sizeof(buf));
	used = pvh_build_start_info(buf, sizeof(buf), BUF_PADDR, &p);
	assert_int_equal(used, SI_SIZE + MOD_SIZE + 2 * MM_SIZE);
	for (i = used; i < (long)sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
}

static void test_with_built_memmap(void **state)
{
	struct memmap_entry map[6];
	uint8_t buf[BUF_SIZE];
	struct pvh_params p = { .memmap = map };
	int n;

	(void)state;
	n = memmap_build(map, 6, 3ULL << 30, 4ULL << 30, 1ULL << 30);
	assert_int_equal(n, 6);
	p.memmap_entries = n;
	assert_int_equal(pvh_build_start_info(buf, sizeof(buf), 0x7000, &p),
			 SI_SIZE + 6 * MM_SIZE);
	assert_int_equal(le_get(buf + SI_MEMMAP_PADDR, 8), 0x7000 + SI_SIZE);
	assert_int_equal(le_get(buf + SI_MEMMAP_ENTRIES, 4), 6);
	expect_memmap(buf, SI_SIZE, map, 6);
	/* The ACPI tables' window, and the high RAM entry, spelled out. */
	assert_int_equal(le_get(buf + SI_SIZE + 2 * MM_SIZE, 8), 0xe0000);
	assert_int_equal(le_get(buf + SI_SIZE + 2 * MM_SIZE + 16, 4), 3);
	assert_int_equal(le_get(buf + SI_SIZE + 5 * MM_SIZE, 8), 0x100000000ULL);
	assert_int_equal(le_get(buf + SI_SIZE + 5 * MM_SIZE + 8, 8),
			 0x40000000ULL);
	assert_int_equal(le_get(buf + SI_SIZE + 5 * MM_SIZE + 16, 4), 1);
}

static void test_enospc(void **state)
{
	uint8_t buf[BUF_SIZE];
	struct pvh_params p = {
		.module_paddr = 0x7f000000,
		.module_size = 4096,
		.memmap = two_gib_map,
		.memmap_entries = MAP_N,
	};
	size_t need = SI_SIZE + MOD_SIZE + MAP_N * MM_SIZE;
	size_t i;

	(void)state;
	memset(buf, FILL, sizeof(buf));
	assert_int_equal(pvh_build_start_info(buf, need - 1, BUF_PADDR, &p),
			 -ENOSPC);
	assert_int_equal(pvh_build_start_info(buf, 0, BUF_PADDR, &p),
			 -ENOSPC);
	assert_int_equal(pvh_build_start_info(buf, SI_SIZE, BUF_PADDR, &p),
			 -ENOSPC);
	/* Nothing written on failure. */
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], FILL);
	/* Without the module, the same size fits. */
	p.module_size = 0;
	assert_int_equal(pvh_build_start_info(buf, need - MOD_SIZE, BUF_PADDR,
					      &p), need - MOD_SIZE);
	assert_int_equal(pvh_build_start_info(buf, need - MOD_SIZE - 1,
					      BUF_PADDR, &p), -ENOSPC);
	/* Exactly enough room is enough, and nothing is written beyond. */
	p.module_size = 4096;
	memset(buf, FILL, sizeof(buf));
	assert_int_equal(pvh_build_start_info(buf, need, BUF_PADDR, &p),
			 need);
	for (i = need; i < sizeof(buf); i++)
		assert_int_equal(buf[i], FILL);
}

static void test_empty_memmap(void **state)
{
	uint8_t buf[SI_SIZE];
	struct pvh_params p = { .memmap = NULL, .memmap_entries = 0 };

	(void)state;
	assert_int_equal(pvh_build_start_info(buf, sizeof(buf), BUF_PADDR, &p),
			 SI_SIZE);
	assert_int_equal(le_get(buf + SI_MAGIC, 4), PVH_START_MAGIC);
	assert_int_equal(le_get(buf + SI_MEMMAP_ENTRIES, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_without_initrd),
		cmocka_unit_test(test_header_with_initrd),
		cmocka_unit_test(test_module_needs_a_size),
		cmocka_unit_test(test_rest_of_buffer_zeroed),
		cmocka_unit_test(test_with_built_memmap),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_empty_memmap),
	};

	return cmocka_run_group_tests_name("pvh", tests, NULL, NULL);
}
