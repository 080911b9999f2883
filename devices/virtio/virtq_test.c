// SPDX-License-Identifier: Apache-2.0
/*
 * The split virtqueue against rings in fake guest RAM: valid chains
 * (direct, indirect, zero-length buffers), every queue row of
 * bad-inputs.md (1-17), used-ring updates and interrupt suppression.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../fake_host_testlib.h"
#include "virtq.h"

#define RAM	(1 << 20)
#define QSIZE	8
#define DESC	0x1000
#define AVAIL	0x2000
#define USED	0x3000
#define TABLE	0x4000	/* an indirect table */
#define BUFS	0x10000

struct fixture {
	struct fake_host fh;
	struct virtq q;
	struct virtq_buf bufs[16];
	uint16_t avail_idx;
};

static uint8_t *gpa(struct fixture *f, uint64_t a)
{
	return f->fh.ram + a;
}

static void put_desc(struct fixture *f, uint64_t table, unsigned int i,
		     uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = gpa(f, table + 16 * i);

	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

/* Make @head available. */
static void offer(struct fixture *f, uint16_t head)
{
	uint16_t idx;

	memcpy(gpa(f, AVAIL + 4 + 2 * (f->avail_idx % QSIZE)), &head, 2);
	idx = ++f->avail_idx;
	memcpy(gpa(f, AVAIL + 2), &idx, 2);
}

static void set_avail_idx(struct fixture *f, uint16_t idx)
{
	memcpy(gpa(f, AVAIL + 2), &idx, 2);
}

static uint16_t get16(struct fixture *f, uint64_t a)
{
	uint16_t v;

	memcpy(&v, gpa(f, a), 2);
	return v;
}

static uint32_t get32(struct fixture *f, uint64_t a)
{
	uint32_t v;

	memcpy(&v, gpa(f, a), 4);
	return v;
}

static int setup_flags(void **state, bool event_idx, bool indirect)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_int_equal(fake_host_init(&f->fh, 0, RAM), 0);
	f->q.hs = &f->fh.hs;
	f->q.size = QSIZE;
	f->q.desc_gpa = DESC;
	f->q.avail_gpa = AVAIL;
	f->q.used_gpa = USED;
	f->q.event_idx = event_idx;
	f->q.indirect = indirect;
	assert_int_equal(virtq_activate(&f->q), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_flags(state, false, true);
}

static int setup_event_idx(void **state)
{
	return setup_flags(state, true, false);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fake_host_free(&f->fh);
	free(f);
	return 0;
}

static int pop(struct fixture *f, uint16_t *head)
{
	return virtq_pop(&f->q, f->bufs, 16, head);
}

/* Pop and expect the queue to break with a message containing @what. */
static void expect_broken(struct fixture *f, const char *what)
{
	uint16_t head;

	assert_int_equal(pop(f, &head), -EIO);
	assert_true(f->q.broken);
	if (!strstr(f->q.why, what))
		fail_msg("broke with '%s', expected '%s'", f->q.why, what);
	/* It stays broken (NR) until reset. */
	assert_int_equal(pop(f, &head), -EIO);
	assert_false(virtq_pending(&f->q));
}

static void test_activation_checks(void **state)
{
	struct fixture *f = *state;
	struct virtq q = f->q;

	q.size = 0;
	assert_int_equal(virtq_activate(&q), -EINVAL);
	q.size = 12;
	assert_int_equal(virtq_activate(&q), -EINVAL);
	q.size = VIRTQ_MAX_SIZE * 2;
	assert_int_equal(virtq_activate(&q), -EINVAL);
	assert_false(q.active);
	q.size = QSIZE;
	q.desc_gpa = DESC + 8;
	assert_int_equal(virtq_activate(&q), -EINVAL);
	assert_non_null(strstr(q.why, "aligned"));
	q.desc_gpa = DESC;
	q.used_gpa = USED + 2;
	assert_int_equal(virtq_activate(&q), -EINVAL);
	q.used_gpa = RAM - 8;		/* runs off the end of RAM */
	assert_int_equal(virtq_activate(&q), -EINVAL);
	assert_non_null(strstr(q.why, "not in guest RAM"));
	q.used_gpa = USED;
	assert_int_equal(virtq_activate(&q), 0);
	/* An inactive queue pops nothing. */
	virtq_reset(&q);
	assert_false(q.active);
	assert_int_equal(virtq_pop(&q, f->bufs, 16, &(uint16_t){ 0 }), 0);
}

static void test_chains(void **state)
{
	struct fixture *f = *state;
	uint16_t head;

	assert_int_equal(pop(f, &head), 0);
	/* header (readable), an empty buffer (skipped), data, status. */
	put_desc(f, DESC, 3, BUFS, 16, VIRTQ_DESC_F_NEXT, 5);
	put_desc(f, DESC, 5, BUFS + 16, 0, VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUFS + 0x100, 512,
		 VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	put_desc(f, DESC, 2, BUFS + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 3);
	assert_true(virtq_pending(&f->q));
	assert_int_equal(pop(f, &head), 3);
	assert_int_equal(head, 3);
	assert_ptr_equal(f->bufs[0].base, gpa(f, BUFS));
	assert_false(f->bufs[0].writable);
	assert_int_equal(f->bufs[1].len, 512);
	assert_true(f->bufs[1].writable);
	assert_true(f->bufs[2].writable);
	assert_false(virtq_pending(&f->q));

	/* Rewriting the descriptors now changes nothing popped (row 16). */
	put_desc(f, DESC, 1, 0, 0xffffffff, 0, 0);
	assert_int_equal(f->bufs[1].len, 512);

	/* The used ring after push and publish. */
	assert_int_equal(virtq_push(&f->q, 3, 513), 0);
	assert_int_equal(get16(f, USED + 2), 0);	/* not yet visible */
	assert_true(virtq_publish(&f->q));
	assert_int_equal(get16(f, USED + 2), 1);
	assert_int_equal(get32(f, USED + 4), 3);
	assert_int_equal(get32(f, USED + 8), 513);
	/* A head not in flight cannot be pushed (again). */
	assert_int_equal(virtq_push(&f->q, 3, 1), -EINVAL);
	assert_int_equal(virtq_push(&f->q, QSIZE, 1), -EINVAL);

	/* Indirect: one descriptor pointing at a table of three. */
	put_desc(f, TABLE, 0, BUFS, 16, VIRTQ_DESC_F_NEXT, 2);
	put_desc(f, TABLE, 2, BUFS + 0x100, 4096,
		 VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	put_desc(f, TABLE, 1, BUFS + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
	put_desc(f, DESC, 0, TABLE, 48, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(pop(f, &head), 3);
	assert_int_equal(head, 0);
	assert_int_equal(f->bufs[1].len, 4096);
	assert_ptr_equal(f->bufs[2].base, gpa(f, BUFS + 0x2000));

	/* A buffer outside RAM is the request's problem, not the queue's. */
	put_desc(f, DESC, 4, BUFS, 16, VIRTQ_DESC_F_NEXT, 6);
	put_desc(f, DESC, 6, RAM - 8, 16, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 4);
	assert_int_equal(pop(f, &head), 2);
	assert_null(f->bufs[1].base);
	assert_false(f->q.broken);
}

/*
 * Migration's record of what the device wrote: nothing at pop (the device
 * has not written yet), the chain's writable buffers at push (direct and
 * indirect), the used ring at publish; nothing while nobody tracks.
 */
static void test_mark_written(void **state)
{
	struct fixture *f = *state;
	struct fake_host *fh = &f->fh;
	uint16_t head;
	unsigned int i;
	bool saw_used = false;

	put_desc(f, DESC, 3, BUFS, 16, VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUFS + 0x100, 512,
		 VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	put_desc(f, DESC, 2, BUFS + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 3);
	fh->tracking_written = true;
	assert_int_equal(pop(f, &head), 3);
	assert_int_equal(fh->written_calls, 0);
	assert_int_equal(virtq_push(&f->q, head, 513), 0);
	assert_int_equal(fh->written_calls, 2);
	assert_true(fh->written[0].gpa == BUFS + 0x100 && fh->written[0].len == 512);
	assert_true(fh->written[1].gpa == BUFS + 0x400 && fh->written[1].len == 1);
	virtq_publish(&f->q);
	for (i = 2; i < fh->written_calls; i++)
		saw_used |= fh->written[i].gpa == USED;
	assert_true(saw_used);

	/* Indirect, pushed with nothing written: nothing to mark. */
	put_desc(f, TABLE, 0, BUFS + 0x2000, 64, VIRTQ_DESC_F_WRITE, 0);
	put_desc(f, DESC, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	fh->written_calls = 0;
	assert_int_equal(pop(f, &head), 1);
	assert_int_equal(virtq_push(&f->q, head, 0), 0);
	assert_int_equal(fh->written_calls, 0);
	/* The same with bytes written: the table's writable buffer. */
	offer(f, 0);
	assert_int_equal(pop(f, &head), 1);
	assert_int_equal(virtq_push(&f->q, head, 64), 0);
	assert_int_equal(fh->written_calls, 1);
	assert_true(fh->written[0].gpa == BUFS + 0x2000 && fh->written[0].len == 64);

	/* Nobody tracking: no walk, no marks. */
	fh->tracking_written = false;
	fh->written_calls = 0;
	offer(f, 3);
	assert_int_equal(pop(f, &head), 3);
	assert_int_equal(virtq_push(&f->q, head, 513), 0);
	virtq_publish(&f->q);
	assert_int_equal(fh->written_calls, 0);
}

static void test_avail_index_wraps(void **state)
{
	struct fixture *f = *state;
	uint16_t head;
	unsigned int i;

	/* Start both indices just below 65536 and go across. */
	f->q.last_avail = 65534;
	f->avail_idx = 65534;
	put_desc(f, DESC, 0, BUFS, 8, VIRTQ_DESC_F_WRITE, 0);
	for (i = 0; i < 4; i++) {
		offer(f, 0);
		assert_int_equal(pop(f, &head), 1);
		assert_int_equal(virtq_push(&f->q, 0, 8), 0);
		virtq_publish(&f->q);
	}
	assert_int_equal(f->q.last_avail, 2);
	assert_false(f->q.broken);
}

static void test_avail_ring_corruption(void **state)
{
	struct fixture *f = *state;

	put_desc(f, DESC, 0, BUFS, 8, VIRTQ_DESC_F_WRITE, 0);
	/* Row 5: avail idx far ahead (never walk stale entries). */
	set_avail_idx(f, QSIZE + 1);
	expect_broken(f, "more than the queue size ahead");
	virtq_reset(&f->q);
	f->q.size = QSIZE;
	f->q.desc_gpa = DESC;
	f->q.avail_gpa = AVAIL;
	f->q.used_gpa = USED;
	f->q.indirect = true;
	assert_int_equal(virtq_activate(&f->q), 0);
	f->avail_idx = 0;
	set_avail_idx(f, 0);
	/* Row 4: head beyond the queue. */
	offer(f, QSIZE);
	expect_broken(f, "beyond the queue size");
}

static void test_in_flight_head_again(void **state)
{
	struct fixture *f = *state;
	uint16_t head;

	put_desc(f, DESC, 0, BUFS, 8, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(pop(f, &head), 1);
	offer(f, 0);		/* row 6 */
	expect_broken(f, "already in flight");
}

struct chain_case {
	const char *what;
	void (*build)(struct fixture *f);
	const char *message;
	unsigned int max;	/* buffers the caller takes; 0: 16 */
};

static void loop_chain(struct fixture *f)
{
	put_desc(f, DESC, 0, BUFS, 8, VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUFS, 8, VIRTQ_DESC_F_NEXT, 0);
}

static void next_beyond(struct fixture *f)
{
	put_desc(f, DESC, 0, BUFS, 8, VIRTQ_DESC_F_NEXT, QSIZE);
}

static void too_many_bufs(struct fixture *f)
{
	unsigned int i;

	/* 8 buffers: a valid chain, but the caller takes only 4. */
	for (i = 0; i < 8; i++)
		put_desc(f, DESC, i, BUFS, 8, i < 7 ? VIRTQ_DESC_F_NEXT : 0,
			 i + 1);
}

static void indirect_with_next(struct fixture *f)
{
	put_desc(f, TABLE, 0, BUFS, 8, 0, 0);
	put_desc(f, DESC, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
}

static void nested_indirect(struct fixture *f)
{
	put_desc(f, TABLE, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(f, DESC, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
}

static void indirect_bad_len(struct fixture *f)
{
	put_desc(f, DESC, 0, TABLE, 24, VIRTQ_DESC_F_INDIRECT, 0);
}

static void indirect_empty(struct fixture *f)
{
	put_desc(f, DESC, 0, TABLE, 0, VIRTQ_DESC_F_INDIRECT, 0);
}

static void indirect_too_long(struct fixture *f)
{
	put_desc(f, DESC, 0, TABLE, 16 * (QSIZE + 1), VIRTQ_DESC_F_INDIRECT, 0);
}

static void indirect_outside(struct fixture *f)
{
	put_desc(f, DESC, 0, RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
}

static void indirect_loop(struct fixture *f)
{
	put_desc(f, TABLE, 0, BUFS, 8, VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, TABLE, 1, BUFS, 8, VIRTQ_DESC_F_NEXT, 0);
	put_desc(f, DESC, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
}

static void wraps(struct fixture *f)
{
	put_desc(f, DESC, 0, UINT64_MAX - 4, 8, 0, 0);
}

static void over_4g(struct fixture *f)
{
	put_desc(f, DESC, 0, 0, 0xffffffff, VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, 0, 0xffffffff, 0, 0);
}

static void read_after_write(struct fixture *f)
{
	put_desc(f, DESC, 0, BUFS, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	put_desc(f, DESC, 1, BUFS, 8, 0, 0);
}

static void no_bytes(struct fixture *f)
{
	put_desc(f, DESC, 0, BUFS, 0, VIRTQ_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUFS, 0, 0, 0);
}

static const struct chain_case chain_cases[] = {
	{ "row 1: loop", loop_chain, "loops", 0 },
	{ "row 3: next beyond", next_beyond, "next descriptor beyond", 0 },
	{ "row 2: more than the caller takes", too_many_bufs, "more buffers", 4 },
	{ "row 7: indirect with next", indirect_with_next, "indirect descriptor not allowed", 0 },
	{ "row 7: nested indirect", nested_indirect, "indirect descriptor not allowed", 0 },
	{ "row 8: length not a multiple of 16", indirect_bad_len, "bad indirect table length", 0 },
	{ "row 8: length 0", indirect_empty, "bad indirect table length", 0 },
	{ "row 8: longer than the queue", indirect_too_long, "bad indirect table length", 0 },
	{ "row 8: outside RAM", indirect_outside, "not in guest RAM", 0 },
	{ "row 1: loop in a table", indirect_loop, "loops", 0 },
	{ "row 11: wrap", wraps, "wraps", 0 },
	{ "row 11: over 4 GiB", over_4g, "4 GiB", 0 },
	{ "row 13: readable after writable", read_after_write, "readable buffer after", 0 },
	{ "row 12: no bytes", no_bytes, "without a single byte", 0 },
};

static void test_bad_chains(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(chain_cases) / sizeof(chain_cases[0]); i++) {
		uint16_t head;
		int ret;

		print_message("%s\n", chain_cases[i].what);
		virtq_reset(&f->q);
		f->q.size = QSIZE;
		f->q.desc_gpa = DESC;
		f->q.avail_gpa = AVAIL;
		f->q.used_gpa = USED;
		f->q.indirect = true;
		memset(f->fh.ram, 0, 0x20000);
		assert_int_equal(virtq_activate(&f->q), 0);
		f->avail_idx = 0;
		chain_cases[i].build(f);
		offer(f, 0);
		ret = virtq_pop(&f->q, f->bufs,
				chain_cases[i].max ? chain_cases[i].max : 16, &head);
		if (ret != -EIO || !strstr(f->q.why, chain_cases[i].message))
			fail_msg("%s: pop %d, why '%s'", chain_cases[i].what, ret,
				 f->q.why ? f->q.why : "");
	}
}

static void test_indirect_needs_feature(void **state)
{
	struct fixture *f = *state;

	f->q.indirect = false;	/* row 7: INDIRECT without the feature */
	put_desc(f, TABLE, 0, BUFS, 8, 0, 0);
	put_desc(f, DESC, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	expect_broken(f, "indirect descriptor not allowed");
}

static void test_interrupt_suppression(void **state)
{
	struct fixture *f = *state;
	uint16_t head, flag = VIRTQ_AVAIL_F_NO_INTERRUPT;

	put_desc(f, DESC, 0, BUFS, 8, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(pop(f, &head), 1);
	virtq_push(&f->q, 0, 8);
	memcpy(gpa(f, AVAIL), &flag, 2);
	assert_false(virtq_publish(&f->q));
	/* Notifications off and on: the used flags follow. */
	virtq_notifications(&f->q, false);
	assert_int_equal(get16(f, USED), VIRTQ_USED_F_NO_NOTIFY);
	virtq_notifications(&f->q, true);
	assert_int_equal(get16(f, USED), 0);
}

static void test_event_idx(void **state)
{
	struct fixture *f = *state;
	uint16_t head, event;
	unsigned int i;

	put_desc(f, DESC, 0, BUFS, 8, VIRTQ_DESC_F_WRITE, 0);
	/* used_event 1: interrupt when the used index passes 1 -> 2. */
	event = 1;
	memcpy(gpa(f, AVAIL + 4 + 2 * QSIZE), &event, 2);
	for (i = 0; i < 3; i++) {
		bool want;

		offer(f, 0);
		assert_int_equal(pop(f, &head), 1);
		virtq_push(&f->q, 0, 8);
		want = virtq_publish(&f->q);
		/* The first publish always interrupts; then only crossing 1. */
		assert_int_equal(want, i == 0 || i == 1);
	}
	/* A poisoned used_event far away: no interrupt, no harm (row 17). */
	event = 0x8000;
	memcpy(gpa(f, AVAIL + 4 + 2 * QSIZE), &event, 2);
	offer(f, 0);
	assert_int_equal(pop(f, &head), 1);
	virtq_push(&f->q, 0, 8);
	assert_false(virtq_publish(&f->q));
	/* avail_event tells the driver where to kick. */
	virtq_notifications(&f->q, true);
	assert_int_equal(get16(f, USED + 4 + 8 * QSIZE), 4);
	/* Across the 16-bit wrap, the comparison still holds. */
	f->q.used_idx = f->q.signalled_used = 65535;
	event = 65535;
	memcpy(gpa(f, AVAIL + 4 + 2 * QSIZE), &event, 2);
	offer(f, 0);
	assert_int_equal(pop(f, &head), 1);
	virtq_push(&f->q, 0, 8);
	assert_true(virtq_publish(&f->q));	/* 65535 -> 0 crosses 65535 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_activation_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_index_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_ring_corruption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_flight_head_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_needs_feature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_suppression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx, setup_event_idx, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
