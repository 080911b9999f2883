// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bus.h"

static struct bus_map *map_alloc(unsigned int n)
{
	struct bus_map *map = calloc(1, sizeof(*map) + n * sizeof(map->entries[0]));

	if (map)
		map->n = n;
	return map;
}

static struct bus_map *map_load(struct bus *bus)
{
	return __atomic_load_n(&bus->map, __ATOMIC_ACQUIRE);
}

/* A full barrier on every thread of the process that is running now. */
static int membarrier_all(void)
{
	return syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
}

/* Has every reader been outside bus_access since @r was replaced? */
static bool grace_over(const struct bus *bus, const struct bus_retired *r)
{
	unsigned int i;

	for (i = 0; i < bus->n_readers; i++)
		if ((r->seen[i] & 1) &&
		    __atomic_load_n(&bus->readers[i].seq, __ATOMIC_RELAXED) ==
		    r->seen[i])
			return false;
	return true;
}

/* Free the old maps whose grace period is over. */
static void reclaim(struct bus *bus)
{
	unsigned int i, kept = 0;

	if (bus->no_membarrier)
		return;
	for (i = 0; i < bus->n_retired; i++) {
		struct bus_retired *r = &bus->retired[i];

		if (grace_over(bus, r)) {
			free(r->map);
			free(r->seen);
		} else {
			bus->retired[kept++] = *r;
		}
	}
	bus->n_retired = kept;
}

/*
 * Publish @map.  The old one may still be in use by a vCPU that loaded it
 * a moment ago: it is freed once every reader has been seen outside
 * bus_access (all at once when there are no readers yet).
 */
static int map_publish(struct bus *bus, struct bus_map *map)
{
	struct bus_map *old = bus->map;
	struct bus_retired *retired;
	uint64_t *seen = NULL;
	unsigned int i;

	retired = realloc(bus->retired, (bus->n_retired + 1) * sizeof(*retired));
	if (retired)
		bus->retired = retired;
	if (bus->n_readers)
		seen = calloc(bus->n_readers, sizeof(*seen));
	if (!retired || (bus->n_readers && !seen)) {
		free(seen);
		free(map);
		return -ENOMEM;
	}
	__atomic_store_n(&bus->map, map, __ATOMIC_RELEASE);
	/* Readers' odd numbers, stored before they loaded @old, now show. */
	if (bus->n_readers && !bus->no_membarrier && membarrier_all())
		bus->no_membarrier = true;
	for (i = 0; i < bus->n_readers; i++)
		seen[i] = __atomic_load_n(&bus->readers[i].seq, __ATOMIC_RELAXED);
	bus->retired[bus->n_retired++] = (struct bus_retired){ old, seen };
	reclaim(bus);
	return 0;
}

int bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	bus->map = map_alloc(0);
	return bus->map ? 0 : -ENOMEM;
}

void bus_set_readers(struct bus *bus, struct bus_reader *readers,
		     unsigned int n)
{
	bus->readers = readers;
	bus->n_readers = n;
	/* Once per process is enough; without it, old maps stay until exit. */
	if (n && syscall(SYS_membarrier,
			 MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0))
		bus->no_membarrier = true;
}

void bus_destroy(struct bus *bus)
{
	unsigned int i;

	for (i = 0; i < bus->n_retired; i++) {
		free(bus->retired[i].map);
		free(bus->retired[i].seen);
	}
	free(bus->retired);
	free(bus->map);
	memset(bus, 0, sizeof(*bus));
}

int bus_register(struct bus *bus, uint64_t base, uint64_t size,
		 const struct io_handler *ops, void *dev, const char *name)
{
	const struct bus_map *old = bus->map;
	struct bus_map *map;
	unsigned int i, pos = 0;
	uint64_t last;

	if (!size || base + (size - 1) < base)
		return -EINVAL;
	last = base + (size - 1);
	for (i = 0; i < old->n; i++) {
		const struct bus_entry *e = &old->entries[i];

		if (base <= e->base + (e->size - 1) && e->base <= last)
			return -EEXIST;
		if (e->base < base)
			pos = i + 1;
	}
	map = map_alloc(old->n + 1);
	if (!map)
		return -ENOMEM;
	memcpy(map->entries, old->entries, pos * sizeof(old->entries[0]));
	map->entries[pos] = (struct bus_entry){ base, size, ops, dev, name };
	memcpy(&map->entries[pos + 1], &old->entries[pos],
	       (old->n - pos) * sizeof(old->entries[0]));
	return map_publish(bus, map);
}

int bus_unregister(struct bus *bus, uint64_t base)
{
	const struct bus_map *old = bus->map;
	struct bus_map *map;
	unsigned int i;

	for (i = 0; i < old->n; i++)
		if (old->entries[i].base == base)
			break;
	if (i == old->n)
		return -ENOENT;
	map = map_alloc(old->n - 1);
	if (!map)
		return -ENOMEM;
	memcpy(map->entries, old->entries, i * sizeof(old->entries[0]));
	memcpy(&map->entries[i], &old->entries[i + 1],
	       (old->n - i - 1) * sizeof(old->entries[0]));
	return map_publish(bus, map);
}

static const struct bus_entry *bus_find(const struct bus_map *map,
					uint64_t addr)
{
	unsigned int lo = 0, hi = map->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct bus_entry *e = &map->entries[mid];

		if (addr < e->base)
			hi = mid;
		else if (addr - e->base >= e->size)
			lo = mid + 1;
		else
			return e;
	}
	return NULL;
}

/* Reader side: odd on entry, even on exit; the writer's membarrier orders. */
static void reader_step(struct bus_reader *reader)
{
	if (!reader)
		return;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&reader->seq, reader->seq + 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

bool bus_access(struct bus *bus, struct bus_reader *reader, uint64_t addr,
		uint8_t *data, uint32_t len, bool is_write)
{
	const struct bus_entry *e;
	bool claimed = true;

	reader_step(reader);
	e = bus_find(map_load(bus), addr);
	if (!e || len > e->size - (addr - e->base)) {
		if (!is_write)
			memset(data, 0xff, len);
		__atomic_fetch_add(&bus->unclaimed, 1, __ATOMIC_RELAXED);
		claimed = false;
	} else if (is_write) {
		if (e->ops->write)
			e->ops->write(e->dev, addr - e->base, data, len);
	} else if (e->ops->read) {
		e->ops->read(e->dev, addr - e->base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	reader_step(reader);
	return claimed;
}
