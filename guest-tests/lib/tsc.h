/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Time: the TSC, calibrated once against PIT channel 2 (port 0x61 bit 5
 * reports its output).  Used to bound every wait by wall-clock time.
 */
#ifndef GUEST_TSC_H
#define GUEST_TSC_H

#include "x86.h"

/* TSC ticks per millisecond; calibrates on first call (BSP first). */
u64 tsc_khz(void);

/* A TSC value @us microseconds from now, and whether it has passed. */
u64 tsc_deadline_us(u64 us);
bool tsc_expired(u64 deadline);

/* Microseconds between two TSC values. */
u64 tsc_to_us(u64 ticks);

/* Busy-waits @us microseconds (pause loop). */
void udelay(u64 us);

/*
 * Spins with interrupts enabled until *@count (bumped by an interrupt
 * handler) reaches @n or @us microseconds pass; returns with interrupts
 * disabled, true if @n was reached.
 */
bool irq_wait_count(const volatile u32 *count, u32 n, u64 us);

#endif
