// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "virtq.h"

#define DESC_SIZE	16
#define USED_ELEM_SIZE	8
#define MAX_CHAIN_BYTES	(4ULL << 30)	/* row 11 */

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static uint16_t load16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t load16_acquire(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)(const void *)p,
			       __ATOMIC_ACQUIRE);
}

static void store16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void store32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint64_t avail_bytes(const struct virtq *q)
{
	return 4 + 2ULL * q->size + (q->event_idx ? 2 : 0);
}

static uint64_t used_bytes(const struct virtq *q)
{
	return 4 + (uint64_t)USED_ELEM_SIZE * q->size + (q->event_idx ? 2 : 0);
}

static int fail(struct virtq *q, const char *why)
{
	q->broken = true;
	q->why = why;
	return -EIO;
}

int virtq_activate(struct virtq *q)
{
	const struct host_services *hs = q->hs;

	q->active = q->broken = false;
	if (!q->size || (q->size & (q->size - 1)) || q->size > VIRTQ_MAX_SIZE) {
		q->why = "queue size is 0, not a power of two, or too large";
		return -EINVAL;
	}
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3)) {
		q->why = "a ring is not aligned";
		return -EINVAL;
	}
	q->desc = hs->guest_ptr(hs->ctx, q->desc_gpa, (uint64_t)DESC_SIZE * q->size);
	q->avail = hs->guest_ptr(hs->ctx, q->avail_gpa, avail_bytes(q));
	q->used = hs->guest_ptr(hs->ctx, q->used_gpa, used_bytes(q));
	if (!q->desc || !q->avail || !q->used) {
		q->why = "a ring is not in guest RAM";
		return -EINVAL;
	}
	q->last_avail = q->used_idx = 0;
	q->signalled_used = 0;
	q->signalled_valid = false;
	memset(q->in_flight, 0, sizeof(q->in_flight));
	q->why = NULL;
	q->active = true;
	return 0;
}

void virtq_reset(struct virtq *q)
{
	const struct host_services *hs = q->hs;

	memset(q, 0, sizeof(*q));
	q->hs = hs;
}

static bool in_flight(const struct virtq *q, uint16_t head)
{
	return q->in_flight[head / 64] >> (head % 64) & 1;
}

static void read_desc(const uint8_t *table, unsigned int i, struct desc *d)
{
	const uint8_t *p = table + (size_t)DESC_SIZE * i;

	/* One copy; only the copy is used (row 16). */
	memcpy(&d->addr, p, 8);
	memcpy(&d->len, p + 8, 4);
	memcpy(&d->flags, p + 12, 2);
	memcpy(&d->next, p + 14, 2);
}

int virtq_pop(struct virtq *q, struct virtq_buf *bufs, unsigned int max,
	      uint16_t *head)
{
	const struct host_services *hs = q->hs;
	const uint8_t *table;
	unsigned int n = 0, steps = 0, table_size, chain = 0;
	uint64_t total = 0;
	bool seen_write = false, in_table = false;
	uint16_t avail_idx, h, i;

	if (!q->active)
		return 0;
	if (q->broken)
		return -EIO;
	avail_idx = load16_acquire(q->avail + 2);
	if (avail_idx == q->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return fail(q, "avail index more than the queue size ahead");
	h = load16(q->avail + 4 + 2 * (q->last_avail % q->size));
	if (h >= q->size)
		return fail(q, "avail ring entry beyond the queue size");
	if (in_flight(q, h))
		return fail(q, "a chain already in flight made available again");

	table = q->desc;
	table_size = q->size;
	i = h;
	for (;;) {
		struct desc d;

		/* Loops and overlong chains end here (rows 1, 2). */
		if (++steps > table_size || ++chain > q->size)
			return fail(q, "descriptor chain loops or is longer than the queue");
		read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!q->indirect || in_table || (d.flags & VIRTQ_DESC_F_NEXT))
				return fail(q, "indirect descriptor not allowed here");
			if (!d.len || d.len % DESC_SIZE ||
			    d.len / DESC_SIZE > q->size)
				return fail(q, "bad indirect table length");
			table = hs->guest_ptr(hs->ctx, d.addr, d.len);
			if (!table)
				return fail(q, "indirect table not in guest RAM");
			table_size = d.len / DESC_SIZE;
			in_table = true;
			steps = 0;
			chain--;	/* the table's entries count, not this one */
			i = 0;
			continue;
		}
		if (d.len) {
			bool w = d.flags & VIRTQ_DESC_F_WRITE;

			if (d.addr + d.len < d.addr)
				return fail(q, "buffer wraps the address space");
			total += d.len;
			if (total > MAX_CHAIN_BYTES)
				return fail(q, "chain longer than 4 GiB");
			if (!w && seen_write)
				return fail(q, "readable buffer after a writable one");
			seen_write |= w;
			if (n == max)
				return fail(q, "chain has more buffers than the device takes");
			bufs[n++] = (struct virtq_buf){
				.base = hs->guest_ptr(hs->ctx, d.addr, d.len),
				.len = d.len, .writable = w, .gpa = d.addr,
			};
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= table_size)
			return fail(q, "next descriptor beyond the table");
		i = d.next;
	}
	if (!n)
		return fail(q, "chain without a single byte");
	q->in_flight[h / 64] |= 1ULL << (h % 64);
	q->last_avail++;
	*head = h;
	return n;
}

