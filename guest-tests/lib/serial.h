/* SPDX-License-Identifier: Apache-2.0 */
/*
 * COM1 (16550A at 0x3f8), polled.  Output translates "\n" to "\r\n".
 */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <stddef.h>

#define COM1		0x3f8
#define UART_RBR	0	/* receive buffer (read) */
#define UART_THR	0	/* transmit holding (write) */
#define UART_IER	1
#define UART_LSR	5
#define UART_LSR_DR	0x01	/* data ready */
#define UART_LSR_THRE	0x20	/* transmit FIFO empty */

/* Disables UART interrupts; the library polls.  BSP, at boot. */
void serial_init(void);

/*
 * Writes @n bytes, no locking.  Waits (bounded) for THRE before each burst
 * of 16 bytes, the 16550A FIFO size.
 */
void serial_write(const char *s, size_t n);
void serial_puts(const char *s);

/* Returns the next received byte, or -1 if none is waiting. */
int serial_getc(void);

/*
 * The console lock: an xchg spinlock serialising whole lines between
 * CPUs.  Not recursive and does not touch the interrupt flag, so
 * interrupt handlers must not print (the fatal-trap path uses
 * serial_lock_force()).  A lock held for more than about 2^32 TSC cycles
 * is taken over, so a CPU that died holding it cannot silence the others.
 */
void serial_lock(void);
void serial_unlock(void);
void serial_lock_force(void);

#endif
