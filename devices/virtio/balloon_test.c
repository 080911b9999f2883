// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-balloon: the --balloon sub-options, and the device driven as a
 * driver would drive it, against the fake host (whose discard zeroes and
 * records what it is given): inflate and deflate in runs, PFNs outside
 * RAM, duplicates and the per-chain cap (bad-inputs row 27), statistics
 * and their cap, free page reporting, Linux's queue numbering, the target
 * and reset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libfdt.h>

#include "../fake_host_testlib.h"
#include "balloon.h"
#include "driver_testlib.h"
#include "pci.h"

#define DRAM		(8 << 20)
#define BUF		0x20000

#define F_STATS_VQ	1
#define F_DEFLATE_ON_OOM 2
#define F_REPORTING	5

static void test_options(void **state)
{
	struct balloon_options o;
	char msg[200];

	(void)state;
	assert_int_equal(balloon_parse_options("", &o, msg, sizeof(msg)), 0);
	assert_false(o.deflate_on_oom || o.free_page_reporting);
	assert_int_equal(o.stats_interval, 0);
	assert_int_equal(balloon_parse_options("deflate_on_oom=on,free_page_reporting=on,stats=5",
					       &o, msg, sizeof(msg)), 0);
	assert_true(o.deflate_on_oom && o.free_page_reporting);
	assert_int_equal(o.stats_interval, 5);
	assert_int_equal(balloon_parse_options("stats=0", &o, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "stats='0' is not a number from 1 to 3600"));
	assert_int_equal(balloon_parse_options("size=5", &o, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "unknown key 'size'"));
	assert_int_equal(balloon_parse_options("stats=1,stats=2", &o, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(balloon_parse_options("deflate_on_oom=yes", &o, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(balloon_parse_options("stats", &o, msg, sizeof(msg)), -EINVAL);
}

struct bfix {
	struct fake_host fh;
	struct balloon_dev *dev;
	struct pci_device *pd;
	struct vdrv drv;
};

/* The prestate, if any, is the --balloon spec. */
static int b_setup(void **state)
{
	const char *spec = *state ? *state : "";
	struct bfix *f = calloc(1, sizeof(*f));
	struct balloon_options o;
	char msg[200];
	int err = 0;

	assert_non_null(f);
	assert_int_equal(fake_host_init(&f->fh, 0, DRAM), 0);
	assert_int_equal(balloon_parse_options(spec, &o, msg, sizeof(msg)), 0);
	f->dev = balloon_create(&f->fh.hs, &o, DRAM, msg, sizeof(msg), &err);
	if (!f->dev)
		fail_msg("balloon_create: %s (%d)", msg, err);
	f->pd = balloon_pci_device(f->dev);
	f->drv = (struct vdrv){ .fh = &f->fh, .pd = f->pd };
	*state = f;
	return 0;
}

static int b_teardown(void **state)
{
	struct bfix *f = *state;

	balloon_destroy(f->dev);
	fake_host_free(&f->fh);
	free(f);
	return 0;
}

/* Offer one buffer [addr, addr + len) on queue @q (writable if @w), kick. */
static void offer(struct bfix *f, unsigned int q, uint64_t addr, uint32_t len,
		  bool w)
{
	vdrv_offer(&f->drv, q, 1, &addr, &len, w);
}

/* Write @n PFNs at guest @at. */
static void put_pfns(struct bfix *f, uint64_t at, const uint32_t *pfns,
		     unsigned int n)
{
	memcpy(vdrv_gpa(&f->drv, at), pfns, 4 * n);
}

static void test_inflate_deflate(void **state)
{
	struct bfix *f = *state;
	struct balloon_status st;
	/* A run of 3, a duplicate, one outside RAM, one far beyond. */
	static const uint32_t pfns[] = {
		0x100, 0x101, 0x102, 0x101, DRAM >> 12, 0xffffffff, 0x200,
	};

	vdrv_bring_up(&f->drv, 0, 2);
	/* The target, with a configuration interrupt. */
	assert_int_equal(balloon_set_target(f->dev, 4 << 20), 0);
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_DEVCFG, 4), (4 << 20) >> 12);
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_ISR, 1) & 2, 2);
	assert_int_equal(balloon_set_target(f->dev, DRAM + 4096), -ERANGE);
	/* num_pages is the host's; actual the driver's. */
	vdrv_bar_wr(&f->drv, VIRTIO_PCI_DEVCFG, 4, 7);
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_DEVCFG, 4), (4 << 20) >> 12);
	vdrv_bar_wr(&f->drv, VIRTIO_PCI_DEVCFG + 4, 4, 3);
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_DEVCFG + 4, 4), 3);

	memset(vdrv_gpa(&f->drv, 0x100000), 0xaa, 3 * 4096);
	memset(vdrv_gpa(&f->drv, 0x200000), 0xaa, 4096);
	put_pfns(f, BUF, pfns, 7);
	offer(f, 0, BUF, sizeof(pfns), false);
	vdrv_serve_until(&f->drv, 0, 1);
	/* Runs: [0x100, 0x103) once, 0x101 again, 0x200; the rest refused. */
	assert_int_equal(f->fh.discard_calls, 3);
	assert_int_equal(f->fh.discards[0].gpa, 0x100000);
	assert_int_equal(f->fh.discards[0].len, 3 * 4096);
	assert_true(f->fh.discards[0].balloon);
	assert_int_equal(f->fh.discards[2].gpa, 0x200000);
	assert_int_equal(vdrv_gpa(&f->drv, 0x100000)[0], 0);
	assert_int_equal(vdrv_gpa(&f->drv, 0x102fff)[0], 0);
	assert_int_equal(vdrv_gpa(&f->drv, 0x200000)[0], 0);
	balloon_get_status(f->dev, &st);
	assert_int_equal(st.inflated_pages, 5);
	assert_int_equal(st.bad_pfns, 2);
	assert_int_equal(st.discarded_bytes, 5 * 4096);
	assert_int_equal(st.actual_pages, 3);
	assert_int_equal(st.target_pages, (4 << 20) >> 12);

	/* Deflate: reclaimed in a run; a PFN outside RAM counted. */
	put_pfns(f, BUF, (const uint32_t[]){ 0x100, 0x101, DRAM >> 12 }, 3);
	offer(f, 1, BUF, 12, false);
	vdrv_serve_until(&f->drv, 1, 1);
	assert_int_equal(f->fh.reclaim_calls, 1);
	assert_int_equal(f->fh.reclaims[0].gpa, 0x100000);
	assert_int_equal(f->fh.reclaims[0].len, 2 * 4096);
	balloon_get_status(f->dev, &st);
	assert_int_equal(st.deflated_pages, 2);
	assert_int_equal(st.bad_pfns, 3);

	/* A writable buffer, or one not a multiple of 4: ignored, counted. */
	offer(f, 0, BUF, 8, true);
	vdrv_serve_until(&f->drv, 0, 2);
	offer(f, 0, BUF, 7, false);
	vdrv_serve_until(&f->drv, 0, 3);
	balloon_get_status(f->dev, &st);
	assert_int_equal(st.bad_buffers, 2);
	assert_int_equal(st.inflated_pages, 5);
}

