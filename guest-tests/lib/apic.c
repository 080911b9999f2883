// SPDX-License-Identifier: Apache-2.0
#include "apic.h"
#include "tsc.h"

#define ICR_SPINS	100000

u32 lapic_read(u32 reg)
{
	return readl(LAPIC_BASE + reg);
}

void lapic_write(u32 reg, u32 val)
{
	writel(LAPIC_BASE + reg, val);
}

void lapic_enable(void)
{
	lapic_write(APIC_SVR, 0x100 | 0xff);
	lapic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	lapic_write(APIC_TPR, 0);
}

u32 lapic_id(void)
{
	return lapic_read(APIC_ID) >> 24;
}

void lapic_eoi(void)
{
	lapic_write(APIC_EOI, 0);
}

int lapic_send_ipi(u32 dest, u32 icr_low)
{
	lapic_write(APIC_ICR_HIGH, dest << 24);
	lapic_write(APIC_ICR_LOW, icr_low);
	for (int i = 0; i < ICR_SPINS; i++) {
		if (!(lapic_read(APIC_ICR_LOW) & APIC_ICR_BUSY))
			return 0;
		cpu_relax();
	}
	return -1;
}

int lapic_start_ap(u32 dest, u32 page)
{
	if (lapic_send_ipi(dest, APIC_DM_INIT | APIC_LEVEL_ASSERT) < 0)
		return -1;
	udelay(100);
	for (int i = 0; i < 2; i++) {
		if (lapic_send_ipi(dest, APIC_DM_STARTUP | page) < 0)
			return -1;
		udelay(100);
	}
	return 0;
}

void lapic_timer_start(u8 vector, u32 count, bool periodic)
{
	lapic_write(APIC_TIMER_DCR, 0xb);		/* divide by 1 */
	lapic_write(APIC_LVT_TIMER,
		    vector | (periodic ? APIC_TIMER_PERIODIC : 0));
	lapic_write(APIC_TIMER_ICR, count);
}

void lapic_timer_stop(void)
{
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	lapic_write(APIC_TIMER_ICR, 0);
}

u64 lapic_timer_khz(void)
{
	static u64 khz;
	u32 left;

	if (khz)
		return khz;
	lapic_write(APIC_TIMER_DCR, 0xb);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	lapic_write(APIC_TIMER_ICR, 0xffffffff);
	udelay(10000);
	left = lapic_read(APIC_TIMER_CCR);
	lapic_write(APIC_TIMER_ICR, 0);
	khz = (0xffffffffULL - left) / 10;
	if (!khz)
		khz = 1;
	return khz;
}

u32 ioapic_read(u32 reg)
{
	writel(IOAPIC_BASE, reg);
	return readl(IOAPIC_BASE + 0x10);
}

void ioapic_write(u32 reg, u32 val)
{
	writel(IOAPIC_BASE, reg);
	writel(IOAPIC_BASE + 0x10, val);
}

int ioapic_pins(void)
{
	return ((ioapic_read(0x01) >> 16) & 0xff) + 1;
}

void ioapic_route(int pin, u8 vector, u32 flags, u8 dest)
{
	/* Mask first so a half-written entry never fires. */
	ioapic_write(0x10 + 2 * pin, IOAPIC_MASKED);
	ioapic_write(0x11 + 2 * pin, (u32)dest << 24);
	ioapic_write(0x10 + 2 * pin, vector | flags);
}

void ioapic_mask(int pin, bool masked)
{
	u32 lo = ioapic_read(0x10 + 2 * pin);

	lo = masked ? lo | IOAPIC_MASKED : lo & ~IOAPIC_MASKED;
	ioapic_write(0x10 + 2 * pin, lo);
}

u32 ioapic_entry(int pin)
{
	return ioapic_read(0x10 + 2 * pin);
}

void pic_disable(void)
{
	outb(0x20, 0x11);	/* ICW1: init, ICW4 follows */
	outb(0xa0, 0x11);
	outb(0x21, 0x20);	/* ICW2: vector bases */
	outb(0xa1, 0x28);
	outb(0x21, 0x04);	/* ICW3: slave on IRQ2 */
	outb(0xa1, 0x02);
	outb(0x21, 0x01);	/* ICW4: 8086 mode */
	outb(0xa1, 0x01);
	outb(0x21, 0xff);	/* OCW1: mask all */
	outb(0xa1, 0xff);
}
