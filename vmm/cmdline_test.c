// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the command line policy (vmm/cmdline.c): wisp's platform
 * words first, the user's line after, the user's parameters winning.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "cmdline.h"

static void expect(const char *platform, const char *user, const char *want)
{
	char out[256];

	assert_int_equal(cmdline_compose(out, sizeof(out), platform, user),
			 strlen(want));
	assert_string_equal(out, want);
}

static void test_platform_then_user(void **state)
{
	(void)state;
	expect("console=ttyS0", "quiet root=/dev/vda", "console=ttyS0 quiet root=/dev/vda");
	expect("console=ttyS0", NULL, "console=ttyS0");
	expect("console=ttyS0", "", "console=ttyS0");
	expect(NULL, "quiet", "quiet");		/* --no-default-cmdline */
	expect(NULL, NULL, "");
	expect("a=1  b   c=3", NULL, "a=1 b c=3");
}

static void test_user_wins(void **state)
{
	(void)state;
	/* console= is additive in Linux: the user's replaces wisp's. */
	expect("console=ttyS0", "console=hvc0", "console=hvc0");
	expect("console=ttyS0 panic=1", "quiet panic=-1",
	       "console=ttyS0 quiet panic=-1");
	/* A bare flag and a key=value count as the same parameter. */
	expect("noapic x=1", "noapic=0 x", "noapic=0 x");
	/* The kernel treats - and _ in names alike. */
	expect("foo_bar=1 other=2", "foo-bar=2", "other=2 foo-bar=2");
	/* A name that merely starts the same is another parameter. */
	expect("console=ttyS0", "consoleblank=0", "console=ttyS0 consoleblank=0");
	expect("con=1", "console=ttyS0", "con=1 console=ttyS0");
}

static void test_quotes_and_init_args(void **state)
{
	(void)state;
	/* Quoted values with spaces are one word, and are kept verbatim. */
	expect("console=ttyS0", "wisp.run=\"echo console=hvc0\"",
	       "console=ttyS0 wisp.run=\"echo console=hvc0\"");
	expect("console=ttyS0", "\"console=hvc0\"", "\"console=hvc0\"");
	/* After "--" the words are init's, not kernel parameters. */
	expect("console=ttyS0", "quiet -- console=hvc0",
	       "console=ttyS0 quiet -- console=hvc0");
	/* An unbalanced quote runs to the end, as in the kernel. */
	expect("console=ttyS0", "x=\"open console=hvc0",
	       "console=ttyS0 x=\"open console=hvc0");
}

static void test_too_long(void **state)
{
	char out[16];

	(void)state;
	memset(out, 'x', sizeof(out));
	assert_int_equal(cmdline_compose(out, sizeof(out), "console=ttyS0",
					 "quiet"), -E2BIG);
	assert_true(memchr(out, '\0', sizeof(out)) != NULL);
	/* Exactly full (15 characters and the NUL) fits. */
	assert_int_equal(cmdline_compose(out, sizeof(out), "console=ttyS0",
					 "q"), 15);
	assert_string_equal(out, "console=ttyS0 q");
	assert_int_equal(cmdline_compose(out, 0, "a", NULL), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_platform_then_user),
		cmocka_unit_test(test_user_wins),
		cmocka_unit_test(test_quotes_and_init_args),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
