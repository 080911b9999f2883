// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the 16550A UART model (devices/serial.c) against the
 * recording fake host: transmit, THR-empty and receive interrupts, IIR,
 * the bounded receive FIFO and its flow control, loopback, the divisor
 * latch, and register accesses a guest should not make.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_host_testlib.h"
#include "serial.h"

/* Register offsets and bits, spelled out here as a guest driver sees them. */
#define RBR	0
#define THR	0
#define DLL	0
#define IER	1
#define DLM	1
#define IIR	2
#define FCR	2
#define LCR	3
#define MCR	4
#define LSR	5
#define MSR	6
#define SCR	7

#define IER_RDI		0x01
#define IER_THRI	0x02
#define IER_RLSI	0x04

#define IIR_NONE	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_FIFO	0xc0

#define LCR_8N1		0x03
#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define GSI		SERIAL_COM1_GSI

struct fixture {
	struct fake_host fh;
	struct serial *uart;
};

static int setup(void **state)
{
	struct fixture *f = malloc(sizeof(*f));

	if (!f)
		return -1;
	if (fake_host_init(&f->fh, 0, 0)) {
		free(f);
		return -1;
	}
	f->uart = serial_create(&f->fh.hs, GSI);
	if (!f->uart) {
		fake_host_free(&f->fh);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	serial_destroy(f->uart);
	fake_host_free(&f->fh);
	free(f);
	return 0;
}

static uint8_t rd(struct fixture *f, uint64_t off)
{
	uint8_t v = 0xa5;	/* the device must overwrite it */

	serial_io.read(f->uart, off, &v, 1);
	return v;
}

static void wr(struct fixture *f, uint64_t off, uint8_t v)
{
	serial_io.write(f->uart, off, &v, 1);
}

static size_t rx(struct fixture *f, const char *s)
{
	return serial_receive(f->uart, (const uint8_t *)s, strlen(s));
}

/* A byte pattern that is not the identity, so that order errors show. */
static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 37 + 11);
}

static void test_reset_state(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, IER), 0);
	assert_int_equal(rd(f, IIR), IIR_NONE);
	assert_int_equal(rd(f, LCR), 0);
	assert_int_equal(rd(f, MCR), 0);
	assert_int_equal(rd(f, LSR), LSR_THRE | LSR_TEMT);
	/* Not in loopback: carrier, data set ready and clear to send. */
	assert_int_equal(rd(f, MSR) & 0xf0, 0xb0);
	assert_int_equal(rd(f, RBR), 0);	/* empty FIFO */
	assert_int_equal(f->fh.irq_calls, 0);
	assert_int_equal(f->fh.console_calls, 0);
}

static void test_tx_goes_to_console_byte_by_byte(void **state)
{
	struct fixture *f = *state;
	static const char msg[] = "Hello, wisp\r\n";
	size_t i;

	for (i = 0; i < sizeof(msg) - 1; i++) {
		wr(f, THR, (uint8_t)msg[i]);
		/* Transmission completes at once. */
		assert_int_equal(rd(f, LSR) & (LSR_THRE | LSR_TEMT),
				 LSR_THRE | LSR_TEMT);
	}
	assert_int_equal(f->fh.console_calls, sizeof(msg) - 1);
	assert_int_equal(f->fh.console_len, sizeof(msg) - 1);
	assert_memory_equal(f->fh.console, msg, sizeof(msg) - 1);
	/* No interrupt enabled, OUT2 low: the line never moved. */
	assert_int_equal(f->fh.irq_calls, 0);
}

static void test_tx_all_byte_values(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	for (i = 0; i < 256; i++)
		wr(f, THR, (uint8_t)i);
	assert_int_equal(f->fh.console_len, 256);
	for (i = 0; i < 256; i++)
		assert_int_equal(f->fh.console[i], i);
}

