// SPDX-License-Identifier: Apache-2.0
/*
 * flood: CPU 1 floods the console at CPL3 (at least flood_kib=N KiB,
 * default 256, and on until the BSP wants the console for its results)
 * while the BSP keeps doing CPL3 work; once the AP has pushed enough, the
 * BSP reports and exits 0.  The runner does not read wisp's stdout until
 * wisp exits, so a VMM whose console output blocks a vCPU never lets the
 * AP get that far: the guest gives up after wait=S seconds (exit 1), or
 * the runner's timeout fires.
 */
#include "guest.h"

#define LINE		64
#define WORK_N		100000ULL

static u64 target;
static u64 flood_max;
static u64 wait_us;
static u64 flood_bytes;
static int quiet;		/* BSP wants the console */
static int quiet_ack;		/* AP has stepped back */

/* Writes the low 32 bits of @v as 8 hex digits at @p. */
static void put_hex8(char *p, u64 v)
{
	for (int i = 7; i >= 0; i--, v >>= 4)
		p[i] = "0123456789abcdef"[v & 0xf];
}

/* CPL3 on the AP: 64-byte lines, one lock hold each, until told quiet. */
static u64 flood_user(u64 arg)
{
	char line[LINE] = "flood 00000000 "
		"................................................\n";
	u64 deadline = tsc_deadline_us(wait_us);
	u64 n = 0;

	(void)arg;
	while (n < flood_max && !tsc_expired(deadline)) {
		if (__atomic_load_n(&quiet, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&quiet_ack, 1, __ATOMIC_RELEASE);
			cpu_relax();
			continue;
		}
		put_hex8(line + 6, n / LINE);
		serial_lock();
		serial_write(line, LINE);
		serial_unlock();
		n += LINE;
		__atomic_store_n(&flood_bytes, n, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&quiet_ack, 1, __ATOMIC_RELEASE);
	return n;
}

static void flood_ap(int id)
{
	(void)id;
	run_user(flood_user, 0);
}

/* CPL3 on the BSP: the sum of seed * i over i < WORK_N. */
static u64 work(u64 seed)
{
	u64 sum = 0;

	for (u64 i = 0; i < WORK_N; i++) {
		sum += seed * i;
		barrier();
	}
	return sum;
}

static bool wait_quiet(void)
{
	u64 deadline = tsc_deadline_us(5000000);

	__atomic_store_n(&quiet, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&quiet_ack, __ATOMIC_ACQUIRE))
		if (tsc_expired(deadline))
			return false;
	return true;
}

int main(void)
{
	u64 rounds = 0, pushed;
	bool work_ok = true;
	u64 deadline;

	target = cmdline_get_ulong("flood_kib", 256) * 1024;
	flood_max = 64 * target;
	wait_us = cmdline_get_ulong("wait", 60) * 1000000;
	test_begin("flood");
	if (smp_start(2, flood_ap) < 2) {
		report(false, "flood: CPU 1 did not start (need --cpus 2)");
		return 0;
	}
	deadline = tsc_deadline_us(wait_us);
	while (__atomic_load_n(&flood_bytes, __ATOMIC_ACQUIRE) < target &&
	       !tsc_expired(deadline)) {
		work_ok &= run_user(work, rounds + 1) ==
			   (rounds + 1) * (WORK_N * (WORK_N - 1) / 2);
		rounds++;
	}
	wait_quiet();
	pushed = __atomic_load_n(&flood_bytes, __ATOMIC_ACQUIRE);
	report(pushed >= target, "CPU 1 pushed %lu KiB of console output",
	       pushed >> 10);
	report(work_ok && rounds > 0,
	       "BSP did %lu rounds of CPL3 work meanwhile", rounds);
	return 0;
}
