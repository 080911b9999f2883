// SPDX-License-Identifier: Apache-2.0
/*
 * exit: writes status=N from the command line to the exit port with a
 * width=1|2|4 byte `out` (default 4).  wisp exits with N (63 for N > 63);
 * QEMU's isa-debug-exit with (N << 1) | 1.  Prints no PASS/FAIL: the exit
 * status is the result.
 */
#include "guest.h"

int main(void)
{
	unsigned long status = cmdline_get_ulong("status", ~0UL);
	unsigned long width = cmdline_get_ulong("width", 4);

	if (status == ~0UL) {
		report(false, "exit: no status=N on the command line");
		return 0;
	}
	printf("exit: writing %lu to port %#x with a %lu-byte out\n",
	       status, EXIT_PORT, width);
	if (width == 1)
		outb(EXIT_PORT, status);
	else if (width == 2)
		outw(EXIT_PORT, status);
	else
		outl(EXIT_PORT, status);
	exit_port_failed();
}
