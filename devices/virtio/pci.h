/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio 1.x PCI transport (modern, non-transitional): one memory BAR
 * holding the common configuration, ISR, device configuration and notify
 * regions and the MSI-X table and PBA, described by the five virtio
 * vendor capabilities (common, notify, ISR, device, PCI configuration
 * access).  It owns feature negotiation, device status, the per-queue
 * registers and interrupts; the device behind it (blk, net, ...) owns the
 * queues' processing and its configuration space, through
 * struct virtio_pci_device_ops.
 *
 * Threads: register accesses arrive on vCPU threads and are serialized by
 * @lock; queue notifications become eventfd signals (an ioeventfd while
 * the BAR is mapped, else written by the notify handler), consumed by the
 * device on its I/O thread.  Interrupts may be raised from any thread.
 *
 * BAR layout (VIRTIO_PCI_BAR_SIZE bytes):
 *   0x0000 common configuration     0x3000 notify (4 bytes per queue)
 *   0x1000 ISR status               0x4000 MSI-X table
 *   0x2000 device configuration     0x5000 MSI-X PBA
 */
#ifndef WISP_DEVICES_VIRTIO_PCI_H
#define WISP_DEVICES_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../host.h"
#include "../msix.h"
#include "../pci.h"
#include "../state.h"
#include "virtq.h"

#define VIRTIO_PCI_BAR		0
#define VIRTIO_PCI_BAR_SIZE	0x8000
#define VIRTIO_PCI_COMMON	0x0000
#define VIRTIO_PCI_COMMON_SIZE	0x40
#define VIRTIO_PCI_ISR		0x1000
#define VIRTIO_PCI_DEVCFG	0x2000
#define VIRTIO_PCI_DEVCFG_MAX	0x1000
#define VIRTIO_PCI_NOTIFY	0x3000
#define VIRTIO_PCI_NOTIFY_MULT	4
#define VIRTIO_PCI_MSIX_TABLE	0x4000
#define VIRTIO_PCI_MSIX_PBA	0x5000

#define VIRTIO_PCI_MAX_QUEUES	64
#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040	/* + virtio device ID */

/* Device status bits (virtio 1.x, 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

#define VIRTIO_F_VERSION_1_BIT		32

/* One queue as the driver configured it through the common registers. */
struct virtio_pci_queue {
	uint16_t size;			/* queue_size (max until the driver shrinks it) */
	uint16_t max_size;
	uint16_t msix_vector;
	bool enabled;
	uint64_t desc, driver, device;	/* ring addresses */
	int notify_fd;			/* eventfd the device waits on */
	bool ioeventfd;			/* registered with KVM now */
};

struct virtio_pci;

struct virtio_pci_device_ops {
	/*
	 * Queue @index was enabled with the addresses in vp->queues[index]:
	 * validate and start it.  Returns 0, or -EINVAL for a bad queue
	 * (the transport then sets DEVICE_NEEDS_RESET).  vCPU thread, lock
	 * held: must not block.
	 */
	int (*queue_enable)(struct virtio_pci *vp, unsigned int index);

	/*
	 * The driver asked for a reset: stop every queue, finish or cancel
	 * in-flight requests and forget negotiated state.  Return true when
	 * the device is idle already; otherwise call virtio_pci_reset_done()
	 * later, from another thread, once it is (device_status reads
	 * non-zero until then).  vCPU thread, lock held: must not block.
	 */
	bool (*reset)(struct virtio_pci *vp);

	/* Device configuration space access; out-of-range handled already. */
	void (*config_read)(struct virtio_pci *vp, uint64_t offset,
			    uint8_t *data, uint32_t len);
	void (*config_write)(struct virtio_pci *vp, uint64_t offset,
			     const uint8_t *data, uint32_t len);

	/* DRIVER_OK was set: the device may start processing. */
	void (*driver_ok)(struct virtio_pci *vp);

	/*
	 * The virtqueue behind queue @index, for snapshots (its progress is
	 * saved and restored with the transport); NULL when there is none.
	 * May itself be NULL (no queue state saved).
	 */
	struct virtq *(*queue_virtq)(struct virtio_pci *vp, unsigned int index);
};

struct virtio_pci {
	struct pci_device pd;
	struct msix msix;
	const struct host_services *hs;
	const struct virtio_pci_device_ops *ops;
	void *dev;			/* the device behind the transport */
	const char *name;

