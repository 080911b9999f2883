// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pci.h"

/* Vendor capability types (virtio 1.x, 4.1.4). */
#define CAP_COMMON	1
#define CAP_NOTIFY	2
#define CAP_ISR		3
#define CAP_DEVICE	4
#define CAP_PCI_CFG	5

/* Common configuration registers (virtio 1.x, 4.1.4.3). */
#define DEVICE_FEATURE_SELECT	0x00
#define DEVICE_FEATURE		0x04
#define DRIVER_FEATURE_SELECT	0x08
#define DRIVER_FEATURE		0x0c
#define CONFIG_MSIX_VECTOR	0x10
#define NUM_QUEUES		0x12
#define DEVICE_STATUS		0x14
#define CONFIG_GENERATION	0x15
#define QUEUE_SELECT		0x16
#define QUEUE_SIZE		0x18
#define QUEUE_MSIX_VECTOR	0x1a
#define QUEUE_ENABLE		0x1c
#define QUEUE_NOTIFY_OFF	0x1e
#define QUEUE_DESC		0x20
#define QUEUE_DRIVER		0x28
#define QUEUE_DEVICE		0x30

/* The PCI configuration access capability's fields, from its start. */
#define PCI_CFG_BAR		4
#define PCI_CFG_OFFSET		8
#define PCI_CFG_LENGTH		12
#define PCI_CFG_DATA		16

static uint64_t vp_queue_notify_addr(const struct virtio_pci *vp,
				     unsigned int i)
{
	return vp->bar_addr + VIRTIO_PCI_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * i;
}

/* Register or drop the queues' ioeventfds at the BAR's address. */
static void vp_ioeventfds(struct virtio_pci *vp, bool assign)
{
	unsigned int i;

	for (i = 0; i < vp->num_queues; i++) {
		struct virtio_pci_queue *q = &vp->queues[i];

		if (q->ioeventfd == assign || !vp->hs->ioeventfd)
			continue;
		if (!vp->hs->ioeventfd(vp->hs->ctx, vp_queue_notify_addr(vp, i),
				       2, q->notify_fd, assign))
			q->ioeventfd = assign;
	}
}

static void on_bar_mapped(struct pci_device *pd, unsigned int index,
			  uint64_t addr, bool mapped)
{
	struct virtio_pci *vp = (struct virtio_pci *)pd;

	if (index != VIRTIO_PCI_BAR)
		return;
	pthread_mutex_lock(&vp->lock);
	if (!mapped)
		vp_ioeventfds(vp, false);
	vp->bar_addr = mapped ? addr : 0;
	if (mapped)
		vp_ioeventfds(vp, true);
	pthread_mutex_unlock(&vp->lock);
}

static void raise_vector(struct virtio_pci *vp, uint16_t vector)
{
	if (vector != MSIX_NO_VECTOR)
		msix_raise(&vp->msix, vector);
}

void virtio_pci_notify_queue(struct virtio_pci *vp, unsigned int index)
{
	uint16_t vector;

	if (index >= vp->num_queues)
		return;
	pthread_mutex_lock(&vp->lock);
	vp->isr |= 1;
	vector = vp->queues[index].msix_vector;
	pthread_mutex_unlock(&vp->lock);
	raise_vector(vp, vector);
}

void virtio_pci_notify_config(struct virtio_pci *vp)
{
	uint16_t vector;

	pthread_mutex_lock(&vp->lock);
	vp->isr |= 2;
	vp->config_generation++;
	vector = vp->config_msix_vector;
	pthread_mutex_unlock(&vp->lock);
	raise_vector(vp, vector);
}

void virtio_pci_needs_reset(struct virtio_pci *vp)
{
	bool tell;

	pthread_mutex_lock(&vp->lock);
	tell = !(vp->status & VIRTIO_STATUS_NEEDS_RESET) &&
	       (vp->status & VIRTIO_STATUS_DRIVER_OK);
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	pthread_mutex_unlock(&vp->lock);
	if (tell)
		virtio_pci_notify_config(vp);
}

/* Forget everything the driver set up.  Caller holds the lock. */
static void clear_driver_state(struct virtio_pci *vp)
{
	unsigned int i;

	vp->driver_features = 0;
	vp->device_feature_select = vp->driver_feature_select = 0;
	vp->status = 0;
	vp->isr = 0;
	vp->queue_select = 0;
	vp->config_msix_vector = MSIX_NO_VECTOR;
	for (i = 0; i < vp->num_queues; i++) {
		struct virtio_pci_queue *q = &vp->queues[i];

		q->size = q->max_size;
		q->msix_vector = MSIX_NO_VECTOR;
		q->enabled = false;
		q->desc = q->driver = q->device = 0;
	}
}

