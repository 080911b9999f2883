/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a device model may use of the VMM: the only header through which
 * devices/ reaches the monitor.  vmm/vm.c fills one struct host_services
 * per VM; unit tests fill it with fakes, so device tests need no KVM.
 */
#ifndef WISP_DEVICES_HOST_H
#define WISP_DEVICES_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

/*
 * Register-level access handlers.  @offset is relative to the start of the
 * range the device was registered at; @len is 1, 2, 4 or 8.  Called on
 * vCPU threads, concurrently when the guest has several vCPUs: handlers
 * never block on host I/O and never allocate.  A read handler fills all
 * @len bytes of @data.
 */
struct io_handler {
	void (*read)(void *dev, uint64_t offset, uint8_t *data, uint32_t len);
	void (*write)(void *dev, uint64_t offset, const uint8_t *data,
		      uint32_t len);
};

/*
 * An fd a device wants served on the event loop: @cb(@arg) runs on the
 * loop's thread whenever @fd is readable (level-triggered: it runs again
 * while the fd stays readable), or as watch_events says.  The device owns this struct and keeps it
 * at its address while it is watched; @priv is the host's.
 */
struct host_watch {
	int fd;
	void (*cb)(void *arg);
	void *arg;
	void *priv;
};

struct host_services {
	void *ctx;	/* first argument of every callback */

	/*
	 * Host pointer for guest-physical [gpa, gpa + len) when the range
	 * lies inside one RAM region, else NULL.  Any thread.
	 */
	void *(*guest_ptr)(void *ctx, uint64_t gpa, uint64_t len);

	/* Drive interrupt line @gsi to @level (0 or 1).  Any thread. */
	void (*irq_line)(void *ctx, unsigned int gsi, int level);

	/*
	 * Ask the VM to stop with exit status @status; the first request
	 * wins.  Returns at once; any thread.
	 */
	void (*request_stop)(void *ctx, int status);

	/*
	 * The guest asked for a system reset (the VMM decides: exit with
	 * the reset status, or restart).  Returns at once; any thread.
	 */
	void (*request_reset)(void *ctx);

	/*
	 * Queue guest console output.  Never blocks: what does not fit in
	 * the console's bounded buffer is dropped and counted.
	 */
	void (*console_write)(void *ctx, const uint8_t *buf, size_t len);

	/*
	 * The console device has room for input again after refusing some;
	 * the console resumes reading its input.  Any thread.
	 */
	void (*console_rx_ready)(void *ctx);

	/*
	 * Put [addr, addr + size) of the PIO (@is_io) or MMIO bus under
	 * @ops with @dev, at run time (a PCI BAR being enabled or moved).
	 * Returns 0, or -EEXIST when the range overlaps guest RAM or a
	 * registered range, -EINVAL when it is empty or wraps.  vCPU
	 * threads, serialized by the caller.
	 */
	int (*map_region)(void *ctx, bool is_io, uint64_t addr, uint64_t size,
			  const struct io_handler *ops, void *dev,
			  const char *name);

	/* Undo map_region at exactly @addr.  Returns 0 or -ENOENT. */
	int (*unmap_region)(void *ctx, bool is_io, uint64_t addr);

	/*
	 * MSI: allocate an interrupt route and an eventfd bound to it; the
	 * device raises the interrupt by writing 1 (8 bytes) to *@fd, from
	 * any thread.  The route delivers nothing until msi_set.  Returns a
	 * handle >= 0, or -errno.
	 */
	int (*msi_alloc)(void *ctx, int *fd);

	/* Point route @handle at @address/@data (the MSI message). */
	int (*msi_set)(void *ctx, int handle, uint64_t address, uint32_t data);

	/* Release route @handle and close its eventfd. */
	void (*msi_free)(void *ctx, int handle, int fd);

	/*
	 * Have the kernel signal eventfd @fd whenever the guest writes @len
	 * bytes at MMIO address @addr, without an exit to wisp (@assign), or
	 * stop doing so.  Returns 0 or -errno.
	 */
	int (*ioeventfd)(void *ctx, uint64_t addr, uint32_t len, int fd,
			 bool assign);

	/*
	 * Start or stop serving @w on the event loop.  watch returns 0 or
	 * -errno; construction thread.  unwatch frees the host's record, so
	 * it runs only while the loop is not dispatching (teardown).
	 */
	int (*watch)(void *ctx, struct host_watch *w);
	void (*unwatch)(void *ctx, struct host_watch *w);

	/*
	 * Change what @w (watched) waits for: HOST_WATCH_IN, HOST_WATCH_OUT
	 * or both; 0 pauses it (not even errors or hang-ups wake it) until
	 * called again.  Returns 0 or -errno.  The loop's thread.
	 */
	int (*watch_events)(void *ctx, struct host_watch *w,
			    unsigned int events);

	/*
	 * Give guest RAM [gpa, gpa + len) back to the host (the guest
	 * reads zeros there afterwards); only whole backing pages go.
	 * @balloon: the balloon holds these 4 KiB pages until reclaim (with
	 * hugetlb backing a 2 MiB page goes once the balloon holds all of
	 * it).  Returns the bytes given back now, or -EINVAL when the range
	 * is not inside one RAM region.  The loop's thread.
	 */
	int64_t (*discard)(void *ctx, uint64_t gpa, uint64_t len, bool balloon);

	/* The balloon gives [gpa, gpa + len) back (all: 0, UINT64_MAX). */
	void (*reclaim)(void *ctx, uint64_t gpa, uint64_t len);

	/*
	 * The device wrote guest RAM [gpa, gpa + len) through a pointer from
	 * guest_ptr (called after the write): KVM's dirty log never sees
	 * such writes, so a migration sends these pages again.  written_
	 * tracked says whether anyone records them now, for a caller that
	 * must work to find the ranges.  NULL: nobody tracks.  Any thread.
	 */
	void (*mark_written)(void *ctx, uint64_t gpa, uint64_t len);
	bool (*written_tracked)(void *ctx);
};

#define HOST_WATCH_IN	1u
#define HOST_WATCH_OUT	2u

/* Fill @w with @fd, @cb and @arg and start serving it. */
static inline int host_watch_start(const struct host_services *hs,
				   struct host_watch *w, int fd,
				   void (*cb)(void *), void *arg)
{
	*w = (struct host_watch){ .fd = fd, .cb = cb, .arg = arg };
	return hs->watch(hs->ctx, w);
}

/* Stop serving @w if it was started (safe on a zeroed or failed one). */
static inline void host_watch_stop(const struct host_services *hs,
				   struct host_watch *w)
{
	if (w->priv)
		hs->unwatch(hs->ctx, w);
}

/* Consume an eventfd's or timerfd's count; nothing pending is fine. */
static inline void host_drain_fd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0)
		return;		/* EAGAIN: nothing was signalled */
}

/* Little-endian helpers for register handlers. */
static inline uint64_t io_get(const uint8_t *data, uint32_t len)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < len && i < 8; i++)
		v |= (uint64_t)data[i] << (8 * i);
	return v;
}

static inline void io_put(uint8_t *data, uint32_t len, uint64_t v)
{
	uint32_t i;

	for (i = 0; i < len && i < 8; i++)
		data[i] = v >> (8 * i);
}

#endif
