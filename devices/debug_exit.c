// SPDX-License-Identifier: Apache-2.0
#include "debug_exit.h"

static void debug_exit_read(void *dev, uint64_t offset, uint8_t *data,
			    uint32_t len)
{
	(void)dev;
	(void)offset;
	io_put(data, len, 0);
}

static void debug_exit_write(void *dev, uint64_t offset, const uint8_t *data,
			     uint32_t len)
{
	const struct host_services *hs = dev;
	uint64_t v = io_get(data, len);

	if (offset)
		return;		/* only writes at the base count */
	hs->request_stop(hs->ctx, v > DEBUG_EXIT_MAX_STATUS ?
			 DEBUG_EXIT_MAX_STATUS : (int)v);
}

const struct io_handler debug_exit_io = {
	.read = debug_exit_read,
	.write = debug_exit_write,
};
