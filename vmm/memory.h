/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest RAM: one host mapping split into at most two guest-physical
 * regions around the 32-bit MMIO hole, and the one checked translator from
 * guest-physical addresses to host pointers.
 *
 *   [0, min(size, 3 GiB))           low RAM
 *   [3 GiB, 4 GiB)                  MMIO hole (LAPIC, IOAPIC, devices)
 *   [4 GiB, 4 GiB + size - 3 GiB)   high RAM, when size > 3 GiB
 */
#ifndef WISP_MEMORY_H
#define WISP_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define GUEST_MMIO_HOLE_START	0xc0000000ULL
#define GUEST_HIGH_RAM_START	0x100000000ULL
#define GUEST_MAX_REGIONS	2

struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct guest_mem {
	struct guest_region regions[GUEST_MAX_REGIONS];
	unsigned int n_regions;
	uint8_t *base;		/* the whole mapping, @size bytes */
	uint64_t size;
	bool hugetlb;		/* mapped with MAP_HUGETLB (2 MiB pages) */
	bool mapped;		/* owned mapping to munmap */
	uint64_t *ballooned;	/* hugetlb: a bit per 4 KiB page the balloon holds */
	uint64_t *written;	/* migration: a bit per 4 KiB page wisp wrote */
	bool tracking;		/* atomic: @written is being filled */
};

/*
 * Lay out @size bytes of RAM starting at host address @host into regions.
 * Pure: no system calls; unit tests pass malloc'd memory.
 */
void guest_mem_layout(struct guest_mem *mem, uint8_t *host, uint64_t size);

/*
 * Map @size bytes of anonymous guest RAM (hugetlb 2 MiB pages when
 * @hugepages, else THP-advised) and lay it out.  On failure returns -errno
 * with @err set (WISP_EXIT_OSERR; with hugepages, how many pages are
 * needed and how to reserve them).
 */
int guest_mem_map(struct guest_mem *mem, uint64_t size, bool hugepages,
		  struct wisp_err *err);

/* Unmap what guest_mem_map() mapped.  Safe on a zeroed struct. */
void guest_mem_unmap(struct guest_mem *mem);

/*
 * The checked translator: a host pointer to guest-physical [gpa, gpa+len)
 * when the whole range lies inside one RAM region, else NULL.  Overflow
 * safe for any 64-bit inputs; len 0 needs gpa inside a region.  Thread:
 * any (the layout never changes after construction).
 */
void *guest_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/*
 * Give guest RAM [gpa, gpa + len) back to the host: the guest reads zeros
 * there afterwards.  Only whole backing pages go: 4 KiB pages (a
 * transparent hugepage is split), or with hugetlb whole 2 MiB pages.
 * With @balloon the 4 KiB pages are the balloon's until
 * guest_mem_reclaim(); with hugetlb a 2 MiB page goes once the balloon
 * holds all 512 of its pages.  Returns the bytes given back now, -EINVAL
 * when the range is not inside one RAM region, -ENOMEM.  One thread.
 */
int64_t guest_mem_discard(struct guest_mem *mem, uint64_t gpa, uint64_t len,
			  bool balloon);

/* The balloon lets go of [gpa, gpa + len) (all of RAM: 0, UINT64_MAX). */
void guest_mem_reclaim(struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Let KSM merge guest RAM (MADV_MERGEABLE).  Returns 0 or -errno. */
int guest_mem_mergeable(struct guest_mem *mem);

/*
 * Track the pages wisp itself writes (what devices put into guest
 * buffers, which KVM's dirty log does not see), by their offset in the
 * mapping (a bit per 4 KiB page).  Start and stop on one thread; marking
 * from any.  Returns 0 or -ENOMEM.
 */
int guest_mem_track_start(struct guest_mem *mem);
void guest_mem_track_stop(struct guest_mem *mem);

/* Note that wisp writes guest-physical [gpa, gpa + len) (when tracking). */
void guest_mem_mark_written(struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* OR the pages marked so far into @bitmap and clear them. */
void guest_mem_take_written(struct guest_mem *mem, uint64_t *bitmap);

/*
 * Is the 4 KiB page at @p all zeros?  Stops at the first word that is not
 * (snapshots and migration skip zero pages).
 */
bool guest_page_is_zero(const uint8_t *p);

/* Bytes of RAM below the hole (the size of region 0). */
uint64_t guest_low_ram_size(const struct guest_mem *mem);

#endif
