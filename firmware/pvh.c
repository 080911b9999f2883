// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "pvh.h"

long pvh_build_start_info(uint8_t *buf, size_t size, uint64_t buf_paddr,
			  const struct pvh_params *params)
{
	struct hvm_start_info info = {
		.magic = PVH_START_MAGIC,
		.version = PVH_START_VERSION,
		.cmdline_paddr = params->cmdline_paddr,
		.rsdp_paddr = params->rsdp_paddr,
		.memmap_entries = params->memmap_entries,
	};
	size_t n_modules = params->module_size ? 1 : 0;
	size_t used = sizeof(info), i;

	if (size < used + n_modules * sizeof(struct hvm_modlist_entry) +
	    params->memmap_entries * sizeof(struct hvm_memmap_table_entry))
		return -ENOSPC;
	memset(buf, 0, size);
	if (n_modules) {
		struct hvm_modlist_entry mod = {
			.paddr = params->module_paddr,
			.size = params->module_size,
		};

		info.nr_modules = 1;
		info.modlist_paddr = buf_paddr + used;
		memcpy(buf + used, &mod, sizeof(mod));
		used += sizeof(mod);
	}
	info.memmap_paddr = buf_paddr + used;
	for (i = 0; i < params->memmap_entries; i++) {
		struct hvm_memmap_table_entry e = {
			.addr = params->memmap[i].addr,
			.size = params->memmap[i].size,
			.type = params->memmap[i].type,
		};

		memcpy(buf + used, &e, sizeof(e));
		used += sizeof(e);
	}
	memcpy(buf, &info, sizeof(info));
	return used;
}
