/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The part of the i8042 keyboard controller a PC guest uses to reset:
 * command 0xFE at port 0x64 pulses the reset line, which stops the VM with
 * the reset status.  No keyboard: status and data read 0, other commands
 * are ignored.
 */
#ifndef WISP_DEVICES_I8042_H
#define WISP_DEVICES_I8042_H

#include "host.h"

#define I8042_DATA_PORT		0x60
#define I8042_CMD_PORT		0x64
#define I8042_CMD_RESET		0xfe

extern const struct io_handler i8042_data_io;
extern const struct io_handler i8042_cmd_io;

/* Stateless: pass the host services as the dev pointer of both ports. */

#endif
