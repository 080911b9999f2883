/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a 64-bit kernel entry needs in guest memory: identity-mapped page
 * tables and a GDT with the boot protocol's selectors (__BOOT_CS 0x10,
 * __BOOT_DS 0x18).  Pure builders: bytes out, no vmm/ or devices/ includes.
 */
#ifndef WISP_FIRMWARE_LONGMODE_H
#define WISP_FIRMWARE_LONGMODE_H

#include <stdint.h>

#define LONGMODE_PAGE_SIZE	0x1000ULL
#define LONGMODE_IDENTITY_TOP	(4ULL << 30)	/* mapped: [0, 4 GiB) */
/* PML4, PDPT and one page directory per GiB. */
#define LONGMODE_TABLES_SIZE	(6 * LONGMODE_PAGE_SIZE)

#define LONGMODE_BOOT_CS	0x10
#define LONGMODE_BOOT_DS	0x18
#define LONGMODE_GDT_SIZE	0x20	/* null, unused, code, data */

/* The descriptors, as KVM and the GDT both describe them. */
#define LONGMODE_CODE64_DESC	0x00af9b000000ffffULL	/* L, G, P, exec/read */
#define LONGMODE_DATA_DESC	0x00cf93000000ffffULL	/* D/B, G, P, read/write */

/*
 * Write page tables mapping [0, LONGMODE_IDENTITY_TOP) onto itself with
 * 2 MiB pages, writable, into @buf (LONGMODE_TABLES_SIZE bytes) that the
 * guest sees at @gpa (page aligned, below 4 GiB).  The PML4 comes first:
 * CR3 = @gpa.  Returns 0, or -EINVAL for a misaligned or too high @gpa.
 */
int longmode_build_identity(uint8_t *buf, uint64_t gpa);

/* Write the GDT (LONGMODE_GDT_SIZE bytes) into @buf. */
void longmode_build_gdt(uint8_t *buf);

#endif