static bool written_tracked(const struct virtq *q)
{
	const struct host_services *hs = q->hs;

	return hs->mark_written && hs->written_tracked &&
	       hs->written_tracked(hs->ctx);
}

/* The used ring is the device's to write (migration's dirty pages). */
static void mark_used_ring(struct virtq *q)
{
	const struct host_services *hs = q->hs;

	if (written_tracked(q))
		hs->mark_written(hs->ctx, q->used_gpa, used_bytes(q));
}

/*
 * The device has written chain @head's writable buffers: report them
 * (a migration sends those pages again).  The chain is walked afresh, with
 * virtq_pop's bounds; a driver that changed it meanwhile has its own
 * pages wrong, nothing else (every range goes through guest_ptr).
 */
static void mark_chain(struct virtq *q, uint16_t head)
{
	const struct host_services *hs = q->hs;
	const uint8_t *table = q->desc;
	unsigned int steps = 0, table_size = q->size;
	bool in_table = false;
	uint16_t i = head;
	struct desc d;

	while (++steps <= table_size) {
		read_desc(table, i, &d);
		if ((d.flags & VIRTQ_DESC_F_INDIRECT) && !in_table) {
			if (!d.len || d.len % DESC_SIZE ||
			    d.len / DESC_SIZE > q->size)
				return;
			table = hs->guest_ptr(hs->ctx, d.addr, d.len);
			if (!table)
				return;
			table_size = d.len / DESC_SIZE;
			in_table = true;
			steps = 0;
			i = 0;
			continue;
		}
		if (d.flags & VIRTQ_DESC_F_WRITE)
			hs->mark_written(hs->ctx, d.addr, d.len);
		if (!(d.flags & VIRTQ_DESC_F_NEXT) || d.next >= table_size)
			return;
		i = d.next;
	}
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	uint8_t *e;

	if (!q->active || head >= q->size || !in_flight(q, head))
		return -EINVAL;
	if (len && written_tracked(q))
		mark_chain(q, head);
	e = q->used + 4 + USED_ELEM_SIZE * (q->used_idx % q->size);
	store32(e, head);
	store32(e + 4, len);
	q->used_idx++;
	q->in_flight[head / 64] &= ~(1ULL << (head % 64));
	return 0;
}