void virtio_pci_reset_done(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
	clear_driver_state(vp);
	vp->resetting = false;
	pthread_mutex_unlock(&vp->lock);
}

bool virtio_pci_has_feature(struct virtio_pci *vp, unsigned int bit)
{
	bool has;

	if (bit >= 64)
		return false;
	pthread_mutex_lock(&vp->lock);
	has = (vp->status & VIRTIO_STATUS_FEATURES_OK) &&
	      (vp->driver_features >> bit & 1);
	pthread_mutex_unlock(&vp->lock);
	return has;
}

/* ---- common configuration ---------------------------------------------- */

static struct virtio_pci_queue *selected(struct virtio_pci *vp)
{
	return vp->queue_select < vp->num_queues ?
	       &vp->queues[vp->queue_select] : NULL;
}

/* The value of the register (or 32-bit half of one) at @off. */
static uint64_t common_get(struct virtio_pci *vp, unsigned int off)
{
	struct virtio_pci_queue *q = selected(vp);

	switch (off) {
	case DEVICE_FEATURE_SELECT: return vp->device_feature_select;
	case DEVICE_FEATURE:
		return vp->device_feature_select < 2 ?
		       (uint32_t)(vp->device_features >>
				  (32 * vp->device_feature_select)) : 0;
	case DRIVER_FEATURE_SELECT: return vp->driver_feature_select;
	case DRIVER_FEATURE:
		return vp->driver_feature_select < 2 ?
		       (uint32_t)(vp->driver_features >>
				  (32 * vp->driver_feature_select)) : 0;
	case CONFIG_MSIX_VECTOR: return vp->config_msix_vector;
	case NUM_QUEUES: return vp->num_queues;
	case DEVICE_STATUS: return vp->resetting ? VIRTIO_STATUS_ACKNOWLEDGE : vp->status;
	case CONFIG_GENERATION: return vp->config_generation;
	case QUEUE_SELECT: return vp->queue_select;
	/* Registers of a queue that does not exist read 0 (row 20). */
	case QUEUE_SIZE: return q ? q->size : 0;
	case QUEUE_MSIX_VECTOR: return q ? q->msix_vector : MSIX_NO_VECTOR;
	case QUEUE_ENABLE: return q ? q->enabled : 0;
	case QUEUE_NOTIFY_OFF: return q ? vp->queue_select : 0;
	case QUEUE_DESC: return q ? q->desc : 0;
	case QUEUE_DESC + 4: return q ? q->desc >> 32 : 0;
	case QUEUE_DRIVER: return q ? q->driver : 0;
	case QUEUE_DRIVER + 4: return q ? q->driver >> 32 : 0;
	case QUEUE_DEVICE: return q ? q->device : 0;
	case QUEUE_DEVICE + 4: return q ? q->device >> 32 : 0;
	}
	return 0;
}

/* The width of the register at @off (8-byte ones also take 4-byte halves). */
static unsigned int common_width(unsigned int off, unsigned int len)
{
	switch (off) {
	case DEVICE_FEATURE_SELECT: case DEVICE_FEATURE:
	case DRIVER_FEATURE_SELECT: case DRIVER_FEATURE:
		return 4;
	case CONFIG_MSIX_VECTOR: case NUM_QUEUES: case QUEUE_SELECT:
	case QUEUE_SIZE: case QUEUE_MSIX_VECTOR: case QUEUE_ENABLE:
	case QUEUE_NOTIFY_OFF:
		return 2;
	case DEVICE_STATUS: case CONFIG_GENERATION:
		return 1;
	case QUEUE_DESC: case QUEUE_DRIVER: case QUEUE_DEVICE:
		return len == 8 ? 8 : 4;
	case QUEUE_DESC + 4: case QUEUE_DRIVER + 4: case QUEUE_DEVICE + 4:
		return 4;
	}
	return 0;
}

static void set_half(uint64_t *reg, unsigned int off, unsigned int base,
		     uint64_t v, unsigned int len)
{
	if (len == 8)
		*reg = v;
	else if (off == base)
		*reg = (*reg & ~0xffffffffULL) | (uint32_t)v;
	else
		*reg = (*reg & 0xffffffffULL) | (uint64_t)(uint32_t)v << 32;
}

