// SPDX-License-Identifier: Apache-2.0
/*
 * BSP start-up in long mode: copy the boot information, set up the CPU,
 * map RAM above 4 GiB, mask the PIC, run main().
 */
#include "apic.h"
#include "boot.h"
#include "desc.h"
#include "libc.h"
#include "printf.h"
#include "report.h"
#include "serial.h"
#include "smp.h"

#define HVM_START_MAGIC	0x336ec578
#define HIGH_MAP_GIB	28	/* page directories for RAM above 4 GiB */
#define GIB		(1ULL << 30)

struct hvm_start_info {
	u32 magic;
	u32 version;
	u32 flags;
	u32 nr_modules;
	u64 modlist_paddr;
	u64 cmdline_paddr;
	u64 rsdp_paddr;
	u64 memmap_paddr;	/* version 1 */
	u32 memmap_entries;
	u32 reserved;
};

struct hvm_memmap_entry {
	u64 addr;
	u64 size;
	u32 type;
	u32 reserved;
};

extern u32 boot_info_paddr;
extern u64 pdpt[512];

static bool info_valid;
static u32 info_version;
static struct memmap_entry memmap[MEMMAP_MAX];
static int memmap_nr;
static char cmdline_raw[CMDLINE_MAX];
static char cmdline_split[CMDLINE_MAX];	/* spaces replaced by NULs */
static u64 high_pd[HIGH_MAP_GIB][512] __aligned(4096);
static u64 map_end = 4 * GIB;

static void copy_cmdline(u64 paddr)
{
	const char *src = phys_ptr(paddr);
	int i;

	if (!paddr)
		return;
	for (i = 0; i < CMDLINE_MAX - 1 && src[i]; i++) {
		cmdline_raw[i] = src[i];
		cmdline_split[i] = src[i] == ' ' ? '\0' : src[i];
	}
}

static void copy_start_info(void)
{
	const struct hvm_start_info *si = phys_ptr(boot_info_paddr);
	const struct hvm_memmap_entry *e;

	if (!boot_info_paddr || si->magic != HVM_START_MAGIC)
		return;
	info_valid = true;
	info_version = si->version;
	copy_cmdline(si->cmdline_paddr);
	if (si->version < 1 || !si->memmap_paddr)
		return;
	e = phys_ptr(si->memmap_paddr);
	for (u32 i = 0; i < si->memmap_entries && i < MEMMAP_MAX; i++) {
		memmap[i] = (struct memmap_entry){
			e[i].addr, e[i].size, e[i].type
		};
		memmap_nr++;
	}
}

/* Gives each GiB of RAM above 4 GiB a page directory of 2 MiB pages. */
static void map_gib(u64 gib)
{
	u64 *pd = high_pd[gib - 4];

	for (u64 i = 0; i < 512; i++)
		pd[i] = (gib << 30) + (i << 21) +
			(PTE_P | PTE_W | PTE_U | PTE_PS);
	pdpt[gib] = (u64)pd | PTE_P | PTE_W | PTE_U;
}

static void map_high_ram(void)
{
	u64 top = 4 * GIB;

	for (int i = 0; i < memmap_nr; i++) {
		u64 end = memmap[i].addr + memmap[i].size;

		if (memmap[i].type == MEMMAP_RAM && end > top)
			top = end;
	}
	for (u64 gib = 4; gib * GIB < top && gib < 4 + HIGH_MAP_GIB; gib++)
		if (!pdpt[gib])
			map_gib(gib);
	map_end = top < (4 + HIGH_MAP_GIB) * GIB ? top :
		  (4 + HIGH_MAP_GIB) * GIB;
	if (top > map_end)
		printf("boot: RAM above %#lx is not mapped\n", map_end);
	write_cr3(read_cr3());
}

void __noreturn boot_main(int id)
{
	copy_start_info();
	idt_init();
	cpu_init(id);
	serial_init();
	pic_disable();
	map_high_ram();
	if (!info_valid) {
		report(false, "boot: no hvm_start_info (EBX %#x)",
		       boot_info_paddr);
		report_summary();
	}
	main();
	report_summary();
}

bool start_info_valid(void)
{
	return info_valid;
}

u32 start_info_version(void)
{
	return info_version;
}

int memmap_count(void)
{
	return memmap_nr;
}

const struct memmap_entry *memmap_get(int i)
{
	return i >= 0 && i < memmap_nr ? &memmap[i] : NULL;
}

void memmap_print(void)
{
	for (int i = 0; i < memmap_nr; i++)
		printf("memmap: [%#014lx, %#014lx) type %u%s\n",
		       memmap[i].addr, memmap[i].addr + memmap[i].size,
		       memmap[i].type,
		       memmap[i].type == MEMMAP_RAM ? " (RAM)" : "");
}

u64 mapped_limit(void)
{
	return map_end;
}

const char *cmdline(void)
{
	return cmdline_raw;
}

const char *cmdline_get(const char *key)
{
	size_t klen = strlen(key);
	const char *p = cmdline_split;
	const char *end = cmdline_split + CMDLINE_MAX;

	while (p < end) {
		size_t len = strlen(p);

		if (!strncmp(p, key, klen)) {
			if (p[klen] == '=')
				return p + klen + 1;
			if (p[klen] == '\0')
				return p + klen;
		}
		if (!len && !cmdline_raw[p - cmdline_split])
			break;	/* a NUL that was not a space: the end */
		p += len + 1;
	}
	return NULL;
}

unsigned long cmdline_get_ulong(const char *key, unsigned long def)
{
	const char *v = cmdline_get(key);

	if (!v || !*v)
		return def;
	return strtoul(v, NULL);
}