/* At most BALLOON_MAX_PFNS PFNs of a chain are used. */
static void test_pfn_cap(void **state)
{
	struct bfix *f = *state;
	struct balloon_status st;
	uint32_t *pfns = calloc(BALLOON_MAX_PFNS + 100, 4);
	unsigned int i;

	assert_non_null(pfns);
	vdrv_bring_up(&f->drv, 0, 2);
	/* Every other page: no runs, one discard each. */
	for (i = 0; i < BALLOON_MAX_PFNS + 100; i++)
		pfns[i] = 0x400 + 2 * i % 0x400;
	put_pfns(f, 0x100000, pfns, BALLOON_MAX_PFNS + 100);
	offer(f, 0, 0x100000, 4 * (BALLOON_MAX_PFNS + 100), false);
	vdrv_serve_until(&f->drv, 0, 1);
	balloon_get_status(f->dev, &st);
	assert_int_equal(st.inflated_pages, BALLOON_MAX_PFNS);
	assert_int_equal(st.capped_pfns, 100);
	free(pfns);
}

static void put_stat(struct bfix *f, uint64_t at, uint16_t tag, uint64_t v)
{
	memcpy(vdrv_gpa(&f->drv, at), &tag, 2);
	memcpy(vdrv_gpa(&f->drv, at + 2), &v, 8);
}

