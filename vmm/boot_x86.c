// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "../firmware/acpi.h"
#include "../firmware/bootparams.h"
#include "../firmware/longmode.h"
#include "../firmware/memmap.h"
#include "../firmware/pvh.h"
#include "../firmware/reset_vector.h"
#include "boot_x86.h"

#define PAGE_MASK	0xfffULL
#define MEMMAP_MAX	8

_Static_assert(BOOT_ACPI_GPA == MEMMAP_ACPI_START &&
	       BOOT_ACPI_GPA + BOOT_ACPI_SIZE == MEMMAP_ACPI_END,
	       "the ACPI tables lie in the ACPI-typed range of the memory map");

/*
 * Place the initrd as high as possible below the hole and @end_max, page
 * aligned, above the kernel's reserved range.
 */
static int place_initrd(struct guest_mem *mem, const struct kernel_image *kernel,
			const struct image_file *initrd, uint64_t *gpa,
			struct wisp_err *err)
{
	uint64_t end = guest_low_ram_size(mem), size = initrd->size;
	uint64_t floor = (kernel->highest + PAGE_MASK) & ~PAGE_MASK;
	uint64_t addr;

	if (kernel->initrd_end_max && kernel->initrd_end_max < end)
		end = kernel->initrd_end_max;
	if (size > end || ((end - size) & ~PAGE_MASK) < floor)
		return err_set(err, WISP_EXIT_DATAERR, EFBIG,
			       "initrd (%llu bytes) does not fit in guest RAM between the kernel (ending at 0x%llx) and 0x%llx",
			       (unsigned long long)size,
			       (unsigned long long)kernel->highest,
			       (unsigned long long)end);
	addr = (end - size) & ~PAGE_MASK;
	*gpa = addr;
	return image_read(initrd, 0, guest_ptr(mem, addr, size), size, err);
}

/* Copy the command line in, if the kernel takes one that long. */
static int place_cmdline(struct guest_mem *mem, const struct kernel_image *kernel,
			 const char *cmdline, struct wisp_err *err)
{
	size_t len = strlen(cmdline);
	uint64_t max = BOOT_CMDLINE_MAX;

	if (kernel->cmdline_max && kernel->cmdline_max < max)
		max = kernel->cmdline_max;
	if (len >= max)
		return err_set(err, WISP_EXIT_DATAERR, E2BIG,
			       "kernel command line too long (%zu bytes, this kernel takes at most %llu)",
			       len, (unsigned long long)max - 1);
	memcpy(guest_ptr(mem, BOOT_CMDLINE_GPA, len + 1), cmdline, len + 1);
	return 0;
}

/* What both boot protocols hand over: command line, initrd, memory map. */
struct boot_common {
	uint64_t cmdline_gpa;		/* 0: none */
	uint64_t initrd_gpa;
	uint64_t initrd_size;		/* 0: none */
	struct memmap_entry map[MEMMAP_MAX];
	size_t map_entries;
};

static int place_common(struct guest_mem *mem, const struct kernel_image *kernel,
			const char *cmdline, const struct image_file *initrd,
			struct boot_common *out,
			struct wisp_err *err)
{
	int n, ret;

	memset(out, 0, sizeof(*out));
	if (cmdline) {
		ret = place_cmdline(mem, kernel, cmdline, err);
		if (ret)
			return ret;
		out->cmdline_gpa = BOOT_CMDLINE_GPA;
	}
	if (initrd && initrd->size) {
		ret = place_initrd(mem, kernel, initrd, &out->initrd_gpa, err);
		if (ret)
			return ret;
		out->initrd_size = initrd->size;
	}
	n = memmap_build(out->map, MEMMAP_MAX, guest_low_ram_size(mem),
			 GUEST_HIGH_RAM_START,
			 mem->n_regions > 1 ? mem->regions[1].size : 0);
	if (n < 0)
		return err_set(err, WISP_EXIT_SOFTWARE, -n, "memory map: %s",
			       strerror(-n));
	out->map_entries = n;
	return 0;
}

