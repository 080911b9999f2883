// SPDX-License-Identifier: Apache-2.0
#include "libc.h"
#include "tsc.h"
#include "virtio.h"

/* Vendor capability (virtio 1.2, 4.1.4): cfg_type, bar, offset, length. */
#define CAP_CFG_TYPE		3
#define CAP_BAR			4
#define CAP_OFFSET		8
#define CAP_NOTIFY_MULT		16
#define CFG_COMMON		1
#define CFG_NOTIFY		2
#define CFG_ISR			3
#define CFG_DEVICE		4
#define CFG_PCI			5

/* Common configuration registers (4.1.4.3). */
#define DEVICE_FEATURE_SELECT	0x00
#define DEVICE_FEATURE		0x04
#define DRIVER_FEATURE_SELECT	0x08
#define DRIVER_FEATURE		0x0c
#define NUM_QUEUES		0x12
#define DEVICE_STATUS		0x14
#define CONFIG_GENERATION	0x15
#define QUEUE_SELECT		0x16
#define QUEUE_SIZE		0x18
#define QUEUE_ENABLE		0x1c
#define QUEUE_NOTIFY_OFF	0x1e
#define QUEUE_DESC		0x20
#define QUEUE_DRIVER		0x28
#define QUEUE_DEVICE		0x30

/* BAR of the first common configuration capability; -1 if none. */
static int common_cfg_bar(pci_devfn fn)
{
	u8 cap = 0;

	while ((cap = pci_next_cap(fn, cap, PCI_CAP_VENDOR)))
		if (pci_read8(fn, cap + CAP_CFG_TYPE) == CFG_COMMON)
			return pci_read8(fn, cap + CAP_BAR);
	return -1;
}

bool virtio_open(struct virtio_dev *d, u16 pci_device, unsigned int index,
		 u64 bar_addr)
{
	u8 cap = 0;
	int bar;

	memset(d, 0, sizeof(*d));
	if (!pci_find(VIRTIO_VENDOR, pci_device, index, &d->fn))
		return false;
	bar = common_cfg_bar(d->fn);
	if (bar < 0 || bar > 5)
		return false;
	d->bar_index = bar;
	pci_bar_place(d->fn, bar, bar_addr);
	d->bar = bar_addr;
	while ((cap = pci_next_cap(d->fn, cap, PCI_CAP_VENDOR))) {
		u8 type = pci_read8(d->fn, cap + CAP_CFG_TYPE);
		u64 at = bar_addr + pci_read32(d->fn, cap + CAP_OFFSET);
		bool first = type < 32 && !(d->caps_seen & 1U << type);

		if (type < 32)
			d->caps_seen |= 1U << type;
		/*
		 * The PCI access window lives in config space; this driver
		 * maps one BAR only; the first capability of a type wins.
		 */
		if (type == CFG_PCI || !first ||
		    pci_read8(d->fn, cap + CAP_BAR) != bar)
			continue;
		if (type == CFG_COMMON)
			d->common = at;
		else if (type == CFG_NOTIFY) {
			d->notify = at;
			d->notify_mult = pci_read32(d->fn, cap + CAP_NOTIFY_MULT);
		} else if (type == CFG_ISR)
			d->isr = at;
		else if (type == CFG_DEVICE)
			d->devcfg = at;
	}
	return d->common && d->notify && d->isr && d->devcfg;
}

u8 virtio_status(struct virtio_dev *d)
{
	return readb(d->common + DEVICE_STATUS);
}

void virtio_set_status(struct virtio_dev *d, u8 status)
{
	writeb(d->common + DEVICE_STATUS, status);
}

bool virtio_reset(struct virtio_dev *d, u64 us)
{
	u64 deadline = tsc_deadline_us(us);

	virtio_set_status(d, 0);
	while (virtio_status(d) != 0)
		if (tsc_expired(deadline))
			return false;
	return true;
}

u64 virtio_device_features(struct virtio_dev *d)
{
	u64 f;

	writel(d->common + DEVICE_FEATURE_SELECT, 0);
	f = readl(d->common + DEVICE_FEATURE);
	writel(d->common + DEVICE_FEATURE_SELECT, 1);
	return f | (u64)readl(d->common + DEVICE_FEATURE) << 32;
}

