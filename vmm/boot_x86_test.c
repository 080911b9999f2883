// SPDX-License-Identifier: Apache-2.0
/*
 * PVH and Linux (bzImage) boot data as the guest will read it from its
 * RAM.  boot_params fields are decoded little-endian at the boot protocol's
 * offsets (Documentation/arch/x86/boot.rst, zero-page.rst).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../firmware/acpi.h"
#include "../firmware/bootparams.h"
#include "../firmware/le.h"
#include "../firmware/longmode.h"
#include "../firmware/pvh.h"
#include "boot_x86.h"

#define MEM(bytes, len)	(&IMAGE_IN_MEMORY(bytes, len))

#define RAM_SIZE	(64ULL << 20)
#define MiB		(1ULL << 20)
#define GiB		(1ULL << 30)

static const struct kernel_image kernel = {
	.entry = 0x100010, .lowest = 0x100000, .highest = 0x180000,
};

static void read_info(const struct guest_mem *m, struct hvm_start_info *info)
{
	memcpy(info, guest_ptr(m, BOOT_START_INFO_GPA, sizeof(*info)),
	       sizeof(*info));
}

static void test_start_info(void **state)
{
	uint8_t *ram = calloc(1, RAM_SIZE), initrd[5000];
	struct wisp_err err = { 0 };
	struct hvm_memmap_table_entry e[5];
	struct hvm_modlist_entry mod;
	struct hvm_start_info info;
	struct guest_mem m;

	(void)state;
	memset(initrd, 0x7e, sizeof(initrd));
	guest_mem_layout(&m, ram, RAM_SIZE);
	assert_int_equal(boot_pvh_prepare(&m, &kernel, "console=ttyS0 x=1",
					  MEM(initrd, sizeof(initrd)), 0, &err), 0);
	read_info(&m, &info);
	assert_int_equal(info.magic, PVH_START_MAGIC);
	assert_int_equal(info.version, 1);
	assert_int_equal(info.cmdline_paddr, BOOT_CMDLINE_GPA);
	assert_string_equal((char *)ram + BOOT_CMDLINE_GPA, "console=ttyS0 x=1");
	assert_int_equal(info.nr_modules, 1);
	memcpy(&mod, ram + info.modlist_paddr, sizeof(mod));
	/* The initrd sits page-aligned at the top of RAM. */
	assert_int_equal(mod.size, sizeof(initrd));
	assert_int_equal(mod.paddr & 0xfff, 0);
	assert_true(mod.paddr + mod.size <= RAM_SIZE);
	assert_true(mod.paddr + mod.size > RAM_SIZE - 4096);
	assert_memory_equal(ram + mod.paddr, initrd, sizeof(initrd));

	assert_int_equal(info.memmap_entries, 5);
	assert_true(info.memmap_paddr >= BOOT_START_INFO_GPA &&
		    info.memmap_paddr < BOOT_START_INFO_GPA + BOOT_START_INFO_SIZE);
	memcpy(e, ram + info.memmap_paddr, 5 * sizeof(e[0]));
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].type, 1);
	assert_int_equal(e[1].type, 2);
	/* The ACPI tables are in an ACPI-typed range. */
	assert_int_equal(e[2].addr, BOOT_ACPI_GPA);
	assert_int_equal(e[2].size, BOOT_ACPI_SIZE);
	assert_int_equal(e[2].type, 3);
	assert_int_equal(e[3].type, 2);
	assert_int_equal(e[4].addr, 0x100000);
	assert_int_equal(e[4].addr + e[4].size, RAM_SIZE);
	assert_int_equal(e[4].type, 1);
	free(ram);
}

static void test_no_cmdline_no_initrd(void **state)
{
	uint8_t *ram = calloc(1, RAM_SIZE);
	struct wisp_err err = { 0 };
	struct hvm_start_info info;
	struct guest_mem m;

	(void)state;
	guest_mem_layout(&m, ram, RAM_SIZE);
	assert_int_equal(boot_pvh_prepare(&m, &kernel, NULL, NULL, 0, &err), 0);
	read_info(&m, &info);
	assert_int_equal(info.cmdline_paddr, 0);
	assert_int_equal(info.nr_modules, 0);
	assert_int_equal(info.modlist_paddr, 0);
	free(ram);
}

