/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 16550A UART (8 registers) with interrupts and a bounded receive FIFO.
 * Transmitted bytes go to host_services.console_write; received bytes come
 * from serial_receive().  Thread-safe: vCPU threads access registers while
 * the event loop delivers input.
 */
#ifndef WISP_DEVICES_SERIAL_H
#define WISP_DEVICES_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"

#define SERIAL_COM1_BASE	0x3f8
#define SERIAL_COM1_GSI		4
#define SERIAL_REG_COUNT	8
#define SERIAL_RX_FIFO_SIZE	256

struct serial;

extern const struct io_handler serial_io;

/*
 * Create a UART raising interrupt line @gsi.  Returns NULL when out of
 * memory.  The host services must outlive the device.
 */
struct serial *serial_create(const struct host_services *hs, unsigned int gsi);

void serial_destroy(struct serial *uart);

struct state_writer;
struct state_reader;

/* Write the registers and the receive FIFO into @w's current node. */
void serial_save(struct serial *uart, struct state_writer *w);

/*
 * Load what serial_save wrote at @node (checked; errors in @r).  The
 * interrupt line's level is taken as saved: the irqchip's own state
 * holds the pin.
 */
void serial_load(struct serial *uart, struct state_reader *r, int node);

/*
 * Offer @len bytes of input.  Returns how many were taken (fewer when the
 * FIFO is full; the device calls hs->console_rx_ready once the guest has
 * made room).  Event-loop thread.
 */
size_t serial_receive(struct serial *uart, const uint8_t *buf, size_t len);

#endif