bool virtio_negotiate(struct virtio_dev *d, u64 features)
{
	features |= VIRTIO_F_VERSION_1;
	if (!virtio_reset(d, 1000000))
		return false;
	virtio_set_status(d, VIRTIO_ACKNOWLEDGE);
	virtio_set_status(d, VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER);
	writel(d->common + DRIVER_FEATURE_SELECT, 0);
	writel(d->common + DRIVER_FEATURE, (u32)features);
	writel(d->common + DRIVER_FEATURE_SELECT, 1);
	writel(d->common + DRIVER_FEATURE, features >> 32);
	virtio_set_status(d, VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER |
			  VIRTIO_FEATURES_OK);
	return virtio_status(d) & VIRTIO_FEATURES_OK;
}

u16 virtio_num_queues(struct virtio_dev *d)
{
	return readw(d->common + NUM_QUEUES);
}

u16 virtio_queue_max(struct virtio_dev *d, u16 index)
{
	writew(d->common + QUEUE_SELECT, index);
	return readw(d->common + QUEUE_SIZE);
}

u8 virtio_isr(struct virtio_dev *d)
{
	return readb(d->isr);
}

u8 virtio_cfg8(struct virtio_dev *d, unsigned int off)
{
	return readb(d->devcfg + off);
}

u16 virtio_cfg16(struct virtio_dev *d, unsigned int off)
{
	return readw(d->devcfg + off);
}

u32 virtio_cfg32(struct virtio_dev *d, unsigned int off)
{
	return readl(d->devcfg + off);
}

u64 virtio_cfg64(struct virtio_dev *d, unsigned int off)
{
	u8 gen;
	u64 v;

	do {
		gen = readb(d->common + CONFIG_GENERATION);
		v = readl(d->devcfg + off) |
		    (u64)readl(d->devcfg + off + 4) << 32;
	} while (readb(d->common + CONFIG_GENERATION) != gen);
	return v;
}

void virtq_setup(struct virtq *q, struct virtio_dev *d, u16 index, u16 size,
		 void *mem)
{
	u64 base = (u64)mem;

	memset(mem, 0, VIRTQ_MEM_SIZE(size));
	q->dev = d;
	q->index = index;
	q->size = size;
	q->desc = (volatile struct vring_desc *)base;
	q->avail = (volatile u16 *)(base + 16 * size);
	/* The used ring on its own page, as legacy layouts put it. */
	q->used = (volatile u8 *)((base + 16 * size + 6 + 2 * size + 4095) &
				  ~4095ULL);
	q->avail_idx = q->used_idx = 0;
	writew(d->common + QUEUE_SELECT, index);
	writew(d->common + QUEUE_SIZE, size);
	writeq(d->common + QUEUE_DESC, (u64)q->desc);
	writeq(d->common + QUEUE_DRIVER, (u64)q->avail);
	writeq(d->common + QUEUE_DEVICE, (u64)q->used);
	q->notify_off = readw(d->common + QUEUE_NOTIFY_OFF);
	writew(d->common + QUEUE_ENABLE, 1);
}

void virtq_desc(struct virtq *q, u16 i, const void *addr, u32 len, u16 flags,
		u16 next)
{
	q->desc[i].addr = (u64)addr;
	q->desc[i].len = len;
	q->desc[i].flags = flags;
	q->desc[i].next = next;
}

void virtq_publish(struct virtq *q, u16 head)
{
	if (!q->size)
		return;
	q->avail[2 + q->avail_idx % q->size] = head;
	barrier();
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
}

void virtq_set_avail_idx(struct virtq *q, u16 idx)
{
	q->avail_idx = idx;
	q->avail[1] = idx;
}

void virtq_kick(struct virtq *q)
{
	barrier();
	writew(q->dev->notify + (u64)q->notify_off * q->dev->notify_mult,
	       q->index);
}

bool virtq_get_used(struct virtq *q, u32 *id, u32 *len)
{
	volatile u16 *used_idx = (volatile u16 *)(q->used + 2);
	volatile struct vring_used_elem *e;

	if (!q->size || *used_idx == q->used_idx)
		return false;
	barrier();
	e = (volatile struct vring_used_elem *)(q->used + 4) +
	    q->used_idx % q->size;
	*id = e->id;
	*len = e->len;
	q->used_idx++;
	return true;
}

bool virtq_wait_used(struct virtq *q, u64 us, u32 *id, u32 *len)
{
	u64 deadline = tsc_deadline_us(us);

	if (!q->size)
		return false;
	while (!virtq_get_used(q, id, len)) {
		if (tsc_expired(deadline))
			return false;
		cpu_relax();
	}
	return true;
}