static void write_status(struct virtio_pci *vp, uint8_t v)
{
	uint8_t old = vp->status;

	if (!v) {
		/* Reset: the device drains first; status reads 0 after. */
		vp->resetting = true;
		if (vp->ops->reset(vp)) {
			clear_driver_state(vp);
			vp->resetting = false;
		}
		return;
	}
	if (vp->resetting || (old & ~v)) {
		vp->ignored_writes++;	/* bits only come on, except by reset */
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    ((vp->driver_features & ~vp->device_features) ||
	     !(vp->driver_features >> VIRTIO_F_VERSION_1_BIT & 1)))
		v &= ~VIRTIO_STATUS_FEATURES_OK;	/* the driver reads it back */
	vp->status = v;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) &&
	    vp->ops->driver_ok)
		vp->ops->driver_ok(vp);
}

static void enable_queue(struct virtio_pci *vp, struct virtio_pci_queue *q)
{
	unsigned int index = q - vp->queues;

	if (q->enabled)
		return;
	if (vp->ops->queue_enable(vp, index)) {
		fprintf(stderr, "wisp: %s: queue %u: bad configuration (size %u, rings 0x%llx/0x%llx/0x%llx): device needs reset\n",
			vp->name, index, q->size, (unsigned long long)q->desc,
			(unsigned long long)q->driver,
			(unsigned long long)q->device);
		vp->status |= VIRTIO_STATUS_NEEDS_RESET;
		return;
	}
	q->enabled = true;
}

static void common_set(struct virtio_pci *vp, unsigned int off, uint64_t v,
		       unsigned int len)
{
	struct virtio_pci_queue *q = selected(vp);
	bool negotiating = !(vp->status & VIRTIO_STATUS_FEATURES_OK);

	switch (off) {
	case DEVICE_FEATURE_SELECT:
		vp->device_feature_select = v;
		return;
	case DRIVER_FEATURE_SELECT:
		vp->driver_feature_select = v;
		return;
	case DRIVER_FEATURE:
		/* Features are fixed once FEATURES_OK is set (row 18). */
		if (negotiating && vp->driver_feature_select < 2) {
			unsigned int shift = 32 * vp->driver_feature_select;

			vp->driver_features &= ~(0xffffffffULL << shift);
			vp->driver_features |= (uint64_t)(uint32_t)v << shift;
			return;
		}
		break;
	case CONFIG_MSIX_VECTOR:
		vp->config_msix_vector = v < vp->msix.n ? v : MSIX_NO_VECTOR;
		return;
	case DEVICE_STATUS:
		write_status(vp, v);
		return;
	case QUEUE_SELECT:
		vp->queue_select = v;	/* any value; registers of none read 0 */
		return;
	}
	if (!q || q->enabled || vp->resetting) {
		vp->ignored_writes++;	/* no such queue, or live (rows 18, 20) */
		return;
	}
	switch (off) {
	case QUEUE_SIZE:
		q->size = v;
		return;
	case QUEUE_MSIX_VECTOR:
		q->msix_vector = v < vp->msix.n ? v : MSIX_NO_VECTOR;
		return;
	case QUEUE_ENABLE:
		if (v == 1)
			enable_queue(vp, q);
		return;
	case QUEUE_DESC: case QUEUE_DESC + 4:
		set_half(&q->desc, off, QUEUE_DESC, v, len);
		return;
	case QUEUE_DRIVER: case QUEUE_DRIVER + 4:
		set_half(&q->driver, off, QUEUE_DRIVER, v, len);
		return;
	case QUEUE_DEVICE: case QUEUE_DEVICE + 4:
		set_half(&q->device, off, QUEUE_DEVICE, v, len);
		return;
	}
	vp->ignored_writes++;	/* read-only registers */
}

static void common_access(struct virtio_pci *vp, unsigned int off,
			  uint8_t *data, uint32_t len, bool is_write)
{
	unsigned int width = common_width(off, len);

	if (!width || width != len) {
		/* Not a whole register (row 21): ignored, reads 0. */
		if (!is_write)
			memset(data, 0, len);
		else
			vp->ignored_writes++;
		return;
	}
	if (is_write) {
		common_set(vp, off, io_get(data, len), len);
		return;
	}
	if (len == 8)
		io_put(data, 8, common_get(vp, off) |
		       common_get(vp, off + 4) << 32);
	else
		io_put(data, len, common_get(vp, off));
}

/* ---- the BAR ------------------------------------------------------------- */

