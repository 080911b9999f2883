/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small virtio 1.x driver for test guests: the modern PCI transport
 * (capabilities, feature negotiation, status, queue registers) and split
 * virtqueues polled without interrupts (MSI-X stays off; the ISR register
 * still records what would have been signalled).  The guest's memory is
 * identity mapped, so ring and buffer pointers are guest-physical
 * addresses.  Constants are from the virtio 1.2 specification.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "pci.h"

#define VIRTIO_VENDOR		0x1af4
#define VIRTIO_DEV_NET		(0x1040 + 1)
#define VIRTIO_DEV_BLK		(0x1040 + 2)

#define VIRTIO_ACKNOWLEDGE	0x01
#define VIRTIO_DRIVER		0x02
#define VIRTIO_DRIVER_OK	0x04
#define VIRTIO_FEATURES_OK	0x08
#define VIRTIO_NEEDS_RESET	0x40
#define VIRTIO_FAILED		0x80

#define VIRTIO_F_INDIRECT_DESC	(1ULL << 28)
#define VIRTIO_F_EVENT_IDX	(1ULL << 29)
#define VIRTIO_F_VERSION_1	(1ULL << 32)

#define VIRTIO_ISR_QUEUE	0x1
#define VIRTIO_ISR_CONFIG	0x2

#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_DESC_F_INDIRECT	4

struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct vring_used_elem {
	u32 id;
	u32 len;
};

/*
 * The bytes virtq_setup() needs for a queue of @size entries: descriptors
 * and the avail ring, then the used ring on the next page; whole pages, so
 * that arrays of them stay page aligned.
 */
#define VIRTQ_PAGES(bytes)	(((bytes) + 4095) & ~4095)
#define VIRTQ_MEM_SIZE(size) \
	(VIRTQ_PAGES(18 * (size) + 6) + VIRTQ_PAGES(6 + 8 * (size)))

struct virtio_dev {
	pci_devfn fn;
	unsigned int bar_index;		/* the BAR holding the regions */
	u64 bar;			/* where that BAR was placed */
	u64 common, isr, devcfg, notify;	/* region addresses */
	u32 notify_mult;
	unsigned int caps_seen;		/* bit n: a capability of cfg_type n */
};

struct virtq {
	struct virtio_dev *dev;
	u16 index, size, notify_off;
	volatile struct vring_desc *desc;
	volatile u16 *avail;		/* flags, idx, ring[size], used_event */
	volatile u8 *used;		/* flags, idx, ring[size], avail_event */
	u16 avail_idx;			/* next avail index to publish */
	u16 used_idx;			/* next used entry to consume */
};

/*
 * Find the @index-th function with virtio device ID @pci_device, place the
 * memory BAR that its first common configuration capability names (BAR 0
 * under wisp, BAR 4 under QEMU) at @bar_addr (decoding and bus mastering
 * on) and locate its regions through the vendor capabilities (the first
 * of each type; those in other BARs are skipped).  False if it is missing
 * or a required capability (common, notify, ISR, device) is.
 */
bool virtio_open(struct virtio_dev *d, u16 pci_device, unsigned int index,
		 u64 bar_addr);

u8 virtio_status(struct virtio_dev *d);
void virtio_set_status(struct virtio_dev *d, u8 status);

/* Write status 0 and wait (up to @us) until it reads 0.  True when it did. */
bool virtio_reset(struct virtio_dev *d, u64 us);

/* The 64 feature bits the device offers. */
u64 virtio_device_features(struct virtio_dev *d);

/*
 * Reset, ACKNOWLEDGE, DRIVER, accept @features (VERSION_1 added), set
 * FEATURES_OK and check it stuck.  True on success.
 */
bool virtio_negotiate(struct virtio_dev *d, u64 features);

u16 virtio_num_queues(struct virtio_dev *d);
u16 virtio_queue_max(struct virtio_dev *d, u16 index);

/* Read the ISR register (which clears it). */
u8 virtio_isr(struct virtio_dev *d);

u8 virtio_cfg8(struct virtio_dev *d, unsigned int off);
u16 virtio_cfg16(struct virtio_dev *d, unsigned int off);
u32 virtio_cfg32(struct virtio_dev *d, unsigned int off);
/* Two 32-bit reads, retried until config_generation holds still. */
u64 virtio_cfg64(struct virtio_dev *d, unsigned int off);

/*
 * Lay out queue @index with @size entries in @mem (page aligned,
 * VIRTQ_MEM_SIZE(size) bytes, zeroed here), program the queue registers
 * and enable it.  The size is not checked: hostile tests pass bad ones.
 */
void virtq_setup(struct virtq *q, struct virtio_dev *d, u16 index, u16 size,
		 void *mem);

/* Fill descriptor @i. */
void virtq_desc(struct virtq *q, u16 i, const void *addr, u32 len, u16 flags,
		u16 next);

/*
 * Put @head in the avail ring and publish it (no notification).  Queues of
 * size 0 (hostile tests) take nothing.
 */
void virtq_publish(struct virtq *q, u16 head);

/* Set the avail index as is (hostile tests). */
void virtq_set_avail_idx(struct virtq *q, u16 idx);

/* Notify the device about queue @q. */
void virtq_kick(struct virtq *q);

/*
 * The next used entry without waiting: true and *@id, *@len set if the
 * device has published one.
 */
bool virtq_get_used(struct virtq *q, u32 *id, u32 *len);

/*
 * Wait up to @us for the next used entry; true and *@id, *@len set when
 * one arrived.
 */
bool virtq_wait_used(struct virtq *q, u64 us, u32 *id, u32 *len);

#endif
