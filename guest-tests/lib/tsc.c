// SPDX-License-Identifier: Apache-2.0
#include "printf.h"
#include "tsc.h"

#define PIT_HZ		1193182
#define PIT_MS		10
#define PIT_LATCH	(PIT_HZ * PIT_MS / 1000)
#define PIT_MAX_TICKS	(1ULL << 30)	/* give up if OUT2 never rises */
#define MIN_KHZ		100000		/* plausible TSC rates */
#define MAX_KHZ		10000000
#define FALLBACK_KHZ	2000000

static u64 khz;

/* Counts TSC ticks over PIT_MS of PIT channel 2 in mode 0. */
static u64 pit_calibrate(void)
{
	u64 t0, t1;
	u8 v = inb(0x61);

	outb(0x61, (v & ~0x02) | 0x01);		/* gate on, speaker off */
	outb(0x43, 0xb0);			/* ch2, lo/hi, mode 0 */
	outb(0x42, PIT_LATCH & 0xff);
	outb(0x42, PIT_LATCH >> 8);
	t0 = rdtsc();
	do {
		t1 = rdtsc();
		if (inb(0x61) & 0x20)
			return (t1 - t0) / PIT_MS;
	} while (t1 - t0 < PIT_MAX_TICKS);
	return 0;
}

/*
 * The hypervisor timing leaf (EAX = TSC kHz) if the VMM offers it, else
 * the processor base frequency of leaf 0x16 (MHz).
 */
static u64 cpuid_khz(void)
{
	u32 a, b, c, d;

	cpuid(0x40000000, 0, &a, &b, &c, &d);
	if (a >= 0x40000010) {
		cpuid(0x40000010, 0, &a, &b, &c, &d);
		if (a)
			return a;
	}
	cpuid(0, 0, &a, &b, &c, &d);
	if (a < 0x16)
		return 0;
	cpuid(0x16, 0, &a, &b, &c, &d);
	return (u64)(a & 0xffff) * 1000;
}

static bool plausible(u64 k)
{
	return k >= MIN_KHZ && k <= MAX_KHZ;
}

u64 tsc_khz(void)
{
	u64 k = __atomic_load_n(&khz, __ATOMIC_ACQUIRE);

	if (k)
		return k;
	k = pit_calibrate();
	if (!plausible(k))
		k = cpuid_khz();
	if (!plausible(k)) {
		printf("tsc: calibration failed, assuming %u kHz\n",
		       FALLBACK_KHZ);
		k = FALLBACK_KHZ;
	}
	__atomic_store_n(&khz, k, __ATOMIC_RELEASE);
	return k;
}

u64 tsc_deadline_us(u64 us)
{
	return rdtsc() + us * tsc_khz() / 1000;
}

bool tsc_expired(u64 deadline)
{
	return (s64)(rdtsc() - deadline) >= 0;
}

u64 tsc_to_us(u64 ticks)
{
	return ticks * 1000 / tsc_khz();
}

void udelay(u64 us)
{
	u64 deadline = tsc_deadline_us(us);

	while (!tsc_expired(deadline))
		cpu_relax();
}

bool irq_wait_count(const volatile u32 *count, u32 n, u64 us)
{
	u64 deadline = tsc_deadline_us(us);

	irq_enable();
	while (*count < n && !tsc_expired(deadline))
		cpu_relax();
	irq_disable();
	return *count >= n;
}
