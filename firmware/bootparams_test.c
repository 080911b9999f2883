// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the boot_params builder (firmware/bootparams.c).  The
 * constants are checked against the offsets of the kernel's
 * Documentation/arch/x86/boot.rst and zero-page.rst; the output is decoded
 * little-endian at those offsets by this file's own helpers, and compared
 * in full with a page the test builds by hand, so a stray byte anywhere in
 * the 4 KiB shows up.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bootparams.h"
#include "le.h"
#include "memmap.h"

/* zero-page.rst */
_Static_assert(BOOTPARAMS_SIZE == 4096, "the zero page is one page");
_Static_assert(BP_ACPI_RSDP_ADDR == 0x070, "acpi_rsdp_addr");
_Static_assert(BP_EXT_RAMDISK_IMAGE == 0x0c0, "ext_ramdisk_image");
_Static_assert(BP_EXT_RAMDISK_SIZE == 0x0c4, "ext_ramdisk_size");
_Static_assert(BP_EXT_CMD_LINE_PTR == 0x0c8, "ext_cmd_line_ptr");
_Static_assert(BP_E820_ENTRIES == 0x1e8, "e820_entries");
_Static_assert(BP_E820_TABLE == 0x2d0, "e820_table");
_Static_assert(BP_E820_MAX == 128, "E820_MAX_ENTRIES_ZEROPAGE");
/* boot.rst, "The Real-Mode Kernel Header" */
_Static_assert(SH_START == 0x1f1, "the header starts at setup_sects");
_Static_assert(SH_SETUP_SECTS == 0x1f1, "setup_sects");
_Static_assert(SH_BOOT_FLAG == 0x1fe, "boot_flag");
_Static_assert(SH_JUMP == 0x200, "jump");
_Static_assert(SH_HEADER == 0x202, "header");
_Static_assert(SH_VERSION == 0x206, "version");
_Static_assert(SH_TYPE_OF_LOADER == 0x210, "type_of_loader");
_Static_assert(SH_LOADFLAGS == 0x211, "loadflags");
_Static_assert(SH_CODE32_START == 0x214, "code32_start");
_Static_assert(SH_RAMDISK_IMAGE == 0x218, "ramdisk_image");
_Static_assert(SH_RAMDISK_SIZE == 0x21c, "ramdisk_size");
_Static_assert(SH_CMD_LINE_PTR == 0x228, "cmd_line_ptr");
_Static_assert(SH_INITRD_ADDR_MAX == 0x22c, "initrd_addr_max");
_Static_assert(SH_KERNEL_ALIGNMENT == 0x230, "kernel_alignment");
_Static_assert(SH_RELOCATABLE == 0x234, "relocatable_kernel");
_Static_assert(SH_XLOADFLAGS == 0x236, "xloadflags");
_Static_assert(SH_CMDLINE_SIZE == 0x238, "cmdline_size");
_Static_assert(SH_SETUP_DATA == 0x250, "setup_data");
_Static_assert(SH_PREF_ADDRESS == 0x258, "pref_address");
_Static_assert(SH_INIT_SIZE == 0x260, "init_size");
_Static_assert(SH_END_MAX == 0x290, "edd_mbr_sig_buffer follows the header");
_Static_assert(SH_BOOT_FLAG_MAGIC == 0xaa55, "boot_flag value");
_Static_assert(SH_HEADER_MAGIC == 0x53726448, "\"HdrS\"");
_Static_assert(SH_LOADED_HIGH == 0x01, "LOADED_HIGH");
_Static_assert(SH_XLF_KERNEL_64 == 0x0001, "XLF_KERNEL_64");
_Static_assert(SH_LOADER_UNDEFINED == 0xff, "type_of_loader: undefined");
_Static_assert(BZIMAGE_ENTRY64_OFFSET == 0x200, "64-bit entry");

#define SENTINEL_OFFSET	0x1ef	/* zero-page.rst: sentinel, must be 0 */
#define E820_SIZE	20
#define HDR_MAX		(SH_END_MAX - SH_START)
#define FILL		0xa5
#define GUARD		64

#define MiB	(1ULL << 20)
#define GiB	(1ULL << 30)

/* Offsets in the setup header (boot_params) that the builder writes. */
struct field {
	unsigned int off, len;
};

