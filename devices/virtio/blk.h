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

/*
 * Parse @spec ("path=disk.img,readonly=on,...") into @o.  On a malformed
 * spec returns -EINVAL with a one-line message (without "--disk: ") in
 * @msg.  Touches no file.  Any thread.
 */
int blk_parse_options(const char *spec, struct blk_options *o, char *msg,
		      size_t msg_len);

#endif
