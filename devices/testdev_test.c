// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the guest-test device (devices/testdev.c): ID, scratch and
 * 64-bit scratch registers, the access counter, the interrupt register,
 * and offsets or widths that describe nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_host_testlib.h"
#include "testdev.h"

#define REG_ID		0x00
#define REG_SCRATCH	0x04
#define REG_IRQ		0x08
#define REG_SCRATCH64	0x10
#define REG_ACCESSES	0x18

struct fixture {
	struct fake_host fh;
	struct testdev *td;
};

static int setup(void **state)
{
	struct fixture *f = malloc(sizeof(*f));

	if (!f)
		return -1;
	if (fake_host_init(&f->fh, 0, 0)) {
		free(f);
		return -1;
	}
	f->td = testdev_create(&f->fh.hs);
	if (!f->td) {
		fake_host_free(&f->fh);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	testdev_destroy(f->td);
	fake_host_free(&f->fh);
	free(f);
	return 0;
}

/* Read @len bytes; the device must write exactly those. */
static uint64_t rd(struct fixture *f, uint64_t off, uint32_t len)
{
	uint64_t v;

	assert_int_equal(fake_io_read(&testdev_io, f->td, off, len, &v), 0);
	return v;
}

static void wr(struct fixture *f, uint64_t off, uint32_t len, uint64_t v)
{
	fake_io_write(&testdev_io, f->td, off, len, v);
}

static void test_id_low_bytes(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(TESTDEV_ID, 0x50534957U);
	assert_int_equal(rd(f, REG_ID, 4), 0x50534957U);
	assert_int_equal(rd(f, REG_ID, 2), 0x4957);
	assert_int_equal(rd(f, REG_ID, 1), 0x57);	/* 'W' */
	/* The ID is read-only. */
	wr(f, REG_ID, 4, 0x12345678);
	assert_int_equal(rd(f, REG_ID, 4), TESTDEV_ID);
	assert_int_equal(f->fh.irq_calls, 0);
}

static void test_scratch_round_trip(void **state)
{
	struct fixture *f = *state;
	static const uint32_t values[] = {
		0, 1, 0xdeadbeef, 0x80000000, 0xffffffff,
	};
	size_t i;

	assert_int_equal(rd(f, REG_SCRATCH, 4), 0);
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		wr(f, REG_SCRATCH, 4, values[i]);
		assert_int_equal(rd(f, REG_SCRATCH, 4), values[i]);
	}
	wr(f, REG_SCRATCH, 4, 0xa1b2c3d4);
	assert_int_equal(rd(f, REG_SCRATCH, 2), 0xc3d4);
	assert_int_equal(rd(f, REG_SCRATCH, 1), 0xd4);
	wr(f, REG_SCRATCH, 2, 0x1234);
	assert_int_equal(rd(f, REG_SCRATCH, 2), 0x1234);
	/* The 32-bit scratch does not answer 8-byte accesses. */
	wr(f, REG_SCRATCH, 8, 0x1111111122222222ULL);
	assert_int_equal(rd(f, REG_SCRATCH, 2), 0x1234);
	assert_int_equal(rd(f, REG_SCRATCH, 8), 0);
}

static void test_scratch64_eight_bytes_only(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, REG_SCRATCH64, 8), 0);
	wr(f, REG_SCRATCH64, 8, 0x0123456789abcdefULL);
	assert_int_equal(rd(f, REG_SCRATCH64, 8), 0x0123456789abcdefULL);
	wr(f, REG_SCRATCH64, 8, UINT64_MAX);
	assert_int_equal(rd(f, REG_SCRATCH64, 8), UINT64_MAX);
	/* Narrower accesses neither read nor change it. */
	assert_int_equal(rd(f, REG_SCRATCH64, 4), 0);
	assert_int_equal(rd(f, REG_SCRATCH64, 2), 0);
	assert_int_equal(rd(f, REG_SCRATCH64, 1), 0);
	wr(f, REG_SCRATCH64, 4, 0);
	wr(f, REG_SCRATCH64, 1, 0);
	assert_int_equal(rd(f, REG_SCRATCH64, 8), UINT64_MAX);
	/* The two scratch registers are separate. */
	wr(f, REG_SCRATCH, 4, 7);
	assert_int_equal(rd(f, REG_SCRATCH64, 8), UINT64_MAX);
	assert_int_equal(rd(f, REG_SCRATCH, 4), 7);
}