static void test_errors(void **state)
{
	uint8_t *ram = calloc(1, RAM_SIZE);
	size_t big = BOOT_CMDLINE_MAX;
	char *cmdline = malloc(big + 1);
	struct wisp_err err = { 0 };
	struct guest_mem m;
	uint8_t *initrd;

	(void)state;
	guest_mem_layout(&m, ram, RAM_SIZE);
	memset(cmdline, 'a', big);
	cmdline[big] = 0;
	assert_int_equal(boot_pvh_prepare(&m, &kernel, cmdline, NULL, 0, &err),
			 -E2BIG);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "command line too long"));
	/* One byte shorter fits. */
	cmdline[big - 1] = 0;
	memset(&err, 0, sizeof(err));
	assert_int_equal(boot_pvh_prepare(&m, &kernel, cmdline, NULL, 0, &err), 0);

	/* An initrd that would overlap the kernel is refused. */
	initrd = calloc(1, RAM_SIZE - 0x180000 + 1);
	memset(&err, 0, sizeof(err));
	assert_int_equal(boot_pvh_prepare(&m, &kernel, NULL,
					  MEM(initrd, RAM_SIZE - 0x180000 + 1), 0, &err), -EFBIG);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "initrd"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(boot_pvh_prepare(&m, &kernel, NULL,
					  MEM(initrd, RAM_SIZE - 0x180000), 0, &err), 0);
	free(initrd);
	free(cmdline);
	free(ram);
}

static void test_acpi(void **state)
{
	uint8_t *ram = calloc(1, RAM_SIZE);
	struct wisp_err err = { 0 };
	struct hvm_start_info info;
	struct guest_mem m;
	uint64_t rsdp = 0;

	(void)state;
	guest_mem_layout(&m, ram, RAM_SIZE);
	assert_int_equal(boot_acpi_prepare(&m, &(struct acpi_config){ .n_cpus = 4 },
					   &rsdp, &err), 0);
	assert_int_equal(rsdp, BOOT_ACPI_GPA);
	assert_memory_equal(ram + rsdp, "RSD PTR ", 8);
	assert_int_equal(boot_pvh_prepare(&m, &kernel, NULL, NULL, rsdp,
					  &err), 0);
	read_info(&m, &info);
	assert_int_equal(info.rsdp_paddr, BOOT_ACPI_GPA);
	free(ram);
}

/*
 * bzImage boot: a kernel_image as loader_load_bzimage leaves it, loaded at
 * 16 MiB with 8 MiB reserved for its init_size.
 */
#define BZ_LOWEST	0x1000000ULL
#define BZ_HIGHEST	0x1800000ULL
#define BZ_HDR_LEN	(0x26c - SH_START)	/* a 2.15 header */
#define CMDLINE		"console=ttyS0 root=/dev/vda rw"
#define FILL		0xee

_Static_assert(BOOT_PARAMS_GPA + BOOTPARAMS_SIZE <= BOOT_GDT_GPA &&
	       BOOT_GDT_GPA + LONGMODE_GDT_SIZE <= BOOT_PAGE_TABLES_GPA &&
	       BOOT_PAGE_TABLES_GPA + LONGMODE_TABLES_SIZE <= BOOT_CMDLINE_GPA &&
	       BOOT_CMDLINE_GPA + BOOT_CMDLINE_MAX <= BOOT_ACPI_GPA,
	       "the bzImage boot data do not overlap");
_Static_assert(BOOT_START_INFO_GPA + BOOT_START_INFO_SIZE <= BOOT_PARAMS_GPA,
	       "nor the PVH start info");

/* The setup header fields the loader fills in, as (offset, length). */
static const unsigned int loader_fields[][2] = {
	{ SH_TYPE_OF_LOADER, 1 }, { SH_CODE32_START, 4 },
	{ SH_RAMDISK_IMAGE, 4 }, { SH_RAMDISK_SIZE, 4 },
	{ SH_CMD_LINE_PTR, 4 }, { SH_SETUP_DATA, 8 },
};

/* boot_params field at @off, as the guest reads it. */
static uint64_t bp(const struct guest_mem *m, unsigned int off,
		   unsigned int len)
{
	return le_get((const uint8_t *)guest_ptr(m, BOOT_PARAMS_GPA,
						 BOOTPARAMS_SIZE) + off, len);
}

