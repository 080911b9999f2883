// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the i8042 reset path (devices/i8042.c): 0xFE on the
 * command port asks for a reset, nothing else does anything.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_host_testlib.h"
#include "i8042.h"

static int setup(void **state)
{
	struct fake_host *fh = malloc(sizeof(*fh));

	if (!fh || fake_host_init(fh, 0, 0)) {
		free(fh);
		return -1;
	}
	*state = fh;
	return 0;
}

static int teardown(void **state)
{
	struct fake_host *fh = *state;

	fake_host_free(fh);
	free(fh);
	return 0;
}

static void wr8(const struct io_handler *io, struct fake_host *fh, uint8_t v)
{
	io->write(&fh->hs, 0, &v, 1);
}

static void assert_nothing_happened(const struct fake_host *fh)
{
	assert_int_equal(fh->reset_count, 0);
	assert_int_equal(fh->stop_count, 0);
	assert_int_equal(fh->irq_calls, 0);
	assert_int_equal(fh->console_calls, 0);
}

static void test_reset_command(void **state)
{
	struct fake_host *fh = *state;

	assert_int_equal(I8042_CMD_RESET, 0xfe);
	wr8(&i8042_cmd_io, fh, I8042_CMD_RESET);
	assert_int_equal(fh->reset_count, 1);
	/* A reset is not a stop request: the VMM decides. */
	assert_int_equal(fh->stop_count, 0);
	assert_int_equal(fh->irq_calls, 0);
	wr8(&i8042_cmd_io, fh, I8042_CMD_RESET);
	assert_int_equal(fh->reset_count, 2);
}

static void test_other_commands_ignored(void **state)
{
	struct fake_host *fh = *state;
	unsigned int cmd;

	for (cmd = 0; cmd < 256; cmd++)
		if (cmd != I8042_CMD_RESET)
			wr8(&i8042_cmd_io, fh, (uint8_t)cmd);
	assert_nothing_happened(fh);
}

static void test_data_port_writes_ignored(void **state)
{
	struct fake_host *fh = *state;
	unsigned int v;

	for (v = 0; v < 256; v++)
		wr8(&i8042_data_io, fh, (uint8_t)v);
	/* Including 0xFE right after a 0xD1 (write output port) command. */
	wr8(&i8042_cmd_io, fh, 0xd1);
	wr8(&i8042_data_io, fh, 0xfe);
	assert_nothing_happened(fh);
}

static void test_reads_return_zero(void **state)
{
	struct fake_host *fh = *state;
	const struct io_handler *ports[] = { &i8042_data_io, &i8042_cmd_io };
	static const uint32_t lens[] = { 1, 2, 4 };
	uint8_t data[8];
	size_t p, j, i;

	for (p = 0; p < 2; p++) {
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			memset(data, 0xee, sizeof(data));
			ports[p]->read(&fh->hs, 0, data, lens[j]);
			for (i = 0; i < lens[j]; i++)
				assert_int_equal(data[i], 0);
			assert_int_equal(data[lens[j]], 0xee);
		}
	}
	assert_nothing_happened(fh);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_reset_command),
		T(test_other_commands_ignored),
		T(test_data_port_writes_ignored),
		T(test_reads_return_zero),
	};
#undef T

	return cmocka_run_group_tests_name("i8042", tests, NULL, NULL);
}