static void test_thri_enable_raises_with_out2(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_OUT2);
	assert_int_equal(f->fh.irq_calls, 0);
	wr(f, IER, IER_THRI);
	assert_int_equal(f->fh.irq_calls, 1);
	assert_int_equal(f->fh.irq_last_gsi, GSI);
	assert_int_equal(f->fh.irq_level[GSI], 1);
	assert_int_equal(rd(f, IER), IER_THRI);

	/* Reading IIR reports THR empty and acknowledges it. */
	assert_int_equal(rd(f, IIR), IIR_THRI);
	assert_int_equal(f->fh.irq_level[GSI], 0);
	assert_int_equal(f->fh.irq_calls, 2);
	assert_int_equal(rd(f, IIR), IIR_NONE);
	assert_int_equal(f->fh.irq_calls, 2);

	/* Writing THR empties it again at once: raised again. */
	wr(f, THR, 'a');
	assert_int_equal(f->fh.irq_level[GSI], 1);
	assert_int_equal(f->fh.irq_calls, 3);
	assert_int_equal(rd(f, IIR), IIR_THRI);
	assert_int_equal(f->fh.irq_level[GSI], 0);
	assert_int_equal(f->fh.irq_calls, 4);
	assert_int_equal(f->fh.irq_bad_calls, 0);
}

static void test_thri_gated_by_out2(void **state)
{
	struct fixture *f = *state;

	/* Pending but OUT2 low: IIR says so, the line stays low. */
	wr(f, IER, IER_THRI);
	assert_int_equal(f->fh.irq_calls, 0);
	wr(f, MCR, MCR_DTR | MCR_RTS);
	assert_int_equal(f->fh.irq_calls, 0);
	/* Raising OUT2 lets the pending interrupt out. */
	wr(f, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	assert_int_equal(f->fh.irq_calls, 1);
	assert_int_equal(f->fh.irq_level[GSI], 1);
	/* Dropping OUT2 takes the line down without acknowledging. */
	wr(f, MCR, MCR_DTR | MCR_RTS);
	assert_int_equal(f->fh.irq_calls, 2);
	assert_int_equal(f->fh.irq_level[GSI], 0);
	assert_int_equal(rd(f, IIR), IIR_THRI);
}

static void test_thri_disable_and_reenable(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_OUT2);
	wr(f, IER, IER_THRI);
	assert_int_equal(f->fh.irq_level[GSI], 1);
	wr(f, IER, 0);			/* masked: line drops */
	assert_int_equal(f->fh.irq_level[GSI], 0);
	assert_int_equal(rd(f, IIR), IIR_NONE);
	wr(f, IER, IER_THRI);		/* enabling while empty raises */
	assert_int_equal(f->fh.irq_level[GSI], 1);
	assert_int_equal(f->fh.irq_calls, 3);
	assert_int_equal(rd(f, IIR), IIR_THRI);
	assert_int_equal(f->fh.irq_level[GSI], 0);
	assert_int_equal(f->fh.irq_calls, 4);
}

static void test_iir_fifo_bits(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, 0x01);
	assert_int_equal(rd(f, IIR), IIR_FIFO | IIR_NONE);
	wr(f, FCR, 0xc7);	/* enable, clear both, trigger 14 */
	assert_int_equal(rd(f, IIR), IIR_FIFO | IIR_NONE);
	wr(f, IER, IER_THRI);
	assert_int_equal(rd(f, IIR), IIR_FIFO | IIR_THRI);
	assert_int_equal(rd(f, IIR), IIR_FIFO | IIR_NONE);
	assert_int_equal(rx(f, "z"), 1);
	wr(f, IER, IER_RDI);
	assert_int_equal(rd(f, IIR), IIR_FIFO | IIR_RDI);
	wr(f, FCR, 0x00);	/* FIFOs off: bits 7:6 clear */
	assert_int_equal(rd(f, IIR), IIR_RDI);
	/* FCR is write-only: what was written is not read back as IIR. */
	wr(f, IER, 0);
	assert_int_equal(rd(f, IIR), IIR_NONE);
}

static void test_rx_basic(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_OUT2);
	wr(f, IER, IER_RDI);
	assert_int_equal(f->fh.irq_calls, 0);
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);

	assert_int_equal(rx(f, "abc"), 3);
	assert_int_equal(rd(f, LSR) & LSR_DR, LSR_DR);
	assert_int_equal(f->fh.irq_level[GSI], 1);
	assert_int_equal(f->fh.irq_calls, 1);
	assert_int_equal(rd(f, IIR), IIR_RDI);
	/* Reading IIR does not acknowledge received data. */
	assert_int_equal(rd(f, IIR), IIR_RDI);
	assert_int_equal(f->fh.irq_calls, 1);

	assert_int_equal(rd(f, RBR), 'a');
	assert_int_equal(rd(f, RBR), 'b');
	assert_int_equal(f->fh.irq_level[GSI], 1);
	assert_int_equal(rd(f, RBR), 'c');
	assert_int_equal(f->fh.irq_level[GSI], 0);
	assert_int_equal(f->fh.irq_calls, 2);
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
	assert_int_equal(rd(f, IIR), IIR_NONE);
	assert_int_equal(rd(f, RBR), 0);
	assert_int_equal(f->fh.rx_ready_count, 0);
}