static void notify_write(struct virtio_pci *vp, uint64_t off)
{
	unsigned int i = off / VIRTIO_PCI_NOTIFY_MULT;
	uint64_t one = 1;

	/* Kicks before DRIVER_OK or for queues not enabled: ignored (row 18). */
	if (i >= vp->num_queues || !vp->queues[i].enabled ||
	    !(vp->status & VIRTIO_STATUS_DRIVER_OK)) {
		vp->ignored_writes++;
		return;
	}
	if (write(vp->queues[i].notify_fd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		vp->ignored_writes++;
}

static void bar_access(struct virtio_pci *vp, uint64_t off, uint8_t *data,
		       uint32_t len, bool is_write)
{
	if (off >= VIRTIO_PCI_MSIX_TABLE &&
	    off < VIRTIO_PCI_MSIX_TABLE + msix_table_size(vp->msix.n)) {
		if (is_write)
			msix_table_write(&vp->msix, off - VIRTIO_PCI_MSIX_TABLE,
					 data, len);
		else
			msix_table_read(&vp->msix, off - VIRTIO_PCI_MSIX_TABLE,
					data, len);
		return;
	}
	if (off >= VIRTIO_PCI_MSIX_PBA &&
	    off < VIRTIO_PCI_MSIX_PBA + msix_pba_size(vp->msix.n)) {
		if (is_write)
			vp->ignored_writes++;
		else
			msix_pba_read(&vp->msix, off - VIRTIO_PCI_MSIX_PBA,
				      data, len);
		return;
	}
	pthread_mutex_lock(&vp->lock);
	if (off < VIRTIO_PCI_COMMON_SIZE) {
		common_access(vp, off, data, len, is_write);
	} else if (off == VIRTIO_PCI_ISR) {
		if (!is_write) {
			/* Reading ISR clears it (4.1.4.5). */
			memset(data, 0, len);
			data[0] = vp->isr;
			vp->isr = 0;
		}
	} else if (off >= VIRTIO_PCI_DEVCFG &&
		   off - VIRTIO_PCI_DEVCFG < vp->config_size &&
		   len <= vp->config_size - (off - VIRTIO_PCI_DEVCFG)) {
		if (is_write)
			vp->ops->config_write(vp, off - VIRTIO_PCI_DEVCFG, data,
					      len);
		else
			vp->ops->config_read(vp, off - VIRTIO_PCI_DEVCFG, data,
					     len);
	} else if (off >= VIRTIO_PCI_NOTIFY &&
		   off < VIRTIO_PCI_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * vp->num_queues) {
		if (is_write)
			notify_write(vp, off - VIRTIO_PCI_NOTIFY);
		else
			memset(data, 0, len);
	} else if (is_write) {
		vp->ignored_writes++;	/* nothing there, or beyond the config */
	} else {
		memset(data, 0, len);
	}
	pthread_mutex_unlock(&vp->lock);
}

static void vp_bar_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	bar_access(dev, offset, data, len, false);
}

static void vp_bar_write(void *dev, uint64_t offset, const uint8_t *data,
			 uint32_t len)
{
	bar_access(dev, offset, (uint8_t *)data, len, true);
}

const struct io_handler virtio_pci_bar_io = {
	.read = vp_bar_read,
	.write = vp_bar_write,
};

/* ---- configuration space hooks: MSI-X and the PCI access window --------- */

static unsigned int pci_cfg_cap(const struct virtio_pci *vp)
{
	return vp->pd.cap_end - 20;	/* added last: see virtio_pci_init */
}

/* The BAR access the PCI configuration access capability describes. */
static bool window(struct virtio_pci *vp, uint64_t *off, uint32_t *len)
{
	unsigned int cap = pci_cfg_cap(vp);
	uint32_t bar = pci_cfg_get(&vp->pd, cap + PCI_CFG_BAR, 1);

	*off = pci_cfg_get(&vp->pd, cap + PCI_CFG_OFFSET, 4);
	*len = pci_cfg_get(&vp->pd, cap + PCI_CFG_LENGTH, 4);
	return bar == VIRTIO_PCI_BAR && (*len == 1 || *len == 2 || *len == 4) &&
	       *off < VIRTIO_PCI_BAR_SIZE && !(*off & (*len - 1));
}

static bool touches_data(const struct virtio_pci *vp, unsigned int off,
			 unsigned int len)
{
	unsigned int data = pci_cfg_cap(vp) + PCI_CFG_DATA;

	return off < data + 4 && off + len > data;
}

static void on_config_read(struct pci_device *pd, unsigned int off,
			   uint8_t *data, unsigned int len)
{
	struct virtio_pci *vp = (struct virtio_pci *)pd;
	unsigned int base = pci_cfg_cap(vp) + PCI_CFG_DATA, i;
	uint8_t window_data[4] = { 0 };
	uint64_t boff;
	uint32_t blen;

	if (!touches_data(vp, off, len))
		return;
	if (window(vp, &boff, &blen))
		bar_access(vp, boff, window_data, blen, false);
	for (i = 0; i < len; i++)
		if (off + i >= base && off + i < base + 4)
			data[i] = window_data[off + i - base];
}

static void on_config_written(struct pci_device *pd, unsigned int off,
			      unsigned int len)
{
	struct virtio_pci *vp = (struct virtio_pci *)pd;
	unsigned int base = pci_cfg_cap(vp) + PCI_CFG_DATA;
	uint8_t window_data[4];
	uint64_t boff;
	uint32_t blen;

	msix_config_written(&vp->msix, off, len);
	if (!touches_data(vp, off, len))
		return;
	if (!window(vp, &boff, &blen)) {
		vp->ignored_writes++;
		return;
	}
	memcpy(window_data, &pd->cfg[base], 4);
	bar_access(vp, boff, window_data, blen, true);
}

/* ---- construction ---------------------------------------------------------- */

static int add_vendor_cap(struct pci_device *pd, uint8_t type, uint32_t offset,
			  uint32_t length, const uint8_t *extra,
			  unsigned int extra_len)
{
	uint8_t body[18] = { 0 };

	body[0] = 16 + extra_len;	/* cap_len, with ID and next */
	body[1] = type;
	body[2] = VIRTIO_PCI_BAR;
	io_put(&body[6], 4, offset);
	io_put(&body[10], 4, length);
	if (extra_len)
		memcpy(&body[14], extra, extra_len);
	return pci_device_add_cap(pd, PCI_CAP_ID_VNDR, body, 14 + extra_len);
}

int virtio_pci_init(struct virtio_pci *vp, const char *name,
		    const struct host_services *hs, uint16_t device_id,
		    uint16_t subsys_id, uint32_t class_code,
		    unsigned int num_queues, uint16_t max_queue_size,
		    uint64_t features, uint32_t config_size,
		    const struct virtio_pci_device_ops *ops, void *dev)
{
	static const uint8_t mult[4] = { VIRTIO_PCI_NOTIFY_MULT, 0, 0, 0 };
	static const uint8_t zero[4] = { 0 };
	unsigned int i, cap;
	int ret;

	if (!num_queues || num_queues > VIRTIO_PCI_MAX_QUEUES ||
	    num_queues + 1 > MSIX_MAX_VECTORS || config_size > VIRTIO_PCI_DEVCFG_MAX)
		return -EINVAL;
	memset(vp, 0, sizeof(*vp));
	vp->name = name;
	vp->hs = hs;
	vp->ops = ops;
	vp->dev = dev;
	vp->num_queues = num_queues;
	vp->config_size = config_size;
	vp->device_features = features | 1ULL << VIRTIO_F_VERSION_1_BIT;
	for (i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		vp->queues[i].notify_fd = -1;
	for (i = 0; i < num_queues; i++) {
		vp->queues[i].max_size = max_queue_size;
		vp->queues[i].notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vp->queues[i].notify_fd < 0) {
			ret = -errno;
			goto fail;
		}
	}
	ret = pthread_mutex_init(&vp->lock, NULL);
	if (ret) {
		ret = -ret;
		goto fail;
	}
	clear_driver_state(vp);

	pci_device_init(&vp->pd, name, VIRTIO_PCI_VENDOR,
			VIRTIO_PCI_DEVICE_BASE + device_id, class_code, 1,
			VIRTIO_PCI_VENDOR, subsys_id);
	vp->pd.config_read = on_config_read;
	vp->pd.config_written = on_config_written;
	vp->pd.bar_mapped = on_bar_mapped;
	ret = pci_device_add_bar(&vp->pd, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE,
				 PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
				 &virtio_pci_bar_io, vp);
	if (!ret)
		ret = msix_init(&vp->msix, &vp->pd, hs, num_queues + 1,
				VIRTIO_PCI_BAR, VIRTIO_PCI_MSIX_TABLE,
				VIRTIO_PCI_MSIX_PBA);
	if (ret)
		goto fail_lock;
	if (add_vendor_cap(&vp->pd, CAP_COMMON, VIRTIO_PCI_COMMON,
			   VIRTIO_PCI_COMMON_SIZE, NULL, 0) < 0 ||
	    add_vendor_cap(&vp->pd, CAP_NOTIFY, VIRTIO_PCI_NOTIFY,
			   VIRTIO_PCI_NOTIFY_MULT * num_queues, mult, 4) < 0 ||
	    add_vendor_cap(&vp->pd, CAP_ISR, VIRTIO_PCI_ISR, 1, NULL, 0) < 0 ||
	    (config_size && add_vendor_cap(&vp->pd, CAP_DEVICE, VIRTIO_PCI_DEVCFG,
					   config_size, NULL, 0) < 0) ||
	    add_vendor_cap(&vp->pd, CAP_PCI_CFG, 0, 0, zero, 4) < 0) {
		ret = -ENOSPC;
		goto fail_msix;
	}
	/* The access window: bar, offset, length and data are the driver's. */
	cap = pci_cfg_cap(vp);
	pci_device_set_wmask(&vp->pd, cap + PCI_CFG_BAR, 1, 0xff);
	pci_device_set_wmask(&vp->pd, cap + PCI_CFG_OFFSET, 4, 0xffffffff);
	pci_device_set_wmask(&vp->pd, cap + PCI_CFG_LENGTH, 4, 0xffffffff);
	pci_device_set_wmask(&vp->pd, cap + PCI_CFG_DATA, 4, 0xffffffff);
	return 0;

fail_msix:
	msix_destroy(&vp->msix);
fail_lock:
	pthread_mutex_destroy(&vp->lock);
fail:
	for (i = 0; i < num_queues; i++)
		if (vp->queues[i].notify_fd >= 0)
			close(vp->queues[i].notify_fd);
	return ret;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	unsigned int i;

	vp_ioeventfds(vp, false);
	msix_destroy(&vp->msix);
	for (i = 0; i < vp->num_queues; i++)
		if (vp->queues[i].notify_fd >= 0)
			close(vp->queues[i].notify_fd);
	pthread_mutex_destroy(&vp->lock);
}

int virtio_pci_activate_virtq(struct virtio_pci *vp, unsigned int index,
			      struct virtq *vq)
{
	const struct virtio_pci_queue *pq = &vp->queues[index];
	uint64_t f = vp->driver_features;

	vq->size = pq->size;
	vq->desc_gpa = pq->desc;
	vq->avail_gpa = pq->driver;
	vq->used_gpa = pq->device;
	vq->event_idx = f >> VIRTIO_F_EVENT_IDX_BIT & 1;
	vq->indirect = f >> VIRTIO_F_INDIRECT_DESC_BIT & 1;
	if (pq->size > pq->max_size) {
		vq->active = false;
		vq->why = "queue size above the device's maximum";
		return -EINVAL;
	}
	return virtq_activate(vq);
}

/* ---- snapshots ----------------------------------------------------------- */

#define STATUS_KNOWN	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			 VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK | \
			 VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)

