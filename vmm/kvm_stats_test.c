// SPDX-License-Identifier: Apache-2.0
/*
 * KVM's binary statistics parser, on files made here: what it keeps, and
 * what a malformed file (bad header, names without an end, offsets and
 * sizes outside the file, histograms) leaves out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_stats.h"

#define NAME_SIZE	48
#define DESC_SIZE	(sizeof(struct kvm_stats_desc) + NAME_SIZE)

struct fake_desc {
	const char *name;		/* NULL: a name with no NUL */
	uint32_t flags;
	uint16_t size;
	uint32_t offset;
};

/* A stats file: header, descriptors at 64, data at 4096. */
static int make_file(const struct fake_desc *d, unsigned int n,
		     uint32_t name_size, const uint64_t *data,
		     unsigned int n_data)
{
	struct kvm_stats_header h = {
		.name_size = name_size, .num_desc = n, .id_offset = 24,
		.desc_offset = 64, .data_offset = 4096,
	};
	int fd = memfd_create("stats", MFD_CLOEXEC);
	unsigned int i;

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &h, sizeof(h), 0), sizeof(h));
	for (i = 0; i < n; i++) {
		uint8_t buf[DESC_SIZE];
		struct kvm_stats_desc k = {
			.flags = d[i].flags, .size = d[i].size,
			.offset = d[i].offset,
		};

		memset(buf, 'x', sizeof(buf));
		memcpy(buf, &k, sizeof(k));
		if (d[i].name)
			strcpy((char *)buf + sizeof(k), d[i].name);
		assert_int_equal(pwrite(fd, buf, DESC_SIZE, 64 + i * DESC_SIZE),
				 DESC_SIZE);
	}
	assert_int_equal(pwrite(fd, data, n_data * 8, 4096), n_data * 8);
	return fd;
}

static void test_parse(void **state)
{
	static const struct fake_desc d[] = {
		{ "exits", KVM_STATS_TYPE_CUMULATIVE, 1, 0 },
		{ "blocking", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BOOLEAN, 1, 8 },
		{ "halt_wait_hist", KVM_STATS_TYPE_LOG_HIST, 4, 16 },
		{ NULL, KVM_STATS_TYPE_CUMULATIVE, 1, 48 },
		{ "misaligned", KVM_STATS_TYPE_CUMULATIVE, 1, 12 },
		{ "far_away", KVM_STATS_TYPE_CUMULATIVE, 1, 1u << 30 },
		{ "peak", KVM_STATS_TYPE_PEAK, 1, 56 },
		{ "unknown_type", 9, 1, 48 },
	};
	static const uint64_t data[8] = { 307, 1, 5, 6, 7, 8, 99, 42 };
	struct kvm_stats s;
	uint64_t v[KVM_STATS_MAX];

	(void)state;
	assert_int_equal(kvm_stats_init(&s, make_file(d, 8, NAME_SIZE, data, 8)), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.desc[0].name, "exits");
	assert_true(s.desc[0].cumulative);
	assert_string_equal(s.desc[1].name, "blocking");
	assert_false(s.desc[1].cumulative);
	assert_string_equal(s.desc[2].name, "peak");
	assert_int_equal(kvm_stats_read(&s, v), 0);
	assert_int_equal(v[0], 307);
	assert_int_equal(v[1], 1);
	assert_int_equal(v[2], 42);
	kvm_stats_close(&s);
	assert_int_equal(s.fd, -1);
	assert_int_equal(kvm_stats_read(&s, v), -ENOENT);
}

static void test_malformed(void **state)
{
	static const struct fake_desc one[] = {
		{ "exits", KVM_STATS_TYPE_CUMULATIVE, 1, 0 },
	};
	static const struct fake_desc only_hist[] = {
		{ "hist", KVM_STATS_TYPE_LINEAR_HIST, 8, 0 },
	};
	static const struct fake_desc past_end[] = {
		{ "exits", KVM_STATS_TYPE_CUMULATIVE, 1, 800 },
	};
	static const uint64_t data[1] = { 1 };
	struct kvm_stats s;
	uint64_t v[KVM_STATS_MAX];
	int fd;

	(void)state;
	/* No descriptors; absurd name sizes. */
	assert_int_equal(kvm_stats_init(&s, make_file(one, 0, NAME_SIZE, data, 1)), -EINVAL);
	assert_int_equal(kvm_stats_init(&s, make_file(one, 1, 1, data, 1)), -EINVAL);
	assert_int_equal(kvm_stats_init(&s, make_file(one, 1, 1u << 20, data, 1)), -EINVAL);
	/* A file shorter than its header. */
	fd = memfd_create("short", MFD_CLOEXEC);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_equal(kvm_stats_init(&s, fd), -EINVAL);
	assert_int_equal(s.fd, -1);
	/* Nothing usable: no stats, no fd kept. */
	assert_int_equal(kvm_stats_init(&s, make_file(only_hist, 1, NAME_SIZE, data, 1)), -ENOENT);
	assert_int_equal(s.fd, -1);
	/* Data past the file's end: the read fails, nothing made up. */
	assert_int_equal(kvm_stats_init(&s, make_file(past_end, 1, NAME_SIZE, data, 1)), 0);
	assert_int_equal(kvm_stats_read(&s, v), -EIO);
	kvm_stats_close(&s);
	/* Not a stats fd at all. */
	assert_true(kvm_stats_open(&s, -1) < 0);
	assert_int_equal(s.fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
