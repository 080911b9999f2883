/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk: a disk backed by a raw image file or a block device.
 *
 * This header starts with the --disk option: its sub-options are parsed
 * here, beside the device (architecture.md, rule 9).
 */
#ifndef WISP_DEVICES_VIRTIO_BLK_H
#define WISP_DEVICES_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../io/engine.h"
#include "../pci.h"
#include "../state.h"

#define BLK_SERIAL_MAX		20	/* VIRTIO_BLK_ID_BYTES */
#define BLK_MAX_QUEUES		64
#define BLK_PATH_MAX		4096

/* What --disk asked for. */
struct blk_options {
	char path[BLK_PATH_MAX];
	bool readonly;
	bool direct;			/* O_DIRECT: bypass the host page cache */
	char serial[BLK_SERIAL_MAX + 1];	/* "" when not given */
	unsigned int queues;		/* 0: one per vCPU */
};

/* The sub-options, for --help (docs/disks.md says more). */
#define BLK_OPTIONS_HELP \
	"path=FILE[,readonly=on][,direct=on][,serial=ID][,queues=N]"

/* The opened backing file or block device. */
struct blk_backing {
	int fd;
	bool readonly;
	bool is_blockdev;
	uint64_t capacity;		/* bytes, a multiple of 512 */
	uint32_t logical_block;		/* bytes: 512 for files, BLKSSZGET */
	uint64_t ignored_tail;		/* bytes past the last whole sector */
};

/*
 * Open @o->path as @o asks: read-write (or read-only), O_DIRECT when
 * asked, and an OFD lock (shared for read-only, exclusive for read-write)
 * so two VMs never open one image read-write.  Errors, each with a
 * one-line message in @msg: -ENOENT/-EACCES... cannot open (the caller
 * maps it to "input missing"), -EBUSY locked by another process,
 * -EINVAL not a regular file or block device, or O_DIRECT refused,
 * -ERANGE empty (no whole 512-byte sector).  Construction thread.
 */
int blk_open_backing(const struct blk_options *o, struct blk_backing *b,
		     char *msg, size_t msg_len);

/*
 * Close @b's fd.  The lock belongs to the open file description, so it
 * stays while another fd (a dup, or an io_uring's registered file, which
 * the kernel drops some time after the ring is closed) still refers to it.
 */
void blk_close_backing(struct blk_backing *b);

/*
 * Drop (@lock false) or take again the image's lock: a migration hands
 * a shared disk to its destination and takes it back if that fails.
 * Returns 0, -EBUSY (another holds it) or -errno.
 */
int blk_backing_lock(struct blk_backing *b, bool lock);

/*
 * Unlock and close: for the last user of the image, so that the next VM
 * may open it at once, whatever else still holds the open file.
 */
void blk_release_backing(struct blk_backing *b);

/*
 * Parse @spec ("path=disk.img,readonly=on,...") into @o.  On a malformed
 * spec returns -EINVAL with a one-line message (without "--disk: ") in
 * @msg.  Touches no file.  Any thread.
 */
int blk_parse_options(const char *spec, struct blk_options *o, char *msg,
		      size_t msg_len);

/* Request types and status values (virtio 1.x, 5.2.6). */
#define BLK_T_IN		0
#define BLK_T_OUT		1
#define BLK_T_FLUSH		4
#define BLK_T_GET_ID		8
#define BLK_T_DISCARD		11
#define BLK_T_WRITE_ZEROES	13
#define BLK_S_OK		0
#define BLK_S_IOERR		1
#define BLK_S_UNSUPP		2

#define BLK_SECTOR		512
#define BLK_HEADER_SIZE		16
#define BLK_MAX_DATA_SEGS	256	/* seg_max advertised */
#define BLK_MAX_RANGE_SECTORS	(1u << 22)	/* 2 GiB per discard/zeroes range */
#define BLK_WZ_FLAG_UNMAP	1

/* One buffer of a descriptor chain: @base NULL when it is not guest RAM. */
struct blk_seg {
	uint8_t *base;
	uint32_t len;
	bool writable;
};

/* What the device knows when it checks a request. */
struct blk_limits {
	uint64_t capacity;		/* bytes */
	bool readonly;
	bool discard, write_zeroes;	/* features the driver accepted */
};

/*
 * A request checked and ready: for IN and OUT, the data buffers as
 * iovecs and the byte offset; for DISCARD and WRITE_ZEROES, the one range
 * (@offset, @len) and whether WRITE_ZEROES may unmap; @status points at
 * the status byte in guest RAM (NULL: nowhere to write it).
 */
struct blk_request {
	uint32_t type;
	uint64_t offset, len;
	bool unmap;
	struct iovec iov[BLK_MAX_DATA_SEGS];
	unsigned int iovcnt;
	uint8_t *status;
	uint32_t in_len;		/* bytes the device writes, status included */
};

/*
 * Check the request made of @segs (readable ones first, as the queue
 * hands them over) against @lim and fill @req (bad-inputs.md rows 9, 12,
 * 13 and 26).  Returns BLK_S_OK when the request is to be carried out,
 * else the status to complete it with at once (BLK_S_IOERR or
 * BLK_S_UNSUPP; req->status may then be NULL: complete with length 0).
 * Reads the header and range descriptors from guest memory once.  Pure.
 */
int blk_parse_request(const struct blk_seg *segs, unsigned int n,
		      const struct blk_limits *lim, struct blk_request *req);

/* ---- one request queue's I/O ------------------------------------------------ */

#define BLK_MAX_CHAIN		(BLK_MAX_DATA_SEGS + 2)

/* A descriptor chain as the virtqueue hands it over. */
struct blk_chain {
	uint16_t head;
	unsigned int n;
	struct blk_seg segs[BLK_MAX_CHAIN];
};

