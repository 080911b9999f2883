/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the VMM handed over at boot, copied out of hvm_start_info before
 * anything can overwrite it: the memory map and the command line.
 */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

#include "x86.h"

#define MEMMAP_MAX	64
#define MEMMAP_RAM	1
#define CMDLINE_MAX	1024

struct memmap_entry {
	u64 addr;
	u64 size;
	u32 type;
};

/* True if EBX pointed at a start_info with the PVH magic. */
bool start_info_valid(void);
u32 start_info_version(void);

int memmap_count(void);
const struct memmap_entry *memmap_get(int i);
/* Prints one "memmap: [start, end) type" line per entry. */
void memmap_print(void);

/*
 * End of the identity map: 4 GiB plus the RAM above 4 GiB that boot code
 * found in the memory map and mapped (up to HIGH_MAP_GIB GiB).
 */
u64 mapped_limit(void);

/* The command line as passed ("" if none). */
const char *cmdline(void);

/*
 * Value of "key=value" on the command line (NUL-terminated, no spaces),
 * "" for a bare "key", NULL if absent.  Values cannot contain spaces.
 */
const char *cmdline_get(const char *key);
/* Numeric value (decimal or 0x hex) of @key, or @def if absent/empty. */
unsigned long cmdline_get_ulong(const char *key, unsigned long def);

/* Linker symbols: the guest image, page tables and stacks included. */
extern char __image_start[], __image_end[];

/* Defined by each test guest; when it returns, report_summary() runs. */
int main(void);

/* BSP entry from entry.S, on CPU @id's stack in long mode. */
void __noreturn boot_main(int id);

#endif
