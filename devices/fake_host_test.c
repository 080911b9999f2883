// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of the fake host the device tests rely on: if its guest_ptr range
 * check or its recording were wrong, every device test would be suspect.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "fake_host_testlib.h"

#define RAM_BASE	0x1000ULL
#define RAM_SIZE	0x4000ULL

static int setup(void **state)
{
	struct fake_host *fh = malloc(sizeof(*fh));

	if (!fh || fake_host_init(fh, RAM_BASE, RAM_SIZE)) {
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

static void test_guest_ptr_inside(void **state)
{
	struct fake_host *fh = *state;
	const struct host_services *hs = &fh->hs;
	uint8_t *p;

	assert_ptr_equal(hs->guest_ptr(hs->ctx, RAM_BASE, RAM_SIZE), fh->ram);
	assert_ptr_equal(hs->guest_ptr(hs->ctx, RAM_BASE + 0x10, 4),
			 fh->ram + 0x10);
	assert_ptr_equal(hs->guest_ptr(hs->ctx, RAM_BASE + RAM_SIZE - 1, 1),
			 fh->ram + RAM_SIZE - 1);
	p = hs->guest_ptr(hs->ctx, RAM_BASE + 8, 8);
	assert_non_null(p);
	p[0] = 0x5a;
	assert_int_equal(fh->ram[8], 0x5a);
	assert_int_equal(fh->guest_ptr_refused, 0);
}

static void test_guest_ptr_outside(void **state)
{
	struct fake_host *fh = *state;
	const struct host_services *hs = &fh->hs;

	assert_null(hs->guest_ptr(hs->ctx, 0, 1));
	assert_null(hs->guest_ptr(hs->ctx, RAM_BASE - 1, 2));
	assert_null(hs->guest_ptr(hs->ctx, RAM_BASE, RAM_SIZE + 1));
	assert_null(hs->guest_ptr(hs->ctx, RAM_BASE + RAM_SIZE, 1));
	assert_null(hs->guest_ptr(hs->ctx, RAM_BASE + RAM_SIZE, 0));
	assert_null(hs->guest_ptr(hs->ctx, RAM_BASE + 1, UINT64_MAX));
	assert_null(hs->guest_ptr(hs->ctx, UINT64_MAX, 2));
	assert_int_equal(fh->guest_ptr_refused, 7);
	assert_int_equal(fh->guest_ptr_calls, 7);
}

static void test_records(void **state)
{
	struct fake_host *fh = *state;
	const struct host_services *hs = &fh->hs;
	static const uint8_t msg[] = { 'h', 'i' };

	assert_int_equal(fh->stop_status, -1);
	hs->irq_line(hs->ctx, 5, 1);
	hs->irq_line(hs->ctx, 5, 0);
	hs->irq_line(hs->ctx, 4, 1);
	hs->irq_line(hs->ctx, FAKE_HOST_MAX_GSI, 1);
	assert_int_equal(fh->irq_calls, 4);
	assert_int_equal(fh->irq_calls_gsi[5], 2);
	assert_int_equal(fh->irq_level[5], 0);
	assert_int_equal(fh->irq_level[4], 1);
	assert_int_equal(fh->irq_bad_calls, 1);

	hs->console_write(hs->ctx, msg, sizeof(msg));
	hs->console_write(hs->ctx, msg, 1);
	assert_int_equal(fh->console_len, 3);
	assert_memory_equal(fh->console, "hih", 3);
	assert_int_equal(fh->console_calls, 2);

	hs->request_stop(hs->ctx, 7);
	hs->request_stop(hs->ctx, 9);
	assert_int_equal(fh->stop_status, 9);
	assert_int_equal(fh->stop_count, 2);
	hs->request_reset(hs->ctx);
	hs->console_rx_ready(hs->ctx);
	assert_int_equal(fh->reset_count, 1);
	assert_int_equal(fh->rx_ready_count, 1);

	fake_host_reset_records(fh);
	assert_int_equal(fh->irq_calls, 0);
	assert_int_equal(fh->console_len, 0);
	assert_int_equal(fh->stop_status, -1);
	assert_non_null(fh->ram);
}

static void test_console_overflow_counted(void **state)
{
	struct fake_host *fh = *state;
	uint8_t *big = calloc(1, FAKE_HOST_CONSOLE_SIZE + 10);

	assert_non_null(big);
	fh->hs.console_write(fh->hs.ctx, big, FAKE_HOST_CONSOLE_SIZE + 10);
	free(big);
	assert_int_equal(fh->console_len, FAKE_HOST_CONSOLE_SIZE);
	assert_int_equal(fh->console_dropped, 10);
}

static void test_init_rejects_wrap(void **state)
{
	struct fake_host *other = malloc(sizeof(*other));

	(void)state;
	assert_non_null(other);
	assert_int_equal(fake_host_init(other, UINT64_MAX - 0xf, 0x20),
			 -EINVAL);
	assert_int_equal(fake_host_init(other, 0, 0), 0);
	assert_null(other->hs.guest_ptr(other->hs.ctx, 0, 1));
	fake_host_free(other);
	free(other);
}

static void overrun_read(void *dev, uint64_t offset, uint8_t *data,
			 uint32_t len)
{
	(void)dev;
	(void)offset;
	memset(data, 0x11, len + 1);	/* one byte too many */
}

static void exact_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)dev;
	io_put(data, len, 0x8877665544332211ULL + offset);
}