static void test_rx_without_interrupt_enabled(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_OUT2);
	assert_int_equal(rx(f, "q"), 1);
	assert_int_equal(f->fh.irq_calls, 0);
	assert_int_equal(rd(f, IIR), IIR_NONE);
	assert_int_equal(rd(f, LSR) & LSR_DR, LSR_DR);
	/* Enabling RDI with data waiting raises the line. */
	wr(f, IER, IER_RDI);
	assert_int_equal(f->fh.irq_level[GSI], 1);
	assert_int_equal(rd(f, RBR), 'q');
	assert_int_equal(f->fh.irq_level[GSI], 0);
}

static void test_iir_priority_rdi_over_thri(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_OUT2);
	wr(f, IER, IER_RDI | IER_THRI);
	assert_int_equal(rx(f, "xy"), 2);
	assert_int_equal(f->fh.irq_calls, 1);
	/* THR-empty hides behind received data and is not acknowledged. */
	assert_int_equal(rd(f, IIR), IIR_RDI);
	assert_int_equal(rd(f, RBR), 'x');
	assert_int_equal(rd(f, RBR), 'y');
	assert_int_equal(rd(f, IIR), IIR_THRI);
	assert_int_equal(rd(f, IIR), IIR_NONE);
	assert_int_equal(f->fh.irq_level[GSI], 0);
	/* One raise, one drop: the switch from RDI to THRI kept it high. */
	assert_int_equal(f->fh.irq_calls, 2);
}

static void test_rx_flood_bounded_and_rx_ready_once(void **state)
{
	struct fixture *f = *state;
	enum { FLOOD = 10000 };
	uint8_t *buf = malloc(FLOOD);
	size_t taken, i;

	assert_non_null(buf);
	for (i = 0; i < FLOOD; i++)
		buf[i] = pattern(i);

	taken = serial_receive(f->uart, buf, FLOOD);
	assert_true(taken > 0);
	assert_true(taken < FLOOD);
	assert_int_equal(taken, SERIAL_RX_FIFO_SIZE);
	/* Full: nothing more is taken, and the refusal is not an overrun. */
	assert_int_equal(serial_receive(f->uart, buf + taken, FLOOD - taken),
			 0);
	assert_int_equal(rd(f, LSR), LSR_DR | LSR_THRE | LSR_TEMT);
	assert_int_equal(f->fh.rx_ready_count, 0);

	/* Read down to just above half: no call yet. */
	for (i = 0; i < SERIAL_RX_FIFO_SIZE / 2 - 1; i++)
		assert_int_equal(rd(f, RBR), pattern(i));
	assert_int_equal(f->fh.rx_ready_count, 0);
	/* Half free: the device asks for more input, once. */
	assert_int_equal(rd(f, RBR), pattern(i));
	i++;
	assert_int_equal(f->fh.rx_ready_count, 1);
	for (; i < SERIAL_RX_FIFO_SIZE; i++)
		assert_int_equal(rd(f, RBR), pattern(i));
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
	assert_int_equal(f->fh.rx_ready_count, 1);

	/* The host resumes where it stopped; bytes keep their order. */
	taken = serial_receive(f->uart, buf + SERIAL_RX_FIFO_SIZE, 10);
	assert_int_equal(taken, 10);
	for (i = SERIAL_RX_FIFO_SIZE; i < SERIAL_RX_FIFO_SIZE + 10; i++)
		assert_int_equal(rd(f, RBR), pattern(i));
	assert_int_equal(f->fh.rx_ready_count, 1);
	free(buf);
}

