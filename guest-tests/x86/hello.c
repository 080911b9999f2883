// SPDX-License-Identifier: Apache-2.0
/*
 * hello: the smallest guest.  Prints a greeting, the command line and the
 * memory map, and checks that the boot information makes sense.
 */
#include "guest.h"

/* Is [start, end) inside one RAM entry of the memory map? */
static bool in_ram(u64 start, u64 end)
{
	for (int i = 0; i < memmap_count(); i++) {
		const struct memmap_entry *e = memmap_get(i);

		if (e->type == MEMMAP_RAM && start >= e->addr &&
		    end <= e->addr + e->size)
			return true;
	}
	return false;
}

int main(void)
{
	printf("hello from wisp guest\n");
	printf("cmdline: '%s'\n", cmdline());
	printf("start_info version %u, %d memmap entries\n",
	       start_info_version(), memmap_count());
	memmap_print();
	report(memmap_count() > 0 &&
	       in_ram((u64)__image_start, (u64)__image_end),
	       "hello: memory map present and covers the guest image");
	return 0;
}