static void record_write(void *dev, uint64_t offset, const uint8_t *data,
			 uint32_t len)
{
	*(uint64_t *)dev = io_get(data, len) + offset;
}

static void test_io_helpers(void **state)
{
	const struct io_handler bad = { overrun_read, record_write };
	const struct io_handler good = { exact_read, record_write };
	uint64_t v = 0, written = 0;

	(void)state;
	assert_int_equal(fake_io_read(&good, NULL, 0, 2, &v), 0);
	assert_int_equal(v, 0x2211);
	assert_int_equal(fake_io_read(&good, NULL, 1, 8, &v), 0);
	assert_int_equal(v, 0x8877665544332212ULL);
	/* A handler writing past @len is caught. */
	assert_int_equal(fake_io_read(&bad, NULL, 0, 4, &v), -1);
	fake_io_write(&good, &written, 0x10, 4, 0xdeadbeef);
	assert_int_equal(written, 0xdeadbeef + 0x10);
}

static void test_msi_and_ioeventfds(void **state)
{
	struct fake_host *fh = *state;
	uint64_t one = 1;
	int fd, fd2, h, h2;

	h = fh->hs.msi_alloc(fh->hs.ctx, &fd);
	h2 = fh->hs.msi_alloc(fh->hs.ctx, &fd2);
	assert_true(h >= 0 && h2 >= 0 && h != h2 && fd >= 0);
	assert_int_equal(fh->hs.msi_set(fh->hs.ctx, h, 0xfee00000, 0x41), 0);
	assert_int_equal(fh->msi[h].address, 0xfee00000);
	assert_int_equal(fh->msi[h].data, 0x41);
	assert_int_equal(fh->hs.msi_set(fh->hs.ctx, 63, 0, 0), -ENOENT);
	/* Raising is writing the eventfd; the count reads and resets it. */
	assert_int_equal(fake_host_msi_count(fh, h), 0);
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(fake_host_msi_count(fh, h), 2);
	assert_int_equal(fake_host_msi_count(fh, h), 0);
	fh->hs.msi_free(fh->hs.ctx, h, fd);
	assert_int_equal(fake_host_msi_count(fh, h), -1);

	assert_int_equal(fh->hs.ioeventfd(fh->hs.ctx, 0xc0003000, 2, fd2, true), 0);
	assert_int_equal(fh->hs.ioeventfd(fh->hs.ctx, 0xc0003000, 2, fd2, true),
			 -EEXIST);
	assert_int_equal(fh->n_ioeventfds, 1);
	assert_int_equal(fh->ioeventfds[0].len, 2);
	assert_int_equal(fh->hs.ioeventfd(fh->hs.ctx, 0xc0004000, 2, fd2, false),
			 -ENOENT);
	assert_int_equal(fh->hs.ioeventfd(fh->hs.ctx, 0xc0003000, 2, fd2, false), 0);
	assert_int_equal(fh->n_ioeventfds, 0);
	assert_int_equal(fh->ioeventfd_bad_calls, 2);
}

static void count_cb(void *arg)
{
	int *runs = arg;

	(*runs)++;
}

static void test_watch_and_poll(void **state)
{
	struct fake_host *fh = *state;
	int runs = 0, fds[2];
	struct host_watch w;
	char c = 'x';

	assert_int_equal(pipe(fds), 0);
	w = (struct host_watch){ .fd = fds[0], .cb = count_cb, .arg = &runs };
	assert_int_equal(fh->hs.watch(fh->hs.ctx, &w), 0);
	assert_int_equal(fake_host_poll(fh, 0), 0);	/* not readable */
	assert_int_equal(write(fds[1], &c, 1), 1);
	assert_int_equal(fake_host_poll(fh, 100), 1);
	assert_int_equal(fake_host_poll(fh, 0), 1);	/* level-triggered */
	assert_int_equal(runs, 2);
	fh->hs.unwatch(fh->hs.ctx, &w);
	assert_int_equal(fake_host_poll(fh, 0), 0);
	assert_int_equal(runs, 2);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_helpers),
		cmocka_unit_test_setup_teardown(test_guest_ptr_inside, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_guest_ptr_outside, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_console_overflow_counted,
						setup, teardown),
		cmocka_unit_test(test_init_rejects_wrap),
		cmocka_unit_test_setup_teardown(test_msi_and_ioeventfds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch_and_poll, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("fake_host", tests, NULL, NULL);
}