static uint64_t ram64(const struct guest_mem *m, uint64_t gpa)
{
	return le_get(guest_ptr(m, gpa, 8), 8);
}

static int is_loader_field(unsigned int off)
{
	size_t i;

	for (i = 0; i < sizeof(loader_fields) / sizeof(loader_fields[0]); i++)
		if (off >= loader_fields[i][0] &&
		    off < loader_fields[i][0] + loader_fields[i][1])
			return 1;
	return 0;
}

/* The byte of @k's setup header at boot_params offset @off. */
#define HDR(k, off)	((k)->setup_header + (off) - SH_START)

static void bz_kernel(struct kernel_image *k)
{
	unsigned int off, i;

	memset(k, 0, sizeof(*k));
	k->format = KERNEL_BZIMAGE;
	k->entry = BZ_LOWEST + BZIMAGE_ENTRY64_OFFSET;
	k->lowest = BZ_LOWEST;
	k->highest = BZ_HIGHEST;
	k->initrd_end_max = 0x7fffffffULL + 1;	/* initrd_addr_max + 1 */
	k->cmdline_max = 2047 + 1;		/* cmdline_size + 1 */
	k->setup_header_len = BZ_HDR_LEN;
	for (off = SH_START; off < SH_START + BZ_HDR_LEN; off++)
		*HDR(k, off) = (uint8_t)(0x40 + 3 * off);
	le_put(HDR(k, SH_SETUP_SECTS), 1, 0x1b);
	le_put(HDR(k, SH_BOOT_FLAG), 2, SH_BOOT_FLAG_MAGIC);
	le_put(HDR(k, SH_JUMP), 2, 0x66eb);
	le_put(HDR(k, SH_HEADER), 4, SH_HEADER_MAGIC);
	le_put(HDR(k, SH_VERSION), 2, 0x020f);
	le_put(HDR(k, SH_LOADFLAGS), 1, SH_LOADED_HIGH);
	le_put(HDR(k, SH_INITRD_ADDR_MAX), 4, 0x7fffffff);
	le_put(HDR(k, SH_XLOADFLAGS), 2, SH_XLF_KERNEL_64);
	le_put(HDR(k, SH_CMDLINE_SIZE), 4, 2047);
	le_put(HDR(k, SH_INIT_SIZE), 4, BZ_HIGHEST - BZ_LOWEST);
	for (i = 0; i < sizeof(loader_fields) / sizeof(loader_fields[0]); i++)
		le_put(HDR(k, loader_fields[i][0]), loader_fields[i][1], 0);
}

static void fill(struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	memset(guest_ptr(m, gpa, len), FILL, len);
}

static void expect_e820(const struct guest_mem *m, unsigned int i,
			uint64_t addr, uint64_t size, uint32_t type)
{
	unsigned int off = BP_E820_TABLE + i * 20;

	assert_int_equal(bp(m, off, 8), addr);
	assert_int_equal(bp(m, off + 8, 8), size);
	assert_int_equal(bp(m, off + 16, 4), type);
}

/* The boot_params' initrd, after checking that it holds @initrd. */
static uint64_t bp_initrd(const struct guest_mem *m, const uint8_t *initrd,
			  size_t size)
{
	uint64_t addr = bp(m, SH_RAMDISK_IMAGE, 4) |
			bp(m, BP_EXT_RAMDISK_IMAGE, 4) << 32;

	assert_int_equal(bp(m, SH_RAMDISK_SIZE, 4) |
			 bp(m, BP_EXT_RAMDISK_SIZE, 4) << 32, size);
	assert_int_equal(addr & 0xfff, 0);
	assert_memory_equal(guest_ptr(m, addr, size), initrd, size);
	return addr;
}