static struct virtq *queue_virtq(struct virtio_pci *vp, unsigned int i)
{
	return vp->ops->queue_virtq ? vp->ops->queue_virtq(vp, i) : NULL;
}

void virtio_pci_save(struct virtio_pci *vp, struct state_writer *w)
{
	unsigned int i;
	char name[16];

	pthread_mutex_lock(&vp->lock);
	state_put_u64(w, "device-features", vp->device_features);
	state_put_u32(w, "num-queues", vp->num_queues);
	state_put_u32(w, "resetting", vp->resetting);
	state_put_u64(w, "driver-features", vp->driver_features);
	state_put_u32(w, "device-feature-select", vp->device_feature_select);
	state_put_u32(w, "driver-feature-select", vp->driver_feature_select);
	state_put_u32(w, "status", vp->status);
	state_put_u32(w, "config-generation", vp->config_generation);
	state_put_u32(w, "config-msix-vector", vp->config_msix_vector);
	state_put_u32(w, "queue-select", vp->queue_select);
	state_put_u32(w, "isr", vp->isr);
	for (i = 0; i < vp->num_queues; i++) {
		const struct virtio_pci_queue *q = &vp->queues[i];
		struct virtq *vq = queue_virtq(vp, i);

		snprintf(name, sizeof(name), "queue@%x", i);
		state_begin(w, name);
		state_put_u32(w, "max-size", q->max_size);
		state_put_u32(w, "size", q->size);
		state_put_u32(w, "msix-vector", q->msix_vector);
		state_put_u32(w, "enabled", q->enabled);
		state_put_u64(w, "desc", q->desc);
		state_put_u64(w, "driver", q->driver);
		state_put_u64(w, "device", q->device);
		if (q->enabled && vq)
			virtq_save(vq, w);
		state_end(w);
	}
	pthread_mutex_unlock(&vp->lock);
	state_begin(w, "msix");
	msix_save(&vp->msix, w);
	state_end(w);
}

