/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest-test device: an ID register, a scratch register, one interrupt
 * line and an access counter, at the same offsets in a PIO and an MMIO
 * window (docs/guest-tests.md has the register table).
 */
#ifndef WISP_DEVICES_TESTDEV_H
#define WISP_DEVICES_TESTDEV_H

#include "host.h"

#define TESTDEV_PIO_BASE	0xe0
#define TESTDEV_PIO_SIZE	0x10
#define TESTDEV_MMIO_BASE	0xfeb00000ULL
#define TESTDEV_MMIO_SIZE	0x1000
#define TESTDEV_GSI		5
#define TESTDEV_ID		0x50534957U	/* "WISP" */

struct testdev;

extern const struct io_handler testdev_io;

/* Returns NULL when out of memory. */
struct testdev *testdev_create(const struct host_services *hs);
void testdev_destroy(struct testdev *td);

struct state_writer;
struct state_reader;

/* The scratch registers and the access count, into @w's current node. */
void testdev_save(struct testdev *td, struct state_writer *w);
void testdev_load(struct testdev *td, struct state_reader *r, int node);

#endif