static const struct field loader_fields[] = {
	{ SH_TYPE_OF_LOADER, 1 },
	{ SH_CODE32_START, 4 },
	{ SH_RAMDISK_IMAGE, 4 },
	{ SH_RAMDISK_SIZE, 4 },
	{ SH_CMD_LINE_PTR, 4 },
	{ SH_SETUP_DATA, 8 },
};

static uint64_t get(const uint8_t *page, unsigned int off, unsigned int len)
{
	return le_get(page + off, len);
}

static void put(uint8_t *page, unsigned int off, unsigned int len, uint64_t v)
{
	le_put(page + off, len, v);
}

static int is_loader_field(unsigned int off)
{
	size_t i;

	for (i = 0; i < sizeof(loader_fields) / sizeof(loader_fields[0]); i++)
		if (off >= loader_fields[i].off &&
		    off < loader_fields[i].off + loader_fields[i].len)
			return 1;
	return 0;
}

/*
 * A setup header as a 2.15 bzImage has it (ending at 0x26c), the fields a
 * loader fills in zero, every other byte a pattern no field could match
 * by accident.
 */
#define REAL_HDR_LEN	(0x26c - SH_START)

static void make_header(uint8_t *hdr, size_t len)
{
	uint8_t page[BOOTPARAMS_SIZE] = { 0 };
	size_t i;

	for (i = 0; i < len; i++)
		page[SH_START + i] = (uint8_t)(0x31 + 7 * i);
	put(page, SH_SETUP_SECTS, 1, 0x1b);
	put(page, SH_BOOT_FLAG, 2, SH_BOOT_FLAG_MAGIC);
	put(page, SH_JUMP, 2, 0x66eb);
	put(page, SH_HEADER, 4, SH_HEADER_MAGIC);
	put(page, SH_VERSION, 2, 0x020f);
	for (i = 0; i < sizeof(loader_fields) / sizeof(loader_fields[0]); i++)
		put(page, loader_fields[i].off, loader_fields[i].len, 0);
	put(page, SH_LOADFLAGS, 1, SH_LOADED_HIGH);
	put(page, SH_INITRD_ADDR_MAX, 4, 0x7fffffff);
	put(page, SH_KERNEL_ALIGNMENT, 4, 0x200000);
	put(page, SH_RELOCATABLE, 1, 1);
	put(page, SH_XLOADFLAGS, 2, 0x7f);
	put(page, SH_CMDLINE_SIZE, 4, 0x7ff);
	put(page, SH_PREF_ADDRESS, 8, 0x1000000);
	put(page, SH_INIT_SIZE, 4, 0x2a5c000);
	memcpy(hdr, page + SH_START, len);
}

static struct memmap_entry map[8];

static struct bootparams_config base_config(uint8_t *hdr)
{
	int n;

	make_header(hdr, REAL_HDR_LEN);
	n = memmap_build(map, 8, 512 * MiB, 0, 0);
	assert_int_equal(n, 5);
	return (struct bootparams_config){
		.setup_header = hdr,
		.setup_header_len = REAL_HDR_LEN,
		.kernel_gpa = 0x1000000,
		.cmdline_gpa = 0x20000,
		.initrd_gpa = 0x1f000000,
		.initrd_size = 0x123456,
		.rsdp_gpa = 0xe0000,
		.memmap = map,
		.memmap_entries = (size_t)n,
	};
}

static void build_ok(uint8_t *page, const struct bootparams_config *cfg)
{
	memset(page, FILL, BOOTPARAMS_SIZE);
	assert_int_equal(bootparams_build(page, cfg), 0);
}

static void expect_e820(const uint8_t *page, unsigned int i, uint64_t addr,
			uint64_t size, uint32_t type)
{
	unsigned int off = BP_E820_TABLE + i * E820_SIZE;

	assert_int_equal(get(page, off, 8), addr);
	assert_int_equal(get(page, off + 8, 8), size);
	assert_int_equal(get(page, off + 16, 4), type);
}

static void expect_all(const uint8_t *page, uint8_t value, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		assert_int_equal(page[i], value);
}

