// SPDX-License-Identifier: Apache-2.0
/*
 * 16550A UART.  Transmission completes at once (THR is always empty), so
 * the guest never waits on the host; the receive FIFO is larger than a real
 * 16550's 16 bytes to cut exits on pasted input, and bounded.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "serial.h"
#include "state.h"

/* Register offsets. */
#define REG_RBR_THR	0	/* DLL when LCR.DLAB */
#define REG_IER		1	/* DLM when LCR.DLAB */
#define REG_IIR_FCR	2
#define REG_LCR		3
#define REG_MCR		4
#define REG_LSR		5
#define REG_MSR		6
#define REG_SCR		7

#define IER_RDI		0x01	/* received data available */
#define IER_THRI	0x02	/* transmitter holding register empty */
#define IER_RLSI	0x04	/* receiver line status */
#define IER_MSI		0x08	/* modem status */

#define IIR_NO_INT	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_FIFO_ON	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08	/* gates the interrupt line on PCs */
#define MCR_LOOP	0x10

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80
#define MSR_DELTAS	0x0f

struct serial {
	const struct host_services *hs;
	unsigned int gsi;
	pthread_mutex_t lock;

	uint8_t ier, lcr, mcr, msr, scr, dll, dlm;
	bool fifo_enabled;
	bool overrun;
	bool thr_int_pending;	/* THR-empty interrupt not yet acknowledged */
	bool rx_refused;	/* input was refused: tell the host when room */
	int irq_level;

	uint8_t rx[SERIAL_RX_FIFO_SIZE];
	unsigned int rx_head, rx_count;
};

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = s->fifo_enabled ? IIR_FIFO_ON : 0;

	if ((s->ier & IER_RLSI) && s->overrun)
		return fifo | IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_int_pending)
		return fifo | IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS))
		return fifo | IIR_MSI;
	return fifo | IIR_NO_INT;
}

/* Recompute the interrupt line; call with the lock held. */
static void serial_update_irq(struct serial *s)
{
	int level = !(serial_iir(s) & IIR_NO_INT) && (s->mcr & MCR_OUT2);

	if (level != s->irq_level) {
		s->irq_level = level;
		s->hs->irq_line(s->hs->ctx, s->gsi, level);
	}
}

static bool rx_push(struct serial *s, uint8_t byte)
{
	if (s->rx_count == SERIAL_RX_FIFO_SIZE) {
		s->overrun = true;
		return false;
	}
	s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_FIFO_SIZE] = byte;
	s->rx_count++;
	return true;
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t byte;

	if (!s->rx_count)
		return 0;
	byte = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_RX_FIFO_SIZE;
	s->rx_count--;
	/* Ask for more input once half the FIFO is free again. */
	if (s->rx_refused && s->rx_count <= SERIAL_RX_FIFO_SIZE / 2) {
		s->rx_refused = false;
		s->hs->console_rx_ready(s->hs->ctx);
	}
	return byte;
}

/* Modem status as the guest sees it; loopback reflects MCR (8250 self-test). */
static uint8_t modem_status(const struct serial *s)
{
	uint8_t msr = s->msr & MSR_DELTAS;

	if (s->mcr & MCR_LOOP) {
		if (s->mcr & MCR_RTS)
			msr |= MSR_CTS;
		if (s->mcr & MCR_DTR)
			msr |= MSR_DSR;
		if (s->mcr & MCR_OUT1)
			msr |= MSR_RI;
		if (s->mcr & MCR_OUT2)
			msr |= MSR_DCD;
		return msr;
	}
	return msr | MSR_DCD | MSR_DSR | MSR_CTS;
}

static uint8_t serial_read_reg(struct serial *s, unsigned int reg)
{
	uint8_t v;

	switch (reg) {
	case REG_RBR_THR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		return rx_pop(s);
	case REG_IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case REG_IIR_FCR:
		v = serial_iir(s);
		/* Reading IIR while it reports THR empty acknowledges it. */
		if ((v & 0x0f) == IIR_THRI)
			s->thr_int_pending = false;
		return v;
	case REG_LCR:
		return s->lcr;
	case REG_MCR:
		return s->mcr;
	case REG_LSR:
		v = LSR_THRE | LSR_TEMT;
		if (s->rx_count)
			v |= LSR_DR;
		if (s->overrun)
			v |= LSR_OE;
		s->overrun = false;
		return v;
	case REG_MSR:
		v = modem_status(s);
		s->msr &= ~MSR_DELTAS;
		return v;
	default:
		return s->scr;
	}
}