/* A write to the common configuration, as a vCPU makes it. */
static void reg_write(struct virtio_pci *vp, unsigned int off,
		      unsigned int len, uint64_t v)
{
	uint8_t data[8];

	io_put(data, len, v);
	bar_access(vp, VIRTIO_PCI_COMMON + off, data, len, true);
}

static uint8_t status_now(struct virtio_pci *vp)
{
	uint8_t s;

	pthread_mutex_lock(&vp->lock);
	s = vp->status;
	pthread_mutex_unlock(&vp->lock);
	return s;
}

/* Write status @v and check that the device kept it. */
static bool replay_status(struct virtio_pci *vp, struct state_reader *r,
			  int node, uint8_t v)
{
	uint8_t now;

	reg_write(vp, DEVICE_STATUS, 1, v);
	now = status_now(vp);
	if (now == v)
		return true;
	state_fail(r, node, "%s: status 0x%02x became 0x%02x on replay",
		   vp->name, v, now);
	return false;
}

struct saved_queue {
	int node;
	uint16_t size, vector;
	bool enabled;
	uint64_t desc, driver, device;
};

static bool vector_ok(const struct virtio_pci *vp, uint32_t v)
{
	return v == MSIX_NO_VECTOR || v < vp->msix.n;
}

/* Read and check queue @i's node into @sq.  False on an error. */
static bool load_queue_regs(struct virtio_pci *vp, struct state_reader *r,
			    int node, unsigned int i, struct saved_queue *sq)
{
	const struct virtio_pci_queue *q = &vp->queues[i];
	uint32_t max;
	char name[16];

	snprintf(name, sizeof(name), "queue@%x", i);
	sq->node = state_node(r, node, name);
	max = state_get_u32(r, sq->node, "max-size");
	sq->size = state_get_u32_max(r, sq->node, "size", 0xffff);
	sq->vector = state_get_u32_max(r, sq->node, "msix-vector", 0xffff);
	sq->enabled = state_get_u32_max(r, sq->node, "enabled", 1);
	sq->desc = state_get_u64(r, sq->node, "desc");
	sq->driver = state_get_u64(r, sq->node, "driver");
	sq->device = state_get_u64(r, sq->node, "device");
	if (r->failed)
		return false;
	if (max != q->max_size) {
		state_fail(r, sq->node, "%s: queue %u holds at most %u entries here, %u in the snapshot",
			   vp->name, i, q->max_size, max);
		return false;
	}
	if (!vector_ok(vp, sq->vector)) {
		state_fail(r, sq->node, "msix-vector %u is out of range (%u vectors)",
			   sq->vector, vp->msix.n);
		return false;
	}
	/* A disabled queue's size is whatever the driver last wrote. */
	if (sq->enabled && (!sq->size || (sq->size & (sq->size - 1)) ||
			    sq->size > q->max_size)) {
		state_fail(r, sq->node, "size %u of an enabled queue is 0, not a power of two, or above the maximum %u",
			   sq->size, q->max_size);
		return false;
	}
	return true;
}

