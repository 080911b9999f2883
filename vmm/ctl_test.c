// SPDX-License-Identifier: Apache-2.0
/*
 * The control client's pure helpers: the socket directory, NAME to
 * socket path, --timeout/--watch values, balloon SIZEs, sizes, uptimes
 * and CPU lists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "ctl.h"

static void test_run_dir(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(ctl_run_dir(0, NULL, "/run/user/0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/wisp");
	assert_int_equal(ctl_run_dir(1000, NULL, "/run/user/1000", buf,
				     sizeof(buf)), 0);
	assert_string_equal(buf, "/run/user/1000/wisp");
	assert_int_equal(ctl_run_dir(1000, NULL, NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/wisp-1000");
	assert_int_equal(ctl_run_dir(1000, "", "", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/wisp-1000");
	assert_int_equal(ctl_run_dir(1000, NULL, "run", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/wisp-1000");
	/* WISP_RUN_DIR wins, for root too. */
	assert_int_equal(ctl_run_dir(0, "/tmp/x", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/x");
	assert_int_equal(ctl_run_dir(1000, NULL, "/a/very/long/runtime/directory",
				     buf, 16), -ENAMETOOLONG);
}

static void test_socket_path(void **state)
{
	char buf[64], name[66];

	(void)state;
	assert_int_equal(ctl_socket_path("web", "/run/wisp", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/wisp/web.sock");
	assert_int_equal(ctl_socket_path("a.b_c-9", "/d", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/d/a.b_c-9.sock");
	/* A '/' makes it a path, taken as is. */
	assert_int_equal(ctl_socket_path("./x", "/d", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "./x");
	assert_int_equal(ctl_socket_path("/tmp/vm api", "/d", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/vm api");
	/* Not names. */
	assert_int_equal(ctl_socket_path("", "/d", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ctl_socket_path("a b", "/d", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ctl_socket_path("a:b", "/d", buf, sizeof(buf)), -EINVAL);
	memset(name, 'a', 64);
	name[64] = '\0';
	assert_int_equal(ctl_socket_path(name, "/d", buf, sizeof(buf)),
			 -ENAMETOOLONG);
	assert_int_equal(ctl_socket_path(name, "/d", buf, 0), -ENAMETOOLONG);
	name[64] = 'a';
	name[65] = '\0';
	assert_int_equal(ctl_socket_path(name, "/d", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ctl_socket_path("web", "/run/wisp", buf, 18),
			 -ENAMETOOLONG);
}

static void test_parse_seconds(void **state)
{
	double v = -1;

	(void)state;
	assert_int_equal(ctl_parse_seconds("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(ctl_parse_seconds("30", &v), 0);
	assert_true(v == 30);
	assert_int_equal(ctl_parse_seconds("0.5", &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(ctl_parse_seconds(".25", &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(ctl_parse_seconds("2.", &v), 0);
	assert_true(v == 2);
	assert_int_equal(ctl_parse_seconds("86400", &v), 0);
	assert_true(v == 86400);
	assert_int_equal(ctl_parse_seconds("86400.5", &v), -ERANGE);
	assert_int_equal(ctl_parse_seconds("1e3", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("-1", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds(".", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("1.2.3", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("0x10", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("inf", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("nan", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds(" 1", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("1s", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("99999999999999999999999", &v),
			 -ERANGE);
}

static void test_parse_size(void **state)
{
	uint64_t v = 1;

	(void)state;
	assert_int_equal(ctl_parse_size("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(ctl_parse_size("256", &v), 0);	/* bare: MiB */
	assert_true(v == 256ULL << 20);
	assert_int_equal(ctl_parse_size("256M", &v), 0);
	assert_true(v == 256ULL << 20);
	assert_int_equal(ctl_parse_size("4096K", &v), 0);
	assert_true(v == 4ULL << 20);
	assert_int_equal(ctl_parse_size("1G", &v), 0);
	assert_true(v == 1ULL << 30);
	assert_int_equal(ctl_parse_size("2GiB", &v), 0);
	assert_true(v == 2ULL << 30);
	assert_int_equal(ctl_parse_size("8388607T", &v), 0);
	assert_true(v == 8388607ULL << 40);
	/* Beyond what a JSON integer of the protocol holds. */
	assert_int_equal(ctl_parse_size("8388608T", &v), -ERANGE);
	assert_int_equal(ctl_parse_size("99999999999999999999", &v), -ERANGE);
	v = 7;
	assert_int_equal(ctl_parse_size("", &v), -EINVAL);
	assert_int_equal(ctl_parse_size("-1", &v), -EINVAL);
	assert_int_equal(ctl_parse_size("1.5G", &v), -EINVAL);
	assert_int_equal(ctl_parse_size("12X", &v), -EINVAL);
	assert_int_equal(ctl_parse_size("M", &v), -EINVAL);
	assert_int_equal(ctl_parse_size(" 1", &v), -EINVAL);
	assert_true(v == 7);
}

static void test_format_size(void **state)
{
	static const struct {
		uint64_t bytes;
		const char *text;
	} cases[] = {
		{ 0, "0B" },
		{ 100, "100B" },
		{ 1023, "1023B" },
		{ 1024, "1K" },
		{ 1536, "1.5K" },
		{ 512ULL << 20, "512M" },
		{ 20123648, "19.2M" },
		{ 1ULL << 30, "1G" },
		{ 3ULL << 29, "1.5G" },
		{ 1023ULL << 20, "1023M" },
		{ 5ULL << 40, "5T" },
		{ UINT64_MAX, "16.0E" },
	};
	char buf[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctl_format_size(cases[i].bytes, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
}

static void test_format_uptime(void **state)
{
	static const struct {
		double s;
		const char *text;
	} cases[] = {
		{ 0, "0s" },
		{ 12.503, "12s" },
		{ 59.999, "59s" },
		{ 60, "1m00s" },
		{ 303, "5m03s" },
		{ 3599, "59m59s" },
		{ 3600, "1h00m" },
		{ 3725, "1h02m" },
		{ 86399, "23h59m" },
		{ 86400, "1d00h" },
		{ 3 * 86400 + 4 * 3600 + 59, "3d04h" },
		{ -1, "?" },
		{ 1e300, "?" },
	};
	char buf[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctl_format_uptime(cases[i].s, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
	ctl_format_uptime(0.0 / 0.0, buf, sizeof(buf));
	assert_string_equal(buf, "?");
}

static void test_format_cpus(void **state)
{
	static const int some[] = { 0, 1, 2, 3, 8, 10, 11 };
	static const int one[] = { 5 };
	static const int pair[] = { 6, 7 };
	char buf[64], small[8];

	(void)state;
	ctl_format_cpus(some, 7, buf, sizeof(buf));
	assert_string_equal(buf, "0-3,8,10-11");
	ctl_format_cpus(one, 1, buf, sizeof(buf));
	assert_string_equal(buf, "5");
	ctl_format_cpus(pair, 2, buf, sizeof(buf));
	assert_string_equal(buf, "6-7");
	ctl_format_cpus(NULL, 0, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	/* Cut short: whole ranges, then "...", always terminated. */
	ctl_format_cpus(some, 7, small, sizeof(small));
	assert_string_equal(small, "0-3...");
	ctl_format_cpus(some, 7, small, 4);
	assert_string_equal(small, "...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_dir),
		cmocka_unit_test(test_socket_path),
		cmocka_unit_test(test_parse_seconds),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_format_uptime),
		cmocka_unit_test(test_format_cpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
