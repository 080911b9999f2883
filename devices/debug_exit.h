/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exit port: a 1-, 2- or 4-byte write of V at its base stops the VM
 * with exit status V (0 → 0, values above 63 → 63).  Reads return 0.
 */
#ifndef WISP_DEVICES_DEBUG_EXIT_H
#define WISP_DEVICES_DEBUG_EXIT_H

#include "host.h"

#define DEBUG_EXIT_PORT		0xf4
#define DEBUG_EXIT_SIZE		4
#define DEBUG_EXIT_MAX_STATUS	63

extern const struct io_handler debug_exit_io;

/* The device keeps no state: pass the host services as its dev pointer. */

#endif
