// SPDX-License-Identifier: Apache-2.0
/* exit_dispatch() driven by made-up struct kvm_run contents. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "exit.h"

#define RUN_SIZE	4096

struct port_log {
	int writes, reads;
	uint8_t bytes[64];
	unsigned int n;
};

static void log_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct port_log *l = dev;

	l->reads++;
	io_put(data, len, 0xa0 + offset);
}

static void log_write(void *dev, uint64_t offset, const uint8_t *data,
		      uint32_t len)
{
	struct port_log *l = dev;

	(void)offset;
	l->writes++;
	if (l->n + len <= sizeof(l->bytes)) {
		memcpy(l->bytes + l->n, data, len);
		l->n += len;
	}
}

static const struct io_handler log_ops = { log_read, log_write };

struct fixture {
	struct bus pio, mmio;
	struct exit_stats stats;
	struct exit_env env;
	struct bus_reader reader;
	struct port_log port, mmio_dev;
	struct kvm_run *run;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	bus_init(&f->pio, "pio");
	bus_init(&f->mmio, "mmio");
	bus_register(&f->pio, 0x3f8, 8, &log_ops, &f->port, "serial");
	bus_register(&f->mmio, 0xfeb00000, 0x1000, &log_ops, &f->mmio_dev, "t");
	f->env = (struct exit_env){
		.pio = &f->pio, .mmio = &f->mmio, .reader = &f->reader,
		.stats = &f->stats,
	};
	f->run = calloc(1, RUN_SIZE);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bus_destroy(&f->pio);
	bus_destroy(&f->mmio);
	free(f->run);
	free(f);
	return 0;
}

static void set_pio(struct kvm_run *run, uint8_t dir, uint16_t port,
		    uint8_t size, uint32_t count, uint64_t offset)
{
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = dir;
	run->io.port = port;
	run->io.size = size;
	run->io.count = count;
	run->io.data_offset = offset;
}

static void test_pio(void **state)
{
	struct fixture *f = *state;
	uint8_t *data = (uint8_t *)f->run + 1024;
	struct exit_stop stop;

	set_pio(f->run, KVM_EXIT_IO_OUT, 0x3f8, 1, 1, 1024);
	data[0] = 'h';
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 0);
	assert_int_equal(f->port.writes, 1);
	assert_int_equal(f->port.bytes[0], 'h');

	/* String I/O (rep outsb): every element goes through the bus. */
	memcpy(data, "ello", 4);
	set_pio(f->run, KVM_EXIT_IO_OUT, 0x3f8, 1, 4, 1024);
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 0);
	assert_int_equal(f->port.writes, 5);
	assert_memory_equal(f->port.bytes, "hello", 5);

	set_pio(f->run, KVM_EXIT_IO_IN, 0x3fd, 1, 1, 1024);
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 0);
	assert_int_equal(data[0], 0xa5);

	/* Unclaimed port: all-ones, counted, the vCPU goes on. */
	set_pio(f->run, KVM_EXIT_IO_IN, 0x2f0, 4, 1, 1024);
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 0);
	assert_int_equal(data[0] & data[1] & data[2] & data[3], 0xff);
	assert_int_equal(f->stats.unclaimed_pio, 1);
	assert_int_equal(f->stats.by_reason[KVM_EXIT_IO], 4);
}

static void test_pio_malformed(void **state)
{
	struct fixture *f = *state;
	struct exit_stop stop;

	set_pio(f->run, KVM_EXIT_IO_OUT, 0x3f8, 3, 1, 1024);
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 1);
	assert_int_equal(stop.status, WISP_EXIT_SOFTWARE);
	assert_true(stop.dump);
	set_pio(f->run, KVM_EXIT_IO_OUT, 0x3f8, 1, 1, RUN_SIZE);
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 1);
	set_pio(f->run, KVM_EXIT_IO_OUT, 0x3f8, 4, 0x40000000, 1024);
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 1);
	set_pio(f->run, KVM_EXIT_IO_OUT, 0x3f8, 1, 0, 1024);
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 1);
	set_pio(f->run, KVM_EXIT_IO_OUT, 0x3f8, 1, 1, UINT64_MAX);
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 1);
	assert_int_equal(f->port.writes, 0);
}