/* Replay queue @i's registers; enable it when it was.  False on an error. */
static bool replay_queue(struct virtio_pci *vp, struct state_reader *r,
			 unsigned int i, const struct saved_queue *sq)
{
	const struct virtio_pci_queue *q = &vp->queues[i];
	struct virtq *vq;

	reg_write(vp, QUEUE_SELECT, 2, i);
	reg_write(vp, QUEUE_SIZE, 2, sq->size);
	reg_write(vp, QUEUE_MSIX_VECTOR, 2, sq->vector);
	reg_write(vp, QUEUE_DESC, 8, sq->desc);
	reg_write(vp, QUEUE_DRIVER, 8, sq->driver);
	reg_write(vp, QUEUE_DEVICE, 8, sq->device);
	if (sq->enabled)
		reg_write(vp, QUEUE_ENABLE, 2, 1);
	if (q->enabled != sq->enabled) {
		vq = queue_virtq(vp, i);
		state_fail(r, sq->node, "%s: queue %u (size %u, rings 0x%llx/0x%llx/0x%llx) refused: %s",
			   vp->name, i, sq->size, (unsigned long long)sq->desc,
			   (unsigned long long)sq->driver,
			   (unsigned long long)sq->device,
			   vq && vq->why ? vq->why : "bad configuration");
		return false;
	}
	if (q->size != sq->size || q->msix_vector != sq->vector ||
	    q->desc != sq->desc || q->driver != sq->driver ||
	    q->device != sq->device) {
		state_fail(r, sq->node, "%s: queue %u: registers differ after the replay",
			   vp->name, i);
		return false;
	}
	vq = queue_virtq(vp, i);
	if (sq->enabled && vq)
		virtq_load(vq, r, sq->node);
	return !r->failed;
}

