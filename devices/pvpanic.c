// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>

#include "pvpanic.h"

struct pvpanic {
	const struct host_services *hs;
	uint64_t crash_loaded;	/* atomic */
};

static void pvpanic_read(void *dev, uint64_t offset, uint8_t *data,
			 uint32_t len)
{
	(void)dev;
	io_put(data, len, offset == 0 && len == 1 ? PVPANIC_EVENTS : 0);
}

static void pvpanic_write(void *dev, uint64_t offset, const uint8_t *data,
			  uint32_t len)
{
	struct pvpanic *pp = dev;

	if (offset != 0 || len != 1)
		return;
	if (data[0] & PVPANIC_CRASH_LOADED)
		__atomic_fetch_add(&pp->crash_loaded, 1, __ATOMIC_RELAXED);
	if (data[0] & PVPANIC_PANICKED)
		pp->hs->request_stop(pp->hs->ctx, PVPANIC_EXIT_STATUS);
}

const struct io_handler pvpanic_io = {
	.read = pvpanic_read,
	.write = pvpanic_write,
};

struct pvpanic *pvpanic_create(const struct host_services *hs)
{
	struct pvpanic *pp = calloc(1, sizeof(*pp));

	if (pp)
		pp->hs = hs;
	return pp;
}

void pvpanic_destroy(struct pvpanic *pp)
{
	free(pp);
}

uint64_t pvpanic_crash_loaded_count(const struct pvpanic *pp)
{
	return __atomic_load_n(&pp->crash_loaded, __ATOMIC_RELAXED);
}
