// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "msix.h"

uint32_t msix_table_size(unsigned int n)
{
	return n * MSIX_ENTRY_SIZE;
}

uint32_t msix_pba_size(unsigned int n)
{
	return ((n + 63) / 64) * 8;
}

int msix_init(struct msix *m, struct pci_device *pd,
	      const struct host_services *hs, unsigned int n, unsigned int bar,
	      uint32_t table_off, uint32_t pba_off)
{
	uint8_t body[10];
	unsigned int i;
	int cap, ret;

	if (!n || n > MSIX_MAX_VECTORS || bar >= PCI_BARS || (table_off & 7) ||
	    (pba_off & 7))
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->pd = pd;
	m->hs = hs;
	m->n = n;
	for (i = 0; i < n; i++)
		m->vec[i] = (struct msix_vector){
			.ctrl = MSIX_ENTRY_CTRL_MASKBIT, .handle = -1, .fd = -1,
		};
	body[0] = (n - 1) & 0xff;
	body[1] = (n - 1) >> 8;
	body[2] = (table_off | bar) & 0xff;
	body[3] = table_off >> 8;
	body[4] = table_off >> 16;
	body[5] = table_off >> 24;
	body[6] = (pba_off | bar) & 0xff;
	body[7] = pba_off >> 8;
	body[8] = pba_off >> 16;
	body[9] = pba_off >> 24;
	cap = pci_device_add_cap(pd, PCI_CAP_ID_MSIX, body, sizeof(body));
	if (cap < 0)
		return cap;
	m->cap = cap;
	pci_device_set_wmask(pd, cap + 2, 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	ret = pthread_mutex_init(&m->lock, NULL);
	if (ret)
		return -ret;
	for (i = 0; i < n; i++) {
		ret = hs->msi_alloc(hs->ctx, &m->vec[i].fd);
		if (ret < 0) {
			msix_destroy(m);
			return ret;
		}
		m->vec[i].handle = ret;
	}
	return 0;
}

void msix_destroy(struct msix *m)
{
	unsigned int i;

	for (i = 0; i < m->n; i++) {
		if (m->vec[i].handle >= 0)
			m->hs->msi_free(m->hs->ctx, m->vec[i].handle,
					m->vec[i].fd);
		m->vec[i].handle = m->vec[i].fd = -1;
	}
	if (m->n)
		pthread_mutex_destroy(&m->lock);
	m->n = 0;
}

static bool function_open(const struct msix *m)
{
	return (m->control & MSIX_CTRL_ENABLE) && !(m->control & MSIX_CTRL_MASKALL);
}

/* Make vector @i's route carry its table entry.  Caller holds the lock. */
static void sync_route(struct msix *m, unsigned int i)
{
	struct msix_vector *v = &m->vec[i];

	if (v->routed)
		return;
	if (!m->hs->msi_set(m->hs->ctx, v->handle,
			    (uint64_t)v->addr_hi << 32 | v->addr_lo, v->data))
		v->routed = true;
}

static void signal_fd(int fd)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, the interrupt is pending anyway. */
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return;
}

/* Deliver what is pending and now unmasked.  Caller holds the lock. */
static void deliver_pending(struct msix *m)
{
	unsigned int i;

	if (!function_open(m))
		return;
	for (i = 0; i < m->n; i++) {
		if (!(m->pending & (1ULL << i)) ||
		    (m->vec[i].ctrl & MSIX_ENTRY_CTRL_MASKBIT))
			continue;
		sync_route(m, i);
		m->pending &= ~(1ULL << i);
		signal_fd(m->vec[i].fd);
	}
}

static uint32_t *entry_word(struct msix_vector *v, unsigned int word)
{
	switch (word) {
	case 0: return &v->addr_lo;
	case 1: return &v->addr_hi;
	case 2: return &v->data;
	default: return &v->ctrl;
	}
}

void msix_table_read(struct msix *m, uint64_t offset, uint8_t *data,
		     uint32_t len)
{
	unsigned int i = offset / MSIX_ENTRY_SIZE, word = (offset % 16) / 4;

	memset(data, 0, len);
	if (offset >= msix_table_size(m->n) || (len != 4 && len != 8) ||
	    (offset & (len - 1))) {
		__atomic_fetch_add(&m->bad_accesses, 1, __ATOMIC_RELAXED);
		return;
	}
	pthread_mutex_lock(&m->lock);
	io_put(data, 4, *entry_word(&m->vec[i], word));
	if (len == 8)
		io_put(data + 4, 4, *entry_word(&m->vec[i], word + 1));
	pthread_mutex_unlock(&m->lock);
}

static void write_word(struct msix *m, unsigned int i, unsigned int word,
		       uint32_t value)
{
	struct msix_vector *v = &m->vec[i];
	bool was_masked = v->ctrl & MSIX_ENTRY_CTRL_MASKBIT;

	if (word == 3) {
		v->ctrl = value & MSIX_ENTRY_CTRL_MASKBIT;	/* the rest reserved */
		if (was_masked && !(v->ctrl & MSIX_ENTRY_CTRL_MASKBIT)) {
			sync_route(m, i);
			deliver_pending(m);
		}
		return;
	}
	if (*entry_word(v, word) == value)
		return;
	*entry_word(v, word) = value;
	v->routed = false;
	if (!was_masked)
		sync_route(m, i);	/* reprogrammed while live */
}

