// SPDX-License-Identifier: Apache-2.0
#include <errno.h>

#include "memmap.h"

int memmap_build(struct memmap_entry *out, size_t max, uint64_t low_size,
		 uint64_t high_base, uint64_t high_size)
{
	const struct memmap_entry map[] = {
		{ 0, MEMMAP_LOW_RAM_END, MEMMAP_RAM },
		{ MEMMAP_LOW_RAM_END, MEMMAP_HIGH_START - MEMMAP_LOW_RAM_END,
		  MEMMAP_RESERVED },
		{ MEMMAP_HIGH_START, low_size - MEMMAP_HIGH_START, MEMMAP_RAM },
		{ high_base, high_size, MEMMAP_RAM },
	};
	size_t n = high_size ? 4 : 3, i;

	if (low_size < MEMMAP_HIGH_START)
		return -EINVAL;
	if (n > max)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		out[i] = map[i];
	return n;
}
