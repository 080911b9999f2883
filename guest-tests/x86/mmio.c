// SPDX-License-Identifier: Apache-2.0
/*
 * mmio: memory-mapped I/O round trips on the testdev (wisp only): ID,
 * 32-bit scratch with 1-, 2- and 4-byte accesses, 64-bit scratch with
 * 8-byte accesses, the access counter; and unclaimed MMIO, which reads
 * all-ones and ignores writes (also wisp only: QEMU reads 0 there).
 */
#include "guest.h"

#define MMIO(reg)	(TESTDEV_MMIO + (reg))
/* Right after the testdev's 4 KiB page; nothing is mapped there. */
#define UNCLAIMED_MMIO	(TESTDEV_MMIO + 0x1000)

static void test_scratch(void)
{
	static const u64 values[] = {
		0x0123456789abcdef, 0xfedcba9876543210, 0, ~0ULL,
	};
	bool ok = true;

	test_begin("mmio-scratch");
	writel(MMIO(TESTDEV_SCRATCH), 0x12345678);
	report(readl(MMIO(TESTDEV_SCRATCH)) == 0x12345678,
	       "testdev scratch: 4-byte write reads back");
	writew(MMIO(TESTDEV_SCRATCH), 0xbeef);
	report(readw(MMIO(TESTDEV_SCRATCH)) == 0xbeef,
	       "testdev scratch: 2-byte write reads back");
	writeb(MMIO(TESTDEV_SCRATCH), 0x5a);
	report(readb(MMIO(TESTDEV_SCRATCH)) == 0x5a,
	       "testdev scratch: 1-byte write reads back");
	writel(MMIO(TESTDEV_SCRATCH), 0x600dcafe);
	report(inl(TESTDEV_PIO + TESTDEV_SCRATCH) == 0x600dcafe,
	       "testdev scratch written by MMIO reads back through PIO");
	for (unsigned i = 0; i < ARRAY_SIZE(values); i++) {
		writeq(MMIO(TESTDEV_SCRATCH64), values[i]);
		ok &= readq(MMIO(TESTDEV_SCRATCH64)) == values[i];
	}
	report(ok, "testdev 64-bit scratch: 8-byte writes read back");
}

static void test_counter(void)
{
	u64 c1, c2;

	test_begin("mmio-counter");
	c1 = readq(MMIO(TESTDEV_COUNT));
	readl(MMIO(TESTDEV_ID));
	c2 = readq(MMIO(TESTDEV_COUNT));
	report(c2 > c1, "testdev access counter advances (%lu -> %lu)",
	       c1, c2);
	writel(MMIO(0x0c), 0x22222222);
	report(readl(MMIO(0x0c)) == 0,
	       "unimplemented testdev offset 0x0c reads 0, ignores writes");
}

static void test_unclaimed(void)
{
	test_begin("mmio-unclaimed");
	report(readb(UNCLAIMED_MMIO) == 0xff &&
	       readw(UNCLAIMED_MMIO) == 0xffff &&
	       readl(UNCLAIMED_MMIO) == 0xffffffff &&
	       readq(UNCLAIMED_MMIO) == ~0ULL,
	       "unclaimed MMIO %#lx reads all-ones (1, 2, 4, 8 bytes)",
	       UNCLAIMED_MMIO);
	writel(UNCLAIMED_MMIO, 0x12345678);
	writeq(UNCLAIMED_MMIO + 8, 0);
	report(readl(UNCLAIMED_MMIO) == 0xffffffff,
	       "writes to unclaimed MMIO are ignored");
}

int main(void)
{
	test_begin("mmio-testdev");
	if (!testdev_present()) {
		report_skip("mmio: testdev not found (not wisp): all checks");
		return 0;
	}
	report(readl(MMIO(TESTDEV_ID)) == TESTDEV_MAGIC,
	       "testdev ID reads 'WISP' through MMIO");
	test_scratch();
	test_counter();
	test_unclaimed();
	return 0;
}
