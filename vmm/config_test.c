// SPDX-License-Identifier: Apache-2.0
/* Option, size and CPU-list parsing, with every error message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "config.h"

#define ARGS(...) ((char *[]){ "run", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "run", __VA_ARGS__ }) / sizeof(char *)))

/* Parse and expect a usage error whose message contains @fragment. */
#define expect_usage_error(fragment, ...) do {				\
	struct vm_config cfg_;						\
	struct wisp_err err_ = { 0 };					\
	assert_int_equal(config_parse(ARGC(__VA_ARGS__), ARGS(__VA_ARGS__), \
				      &cfg_, &err_), -EINVAL);		\
	assert_int_equal(err_.status, WISP_EXIT_USAGE);			\
	if (!strstr(err_.msg, fragment))				\
		fail_msg("message '%s' lacks '%s'", err_.msg, fragment); \
	assert_null(strchr(err_.msg, '\n'));				\
} while (0)

static void test_parse_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("256", 1 << 20, &v), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(parse_size("4096", 1, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("5G", 1, &v), 0);
	assert_int_equal(v, 5ULL << 30);
	assert_int_equal(parse_size("64k", 1, &v), 0);
	assert_int_equal(v, 64ULL << 10);
	assert_int_equal(parse_size("2MiB", 1, &v), 0);
	assert_int_equal(v, 2ULL << 20);
	assert_int_equal(parse_size("1TB", 1, &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(parse_size("0", 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_size("", 1, &v), -EINVAL);
	assert_int_equal(parse_size("M", 1, &v), -EINVAL);
	assert_int_equal(parse_size("-1", 1, &v), -EINVAL);
	assert_int_equal(parse_size("12X", 1, &v), -EINVAL);
	assert_int_equal(parse_size("1GG", 1, &v), -EINVAL);
	assert_int_equal(parse_size("1 G", 1, &v), -EINVAL);
	assert_int_equal(parse_size("0x100", 1, &v), -EINVAL);
	assert_int_equal(parse_size("18446744073709551616", 1, &v), -ERANGE);
	assert_int_equal(parse_size("16777216T", 1, &v), -ERANGE);
	assert_int_equal(parse_size("18446744073709551615", 1, &v), 0);
	assert_int_equal(v, UINT64_MAX);
}

static void test_parse_cpulist(void **state)
{
	uint16_t cpus[8];

	(void)state;
	assert_int_equal(parse_cpulist("0", cpus, 8), 1);
	assert_int_equal(cpus[0], 0);
	assert_int_equal(parse_cpulist("0,2-3", cpus, 8), 3);
	assert_int_equal(cpus[0], 0);
	assert_int_equal(cpus[1], 2);
	assert_int_equal(cpus[2], 3);
	assert_int_equal(parse_cpulist("5,1", cpus, 8), 2);
	assert_int_equal(cpus[0], 5);
	assert_int_equal(cpus[1], 1);
	assert_int_equal(parse_cpulist("1023", cpus, 8), 1);
	assert_int_equal(parse_cpulist("0-8", cpus, 8), -E2BIG);
	assert_int_equal(parse_cpulist("1024", cpus, 8), -EINVAL);
	assert_int_equal(parse_cpulist("3-1", cpus, 8), -EINVAL);
	assert_int_equal(parse_cpulist("", cpus, 8), -EINVAL);
	assert_int_equal(parse_cpulist("1,", cpus, 8), -EINVAL);
	assert_int_equal(parse_cpulist(",1", cpus, 8), -EINVAL);
	assert_int_equal(parse_cpulist("1-", cpus, 8), -EINVAL);
	assert_int_equal(parse_cpulist("a", cpus, 8), -EINVAL);
	assert_int_equal(parse_cpulist("99999999999999999999", cpus, 8), -EINVAL);
}

static void test_defaults_and_forms(void **state)
{
	struct wisp_err err = { 0 };
	struct vm_config cfg;

	(void)state;
	assert_int_equal(config_parse(ARGC("guest.elf"), ARGS("guest.elf"),
				      &cfg, &err), 0);
	assert_int_equal(cfg.action, ACTION_RUN);
	assert_string_equal(cfg.kernel, "guest.elf");
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(cfg.mem_size, 256ULL << 20);
	assert_int_equal(cfg.console, CONSOLE_STDIO);
	assert_int_equal(cfg.n_pin, 0);
	assert_false(cfg.hugepages);
	assert_null(cfg.cmdline);
	assert_int_equal(strncmp(cfg.name, "wisp-", 5), 0);

	assert_int_equal(config_parse(ARGC("--cpus=4", "--mem", "5G", "--name",
					   "vm1", "--cmdline=a b=c", "--pin",
					   "0-3", "--hugepages", "--console",
					   "file=/tmp/x", "--timeout", "30", "-v",
					   "-v", "--initrd", "rd", "--kernel", "k"),
				      ARGS("--cpus=4", "--mem", "5G", "--name",
					   "vm1", "--cmdline=a b=c", "--pin",
					   "0-3", "--hugepages", "--console",
					   "file=/tmp/x", "--timeout", "30", "-v",
					   "-v", "--initrd", "rd", "--kernel", "k"),
				      &cfg, &err), 0);
	assert_int_equal(cfg.cpus, 4);
	assert_int_equal(cfg.mem_size, 5ULL << 30);
	assert_string_equal(cfg.name, "vm1");
	assert_string_equal(cfg.cmdline, "a b=c");
	assert_int_equal(cfg.n_pin, 4);
	assert_int_equal(cfg.pin[3], 3);
	assert_true(cfg.hugepages);
	assert_int_equal(cfg.console, CONSOLE_FILE);
	assert_string_equal(cfg.console_path, "/tmp/x");
	assert_int_equal(cfg.timeout_sec, 30);
	assert_int_equal(cfg.verbose, 2);
	assert_string_equal(cfg.initrd, "rd");
	assert_string_equal(cfg.kernel, "k");

	assert_int_equal(config_parse(ARGC("--", "-odd-name.elf"),
				      ARGS("--", "-odd-name.elf"), &cfg, &err), 0);
	assert_string_equal(cfg.kernel, "-odd-name.elf");
	assert_int_equal(config_parse(ARGC("--help"), ARGS("--help"), &cfg, &err), 0);
	assert_int_equal(cfg.action, ACTION_HELP);
	assert_int_equal(config_parse(ARGC("-V"), ARGS("-V"), &cfg, &err), 0);
	assert_int_equal(cfg.action, ACTION_VERSION);
	assert_int_equal(config_parse(ARGC("--console", "none", "k"),
				      ARGS("--console", "none", "k"), &cfg, &err), 0);
	assert_int_equal(cfg.console, CONSOLE_NONE);
	assert_int_equal(err.status, 0);
}

static void test_usage_errors(void **state)
{
	(void)state;
	expect_usage_error("no kernel given", "--cpus", "2");
	expect_usage_error("more than one kernel given ('a' and 'b')", "a", "b");
	expect_usage_error("unknown option '--frobnicate'", "--frobnicate", "k");
	expect_usage_error("unknown option '-x'", "-x", "k");
	expect_usage_error("option '--mem' needs a value (SIZE)", "k", "--mem");
	expect_usage_error("option '--hugepages' takes no value", "--hugepages=1", "k");
	expect_usage_error("unexpected argument 'c' after the kernel", "--", "b", "c");
	expect_usage_error("--cpus: '0' is not a vCPU count from 1 to 254", "--cpus", "0", "k");
	expect_usage_error("--cpus: '255' is not a vCPU count", "--cpus", "255", "k");
	expect_usage_error("--cpus: 'two' is not a vCPU count", "--cpus", "two", "k");
	expect_usage_error("--cpus: '-1' is not a vCPU count", "--cpus=-1", "k");
	expect_usage_error("--cpus: '2x' is not a vCPU count", "--cpus", "2x", "k");
	expect_usage_error("--mem: '12X' is not a size", "--mem", "12X", "k");
	expect_usage_error("--mem: '' is not a size", "--mem=", "k");
	expect_usage_error("--mem: '8M' is too small (at least 16M)", "--mem", "8M", "k");
	expect_usage_error("--mem: '2T' is too large (at most 1T)", "--mem", "2T", "k");
	expect_usage_error("--mem: '99999999999999999999' is too large", "--mem", "99999999999999999999", "k");
	expect_usage_error("--mem: '16777217K' is not a multiple of 4 KiB", "--mem", "16777217K", "k");
	expect_usage_error("--mem must be a multiple of 2 MiB with --hugepages", "--hugepages", "--mem", "17M", "k");
	expect_usage_error("--name: '-x' is not a valid name", "--name", "-x", "k");
	expect_usage_error("--name: 'a/b' is not a valid name", "--name", "a/b", "k");
	expect_usage_error("--name: '' is not a valid name", "--name=", "k");
	expect_usage_error("is not a valid name", "--name",
			   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "k");
	expect_usage_error("--pin: '0-' is not a CPU list", "--pin", "0-", "k");
	expect_usage_error("--pin: '2048' is not a CPU list", "--pin", "2048", "k");
	expect_usage_error("--pin lists 1 host CPUs for 2 vCPUs", "--cpus", "2", "--pin", "0", "k");
	expect_usage_error("--pin lists 3 host CPUs for 1 vCPUs", "--pin", "0-2", "k");
	expect_usage_error("--console: 'serial' is not one of stdio, none, file=PATH", "--console", "serial", "k");
	expect_usage_error("--console: 'file=' is not one of", "--console", "file=", "k");
	expect_usage_error("--timeout: '0' is not a number of seconds", "--timeout", "0", "k");
	expect_usage_error("--timeout: '1.5' is not a number of seconds", "--timeout", "1.5", "k");
	expect_usage_error("--timeout: '99999999999' is not a number of seconds", "--timeout", "99999999999", "k");
	expect_usage_error("--kernel: empty file name", "--kernel=");
	expect_usage_error("--initrd: empty file name", "--initrd=", "k");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_cpulist),
		cmocka_unit_test(test_defaults_and_forms),
		cmocka_unit_test(test_usage_errors),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
