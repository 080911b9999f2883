// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-pci transport against a fake device: capabilities, feature
 * negotiation, queue registers, notifications through eventfds and
 * ioeventfds, interrupts, reset, the PCI configuration access window, and
 * the ignored writes of bad-inputs.md rows 14, 18, 20 and 21.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libfdt.h>

#include "../fake_host_testlib.h"
#include "../pci_testlib.h"
#include "pci.h"

#define QUEUES		2
#define QMAX		256
#define FEATURES	((1ULL << 28) | (1ULL << 9))
#define CFG_SIZE	8

/* Common configuration offsets, as the spec numbers them. */
#define DFSELECT	0x00
#define DF		0x04
#define GFSELECT	0x08
#define GF		0x0c
#define MSIX_CONFIG	0x10
#define NUMQ		0x12
#define STATUS		0x14
#define GENERATION	0x15
#define QSELECT		0x16
#define QSIZE		0x18
#define QVECTOR		0x1a
#define QENABLE		0x1c
#define QNOTIFYOFF	0x1e
#define QDESC		0x20
#define QDRIVER		0x28
#define QDEVICE		0x30

struct fixture {
	struct fake_host fh;
	struct pci_host host;
	struct virtio_pci vp;
	uint8_t config[CFG_SIZE];
	unsigned int enabled[QUEUES];
	unsigned int resets, driver_oks;
};

static struct fixture *of(struct virtio_pci *vp)
{
	return vp->dev;
}

static int fake_queue_enable(struct virtio_pci *vp, unsigned int index)
{
	const struct virtio_pci_queue *q = &vp->queues[index];

	if (!q->size || (q->size & (q->size - 1)) || q->size > q->max_size)
		return -EINVAL;
	of(vp)->enabled[index]++;
	return 0;
}

static bool fake_reset(struct virtio_pci *vp)
{
	of(vp)->resets++;
	return true;
}

static void fake_config_read(struct virtio_pci *vp, uint64_t offset,
			     uint8_t *data, uint32_t len)
{
	memcpy(data, of(vp)->config + offset, len);
}

static void fake_config_write(struct virtio_pci *vp, uint64_t offset,
			      const uint8_t *data, uint32_t len)
{
	memcpy(of(vp)->config + offset, data, len);
}

static void fake_driver_ok(struct virtio_pci *vp)
{
	of(vp)->driver_oks++;
}

static const struct virtio_pci_device_ops fake_ops = {
	.queue_enable = fake_queue_enable,
	.reset = fake_reset,
	.config_read = fake_config_read,
	.config_write = fake_config_write,
	.driver_ok = fake_driver_ok,
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_int_equal(fake_host_init(&f->fh, 0, 1 << 20), 0);
	assert_int_equal(pci_host_init(&f->host, &f->fh.hs, 0, 0), 0);
	assert_int_equal(virtio_pci_init(&f->vp, "vtest", &f->fh.hs, 2, 2,
					 0x018000, QUEUES, QMAX, FEATURES,
					 CFG_SIZE, &fake_ops, f), 0);
	assert_int_equal(pci_host_add(&f->host, &f->vp.pd), 1);
	memcpy(f->config, "\x11\x22\x33\x44\x55\x66\x77\x88", CFG_SIZE);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	virtio_pci_destroy(&f->vp);
	pci_host_destroy(&f->host);
	fake_host_free(&f->fh);
	free(f);
	return 0;
}

static uint32_t cfg_read(struct fixture *f, unsigned int reg, unsigned int len)
{
	int bad;
	uint32_t v = pci_test_cfg_read(&f->host, 1, reg, len, &bad);

	assert_int_equal(bad, 0);
	return v;
}

static void cfg_write(struct fixture *f, unsigned int reg, unsigned int len,
		      uint32_t value)
{
	pci_test_cfg_write(&f->host, 1, reg, len, value);
}

static uint64_t rd(struct fixture *f, uint64_t off, uint32_t len)
{
	uint64_t v;

	assert_int_equal(fake_io_read(&virtio_pci_bar_io, &f->vp, off, len, &v), 0);
	return v;
}