	pthread_mutex_t lock;
	uint64_t device_features;
	uint64_t driver_features;	/* as written by the driver */
	uint32_t device_feature_select, driver_feature_select;
	uint8_t status;
	uint8_t config_generation;
	uint16_t config_msix_vector;
	uint16_t queue_select;
	uint8_t isr;			/* bit 0 queue, bit 1 config */
	bool resetting;			/* status reads 0 once the device is idle */
	unsigned int num_queues;
	struct virtio_pci_queue queues[VIRTIO_PCI_MAX_QUEUES];
	uint32_t config_size;		/* device configuration bytes */
	uint64_t bar_addr;		/* where the BAR is mapped; 0: not */
	uint64_t ignored_writes;	/* bad-inputs rows 18, 20, 21 */
};

/*
 * Set up the transport for virtio device @device_id with @num_queues
 * queues of at most @max_queue_size entries, offering @features (VERSION_1
 * is added), @config_size bytes of device configuration, and one MSI-X
 * vector per queue plus one for configuration changes.  @vp must stay at
 * its address.  Returns 0 or -errno.  Construction thread; then add
 * &vp->pd to the PCI host.
 */
int virtio_pci_init(struct virtio_pci *vp, const char *name,
		    const struct host_services *hs, uint16_t device_id,
		    uint16_t subsys_id, uint32_t class_code,
		    unsigned int num_queues, uint16_t max_queue_size,
		    uint64_t features, uint32_t config_size,
		    const struct virtio_pci_device_ops *ops, void *dev);

void virtio_pci_destroy(struct virtio_pci *vp);

/* Did the driver accept feature @bit?  Valid once FEATURES_OK is set. */
bool virtio_pci_has_feature(struct virtio_pci *vp, unsigned int bit);

/*
 * Copy queue @index's configuration (size, ring addresses, and the
 * EVENT_IDX and INDIRECT_DESC features) into @vq and activate it: what a
 * device's queue_enable does first.  Returns virtq_activate's result, or
 * -EINVAL for a size above the queue's maximum.
 * Called with the lock held (from queue_enable).
 */
int virtio_pci_activate_virtq(struct virtio_pci *vp, unsigned int index,
			      struct virtq *vq);

/* Signal a used-buffer notification for queue @index.  Any thread. */
void virtio_pci_notify_queue(struct virtio_pci *vp, unsigned int index);

/* Signal a configuration change (bumps config_generation).  Any thread. */
void virtio_pci_notify_config(struct virtio_pci *vp);

/*
 * The device found queue or ring corruption (bad-inputs.md "NR"): set
 * DEVICE_NEEDS_RESET and, after DRIVER_OK, send a configuration
 * interrupt.  The device ignores the queue until the driver resets it.
 * Any thread.
 */
void virtio_pci_needs_reset(struct virtio_pci *vp);

/*
 * The device finished a reset that its reset op left pending.  Any
 * thread but one inside a transport callback.
 */
void virtio_pci_reset_done(struct virtio_pci *vp);

/*
 * Snapshots (docs/snapshot.md).  virtio_pci_save writes, into the node the
 * caller opened for the device: the offered features and queue count (for
 * comparison), driver features, feature selects, status, config
 * generation, config vector, queue select, ISR, an "msix" node
 * (msix_save), and a "queue@N" node per queue (size, vector, enabled,
 * ring addresses, and for an enabled queue its virtq's progress,
 * virtq_save).  The device must be quiesced (nothing in flight, no reset
 * pending), vCPUs paused.
 *
 * virtio_pci_load, on a freshly created device with the same
 * configuration: checks what must match, then replays the driver's
 * writes through the common configuration registers (status
 * ACKNOWLEDGE/DRIVER, driver features, FEATURES_OK, per queue its
 * registers and queue_enable, which makes the device validate the rings
 * against RAM; then the saved status, DRIVER_OK included, so driver_ok
 * runs), restores each enabled queue's virtq progress and the MSI-X table,
 * and finally signals every enabled queue's notify eventfd once (a kick
 * lost between pause and snapshot).  Anything refused by the replay (a
 * status bit dropped, a queue that would not enable, NEEDS_RESET or FAILED
 * the snapshot did not have) fails the load.  Errors go to @r (with the
 * path); the device stays safe to destroy.  Construction thread, before
 * the event loop runs.
 */
void virtio_pci_save(struct virtio_pci *vp, struct state_writer *w);
void virtio_pci_load(struct virtio_pci *vp, struct state_reader *r, int node);

/* The BAR's register handler (the device is the struct virtio_pci). */
extern const struct io_handler virtio_pci_bar_io;

#endif
