// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "le.h"
#include "longmode.h"

#define PTE_PRESENT	0x001ULL
#define PTE_WRITABLE	0x002ULL
#define PTE_LARGE	0x080ULL	/* in a page directory: a 2 MiB page */
#define ENTRY_SIZE	8
#define PD_COUNT	4		/* one per GiB */
#define LARGE_PAGE	(2ULL << 20)

int longmode_build_identity(uint8_t *buf, uint64_t gpa)
{
	uint64_t pdpt = gpa + LONGMODE_PAGE_SIZE;
	uint64_t pd = pdpt + LONGMODE_PAGE_SIZE;
	uint64_t addr;
	unsigned int i;

	if (gpa & (LONGMODE_PAGE_SIZE - 1) ||
	    gpa > LONGMODE_IDENTITY_TOP - LONGMODE_TABLES_SIZE)
		return -EINVAL;
	memset(buf, 0, LONGMODE_TABLES_SIZE);
	le_put64(buf, pdpt | PTE_PRESENT | PTE_WRITABLE);
	for (i = 0; i < PD_COUNT; i++)
		le_put64(buf + LONGMODE_PAGE_SIZE + i * ENTRY_SIZE,
			 (pd + i * LONGMODE_PAGE_SIZE) | PTE_PRESENT | PTE_WRITABLE);
	for (addr = 0; addr < LONGMODE_IDENTITY_TOP; addr += LARGE_PAGE)
		le_put64(buf + 2 * LONGMODE_PAGE_SIZE + addr / LARGE_PAGE * ENTRY_SIZE,
			 addr | PTE_PRESENT | PTE_WRITABLE | PTE_LARGE);
	return 0;
}

void longmode_build_gdt(uint8_t *buf)
{
	memset(buf, 0, LONGMODE_GDT_SIZE);
	le_put64(buf + LONGMODE_BOOT_CS, LONGMODE_CODE64_DESC);
	le_put64(buf + LONGMODE_BOOT_DS, LONGMODE_DATA_DESC);
}