/* Statistics: kept, polled every second, capped; unknown tags ignored. */
static void test_stats(void **state)
{
	struct bfix *f = *state;
	struct balloon_status st;
	unsigned int i;
	uint16_t event;

	vdrv_bring_up(&f->drv, 1u << F_STATS_VQ | 1u << F_DEFLATE_ON_OOM |
		      VDRV_F_EVENT_IDX, 3);
	put_stat(f, BUF, BALLOON_STAT_MEMFREE, 100 << 20);
	put_stat(f, BUF + 10, BALLOON_STAT_MEMTOT, 256 << 20);
	put_stat(f, BUF + 20, 77, 5);			/* unknown */
	put_stat(f, BUF + 30, BALLOON_STAT_AVAIL, 150 << 20);
	offer(f, 2, BUF, 40, false);
	fake_host_poll(&f->fh, 10);
	balloon_get_status(f->dev, &st);
	assert_true(st.stats_queue && st.deflate_on_oom);
	assert_false(st.free_page_reporting);
	assert_int_equal(st.stats_updates, 1);
	assert_int_equal(st.stats_present, 1u << BALLOON_STAT_MEMFREE |
			 1u << BALLOON_STAT_MEMTOT | 1u << BALLOON_STAT_AVAIL);
	assert_int_equal(st.stats[BALLOON_STAT_MEMFREE], 100 << 20);
	assert_int_equal(st.stats[BALLOON_STAT_AVAIL], 150 << 20);
	assert_int_equal(vdrv_used_idx(&f->drv, 2), 0);		/* held */
	/*
	 * The poll gives it back for refilling, and (EVENT_IDX) asks to be
	 * told of the next buffer: avail_event is the next avail index.
	 */
	vdrv_serve_until(&f->drv, 2, 1);
	memcpy(&event, vdrv_gpa(&f->drv, VDRV_RING(2) + 0x2000 + 4 +
				8 * VDRV_QSIZE), 2);
	assert_int_equal(event, f->drv.avail[2]);
	/* An oversized buffer: the first BALLOON_MAX_STATS entries only. */
	for (i = 0; i < BALLOON_MAX_STATS + 10; i++)
		put_stat(f, BUF + 10 * i, BALLOON_STAT_MEMFREE,
			 i < BALLOON_MAX_STATS ? i : 999999);
	offer(f, 2, BUF, 10 * (BALLOON_MAX_STATS + 10), false);
	fake_host_poll(&f->fh, 10);
	balloon_get_status(f->dev, &st);
	assert_int_equal(st.stats_updates, 2);
	assert_int_equal(st.stats[BALLOON_STAT_MEMFREE], BALLOON_MAX_STATS - 1);
	assert_int_equal(st.stats_present, 1u << BALLOON_STAT_MEMFREE);
}

/*
 * Free page reporting, without the statistics queue: it is queue 2
 * (Linux's numbering), and its ranges are discarded, not ballooned.
 */
static void test_reporting(void **state)
{
	struct bfix *f = *state;
	struct balloon_status st;

	vdrv_bring_up(&f->drv, 1u << F_REPORTING, 3);
	memset(vdrv_gpa(&f->drv, 0x400000), 0xaa, 0x200000);
	offer(f, 2, 0x400000, 0x200000, true);
	vdrv_serve_until(&f->drv, 2, 1);
	assert_int_equal(f->fh.discard_calls, 1);
	assert_false(f->fh.discards[0].balloon);
	assert_int_equal(f->fh.discards[0].gpa, 0x400000);
	assert_int_equal(f->fh.discards[0].len, 0x200000);
	assert_int_equal(vdrv_gpa(&f->drv, 0x5fffff)[0], 0);
	/* Outside RAM: counted, given back unused. */
	offer(f, 2, DRAM - 4096, 8192, true);
	vdrv_serve_until(&f->drv, 2, 2);
	balloon_get_status(f->dev, &st);
	assert_true(st.free_page_reporting);
	assert_int_equal(st.reported_bytes, 0x200000);
	assert_int_equal(st.discarded_bytes, 0x200000);
	assert_int_equal(st.bad_buffers, 1);
	assert_int_equal(f->fh.discard_calls, 1);
}

/* A queue beyond those negotiated cannot be enabled. */
static void test_queue_numbering(void **state)
{
	struct bfix *f = *state;

	vdrv_bring_up(&f->drv, 1u << F_STATS_VQ, 3);
	vdrv_bar_wr(&f->drv, 0x16, 2, 3);			/* reporting: not negotiated */
	vdrv_bar_wr(&f->drv, 0x18, 2, VDRV_QSIZE);
	vdrv_bar_wr(&f->drv, 0x20, 8, VDRV_RING(3));
	vdrv_bar_wr(&f->drv, 0x28, 8, VDRV_RING(3) + 0x1000);
	vdrv_bar_wr(&f->drv, 0x30, 8, VDRV_RING(3) + 0x2000);
	vdrv_bar_wr(&f->drv, 0x1c, 2, 1);
	assert_int_equal(vdrv_bar_rd(&f->drv, 0x14, 1) & 0x40, 0x40);	/* NEEDS_RESET */
}