static void test_linux_boot_params(void **state)
{
	uint8_t *ram = calloc(1, RAM_SIZE), initrd[5000];
	const uint8_t *page = ram + BOOT_PARAMS_GPA;
	struct wisp_err err = { 0 };
	struct kernel_image k;
	struct guest_mem m;
	uint64_t rsdp = 0;
	unsigned int off;

	(void)state;
	bz_kernel(&k);
	memset(initrd, 0x5c, sizeof(initrd));
	guest_mem_layout(&m, ram, RAM_SIZE);
	assert_int_equal(boot_acpi_prepare(&m, &(struct acpi_config){ .n_cpus = 2 },
					   &rsdp, &err), 0);
	fill(&m, BOOT_PARAMS_GPA, BOOTPARAMS_SIZE);
	fill(&m, BOOT_GDT_GPA, LONGMODE_GDT_SIZE);
	fill(&m, BOOT_PAGE_TABLES_GPA, LONGMODE_TABLES_SIZE);
	assert_int_equal(boot_linux_prepare(&m, &k, CMDLINE,
					    MEM(initrd, sizeof(initrd)), rsdp, &err), 0);
	assert_int_equal(err.status, 0);

	assert_string_equal((char *)ram + BOOT_CMDLINE_GPA, CMDLINE);
	assert_int_equal(bp(&m, SH_CMD_LINE_PTR, 4), BOOT_CMDLINE_GPA);
	assert_int_equal(bp(&m, BP_EXT_CMD_LINE_PTR, 4), 0);
	assert_int_equal(bp(&m, SH_TYPE_OF_LOADER, 1), 0xff);
	assert_int_equal(bp(&m, SH_CODE32_START, 4), BZ_LOWEST);
	assert_int_equal(bp(&m, SH_SETUP_DATA, 8), 0);

	/* The image's header, verbatim but for the loader's fields. */
	for (off = SH_START; off < SH_START + BZ_HDR_LEN; off++)
		if (!is_loader_field(off))
			assert_int_equal(page[off], *HDR(&k, off));
	for (off = SH_START + BZ_HDR_LEN; off < SH_END_MAX; off++)
		assert_int_equal(page[off], 0);
	assert_int_equal(page[0x1ef], 0);	/* the sentinel */

	/* The initrd: page-aligned at the top of RAM (no lower limit). */
	assert_int_equal(bp_initrd(&m, initrd, sizeof(initrd)),
			 RAM_SIZE - 0x2000);

	/* The RSDP, and the ACPI tables still there. */
	assert_int_equal(bp(&m, BP_ACPI_RSDP_ADDR, 8), BOOT_ACPI_GPA);
	assert_memory_equal(ram + BOOT_ACPI_GPA, "RSD PTR ", 8);

	/* e820, with the ACPI tables' range typed ACPI. */
	assert_int_equal(bp(&m, BP_E820_ENTRIES, 1), 5);
	expect_e820(&m, 0, 0, 0x9fc00, 1);
	expect_e820(&m, 1, 0x9fc00, BOOT_ACPI_GPA - 0x9fc00, 2);
	expect_e820(&m, 2, BOOT_ACPI_GPA, BOOT_ACPI_SIZE, 3);
	expect_e820(&m, 3, BOOT_ACPI_GPA + BOOT_ACPI_SIZE,
		    0x100000 - BOOT_ACPI_GPA - BOOT_ACPI_SIZE, 2);
	expect_e820(&m, 4, 0x100000, RAM_SIZE - 0x100000, 1);
	expect_e820(&m, 5, 0, 0, 0);

	/* The GDT. */
	assert_int_equal(ram64(&m, BOOT_GDT_GPA), 0);
	assert_int_equal(ram64(&m, BOOT_GDT_GPA + 8), 0);
	assert_int_equal(ram64(&m, BOOT_GDT_GPA + LONGMODE_BOOT_CS),
			 LONGMODE_CODE64_DESC);
	assert_int_equal(ram64(&m, BOOT_GDT_GPA + LONGMODE_BOOT_DS),
			 LONGMODE_DATA_DESC);

	/* The page tables, CR3 = BOOT_PAGE_TABLES_GPA. */
	assert_int_equal(ram64(&m, BOOT_PAGE_TABLES_GPA),
			 (BOOT_PAGE_TABLES_GPA + 0x1000) | 0x3);
	assert_int_equal(ram64(&m, BOOT_PAGE_TABLES_GPA + 8), 0);
	assert_int_equal(ram64(&m, BOOT_PAGE_TABLES_GPA + 0x1000),
			 (BOOT_PAGE_TABLES_GPA + 0x2000) | 0x3);
	assert_int_equal(ram64(&m, BOOT_PAGE_TABLES_GPA + 0x1000 + 3 * 8),
			 (BOOT_PAGE_TABLES_GPA + 0x5000) | 0x3);
	/* The kernel's 2 MiB page, and the last one below 4 GiB. */
	assert_int_equal(ram64(&m, BOOT_PAGE_TABLES_GPA + 0x2000 + 8 * 8),
			 BZ_LOWEST | 0x83);
	assert_int_equal(ram64(&m, BOOT_PAGE_TABLES_GPA + LONGMODE_TABLES_SIZE - 8),
			 (4 * GiB - 2 * MiB) | 0x83);
	free(ram);
}

