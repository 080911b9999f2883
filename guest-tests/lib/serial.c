// SPDX-License-Identifier: Apache-2.0
#include "serial.h"
#include "x86.h"

#define UART_FIFO	16
#define THRE_SPINS	100000
#define LOCK_STEAL	(1ULL << 32)	/* TSC cycles */

static volatile u32 console_lock;

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
}

static void wait_thre(void)
{
	for (int i = 0; i < THRE_SPINS; i++)
		if (inb(COM1 + UART_LSR) & UART_LSR_THRE)
			return;
}

void serial_write(const char *s, size_t n)
{
	int room = 0;

	for (size_t i = 0; i < n; i++) {
		bool crlf = s[i] == '\n';

		if (room < 1 + crlf) {
			wait_thre();
			room = UART_FIFO;
		}
		if (crlf) {
			outb(COM1 + UART_THR, '\r');
			room--;
		}
		outb(COM1 + UART_THR, s[i]);
		room--;
	}
}

void serial_puts(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	serial_write(s, n);
}

int serial_getc(void)
{
	if (!(inb(COM1 + UART_LSR) & UART_LSR_DR))
		return -1;
	return inb(COM1 + UART_RBR);
}

static bool try_lock(void)
{
	return __atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE) == 0;
}

void serial_lock(void)
{
	u64 start = rdtsc();

	while (!try_lock()) {
		for (int i = 0; i < 64; i++)
			cpu_relax();
		if (rdtsc() - start > LOCK_STEAL)
			return;
	}
}

void serial_unlock(void)
{
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

void serial_lock_force(void)
{
	for (int i = 0; i < 1000; i++) {
		if (try_lock())
			return;
		cpu_relax();
	}
}
