// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "memory.h"

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

#define HUGEPAGE_SIZE	(2ULL << 20)
#define HUGEPAGE_SYSFS	"/sys/kernel/mm/hugepages/hugepages-2048kB/"

void guest_mem_layout(struct guest_mem *mem, uint8_t *host, uint64_t size)
{
	uint64_t low = size < GUEST_MMIO_HOLE_START ? size : GUEST_MMIO_HOLE_START;

	mem->base = host;
	mem->size = size;
	mem->regions[0] = (struct guest_region){ 0, low, host };
	mem->n_regions = 1;
	if (size > low) {
		mem->regions[1] = (struct guest_region){
			GUEST_HIGH_RAM_START, size - low, host + low
		};
		mem->n_regions = 2;
	}
}

static long read_hugepage_count(const char *file)
{
	char path[128];
	long value = -1;
	FILE *f;

	snprintf(path, sizeof(path), HUGEPAGE_SYSFS "%s", file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &value) != 1)
		value = -1;
	fclose(f);
	return value;
}

static int hugepage_shortage(uint64_t size, int errnum, struct wisp_err *err)
{
	long need = size / HUGEPAGE_SIZE;
	long total = read_hugepage_count("nr_hugepages");
	long free_pages = read_hugepage_count("free_hugepages");

	if (total < 0 || free_pages < 0)
		return err_set(err, WISP_EXIT_OSERR, errnum,
			       "--hugepages: cannot map %ld 2 MiB pages (%s) and this host has no 2 MiB hugetlb pool",
			       need, strerror(errnum));
	return err_set(err, WISP_EXIT_OSERR, errnum,
		       "--hugepages: need %ld free 2 MiB pages, %ld of %ld are free; reserve more with: sysctl vm.nr_hugepages=%ld",
		       need, free_pages, total, total - free_pages + need);
}

#define HUGE_2MB	(2ULL << 20)

/*
 * An anonymous mapping of @size bytes whose address is 2 MiB aligned: KVM
 * maps guest memory with 2 MiB pages only where the host address and the
 * guest address agree modulo 2 MiB, and THP fills only aligned ranges.
 * (Linux before 6.7 does not align large anonymous mappings by itself.)
 * Maps @size + 2 MiB, untouched, and trims the ends.
 */
static void *mmap_aligned(uint64_t size, int flags)
{
	uint8_t *raw, *aligned;
	uint64_t head;

	raw = mmap(NULL, size + HUGE_2MB, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (raw == MAP_FAILED)
		return raw;
	head = -(uintptr_t)raw & (HUGE_2MB - 1);
	aligned = raw + head;
	if (head)
		munmap(raw, head);
	munmap(aligned + size, HUGE_2MB - head);
	return aligned;
}

int guest_mem_map(struct guest_mem *mem, uint64_t size, bool hugepages,
		  struct wisp_err *err)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	void *host;

	/*
	 * hugetlb mappings reserve their pages at mmap time (so a short
	 * pool is an error now, not a SIGBUS mid-run); ordinary RAM is
	 * allocated as the guest touches it.
	 */
	memset(mem, 0, sizeof(*mem));
	flags |= hugepages ? MAP_HUGETLB | MAP_HUGE_2MB : MAP_NORESERVE;
	/* hugetlb mappings are aligned to their page size already. */
	if (hugepages)
		host = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
	else
		host = mmap_aligned(size, flags);
	if (host == MAP_FAILED) {
		int errnum = errno;

		if (hugepages)
			return hugepage_shortage(size, errnum, err);
		return err_set(err, WISP_EXIT_OSERR, errnum,
			       "cannot map %llu MiB of guest RAM: %s",
			       (unsigned long long)(size >> 20), strerror(errnum));
	}
	/* THP when the host allows it; not an error when it does not. */
	if (!hugepages)
		madvise(host, size, MADV_HUGEPAGE);
	madvise(host, size, MADV_DONTDUMP);
	guest_mem_layout(mem, host, size);
	mem->hugetlb = hugepages;
	mem->mapped = true;
	return 0;
}

#define PAGE_4K		4096ULL
#define PAGES_PER_2MB	(HUGE_2MB / PAGE_4K)

/* Every 4 KiB page of the 2 MiB page holding @page is the balloon's. */
static bool huge_page_ballooned(const struct guest_mem *mem, uint64_t page)
{
	uint64_t first = page & ~(PAGES_PER_2MB - 1), i;

	for (i = 0; i < PAGES_PER_2MB / 64; i++)
		if (mem->ballooned[first / 64 + i] != ~0ULL)
			return false;
	return true;
}

static int64_t discard_host(uint8_t *start, uint8_t *end)
{
	if (start >= end)
		return 0;
	if (madvise(start, end - start, MADV_DONTNEED))
		return -errno;
	return end - start;
}

