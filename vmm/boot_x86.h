/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Boot data for x86 guests, placed in guest RAM below 1 MiB:
 *
 *   0x6000   PVH: hvm_start_info, module list, memory map (one page)
 *   0x7000   bzImage: boot_params (the zero page)
 *   0x8000   free for the guest (guest-tests put their SMP trampoline here)
 *   0x9000   bzImage: GDT
 *   0xa000   bzImage: identity page tables for [0, 4 GiB) (six pages)
 *   0x20000  kernel command line (up to 64 KiB)
 *   0xe0000  ACPI tables (up to 64 KiB, in the reserved e820 range)
 *   0xffff0  BIOS reset vector: a stub that writes the ACPI reset register
 *
 * The initrd goes at the top of RAM below the MMIO hole (and below what a
 * bzImage allows).  All of it is RAM in the memory map, except the ACPI
 * tables and the reset vector; the guest may reuse it once booted.
 */
#ifndef WISP_BOOT_X86_H
#define WISP_BOOT_X86_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "loader.h"
#include "memory.h"

struct acpi_config;

#define BOOT_START_INFO_GPA	0x6000ULL
#define BOOT_START_INFO_SIZE	0x1000ULL
#define BOOT_PARAMS_GPA		0x7000ULL
#define BOOT_GDT_GPA		0x9000ULL
#define BOOT_PAGE_TABLES_GPA	0xa000ULL
#define BOOT_CMDLINE_GPA	0x20000ULL
#define BOOT_CMDLINE_MAX	0x10000ULL	/* bytes, with the NUL */
#define BOOT_ACPI_GPA		0xe0000ULL
#define BOOT_ACPI_SIZE		0x10000ULL

/*
 * Write the PVH boot data for @kernel (already loaded) into @mem: the
 * command line @cmdline (may be NULL), @initrd (may be NULL; read straight
 * into guest RAM) and the start
 * info pointing at the ACPI RSDP @rsdp_gpa (0: none).  Errors
 * (WISP_EXIT_DATAERR): command line too long, initrd not fitting between
 * the kernel and the hole; a failed initrd read as image_read.  No KVM.
 */
int boot_pvh_prepare(struct guest_mem *mem, const struct kernel_image *kernel,
		     const char *cmdline, const struct image_file *initrd,
		     uint64_t rsdp_gpa,
		     struct wisp_err *err);

/*
 * Write the Linux 64-bit boot protocol's data for the bzImage @kernel
 * (already loaded): command line, initrd below the kernel's limit,
 * boot_params with the setup header, e820 map and RSDP, the GDT and the
 * identity page tables.  Errors as for boot_pvh_prepare, plus a command
 * line longer than the kernel's cmdline_size.  Pure: no KVM.
 */
int boot_linux_prepare(struct guest_mem *mem, const struct kernel_image *kernel,
		       const char *cmdline, const struct image_file *initrd,
		       uint64_t rsdp_gpa,
		       struct wisp_err *err);

/*
 * Write the ACPI tables described by @cfg (vCPUs, 64-bit PCI window) at
 * BOOT_ACPI_GPA, and the reset stub at the BIOS reset vector; return the
 * RSDP's address, always BOOT_ACPI_GPA, in *@rsdp_gpa unless it is NULL
 * (boot_*_prepare() may run first and pass BOOT_ACPI_GPA).  Pure: no KVM.
 */
int boot_acpi_prepare(struct guest_mem *mem, const struct acpi_config *cfg,
		      uint64_t *rsdp_gpa, struct wisp_err *err);

#endif