/* The whole page against one built by hand from the documented layout. */
static void test_full_page(void **state)
{
	uint8_t hdr[HDR_MAX], page[BOOTPARAMS_SIZE], want[BOOTPARAMS_SIZE];
	struct bootparams_config cfg = base_config(hdr);
	size_t i;

	(void)state;
	build_ok(page, &cfg);

	memset(want, 0, sizeof(want));
	memcpy(want + SH_START, hdr, REAL_HDR_LEN);
	put(want, SH_TYPE_OF_LOADER, 1, 0xff);
	put(want, SH_CODE32_START, 4, 0x1000000);
	put(want, SH_CMD_LINE_PTR, 4, 0x20000);
	put(want, SH_RAMDISK_IMAGE, 4, 0x1f000000);
	put(want, SH_RAMDISK_SIZE, 4, 0x123456);
	put(want, BP_ACPI_RSDP_ADDR, 8, 0xe0000);
	put(want, BP_E820_ENTRIES, 1, 5);
	for (i = 0; i < 5; i++) {
		put(want, BP_E820_TABLE + i * E820_SIZE, 8, map[i].addr);
		put(want, BP_E820_TABLE + i * E820_SIZE + 8, 8, map[i].size);
		put(want, BP_E820_TABLE + i * E820_SIZE + 16, 4, map[i].type);
	}
	assert_memory_equal(page, want, BOOTPARAMS_SIZE);
}

static void test_fields(void **state)
{
	uint8_t hdr[HDR_MAX], page[BOOTPARAMS_SIZE];
	struct bootparams_config cfg = base_config(hdr);

	(void)state;
	build_ok(page, &cfg);
	assert_int_equal(page[SH_TYPE_OF_LOADER], 0xff);
	assert_int_equal(get(page, SH_CODE32_START, 4), 0x1000000);
	assert_int_equal(get(page, SH_CMD_LINE_PTR, 4), 0x20000);
	assert_int_equal(get(page, BP_EXT_CMD_LINE_PTR, 4), 0);
	assert_int_equal(get(page, SH_RAMDISK_IMAGE, 4), 0x1f000000);
	assert_int_equal(get(page, BP_EXT_RAMDISK_IMAGE, 4), 0);
	assert_int_equal(get(page, SH_RAMDISK_SIZE, 4), 0x123456);
	assert_int_equal(get(page, BP_EXT_RAMDISK_SIZE, 4), 0);
	assert_int_equal(get(page, BP_ACPI_RSDP_ADDR, 8), 0xe0000);
	assert_int_equal(get(page, SH_SETUP_DATA, 8), 0);
	/* The image's own fields came through. */
	assert_int_equal(get(page, SH_BOOT_FLAG, 2), 0xaa55);
	assert_int_equal(get(page, SH_HEADER, 4), SH_HEADER_MAGIC);
	assert_int_equal(get(page, SH_VERSION, 2), 0x020f);
	assert_int_equal(get(page, SH_INIT_SIZE, 4), 0x2a5c000);
	assert_int_equal(get(page, SH_XLOADFLAGS, 2), 0x7f);
	/* zero-page.rst: the sentinel must be 0 or the kernel wipes fields. */
	assert_int_equal(page[SENTINEL_OFFSET], 0);
	assert_int_equal(page[0x1f0], 0);
	/* Nothing past the header the image gave. */
	expect_all(page + SH_START + REAL_HDR_LEN, 0, SH_END_MAX - 0x26c);
}

/* Every header byte the image gave is kept, except the loader's fields. */
static void test_header_verbatim(void **state)
{
	uint8_t hdr[HDR_MAX], page[BOOTPARAMS_SIZE];
	struct bootparams_config cfg = base_config(hdr);
	unsigned int off, kept = 0;

	(void)state;
	/* Non-zero everywhere, the loader's fields included. */
	for (off = 0; off < HDR_MAX; off++)
		hdr[off] = (uint8_t)(0x80 | off);
	cfg.setup_header_len = HDR_MAX;
	build_ok(page, &cfg);
	for (off = SH_START; off < SH_END_MAX; off++) {
		if (is_loader_field(off))
			continue;
		assert_int_equal(page[off], hdr[off - SH_START]);
		kept++;
	}
	assert_int_equal(kept, HDR_MAX - 25);
	/* The loader's fields are all overwritten. */
	assert_int_equal(page[SH_TYPE_OF_LOADER], 0xff);
	assert_int_equal(get(page, SH_CODE32_START, 4), 0x1000000);
	assert_int_equal(get(page, SH_RAMDISK_IMAGE, 4), 0x1f000000);
	assert_int_equal(get(page, SH_RAMDISK_SIZE, 4), 0x123456);
	assert_int_equal(get(page, SH_CMD_LINE_PTR, 4), 0x20000);
	assert_int_equal(get(page, SH_SETUP_DATA, 8), 0);
	/* The first byte after the longest header is boot_params' again. */
	assert_int_equal(page[SH_END_MAX], 0);
	assert_int_equal(page[SH_START - 1], 0);
}

