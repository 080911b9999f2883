/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake VMM for device unit tests: fills a struct host_services whose
 * callbacks only record what the device asked for (interrupt levels, console
 * output, stop and reset requests, rx-ready calls) and translate guest
 * addresses into a malloc'd "guest RAM" with a checked range.  Linked into
 * every unit test binary; depends on nothing but host.h and libc.
 *
 * Single-threaded use only: the recording callbacks take no lock.
 */
#ifndef WISP_DEVICES_FAKE_HOST_TESTLIB_H
#define WISP_DEVICES_FAKE_HOST_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host.h"

#define FAKE_HOST_MAX_GSI	64
#define FAKE_HOST_CONSOLE_SIZE	65536
#define FAKE_HOST_MAX_REGIONS	32
#define FAKE_HOST_MAX_MSI	64
#define FAKE_HOST_MAX_IOEVENTFDS	64
#define FAKE_HOST_MAX_WATCHES	64
#define FAKE_HOST_MAX_DISCARDS	256

struct fake_host {
	/* Hand &fh->hs to the device; hs.ctx points back at this struct. */
	struct host_services hs;

	/* Guest RAM: [ram_base, ram_base + ram_size), zero-filled. */
	uint8_t *ram;
	uint64_t ram_base;
	uint64_t ram_size;
	unsigned int guest_ptr_calls;
	unsigned int guest_ptr_refused;	/* calls that returned NULL */

	/* Interrupts. */
	int irq_level[FAKE_HOST_MAX_GSI];
	unsigned int irq_calls_gsi[FAKE_HOST_MAX_GSI];
	unsigned int irq_calls;		/* all irq_line calls */
	unsigned int irq_bad_calls;	/* gsi out of range or level not 0/1 */
	unsigned int irq_last_gsi;
	int irq_last_level;

	/* Console output, in order; what does not fit is counted. */
	uint8_t console[FAKE_HOST_CONSOLE_SIZE];
	size_t console_len;
	size_t console_dropped;
	unsigned int console_calls;

	/* Stop requests: the last status and how many. */
	int stop_status;
	unsigned int stop_count;

	unsigned int reset_count;
	unsigned int rx_ready_count;

	/* Regions mapped at run time (map_region), in no particular order. */
	struct fake_region {
		bool is_io;
		uint64_t addr, size;
		const struct io_handler *ops;
		void *dev;
	} regions[FAKE_HOST_MAX_REGIONS];
	unsigned int n_regions;
	unsigned int map_calls, map_refused, unmap_calls;

	/* MSI routes: handle i is msi[i]; fd is a real eventfd. */
	struct fake_msi {
		bool used;
		int fd;
		uint64_t address;
		uint32_t data;
		unsigned int set_calls;
	} msi[FAKE_HOST_MAX_MSI];

	/* ioeventfds registered now. */
	struct fake_ioeventfd {
		uint64_t addr;
		uint32_t len;
		int fd;
	} ioeventfds[FAKE_HOST_MAX_IOEVENTFDS];
	unsigned int n_ioeventfds;
	unsigned int ioeventfd_bad_calls;	/* duplicate or unknown */

	/* Watched fds, served by fake_host_poll(). */
	struct host_watch *watches[FAKE_HOST_MAX_WATCHES];
	unsigned int watch_events[FAKE_HOST_MAX_WATCHES];	/* HOST_WATCH_* */
	unsigned int n_watches;

	/*
	 * discard: each call recorded (the first FAKE_HOST_MAX_DISCARDS),
	 * the range zeroed when it is inside RAM (whole 4 KiB pages, like
	 * the real one), its bytes summed; reclaim likewise.
	 */
	struct fake_discard {
		uint64_t gpa, len;
		bool balloon;
	} discards[FAKE_HOST_MAX_DISCARDS], reclaims[FAKE_HOST_MAX_DISCARDS];
	unsigned int discard_calls, discard_refused, reclaim_calls;
	uint64_t discarded_bytes;

	/*
	 * mark_written: recorded (the first FAKE_HOST_MAX_DISCARDS) while
	 * @tracking_written is set; written_tracked answers it.
	 */
	bool tracking_written;
	struct fake_written {
		uint64_t gpa, len;
	} written[FAKE_HOST_MAX_DISCARDS];
	unsigned int written_calls;
};

/*
 * Fill @fh with recording callbacks and @ram_size bytes of zeroed guest
 * RAM at guest-physical @ram_base (@ram_size may be 0: no RAM).  Returns 0,
 * -ENOMEM, or -EINVAL when the range wraps 64 bits.  Counters start at 0;
 * stop_status starts at -1 (no request yet).
 */
int fake_host_init(struct fake_host *fh, uint64_t ram_base, uint64_t ram_size);

/*
 * How many times MSI route @handle was raised since the last call (reads
 * its eventfd), or -1 for a handle not allocated.
 */
long fake_host_msi_count(struct fake_host *fh, int handle);

/*
 * Run the callback of every watched fd that is ready now (readable, or as
 * watch_events asked; paused ones never), once each, as an event loop would; wait up to @timeout_ms for the first.  Returns how
 * many ran.
 */
int fake_host_poll(struct fake_host *fh, int timeout_ms);

/* Free the guest RAM and MSI eventfds; @fh may be initialized again. */
void fake_host_free(struct fake_host *fh);

/* Forget what was recorded (counters, console, levels); RAM is kept. */
void fake_host_reset_records(struct fake_host *fh);

/*
 * The region mapped at @addr on the PIO (@is_io) or MMIO bus, or NULL.
 * map_region refuses ranges overlapping RAM (MMIO only) or another region
 * on the same bus, as the VMM does.
 */
const struct fake_region *fake_host_region(const struct fake_host *fh,
					   bool is_io, uint64_t addr);

/* The fake's guest_ptr, for tests that want to translate directly. */
void *fake_host_gpa(struct fake_host *fh, uint64_t gpa, uint64_t len);

/*
 * Register accesses through a device's handler, as a vCPU makes them.
 * fake_io_read() stores the value read in *@value and returns 0, or -1 when
 * the handler wrote bytes beyond @len (a device bug the test should fail).
 */
int fake_io_read(const struct io_handler *ops, void *dev, uint64_t offset,
		 uint32_t len, uint64_t *value);
void fake_io_write(const struct io_handler *ops, void *dev, uint64_t offset,
		   uint32_t len, uint64_t value);

#endif
