// SPDX-License-Identifier: Apache-2.0
/* PVH boot data as the guest will read it from its RAM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../firmware/pvh.h"
#include "boot_x86.h"

#define RAM_SIZE	(64ULL << 20)

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
					  initrd, sizeof(initrd), 0, &err), 0);
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
	assert_int_equal(boot_pvh_prepare(&m, &kernel, NULL, NULL, 0, 0, &err), 0);
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
	assert_int_equal(boot_pvh_prepare(&m, &kernel, cmdline, NULL, 0, 0, &err),
			 -E2BIG);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "command line too long"));
	/* One byte shorter fits. */
	cmdline[big - 1] = 0;
	memset(&err, 0, sizeof(err));
	assert_int_equal(boot_pvh_prepare(&m, &kernel, cmdline, NULL, 0, 0, &err), 0);

	/* An initrd that would overlap the kernel is refused. */
	initrd = calloc(1, RAM_SIZE - 0x180000 + 1);
	memset(&err, 0, sizeof(err));
	assert_int_equal(boot_pvh_prepare(&m, &kernel, NULL, initrd,
					  RAM_SIZE - 0x180000 + 1, 0, &err), -EFBIG);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "initrd"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(boot_pvh_prepare(&m, &kernel, NULL, initrd,
					  RAM_SIZE - 0x180000, 0, &err), 0);
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
	assert_int_equal(boot_acpi_prepare(&m, 4, &rsdp, &err), 0);
	assert_int_equal(rsdp, BOOT_ACPI_GPA);
	assert_memory_equal(ram + rsdp, "RSD PTR ", 8);
	assert_int_equal(boot_pvh_prepare(&m, &kernel, NULL, NULL, 0, rsdp,
					  &err), 0);
	read_info(&m, &info);
	assert_int_equal(info.rsdp_paddr, BOOT_ACPI_GPA);
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_info),
		cmocka_unit_test(test_no_cmdline_no_initrd),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_acpi),
	};

	return cmocka_run_group_tests_name("boot_x86", tests, NULL, NULL);
}