/* A header shorter than the loader's fields: those are written anyway. */
static void test_short_header(void **state)
{
	uint8_t hdr[HDR_MAX], page[BOOTPARAMS_SIZE];
	struct bootparams_config cfg = base_config(hdr);

	(void)state;
	cfg.setup_header_len = SH_TYPE_OF_LOADER - SH_START;
	build_ok(page, &cfg);
	assert_memory_equal(page + SH_START, hdr, cfg.setup_header_len);
	assert_int_equal(page[SH_TYPE_OF_LOADER], 0xff);
	assert_int_equal(page[SH_LOADFLAGS], 0);
	assert_int_equal(get(page, SH_CODE32_START, 4), 0x1000000);
	assert_int_equal(get(page, SH_INIT_SIZE, 4), 0);

	cfg.setup_header_len = 0;
	build_ok(page, &cfg);
	assert_int_equal(page[SH_SETUP_SECTS], 0);
	assert_int_equal(get(page, SH_HEADER, 4), 0);
	assert_int_equal(page[SH_TYPE_OF_LOADER], 0xff);
}

static void test_cmdline_high(void **state)
{
	uint8_t hdr[HDR_MAX], page[BOOTPARAMS_SIZE];
	struct bootparams_config cfg = base_config(hdr);

	(void)state;
	cfg.cmdline_gpa = 0x123456789000ULL;
	build_ok(page, &cfg);
	assert_int_equal(get(page, SH_CMD_LINE_PTR, 4), 0x56789000);
	assert_int_equal(get(page, BP_EXT_CMD_LINE_PTR, 4), 0x1234);

	/* Just below and just at 4 GiB. */
	cfg.cmdline_gpa = 0xfffff000;
	build_ok(page, &cfg);
	assert_int_equal(get(page, SH_CMD_LINE_PTR, 4), 0xfffff000);
	assert_int_equal(get(page, BP_EXT_CMD_LINE_PTR, 4), 0);
	cfg.cmdline_gpa = 4 * GiB;
	build_ok(page, &cfg);
	assert_int_equal(get(page, SH_CMD_LINE_PTR, 4), 0);
	assert_int_equal(get(page, BP_EXT_CMD_LINE_PTR, 4), 1);
}

static void test_no_cmdline(void **state)
{
	uint8_t hdr[HDR_MAX], page[BOOTPARAMS_SIZE];
	struct bootparams_config cfg = base_config(hdr);

	(void)state;
	cfg.cmdline_gpa = 0;
	build_ok(page, &cfg);
	assert_int_equal(get(page, SH_CMD_LINE_PTR, 4), 0);
	assert_int_equal(get(page, BP_EXT_CMD_LINE_PTR, 4), 0);
}

