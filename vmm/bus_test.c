// SPDX-License-Identifier: Apache-2.0
/* Bus registration, overlap refusal, lookup and dispatch. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "bus.h"

struct recorder {
	uint64_t offset;
	uint32_t len;
	uint64_t value;
	int reads, writes;
};

static void rec_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct recorder *r = dev;

	r->reads++;
	r->offset = offset;
	r->len = len;
	io_put(data, len, 0x1122334455667788ULL);
}

static void rec_write(void *dev, uint64_t offset, const uint8_t *data,
		      uint32_t len)
{
	struct recorder *r = dev;

	r->writes++;
	r->offset = offset;
	r->len = len;
	r->value = io_get(data, len);
}

static const struct io_handler rec_ops = { rec_read, rec_write };

static void test_register_overlap(void **state)
{
	struct recorder a = { 0 };
	struct bus bus;

	(void)state;
	assert_int_equal(bus_init(&bus, "pio"), 0);
	assert_int_equal(bus_register(&bus, 0x100, 0x10, &rec_ops, &a, "a"), 0);
	/* Every kind of overlap is refused. */
	assert_int_equal(bus_register(&bus, 0x100, 0x10, &rec_ops, &a, "b"), -EEXIST);
	assert_int_equal(bus_register(&bus, 0xf8, 0x10, &rec_ops, &a, "b"), -EEXIST);
	assert_int_equal(bus_register(&bus, 0x10f, 1, &rec_ops, &a, "b"), -EEXIST);
	assert_int_equal(bus_register(&bus, 0x104, 2, &rec_ops, &a, "b"), -EEXIST);
	assert_int_equal(bus_register(&bus, 0x0, 0x1000, &rec_ops, &a, "b"), -EEXIST);
	/* Adjacent ranges are fine. */
	assert_int_equal(bus_register(&bus, 0x110, 0x10, &rec_ops, &a, "c"), 0);
	assert_int_equal(bus_register(&bus, 0xf0, 0x10, &rec_ops, &a, "d"), 0);
	/* Empty and wrapping ranges are refused; the very top is fine. */
	assert_int_equal(bus_register(&bus, 0x200, 0, &rec_ops, &a, "e"), -EINVAL);
	assert_int_equal(bus_register(&bus, UINT64_MAX, 2, &rec_ops, &a, "e"), -EINVAL);
	assert_int_equal(bus_register(&bus, UINT64_MAX - 0xf, 0x10, &rec_ops, &a, "e"), 0);
	assert_int_equal(bus.map->n, 4);
	/* Sorted by base. */
	assert_int_equal(bus.map->entries[0].base, 0xf0);
	assert_int_equal(bus.map->entries[1].base, 0x100);
	assert_int_equal(bus.map->entries[2].base, 0x110);
	assert_int_equal(bus.map->entries[3].base, UINT64_MAX - 0xf);
	assert_int_equal(bus_unregister(&bus, 0x100), 0);
	assert_int_equal(bus_unregister(&bus, 0x100), -ENOENT);
	assert_int_equal(bus.map->n, 3);
	assert_int_equal(bus_register(&bus, 0x100, 0x10, &rec_ops, &a, "a"), 0);
	bus_destroy(&bus);
}

static void test_dispatch(void **state)
{
	struct recorder a = { 0 }, b = { 0 };
	uint8_t data[8];
	struct bus bus;

	(void)state;
	assert_int_equal(bus_init(&bus, "mmio"), 0);
	assert_int_equal(bus_register(&bus, 0xfeb00000, 0x1000, &rec_ops, &a, "a"), 0);
	assert_int_equal(bus_register(&bus, 0x3f8, 8, &rec_ops, &b, "b"), 0);

	io_put(data, 4, 0xdeadbeef);
	assert_true(bus_access(&bus, NULL, 0xfeb00010, data, 4, true));
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.offset, 0x10);
	assert_int_equal(a.len, 4);
	assert_int_equal(a.value, 0xdeadbeef);

	assert_true(bus_access(&bus, NULL, 0x3fd, data, 1, false));
	assert_int_equal(b.reads, 1);
	assert_int_equal(b.offset, 5);
	assert_int_equal(data[0], 0x88);

	/* The last byte of a range is claimed; one past it is not. */
	assert_true(bus_access(&bus, NULL, 0x3ff, data, 1, false));
	memset(data, 0, sizeof(data));
	assert_false(bus_access(&bus, NULL, 0x400, data, 4, false));
	assert_int_equal(io_get(data, 4), 0xffffffff);
	/* An access straddling the end of a range is unclaimed. */
	memset(data, 0, sizeof(data));
	assert_false(bus_access(&bus, NULL, 0x3fe, data, 4, false));
	assert_int_equal(io_get(data, 4), 0xffffffff);
	assert_int_equal(b.reads, 2);
	/* Unclaimed writes reach nobody and are counted. */
	assert_false(bus_access(&bus, NULL, 0x0, data, 8, true));
	assert_int_equal(a.writes + b.writes, 1);
	assert_int_equal(bus.unclaimed, 3);
	bus_destroy(&bus);
}