void virtio_pci_load(struct virtio_pci *vp, struct state_reader *r, int node)
{
	struct saved_queue sq[VIRTIO_PCI_MAX_QUEUES];
	uint64_t dev_features = state_get_u64(r, node, "device-features");
	uint32_t nq = state_get_u32(r, node, "num-queues");
	bool resetting = state_get_u32_max(r, node, "resetting", 1);
	uint64_t features = state_get_u64(r, node, "driver-features");
	uint32_t dfsel = state_get_u32(r, node, "device-feature-select");
	uint32_t gfsel = state_get_u32(r, node, "driver-feature-select");
	uint8_t status = state_get_u32_max(r, node, "status", 0xff);
	uint8_t generation = state_get_u32_max(r, node, "config-generation", 0xff);
	uint16_t cfg_vector = state_get_u32_max(r, node, "config-msix-vector",
						0xffff);
	uint16_t qsel = state_get_u32_max(r, node, "queue-select", 0xffff);
	uint8_t isr = state_get_u32_max(r, node, "isr", 3);
	uint8_t stage;
	unsigned int i;
	uint64_t one = 1;

	if (r->failed)
		return;
	if (dev_features != vp->device_features) {
		state_fail(r, node, "%s: the device offers features 0x%llx here, 0x%llx in the snapshot",
			   vp->name, (unsigned long long)vp->device_features,
			   (unsigned long long)dev_features);
		return;
	}
	if (nq != vp->num_queues) {
		state_fail(r, node, "%s: %u queues here, %u in the snapshot",
			   vp->name, vp->num_queues, nq);
		return;
	}
	if (resetting) {
		state_fail(r, node, "%s: taken while a device reset was in progress (not quiesced)",
			   vp->name);
		return;
	}
	if (status & ~STATUS_KNOWN) {
		state_fail(r, node, "status 0x%02x has unknown bits", status);
		return;
	}
	if ((status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((features & ~vp->device_features) ||
	     !(features >> VIRTIO_F_VERSION_1_BIT & 1))) {
		state_fail(r, node, "status has FEATURES_OK, but driver features 0x%llx are not a subset of the offered 0x%llx with VERSION_1",
			   (unsigned long long)features,
			   (unsigned long long)vp->device_features);
		return;
	}
	if (!vector_ok(vp, cfg_vector)) {
		state_fail(r, node, "config-msix-vector %u is out of range (%u vectors)",
			   cfg_vector, vp->msix.n);
		return;
	}
	for (i = 0; i < vp->num_queues; i++)
		if (!load_queue_regs(vp, r, node, i, &sq[i]))
			return;

	/* The driver's sequence (virtio 1.x, 3.1.1), bits as saved. */
	stage = status & (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	if (stage && !replay_status(vp, r, node, stage))
		return;
	reg_write(vp, DRIVER_FEATURE_SELECT, 4, 0);
	reg_write(vp, DRIVER_FEATURE, 4, (uint32_t)features);
	reg_write(vp, DRIVER_FEATURE_SELECT, 4, 1);
	reg_write(vp, DRIVER_FEATURE, 4, features >> 32);
	if (vp->driver_features != features) {
		state_fail(r, node, "%s: driver features 0x%llx became 0x%llx on replay",
			   vp->name, (unsigned long long)features,
			   (unsigned long long)vp->driver_features);
		return;
	}
	if (status & VIRTIO_STATUS_FEATURES_OK) {
		stage |= VIRTIO_STATUS_FEATURES_OK;
		if (!replay_status(vp, r, node, stage))
			return;
	}
	for (i = 0; i < vp->num_queues; i++)
		if (!replay_queue(vp, r, i, &sq[i]))
			return;
	if (status != stage && !replay_status(vp, r, node, status))
		return;
	reg_write(vp, CONFIG_MSIX_VECTOR, 2, cfg_vector);
	reg_write(vp, DEVICE_FEATURE_SELECT, 4, dfsel);
	reg_write(vp, DRIVER_FEATURE_SELECT, 4, gfsel);
	reg_write(vp, QUEUE_SELECT, 2, qsel);
	pthread_mutex_lock(&vp->lock);
	vp->config_generation = generation;
	vp->isr = isr;
	pthread_mutex_unlock(&vp->lock);
	if (vp->config_msix_vector != cfg_vector) {
		state_fail(r, node, "%s: config-msix-vector %u refused on replay",
			   vp->name, cfg_vector);
		return;
	}
	msix_load(&vp->msix, r, state_node(r, node, "msix"));
	if (r->failed)
		return;
	/* A kick that came between the pause and the snapshot is not lost. */
	for (i = 0; i < vp->num_queues; i++)
		if (vp->queues[i].enabled &&
		    write(vp->queues[i].notify_fd, &one, sizeof(one)) < 0 &&
		    errno != EAGAIN)
			vp->ignored_writes++;
}
