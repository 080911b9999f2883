// SPDX-License-Identifier: Apache-2.0
/*
 * exitloop: exits to the VMM as fast as the guest can make them, for
 * benchmarks (tools/bench) and for the --exit-stats test.
 *
 * At CPL3, `count` (default 200000) 4-byte port writes to 0xe0, then
 * `count` 4-byte MMIO reads at 0xfeb00000: under wisp the testdev's ID
 * register (the write is ignored), under QEMU unassigned I/O; either way
 * every access leaves KVM for the VMM's user space.  Each phase is timed
 * with the TSC and reported as
 *
 *   exitloop: pio 200000 exits in 123456 us (1620000 exits/s, 617 ns each)
 *   exitloop: mmio 200000 exits in ...
 *
 * after a line with the TSC rate used, `exitloop: tsc 2994000 kHz`.  The
 * PASS lines carry no timing, so they are the same under every VMM.
 *
 * Parameters: count=N (at least 1); tsc_khz=N, the TSC rate to use instead
 * of calibrating against the PIT, for VMMs without PIT channel 2 on port
 * 0x61 (QEMU's microvm), where the library would fall back to a guess.
 */
#include "guest.h"

#define LOOP_PORT	TESTDEV_PIO			/* 0xe0 */
#define LOOP_MMIO	(TESTDEV_MMIO + TESTDEV_ID)	/* 0xfeb00000 */
#define DEFAULT_COUNT	200000

/* CPL3 (IOPL 3): @n port writes.  Returns @n. */
static u64 user_pio(u64 n)
{
	for (u64 i = 0; i < n; i++)
		outl(LOOP_PORT, (u32)i);
	return n;
}

/* CPL3: @n MMIO reads.  Returns what they read, folded, to keep them. */
static u64 user_mmio(u64 n)
{
	u32 fold = 0;

	for (u64 i = 0; i < n; i++)
		fold ^= readl(LOOP_MMIO);
	return fold;
}

static u64 khz;

static void phase(const char *name, u64 (*fn)(u64), u64 n)
{
	u64 t0, t1, us;

	t0 = rdtsc();
	run_user(fn, n);
	t1 = rdtsc();
	us = (t1 - t0) * 1000 / khz;
	if (!us)
		us = 1;
	printf("exitloop: %s %lu exits in %lu us (%lu exits/s, %lu ns each)\n",
	       name, n, us, n * 1000000 / us, us * 1000 / n);
}

int main(void)
{
	u64 n = cmdline_get_ulong("count", DEFAULT_COUNT);

	test_begin("exitloop");
	if (!n) {
		report(false, "exitloop: count must be at least 1");
		return 0;
	}
	/* Calibrate before the clock starts. */
	khz = cmdline_get_ulong("tsc_khz", 0);
	if (!khz)
		khz = tsc_khz();
	printf("exitloop: tsc %lu kHz\n", khz);
	phase("pio", user_pio, n);
	report(true, "exitloop: %lu port writes to %#x", n, LOOP_PORT);
	phase("mmio", user_mmio, n);
	report(true, "exitloop: %lu MMIO reads at %#lx", n, LOOP_MMIO);
	return 0;
}
