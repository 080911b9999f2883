/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Linux x86 boot protocol: the bzImage setup header's fields (offsets
 * into the image file, which are also their offsets in boot_params) and a
 * builder for the 4 KiB "zero page" (struct boot_params) that a 64-bit
 * entry receives in RSI.  Pure builder: bytes out, no vmm/ or devices/
 * includes.  Offsets follow Documentation/arch/x86/boot.rst and
 * zero-page.rst of the kernel.
 */
#ifndef WISP_FIRMWARE_BOOTPARAMS_H
#define WISP_FIRMWARE_BOOTPARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "memmap.h"

#define BOOTPARAMS_SIZE		0x1000

/* boot_params fields outside the setup header. */
#define BP_ACPI_RSDP_ADDR	0x070	/* u64 */
#define BP_EXT_RAMDISK_IMAGE	0x0c0	/* u32, bits 32-63 */
#define BP_EXT_RAMDISK_SIZE	0x0c4	/* u32, bits 32-63 */
#define BP_EXT_CMD_LINE_PTR	0x0c8	/* u32, bits 32-63 */
#define BP_E820_ENTRIES		0x1e8	/* u8 */
#define BP_E820_TABLE		0x2d0	/* 20-byte entries: addr, size, type */
#define BP_E820_MAX		128

/* The setup header: at the same offsets in the image and in boot_params. */
#define SH_START		0x1f1
#define SH_SETUP_SECTS		0x1f1	/* u8; 0 means 4 */
#define SH_BOOT_FLAG		0x1fe	/* u16, 0xaa55 */
#define SH_JUMP			0x200	/* u16; its second byte + 0x202 ends the header */
#define SH_HEADER		0x202	/* u32, "HdrS" */
#define SH_VERSION		0x206	/* u16, 0x020c is 2.12 */
#define SH_TYPE_OF_LOADER	0x210	/* u8 */
#define SH_LOADFLAGS		0x211	/* u8 */
#define SH_CODE32_START		0x214	/* u32 */
#define SH_RAMDISK_IMAGE	0x218	/* u32 */
#define SH_RAMDISK_SIZE		0x21c	/* u32 */
#define SH_CMD_LINE_PTR		0x228	/* u32 */
#define SH_INITRD_ADDR_MAX	0x22c	/* u32, highest byte the initrd may use */
#define SH_KERNEL_ALIGNMENT	0x230	/* u32 */
#define SH_RELOCATABLE		0x234	/* u8 */
#define SH_XLOADFLAGS		0x236	/* u16 */
#define SH_CMDLINE_SIZE		0x238	/* u32, without the NUL */
#define SH_SETUP_DATA		0x250	/* u64 */
#define SH_PREF_ADDRESS		0x258	/* u64 */
#define SH_INIT_SIZE		0x260	/* u32 */
#define SH_END_MAX		0x290	/* boot_params' fields resume here */

#define SH_BOOT_FLAG_MAGIC	0xaa55
#define SH_HEADER_MAGIC		0x53726448U	/* "HdrS" */
#define SH_LOADED_HIGH		0x01		/* loadflags */
#define SH_XLF_KERNEL_64	0x0001		/* xloadflags: 64-bit entry at +0x200 */
#define SH_LOADER_UNDEFINED	0xff		/* type_of_loader */

#define BZIMAGE_ENTRY64_OFFSET	0x200	/* into the protected-mode kernel */

struct bootparams_config {
	const uint8_t *setup_header;	/* the image's bytes from SH_START */
	size_t setup_header_len;	/* at most SH_END_MAX - SH_START */
	uint64_t kernel_gpa;		/* where the protected-mode kernel is */
	uint64_t cmdline_gpa;		/* 0: no command line */
	uint64_t initrd_gpa;		/* initrd_size 0: no initrd */
	uint64_t initrd_size;
	uint64_t rsdp_gpa;		/* 0: the kernel searches for it */
	const struct memmap_entry *memmap;
	size_t memmap_entries;
};

/*
 * Fill @page (BOOTPARAMS_SIZE bytes) with the zero page for @cfg: all zero,
 * then the image's setup header, then the loader's fields (type of loader,
 * code32_start, command line, initrd, RSDP, e820 table).  Returns 0, or
 * -EINVAL for a setup header longer than the zero page has room for and
 * -ENOSPC for more than BP_E820_MAX memory map entries; @page is untouched
 * on error.
 */
int bootparams_build(uint8_t *page, const struct bootparams_config *cfg);

#endif
