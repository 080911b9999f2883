/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel and initrd loading.  The parsers work on an image_file and a
 * guest_mem, so unit tests feed them crafted images without KVM.
 */
#ifndef WISP_LOADER_H
#define WISP_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "../firmware/bootparams.h"
#include "error.h"
#include "memory.h"

/* Kernels are loaded at or above 1 MiB; below is wisp's boot data. */
#define LOADER_MIN_GPA		0x100000ULL
#define LOADER_MAX_SEGMENTS	64
#define LOADER_MAX_NOTES	0x10000ULL	/* bytes in one PT_NOTE segment */

enum kernel_format {
	KERNEL_PVH,		/* ELF with a PVH note: 32-bit entry, hvm_start_info */
	KERNEL_BZIMAGE,		/* Linux boot protocol: 64-bit entry, boot_params */
};

struct kernel_image {
	enum kernel_format format;
	uint64_t entry;		/* PVH: 32-bit entry; bzImage: 64-bit entry */
	uint64_t lowest;	/* reserved guest-physical range [lowest, highest): */
	uint64_t highest;	/* loaded segments, or a bzImage's init_size */
	uint64_t initrd_end_max;	/* an initrd ends at or below this (0: no limit) */
	uint64_t cmdline_max;	/* longest command line with its NUL (0: no limit) */
	/* bzImage: its setup header (from SH_START), copied into boot_params */
	uint8_t setup_header[SH_END_MAX - SH_START];
	size_t setup_header_len;
};

/*
 * A kernel or initrd image: an open regular file, read with pread straight
 * into guest RAM (a large kernel is never copied twice nor held in a
 * buffer), or bytes already in memory (unit tests).
 */
struct image_file {
	const char *what;	/* "kernel", "initrd": names it in messages */
	const char *path;
	int fd;			/* -1: @data holds the image */
	const uint8_t *data;
	uint64_t size;
};

/* An image held in memory. */
#define IMAGE_IN_MEMORY(bytes, len) ((struct image_file){ \
	.what = "image", .path = "(memory)", .fd = -1, \
	.data = (bytes), .size = (len) })

/*
 * Open @path as the image @what ("kernel", "initrd") of at most @max bytes.
 * Errors: missing or unreadable file, or not a regular file
 * WISP_EXIT_NOINPUT; empty or larger than @max WISP_EXIT_DATAERR.  Close it
 * with image_close.
 */
int image_open(const char *path, uint64_t max, const char *what,
	       struct image_file *f, struct wisp_err *err);
void image_close(struct image_file *f);

/*
 * Copy bytes [@off, @off + @len) of @f to @dst.  A range beyond the size
 * is WISP_EXIT_DATAERR; a failed read, or a file that shrank since it was
 * opened, WISP_EXIT_NOINPUT.
 */
int image_read(const struct image_file *f, uint64_t off, void *dst,
	       uint64_t len, struct wisp_err *err);

/*
 * Load an ELF64 x86-64 image with a PVH entry note into @mem.  Checks every
 * header, segment and note against the file size and guest RAM; on any
 * problem returns -EINVAL with @err set (WISP_EXIT_DATAERR) and a message
 * naming the problem.  Writes guest memory only after all checks passed.
 */
int loader_load_pvh(const struct image_file *f, struct guest_mem *mem,
		    struct kernel_image *out, struct wisp_err *err);

/*
 * Load a bzImage's protected-mode kernel into @mem, as the Linux boot
 * protocol (2.12 or newer, with a 64-bit entry point) asks: at its
 * preferred address, or the lowest suitably aligned one from 1 MiB when it
 * is relocatable, with init_size bytes reserved from there.  Every header
 * field is checked first; errors as for loader_load_pvh.
 */
int loader_load_bzimage(const struct image_file *f, struct guest_mem *mem,
			struct kernel_image *out, struct wisp_err *err);

/*
 * Load @image as whichever it is: a bzImage ("HdrS" setup header) or an ELF
 * PVH kernel.  Anything else is an error naming both formats.
 */
int loader_load_kernel(const struct image_file *f, struct guest_mem *mem,
		       struct kernel_image *out, struct wisp_err *err);

#endif