static void serial_write_reg(struct serial *s, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case REG_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			break;
		}
		if (s->mcr & MCR_LOOP)
			rx_push(s, v);
		else
			s->hs->console_write(s->hs->ctx, &v, 1);
		s->thr_int_pending = true;	/* sent at once: empty again */
		break;
	case REG_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* Enabling the THR interrupt while THR is empty raises it. */
		if (!(s->ier & IER_THRI) && (v & IER_THRI))
			s->thr_int_pending = true;
		s->ier = v & 0x0f;
		break;
	case REG_IIR_FCR:
		s->fifo_enabled = v & FCR_ENABLE;
		if (v & FCR_CLEAR_RX) {
			s->rx_count = 0;
			if (s->rx_refused) {
				s->rx_refused = false;
				s->hs->console_rx_ready(s->hs->ctx);
			}
		}
		break;
	case REG_LCR:
		s->lcr = v;
		break;
	case REG_MCR:
		s->mcr = v & 0x1f;
		break;
	case REG_LSR:
	case REG_MSR:
		break;			/* read-only */
	default:
		s->scr = v;
		break;
	}
}

static void serial_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct serial *s = dev;

	io_put(data, len, 0);
	if (len != 1 || offset >= SERIAL_REG_COUNT)
		return;		/* the UART has byte registers only */
	pthread_mutex_lock(&s->lock);
	data[0] = serial_read_reg(s, offset);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_write(void *dev, uint64_t offset, const uint8_t *data,
			 uint32_t len)
{
	struct serial *s = dev;

	if (len != 1 || offset >= SERIAL_REG_COUNT)
		return;
	pthread_mutex_lock(&s->lock);
	serial_write_reg(s, offset, data[0]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

const struct io_handler serial_io = {
	.read = serial_read,
	.write = serial_write,
};

struct serial *serial_create(const struct host_services *hs, unsigned int gsi)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->hs = hs;
	s->gsi = gsi;
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t taken = 0;

	pthread_mutex_lock(&s->lock);
	/* In loopback the line is disconnected: input is lost, as on a PC. */
	if (s->mcr & MCR_LOOP)
		taken = len;
	while (taken < len && s->rx_count < SERIAL_RX_FIFO_SIZE)
		rx_push(s, buf[taken++]);
	if (taken < len)
		s->rx_refused = true;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return taken;
}

void serial_save(struct serial *s, struct state_writer *w)
{
	uint8_t regs[7], fifo[SERIAL_RX_FIFO_SIZE];
	unsigned int i;

	pthread_mutex_lock(&s->lock);
	regs[0] = s->ier;
	regs[1] = s->lcr;
	regs[2] = s->mcr;
	regs[3] = s->msr;
	regs[4] = s->scr;
	regs[5] = s->dll;
	regs[6] = s->dlm;
	for (i = 0; i < s->rx_count; i++)
		fifo[i] = s->rx[(s->rx_head + i) % SERIAL_RX_FIFO_SIZE];
	state_put_bytes(w, "ier-lcr-mcr-msr-scr-dll-dlm", regs, sizeof(regs));
	state_put_u32(w, "fifo-enabled", s->fifo_enabled);
	state_put_u32(w, "overrun", s->overrun);
	state_put_u32(w, "thr-interrupt", s->thr_int_pending);
	state_put_u32(w, "irq-level", s->irq_level);
	state_put_bytes(w, "rx", fifo, s->rx_count);
	pthread_mutex_unlock(&s->lock);
}

void serial_load(struct serial *s, struct state_reader *r, int node)
{
	uint8_t regs[7];
	const uint8_t *rx;
	size_t n;

	state_get_bytes(r, node, "ier-lcr-mcr-msr-scr-dll-dlm", regs,
			sizeof(regs));
	rx = state_get_blob(r, node, "rx", &n);
	if (n > SERIAL_RX_FIFO_SIZE)
		state_fail(r, node, "rx: %zu bytes in a %d-byte FIFO", n,
			   SERIAL_RX_FIFO_SIZE);
	if (regs[0] & ~0x0f)
		state_fail(r, node, "IER 0x%02x has reserved bits", regs[0]);
	pthread_mutex_lock(&s->lock);
	s->fifo_enabled = state_get_u32_max(r, node, "fifo-enabled", 1);
	s->overrun = state_get_u32_max(r, node, "overrun", 1);
	s->thr_int_pending = state_get_u32_max(r, node, "thr-interrupt", 1);
	s->irq_level = state_get_u32_max(r, node, "irq-level", 1);
	if (!r->failed) {
		s->ier = regs[0];
		s->lcr = regs[1];
		s->mcr = regs[2];
		s->msr = regs[3];
		s->scr = regs[4];
		s->dll = regs[5];
		s->dlm = regs[6];
		s->rx_head = 0;
		s->rx_count = n;
		if (n)
			memcpy(s->rx, rx, n);
	}
	pthread_mutex_unlock(&s->lock);
}