static void test_rx_wraps_around_the_ring(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[SERIAL_RX_FIFO_SIZE];
	size_t i, next_in = 0, next_out = 0, round;

	/* Keep the ring partly full while its indices go around many times. */
	for (round = 0; round < 20; round++) {
		size_t want = SERIAL_RX_FIFO_SIZE - (next_in - next_out);

		for (i = 0; i < want; i++)
			buf[i] = pattern(next_in + i);
		assert_int_equal(serial_receive(f->uart, buf, want), want);
		next_in += want;
		for (i = 0; i < 100; i++)
			assert_int_equal(rd(f, RBR), pattern(next_out++));
	}
	while (next_out < next_in)
		assert_int_equal(rd(f, RBR), pattern(next_out++));
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
	assert_int_equal(f->fh.rx_ready_count, 0);
}

static void test_rx_exact_fill_is_not_a_refusal(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[SERIAL_RX_FIFO_SIZE];
	size_t i;

	memset(buf, 'k', sizeof(buf));
	assert_int_equal(serial_receive(f->uart, buf, sizeof(buf)),
			 sizeof(buf));
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(rd(f, RBR), 'k');
	assert_int_equal(f->fh.rx_ready_count, 0);
	assert_int_equal(serial_receive(f->uart, buf, 0), 0);
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
}

static void test_fcr_clears_rx(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rx(f, "hello"), 5);
	wr(f, FCR, 0x03);		/* enable + clear receive FIFO */
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
	assert_int_equal(rd(f, RBR), 0);
	assert_int_equal(rx(f, "Z"), 1);
	assert_int_equal(rd(f, RBR), 'Z');
}

/*
 * Linux clears the FIFOs when a port is opened (serial8250_clear_fifos).
 * Input refused before that must not stay refused for ever: once the clear
 * leaves the FIFO empty, the host must be told it may deliver again.
 */
static void test_fcr_clear_after_refusal_resumes_input(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[SERIAL_RX_FIFO_SIZE + 1];

	memset(buf, 'p', sizeof(buf));
	assert_int_equal(serial_receive(f->uart, buf, sizeof(buf)),
			 SERIAL_RX_FIFO_SIZE);
	wr(f, FCR, 0x07);
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
	rd(f, RBR);			/* a driver polling an empty FIFO */
	assert_int_equal(f->fh.rx_ready_count, 1);
}

static void test_loopback_msr_linux_probe(void **state)
{
	struct fixture *f = *state;

	/* What Linux's 8250 autoconfig checks to believe a UART is there. */
	wr(f, MCR, MCR_LOOP);
	assert_int_equal(rd(f, MSR) & 0xf0, 0x00);
	wr(f, MCR, MCR_LOOP | 0x0a);	/* 0x1a: RTS and OUT2 */
	assert_int_equal(rd(f, MSR) & 0xf0, 0x90);
	/* Each modem output lands on its own input. */
	wr(f, MCR, MCR_LOOP | MCR_DTR);
	assert_int_equal(rd(f, MSR) & 0xf0, 0x20);	/* DSR */
	wr(f, MCR, MCR_LOOP | MCR_OUT1);
	assert_int_equal(rd(f, MSR) & 0xf0, 0x40);	/* RI */
	wr(f, MCR, MCR_LOOP | 0x0f);
	assert_int_equal(rd(f, MSR) & 0xf0, 0xf0);
	assert_int_equal(rd(f, MCR), MCR_LOOP | 0x0f);
	/* Out of loopback the modem lines read as connected again. */
	wr(f, MCR, MCR_OUT2);
	assert_int_equal(rd(f, MSR) & 0xf0, 0xb0);
}

static void test_loopback_thr_to_rbr(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, MCR_LOOP);
	wr(f, THR, 0x55);
	wr(f, THR, 0xaa);
	assert_int_equal(f->fh.console_calls, 0);
	assert_int_equal(rd(f, LSR) & LSR_DR, LSR_DR);
	assert_int_equal(rd(f, RBR), 0x55);
	assert_int_equal(rd(f, RBR), 0xaa);
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
	/* Input from the host is lost while the line is looped back. */
	assert_int_equal(rx(f, "lost"), 4);
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
	/* Back to normal: THR goes to the console again. */
	wr(f, MCR, 0);
	wr(f, THR, 'o');
	assert_int_equal(f->fh.console_len, 1);
	assert_int_equal(f->fh.console[0], 'o');
}