int boot_pvh_prepare(struct guest_mem *mem, const struct kernel_image *kernel,
		     const char *cmdline, const struct image_file *initrd,
		     uint64_t rsdp_gpa,
		     struct wisp_err *err)
{
	struct boot_common c;
	struct pvh_params params;
	uint8_t *page;
	long used;
	int ret;

	ret = place_common(mem, kernel, cmdline, initrd, &c, err);
	if (ret)
		return ret;
	params = (struct pvh_params){
		.cmdline_paddr = c.cmdline_gpa,
		.module_paddr = c.initrd_gpa,
		.module_size = c.initrd_size,
		.rsdp_paddr = rsdp_gpa,
		.memmap = c.map,
		.memmap_entries = c.map_entries,
	};
	page = guest_ptr(mem, BOOT_START_INFO_GPA, BOOT_START_INFO_SIZE);
	used = pvh_build_start_info(page, BOOT_START_INFO_SIZE,
				    BOOT_START_INFO_GPA, &params);
	if (used < 0)
		return err_set(err, WISP_EXIT_SOFTWARE, -used,
			       "PVH start info does not fit in one page");
	return 0;
}

int boot_linux_prepare(struct guest_mem *mem, const struct kernel_image *kernel,
		       const char *cmdline, const struct image_file *initrd,
		       uint64_t rsdp_gpa,
		       struct wisp_err *err)
{
	struct boot_common c;
	struct bootparams_config bp;
	int ret;

	ret = place_common(mem, kernel, cmdline, initrd, &c, err);
	if (ret)
		return ret;
	bp = (struct bootparams_config){
		.setup_header = kernel->setup_header,
		.setup_header_len = kernel->setup_header_len,
		.kernel_gpa = kernel->lowest,
		.cmdline_gpa = c.cmdline_gpa,
		.initrd_gpa = c.initrd_gpa,
		.initrd_size = c.initrd_size,
		.rsdp_gpa = rsdp_gpa,
		.memmap = c.map,
		.memmap_entries = c.map_entries,
	};
	ret = bootparams_build(guest_ptr(mem, BOOT_PARAMS_GPA, BOOTPARAMS_SIZE),
			       &bp);
	if (ret)
		return err_set(err, WISP_EXIT_SOFTWARE, -ret,
			       "cannot build boot_params: %s", strerror(-ret));
	ret = longmode_build_identity(guest_ptr(mem, BOOT_PAGE_TABLES_GPA,
						LONGMODE_TABLES_SIZE),
				      BOOT_PAGE_TABLES_GPA);
	if (ret)
		return err_set(err, WISP_EXIT_SOFTWARE, -ret,
			       "cannot build the boot page tables");
	longmode_build_gdt(guest_ptr(mem, BOOT_GDT_GPA, LONGMODE_GDT_SIZE));
	return 0;
}

int boot_acpi_prepare(struct guest_mem *mem, const struct acpi_config *cfg,
		      uint64_t *rsdp_gpa, struct wisp_err *err)
{
	long used;

	used = acpi_build(guest_ptr(mem, BOOT_ACPI_GPA, BOOT_ACPI_SIZE),
			  BOOT_ACPI_SIZE, BOOT_ACPI_GPA, cfg, rsdp_gpa);
	if (used < 0)
		return err_set(err, WISP_EXIT_SOFTWARE, -used,
			       "cannot build the ACPI tables (%u vCPUs, 64-bit PCI window %#llx+%#llx): %s",
			       cfg->n_cpus,
			       (unsigned long long)cfg->pci_mmio64_base,
			       (unsigned long long)cfg->pci_mmio64_size,
			       strerror(-used));
	/* A jump to the BIOS reset vector resets through the same register. */
	reset_vector_build(guest_ptr(mem, RESET_VECTOR_GPA, RESET_VECTOR_SIZE),
			   ACPI_RESET_PORT, ACPI_RESET_VALUE);
	return 0;
}