static void wr(struct fixture *f, uint64_t off, uint32_t len, uint64_t v)
{
	fake_io_write(&virtio_pci_bar_io, &f->vp, off, len, v);
}

/* Negotiate @features the way Linux does; returns the status read back. */
static uint8_t negotiate(struct fixture *f, uint64_t features)
{
	wr(f, STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(f, GFSELECT, 4, 0);
	wr(f, GF, 4, (uint32_t)features);
	wr(f, GFSELECT, 4, 1);
	wr(f, GF, 4, features >> 32);
	wr(f, STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	return rd(f, STATUS, 1);
}

static void setup_queue(struct fixture *f, unsigned int q, uint16_t size)
{
	wr(f, QSELECT, 2, q);
	wr(f, QSIZE, 2, size);
	wr(f, QDESC, 4, 0x10000 + q * 0x1000);
	wr(f, QDESC + 4, 4, 0);
	wr(f, QDRIVER, 8, 0x20000 + q * 0x1000);
	wr(f, QDEVICE, 4, 0x30000 + q * 0x1000);
	wr(f, QDEVICE + 4, 4, 0);
	wr(f, QVECTOR, 2, q);
	wr(f, QENABLE, 2, 1);
}

static uint64_t eventfd_count(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void test_identity_and_capabilities(void **state)
{
	struct fixture *f = *state;
	unsigned int cap, types = 0;

	assert_int_equal(cfg_read(f, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_read(f, PCI_DEVICE_ID, 2), 0x1042);
	assert_int_equal(cfg_read(f, PCI_SUBSYS_ID, 2), 2);
	assert_int_equal(cfg_read(f, PCI_REVISION, 1), 1);	/* modern */
	for (cap = cfg_read(f, PCI_CAP_PTR, 1); cap; cap = cfg_read(f, cap + 1, 1)) {
		unsigned int type;

		if (cfg_read(f, cap, 1) != PCI_CAP_ID_VNDR)
			continue;
		type = cfg_read(f, cap + 3, 1);
		types |= 1U << type;
		assert_int_equal(cfg_read(f, cap + 4, 1), VIRTIO_PCI_BAR);
		switch (type) {
		case 1:
			assert_int_equal(cfg_read(f, cap + 8, 4), VIRTIO_PCI_COMMON);
			break;
		case 2:
			assert_int_equal(cfg_read(f, cap + 2, 1), 20);
			assert_int_equal(cfg_read(f, cap + 8, 4), VIRTIO_PCI_NOTIFY);
			assert_int_equal(cfg_read(f, cap + 16, 4), 4);
			break;
		case 4:
			assert_int_equal(cfg_read(f, cap + 12, 4), CFG_SIZE);
			break;
		}
	}
	assert_int_equal(types, 0x3e);	/* common, notify, ISR, device, pci_cfg */
	assert_int_equal(rd(f, NUMQ, 2), QUEUES);
}

static void test_feature_negotiation(void **state)
{
	struct fixture *f = *state;

	wr(f, DFSELECT, 4, 0);
	assert_int_equal(rd(f, DF, 4), (uint32_t)FEATURES);
	wr(f, DFSELECT, 4, 1);
	assert_int_equal(rd(f, DF, 4), 1);	/* VERSION_1 */
	wr(f, DFSELECT, 4, 2);
	assert_int_equal(rd(f, DF, 4), 0);

	/* A feature the device does not offer: FEATURES_OK does not stick. */
	assert_false(negotiate(f, (1ULL << 32) | (1ULL << 5)) &
		     VIRTIO_STATUS_FEATURES_OK);
	wr(f, STATUS, 1, 0);
	/* Without VERSION_1 (a legacy driver): refused too. */
	assert_false(negotiate(f, 1ULL << 28) & VIRTIO_STATUS_FEATURES_OK);
	wr(f, STATUS, 1, 0);
	assert_true(negotiate(f, (1ULL << 32) | (1ULL << 28)) &
		    VIRTIO_STATUS_FEATURES_OK);
	assert_true(virtio_pci_has_feature(&f->vp, 28));
	assert_false(virtio_pci_has_feature(&f->vp, 9));
	/* Changing features after FEATURES_OK is ignored (row 18). */
	wr(f, GFSELECT, 4, 0);
	wr(f, GF, 4, 1U << 9);
	assert_int_equal(rd(f, GF, 4), 1U << 28);
	assert_false(virtio_pci_has_feature(&f->vp, 9));
	/* Status bits do not go away except by reset. */
	wr(f, STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_true(rd(f, STATUS, 1) & VIRTIO_STATUS_FEATURES_OK);
}

static void test_queue_registers(void **state)
{
	struct fixture *f = *state;

	negotiate(f, 1ULL << 32);
	/* A queue that does not exist reads 0 and takes nothing (row 20). */
	wr(f, QSELECT, 2, QUEUES);
	assert_int_equal(rd(f, QSIZE, 2), 0);
	wr(f, QSIZE, 2, 16);
	assert_int_equal(rd(f, QSIZE, 2), 0);
	wr(f, QSELECT, 2, 0xffff);
	wr(f, QENABLE, 2, 1);
	assert_int_equal(rd(f, QENABLE, 2), 0);

	wr(f, QSELECT, 2, 0);
	assert_int_equal(rd(f, QSIZE, 2), QMAX);
	setup_queue(f, 0, 64);
	assert_int_equal(f->enabled[0], 1);
	assert_int_equal(rd(f, QENABLE, 2), 1);
	assert_int_equal(rd(f, QDESC, 8), 0x10000);
	assert_int_equal(rd(f, QDRIVER, 4), 0x20000);
	assert_int_equal(rd(f, QNOTIFYOFF, 2), 0);
	assert_int_equal(f->vp.queues[0].device, 0x30000);
	/* A live queue's registers do not change (row 18). */
	wr(f, QSIZE, 2, 32);
	wr(f, QDESC, 4, 0x90000);
	assert_int_equal(rd(f, QSIZE, 2), 64);
	assert_int_equal(rd(f, QDESC, 4), 0x10000);

	/* A bad size: not enabled, and the device needs a reset (row 14). */
	setup_queue(f, 1, 100);
	assert_int_equal(f->enabled[1], 0);
	assert_int_equal(rd(f, QENABLE, 2), 0);
	assert_true(rd(f, STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(rd(f, QNOTIFYOFF, 2), 1);
}

static void test_odd_accesses_ignored(void **state)
{
	struct fixture *f = *state;
	uint64_t before = f->vp.ignored_writes;

	/* Part of a register, or across two: reads 0, writes dropped. */
	assert_int_equal(rd(f, QSIZE, 1), 0);
	assert_int_equal(rd(f, NUMQ, 4), 0);
	wr(f, DFSELECT, 2, 1);
	wr(f, STATUS, 2, 0xff);
	assert_int_equal(rd(f, DFSELECT, 4), 0);
	assert_int_equal(rd(f, STATUS, 1), 0);
	/* Read-only registers. */
	wr(f, NUMQ, 2, 9);
	assert_int_equal(rd(f, NUMQ, 2), QUEUES);
	/* Device config beyond its size, and unclaimed BAR space. */
	assert_int_equal(rd(f, VIRTIO_PCI_DEVCFG + CFG_SIZE, 1), 0);
	assert_int_equal(rd(f, VIRTIO_PCI_DEVCFG + CFG_SIZE - 2, 4), 0);
	wr(f, VIRTIO_PCI_DEVCFG + CFG_SIZE, 1, 0xaa);
	wr(f, 0x6000, 4, 1);
	assert_int_equal(rd(f, 0x6000, 4), 0);
	assert_true(f->vp.ignored_writes >= before + 5);
	/* Inside the config: the device's bytes. */
	assert_int_equal(rd(f, VIRTIO_PCI_DEVCFG + 4, 4), 0x88776655);
	wr(f, VIRTIO_PCI_DEVCFG + 1, 1, 0xee);
	assert_int_equal(f->config[1], 0xee);
}

static void test_notify_and_ioeventfds(void **state)
{
	struct fixture *f = *state;
	uint64_t bar;

	negotiate(f, 1ULL << 32);
	setup_queue(f, 0, 64);
	/* Before DRIVER_OK a kick is ignored (row 18). */
	wr(f, VIRTIO_PCI_NOTIFY, 2, 0);
	assert_int_equal(eventfd_count(f->vp.queues[0].notify_fd), 0);
	wr(f, STATUS, 1, 0x0f);
	assert_int_equal(f->driver_oks, 1);
	wr(f, VIRTIO_PCI_NOTIFY, 2, 0);
	wr(f, VIRTIO_PCI_NOTIFY, 2, 0);
	assert_int_equal(eventfd_count(f->vp.queues[0].notify_fd), 2);
	/* Queue 1 is not enabled; queue 7 does not exist. */
	wr(f, VIRTIO_PCI_NOTIFY + 4, 2, 1);
	wr(f, VIRTIO_PCI_NOTIFY + 28, 2, 7);
	assert_int_equal(eventfd_count(f->vp.queues[1].notify_fd), 0);

	/* Memory decode on: every queue's notify address gets an ioeventfd. */
	bar = cfg_read(f, PCI_BAR0, 4) & ~0xfULL;
	bar |= (uint64_t)cfg_read(f, PCI_BAR0 + 4, 4) << 32;
	cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(f->fh.n_ioeventfds, QUEUES);
	assert_int_equal(f->fh.ioeventfds[0].addr, bar + VIRTIO_PCI_NOTIFY);
	assert_int_equal(f->fh.ioeventfds[0].fd, f->vp.queues[0].notify_fd);
	/* The BAR moves: they follow it; decode off: they go. */
	cfg_write(f, PCI_BAR0, 4, (uint32_t)bar + 0x10000);
	assert_int_equal(f->fh.n_ioeventfds, QUEUES);
	assert_int_equal(f->fh.ioeventfds[0].addr + f->fh.ioeventfds[1].addr,
			 2 * (bar + 0x10000 + VIRTIO_PCI_NOTIFY) + 4);
	cfg_write(f, PCI_COMMAND, 2, 0);
	assert_int_equal(f->fh.n_ioeventfds, 0);
	assert_int_equal(f->fh.ioeventfd_bad_calls, 0);
}

static void test_interrupts(void **state)
{
	struct fixture *f = *state;
	unsigned int cap = f->vp.msix.cap;
	unsigned int i;

	negotiate(f, 1ULL << 32);
	setup_queue(f, 0, 64);
	wr(f, MSIX_CONFIG, 2, 2);
	assert_int_equal(rd(f, MSIX_CONFIG, 2), 2);
	wr(f, QSELECT, 2, 1);
	wr(f, QVECTOR, 2, 99);		/* no such vector: NO_VECTOR */
	assert_int_equal(rd(f, QVECTOR, 2), MSIX_NO_VECTOR);
	for (i = 0; i < 3; i++) {
		wr(f, VIRTIO_PCI_MSIX_TABLE + 16 * i, 4, 0xfee00000);
		wr(f, VIRTIO_PCI_MSIX_TABLE + 16 * i + 8, 4, 0x40 + i);
		wr(f, VIRTIO_PCI_MSIX_TABLE + 16 * i + 12, 4, 0);
	}
	cfg_write(f, cap + 2, 2, MSIX_CTRL_ENABLE);
	wr(f, STATUS, 1, 0x0f);

	virtio_pci_notify_queue(&f->vp, 0);
	assert_int_equal(fake_host_msi_count(&f->fh, f->vp.msix.vec[0].handle), 1);
	assert_int_equal(f->fh.msi[f->vp.msix.vec[0].handle].data, 0x40);
	/* ISR: queue bit, cleared by reading. */
	assert_int_equal(rd(f, VIRTIO_PCI_ISR, 1), 1);
	assert_int_equal(rd(f, VIRTIO_PCI_ISR, 1), 0);

	virtio_pci_notify_config(&f->vp);
	assert_int_equal(fake_host_msi_count(&f->fh, f->vp.msix.vec[2].handle), 1);
	assert_int_equal(rd(f, GENERATION, 1), 1);
	assert_int_equal(rd(f, VIRTIO_PCI_ISR, 1), 2);

	/* Ring corruption: NEEDS_RESET and a configuration interrupt, once. */
	virtio_pci_needs_reset(&f->vp);
	virtio_pci_needs_reset(&f->vp);
	assert_true(rd(f, STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(fake_host_msi_count(&f->fh, f->vp.msix.vec[2].handle), 1);
}

static void test_reset(void **state)
{
	struct fixture *f = *state;

	negotiate(f, (1ULL << 32) | (1ULL << 28));
	setup_queue(f, 0, 64);
	wr(f, STATUS, 1, 0x0f);
	wr(f, STATUS, 1, 0);
	assert_int_equal(f->resets, 1);
	assert_int_equal(rd(f, STATUS, 1), 0);
	wr(f, QSELECT, 2, 0);
	assert_int_equal(rd(f, QENABLE, 2), 0);
	assert_int_equal(rd(f, QSIZE, 2), QMAX);
	assert_int_equal(rd(f, QDESC, 4), 0);
	assert_int_equal(rd(f, QVECTOR, 2), MSIX_NO_VECTOR);
	wr(f, GFSELECT, 4, 0);
	assert_int_equal(rd(f, GF, 4), 0);
	/* It can be set up again. */
	assert_true(negotiate(f, 1ULL << 32) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(f, 0, 128);
	assert_int_equal(f->enabled[0], 2);
}

static void test_pci_cfg_window(void **state)
{
	struct fixture *f = *state;
	unsigned int cap = f->vp.pd.cap_end - 20;

	assert_int_equal(cfg_read(f, cap + 3, 1), 5);
	/* Read NUM_QUEUES through configuration space. */
	cfg_write(f, cap + 4, 1, VIRTIO_PCI_BAR);
	cfg_write(f, cap + 8, 4, NUMQ);
	cfg_write(f, cap + 12, 4, 2);
	assert_int_equal(cfg_read(f, cap + 16, 2), QUEUES);
	/* Write the status through it. */
	cfg_write(f, cap + 8, 4, STATUS);
	cfg_write(f, cap + 12, 4, 1);
	cfg_write(f, cap + 16, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(rd(f, STATUS, 1), VIRTIO_STATUS_ACKNOWLEDGE);
	/* A window on another BAR, of length 3, or beyond the BAR: nothing. */
	cfg_write(f, cap + 4, 1, 1);
	assert_int_equal(cfg_read(f, cap + 16, 4), 0);
	cfg_write(f, cap + 4, 1, VIRTIO_PCI_BAR);
	cfg_write(f, cap + 12, 4, 3);
	cfg_write(f, cap + 16, 4, 0);
	assert_int_equal(rd(f, STATUS, 1), VIRTIO_STATUS_ACKNOWLEDGE);
	cfg_write(f, cap + 8, 4, VIRTIO_PCI_BAR_SIZE);
	cfg_write(f, cap + 12, 4, 4);
	assert_int_equal(cfg_read(f, cap + 16, 4), 0);
}

static void test_init_checks(void **state)
{
	struct fixture *f = *state;
	struct virtio_pci *vp = malloc(sizeof(*vp));

	assert_int_equal(virtio_pci_init(vp, "x", &f->fh.hs, 2, 2, 0, 0, 8, 0, 0,
					 &fake_ops, f), -EINVAL);
	assert_int_equal(virtio_pci_init(vp, "x", &f->fh.hs, 2, 2, 0,
					 VIRTIO_PCI_MAX_QUEUES + 1, 8, 0, 0,
					 &fake_ops, f), -EINVAL);
	assert_int_equal(virtio_pci_init(vp, "x", &f->fh.hs, 2, 2, 0, 1, 8, 0,
					 VIRTIO_PCI_DEVCFG_MAX + 1, &fake_ops, f),
			 -EINVAL);
	free(vp);
}

/*
 * Save a transport with NEEDS_RESET, a disabled queue with an odd size
 * and the configuration window aimed at a register; load it into a fresh
 * one (the PCI host last, so a replayed window write would show).
 */
static void test_snapshot(void **state)
{
	struct fixture *f = *state, *g;
	unsigned int cap = f->vp.pd.cap_end - 20;
	struct state_writer w;
	struct state_reader r;
	void *g_state;

	cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_true(negotiate(f, (1ULL << 32) | (1ULL << 28)) &
		    VIRTIO_STATUS_FEATURES_OK);
	setup_queue(f, 0, 64);
	wr(f, QSELECT, 2, 1);
	wr(f, QSIZE, 2, 100);		/* never enabled: any value */
	wr(f, STATUS, 1, 0x0f);
	virtio_pci_needs_reset(&f->vp);
	assert_int_equal(rd(f, STATUS, 1), 0x4f);
	/* The window writes the config vector (2), then the BAR sets 1. */
	cfg_write(f, cap + 4, 1, VIRTIO_PCI_BAR);
	cfg_write(f, cap + 8, 4, MSIX_CONFIG);
	cfg_write(f, cap + 12, 4, 2);
	cfg_write(f, cap + 16, 2, 2);
	assert_int_equal(rd(f, MSIX_CONFIG, 2), 2);
	wr(f, MSIX_CONFIG, 2, 1);
	(void)eventfd_count(f->vp.queues[0].notify_fd);

	assert_int_equal(state_writer_init(&w), 0);
	state_begin(&w, "pci");
	pci_host_save(&f->host, &w);
	state_end(&w);
	state_begin(&w, "vtest");
	virtio_pci_save(&f->vp, &w);
	state_end(&w);
	assert_int_equal(state_writer_finish(&w), 0);

	assert_int_equal(setup(&g_state), 0);
	g = g_state;
	assert_int_equal(state_reader_init(&r, w.fdt, fdt_totalsize(w.fdt)), 0);
	virtio_pci_load(&g->vp, &r, state_node(&r, STATE_ROOT, "vtest"));
	pci_host_load(&g->host, &r, state_node(&r, STATE_ROOT, "pci"));
	if (r.failed)
		fail_msg("load: %s", r.err);
	assert_int_equal(g->vp.status, 0x4f);	/* NEEDS_RESET comes back */
	assert_int_equal(g->driver_oks, 1);
	assert_int_equal(g->enabled[0], 1);
	assert_int_equal(g->enabled[1], 0);
	assert_int_equal(g->vp.driver_features, f->vp.driver_features);
	assert_int_equal(g->vp.config_msix_vector, 1);
	assert_int_equal(g->vp.queue_select, 1);
	assert_int_equal(g->vp.queues[1].size, 100);
	assert_false(g->vp.queues[1].enabled);
	assert_int_equal(g->vp.queues[0].size, 64);
	assert_int_equal(g->vp.queues[0].msix_vector, 0);
	assert_int_equal(g->vp.queues[0].driver, 0x20000);
	assert_memory_equal(g->vp.pd.cfg, f->vp.pd.cfg, 256);
	assert_int_equal(g->vp.bar_addr, f->vp.bar_addr);
	/* Each enabled queue is kicked once. */
	assert_int_equal(eventfd_count(g->vp.queues[0].notify_fd), 1);
	assert_int_equal(eventfd_count(g->vp.queues[1].notify_fd), 0);
	teardown(&g_state);

	/* A queue of another maximum size fails the load. */
	assert_int_equal(setup(&g_state), 0);
	g = g_state;
	g->vp.queues[0].max_size = 32;		/* the fake refuses 64 now */
	assert_int_equal(state_reader_init(&r, w.fdt, fdt_totalsize(w.fdt)), 0);
	virtio_pci_load(&g->vp, &r, state_node(&r, STATE_ROOT, "vtest"));
	assert_true(r.failed);
	assert_non_null(strstr(r.err, "/vtest/queue@0: vtest: queue 0 holds at most 32 entries here, 256"));
	teardown(&g_state);
	state_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_and_capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feature_negotiation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_accesses_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_and_ioeventfds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_cfg_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