/* A reset gives every page back to the guest and clears actual. */
static void test_reset(void **state)
{
	struct bfix *f = *state;
	int i;

	vdrv_bring_up(&f->drv, 0, 2);
	vdrv_bar_wr(&f->drv, VIRTIO_PCI_DEVCFG + 4, 4, 9);
	/* A descriptor loop: the device needs a reset, the VM goes on. */
	memcpy(vdrv_gpa(&f->drv, VDRV_RING(0)), (uint64_t[]){ BUF }, 8);
	memcpy(vdrv_gpa(&f->drv, VDRV_RING(0) + 8), (uint32_t[]){ 4 }, 4);
	memcpy(vdrv_gpa(&f->drv, VDRV_RING(0) + 12), (uint16_t[]){ 1 }, 2);	/* NEXT */
	memcpy(vdrv_gpa(&f->drv, VDRV_RING(0) + 14), (uint16_t[]){ 0 }, 2);	/* itself */
	memcpy(vdrv_gpa(&f->drv, VDRV_RING(0) + 0x1000 + 2), (uint16_t[]){ 1 }, 2);
	vdrv_bar_wr(&f->drv, VIRTIO_PCI_NOTIFY, 2, 0);
	for (i = 0; i < 50 && !(vdrv_bar_rd(&f->drv, 0x14, 1) & 0x40); i++)
		fake_host_poll(&f->fh, 10);
	assert_int_equal(vdrv_bar_rd(&f->drv, 0x14, 1) & 0x40, 0x40);
	vdrv_bar_wr(&f->drv, 0x14, 1, 0);
	for (i = 0; i < 50 && vdrv_bar_rd(&f->drv, 0x14, 1); i++)
		fake_host_poll(&f->fh, 10);
	assert_int_equal(vdrv_bar_rd(&f->drv, 0x14, 1), 0);
	assert_int_equal(f->fh.reclaim_calls, 1);
	assert_int_equal(f->fh.reclaims[0].gpa, 0);
	assert_true(f->fh.reclaims[0].len == UINT64_MAX);
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_DEVCFG + 4, 4), 0);
	/* And it works again. */
	vdrv_bring_up(&f->drv, 0, 2);
	put_pfns(f, BUF, (const uint32_t[]){ 0x300 }, 1);
	offer(f, 0, BUF, 4, false);
	vdrv_serve_until(&f->drv, 0, 1);
}

static struct bfix *snap_fixture(const char *spec, const uint8_t *image)
{
	void *st = (void *)spec;
	struct bfix *f;

	b_setup(&st);
	f = st;
	if (image)
		memcpy(f->fh.ram, image, DRAM);
	return f;
}

static void snap_load(struct bfix *f, const void *blob, size_t len,
		      struct state_reader *r)
{
	assert_int_equal(state_reader_init(r, blob, len), 0);
	balloon_load(f->dev, r, state_node(r, STATE_ROOT, "virtio-balloon@0"));
}

/*
 * Inflate, hold a statistics buffer, set the target; quiesce and save;
 * restore into a fresh device: the target, actual and the statistics
 * are back, the held buffer is returned at the next poll, and inflating
 * goes on where it stopped.
 */
