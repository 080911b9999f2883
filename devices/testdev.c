// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>

#include "state.h"
#include "testdev.h"

#define REG_ID		0x00
#define REG_SCRATCH	0x04
#define REG_IRQ		0x08
#define REG_SCRATCH64	0x10
#define REG_ACCESSES	0x18

struct testdev {
	const struct host_services *hs;
	uint32_t scratch;	/* atomic */
	uint64_t scratch64;	/* atomic */
	uint64_t accesses;	/* atomic */
};

static void testdev_read(void *dev, uint64_t offset, uint8_t *data,
			 uint32_t len)
{
	struct testdev *td = dev;
	uint64_t v = 0;

	__atomic_fetch_add(&td->accesses, 1, __ATOMIC_RELAXED);
	if (offset == REG_ID && len <= 4)
		v = TESTDEV_ID;
	else if (offset == REG_SCRATCH && len <= 4)
		v = __atomic_load_n(&td->scratch, __ATOMIC_RELAXED);
	else if (offset == REG_SCRATCH64 && len == 8)
		v = __atomic_load_n(&td->scratch64, __ATOMIC_RELAXED);
	else if (offset == REG_ACCESSES && len == 8)
		v = __atomic_load_n(&td->accesses, __ATOMIC_RELAXED);
	io_put(data, len, v);
}

static void testdev_write(void *dev, uint64_t offset, const uint8_t *data,
			  uint32_t len)
{
	struct testdev *td = dev;
	uint64_t v = io_get(data, len);

	__atomic_fetch_add(&td->accesses, 1, __ATOMIC_RELAXED);
	if (offset == REG_SCRATCH && len <= 4)
		__atomic_store_n(&td->scratch, (uint32_t)v, __ATOMIC_RELAXED);
	else if (offset == REG_SCRATCH64 && len == 8)
		__atomic_store_n(&td->scratch64, v, __ATOMIC_RELAXED);
	else if (offset == REG_IRQ)
		td->hs->irq_line(td->hs->ctx, TESTDEV_GSI, v & 1);
}

const struct io_handler testdev_io = {
	.read = testdev_read,
	.write = testdev_write,
};

struct testdev *testdev_create(const struct host_services *hs)
{
	struct testdev *td = calloc(1, sizeof(*td));

	if (td)
		td->hs = hs;
	return td;
}

void testdev_destroy(struct testdev *td)
{
	free(td);
}

void testdev_save(struct testdev *td, struct state_writer *w)
{
	state_put_u32(w, "scratch",
		      __atomic_load_n(&td->scratch, __ATOMIC_RELAXED));
	state_put_u64(w, "scratch64",
		      __atomic_load_n(&td->scratch64, __ATOMIC_RELAXED));
	state_put_u64(w, "accesses",
		      __atomic_load_n(&td->accesses, __ATOMIC_RELAXED));
}

void testdev_load(struct testdev *td, struct state_reader *r, int node)
{
	td->scratch = state_get_u32(r, node, "scratch");
	td->scratch64 = state_get_u64(r, node, "scratch64");
	td->accesses = state_get_u64(r, node, "accesses");
}