static void test_many_ranges(void **state)
{
	struct recorder r = { 0 };
	struct bus bus;
	uint8_t data[4];
	uint64_t i;

	(void)state;
	assert_int_equal(bus_init(&bus, "pio"), 0);
	/* Registered out of order; lookups must find each one. */
	for (i = 0; i < 200; i++) {
		uint64_t base = ((i * 37) % 200) * 0x10;

		assert_int_equal(bus_register(&bus, base, 8, &rec_ops, &r, "r"), 0);
	}
	for (i = 0; i < 200; i++) {
		assert_true(bus_access(&bus, NULL, i * 0x10 + 7, data, 1, false));
		assert_int_equal(r.offset, 7);
		assert_false(bus_access(&bus, NULL, i * 0x10 + 8, data, 1, false));
	}
	bus_destroy(&bus);
}

/* A handler that records its reader's sequence number while it runs. */
struct seq_probe {
	struct bus_reader *reader;
	uint64_t seen;
};

static void probe_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct seq_probe *p = dev;

	(void)offset;
	p->seen = p->reader->seq;
	memset(data, 0, len);
}

static const struct io_handler probe_ops = { .read = probe_read };

static void test_grace_period(void **state)
{
	struct bus_reader readers[2] = { { 0 }, { 0 } };
	struct seq_probe probe = { .reader = &readers[1] };
	struct recorder a = { 0 };
	uint8_t data[4];
	struct bus bus;

	(void)state;
	assert_int_equal(bus_init(&bus, "mmio"), 0);
	/* No readers yet (construction): old maps go at once. */
	assert_int_equal(bus_register(&bus, 0x1000, 0x10, &rec_ops, &a, "a"), 0);
	assert_int_equal(bus.n_retired, 0);
	bus_set_readers(&bus, readers, 2);
	if (bus.no_membarrier) {
		print_message("membarrier(2) unavailable: old maps are kept until bus_destroy\n");
		assert_int_equal(bus_register(&bus, 0x2000, 0x10, &rec_ops, &a, "b"), 0);
		assert_int_equal(bus.n_retired, 1);
		bus_destroy(&bus);
		return;
	}
	/* Reader 0 is inside an access: the map it may hold stays. */
	readers[0].seq = 1;
	readers[1].seq = 4;
	assert_int_equal(bus_register(&bus, 0x2000, 0x10, &rec_ops, &a, "b"), 0);
	assert_int_equal(bus.n_retired, 1);
	/* Still inside the same access: still kept. */
	assert_int_equal(bus_unregister(&bus, 0x2000), 0);
	assert_int_equal(bus.n_retired, 2);
	/* It left (even) and another began (odd, different): both go... */
	readers[0].seq = 3;
	assert_int_equal(bus_register(&bus, 0x3000, 0x10, &probe_ops, &probe, "p"), 0);
	/* ...except the map replaced just now, which reader 0 may hold. */
	assert_int_equal(bus.n_retired, 1);
	readers[0].seq = 4;
	assert_int_equal(bus_unregister(&bus, 0x1000), 0);
	assert_int_equal(bus.n_retired, 0);

	/* bus_access makes its reader odd inside and even after. */
	assert_true(bus_access(&bus, &readers[1], 0x3000, data, 4, false));
	assert_int_equal(probe.seen, 5);
	assert_int_equal(readers[1].seq, 6);
	assert_false(bus_access(&bus, &readers[1], 0x9000, data, 4, false));
	assert_int_equal(readers[1].seq, 8);
	bus_destroy(&bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_overlap),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_many_ranges),
		cmocka_unit_test(test_grace_period),
	};

	return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
