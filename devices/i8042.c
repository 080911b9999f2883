// SPDX-License-Identifier: Apache-2.0
#include "i8042.h"

static void i8042_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	io_put(data, len, 0);	/* no data, input buffer empty */
}

static void i8042_write_data(void *dev, uint64_t offset, const uint8_t *data,
			     uint32_t len)
{
	(void)dev;
	(void)offset;
	(void)data;
	(void)len;
}

static void i8042_write_cmd(void *dev, uint64_t offset, const uint8_t *data,
			    uint32_t len)
{
	const struct host_services *hs = dev;

	/* A wider write puts its low byte on port 0x64, as on a PC. */
	if (!offset && len >= 1 && data[0] == I8042_CMD_RESET)
		hs->request_reset(hs->ctx);
}

const struct io_handler i8042_data_io = {
	.read = i8042_read,
	.write = i8042_write_data,
};

const struct io_handler i8042_cmd_io = {
	.read = i8042_read,
	.write = i8042_write_cmd,
};
