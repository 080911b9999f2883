// SPDX-License-Identifier: Apache-2.0
/*
 * reset: asks the i8042 for a reset (0xfe to port 0x64).  wisp exits with
 * status 80.  Should the guest still run, that is a failure.
 */
#include "guest.h"

int main(void)
{
	printf("reset: writing 0xfe to port 0x64\n");
	outb(0x64, 0xfe);
	udelay(1000000);
	report(false, "reset: still running 1 s after the i8042 reset");
	return 0;
}