static void test_dlab_latch(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, IER_THRI);
	assert_int_equal(rx(f, "r"), 1);
	wr(f, LCR, LCR_DLAB | LCR_8N1);
	assert_int_equal(rd(f, LCR), LCR_DLAB | LCR_8N1);
	wr(f, DLL, 0x0c);		/* 9600 baud */
	wr(f, DLM, 0x01);
	assert_int_equal(rd(f, DLL), 0x0c);
	assert_int_equal(rd(f, DLM), 0x01);
	/* Neither transmitted nor popped nor touching IER. */
	assert_int_equal(f->fh.console_calls, 0);
	wr(f, LCR, LCR_8N1);
	assert_int_equal(rd(f, IER), IER_THRI);
	assert_int_equal(rd(f, RBR), 'r');
	wr(f, LCR, LCR_DLAB | LCR_8N1);
	assert_int_equal(rd(f, DLL), 0x0c);
	assert_int_equal(rd(f, DLM), 0x01);
	wr(f, LCR, LCR_8N1);
	wr(f, THR, '!');
	assert_int_equal(f->fh.console_len, 1);
	assert_int_equal(f->fh.console[0], '!');
}

static void test_scratch_and_read_only_registers(void **state)
{
	struct fixture *f = *state;

	wr(f, SCR, 0x5a);
	assert_int_equal(rd(f, SCR), 0x5a);
	wr(f, SCR, 0xa5);
	assert_int_equal(rd(f, SCR), 0xa5);
	wr(f, LSR, 0xff);
	assert_int_equal(rd(f, LSR), LSR_THRE | LSR_TEMT);
	wr(f, MSR, 0xff);
	assert_int_equal(rd(f, MSR), 0xb0);
	wr(f, MCR, 0xff);		/* only five bits exist */
	assert_int_equal(rd(f, MCR), 0x1f);
	wr(f, MCR, 0);
	wr(f, IER, 0xff);		/* only four bits exist */
	assert_int_equal(rd(f, IER), 0x0f);
}

static void test_odd_widths_ignored(void **state)
{
	struct fixture *f = *state;
	static const uint32_t widths[] = { 2, 4, 8 };
	uint8_t data[8];
	size_t w, i;
	uint64_t off;

	wr(f, SCR, 0x77);
	wr(f, IER, IER_RDI);
	assert_int_equal(rx(f, "m"), 1);
	for (w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		for (off = 0; off < SERIAL_REG_COUNT; off++) {
			memset(data, 0xee, sizeof(data));
			serial_io.read(f->uart, off, data, widths[w]);
			for (i = 0; i < widths[w]; i++)
				assert_int_equal(data[i], 0);
			memset(data, 0xee, sizeof(data));
			serial_io.write(f->uart, off, data, widths[w]);
		}
	}
	/* Nothing was sent, popped, or changed. */
	assert_int_equal(f->fh.console_calls, 0);
	assert_int_equal(rd(f, SCR), 0x77);
	assert_int_equal(rd(f, IER), IER_RDI);
	assert_int_equal(rd(f, LCR), 0);
	assert_int_equal(rd(f, MCR), 0);
	assert_int_equal(rd(f, IIR), IIR_RDI);
	assert_int_equal(rd(f, RBR), 'm');
	assert_int_equal(f->fh.irq_calls, 0);
}

static void test_offsets_beyond_registers_ignored(void **state)
{
	struct fixture *f = *state;
	static const uint64_t offs[] = {
		8, 9, 15, 0x100, 0x3f8, UINT64_MAX,
	};
	size_t i;

	wr(f, SCR, 0x42);
	wr(f, IER, IER_THRI);
	wr(f, MCR, MCR_OUT2);
	assert_int_equal(rd(f, IIR), IIR_THRI);	/* acknowledge */
	assert_int_equal(rx(f, "n"), 1);
	f->fh.irq_calls = 0;
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		assert_int_equal(rd(f, offs[i]), 0);
		wr(f, offs[i], 0xff);
	}
	assert_int_equal(f->fh.console_calls, 0);
	assert_int_equal(f->fh.irq_calls, 0);
	assert_int_equal(rd(f, SCR), 0x42);
	assert_int_equal(rd(f, IER), IER_THRI);
	assert_int_equal(rd(f, MCR), MCR_OUT2);
	assert_int_equal(rd(f, IIR), IIR_NONE);
	assert_int_equal(rd(f, RBR), 'n');
}