static void test_linux_no_cmdline_no_initrd(void **state)
{
	uint8_t *ram = calloc(1, RAM_SIZE);
	struct wisp_err err = { 0 };
	struct kernel_image k;
	struct guest_mem m;

	(void)state;
	bz_kernel(&k);
	guest_mem_layout(&m, ram, RAM_SIZE);
	fill(&m, BOOT_CMDLINE_GPA, BOOT_CMDLINE_MAX);
	fill(&m, BOOT_PARAMS_GPA, BOOTPARAMS_SIZE);
	assert_int_equal(boot_linux_prepare(&m, &k, NULL, NULL, 0, &err), 0);
	assert_int_equal(bp(&m, SH_CMD_LINE_PTR, 4), 0);
	assert_int_equal(bp(&m, BP_EXT_CMD_LINE_PTR, 4), 0);
	assert_int_equal(bp(&m, SH_RAMDISK_IMAGE, 4), 0);
	assert_int_equal(bp(&m, SH_RAMDISK_SIZE, 4), 0);
	assert_int_equal(bp(&m, BP_EXT_RAMDISK_IMAGE, 4), 0);
	assert_int_equal(bp(&m, BP_EXT_RAMDISK_SIZE, 4), 0);
	assert_int_equal(bp(&m, BP_ACPI_RSDP_ADDR, 8), 0);
	assert_int_equal(bp(&m, SH_TYPE_OF_LOADER, 1), 0xff);
	assert_int_equal(bp(&m, BP_E820_ENTRIES, 1), 5);
	/* No command line written. */
	assert_int_equal(ram[BOOT_CMDLINE_GPA], FILL);
	/* Nothing at the top of RAM either. */
	assert_int_equal(ram[RAM_SIZE - 1], 0);
	free(ram);
}

/* The initrd ends at or below the kernel's limit when that is below RAM's. */
static void test_linux_initrd_limit(void **state)
{
	uint8_t *ram = calloc(1, RAM_SIZE), initrd[5000], page3[0x3000];
	struct wisp_err err = { 0 };
	struct kernel_image k;
	struct guest_mem m;

	(void)state;
	bz_kernel(&k);
	memset(initrd, 0x5c, sizeof(initrd));
	memset(page3, 0x3c, sizeof(page3));
	guest_mem_layout(&m, ram, RAM_SIZE);

	/* initrd_addr_max 0x2fffeff: the highest page start that fits. */
	k.initrd_end_max = 0x2ffff00;
	assert_int_equal(boot_linux_prepare(&m, &k, NULL,
					    MEM(initrd, sizeof(initrd)), 0, &err), 0);
	assert_int_equal(bp_initrd(&m, initrd, sizeof(initrd)), 0x2ffe000);
	assert_true(0x2ffe000 + sizeof(initrd) <= k.initrd_end_max);
	assert_true(0x2fff000 + sizeof(initrd) > k.initrd_end_max);

	/* A page multiple ends exactly at a page-aligned limit. */
	k.initrd_end_max = 0x3000000;
	assert_int_equal(boot_linux_prepare(&m, &k, NULL,
					    MEM(page3, sizeof(page3)), 0, &err), 0);
	assert_int_equal(bp_initrd(&m, page3, sizeof(page3)),
			 0x3000000 - sizeof(page3));

	/* A limit above RAM, or none: the top of RAM. */
	k.initrd_end_max = 8 * GiB;
	assert_int_equal(boot_linux_prepare(&m, &k, NULL,
					    MEM(initrd, sizeof(initrd)), 0, &err), 0);
	assert_int_equal(bp_initrd(&m, initrd, sizeof(initrd)),
			 RAM_SIZE - 0x2000);
	k.initrd_end_max = 0;
	assert_int_equal(boot_linux_prepare(&m, &k, NULL,
					    MEM(page3, sizeof(page3)), 0, &err), 0);
	assert_int_equal(bp_initrd(&m, page3, sizeof(page3)),
			 RAM_SIZE - sizeof(page3));
	assert_int_equal(err.status, 0);
	free(ram);
}

