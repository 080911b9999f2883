// SPDX-License-Identifier: Apache-2.0
/* virtio-blk: the --disk sub-options and opening the backing file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk.h"

static void test_options_valid(void **state)
{
	struct blk_options o;
	char msg[200];

	(void)state;
	assert_int_equal(blk_parse_options("path=disk.img", &o, msg, sizeof(msg)), 0);
	assert_string_equal(o.path, "disk.img");
	assert_false(o.readonly);
	assert_false(o.direct);
	assert_string_equal(o.serial, "");
	assert_int_equal(o.queues, 0);

	assert_int_equal(blk_parse_options("readonly=on,path=/dev/vg/a,direct=on,serial=SN-01_x,queues=4",
					   &o, msg, sizeof(msg)), 0);
	assert_string_equal(o.path, "/dev/vg/a");
	assert_true(o.readonly);
	assert_true(o.direct);
	assert_string_equal(o.serial, "SN-01_x");
	assert_int_equal(o.queues, 4);

	/* ",," is a comma inside a value. */
	assert_int_equal(blk_parse_options("path=a,,b,,,readonly=off", &o, msg,
					   sizeof(msg)), 0);
	assert_string_equal(o.path, "a,b,");
	assert_false(o.readonly);
	/* A serial of exactly 20 bytes fits. */
	assert_int_equal(blk_parse_options("path=x,serial=12345678901234567890",
					   &o, msg, sizeof(msg)), 0);
	assert_string_equal(o.serial, "12345678901234567890");
}

static void test_options_bad(void **state)
{
	static const struct {
		const char *spec, *message;
	} cases[] = {
		{ "", "empty" },
		{ "disk.img", "is not KEY=VALUE" },
		{ "readonly=on", "no path= given" },
		{ "path=", "path is empty" },
		{ "path=a,path=b", "path given twice" },
		{ "path=a,ro=on", "unknown key 'ro'" },
		{ "path=a,readonly=yes", "readonly='yes' is not on or off" },
		{ "path=a,direct=", "direct='' is not on or off" },
		{ "path=a,serial=123456789012345678901", "longer than 20 bytes" },
		{ "path=a,serial=has space", "not printable ASCII" },
		{ "path=a,queues=0", "queues='0' is not a number from 1 to 64" },
		{ "path=a,queues=65", "from 1 to 64" },
		{ "path=a,queues=-1", "from 1 to 64" },
		{ "path=a,queues=2x", "from 1 to 64" },
		{ "path=a,=b", "is not KEY=VALUE" },
		{ "path=a,averyveryverylongkey=1", "is not KEY=VALUE" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct blk_options o;
		char msg[200] = "";

		if (blk_parse_options(cases[i].spec, &o, msg, sizeof(msg)) != -EINVAL ||
		    !strstr(msg, cases[i].message))
			fail_msg("'%s': got '%s', want '%s'", cases[i].spec, msg,
				 cases[i].message);
	}
}

static void write_file(const char *path, size_t size)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (size) {
		assert_int_equal(fseek(f, size - 1, SEEK_SET), 0);
		assert_int_equal(fputc(0, f), 0);
	}
	fclose(f);
}

static void test_backing(void **state)
{
	char dir[] = "/tmp/wisp-blk-XXXXXX", path[64], msg[300];
	struct blk_backing a, b, c;
	struct blk_options o;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	write_file(path, (1 << 20) + 100);
	assert_int_equal(blk_parse_options("path=x", &o, msg, sizeof(msg)), 0);
	strcpy(o.path, path);

	/* Whole sectors only: the 100-byte tail is left out. */
	assert_int_equal(blk_open_backing(&o, &a, msg, sizeof(msg)), 0);
	assert_int_equal(a.capacity, 1 << 20);
	assert_int_equal(a.ignored_tail, 100);
	assert_int_equal(a.logical_block, 512);
	assert_false(a.is_blockdev);
	/* A second read-write open is refused by the lock, a read-only too. */
	assert_int_equal(blk_open_backing(&o, &b, msg, sizeof(msg)), -EBUSY);
	assert_non_null(strstr(msg, "in use by another VM"));
	o.readonly = true;
	assert_int_equal(blk_open_backing(&o, &b, msg, sizeof(msg)), -EBUSY);
	blk_close_backing(&a);
	/* Read-only opens share the image, and keep writers out. */
	assert_int_equal(blk_open_backing(&o, &b, msg, sizeof(msg)), 0);
	assert_int_equal(blk_open_backing(&o, &c, msg, sizeof(msg)), 0);
	assert_true(b.readonly);
	o.readonly = false;
	assert_int_equal(blk_open_backing(&o, &a, msg, sizeof(msg)), -EBUSY);
	blk_close_backing(&b);
	blk_close_backing(&c);

	/* Missing, empty, and not a file. */
	snprintf(o.path, sizeof(o.path), "%s/none.img", dir);
	assert_int_equal(blk_open_backing(&o, &a, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "cannot open"));
	snprintf(o.path, sizeof(o.path), "%s/small.img", dir);
	write_file(o.path, 511);
	assert_int_equal(blk_open_backing(&o, &a, msg, sizeof(msg)), -ERANGE);
	assert_non_null(strstr(msg, "no whole 512-byte sector"));
	unlink(o.path);
	strcpy(o.path, dir);
	assert_int_equal(blk_open_backing(&o, &a, msg, sizeof(msg)), -EISDIR);
	o.readonly = true;
	assert_int_equal(blk_open_backing(&o, &a, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "neither a regular file nor a block device"));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_valid),
		cmocka_unit_test(test_options_bad),
		cmocka_unit_test(test_backing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
