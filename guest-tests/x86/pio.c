// SPDX-License-Identifier: Apache-2.0
/*
 * pio: port I/O round trips.  Unclaimed ports read all-ones and ignore
 * writes (everywhere); the testdev ID and scratch registers (wisp only)
 * work with 1-, 2- and 4-byte accesses, and the scratch register is the
 * same one that MMIO sees.
 */
#include "guest.h"

#define UNCLAIMED_PORT	0x2f0
#define PIO(reg)	(TESTDEV_PIO + (reg))

static void test_unclaimed(void)
{
	test_begin("pio-unclaimed");
	report(inb(UNCLAIMED_PORT) == 0xff,
	       "unclaimed port %#x reads 0xff (1 byte)", UNCLAIMED_PORT);
	report(inw(UNCLAIMED_PORT) == 0xffff,
	       "unclaimed port %#x reads 0xffff (2 bytes)", UNCLAIMED_PORT);
	report(inl(UNCLAIMED_PORT) == 0xffffffff,
	       "unclaimed port %#x reads 0xffffffff (4 bytes)", UNCLAIMED_PORT);
	outb(UNCLAIMED_PORT, 0x12);
	outw(UNCLAIMED_PORT, 0x3456);
	outl(UNCLAIMED_PORT, 0x789abcde);
	report(inl(UNCLAIMED_PORT) == 0xffffffff,
	       "writes to an unclaimed port are ignored");
}

static void test_scratch(void)
{
	static const u32 values[] = { 0x12345678, 0xdeadbeef, 0, 0xffffffff };
	bool ok = true;

	test_begin("pio-scratch");
	for (unsigned i = 0; i < ARRAY_SIZE(values); i++) {
		outl(PIO(TESTDEV_SCRATCH), values[i]);
		ok &= inl(PIO(TESTDEV_SCRATCH)) == values[i];
	}
	report(ok, "testdev scratch: 4-byte writes read back");
	outw(PIO(TESTDEV_SCRATCH), 0xbeef);
	report(inw(PIO(TESTDEV_SCRATCH)) == 0xbeef,
	       "testdev scratch: 2-byte write reads back");
	outb(PIO(TESTDEV_SCRATCH), 0x5a);
	report(inb(PIO(TESTDEV_SCRATCH)) == 0x5a,
	       "testdev scratch: 1-byte write reads back");
	outl(PIO(TESTDEV_SCRATCH), 0xcafef00d);
	report(readl(TESTDEV_MMIO + TESTDEV_SCRATCH) == 0xcafef00d,
	       "testdev scratch written by PIO reads back through MMIO");
}

static void test_registers(void)
{
	test_begin("pio-registers");
	outl(PIO(TESTDEV_ID), 0x11111111);
	report(inl(PIO(TESTDEV_ID)) == TESTDEV_MAGIC,
	       "testdev ID is read-only");
	outl(PIO(0x0c), 0x22222222);
	report(inl(PIO(0x0c)) == 0,
	       "unimplemented testdev offset 0x0c reads 0, ignores writes");
}

int main(void)
{
	test_unclaimed();
	test_begin("pio-testdev");
	if (!testdev_present()) {
		report_skip("pio: testdev not found (not wisp): ID, scratch");
		return 0;
	}
	report(true, "testdev ID reads %#x ('WISP')", TESTDEV_MAGIC);
	test_scratch();
	test_registers();
	return 0;
}