static void expect_initrd_refused(struct guest_mem *m,
				  const struct kernel_image *k,
				  const uint8_t *initrd, size_t size)
{
	struct wisp_err err = { 0 };

	assert_int_equal(boot_linux_prepare(m, k, NULL, MEM(initrd, size), 0, &err),
			 -EFBIG);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "initrd"));
}

/* Between kernel->highest (page aligned up) and the limit, or an error. */
static void test_linux_initrd_does_not_fit(void **state)
{
	uint8_t *ram = calloc(1, RAM_SIZE);
	uint8_t *initrd = calloc(1, 0x3000001);
	struct wisp_err err = { 0 };
	struct kernel_image k;
	struct guest_mem m;

	(void)state;
	bz_kernel(&k);
	guest_mem_layout(&m, ram, RAM_SIZE);
	k.initrd_end_max = 0x3000000;

	/* Exactly the room between the kernel and the limit. */
	assert_int_equal(boot_linux_prepare(&m, &k, NULL,
					    MEM(initrd, 0x3000000 - BZ_HIGHEST), 0, &err), 0);
	assert_int_equal(bp(&m, SH_RAMDISK_IMAGE, 4), BZ_HIGHEST);
	expect_initrd_refused(&m, &k, initrd, 0x3000000 - BZ_HIGHEST + 1);

	/* The kernel's end rounds up to a page. */
	k.highest = BZ_HIGHEST + 1;
	assert_int_equal(boot_linux_prepare(&m, &k, NULL,
					    MEM(initrd, 0x3000000 - BZ_HIGHEST - 0x1000),
					    0, &err), 0);
	assert_int_equal(bp(&m, SH_RAMDISK_IMAGE, 4), BZ_HIGHEST + 0x1000);
	expect_initrd_refused(&m, &k, initrd,
			      0x3000000 - BZ_HIGHEST - 0x1000 + 1);

	/* Larger than everything below the limit. */
	expect_initrd_refused(&m, &k, initrd, 0x3000001);

	/* A limit below the kernel's end leaves no room at all. */
	k.highest = BZ_HIGHEST;
	k.initrd_end_max = BZ_HIGHEST - 1;
	expect_initrd_refused(&m, &k, initrd, 1);

	/* RAM, not a higher limit, bounds it. */
	k.initrd_end_max = 8 * GiB;
	expect_initrd_refused(&m, &k, initrd, RAM_SIZE - BZ_HIGHEST + 1);
	assert_int_equal(err.status, 0);
	free(initrd);
	free(ram);
}

static char *make_cmdline(size_t len)
{
	char *s = malloc(len + 1);

	assert_non_null(s);
	memset(s, 'a', len);
	s[len] = 0;
	return s;
}

static void expect_cmdline(struct guest_mem *m, const struct kernel_image *k,
			   size_t len, int ok)
{
	char *s = make_cmdline(len);
	struct wisp_err err = { 0 };

	if (ok) {
		assert_int_equal(boot_linux_prepare(m, k, s, NULL, 0, &err), 0);
		assert_int_equal(err.status, 0);
		assert_int_equal(strlen(guest_ptr(m, BOOT_CMDLINE_GPA, len + 1)),
				 len);
		assert_int_equal(bp(m, SH_CMD_LINE_PTR, 4), BOOT_CMDLINE_GPA);
	} else {
		assert_int_equal(boot_linux_prepare(m, k, s, NULL, 0, &err),
				 -E2BIG);
		assert_int_equal(err.status, WISP_EXIT_DATAERR);
		assert_non_null(strstr(err.msg, "too long"));
	}
	free(s);
}

