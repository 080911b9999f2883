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

/* The sub-options, one line each, for --help. */
#define BLK_OPTIONS_HELP \
	"path=FILE (required), readonly=on|off, direct=on|off (O_DIRECT),\n" \
	"serial=ID (up to 20 printable characters), queues=N (1-64; default: one per vCPU);\n" \
	"a comma inside FILE is written ',,'"

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
void blk_close_backing(struct blk_backing *b);

/*
 * Parse @spec ("path=disk.img,readonly=on,...") into @o.  On a malformed
 * spec returns -EINVAL with a one-line message (without "--disk: ") in
 * @msg.  Touches no file.  Any thread.
 */
int blk_parse_options(const char *spec, struct blk_options *o, char *msg,
		      size_t msg_len);

#endif
