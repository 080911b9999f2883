// SPDX-License-Identifier: Apache-2.0
/* The reset-vector stub's bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "reset_vector.h"

static void test_stub(void **state)
{
	static const uint8_t want[] = {
		0xb0, 0x01, 0xba, 0x02, 0x06, 0xee, 0xfa, 0xf4, 0xeb, 0xfd,
	};
	uint8_t buf[RESET_VECTOR_SIZE + 1];
	size_t n, i;

	(void)state;
	memset(buf, 0x55, sizeof(buf));
	n = reset_vector_build(buf, 0x602, 0x01);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* The rest of the 16 bytes halts; nothing past them is written. */
	for (i = n; i < RESET_VECTOR_SIZE; i++)
		assert_int_equal(buf[i], 0xf4);
	assert_int_equal(buf[RESET_VECTOR_SIZE], 0x55);
	/* The jmp lands on the hlt: its target is 2 bytes back from its end. */
	assert_int_equal((int8_t)buf[9] + 10, 7);
	assert_int_equal(buf[7], 0xf4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stub),
	};

	return cmocka_run_group_tests_name("reset_vector", tests, NULL, NULL);
}