/* cmdline_max counts the NUL: cmdline_size 2047 takes 2047 characters. */
static void test_linux_cmdline_max(void **state)
{
	uint8_t *ram = calloc(1, RAM_SIZE);
	struct wisp_err err = { 0 };
	struct kernel_image k;
	struct guest_mem m;
	char *s;

	(void)state;
	bz_kernel(&k);
	guest_mem_layout(&m, ram, RAM_SIZE);
	expect_cmdline(&m, &k, 2047, 1);
	expect_cmdline(&m, &k, 2048, 0);
	s = make_cmdline(2048);
	assert_int_equal(boot_linux_prepare(&m, &k, s, NULL, 0, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "2047"));
	free(s);

	/* Only the empty command line fits in cmdline_max 1. */
	k.cmdline_max = 1;
	expect_cmdline(&m, &k, 0, 1);
	expect_cmdline(&m, &k, 1, 0);

	/* No limit from the kernel, or a larger one: wisp's 64 KiB. */
	k.cmdline_max = 0;
	expect_cmdline(&m, &k, BOOT_CMDLINE_MAX - 1, 1);
	expect_cmdline(&m, &k, BOOT_CMDLINE_MAX, 0);
	k.cmdline_max = 1 << 20;
	expect_cmdline(&m, &k, BOOT_CMDLINE_MAX - 1, 1);
	expect_cmdline(&m, &k, BOOT_CMDLINE_MAX, 0);
	free(ram);
}

/* 5 GiB of RAM: low RAM ends at the hole, the rest is at 4 GiB. */
static void test_linux_high_ram(void **state)
{
	uint8_t initrd[5000];
	struct wisp_err err = { 0 };
	struct kernel_image k;
	struct guest_mem m;

	(void)state;
	bz_kernel(&k);
	memset(initrd, 0x5c, sizeof(initrd));
	assert_int_equal(guest_mem_map(&m, 5 * GiB, false, &err), 0);
	k.initrd_end_max = 0xffffffffULL + 1;
	assert_int_equal(boot_linux_prepare(&m, &k, CMDLINE,
					    MEM(initrd, sizeof(initrd)), 0, &err), 0);
	/* The initrd stays below the hole, not at the top of all RAM. */
	assert_int_equal(bp_initrd(&m, initrd, sizeof(initrd)),
			 3 * GiB - 0x2000);
	assert_int_equal(bp(&m, BP_EXT_RAMDISK_IMAGE, 4), 0);
	assert_int_equal(bp(&m, BP_E820_ENTRIES, 1), 6);
	expect_e820(&m, 2, BOOT_ACPI_GPA, BOOT_ACPI_SIZE, 3);
	expect_e820(&m, 4, 0x100000, 3 * GiB - 0x100000, 1);
	expect_e820(&m, 5, 4 * GiB, 2 * GiB, 1);
	guest_mem_unmap(&m);
}

/* A header longer than boot_params has room for is wisp's bug, not data. */
static void test_linux_header_too_long(void **state)
{
	uint8_t *ram = calloc(1, RAM_SIZE);
	struct wisp_err err = { 0 };
	struct kernel_image k;
	struct guest_mem m;

	(void)state;
	bz_kernel(&k);
	guest_mem_layout(&m, ram, RAM_SIZE);
	k.setup_header_len = SH_END_MAX - SH_START + 1;
	assert_int_equal(boot_linux_prepare(&m, &k, NULL, NULL, 0, &err),
			 -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_SOFTWARE);
	assert_non_null(strstr(err.msg, "boot_params"));
	k.setup_header_len = SH_END_MAX - SH_START;
	memset(&err, 0, sizeof(err));
	assert_int_equal(boot_linux_prepare(&m, &k, NULL, NULL, 0, &err), 0);
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_info),
		cmocka_unit_test(test_no_cmdline_no_initrd),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_acpi),
		cmocka_unit_test(test_linux_boot_params),
		cmocka_unit_test(test_linux_no_cmdline_no_initrd),
		cmocka_unit_test(test_linux_initrd_limit),
		cmocka_unit_test(test_linux_initrd_does_not_fit),
		cmocka_unit_test(test_linux_cmdline_max),
		cmocka_unit_test(test_linux_high_ram),
		cmocka_unit_test(test_linux_header_too_long),
	};

	return cmocka_run_group_tests_name("boot_x86", tests, NULL, NULL);
}
