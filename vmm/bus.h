/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bus maps address ranges to device handlers.  PIO and MMIO are two
 * instances.  Handlers receive offsets into their range.  Lookups on vCPU
 * threads take no lock: the map is an immutable sorted array published
 * with an atomic pointer store; changes build a new array.
 *
 * Old arrays are freed after a grace period: each vCPU thread is a reader
 * with a sequence number, odd while it is inside bus_access().  After
 * publishing, the writer makes every reader's number visible (membarrier)
 * and notes them; an old array goes once every reader was outside then or
 * has moved on since.  Readers pay two plain stores per access.
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

/* One per vCPU thread; @seq is odd while the thread is in bus_access. */
struct bus_reader {
	uint64_t seq;
};

/* An old map and the readers' sequence numbers when it was replaced. */
struct bus_retired {
	struct bus_map *map;
	uint64_t *seen;
};

struct bus {
	const char *name;		/* "pio" or "mmio", for messages */
	struct bus_map *map;		/* published map; atomic access */
	struct bus_retired *retired;	/* old maps still in their grace period */
	unsigned int n_retired;
	struct bus_reader *readers;	/* bus_set_readers() */
	unsigned int n_readers;
	bool no_membarrier;		/* keep old maps until bus_destroy */
	uint64_t unclaimed;		/* accesses nobody claimed */
};

/* Initialise an empty bus.  Returns 0 or -ENOMEM. */
int bus_init(struct bus *bus, const char *name);

/* Free the map and every retired map.  No vCPU may be running. */
void bus_destroy(struct bus *bus);

/*
 * The readers (@n, one per vCPU thread) whose progress ends the grace
 * period of old maps.  Before any vCPU runs; @readers outlives the bus.
 */
void bus_set_readers(struct bus *bus, struct bus_reader *readers,
		     unsigned int n);

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
 * Any thread, lock-free; a vCPU thread passes its own @reader (NULL for
 * threads that never run while the map changes).
 */
bool bus_access(struct bus *bus, struct bus_reader *reader, uint64_t addr,
		uint8_t *data, uint32_t len, bool is_write);

#endif
