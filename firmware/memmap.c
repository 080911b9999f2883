// SPDX-License-Identifier: Apache-2.0
#include <errno.h>

#include "memmap.h"

int memmap_build(struct memmap_entry *out, size_t max, uint64_t low_size,
		 uint64_t high_base, uint64_t high_size)
{
	const struct memmap_entry map[] = {
		{ 0, MEMMAP_LOW_RAM_END, MEMMAP_RAM },
		{ MEMMAP_LOW_RAM_END, MEMMAP_ACPI_START - MEMMAP_LOW_RAM_END,
		  MEMMAP_RESERVED },
		{ MEMMAP_ACPI_START, MEMMAP_ACPI_END - MEMMAP_ACPI_START,
		  MEMMAP_ACPI },
		{ MEMMAP_ACPI_END, MEMMAP_HIGH_START - MEMMAP_ACPI_END,
		  MEMMAP_RESERVED },
		{ MEMMAP_HIGH_START, low_size - MEMMAP_HIGH_START, MEMMAP_RAM },
		{ high_base, high_size, MEMMAP_RAM },
	};
	size_t i, n = 0;

	if (low_size < MEMMAP_HIGH_START)
		return -EINVAL;
	if (high_size && (high_base < low_size || high_base + high_size < high_base))
		return -EINVAL;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		n += map[i].size != 0;	/* no empty entries */
	if (n > max)
		return -ENOSPC;		/* and nothing written */
	for (i = 0, n = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].size)
			out[n++] = map[i];
	return n;
}