static void test_snapshot(void **state)
{
	static const uint32_t pfns[] = { 0x100, 0x101 };
	struct bfix *f, *g;
	struct state_writer w;
	struct state_reader r;
	struct balloon_status st;
	const struct virtio_pci_queue *q;
	uint16_t avail[VDRV_MAX_QUEUES], next[VDRV_MAX_QUEUES];
	void *blob, *t;
	size_t len;
	int off;

	(void)state;
	f = snap_fixture("stats=1", NULL);
	vdrv_bring_up(&f->drv, 1u << F_STATS_VQ | VDRV_F_EVENT_IDX, 3);
	put_pfns(f, BUF, pfns, 2);
	offer(f, 0, BUF, 8, false);
	vdrv_serve_until(&f->drv, 0, 1);
	put_stat(f, BUF + 0x1000, BALLOON_STAT_MEMFREE, 100 << 20);
	offer(f, 2, BUF + 0x1000, 10, false);
	fake_host_poll(&f->fh, 0);
	assert_int_equal(balloon_set_target(f->dev, 1 << 20), 0);
	vdrv_bar_wr(&f->drv, VIRTIO_PCI_DEVCFG + 4, 4, 2);	/* actual */
	assert_int_equal(balloon_quiesce(f->dev), 0);
	assert_int_equal(state_writer_init(&w), 0);
	state_begin(&w, "virtio-balloon@0");
	balloon_save(f->dev, &w);
	state_end(&w);
	assert_int_equal(state_writer_finish(&w), 0);
	len = fdt_totalsize(w.fdt);
	blob = w.fdt;
	memcpy(avail, f->drv.avail, sizeof(avail));
	memcpy(next, f->drv.next_desc, sizeof(next));

	g = snap_fixture("stats=1", f->fh.ram);
	snap_load(g, blob, len, &r);
	if (r.failed)
		fail_msg("load: %s", r.err);
	memcpy(g->drv.avail, avail, sizeof(avail));
	memcpy(g->drv.next_desc, next, sizeof(next));
	q = &((struct virtio_pci *)g->pd)->queues[2];
	assert_true(q->enabled);
	assert_int_equal(vdrv_bar_rd(&g->drv, 0x14, 1), 0x0f);
	assert_int_equal(vdrv_bar_rd(&g->drv, VIRTIO_PCI_DEVCFG, 4), 256);
	assert_int_equal(vdrv_bar_rd(&g->drv, VIRTIO_PCI_DEVCFG + 4, 4), 2);
	balloon_get_status(g->dev, &st);
	assert_int_equal(st.target_pages, 256);
	assert_int_equal(st.stats_updates, 1);
	assert_int_equal(st.stats[BALLOON_STAT_MEMFREE], 100 << 20);
	assert_true(st.stats_queue);
	/* The held buffer comes back at the next poll... */
	assert_int_equal(vdrv_used_idx(&g->drv, 2), 0);
	vdrv_serve_until(&g->drv, 2, 1);
	/* ...and inflating goes on. */
	put_pfns(g, BUF, pfns, 2);
	offer(g, 0, BUF, 8, false);
	vdrv_serve_until(&g->drv, 0, 2);
	balloon_get_status(g->dev, &st);
	assert_int_equal(st.inflated_pages, 2);
	b_teardown((void **)&g);

	/* Hostile: a held head that is not in flight; a target above RAM. */
	t = malloc(len + 1024);
	assert_int_equal(fdt_open_into(blob, t, len + 1024), 0);
	off = fdt_path_offset(t, "/virtio-balloon@0");
	assert_int_equal(fdt_setprop_u32(t, off, "stats-head", 5), 0);
	g = snap_fixture("stats=1", f->fh.ram);
	snap_load(g, t, fdt_totalsize(t), &r);
	assert_true(r.failed);
	assert_non_null(strstr(r.err, "/virtio-balloon@0: stats-head 5 is not the one chain in flight"));
	b_teardown((void **)&g);
	assert_int_equal(fdt_setprop_u32(t, off, "num-pages", DRAM), 0);
	g = snap_fixture("stats=1", f->fh.ram);
	snap_load(g, t, fdt_totalsize(t), &r);
	assert_true(r.failed);
	assert_non_null(strstr(r.err, "/virtio-balloon@0: num-pages 8388608 is more than"));
	b_teardown((void **)&g);
	/* Other options: another queue count. */
	g = snap_fixture("", f->fh.ram);
	snap_load(g, blob, len, &r);
	assert_true(r.failed);
	assert_non_null(strstr(r.err, "2 queues here, 3 in the snapshot"));
	b_teardown((void **)&g);
	free(t);
	state_writer_free(&w);
	b_teardown((void **)&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test_setup_teardown(test_inflate_deflate, b_setup,
						b_teardown),
		cmocka_unit_test_setup_teardown(test_pfn_cap, b_setup,
						b_teardown),
		cmocka_unit_test_prestate_setup_teardown(test_stats, b_setup,
							 b_teardown,
							 "stats=1,deflate_on_oom=on"),
		cmocka_unit_test_prestate_setup_teardown(test_reporting, b_setup,
							 b_teardown,
							 "free_page_reporting=on"),
		cmocka_unit_test_prestate_setup_teardown(test_queue_numbering,
							 b_setup, b_teardown,
							 "stats=1,free_page_reporting=on"),
		cmocka_unit_test_setup_teardown(test_reset, b_setup, b_teardown),
		cmocka_unit_test(test_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
