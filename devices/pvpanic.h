/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pvpanic (MMIO): one byte register at offset 0 of a 2-byte window, which
 * the DSDT describes as QEMU0001 (Linux: pvpanic-mmio).  Reads return the
 * events wisp supports; writing PVPANIC_PANICKED stops the VM with
 * PVPANIC_EXIT_STATUS; PVPANIC_CRASH_LOADED (the guest panicked and is
 * about to start its crash kernel) is only counted.  Other bits, offsets
 * and widths are ignored.
 */
#ifndef WISP_DEVICES_PVPANIC_H
#define WISP_DEVICES_PVPANIC_H

#include <stdint.h>

#include "host.h"

#define PVPANIC_MMIO_BASE	0xfeb02000ULL
#define PVPANIC_MMIO_SIZE	2

#define PVPANIC_PANICKED	(1U << 0)
#define PVPANIC_CRASH_LOADED	(1U << 1)
#define PVPANIC_EVENTS		(PVPANIC_PANICKED | PVPANIC_CRASH_LOADED)

/*
 * Exit status of a guest panic (the README's table).  host.h has no panic
 * hook: the device asks for a stop with this status.
 */
#define PVPANIC_EXIT_STATUS	81

struct pvpanic;

extern const struct io_handler pvpanic_io;

/*
 * Create the device; register it at PVPANIC_MMIO_BASE, PVPANIC_MMIO_SIZE
 * bytes.  Returns NULL when out of memory.  The host services must outlive
 * the device.
 */
struct pvpanic *pvpanic_create(const struct host_services *hs);
void pvpanic_destroy(struct pvpanic *pp);

/* How many writes reported PVPANIC_CRASH_LOADED.  Any thread. */
uint64_t pvpanic_crash_loaded_count(const struct pvpanic *pp);

#endif
