// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the pvpanic device (devices/pvpanic.c): the supported
 * events, a panic stops the VM with the guest-panic status, a loaded crash
 * kernel is only counted, anything else is ignored.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_host_testlib.h"
#include "pvpanic.h"

struct fixture {
	struct fake_host fh;
	struct pvpanic *pp;
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
	f->pp = pvpanic_create(&f->fh.hs);
	if (!f->pp) {
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

	pvpanic_destroy(f->pp);
	fake_host_free(&f->fh);
	free(f);
	return 0;
}

/* Read @len bytes; the device must write exactly those. */
static uint64_t rd(struct fixture *f, uint64_t off, uint32_t len)
{
	uint64_t v;

	assert_int_equal(fake_io_read(&pvpanic_io, f->pp, off, len, &v), 0);
	return v;
}

static void wr(struct fixture *f, uint64_t off, uint32_t len, uint64_t v)
{
	fake_io_write(&pvpanic_io, f->pp, off, len, v);
}

static void expect_nothing(struct fixture *f)
{
	assert_int_equal(f->fh.stop_count, 0);
	assert_int_equal(f->fh.stop_status, -1);
	assert_int_equal(f->fh.reset_count, 0);
	assert_int_equal(f->fh.irq_calls, 0);
}

static void test_layout(void **state)
{
	(void)state;
	/* What the DSDT (firmware/dsdt.asl) and the README's table say. */
	assert_int_equal(PVPANIC_MMIO_BASE, 0xfeb02000);
	assert_int_equal(PVPANIC_MMIO_SIZE, 2);
	assert_int_equal(PVPANIC_PANICKED, 1);
	assert_int_equal(PVPANIC_CRASH_LOADED, 2);
	assert_int_equal(PVPANIC_EXIT_STATUS, 81);
}

static void test_reads_supported_events(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, 0, 1), PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	/* Only the 1-byte register at offset 0 describes anything. */
	assert_int_equal(rd(f, 0, 2), 0);
	assert_int_equal(rd(f, 0, 4), 0);
	assert_int_equal(rd(f, 0, 8), 0);
	assert_int_equal(rd(f, 1, 1), 0);
	assert_int_equal(rd(f, 2, 1), 0);
	assert_int_equal(rd(f, UINT64_MAX, 1), 0);
	expect_nothing(f);
}

static void test_panic_stops(void **state)
{
	struct fixture *f = *state;

	/* Linux: read the capabilities at probe, write PANICKED on panic. */
	assert_int_equal(rd(f, 0, 1) & PVPANIC_PANICKED, PVPANIC_PANICKED);
	wr(f, 0, 1, PVPANIC_PANICKED);
	assert_int_equal(f->fh.stop_count, 1);
	assert_int_equal(f->fh.stop_status, PVPANIC_EXIT_STATUS);
	assert_int_equal(f->fh.reset_count, 0);
	assert_int_equal(pvpanic_crash_loaded_count(f->pp), 0);
}

static void test_unknown_bits_do_not_matter(void **state)
{
	struct fixture *f = *state;

	wr(f, 0, 1, 0xfc);		/* no event bit: nothing */
	expect_nothing(f);
	wr(f, 0, 1, 0xfc | PVPANIC_PANICKED);
	assert_int_equal(f->fh.stop_count, 1);
	assert_int_equal(f->fh.stop_status, PVPANIC_EXIT_STATUS);
}

static void test_crash_loaded_only_counted(void **state)
{
	struct fixture *f = *state;

	wr(f, 0, 1, PVPANIC_CRASH_LOADED);
	wr(f, 0, 1, PVPANIC_CRASH_LOADED);
	expect_nothing(f);
	assert_int_equal(pvpanic_crash_loaded_count(f->pp), 2);
	/* Both bits: the panic wins, the crash kernel is counted. */
	wr(f, 0, 1, PVPANIC_CRASH_LOADED | PVPANIC_PANICKED);
	assert_int_equal(f->fh.stop_count, 1);
	assert_int_equal(f->fh.stop_status, PVPANIC_EXIT_STATUS);
	assert_int_equal(pvpanic_crash_loaded_count(f->pp), 3);
}

static void test_other_offsets_and_widths_ignored(void **state)
{
	struct fixture *f = *state;
	static const uint32_t lens[] = { 2, 4, 8 };
	static const uint64_t offs[] = { 1, 2, 0x1000, UINT64_MAX };
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		wr(f, 0, lens[i], PVPANIC_EVENTS);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		wr(f, offs[i], 1, PVPANIC_EVENTS);
	expect_nothing(f);
	assert_int_equal(pvpanic_crash_loaded_count(f->pp), 0);
	assert_int_equal(rd(f, 0, 1), PVPANIC_EVENTS);	/* unchanged */
}

static void test_devices_are_independent(void **state)
{
	struct fixture *f = *state;
	struct pvpanic *other = pvpanic_create(&f->fh.hs);
	uint8_t v = PVPANIC_CRASH_LOADED;

	assert_non_null(other);
	pvpanic_io.write(other, 0, &v, 1);
	assert_int_equal(pvpanic_crash_loaded_count(other), 1);
	assert_int_equal(pvpanic_crash_loaded_count(f->pp), 0);
	pvpanic_destroy(other);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		T(test_reads_supported_events),
		T(test_panic_stops),
		T(test_unknown_bits_do_not_matter),
		T(test_crash_loaded_only_counted),
		T(test_other_offsets_and_widths_ignored),
		T(test_devices_are_independent),
	};
#undef T

	return cmocka_run_group_tests_name("pvpanic", tests, NULL, NULL);
}