int64_t guest_mem_discard(struct guest_mem *mem, uint64_t gpa, uint64_t len,
			  bool balloon)
{
	uint64_t page_size = mem->hugetlb ? HUGE_2MB : PAGE_4K;
	uint8_t *host = guest_ptr(mem, gpa, len), *start, *end;
	uint64_t off, first, last, p;
	int64_t done = 0, n;

	if (!host || !len)
		return -EINVAL;
	off = host - mem->base;
	if (!mem->hugetlb || !balloon) {
		/* Whole backing pages inside the range. */
		start = mem->base + ((off + page_size - 1) & ~(page_size - 1));
		end = mem->base + ((off + len) & ~(page_size - 1));
		return discard_host(start, end);
	}
	if (!mem->ballooned) {
		mem->ballooned = calloc((mem->size / PAGE_4K + 63) / 64, 8);
		if (!mem->ballooned)
			return -ENOMEM;
	}
	first = (off + PAGE_4K - 1) / PAGE_4K;
	last = (off + len) / PAGE_4K;		/* exclusive */
	for (p = first; p < last; p++)
		mem->ballooned[p / 64] |= 1ULL << (p % 64);
	/* The 2 MiB pages this touched that are the balloon's now. */
	for (p = first & ~(PAGES_PER_2MB - 1); p < last; p += PAGES_PER_2MB) {
		if (!huge_page_ballooned(mem, p))
			continue;
		n = discard_host(mem->base + p * PAGE_4K,
				 mem->base + (p + PAGES_PER_2MB) * PAGE_4K);
		if (n < 0)
			return n;
		done += n;
	}
	return done;
}

void guest_mem_reclaim(struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	uint64_t off, p, last;
	uint8_t *host;

	if (!mem->ballooned)
		return;
	if (!gpa && len == UINT64_MAX) {
		memset(mem->ballooned, 0, (mem->size / PAGE_4K + 63) / 64 * 8);
		return;
	}
	host = guest_ptr(mem, gpa, len);
	if (!host || !len)
		return;
	off = host - mem->base;
	last = (off + len + PAGE_4K - 1) / PAGE_4K;
	for (p = off / PAGE_4K; p < last; p++)
		mem->ballooned[p / 64] &= ~(1ULL << (p % 64));
}

int guest_mem_mergeable(struct guest_mem *mem)
{
	return madvise(mem->base, mem->size, MADV_MERGEABLE) ? -errno : 0;
}

void guest_mem_unmap(struct guest_mem *mem)
{
	free(mem->ballooned);
	free(mem->written);
	if (mem->mapped)
		munmap(mem->base, mem->size);
	memset(mem, 0, sizeof(*mem));
}

void *guest_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < mem->n_regions; i++) {
		const struct guest_region *r = &mem->regions[i];
		uint64_t offset;

		if (gpa < r->gpa)
			continue;
		offset = gpa - r->gpa;
		if (offset >= r->size || len > r->size - offset)
			continue;
		return r->host + offset;
	}
	return NULL;
}

uint64_t guest_low_ram_size(const struct guest_mem *mem)
{
	return mem->n_regions ? mem->regions[0].size : 0;
}

int guest_mem_track_start(struct guest_mem *mem)
{
	if (!mem->written) {
		mem->written = calloc((mem->size / PAGE_4K + 63) / 64, 8);
		if (!mem->written)
			return -ENOMEM;
	}
	__atomic_store_n(&mem->tracking, true, __ATOMIC_SEQ_CST);
	return 0;
}

void guest_mem_track_stop(struct guest_mem *mem)
{
	__atomic_store_n(&mem->tracking, false, __ATOMIC_SEQ_CST);
}

void guest_mem_mark_written(struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	uint8_t *host;
	uint64_t p, last;

	if (!__atomic_load_n(&mem->tracking, __ATOMIC_SEQ_CST) || !len)
		return;
	host = guest_ptr(mem, gpa, len);
	if (!host)
		return;
	p = (host - mem->base) / PAGE_4K;
	last = (host - mem->base + len - 1) / PAGE_4K;
	for (; p <= last; p++)
		__atomic_fetch_or(&mem->written[p / 64], 1ULL << (p % 64),
				  __ATOMIC_RELEASE);	/* after the write */
}

void guest_mem_take_written(struct guest_mem *mem, uint64_t *bitmap)
{
	uint64_t i, n = (mem->size / PAGE_4K + 63) / 64;

	if (!mem->written)
		return;
	for (i = 0; i < n; i++)
		bitmap[i] |= __atomic_exchange_n(&mem->written[i], 0,
						 __ATOMIC_ACQ_REL);
}

bool guest_page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	unsigned int i;

	/* Eight words at a time: a data page ends this in its first line. */
	for (i = 0; i < PAGE_4K / 8; i += 8)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] |
		    w[i + 5] | w[i + 6] | w[i + 7])
			return false;
	return true;
}