void msix_table_write(struct msix *m, uint64_t offset, const uint8_t *data,
		      uint32_t len)
{
	unsigned int i = offset / MSIX_ENTRY_SIZE, word = (offset % 16) / 4;

	if (offset >= msix_table_size(m->n) || (len != 4 && len != 8) ||
	    (offset & (len - 1))) {
		__atomic_fetch_add(&m->bad_accesses, 1, __ATOMIC_RELAXED);
		return;
	}
	pthread_mutex_lock(&m->lock);
	write_word(m, i, word, io_get(data, 4));
	if (len == 8)
		write_word(m, i, word + 1, io_get(data + 4, 4));
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_read(struct msix *m, uint64_t offset, uint8_t *data,
		   uint32_t len)
{
	memset(data, 0, len);
	if (offset >= msix_pba_size(m->n) || (len != 4 && len != 8) ||
	    (offset & (len - 1))) {
		__atomic_fetch_add(&m->bad_accesses, 1, __ATOMIC_RELAXED);
		return;
	}
	pthread_mutex_lock(&m->lock);
	io_put(data, len, m->pending >> (8 * offset));
	pthread_mutex_unlock(&m->lock);
}

void msix_config_written(struct msix *m, unsigned int off, unsigned int len)
{
	uint16_t control;

	if (off >= m->cap + 4 || off + len <= m->cap + 2)
		return;
	pthread_mutex_lock(&m->lock);
	control = pci_cfg_get(m->pd, m->cap + 2, 2) &
		  (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	if (control != m->control) {
		m->control = control;
		deliver_pending(m);
	}
	pthread_mutex_unlock(&m->lock);
}

bool msix_enabled(struct msix *m)
{
	bool open;

	pthread_mutex_lock(&m->lock);
	open = function_open(m);
	pthread_mutex_unlock(&m->lock);
	return open;
}

bool msix_raise(struct msix *m, unsigned int vector)
{
	int fd;

	if (vector >= m->n)
		return false;
	pthread_mutex_lock(&m->lock);
	if (!function_open(m) ||
	    (m->vec[vector].ctrl & MSIX_ENTRY_CTRL_MASKBIT)) {
		m->pending |= 1ULL << vector;
		pthread_mutex_unlock(&m->lock);
		return false;
	}
	sync_route(m, vector);
	fd = m->vec[vector].fd;
	pthread_mutex_unlock(&m->lock);
	signal_fd(fd);
	return true;
}

/* ---- snapshots ----------------------------------------------------------- */

void msix_save(struct msix *m, struct state_writer *w)
{
	uint8_t table[MSIX_MAX_VECTORS * MSIX_ENTRY_SIZE];
	unsigned int i, k;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n; i++)
		for (k = 0; k < 4; k++)
			io_put(&table[i * MSIX_ENTRY_SIZE + 4 * k], 4,
			       *entry_word(&m->vec[i], k));
	state_put_u32(w, "vectors", m->n);
	state_put_bytes(w, "table", table, msix_table_size(m->n));
	state_put_u64(w, "pending", m->pending);
	pthread_mutex_unlock(&m->lock);
}

void msix_load(struct msix *m, struct state_reader *r, int node)
{
	uint32_t n = state_get_u32(r, node, "vectors");
	uint64_t pending = state_get_u64(r, node, "pending");
	const uint8_t *table;
	unsigned int i, k;
	size_t len;

	table = state_get_blob(r, node, "table", &len);
	if (r->failed)
		return;
	if (n != m->n) {
		state_fail(r, node, "%u MSI-X vectors in the snapshot, %u here",
			   n, m->n);
		return;
	}
	if (len != msix_table_size(n)) {
		state_fail(r, node, "table: %zu bytes where %u belong", len,
			   msix_table_size(n));
		return;
	}
	if (n < 64 && pending >> n) {
		state_fail(r, node, "pending bits 0x%llx beyond the %u vectors",
			   (unsigned long long)pending, n);
		return;
	}
	for (i = 0; i < n; i++) {
		uint32_t ctrl = io_get(&table[i * MSIX_ENTRY_SIZE + 12], 4);

		if (ctrl & ~MSIX_ENTRY_CTRL_MASKBIT) {
			state_fail(r, node, "vector %u: control 0x%x has reserved bits set",
				   i, ctrl);
			return;
		}
	}
	/* The guest's path: words 0-2, then the mask bit last. */
	for (i = 0; i < n; i++)
		for (k = 0; k < 4; k++)
			msix_table_write(m, i * MSIX_ENTRY_SIZE + 4 * k,
					 &table[i * MSIX_ENTRY_SIZE + 4 * k], 4);
	pthread_mutex_lock(&m->lock);
	m->pending |= pending;
	deliver_pending(m);
	pthread_mutex_unlock(&m->lock);
}