static void test_initrd_high(void **state)
{
	uint8_t hdr[HDR_MAX], page[BOOTPARAMS_SIZE];
	struct bootparams_config cfg = base_config(hdr);

	(void)state;
	/* Address above 4 GiB, size below. */
	cfg.initrd_gpa = 0x2c0000000ULL;
	cfg.initrd_size = 0x800000;
	build_ok(page, &cfg);
	assert_int_equal(get(page, SH_RAMDISK_IMAGE, 4), 0xc0000000);
	assert_int_equal(get(page, BP_EXT_RAMDISK_IMAGE, 4), 2);
	assert_int_equal(get(page, SH_RAMDISK_SIZE, 4), 0x800000);
	assert_int_equal(get(page, BP_EXT_RAMDISK_SIZE, 4), 0);

	/* Size above 4 GiB too. */
	cfg.initrd_gpa = 0x100000000ULL;
	cfg.initrd_size = 0x300001000ULL;
	build_ok(page, &cfg);
	assert_int_equal(get(page, SH_RAMDISK_IMAGE, 4), 0);
	assert_int_equal(get(page, BP_EXT_RAMDISK_IMAGE, 4), 1);
	assert_int_equal(get(page, SH_RAMDISK_SIZE, 4), 0x1000);
	assert_int_equal(get(page, BP_EXT_RAMDISK_SIZE, 4), 3);

	/* Both below: the ext_ fields stay 0. */
	cfg.initrd_gpa = 0xbff00000;
	cfg.initrd_size = 0xffffffff;
	build_ok(page, &cfg);
	assert_int_equal(get(page, SH_RAMDISK_IMAGE, 4), 0xbff00000);
	assert_int_equal(get(page, BP_EXT_RAMDISK_IMAGE, 4), 0);
	assert_int_equal(get(page, SH_RAMDISK_SIZE, 4), 0xffffffff);
	assert_int_equal(get(page, BP_EXT_RAMDISK_SIZE, 4), 0);
}

static void test_no_initrd(void **state)
{
	uint8_t hdr[HDR_MAX], page[BOOTPARAMS_SIZE];
	struct bootparams_config cfg = base_config(hdr);

	(void)state;
	/* Size 0 means no initrd, whatever the address says. */
	cfg.initrd_gpa = 0x1234567000ULL;
	cfg.initrd_size = 0;
	build_ok(page, &cfg);
	assert_int_equal(get(page, SH_RAMDISK_IMAGE, 4), 0);
	assert_int_equal(get(page, SH_RAMDISK_SIZE, 4), 0);
	assert_int_equal(get(page, BP_EXT_RAMDISK_IMAGE, 4), 0);
	assert_int_equal(get(page, BP_EXT_RAMDISK_SIZE, 4), 0);
}

static void test_rsdp(void **state)
{
	uint8_t hdr[HDR_MAX], page[BOOTPARAMS_SIZE];
	struct bootparams_config cfg = base_config(hdr);

	(void)state;
	cfg.rsdp_gpa = 0x1122334455667788ULL;
	build_ok(page, &cfg);
	assert_int_equal(get(page, BP_ACPI_RSDP_ADDR, 8), 0x1122334455667788ULL);
	assert_int_equal(page[BP_ACPI_RSDP_ADDR - 1], 0);
	assert_int_equal(page[BP_ACPI_RSDP_ADDR + 8], 0);
	cfg.rsdp_gpa = 0;
	build_ok(page, &cfg);
	assert_int_equal(get(page, BP_ACPI_RSDP_ADDR, 8), 0);
}

/* The memory map of a guest with RAM above 4 GiB, as memmap_build has it. */
static void test_e820(void **state)
{
	uint8_t hdr[HDR_MAX], page[BOOTPARAMS_SIZE];
	struct bootparams_config cfg = base_config(hdr);
	int n;

	(void)state;
	n = memmap_build(map, 8, 3 * GiB, 4 * GiB, 2 * GiB);
	assert_int_equal(n, 6);
	cfg.memmap_entries = (size_t)n;
	build_ok(page, &cfg);
	assert_int_equal(page[BP_E820_ENTRIES], 6);
	expect_e820(page, 0, 0, 0x9fc00, 1);
	expect_e820(page, 1, 0x9fc00, 0xe0000 - 0x9fc00, 2);
	expect_e820(page, 2, 0xe0000, 0x10000, 3);
	expect_e820(page, 3, 0xf0000, 0x10000, 2);
	expect_e820(page, 4, 0x100000, 3 * GiB - 0x100000, 1);
	expect_e820(page, 5, 4 * GiB, 2 * GiB, 1);
	/* Packed at 20 bytes: entry 2's type ends where entry 3 begins. */
	assert_int_equal(get(page, BP_E820_TABLE + 2 * E820_SIZE + 16, 4), 3);
	assert_int_equal(get(page, BP_E820_TABLE + 3 * E820_SIZE, 8), 0xf0000);
	/* Nothing after the last entry, to the end of the page. */
	expect_all(page + BP_E820_TABLE + 6 * E820_SIZE, 0,
		   BOOTPARAMS_SIZE - BP_E820_TABLE - 6 * E820_SIZE);
	/* Nor between e820_entries and the sentinel. */
	expect_all(page + BP_E820_ENTRIES + 1, 0, SH_START - BP_E820_ENTRIES - 1);

	cfg.memmap_entries = 0;
	build_ok(page, &cfg);
	assert_int_equal(page[BP_E820_ENTRIES], 0);
	expect_all(page + BP_E820_TABLE, 0, BOOTPARAMS_SIZE - BP_E820_TABLE);
}

