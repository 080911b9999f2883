// SPDX-License-Identifier: Apache-2.0
/*
 * ioapic: the I/O APIC answers (24 pins, entries read back); then, with
 * wisp's testdev driving GSI 5, edge- and level-triggered interrupts are
 * delivered, a level interrupt is re-delivered while the line stays high,
 * and a masked level interrupt waits for the unmask.
 */
#include "guest.h"

#define EDGE_VEC	0x50
#define LEVEL_VEC	0x51
#define PIN		TESTDEV_GSI
#define WAIT_US		1000000

static volatile u32 hits;
/* Level handler: deassert the line on the n-th interrupt. */
static volatile u32 deassert_at;

static void edge_handler(struct trap_frame *f)
{
	(void)f;
	hits++;
	lapic_eoi();
}

static void level_handler(struct trap_frame *f)
{
	(void)f;
	if (++hits >= deassert_at)
		testdev_irq(0);
	lapic_eoi();
}

static bool wait_hits(u32 n)
{
	return irq_wait_count(&hits, n, WAIT_US);
}

static void test_registers(void)
{
	test_begin("ioapic-registers");
	report(ioapic_pins() == 24, "IOAPIC has %d pins", ioapic_pins());
	ioapic_route(PIN, 0x77, IOAPIC_MASKED | IOAPIC_LEVEL, 0);
	report((ioapic_entry(PIN) & 0x1ffff) ==
	       (0x77 | IOAPIC_MASKED | IOAPIC_LEVEL),
	       "redirection entry reads back (%#x)", ioapic_entry(PIN));
	ioapic_mask(PIN, true);
}

static void test_edge(void)
{
	test_begin("ioapic-edge");
	hits = 0;
	ioapic_route(PIN, EDGE_VEC, 0, 0);
	testdev_irq(1);
	report(wait_hits(1), "edge interrupt on GSI 5 delivered");
	testdev_irq(0);
	testdev_irq(1);
	report(wait_hits(2), "second rising edge delivered again");
	testdev_irq(0);
	udelay(2000);
	report(hits == 2, "no extra edge interrupts (%u)", hits);
	ioapic_mask(PIN, true);
}

static void test_level(void)
{
	test_begin("ioapic-level");
	hits = 0;
	deassert_at = 1;
	ioapic_route(PIN, LEVEL_VEC, IOAPIC_LEVEL, 0);
	testdev_irq(1);
	report(wait_hits(1), "level interrupt on GSI 5 delivered");
	udelay(2000);
	report(hits == 1 && !(ioapic_entry(PIN) & IOAPIC_REMOTE_IRR),
	       "deasserted before EOI: delivered once, remote IRR clear");

	test_begin("ioapic-level-redeliver");
	hits = 0;
	deassert_at = 2;
	testdev_irq(1);
	report(wait_hits(2),
	       "EOI with the line still high re-delivers (%u)", hits);
	udelay(2000);
	report(hits == 2, "and stops once deasserted (%u)", hits);

	test_begin("ioapic-level-masked");
	hits = 0;
	deassert_at = 1;
	ioapic_mask(PIN, true);
	testdev_irq(1);
	irq_enable();
	udelay(2000);
	irq_disable();
	report(hits == 0, "masked level interrupt not delivered");
	ioapic_mask(PIN, false);
	report(wait_hits(1),
	       "pending level interrupt delivered after unmask");
	testdev_irq(0);
	ioapic_mask(PIN, true);
}

int main(void)
{
	lapic_enable();
	set_trap_handler(EDGE_VEC, edge_handler);
	set_trap_handler(LEVEL_VEC, level_handler);
	test_registers();
	test_begin("ioapic-testdev");
	if (!testdev_present()) {
		report_skip("ioapic: testdev not found (not wisp): delivery");
		return 0;
	}
	test_edge();
	test_level();
	return 0;
}
