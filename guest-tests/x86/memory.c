// SPDX-License-Identifier: Apache-2.0
/*
 * memory: at CPL3, writes a value derived from its address into the first
 * 8 bytes of every 4 KiB page of RAM (from the memory map, above 1 MiB,
 * outside the guest image), then checks them all in a second pass, which
 * catches pages aliased onto each other.  Reports how much RAM above
 * 4 GiB it covered; expect_high_mib=N makes that a check.
 */
#include "guest.h"

#define PAGE		4096UL
#define LOW_SKIP	0x100000UL
#define GIB4		(1UL << 32)
#define PATTERN		0x5a5aa5a5c3c33c3cULL
#define MAX_RANGES	(MEMMAP_MAX + 1)

struct range {
	u64 start;
	u64 end;
};

static struct range ranges[MAX_RANGES];
static int nr_ranges;
static u64 first_bad = ~0ULL;

static void add_range(u64 start, u64 end)
{
	start = (start + PAGE - 1) & ~(PAGE - 1);
	end &= ~(PAGE - 1);
	if (start < end && nr_ranges < MAX_RANGES)
		ranges[nr_ranges++] = (struct range){ start, end };
}

/* RAM from the memory map, clipped and with the image cut out. */
static void build_ranges(void)
{
	u64 img_start = (u64)__image_start, img_end = (u64)__image_end;

	for (int i = 0; i < memmap_count(); i++) {
		const struct memmap_entry *e = memmap_get(i);
		u64 start = e->addr, end = e->addr + e->size;

		if (e->type != MEMMAP_RAM)
			continue;
		if (start < LOW_SKIP)
			start = LOW_SKIP;
		if (end > mapped_limit())
			end = mapped_limit();
		if (start >= end)
			continue;
		if (img_start < end && img_end > start) {
			add_range(start, img_start);
			add_range(img_end, end);
		} else {
			add_range(start, end);
		}
	}
}

/* CPL3: first pass.  Returns the number of pages written. */
static u64 user_fill(u64 arg)
{
	u64 pages = 0;

	(void)arg;
	for (int i = 0; i < nr_ranges; i++)
		for (u64 p = ranges[i].start; p < ranges[i].end; p += PAGE) {
			*(volatile u64 *)p = p ^ PATTERN;
			pages++;
		}
	return pages;
}

/* CPL3: second pass.  Returns the number of bad pages. */
static u64 user_verify(u64 arg)
{
	u64 bad = 0;

	(void)arg;
	for (int i = 0; i < nr_ranges; i++)
		for (u64 p = ranges[i].start; p < ranges[i].end; p += PAGE) {
			if (*(volatile u64 *)p == (p ^ PATTERN))
				continue;
			if (!bad)
				first_bad = p;
			bad++;
		}
	return bad;
}

static u64 high_bytes(void)
{
	u64 n = 0;

	for (int i = 0; i < nr_ranges; i++)
		if (ranges[i].end > GIB4)
			n += ranges[i].end - (ranges[i].start > GIB4 ?
					      ranges[i].start : GIB4);
	return n;
}

int main(void)
{
	unsigned long expect_high = cmdline_get_ulong("expect_high_mib", 0);
	u64 pages, bad, high;

	memmap_print();
	build_ranges();
	for (int i = 0; i < nr_ranges; i++)
		printf("memory: testing [%#lx, %#lx)\n", ranges[i].start,
		       ranges[i].end);
	test_begin("memory");
	pages = run_user(user_fill, 0);
	bad = run_user(user_verify, 0);
	high = high_bytes();
	printf("memory: %lu pages (%lu MiB) checked, %lu MiB above 4 GiB\n",
	       pages, pages * PAGE >> 20, high >> 20);
	report(pages > 0 && bad == 0,
	       "every page keeps its own value (%lu bad, first %#lx)",
	       bad, bad ? first_bad : 0);
	if (expect_high)
		report(high >> 20 == expect_high,
		       "RAM above 4 GiB covered: %lu MiB (expected %lu MiB)",
		       high >> 20, expect_high);
	else if (high)
		report(true, "RAM above 4 GiB covered: %lu MiB", high >> 20);
	else
		report_skip("no RAM above 4 GiB in the memory map");
	return 0;
}
