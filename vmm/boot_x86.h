/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Boot data for x86 guests, placed in guest RAM below 1 MiB:
 *
 *   0x6000   hvm_start_info, module list, memory map (one page)
 *   0x8000   free for the guest (guest-tests put their SMP trampoline here)
 *   0x20000  kernel command line (up to 64 KiB)
 *   0xe0000  ACPI tables (up to 64 KiB, in the reserved e820 range)
 *   0xffff0  BIOS reset vector: a stub that writes the ACPI reset register
 *
 * The initrd goes at the top of RAM below the MMIO hole.
 */
#ifndef WISP_BOOT_X86_H
#define WISP_BOOT_X86_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "loader.h"
#include "memory.h"

#define BOOT_START_INFO_GPA	0x6000ULL
#define BOOT_START_INFO_SIZE	0x1000ULL
#define BOOT_CMDLINE_GPA	0x20000ULL
#define BOOT_CMDLINE_MAX	0x10000ULL	/* bytes, with the NUL */
#define BOOT_ACPI_GPA		0xe0000ULL
#define BOOT_ACPI_SIZE		0x10000ULL

/*
 * Write the PVH boot data for @kernel (already loaded) into @mem: the
 * command line @cmdline (may be NULL), @initrd (may be NULL) and the start
 * info pointing at the ACPI RSDP @rsdp_gpa (0: none).  Errors (WISP_EXIT_DATAERR): command line too long, initrd not
 * fitting between the kernel and the hole.  Pure: no KVM.
 */
int boot_pvh_prepare(struct guest_mem *mem, const struct kernel_image *kernel,
		     const char *cmdline, const uint8_t *initrd,
		     size_t initrd_size, uint64_t rsdp_gpa,
		     struct wisp_err *err);

/*
 * Write the ACPI tables for @n_cpus vCPUs at BOOT_ACPI_GPA, and the reset
 * stub at the BIOS reset vector; return the RSDP's address in *@rsdp_gpa.
 * Pure: no KVM.
 */
int boot_acpi_prepare(struct guest_mem *mem, unsigned int n_cpus,
		      uint64_t *rsdp_gpa, struct wisp_err *err);

#endif
