/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal virtio 1.x driver for device unit tests: it talks to a
 * device's virtio-pci BAR through fake_io_read/write, lays queue q's split
 * ring out at VDRV_RING(q) in the fake host's RAM (descriptors, then the
 * available ring 0x1000 above, then the used ring 0x2000 above), offers
 * chains and reads what the device used.  Single-threaded, like the fake
 * host; failures are cmocka assertions.
 */
#ifndef WISP_DEVICES_VIRTIO_DRIVER_TESTLIB_H
#define WISP_DEVICES_VIRTIO_DRIVER_TESTLIB_H

#include <stdbool.h>
#include <stdint.h>

#include "../fake_host_testlib.h"
#include "../pci.h"

#define VDRV_QSIZE		16
#define VDRV_MAX_QUEUES		8
#define VDRV_RING(q)		(0x1000 + (q) * 0x3000)
#define VDRV_F_EVENT_IDX	(1u << 29)

struct vdrv {
	struct fake_host *fh;
	struct pci_device *pd;
	uint16_t avail[VDRV_MAX_QUEUES];	/* the next avail index */
	uint16_t next_desc[VDRV_MAX_QUEUES];	/* the next free descriptor */
};

void vdrv_bar_wr(struct vdrv *v, uint64_t off, uint32_t len, uint64_t value);
uint64_t vdrv_bar_rd(struct vdrv *v, uint64_t off, uint32_t len);

/* The fake host's RAM at guest address @gpa. */
uint8_t *vdrv_gpa(struct vdrv *v, uint64_t gpa);

/*
 * On a device after reset: negotiate @features (bits below 32) and VERSION_1; set up @nq
 * queues of VDRV_QSIZE entries; DRIVER_OK; serve the loop once.
 */
void vdrv_bring_up(struct vdrv *v, uint32_t features, unsigned int nq);

/* Write descriptor @i of queue @q. */
void vdrv_set_desc(struct vdrv *v, unsigned int q, unsigned int i,
		   uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);

/*
 * Offer a chain of @n buffers (@addr[i], @len[i], device-writable if @w)
 * on queue @q and notify.  Returns the head.
 */
uint16_t vdrv_offer(struct vdrv *v, unsigned int q, unsigned int n,
		    const uint64_t *addr, const uint32_t *len, bool w);

uint16_t vdrv_used_idx(struct vdrv *v, unsigned int q);

/* Used element @i of queue @q: its head in *@head, returns its length. */
uint32_t vdrv_used_elem(struct vdrv *v, unsigned int q, unsigned int i,
			uint16_t *head);

/* Serve the loop until queue @q's used index is @want (about 2 s). */
void vdrv_serve_until(struct vdrv *v, unsigned int q, uint16_t want);

#endif
