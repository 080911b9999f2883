/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PVH boot ABI's start-of-day structure (struct hvm_start_info,
 * version 1), its module list and memory map, as the guest reads them.
 * Pure builder: bytes out, no vmm/ or devices/ includes.
 */
#ifndef WISP_FIRMWARE_PVH_H
#define WISP_FIRMWARE_PVH_H

#include <stddef.h>
#include <stdint.h>

#include "memmap.h"

#define PVH_START_MAGIC		0x336ec578U
#define PVH_START_VERSION	1U
#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

struct pvh_params {
	uint64_t cmdline_paddr;		/* 0: none */
	uint64_t rsdp_paddr;		/* 0: none */
	uint64_t module_paddr;		/* initrd; module_size 0: none */
	uint64_t module_size;
	const struct memmap_entry *memmap;
	size_t memmap_entries;
};

/*
 * Write the start info, then the module list, then the memory map into
 * @buf, which the guest sees at @buf_paddr.  Returns the bytes used, or
 * -ENOSPC when @size is too small.
 */
long pvh_build_start_info(uint8_t *buf, size_t size, uint64_t buf_paddr,
			  const struct pvh_params *params);

#endif
