// SPDX-License-Identifier: Apache-2.0
/* A minimal virtio driver for device unit tests (driver_testlib.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "driver_testlib.h"
#include "pci.h"

void vdrv_bar_wr(struct vdrv *v, uint64_t off, uint32_t len, uint64_t value)
{
	fake_io_write(&virtio_pci_bar_io, v->pd, off, len, value);
}

uint64_t vdrv_bar_rd(struct vdrv *v, uint64_t off, uint32_t len)
{
	uint64_t value;

	assert_int_equal(fake_io_read(&virtio_pci_bar_io, v->pd, off, len,
				      &value), 0);
	return value;
}

uint8_t *vdrv_gpa(struct vdrv *v, uint64_t gpa)
{
	assert_true(gpa < v->fh->ram_size);
	return v->fh->ram + gpa;
}

void vdrv_bring_up(struct vdrv *v, uint32_t features, unsigned int nq)
{
	unsigned int q;

	assert_true(nq <= VDRV_MAX_QUEUES);
	vdrv_bar_wr(v, 0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	vdrv_bar_wr(v, 0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE |
		    VIRTIO_STATUS_DRIVER);
	vdrv_bar_wr(v, 0x08, 4, 0);
	vdrv_bar_wr(v, 0x0c, 4, features);
	vdrv_bar_wr(v, 0x08, 4, 1);
	vdrv_bar_wr(v, 0x0c, 4, 1);		/* VERSION_1 */
	vdrv_bar_wr(v, 0x14, 1, 0x0b);
	assert_int_equal(vdrv_bar_rd(v, 0x14, 1), 0x0b);
	for (q = 0; q < nq; q++) {
		memset(vdrv_gpa(v, VDRV_RING(q)), 0, 0x3000);
		vdrv_bar_wr(v, 0x16, 2, q);
		vdrv_bar_wr(v, 0x18, 2, VDRV_QSIZE);
		vdrv_bar_wr(v, 0x20, 8, VDRV_RING(q));
		vdrv_bar_wr(v, 0x28, 8, VDRV_RING(q) + 0x1000);
		vdrv_bar_wr(v, 0x30, 8, VDRV_RING(q) + 0x2000);
		vdrv_bar_wr(v, 0x1c, 2, 1);
		assert_int_equal(vdrv_bar_rd(v, 0x1c, 2), 1);
		v->avail[q] = 0;
		v->next_desc[q] = 0;
	}
	vdrv_bar_wr(v, 0x14, 1, 0x0f);
	fake_host_poll(v->fh, 0);
}

void vdrv_set_desc(struct vdrv *v, unsigned int q, unsigned int i,
		   uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = vdrv_gpa(v, VDRV_RING(q) + 16 * i);

	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

uint16_t vdrv_offer(struct vdrv *v, unsigned int q, unsigned int n,
		    const uint64_t *addr, const uint32_t *len, bool w)
{
	uint16_t head = v->next_desc[q], idx, i;

	for (i = 0; i < n; i++) {
		uint16_t d = (head + i) % VDRV_QSIZE;

		vdrv_set_desc(v, q, d, addr[i], len[i],
			      (i + 1u < n ? 1 : 0) | (w ? 2 : 0),
			      (d + 1) % VDRV_QSIZE);
	}
	v->next_desc[q] = (head + n) % VDRV_QSIZE;
	memcpy(vdrv_gpa(v, VDRV_RING(q) + 0x1000 + 4 +
			2 * (v->avail[q] % VDRV_QSIZE)), &head, 2);
	idx = ++v->avail[q];
	memcpy(vdrv_gpa(v, VDRV_RING(q) + 0x1000 + 2), &idx, 2);
	vdrv_bar_wr(v, VIRTIO_PCI_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * q, 2, q);
	return head;
}

uint16_t vdrv_used_idx(struct vdrv *v, unsigned int q)
{
	uint16_t idx;

	memcpy(&idx, vdrv_gpa(v, VDRV_RING(q) + 0x2000 + 2), 2);
	return idx;
}

uint32_t vdrv_used_elem(struct vdrv *v, unsigned int q, unsigned int i,
			uint16_t *head)
{
	const uint8_t *e = vdrv_gpa(v, VDRV_RING(q) + 0x2000 + 4 +
				    8 * (i % VDRV_QSIZE));
	uint32_t id, len;

	memcpy(&id, e, 4);
	memcpy(&len, e + 4, 4);
	if (head)
		*head = id;
	return len;
}

void vdrv_serve_until(struct vdrv *v, unsigned int q, uint16_t want)
{
	int i;

	for (i = 0; i < 200 && vdrv_used_idx(v, q) != want; i++)
		fake_host_poll(v->fh, 10);
	assert_int_equal(vdrv_used_idx(v, q), want);
}
