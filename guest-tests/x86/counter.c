// SPDX-License-Identifier: Apache-2.0
/*
 * counter: a guest for the control socket's tests (mode control of
 * guest-tests/run).  It counts 10 ms LAPIC timer ticks and prints the
 * count every 5 ticks,
 *
 *   COUNT: 1234
 *
 * so a paused VM is one whose count stops moving.  It takes commands, one
 * byte each, on the serial input through the UART's receive interrupt
 * (GSI 4, edge), so that waiting for one makes no exit to the VMM:
 *
 *   p  the PIO phase, for exit counters: prints "PIO: armed ..." and then
 *      makes no port or MMIO access that leaves KVM until the next byte
 *      arrives; then one `inb` of that byte from RBR and `pio` (default
 *      1000) 1-byte `outb`s to the unclaimed port 0x2f0, and nothing
 *      again until a third byte, after which it prints "PIO: done ..." and
 *      counts on.  Whoever samples the exit counters after "armed" and
 *      before the third byte sees exactly pio + 1 more port I/O exits.
 *   q  quit: reports and exits through the exit port (status 0).
 *
 * The ACPI power button (GSI 9, pulsed by the VMM: the DSDT's Generic
 * Event Device) makes it print "POWER: button" and power off through
 * the sleep control register (port 0x600, SLP_TYP 5 | SLP_EN): exit
 * status 0 under wisp.  With button=ignore it prints that it ignores the
 * button and counts on.
 *
 * Parameters: pio=N (at least 1), button=off|ignore, wait=S (default 120:
 * the guest's own limit, in ticks, so time spent paused does not count).
 */
#include "guest.h"

#define TICK_VEC	0x40
#define RX_VEC		0x41
#define BUTTON_VEC	0x42
#define TICK_US		10000
#define TICKS_PER_S	(1000000 / TICK_US)
#define PRINT_TICKS	5		/* a COUNT line every 50 ms */
#define PHASE_S		60		/* bound on each wait of the PIO phase */

#define UART_MCR	4
#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT2	0x08		/* gates the UART's interrupt line */
#define UART_IER_RDI	0x01

#define COM1_GSI	4
#define GED_GSI		9		/* the power button (docs/acpi.md) */
#define SLEEP_CONTROL	0x600
#define SLP_TYP_S5	(5 << 2)
#define SLP_EN		(1 << 5)

#define PIO_PORT	0x2f0		/* unclaimed: every access exits */
#define DEFAULT_PIO	1000

static volatile u64 ticks;
static volatile u32 rx_irqs;
static volatile u32 button_irqs;

static void tick_handler(struct trap_frame *f)
{
	(void)f;
	ticks++;
	lapic_eoi();
}

static void rx_handler(struct trap_frame *f)
{
	(void)f;
	rx_irqs++;
	lapic_eoi();
}

static void button_handler(struct trap_frame *f)
{
	(void)f;
	button_irqs++;
	lapic_eoi();
}

/*
 * Waits with hlt, interrupts on, until a receive interrupt after @seen or
 * @limit ticks.  Makes no access that exits.  Returns with interrupts
 * off, true if one came.
 */
static bool wait_rx(u32 seen, u64 limit)
{
	u64 end = ticks + limit;

	irq_disable();
	while (rx_irqs == seen && ticks < end) {
		safe_halt();
		irq_disable();
	}
	return rx_irqs != seen;
}

/* Reads whatever waits in the UART; returns the last byte or -1. */
static int drain_rx(void)
{
	int c, last = -1;

	for (int i = 0; i < 64 && (c = serial_getc()) >= 0; i++)
		last = c;
	return last;
}

static bool pio_phase(u64 n)
{
	u32 seen = rx_irqs;

	printf("PIO: armed: the next byte starts 1 inb and %lu outb to %#x\n",
	       n, PIO_PORT);
	if (!wait_rx(seen, PHASE_S * TICKS_PER_S)) {
		report(false, "counter: PIO phase: no start byte in %d s",
		       PHASE_S);
		return false;
	}
	seen = rx_irqs;
	(void)inb(COM1 + UART_RBR);
	for (u64 i = 0; i < n; i++)
		outb(PIO_PORT, (u8)i);
	if (!wait_rx(seen, PHASE_S * TICKS_PER_S)) {
		report(false, "counter: PIO phase: no end byte in %d s",
		       PHASE_S);
		return false;
	}
	drain_rx();
	printf("PIO: done: 1 inb and %lu outb\n", n);
	return true;
}

static void power_button(bool ignore)
{
	if (ignore) {
		printf("POWER: button pressed, ignored (button=ignore)\n");
		return;
	}
	printf("POWER: button pressed, powering off\n");
	outb(SLEEP_CONTROL, SLP_TYP_S5 | SLP_EN);
	report(false, "counter: still running after the S5 write to %#x",
	       SLEEP_CONTROL);
	report_summary();
}

int main(void)
{
	u64 pio = cmdline_get_ulong("pio", DEFAULT_PIO);
	u64 limit = cmdline_get_ulong("wait", 120) * TICKS_PER_S;
	const char *button = cmdline_get("button");
	bool ignore = button && !strcmp(button, "ignore");
	u32 rx_seen, button_seen = 0, phases = 0, commands = 0;
	u64 next_print = PRINT_TICKS;
	bool quit = false;

	test_begin("counter");
	if (!pio) {
		report(false, "counter: pio must be at least 1");
		return 0;
	}
	lapic_enable();
	set_trap_handler(TICK_VEC, tick_handler);
	set_trap_handler(RX_VEC, rx_handler);
	set_trap_handler(BUTTON_VEC, button_handler);
	ioapic_route(COM1_GSI, RX_VEC, 0, 0);
	ioapic_route(GED_GSI, BUTTON_VEC, 0, 0);
	outb(COM1 + UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	outb(COM1 + UART_IER, UART_IER_RDI);
	drain_rx();	/* anything that came before READY */
	rx_seen = rx_irqs;
	printf("READY: counting 10 ms ticks; commands p (pio=%lu), q; "
	       "power button %s\n", pio, ignore ? "ignored" : "powers off");
	lapic_timer_start(TICK_VEC, lapic_timer_khz() * TICK_US / 1000, true);
	while (!quit && ticks < limit) {
		safe_halt();
		irq_disable();
		if (ticks >= next_print) {
			printf("COUNT: %lu\n", ticks);
			next_print = ticks + PRINT_TICKS;
		}
		if (button_irqs != button_seen) {
			button_seen = button_irqs;
			power_button(ignore);
		}
		if (rx_irqs == rx_seen)
			continue;
		rx_seen = rx_irqs;
		switch (drain_rx()) {
		case 'p':
			commands++;
			if (!pio_phase(pio))
				quit = true;
			phases++;
			rx_seen = rx_irqs;
			break;
		case 'q':
			commands++;
			quit = true;
			break;
		}
	}
	lapic_timer_stop();
	report(quit, "counter: %lu ticks counted, %u commands, %u PIO phases",
	       ticks, commands, phases);
	if (!quit)
		report(false, "counter: no 'q' within %lu ticks", limit);
	return 0;
}