static void test_mmio(void **state)
{
	struct fixture *f = *state;
	struct exit_stop stop;

	f->run->exit_reason = KVM_EXIT_MMIO;
	f->run->mmio.phys_addr = 0xfeb00004;
	f->run->mmio.len = 4;
	f->run->mmio.is_write = 1;
	memcpy(f->run->mmio.data, "\x01\x02\x03\x04", 4);
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 0);
	assert_int_equal(f->mmio_dev.writes, 1);
	assert_memory_equal(f->mmio_dev.bytes, "\x01\x02\x03\x04", 4);

	f->run->mmio.is_write = 0;
	f->run->mmio.len = 8;
	f->run->mmio.phys_addr = 0xfeb00010;
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 0);
	assert_int_equal(f->run->mmio.data[0], 0xb0);

	f->run->mmio.phys_addr = 0xd0000000;
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 0);
	assert_int_equal(io_get(f->run->mmio.data, 8), UINT64_MAX);
	assert_int_equal(f->stats.unclaimed_mmio, 1);

	f->run->mmio.len = 9;
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 1);
	assert_int_equal(stop.status, WISP_EXIT_SOFTWARE);
	f->run->mmio.len = 0;
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 1);
}

static void test_fatal_exits(void **state)
{
	static const struct {
		uint32_t reason;
		int status;
		bool dump;
	} cases[] = {
		{ KVM_EXIT_SHUTDOWN, WISP_EXIT_CRASH, true },
		{ KVM_EXIT_FAIL_ENTRY, WISP_EXIT_CRASH, true },
		{ KVM_EXIT_INTERNAL_ERROR, WISP_EXIT_CRASH, true },
		{ KVM_EXIT_HLT, WISP_EXIT_SOFTWARE, true },
		{ KVM_EXIT_DEBUG, WISP_EXIT_SOFTWARE, true },
		{ 1000, WISP_EXIT_SOFTWARE, true },
	};
	struct fixture *f = *state;
	struct exit_stop stop;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&stop, 0, sizeof(stop));
		f->run->exit_reason = cases[i].reason;
		f->run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
		assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 1);
		assert_int_equal(stop.status, cases[i].status);
		assert_int_equal(stop.dump, cases[i].dump);
		assert_true(strlen(stop.why) > 0);
	}
	f->run->exit_reason = KVM_EXIT_SHUTDOWN;
	exit_dispatch(&f->env, f->run, RUN_SIZE, &stop);
	assert_non_null(strstr(stop.why, "triple fault"));
	f->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	exit_dispatch(&f->env, f->run, RUN_SIZE, &stop);
	assert_non_null(strstr(stop.why, "emulation failed"));
	f->run->exit_reason = 1000;
	exit_dispatch(&f->env, f->run, RUN_SIZE, &stop);
	assert_non_null(strstr(stop.why, "1000"));
}

static void test_system_events_and_benign(void **state)
{
	static const struct { uint32_t type; int status; } events[] = {
		{ KVM_SYSTEM_EVENT_SHUTDOWN, WISP_EXIT_OK },
		{ KVM_SYSTEM_EVENT_RESET, WISP_EXIT_RESET },
		{ KVM_SYSTEM_EVENT_CRASH, WISP_EXIT_PANIC },
		{ 99, WISP_EXIT_SOFTWARE },
	};
	struct fixture *f = *state;
	struct exit_stop stop;
	size_t i;

	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		f->run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
		f->run->system_event.type = events[i].type;
		assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 1);
		assert_int_equal(stop.status, events[i].status);
	}
	f->run->exit_reason = KVM_EXIT_INTR;
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 0);
	f->run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
	assert_int_equal(exit_dispatch(&f->env, f->run, RUN_SIZE, &stop), 0);
	assert_int_equal(f->stats.by_reason[KVM_EXIT_INTR], 1);
	assert_int_equal(f->stats.by_reason[KVM_EXIT_SYSTEM_EVENT], 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fatal_exits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_system_events_and_benign,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("exit", tests, NULL, NULL);
}
