/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel and initrd loading.  The parsers work on an in-memory image and a
 * guest_mem, so unit tests feed them crafted files without KVM.
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
 * Read the whole file @path (at most @max bytes) into a malloc'd buffer.
 * @what names the file in messages ("kernel", "initrd").  Errors: missing
 * or unreadable file WISP_EXIT_NOINPUT, empty or larger than @max
 * WISP_EXIT_DATAERR.  The caller frees *@buf.
 */
int loader_read_file(const char *path, uint64_t max, const char *what,
		     uint8_t **buf, size_t *size, struct wisp_err *err);

/*
 * Load an ELF64 x86-64 image with a PVH entry note into @mem.  Checks every
 * header, segment and note against the file size and guest RAM; on any
 * problem returns -EINVAL with @err set (WISP_EXIT_DATAERR) and a message
 * naming the problem.  Writes guest memory only after all checks passed.
 */
int loader_load_pvh(const uint8_t *image, size_t size, struct guest_mem *mem,
		    struct kernel_image *out, struct wisp_err *err);

/*
 * Load a bzImage's protected-mode kernel into @mem, as the Linux boot
 * protocol (2.12 or newer, with a 64-bit entry point) asks: at its
 * preferred address, or the lowest suitably aligned one from 1 MiB when it
 * is relocatable, with init_size bytes reserved from there.  Every header
 * field is checked first; errors as for loader_load_pvh.
 */
int loader_load_bzimage(const uint8_t *image, size_t size,
			struct guest_mem *mem, struct kernel_image *out,
			struct wisp_err *err);

/*
 * Load @image as whichever it is: a bzImage ("HdrS" setup header) or an ELF
 * PVH kernel.  Anything else is an error naming both formats.
 */
int loader_load_kernel(const uint8_t *image, size_t size,
		       struct guest_mem *mem, struct kernel_image *out,
		       struct wisp_err *err);

#endif
