// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * Publish @map.  The old map may still be in use by a vCPU that loaded it
 * a moment ago, so it is kept until bus_destroy().  Maps change only
 * during construction and on PCI BAR moves, so the list stays short.
 */
static int map_publish(struct bus *bus, struct bus_map *map)
{
	struct bus_map **retired;
	struct bus_map *old = bus->map;

	retired = realloc(bus->retired, (bus->n_retired + 1) * sizeof(*retired));
	if (!retired) {
		free(map);
		return -ENOMEM;
	}
	bus->retired = retired;
	bus->retired[bus->n_retired++] = old;
	__atomic_store_n(&bus->map, map, __ATOMIC_RELEASE);
	return 0;
}

int bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	bus->map = map_alloc(0);
	return bus->map ? 0 : -ENOMEM;
}

void bus_destroy(struct bus *bus)
{
	unsigned int i;

	for (i = 0; i < bus->n_retired; i++)
		free(bus->retired[i]);
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

bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len,
		bool is_write)
{
	const struct bus_entry *e = bus_find(map_load(bus), addr);

	if (!e || len > e->size - (addr - e->base)) {
		if (!is_write)
			memset(data, 0xff, len);
		__atomic_fetch_add(&bus->unclaimed, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (is_write) {
		if (e->ops->write)
			e->ops->write(e->dev, addr - e->base, data, len);
	} else if (e->ops->read) {
		e->ops->read(e->dev, addr - e->base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	return true;
}
