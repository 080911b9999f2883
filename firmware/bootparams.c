// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "bootparams.h"
#include "le.h"

#define E820_ENTRY_SIZE	20

/* Store the low 32 bits of @v at @lo and the high 32 at @hi. */
static void put_split(uint8_t *page, unsigned int lo, unsigned int hi,
		      uint64_t v)
{
	le_put32(page + lo, (uint32_t)v);
	le_put32(page + hi, (uint32_t)(v >> 32));
}

int bootparams_build(uint8_t *page, const struct bootparams_config *cfg)
{
	uint8_t *e;
	size_t i;

	if (cfg->setup_header_len > SH_END_MAX - SH_START)
		return -EINVAL;
	if (cfg->memmap_entries > BP_E820_MAX)
		return -ENOSPC;

	memset(page, 0, BOOTPARAMS_SIZE);
	memcpy(page + SH_START, cfg->setup_header, cfg->setup_header_len);

	page[SH_TYPE_OF_LOADER] = SH_LOADER_UNDEFINED;
	le_put32(page + SH_CODE32_START, (uint32_t)cfg->kernel_gpa);
	le_put64(page + SH_SETUP_DATA, 0);
	if (cfg->cmdline_gpa)
		put_split(page, SH_CMD_LINE_PTR, BP_EXT_CMD_LINE_PTR,
			  cfg->cmdline_gpa);
	if (cfg->initrd_size) {
		put_split(page, SH_RAMDISK_IMAGE, BP_EXT_RAMDISK_IMAGE,
			  cfg->initrd_gpa);
		put_split(page, SH_RAMDISK_SIZE, BP_EXT_RAMDISK_SIZE,
			  cfg->initrd_size);
	}
	le_put64(page + BP_ACPI_RSDP_ADDR, cfg->rsdp_gpa);

	page[BP_E820_ENTRIES] = (uint8_t)cfg->memmap_entries;
	for (i = 0; i < cfg->memmap_entries; i++) {
		e = page + BP_E820_TABLE + i * E820_ENTRY_SIZE;
		le_put64(e, cfg->memmap[i].addr);
		le_put64(e + 8, cfg->memmap[i].size);
		le_put32(e + 16, cfg->memmap[i].type);
	}
	return 0;
}
