// SPDX-License-Identifier: Apache-2.0
/*
 * hold: prints READY, then waits up to wait=S seconds (default 120) for
 * one byte on the serial input, polling the UART between LAPIC timer
 * ticks with hlt.  The runner inspects wisp from outside meanwhile, then
 * sends the byte (or Ctrl-A x, or lets --timeout fire).
 */
#include "guest.h"

#define TICK_VEC	0x40
#define TICK_US		10000

static volatile u64 ticks;

static void tick_handler(struct trap_frame *f)
{
	(void)f;
	ticks++;
	lapic_eoi();
}

int main(void)
{
	unsigned long wait_s = cmdline_get_ulong("wait", 120);
	u64 max_ticks = wait_s * (1000000 / TICK_US);
	int c;

	lapic_enable();
	set_trap_handler(TICK_VEC, tick_handler);
	for (int i = 0; i < 64 && serial_getc() >= 0; i++)
		;	/* drop anything that arrived before READY */
	printf("READY: waiting up to %lu s for a byte on the serial input\n",
	       wait_s);
	lapic_timer_start(TICK_VEC, lapic_timer_khz() * TICK_US / 1000, true);
	while ((c = serial_getc()) < 0 && ticks < max_ticks) {
		safe_halt();
		irq_disable();
	}
	lapic_timer_stop();
	test_begin("hold");
	if (c >= 0)
		report(true, "hold: received byte %#x after %lu ticks", c,
		       ticks);
	else
		report(false, "hold: no input within %lu s", wait_s);
	return 0;
}