/* How a queue gives chains back: the virtqueue glue implements these. */
struct blk_queue_ops {
	/* Chain @head is done; @len bytes were written into it. */
	void (*complete)(void *ctx, uint16_t head, uint32_t len);
	/* A batch of completions ends: publish them, interrupt if due. */
	void (*completed)(void *ctx);
};

struct blk_slot {
	bool used, deferred, is_write;
	uint16_t head;
	uint32_t type;
	uint32_t in_len;
	uint8_t *status;
};

struct blk_queue_stats {
	uint64_t reads, writes, flushes, discards, zeroes, get_ids;
	uint64_t errors;		/* completed with IOERR or UNSUPP */
	uint64_t bytes_read, bytes_written;
};

/*
 * A request queue's I/O: checks chains, starts them on its engine, and
 * completes them.  FLUSH waits until every write this queue started
 * before it has completed, then syncs; its completion is posted only
 * after the sync succeeded (a failed sync completes with IOERR).  When
 * the engine is full, one parsed request waits and the queue takes no
 * more chains (blk_queue_can_take) until completions free room: nothing
 * is dropped.  One thread (the device's I/O thread) calls everything.
 */
struct blk_queue {
	struct io_engine *engine;
	unsigned int file;
	const struct blk_limits *lim;
	const char *serial;		/* up to 20 bytes */
	const struct blk_queue_ops *ops;
	void *ctx;
	struct blk_slot *slots;
	unsigned int n_slots, n_used;
	unsigned int writes_in_flight;	/* OUT, DISCARD, WRITE_ZEROES */
	unsigned int deferred_flushes;
	bool stalled;			/* @waiting holds a request */
	unsigned int waiting_slot;
	struct blk_request waiting;
	struct blk_request scratch;
	struct blk_queue_stats stats;
};

/*
 * Set @q up on @engine (file index @file), at most @depth requests in
 * flight.  @lim and @serial must outlive @q.  Returns 0 or -ENOMEM.
 */
int blk_queue_init(struct blk_queue *q, struct io_engine *engine,
		   unsigned int file, const struct blk_limits *lim,
		   const char *serial, unsigned int depth,
		   const struct blk_queue_ops *ops, void *ctx);
void blk_queue_destroy(struct blk_queue *q);

/* Can the queue take another chain now? */
bool blk_queue_can_take(const struct blk_queue *q);

/*
 * Take chain @c (only when blk_queue_can_take): complete it at once when
 * it is malformed or needs no I/O, else start it (at the next
 * blk_queue_kick).
 */
void blk_queue_take(struct blk_queue *q, const struct blk_chain *c);

/* Start what was taken (one entry into the kernel for the batch). */
void blk_queue_kick(struct blk_queue *q);

/*
 * The engine's fd is readable: complete what finished, start what was
 * waiting for it, and call ops->completed once.
 */
void blk_queue_reap(struct blk_queue *q);

/* Requests taken and not yet completed. */
unsigned int blk_queue_in_flight(const struct blk_queue *q);

/* ---- the device ---------------------------------------------------------------- */

#define BLK_DEVICE_ID		2	/* virtio device ID */
#define BLK_QUEUE_SIZE		256
#define BLK_CONFIG_SIZE		60

struct blk_dev;

/*
 * Create a virtio-blk device for @o (already parsed) on @backing (opened
 * by blk_open_backing() for @o; the device owns it from here on, on
 * failure too) with @default_queues queues unless @o says otherwise:
 * makes an I/O engine per queue (io_uring, else the sync engine: said once
 * on stderr), sets up the PCI transport and watches its queues on the
 * event loop.  Returns NULL with a one-line message in @msg and *@err set
 * to -errno.  Construction thread; then add blk_pci_device() to the PCI
 * host.
 */
struct blk_dev *blk_create(const struct host_services *hs,
			   const struct blk_options *o,
			   struct blk_backing *backing,
			   unsigned int default_queues, char *msg,
			   size_t msg_len, int *err);

struct pci_device *blk_pci_device(struct blk_dev *dev);

/* The counters so far, summed over the queues.  The I/O thread. */
void blk_get_stats(struct blk_dev *dev, struct blk_queue_stats *s);

/*
 * Snapshots.  blk_quiesce: on the event loop's thread, vCPUs paused:
 * waits for every request in flight to complete (each is pushed to its
 * used ring and published: nothing acknowledged is lost, nothing is half
 * done), finishes a pending reset, and signals each queue's notify eventfd
 * so that chains left in an available ring are taken when the loop runs
 * again (--resume).  Chains the driver made available but the device had
 * not taken stay in guest memory.  Returns 0, or -ETIMEDOUT when the
 * backing file has not answered for 60 seconds (the device is intact and
 * may go on), or -errno from poll.
 *
 * blk_save (after blk_quiesce, into the node the caller opened, e.g.
 * "virtio-blk@0"): the configuration that must match (capacity in
 * sectors, read-only, queues, block size, serial) and the transport
 * (virtio_pci_save: status, features, queues with their progress, MSI-X).
 *
 * blk_load (on a device just made by blk_create for the same disk, before
 * the event loop runs; after pci_host_load or before, either works):
 * fails with a message naming the difference when the disk or options do
 * not match ("the disk has 2048 sectors, the snapshot 4096"), then
 * virtio_pci_load.  Errors go to @r; the device stays safe to destroy.
 */
int blk_quiesce(struct blk_dev *dev);
void blk_save(struct blk_dev *dev, struct state_writer *w);
void blk_load(struct blk_dev *dev, struct state_reader *r, int node);

/*
 * Finish every request in flight, sync a writable disk, release
 * everything.  The event loop no longer runs.  NULL is ignored.
 */
void blk_destroy(struct blk_dev *dev);

#endif