static struct memmap_entry *many_entries(size_t n)
{
	struct memmap_entry *m = calloc(n, sizeof(*m));
	size_t i;

	assert_non_null(m);
	for (i = 0; i < n; i++)
		m[i] = (struct memmap_entry){
			.addr = 0x100000000ULL * i + i,
			.size = 0x1000 + i,
			.type = (uint32_t)(i % 3 + 1),
		};
	return m;
}

static void test_e820_max_fits(void **state)
{
	uint8_t hdr[HDR_MAX], buf[BOOTPARAMS_SIZE + GUARD];
	struct bootparams_config cfg = base_config(hdr);
	struct memmap_entry *m = many_entries(BP_E820_MAX);
	unsigned int i;

	(void)state;
	/* The last entry ends inside the page. */
	assert_true(BP_E820_TABLE + BP_E820_MAX * E820_SIZE <= BOOTPARAMS_SIZE);
	cfg.memmap = m;
	cfg.memmap_entries = BP_E820_MAX;
	memset(buf, FILL, sizeof(buf));
	assert_int_equal(bootparams_build(buf, &cfg), 0);
	assert_int_equal(buf[BP_E820_ENTRIES], BP_E820_MAX);
	for (i = 0; i < BP_E820_MAX; i++)
		expect_e820(buf, i, m[i].addr, m[i].size, m[i].type);
	expect_all(buf + BP_E820_TABLE + BP_E820_MAX * E820_SIZE, 0,
		   BOOTPARAMS_SIZE - BP_E820_TABLE - BP_E820_MAX * E820_SIZE);
	/* Not a byte past the page. */
	expect_all(buf + BOOTPARAMS_SIZE, FILL, GUARD);
	free(m);
}

static void test_errors_leave_page(void **state)
{
	uint8_t hdr[HDR_MAX + 1], page[BOOTPARAMS_SIZE];
	struct bootparams_config cfg = base_config(hdr);
	struct memmap_entry *m = many_entries(BP_E820_MAX + 1);

	(void)state;
	memset(hdr, 0x77, sizeof(hdr));

	/* One byte more than there is room for. */
	cfg.setup_header_len = HDR_MAX + 1;
	memset(page, FILL, sizeof(page));
	assert_int_equal(bootparams_build(page, &cfg), -EINVAL);
	expect_all(page, FILL, sizeof(page));
	cfg.setup_header_len = HDR_MAX;
	build_ok(page, &cfg);
	assert_int_equal(page[SH_END_MAX - 1], 0x77);
	assert_int_equal(page[SH_END_MAX], 0);

	cfg.memmap = m;
	cfg.memmap_entries = BP_E820_MAX + 1;
	memset(page, FILL, sizeof(page));
	assert_int_equal(bootparams_build(page, &cfg), -ENOSPC);
	expect_all(page, FILL, sizeof(page));

	/* Both wrong: still untouched. */
	cfg.setup_header_len = HDR_MAX + 1;
	assert_true(bootparams_build(page, &cfg) < 0);
	expect_all(page, FILL, sizeof(page));
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_page),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_header_verbatim),
		cmocka_unit_test(test_short_header),
		cmocka_unit_test(test_cmdline_high),
		cmocka_unit_test(test_no_cmdline),
		cmocka_unit_test(test_initrd_high),
		cmocka_unit_test(test_no_initrd),
		cmocka_unit_test(test_rsdp),
		cmocka_unit_test(test_e820),
		cmocka_unit_test(test_e820_max_fits),
		cmocka_unit_test(test_errors_leave_page),
	};

	return cmocka_run_group_tests_name("bootparams", tests, NULL, NULL);
}
