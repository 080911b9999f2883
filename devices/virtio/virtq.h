/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The split virtqueue (virtio 1.x, 2.7), device side, with every check of
 * bad-inputs.md rows 1-17 that belongs to a queue.  Guest memory is
 * reached only through host_services.guest_ptr.  A queue that meets ring
 * corruption ("NR") stays broken until virtq_reset(): every later pop
 * fails, and the device asks its transport for DEVICE_NEEDS_RESET.
 *
 * Threads: configuration (virtq_activate, virtq_reset) happens while the
 * device's I/O thread leaves the queue alone; pops and pushes happen on
 * that one thread.  Nothing here allocates after activation.
 */
#ifndef WISP_DEVICES_VIRTIO_VIRTQ_H
#define WISP_DEVICES_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "../host.h"
#include "../state.h"

#define VIRTQ_MAX_SIZE		1024	/* entries; a power of two */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
#define VIRTQ_USED_F_NO_NOTIFY		1
#define VIRTIO_F_INDIRECT_DESC_BIT	28
#define VIRTIO_F_EVENT_IDX_BIT		29

/* One buffer of a popped chain: @base NULL when it is not guest RAM. */
struct virtq_buf {
	uint8_t *base;
	uint32_t len;
	bool writable;
	uint64_t gpa;			/* where @base is in the guest */
};

struct virtq {
	const struct host_services *hs;
	/* Set by the transport before virtq_activate. */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx, indirect;

	/* Set by virtq_activate. */
	bool active, broken;
	uint8_t *desc;			/* 16 bytes per entry */
	uint8_t *avail;			/* flags, idx, ring[size], used_event */
	uint8_t *used;			/* flags, idx, ring[size], avail_event */
	uint16_t last_avail;		/* next avail entry to take */
	uint16_t used_idx;		/* next used entry to fill */
	uint16_t signalled_used;	/* used idx at the last interrupt */
	bool signalled_valid;
	uint64_t in_flight[VIRTQ_MAX_SIZE / 64];	/* heads popped, not pushed */
	const char *why;		/* what broke it */
};

/*
 * Check the configured size and ring addresses (row 14: size 0, not a
 * power of two, above VIRTQ_MAX_SIZE; row 15: rings misaligned or not in
 * guest RAM) and start the queue.  Returns 0, or -EINVAL with q->why set
 * (the queue stays inactive).
 */
int virtq_activate(struct virtq *q);

/* Forget everything but hs (the transport drained in-flight I/O first). */
void virtq_reset(struct virtq *q);

/*
 * Take the next available chain into @bufs (room for @max): readable
 * buffers first, then writable ones.  Returns the number of buffers (> 0)
 * with *@head set, 0 when nothing is available, or -EIO when the queue is
 * (now) broken (q->why says why).  A buffer outside guest RAM is not a
 * queue error: it comes back with base NULL (row 9), for the device to
 * fail that request.
 */
int virtq_pop(struct virtq *q, struct virtq_buf *bufs, unsigned int max,
	      uint16_t *head);

/*
 * Give chain @head back with @len bytes written; visible to the driver
 * at the next virtq_publish.  Returns 0, or -EINVAL for a head that is
 * not in flight (a device bug).
 */
int virtq_push(struct virtq *q, uint16_t head, uint32_t len);

/*
 * Publish the pushed entries (release order) and say whether the driver
 * wants an interrupt for them (EVENT_IDX's used_event, or the
 * NO_INTERRUPT flag).
 */
bool virtq_publish(struct virtq *q);

/*
 * Ask for notifications (@on) or not; with EVENT_IDX this writes
 * avail_event.  After turning them on, check virtq_pending() again: a
 * kick may have been skipped in between.
 */
void virtq_notifications(struct virtq *q, bool on);

/* Are chains waiting to be popped? */
bool virtq_pending(struct virtq *q);

/*
 * Give back the last @n chains popped (@heads in the order they were
 * popped) so that the next pops take them again, when the available ring
 * still names them there.  Returns 0, or -EINVAL (nothing changed: push
 * them instead).  For a device that would otherwise hold them across a
 * snapshot.
 */
int virtq_unpop(struct virtq *q, const uint16_t *heads, unsigned int n);

/*
 * Snapshots: the queue's progress that is not in guest memory.
 * virtq_save writes, into the node the caller opened (the transport's
 * "queue@N"): last-avail, used-idx (everything pushed must be published:
 * quiesce first), the interrupt-suppression shadow (signalled-used,
 * signalled-valid), broken, and the heads in flight (popped, not pushed:
 * a device that holds a chain across a snapshot, as the balloon's
 * statistics buffer).  virtq_load, on a queue just activated with the
 * same configuration: checks that the heads in flight are within the
 * queue and as many as last-avail - used-idx, then sets them.  A queue
 * broken in the snapshot comes back broken.  Errors go to @r.
 */
void virtq_save(const struct virtq *q, struct state_writer *w);
void virtq_load(struct virtq *q, struct state_reader *r, int node);

#endif
