/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bus maps address ranges to device handlers.  PIO and MMIO are two
 * instances.  Handlers receive offsets into their range.  Lookups on vCPU
 * threads take no lock: the map is an immutable sorted array published
 * with an atomic pointer store; changes build a new array.
 */
#ifndef WISP_BUS_H
#define WISP_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "../devices/host.h"

struct bus_entry {
	uint64_t base;
	uint64_t size;
	const struct io_handler *ops;
	void *dev;
	const char *name;
};

struct bus_map {
	unsigned int n;
	struct bus_entry entries[];	/* sorted by base, disjoint */
};

struct bus {
	const char *name;		/* "pio" or "mmio", for messages */
	struct bus_map *map;		/* published map; atomic access */
	struct bus_map **retired;	/* old maps, freed in bus_destroy */
	unsigned int n_retired;
	uint64_t unclaimed;		/* accesses nobody claimed */
};

/* Initialise an empty bus.  Returns 0 or -ENOMEM. */
int bus_init(struct bus *bus, const char *name);

/* Free the map and every retired map.  No vCPU may be running. */
void bus_destroy(struct bus *bus);

/*
 * Claim [base, base + size) for @dev.  Returns 0, -EINVAL for an empty or
 * wrapping range, -EEXIST when it overlaps a registered range, -ENOMEM.
 * Construction thread only (before vCPUs run, or the remap path).
 */
int bus_register(struct bus *bus, uint64_t base, uint64_t size,
		 const struct io_handler *ops, void *dev, const char *name);

/* Remove the range registered at exactly @base.  Returns 0 or -ENOENT. */
int bus_unregister(struct bus *bus, uint64_t base);

/*
 * Dispatch one access of @len bytes at @addr.  An access that no range
 * claims, or that straddles a range's end, reads all-ones and its writes
 * are dropped; then returns false (the caller may log it), else true.
 * Any thread, lock-free.
 */
bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len,
		bool is_write);

#endif
