/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel and initrd loading.  The parsers work on an in-memory image and a
 * guest_mem, so unit tests feed them crafted files without KVM.
 */
#ifndef WISP_LOADER_H
#define WISP_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "memory.h"

/* Kernels are loaded at or above 1 MiB; below is wisp's boot data. */
#define LOADER_MIN_GPA		0x100000ULL
#define LOADER_MAX_SEGMENTS	64

struct kernel_image {
	uint64_t entry;		/* 32-bit PVH entry point */
	uint64_t lowest;	/* loaded guest-physical range [lowest, highest) */
	uint64_t highest;
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

#endif
