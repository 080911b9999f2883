// SPDX-License-Identifier: Apache-2.0
/*
 * lapic-timer: the LAPIC timer fires in one-shot mode (not early), wakes
 * hlt in periodic mode, and stays quiet once stopped.
 */
#include "guest.h"

#define TIMER_VEC	0x40
#define ONESHOT_US	2000
#define PERIOD_US	1000
#define TICKS		10

static volatile u32 ticks;
static volatile u64 fired_tsc;

static void timer_handler(struct trap_frame *f)
{
	(void)f;
	if (!ticks)
		fired_tsc = rdtsc();
	ticks++;
	lapic_eoi();
}

/* A masked one-shot of 1 s, so a slow host cannot see it expire. */
static void test_count(u64 khz)
{
	u32 ccr1, ccr2;

	test_begin("count");
	lapic_timer_start(TIMER_VEC, khz * 1000, false);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | TIMER_VEC);
	ccr1 = lapic_read(APIC_TIMER_CCR);
	udelay(100);
	ccr2 = lapic_read(APIC_TIMER_CCR);
	lapic_timer_stop();
	report(ccr1 && ccr2 < ccr1, "current count runs down (%u, %u)",
	       ccr1, ccr2);
}

static void test_oneshot(u64 khz)
{
	u64 start, us;

	test_begin("oneshot");
	ticks = 0;
	start = rdtsc();
	lapic_timer_start(TIMER_VEC, khz * ONESHOT_US / 1000, false);
	report(irq_wait_count(&ticks, 1, 1000000), "one-shot timer interrupt arrived");
	us = tsc_to_us(fired_tsc - start);
	report(ticks == 1 && us >= ONESHOT_US / 2,
	       "one-shot fired once, after %lu us (programmed %u us)", us,
	       ONESHOT_US);
	udelay(3 * ONESHOT_US);
	report(ticks == 1, "one-shot timer fired only once (%u)", ticks);
}

static void test_periodic(u64 khz)
{
	int halts = 0;

	test_begin("periodic");
	ticks = 0;
	lapic_timer_start(TIMER_VEC, khz * PERIOD_US / 1000, true);
	/* Each tick wakes the hlt; bounded by the number of halts. */
	while (ticks < TICKS && halts < 100 * TICKS) {
		safe_halt();
		irq_disable();
		halts++;
	}
	report(ticks >= TICKS, "periodic timer woke hlt %u times in %d halts",
	       ticks, halts);
	lapic_timer_stop();
	/* A tick raised just before the stop may still be pending: take it. */
	irq_enable();
	udelay(1000);
	irq_disable();
	ticks = 0;
	irq_enable();
	udelay(5 * PERIOD_US);
	irq_disable();
	report(ticks == 0, "no ticks after the timer is stopped (%u)", ticks);
}

int main(void)
{
	u64 khz;

	lapic_enable();
	set_trap_handler(TIMER_VEC, timer_handler);
	khz = lapic_timer_khz();
	printf("lapic timer: %lu kHz, tsc: %lu kHz\n", khz, tsc_khz());
	test_count(khz);
	test_oneshot(khz);
	test_periodic(khz);
	return 0;
}
