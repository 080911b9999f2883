// SPDX-License-Identifier: Apache-2.0
/* virtio-blk: the --disk sub-options. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_valid),
		cmocka_unit_test(test_options_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
