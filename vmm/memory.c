// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
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

void guest_mem_unmap(struct guest_mem *mem)
{
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
