// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the ACPI power-management registers (devices/acpi_pm.c):
 * S5 powers off, the reset value resets, everything else is ignored and
 * every read returns 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acpi_pm.h"
#include "fake_host_testlib.h"

#define CTL		0	/* sleep control, port 0x600 */
#define STS		1	/* sleep status, port 0x601 */
#define RST		2	/* reset, port 0x602 */
#define SLP_EN		0x20
#define WAK_STS		0x80
#define SLP_TYP(t)	((t) << 2)

struct fixture {
	struct fake_host fh;
	struct acpi_pm *pm;
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
	f->pm = acpi_pm_create(&f->fh.hs);
	if (!f->pm) {
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

	acpi_pm_destroy(f->pm);
	fake_host_free(&f->fh);
	free(f);
	return 0;
}

/* Read @len bytes; the device must write exactly those. */
static uint64_t rd(struct fixture *f, uint64_t off, uint32_t len)
{
	uint64_t v;

	assert_int_equal(fake_io_read(&acpi_pm_io, f->pm, off, len, &v), 0);
	return v;
}

static void wr(struct fixture *f, uint64_t off, uint32_t len, uint64_t v)
{
	fake_io_write(&acpi_pm_io, f->pm, off, len, v);
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
	/* What the FADT (firmware/acpi.h) describes. */
	assert_int_equal(ACPI_PM_PIO_BASE, 0x600);
	assert_int_equal(ACPI_PM_PIO_SIZE, 3);
	assert_int_equal(ACPI_PM_PIO_BASE + ACPI_PM_SLEEP_CONTROL, 0x600);
	assert_int_equal(ACPI_PM_PIO_BASE + ACPI_PM_SLEEP_STATUS, 0x601);
	assert_int_equal(ACPI_PM_PIO_BASE + ACPI_PM_RESET, 0x602);
	assert_int_equal(ACPI_PM_RESET_VALUE, 0x01);
	assert_int_equal(ACPI_PM_SLP_TYP_S5, 5);
	assert_int_equal(ACPI_PM_SLP_EN, SLP_EN);
}

static void test_s5_powers_off(void **state)
{
	struct fixture *f = *state;

	wr(f, CTL, 1, SLP_TYP(5) | SLP_EN);
	assert_int_equal(f->fh.stop_count, 1);
	assert_int_equal(f->fh.stop_status, 0);
	assert_int_equal(f->fh.reset_count, 0);
}

/* What Linux does for S5: clear WAK_STS, write the type, poll status. */
static void test_linux_poweroff_sequence(void **state)
{
	struct fixture *f = *state;

	wr(f, STS, 1, WAK_STS);
	expect_nothing(f);
	wr(f, CTL, 1, SLP_TYP(ACPI_PM_SLP_TYP_S5) | SLP_EN);
	assert_int_equal(rd(f, STS, 1), 0);
	assert_int_equal(f->fh.stop_count, 1);
	assert_int_equal(f->fh.stop_status, 0);
}

static void test_reserved_bits_do_not_matter(void **state)
{
	struct fixture *f = *state;

	wr(f, CTL, 1, 0xc3 | SLP_TYP(5) | SLP_EN);
	assert_int_equal(f->fh.stop_count, 1);
	assert_int_equal(f->fh.stop_status, 0);
}

static void test_other_sleep_types_ignored(void **state)
{
	struct fixture *f = *state;
	unsigned int t;

	for (t = 0; t < 8; t++) {
		if (t != 5)
			wr(f, CTL, 1, SLP_TYP(t) | SLP_EN);
		wr(f, CTL, 1, SLP_TYP(t));	/* no SLP_EN: nothing */
	}
	wr(f, CTL, 1, 0);
	wr(f, CTL, 1, 0xff & ~SLP_EN);
	expect_nothing(f);
}

static void test_wide_writes_ignored(void **state)
{
	struct fixture *f = *state;
	static const uint32_t lens[] = { 2, 4, 8 };
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		wr(f, CTL, lens[i], SLP_TYP(5) | SLP_EN);
		wr(f, RST, lens[i], ACPI_PM_RESET_VALUE);
		/* A 2-byte write at 0x601 would cover 0x602, the reset. */
		wr(f, STS, lens[i], (uint64_t)ACPI_PM_RESET_VALUE << 8);
	}
	expect_nothing(f);
}

static void test_reset_value_resets(void **state)
{
	struct fixture *f = *state;

	wr(f, RST, 1, ACPI_PM_RESET_VALUE);
	assert_int_equal(f->fh.reset_count, 1);
	assert_int_equal(f->fh.stop_count, 0);
	wr(f, RST, 1, 0x01);
	assert_int_equal(f->fh.reset_count, 2);
}

static void test_other_reset_values_ignored(void **state)
{
	struct fixture *f = *state;
	unsigned int v;

	for (v = 0; v < 256; v++)
		if (v != ACPI_PM_RESET_VALUE)
			wr(f, RST, 1, v);
	/* The reset value elsewhere is no reset. */
	wr(f, STS, 1, ACPI_PM_RESET_VALUE);
	wr(f, CTL, 1, ACPI_PM_RESET_VALUE);
	expect_nothing(f);
}

static void test_reads_return_zero(void **state)
{
	struct fixture *f = *state;
	static const uint64_t offs[] = { CTL, STS, RST, 3, 0x100, UINT64_MAX };
	static const uint32_t lens[] = { 1, 2, 4, 8 };
	size_t i, j;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++)
			assert_int_equal(rd(f, offs[i], lens[j]), 0);
	/* Writes do not change what reads return. */
	wr(f, STS, 1, 0xff);
	wr(f, CTL, 1, SLP_TYP(3) | SLP_EN);
	assert_int_equal(rd(f, STS, 1), 0);
	assert_int_equal(rd(f, CTL, 1), 0);
	expect_nothing(f);
}

static void test_unknown_offsets_ignored(void **state)
{
	struct fixture *f = *state;
	static const uint64_t offs[] = {
		3, 4, 0x7f, 0x100, 0x600, 0x602, UINT64_MAX,
	};
	size_t i;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		wr(f, offs[i], 1, SLP_TYP(5) | SLP_EN);
		wr(f, offs[i], 1, ACPI_PM_RESET_VALUE);
		wr(f, offs[i], 1, 0xff);
	}
	expect_nothing(f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		T(test_s5_powers_off),
		T(test_linux_poweroff_sequence),
		T(test_reserved_bits_do_not_matter),
		T(test_other_sleep_types_ignored),
		T(test_wide_writes_ignored),
		T(test_reset_value_resets),
		T(test_other_reset_values_ignored),
		T(test_reads_return_zero),
		T(test_unknown_offsets_ignored),
	};
#undef T

	return cmocka_run_group_tests_name("acpi_pm", tests, NULL, NULL);
}
