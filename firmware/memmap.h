/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's memory map (e820 types), built from the RAM layout.  Pure:
 * includes nothing from vmm/ or devices/.
 */
#ifndef WISP_FIRMWARE_MEMMAP_H
#define WISP_FIRMWARE_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

enum memmap_type {
	MEMMAP_RAM = 1,
	MEMMAP_RESERVED = 2,
	MEMMAP_ACPI = 3,
};

struct memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/*
 * The top of conventional memory; [this, 1 MiB) is not RAM (EBDA, BIOS
 * area): reserved, except [MEMMAP_ACPI_START, MEMMAP_ACPI_END), where the
 * ACPI tables live, which is typed ACPI.
 */
#define MEMMAP_LOW_RAM_END	0x9fc00ULL
#define MEMMAP_ACPI_START	0xe0000ULL
#define MEMMAP_ACPI_END		0xf0000ULL
#define MEMMAP_HIGH_START	0x100000ULL

/*
 * Fill @out (room for @max entries) with the map of a guest whose RAM is
 * [0, @low_size) and, when @high_size is not 0, [@high_base, +@high_size).
 * @low_size must be at least 1 MiB; high RAM must lie above low RAM without
 * wrapping.  Empty ranges get no entry.  Returns the number of entries, or
 * -ENOSPC when @max is too small, -EINVAL for a bad layout.
 */
int memmap_build(struct memmap_entry *out, size_t max, uint64_t low_size,
		 uint64_t high_base, uint64_t high_size);

#endif