bool virtq_publish(struct virtq *q)
{
	uint16_t old = q->signalled_used, now = q->used_idx;
	bool valid = q->signalled_valid;

	if (!q->active)
		return false;
	__atomic_store_n((uint16_t *)(void *)(q->used + 2), now,
			 __ATOMIC_RELEASE);
	mark_used_ring(q);
	/* The driver's flags or used_event are read after idx is visible. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->signalled_used = now;
	q->signalled_valid = true;
	if (q->event_idx) {
		uint16_t event = load16(q->avail + 4 + 2 * q->size);

		/* Is used_event in (old, now]?  Only a hint (row 17). */
		return !valid || (uint16_t)(now - event - 1) < (uint16_t)(now - old);
	}
	return !(load16(q->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

void virtq_notifications(struct virtq *q, bool on)
{
	if (!q->active)
		return;
	if (q->event_idx) {
		if (on)
			store16(q->used + 4 + USED_ELEM_SIZE * q->size,
				q->last_avail);
	} else {
		uint16_t flags = load16(q->used);

		store16(q->used, on ? flags & ~VIRTQ_USED_F_NO_NOTIFY :
			flags | VIRTQ_USED_F_NO_NOTIFY);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	mark_used_ring(q);
}

bool virtq_pending(struct virtq *q)
{
	return q->active && !q->broken &&
	       load16_acquire(q->avail + 2) != q->last_avail;
}

int virtq_unpop(struct virtq *q, const uint16_t *heads, unsigned int n)
{
	uint16_t first = q->last_avail - n;
	unsigned int k;

	if (!q->active || n > q->size)
		return -EINVAL;
	for (k = 0; k < n; k++) {
		uint16_t slot = (uint16_t)(first + k) % q->size;

		if (heads[k] >= q->size || !in_flight(q, heads[k]) ||
		    load16(q->avail + 4 + 2 * slot) != heads[k])
			return -EINVAL;
	}
	for (k = 0; k < n; k++)
		q->in_flight[heads[k] / 64] &= ~(1ULL << (heads[k] % 64));
	q->last_avail = first;
	return 0;
}

/* ---- snapshots ----------------------------------------------------------- */

void virtq_save(const struct virtq *q, struct state_writer *w)
{
	uint8_t heads[VIRTQ_MAX_SIZE / 8];
	unsigned int i;

	/* Bytes, least significant first: a bit per head. */
	for (i = 0; i < sizeof(heads); i++)
		heads[i] = q->in_flight[i / 8] >> (8 * (i % 8));
	state_put_u32(w, "last-avail", q->last_avail);
	state_put_u32(w, "used-idx", q->used_idx);
	state_put_u32(w, "signalled-used", q->signalled_used);
	state_put_u32(w, "signalled-valid", q->signalled_valid);
	state_put_u32(w, "broken", q->broken);
	state_put_bytes(w, "in-flight", heads, (q->size + 7) / 8);
}

void virtq_load(struct virtq *q, struct state_reader *r, int node)
{
	uint16_t last_avail = state_get_u32_max(r, node, "last-avail", 0xffff);
	uint16_t used_idx = state_get_u32_max(r, node, "used-idx", 0xffff);
	uint16_t signalled = state_get_u32_max(r, node, "signalled-used", 0xffff);
	bool valid = state_get_u32_max(r, node, "signalled-valid", 1);
	bool broken = state_get_u32_max(r, node, "broken", 1);
	uint64_t in_flight[VIRTQ_MAX_SIZE / 64] = { 0 };
	unsigned int i, count = 0;
	const uint8_t *heads;
	size_t len;

	heads = state_get_blob(r, node, "in-flight", &len);
	if (r->failed)
		return;
	if (!q->active) {
		state_fail(r, node, "the queue is not active");
		return;
	}
	if (len != (q->size + 7u) / 8) {
		state_fail(r, node, "in-flight: %zu bytes where %u belong", len,
			   (q->size + 7u) / 8);
		return;
	}
	for (i = 0; i < q->size; i++) {
		if (!(heads[i / 8] >> (i % 8) & 1))
			continue;
		in_flight[i / 64] |= 1ULL << (i % 64);
		count++;
	}
	if (q->size % 8 && heads[len - 1] >> (q->size % 8)) {
		state_fail(r, node, "in-flight: heads beyond the queue size %u",
			   q->size);
		return;
	}
	if (count != (uint16_t)(last_avail - used_idx)) {
		state_fail(r, node, "%u heads in flight, but last-avail %u and used-idx %u say %u",
			   count, last_avail, used_idx,
			   (uint16_t)(last_avail - used_idx));
		return;
	}
	q->last_avail = last_avail;
	q->used_idx = used_idx;
	q->signalled_used = signalled;
	q->signalled_valid = valid;
	memcpy(q->in_flight, in_flight, sizeof(in_flight));
	if (broken) {
		q->broken = true;
		q->why = "broken before the snapshot";
	}
}
