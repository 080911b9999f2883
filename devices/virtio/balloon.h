/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-balloon (virtio 1.x, device ID 5; docs/memory.md): the host asks
 * the guest to hold a number of 4 KiB pages (the target); the pages the
 * guest puts in the balloon (inflate queue) are given back to the host
 * through host_services.discard, the pages it takes out (deflate queue)
 * are reclaimed.  Optional: the statistics queue (polled every
 * stats=SECONDS), deflate-on-OOM (a feature bit the guest acts on), and
 * free page reporting (ranges the guest reports free are discarded).
 *
 * Queues are numbered as Linux and QEMU number them: inflate 0, deflate
 * 1, then the statistics queue and the reporting queue, each only when
 * negotiated, in that order.
 *
 * Guest input (bad-inputs.md row 27 and the queue rows): a PFN outside
 * RAM is ignored and counted; duplicates are harmless; at most
 * BALLOON_MAX_PFNS PFNs of a chain are used (the rest counted); a
 * statistics buffer is read up to BALLOON_MAX_STATS entries; buffers of
 * the wrong direction are ignored and counted; ring corruption sets
 * DEVICE_NEEDS_RESET.  Everything runs on the event loop.
 */
#ifndef WISP_DEVICES_VIRTIO_BALLOON_H
#define WISP_DEVICES_VIRTIO_BALLOON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../host.h"
#include "../pci.h"
#include "../state.h"

#define BALLOON_DEVICE_ID	5
#define BALLOON_QUEUE_SIZE	128
#define BALLOON_MAX_PFNS	4096	/* used per chain */
#define BALLOON_MAX_STATS	64	/* entries read per statistics buffer */
#define BALLOON_PAGE_SHIFT	12

/* The statistics tags (virtio 1.x 5.5.6.3), as the guest reports them. */
enum balloon_stat {
	BALLOON_STAT_SWAP_IN,
	BALLOON_STAT_SWAP_OUT,
	BALLOON_STAT_MAJFLT,
	BALLOON_STAT_MINFLT,
	BALLOON_STAT_MEMFREE,
	BALLOON_STAT_MEMTOT,
	BALLOON_STAT_AVAIL,
	BALLOON_STAT_CACHES,
	BALLOON_STAT_HTLB_PGALLOC,
	BALLOON_STAT_HTLB_PGFAIL,
	BALLOON_STAT_TAGS		/* known tags; others are ignored */
};

/* --balloon[=deflate_on_oom=on,free_page_reporting=on,stats=SECONDS] */
struct balloon_options {
	bool deflate_on_oom;
	bool free_page_reporting;
	unsigned int stats_interval;	/* seconds; 0: no statistics queue */
};

#define BALLOON_OPTIONS_HELP \
	"[deflate_on_oom=on][,free_page_reporting=on][,stats=SECONDS]"

/* Parse @spec ("" for the defaults).  0, or -EINVAL with @msg set. */
int balloon_parse_options(const char *spec, struct balloon_options *o,
			  char *msg, size_t msg_len);

struct balloon_status {
	uint64_t target_pages;		/* what the host asked for */
	uint64_t actual_pages;		/* what the driver says it holds */
	/* What the device saw. */
	uint64_t inflated_pages, deflated_pages;
	uint64_t discarded_bytes;	/* given back to the host */
	uint64_t reported_bytes;	/* free page reporting: reported */
	uint64_t bad_pfns;		/* outside RAM: ignored */
	uint64_t capped_pfns;		/* past BALLOON_MAX_PFNS in a chain */
	uint64_t bad_buffers;		/* wrong direction, outside RAM */
	/* The guest's last statistics. */
	uint64_t stats_updates;		/* buffers received */
	uint64_t stats_age_ms;		/* since the last; valid if updates */
	uint32_t stats_present;		/* bit per enum balloon_stat tag */
	uint64_t stats[BALLOON_STAT_TAGS];
	bool deflate_on_oom, free_page_reporting, stats_queue;	/* negotiated */
};

struct balloon_dev;

/*
 * Create the device for a guest with @ram_bytes of RAM.  NULL on failure
 * with @msg and *@err (-errno) set.
 */
struct balloon_dev *balloon_create(const struct host_services *hs,
				   const struct balloon_options *o,
				   uint64_t ram_bytes, char *msg,
				   size_t msg_len, int *err);

struct pci_device *balloon_pci_device(struct balloon_dev *d);

/*
 * Ask the guest to hold @bytes (rounded down to whole 4 KiB pages):
 * written to num_pages, with a configuration interrupt.  Returns 0, or
 * -ERANGE when @bytes is more than guest RAM.  The loop's thread.
 */
int balloon_set_target(struct balloon_dev *d, uint64_t bytes);

/* Where the balloon stands.  The loop's thread. */
void balloon_get_status(struct balloon_dev *d, struct balloon_status *s);

/*
 * Snapshots.  balloon_quiesce: on the loop's thread, vCPUs paused:
 * finishes a pending reset; inflate, deflate and reporting chains are
 * handled when taken, so nothing else is in flight.  The statistics
 * buffer the device holds between polls is NOT given back: its head is
 * saved (it stays in flight in the virtq) and the restored device holds
 * it and returns it at its next statistics poll.  Returns 0.
 *
 * balloon_save (into the node the caller opened, e.g. "virtio-balloon@0";
 * after balloon_quiesce): RAM pages and queue count (must match), the
 * target (num_pages), actual, the held statistics head, the guest's last
 * statistics, then the transport (virtio_pci_save).
 *
 * balloon_load (on a device just made by balloon_create with the same
 * options and RAM size, before the loop runs): checks what must match,
 * the target against RAM, loads the transport, and checks that the only
 * chain in flight is the held statistics buffer.  Errors go to @r.
 * Pages the guest had ballooned are zero in the saved memory; the host's
 * record of them (discard with @balloon) is not rebuilt.
 */
int balloon_quiesce(struct balloon_dev *d);
void balloon_save(struct balloon_dev *d, struct state_writer *w);
void balloon_load(struct balloon_dev *d, struct state_reader *r, int node);

/* Release everything; the event loop no longer runs.  NULL is ignored. */
void balloon_destroy(struct balloon_dev *d);

#endif