static void test_access_counter(void **state)
{
	struct fixture *f = *state;
	uint64_t first, second;

	first = rd(f, REG_ACCESSES, 8);
	assert_true(first >= 1);		/* counts itself */
	second = rd(f, REG_ACCESSES, 8);
	assert_int_equal(second, first + 1);

	/* Every read and write counts, whatever its offset. */
	rd(f, REG_ID, 4);
	wr(f, REG_SCRATCH, 4, 1);
	rd(f, 0x40, 1);
	wr(f, 0x44, 2, 1);
	assert_int_equal(rd(f, REG_ACCESSES, 8), second + 5);
	/* The counter is read-only. */
	wr(f, REG_ACCESSES, 8, 0);
	assert_int_equal(rd(f, REG_ACCESSES, 8), second + 7);
	/* Only 8-byte reads return it. */
	assert_int_equal(rd(f, REG_ACCESSES, 4), 0);
}

static void test_irq_register(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_IRQ, 4, 1);
	assert_int_equal(f->fh.irq_calls, 1);
	assert_int_equal(f->fh.irq_last_gsi, TESTDEV_GSI);
	assert_int_equal(f->fh.irq_level[TESTDEV_GSI], 1);
	wr(f, REG_IRQ, 4, 0);
	assert_int_equal(f->fh.irq_level[TESTDEV_GSI], 0);
	/* Only bit 0 counts. */
	wr(f, REG_IRQ, 4, 3);
	assert_int_equal(f->fh.irq_last_level, 1);
	wr(f, REG_IRQ, 4, 0xfffffffe);
	assert_int_equal(f->fh.irq_last_level, 0);
	wr(f, REG_IRQ, 1, 0x81);
	assert_int_equal(f->fh.irq_last_level, 1);
	wr(f, REG_IRQ, 2, 0x100);
	assert_int_equal(f->fh.irq_last_level, 0);
	assert_int_equal(f->fh.irq_calls, 6);
	assert_int_equal(f->fh.irq_calls_gsi[TESTDEV_GSI], 6);
	assert_int_equal(f->fh.irq_bad_calls, 0);
	/* The register reads 0. */
	assert_int_equal(rd(f, REG_IRQ, 4), 0);
}

static void test_unknown_offsets(void **state)
{
	struct fixture *f = *state;
	static const uint64_t offs[] = {
		0x01, 0x02, 0x03, 0x05, 0x0c, 0x14, 0x20, 0x100,
		TESTDEV_MMIO_SIZE - 8, TESTDEV_MMIO_SIZE, UINT64_MAX - 7,
	};
	static const uint32_t lens[] = { 1, 2, 4, 8 };
	size_t i, j;

	wr(f, REG_SCRATCH, 4, 0x600dcafe);
	wr(f, REG_SCRATCH64, 8, 0x1122334455667788ULL);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			assert_int_equal(rd(f, offs[i], lens[j]), 0);
			wr(f, offs[i], lens[j], UINT64_MAX);
		}
	}
	assert_int_equal(rd(f, REG_SCRATCH, 4), 0x600dcafe);
	assert_int_equal(rd(f, REG_SCRATCH64, 8), 0x1122334455667788ULL);
	assert_int_equal(rd(f, REG_ID, 4), TESTDEV_ID);
	assert_int_equal(f->fh.irq_calls, 0);
	assert_int_equal(f->fh.stop_count, 0);
	/* An 8-byte read at the ID register describes nothing. */
	assert_int_equal(rd(f, REG_ID, 8), 0);
}

static void test_devices_are_independent(void **state)
{
	struct fixture *f = *state;
	struct testdev *other = testdev_create(&f->fh.hs);
	uint8_t data[4];

	assert_non_null(other);
	wr(f, REG_SCRATCH, 4, 0xabcd);
	testdev_io.read(other, REG_SCRATCH, data, 4);
	assert_int_equal(io_get(data, 4), 0);
	testdev_destroy(other);
	assert_int_equal(rd(f, REG_SCRATCH, 4), 0xabcd);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_id_low_bytes),
		T(test_scratch_round_trip),
		T(test_scratch64_eight_bytes_only),
		T(test_access_counter),
		T(test_irq_register),
		T(test_unknown_offsets),
		T(test_devices_are_independent),
	};
#undef T

	return cmocka_run_group_tests_name("testdev", tests, NULL, NULL);
}
