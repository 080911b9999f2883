/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Local APIC (xAPIC, MMIO at 0xfee00000), I/O APIC (0xfec00000) and the
 * legacy 8259 PICs, which the library keeps masked.
 */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include "x86.h"

#define LAPIC_BASE		0xfee00000UL
#define IOAPIC_BASE		0xfec00000UL

#define APIC_ID			0x020
#define APIC_TPR		0x080
#define APIC_EOI		0x0b0
#define APIC_SVR		0x0f0
#define APIC_ICR_LOW		0x300
#define APIC_ICR_HIGH		0x310
#define APIC_LVT_TIMER		0x320
#define APIC_LVT_LINT0		0x350
#define APIC_TIMER_ICR		0x380
#define APIC_TIMER_CCR		0x390
#define APIC_TIMER_DCR		0x3e0

#define APIC_LVT_MASKED		(1U << 16)
#define APIC_TIMER_PERIODIC	(1U << 17)
#define APIC_ICR_BUSY		(1U << 12)
#define APIC_DM_FIXED		0x000
#define APIC_DM_INIT		0x500
#define APIC_DM_STARTUP		0x600
#define APIC_LEVEL_ASSERT	0x4000

u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 val);

/*
 * Software-enables this CPU's LAPIC (spurious vector 0xff), masks LINT0
 * (the PIC's ExtINT path) and sets TPR 0.
 */
void lapic_enable(void);
u32 lapic_id(void);
void lapic_eoi(void);

/*
 * Sends an IPI: @icr_low (vector | delivery mode | flags) to APIC ID
 * @dest.  Returns 0, or -1 if the ICR stayed busy.
 */
int lapic_send_ipi(u32 dest, u32 icr_low);

/* INIT, then two STARTUPs at page @page.  Returns 0 or -1 (busy ICR). */
int lapic_start_ap(u32 dest, u32 page);

/* Timer, divide-by-1: one-shot or periodic interrupts at @vector. */
void lapic_timer_start(u8 vector, u32 count, bool periodic);
void lapic_timer_stop(void);
/* Timer ticks per millisecond, measured against the TSC once. */
u64 lapic_timer_khz(void);

/* I/O APIC redirection entries. */
#define IOAPIC_LEVEL		(1U << 15)
#define IOAPIC_ACTIVE_LOW	(1U << 13)
#define IOAPIC_REMOTE_IRR	(1U << 14)
#define IOAPIC_MASKED		(1U << 16)

u32 ioapic_read(u32 reg);
void ioapic_write(u32 reg, u32 val);
/* Number of redirection entries (pins). */
int ioapic_pins(void);
/*
 * Routes @pin to @vector, fixed delivery, physical destination APIC ID
 * @dest; @flags is any of IOAPIC_LEVEL, IOAPIC_ACTIVE_LOW, IOAPIC_MASKED.
 */
void ioapic_route(int pin, u8 vector, u32 flags, u8 dest);
void ioapic_mask(int pin, bool masked);
/* Low dword of @pin's redirection entry (remote IRR, mask...). */
u32 ioapic_entry(int pin);

/* Remaps both 8259s to vectors 0x20-0x2f and masks every line. */
void pic_disable(void);

#endif