static void test_irq_line_toggles_only_on_change(void **state)
{
	struct fixture *f = *state;
	int i;

	wr(f, MCR, MCR_OUT2);
	wr(f, IER, IER_THRI | IER_RDI);
	assert_int_equal(f->fh.irq_calls, 1);
	/* Many events while already high: no more calls. */
	for (i = 0; i < 50; i++)
		wr(f, THR, '.');
	assert_int_equal(rx(f, "abc"), 3);
	rd(f, LSR);
	rd(f, MSR);
	wr(f, SCR, 1);
	assert_int_equal(f->fh.irq_calls, 1);
	rd(f, RBR);
	rd(f, RBR);
	rd(f, RBR);
	assert_int_equal(f->fh.irq_calls, 1);	/* THRI still pending */
	assert_int_equal(rd(f, IIR), IIR_THRI);
	assert_int_equal(f->fh.irq_calls, 2);
	assert_int_equal(f->fh.irq_level[GSI], 0);
	/* Many reads while low: no more calls. */
	for (i = 0; i < 50; i++) {
		rd(f, IIR);
		rd(f, LSR);
		rd(f, RBR);
	}
	assert_int_equal(f->fh.irq_calls, 2);
	assert_int_equal(f->fh.irq_calls_gsi[GSI], 2);
	assert_int_equal(f->fh.irq_bad_calls, 0);
}

static void test_lsr_overrun(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	wr(f, MCR, MCR_LOOP | MCR_OUT2);
	wr(f, IER, IER_RLSI);
	for (i = 0; i < SERIAL_RX_FIFO_SIZE; i++)
		wr(f, THR, pattern(i));
	assert_int_equal(rd(f, LSR), LSR_DR | LSR_THRE | LSR_TEMT);
	assert_int_equal(f->fh.irq_calls, 0);
	/* One more byte than fits: overrun, line status interrupt. */
	wr(f, THR, 0xee);
	assert_int_equal(f->fh.irq_level[GSI], 1);
	assert_int_equal(rd(f, IIR), IIR_RLSI);
	assert_int_equal(rd(f, LSR), LSR_OE | LSR_DR | LSR_THRE | LSR_TEMT);
	/* Reading LSR clears OE and the interrupt. */
	assert_int_equal(f->fh.irq_level[GSI], 0);
	assert_int_equal(rd(f, LSR), LSR_DR | LSR_THRE | LSR_TEMT);
	assert_int_equal(rd(f, IIR), IIR_NONE);
	/* The byte that overran is lost; the FIFO holds the first ones. */
	for (i = 0; i < SERIAL_RX_FIFO_SIZE; i++)
		assert_int_equal(rd(f, RBR), pattern(i));
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
	assert_int_equal(f->fh.irq_calls, 2);
}

static void test_two_uarts_are_independent(void **state)
{
	struct fixture *f = *state;
	struct serial *com2 = serial_create(&f->fh.hs, 3);

	assert_non_null(com2);
	wr(f, MCR, MCR_OUT2);
	wr(f, IER, IER_THRI);
	assert_int_equal(f->fh.irq_level[GSI], 1);
	assert_int_equal(f->fh.irq_calls_gsi[3], 0);
	assert_int_equal(serial_receive(com2, (const uint8_t *)"2", 1), 1);
	assert_int_equal(rd(f, LSR) & LSR_DR, 0);
	serial_destroy(com2);
	serial_destroy(NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_reset_state),
		T(test_tx_goes_to_console_byte_by_byte),
		T(test_tx_all_byte_values),
		T(test_thri_enable_raises_with_out2),
		T(test_thri_gated_by_out2),
		T(test_thri_disable_and_reenable),
		T(test_iir_fifo_bits),
		T(test_rx_basic),
		T(test_rx_without_interrupt_enabled),
		T(test_iir_priority_rdi_over_thri),
		T(test_rx_flood_bounded_and_rx_ready_once),
		T(test_rx_wraps_around_the_ring),
		T(test_rx_exact_fill_is_not_a_refusal),
		T(test_fcr_clears_rx),
		T(test_fcr_clear_after_refusal_resumes_input),
		T(test_loopback_msr_linux_probe),
		T(test_loopback_thr_to_rbr),
		T(test_dlab_latch),
		T(test_scratch_and_read_only_registers),
		T(test_odd_widths_ignored),
		T(test_offsets_beyond_registers_ignored),
		T(test_irq_line_toggles_only_on_change),
		T(test_lsr_overrun),
		T(test_two_uarts_are_independent),
	};
#undef T

	return cmocka_run_group_tests_name("serial", tests, NULL, NULL);
}
