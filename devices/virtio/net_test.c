// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net: the --net sub-options, and the device driven as a driver
 * would drive it, with a SOCK_SEQPACKET socket pair standing in for the
 * tap (one frame per read and write, like a tap).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libfdt.h>

#include "../fake_host_testlib.h"
#include "driver_testlib.h"
#include "net.h"
#include "pci.h"

static void test_options_valid(void **state)
{
	struct net_options o;
	char msg[200];

	(void)state;
	assert_int_equal(net_parse_options("tap=tap0", &o, msg, sizeof(msg)), 0);
	assert_string_equal(o.tap, "tap0");
	assert_string_equal(o.bridge, "");
	assert_false(o.has_mac);
	assert_int_equal(o.queues, 0);
	assert_int_equal(o.mtu, 0);

	assert_int_equal(net_parse_options("bridge=br-lan,mac=02:aB:cd:00:01:FF,queues=8,mtu=9000",
					   &o, msg, sizeof(msg)), 0);
	assert_string_equal(o.bridge, "br-lan");
	assert_true(o.has_mac);
	assert_int_equal(o.mac[1], 0xab);
	assert_int_equal(o.mac[5], 0xff);
	assert_int_equal(o.queues, 8);
	assert_int_equal(o.mtu, 9000);
	/* 15 characters is the longest interface name. */
	assert_int_equal(net_parse_options("tap=abcdefghijklmno", &o, msg,
					   sizeof(msg)), 0);
}

static void test_options_bad(void **state)
{
	static const struct {
		const char *spec, *message;
	} cases[] = {
		{ "", "empty" },
		{ "tap0", "is not KEY=VALUE" },
		{ "mac=02:00:00:00:00:01", "no tap= or bridge= given" },
		{ "tap=a,bridge=b", "not both" },
		{ "tap=a,tap=b", "tap given twice" },
		{ "tap=", "is not an interface name" },
		{ "tap=abcdefghijklmnop", "is not an interface name" },
		{ "tap=a/b", "is not an interface name" },
		{ "tap=a b", "is not an interface name" },
		{ "bridge=..", "is not an interface name" },
		{ "tap=a,mac=02:00:00:00:00", "is not six hex bytes" },
		{ "tap=a,mac=02-00-00-00-00-01", "is not six hex bytes" },
		{ "tap=a,mac=0g:00:00:00:00:01", "is not six hex bytes" },
		{ "tap=a,mac=01:00:5e:00:00:01", "multicast" },
		{ "tap=a,mac=00:00:00:00:00:00", "all zeros" },
		{ "tap=a,queues=0", "from 1 to 8" },
		{ "tap=a,queues=9", "from 1 to 8" },
		{ "tap=a,mtu=67", "from 68 to 65535" },
		{ "tap=a,mtu=65536", "from 68 to 65535" },
		{ "tap=a,mtu=15x", "from 68 to 65535" },
		{ "tap=a,vhost=on", "unknown key 'vhost'" },
		{ "tap=a,tx=sendmmsg", "is not uring or writev" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct net_options o;
		char msg[200] = "";

		if (net_parse_options(cases[i].spec, &o, msg, sizeof(msg)) != -EINVAL ||
		    !strstr(msg, cases[i].message))
			fail_msg("'%s': got '%s', want '%s'", cases[i].spec, msg,
				 cases[i].message);
	}
}

static void test_default_mac(void **state)
{
	uint8_t a[6], b[6], c[6];

	(void)state;
	net_default_mac("web1", 0, a);
	net_default_mac("web1", 0, b);
	net_default_mac("web1", 1, c);
	assert_memory_equal(a, b, 6);		/* stable for a name */
	assert_memory_not_equal(a, c, 6);	/* differs per device */
	assert_int_equal(a[0] & 3, 2);		/* unicast, locally administered */
	net_default_mac("", 0, a);
	net_default_mac("", 0, b);
	assert_memory_not_equal(a, b, 6);	/* random without a name */
	assert_int_equal(a[0] & 3, 2);
}

/* ---- the device -------------------------------------------------------------- */

#define DRAM		(1 << 20)
#define RXQ		0
#define TXQ		1
#define BUF		0x20000

#define F_CSUM		0
#define F_MAC		5
#define F_MRG_RXBUF	15
#define F_STATUS	16

struct nfix {
	struct fake_host fh;
	int peer;			/* the test's end: "the host network" */
	int tap_fd;			/* the device's end */
	int peer2;			/* pair 1's, with queues=2 */
	struct net_dev *dev;
	struct pci_device *pd;
	struct vdrv drv;
};

/* The prestate, if any, is the --net spec (default: io_uring batches). */
static int n_setup(void **state)
{
	const char *spec = *state ? *state : "tap=test0,mtu=1500";
	struct nfix *f = calloc(1, sizeof(*f));
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 0x42 };
	struct net_options o;
	struct net_tap tap;
	char msg[200];
	int sv[2], sv2[2] = { -1, -1 }, err = 0;

	assert_int_equal(fake_host_init(&f->fh, 0, DRAM), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	/* The device's end is non-blocking, as net_open_tap makes a tap. */
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(net_parse_options(spec, &o, msg, sizeof(msg)), 0);
	memset(&tap, 0, sizeof(tap));
	for (int i = 0; i < NET_MAX_QUEUE_PAIRS; i++)
		tap.fds[i] = -1;
	strcpy(tap.ifname, "test0");
	tap.fds[0] = sv[0];
	tap.n_fds = 1;
	if (o.queues == 2) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
					    0, sv2), 0);
		assert_int_equal(fcntl(sv2[0], F_SETFL, O_NONBLOCK), 0);
		tap.fds[1] = sv2[0];
		tap.n_fds = 2;
	}
	f->peer2 = sv2[1];
	f->peer = sv[1];
	f->tap_fd = sv[0];
	f->dev = net_create(&f->fh.hs, &o, mac, &tap, msg, sizeof(msg), &err);
	if (!f->dev)
		fail_msg("net_create: %s (%d)", msg, err);
	assert_int_equal(tap.fds[0], -1);	/* handed over */
	f->pd = net_pci_device(f->dev);
	f->drv = (struct vdrv){ .fh = &f->fh, .pd = f->pd };
	*state = f;
	return 0;
}

static int n_teardown(void **state)
{
	struct nfix *f = *state;

	net_destroy(f->dev);
	if (f->peer >= 0)
		close(f->peer);
	if (f->peer2 >= 0)
		close(f->peer2);
	fake_host_free(&f->fh);
	free(f);
	return 0;
}

/* RX and TX of pair 0, EVENT_IDX and @features. */
static void bring_up(struct nfix *f, uint32_t features)
{
	vdrv_bring_up(&f->drv, features | VDRV_F_EVENT_IDX, 2);
}

/* What the device's tap watch waits for now (HOST_WATCH_*). */
static unsigned int tap_events(struct nfix *f)
{
	unsigned int i;

	for (i = 0; i < f->fh.n_watches; i++)
		if (f->fh.watches[i]->fd == f->tap_fd)
			return f->fh.watch_events[i];
	fail_msg("the tap is not watched");
	return 0;
}

/* What the peer has received, or -1 when nothing within a short wait. */
static ssize_t peer_recv(struct nfix *f, uint8_t *buf, size_t len)
{
	fake_host_poll(&f->fh, 10);
	return recv(f->peer, buf, len, MSG_DONTWAIT);
}

static void test_tx(void **state)
{
	struct nfix *f = *state;
	struct net_stats st;
	uint8_t frame[80];
	uint64_t a[3];
	uint32_t l[3];
	int i;

	bring_up(f, 1u << F_MAC | 1u << F_STATUS);
	/* Config: the MAC, link up, one pair, the MTU. */
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_DEVCFG + 5, 1), 0x42);
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_DEVCFG + 6, 2), 1);
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_DEVCFG + 8, 2), 1);
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_DEVCFG + 10, 2), 1500);

	/* A header and 60 bytes, the header split over two buffers. */
	memset(vdrv_gpa(&f->drv, BUF), 0, 12);
	vdrv_gpa(&f->drv, BUF)[10] = 0x77;		/* num_buffers: not passed on */
	for (i = 0; i < 60; i++)
		vdrv_gpa(&f->drv, BUF + 0x100)[i] = i;
	memcpy(vdrv_gpa(&f->drv, BUF + 0x100 - 7), vdrv_gpa(&f->drv, BUF + 5), 7);
	a[0] = BUF;
	l[0] = 5;
	a[1] = BUF + 0x100 - 7;
	l[1] = 67;
	vdrv_offer(&f->drv, TXQ, 2, a, l, false);
	vdrv_serve_until(&f->drv, TXQ, 1);
	assert_int_equal(vdrv_used_elem(&f->drv, TXQ, 0, NULL), 0);
	assert_int_equal(peer_recv(f, frame, sizeof(frame)), 72);
	assert_int_equal(frame[10], 0);
	for (i = 0; i < 60; i++)
		assert_int_equal(frame[12 + i], i);

	/* Dropped, each with the chain given back: 4 bytes (short)... */
	a[0] = BUF;
	l[0] = 4;
	vdrv_offer(&f->drv, TXQ, 1, a, l, false);
	vdrv_serve_until(&f->drv, TXQ, 2);
	/* ...NEEDS_CSUM without CSUM negotiated (header not as agreed)... */
	vdrv_gpa(&f->drv, BUF)[0] = 1;
	l[0] = 72;
	vdrv_offer(&f->drv, TXQ, 1, a, l, false);
	vdrv_serve_until(&f->drv, TXQ, 3);
	vdrv_gpa(&f->drv, BUF)[0] = 0;
	/* ...more than NET_MAX_FRAME after the header... */
	a[0] = BUF;
	l[0] = 12 + 40000;
	a[1] = BUF + 0x20000;
	l[1] = NET_MAX_FRAME - 40000 + 1;
	vdrv_offer(&f->drv, TXQ, 2, a, l, false);
	vdrv_serve_until(&f->drv, TXQ, 4);
	/* ...a buffer outside guest RAM, and a writable one. */
	a[0] = BUF;
	l[0] = 12;
	a[1] = DRAM + 0x1000;
	l[1] = 60;
	vdrv_offer(&f->drv, TXQ, 2, a, l, false);
	vdrv_serve_until(&f->drv, TXQ, 5);
	a[0] = BUF;
	l[0] = 72;
	vdrv_offer(&f->drv, TXQ, 1, a, l, true);
	vdrv_serve_until(&f->drv, TXQ, 6);
	assert_int_equal(peer_recv(f, frame, sizeof(frame)), -1);

	net_get_stats(f->dev, &st);
	assert_int_equal(st.tx_frames, 1);
	assert_int_equal(st.tx_bytes, 60);
	assert_int_equal(st.tx_short, 1);
	assert_int_equal(st.tx_bad_header, 1);
	assert_int_equal(st.tx_oversize, 1);
	assert_int_equal(st.tx_bad_buffer, 2);

	/* The largest frame goes through. */
	l[0] = 12 + 40000;
	l[1] = NET_MAX_FRAME - 40000;
	a[1] = BUF + 0x20000;
	vdrv_offer(&f->drv, TXQ, 2, a, l, false);
	vdrv_serve_until(&f->drv, TXQ, 7);
	{
		static uint8_t big[NET_HDR_SIZE + NET_MAX_FRAME + 1];

		assert_int_equal(peer_recv(f, big, sizeof(big)),
				 NET_HDR_SIZE + NET_MAX_FRAME);
	}
}

/* Send a frame of 12 + @len bytes (payload byte i = i + @seed) to the guest. */
static void peer_send(struct nfix *f, uint32_t len, uint8_t seed)
{
	static uint8_t frame[NET_HDR_SIZE + NET_MAX_FRAME];
	uint32_t i;

	memset(frame, 0, NET_HDR_SIZE);
	frame[10] = 0x55;		/* garbage where num_buffers goes */
	for (i = 0; i < len; i++)
		frame[NET_HDR_SIZE + i] = i + seed;
	assert_int_equal(send(f->peer, frame, NET_HDR_SIZE + len, 0),
			 NET_HDR_SIZE + len);
}

static void check_payload(const uint8_t *p, uint32_t len, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (uint8_t)(i + seed))
			fail_msg("payload byte %u: %u, want %u", i, p[i],
				 (uint8_t)(i + seed));
}

static void test_rx(void **state)
{
	struct nfix *f = *state;
	struct net_stats st;
	uint64_t a[2];
	uint32_t l[2];
	uint16_t head;

	bring_up(f, 1u << F_MAC);
	/* A frame arrives before any buffer: the tap waits, nothing lost. */
	peer_send(f, 100, 1);
	fake_host_poll(&f->fh, 10);
	fake_host_poll(&f->fh, 10);
	assert_int_equal(vdrv_used_idx(&f->drv, RXQ), 0);
	assert_int_equal(tap_events(f), 0);	/* paused until a kick */
	a[0] = BUF;
	l[0] = 2048;
	head = vdrv_offer(&f->drv, RXQ, 1, a, l, true);
	vdrv_serve_until(&f->drv, RXQ, 1);
	assert_int_equal(tap_events(f), 0);	/* that was the only buffer */
	assert_int_equal(vdrv_used_elem(&f->drv, RXQ, 0, NULL), 112);
	assert_int_equal(vdrv_gpa(&f->drv, BUF)[10], 1);		/* num_buffers */
	check_payload(vdrv_gpa(&f->drv, BUF + 12), 100, 1);

	/* Without MRG_RXBUF a frame larger than the chain is dropped... */
	a[0] = BUF;
	l[0] = 64;
	head = vdrv_offer(&f->drv, RXQ, 1, a, l, true);
	fake_host_poll(&f->fh, 10);
	assert_int_equal(tap_events(f), HOST_WATCH_IN);	/* a buffer again */
	peer_send(f, 200, 2);
	fake_host_poll(&f->fh, 10);
	assert_int_equal(vdrv_used_idx(&f->drv, RXQ), 1);
	/* ...and the chain kept for the next one that fits. */
	peer_send(f, 40, 3);
	vdrv_serve_until(&f->drv, RXQ, 2);
	assert_int_equal(vdrv_used_elem(&f->drv, RXQ, 1, &head), 52);
	check_payload(vdrv_gpa(&f->drv, BUF + 12), 40, 3);

	/* A chain with a readable buffer, or smaller than the header, is
	 * given back unused; no frame is taken for it. */
	a[0] = BUF;
	l[0] = 8;
	a[1] = BUF + 0x100;
	l[1] = 64;
	vdrv_offer(&f->drv, RXQ, 2, a, l, false);
	vdrv_serve_until(&f->drv, RXQ, 3);
	assert_int_equal(vdrv_used_elem(&f->drv, RXQ, 2, NULL), 0);
	l[0] = 11;
	vdrv_offer(&f->drv, RXQ, 1, a, l, true);
	vdrv_serve_until(&f->drv, RXQ, 4);
	assert_int_equal(vdrv_used_elem(&f->drv, RXQ, 3, NULL), 0);
	peer_send(f, 30, 4);
	l[0] = 1514;
	vdrv_offer(&f->drv, RXQ, 1, a, l, true);
	vdrv_serve_until(&f->drv, RXQ, 5);
	assert_int_equal(vdrv_used_elem(&f->drv, RXQ, 4, NULL), 42);

	net_get_stats(f->dev, &st);
	assert_int_equal(st.rx_frames, 3);
	assert_int_equal(st.rx_bytes, 170);
	assert_int_equal(st.rx_no_fit, 1);
	assert_int_equal(st.rx_bad_buffer, 2);
}

static void test_rx_mergeable(void **state)
{
	struct nfix *f = *state;
	uint64_t a[1];
	uint32_t l[1], len;
	uint8_t out[256];
	unsigned int i, off = 0;

	bring_up(f, 1u << F_MRG_RXBUF);
	/* Four 64-byte buffers for a 212-byte frame: num_buffers 4. */
	for (i = 0; i < 3; i++) {
		a[0] = BUF + 0x100 * i;
		l[0] = 64;
		vdrv_offer(&f->drv, RXQ, 1, a, l, true);
	}
	peer_send(f, 200, 9);
	fake_host_poll(&f->fh, 10);
	assert_int_equal(vdrv_used_idx(&f->drv, RXQ), 0);	/* waits for enough room */
	a[0] = BUF + 0x300;
	vdrv_offer(&f->drv, RXQ, 1, a, l, true);
	vdrv_serve_until(&f->drv, RXQ, 4);
	for (i = 0; i < 4; i++) {
		len = vdrv_used_elem(&f->drv, RXQ, i, NULL);
		assert_int_equal(len, i < 3 ? 64 : 20);
		memcpy(out + off, vdrv_gpa(&f->drv, BUF + 0x100 * i), len);
		off += len;
	}
	assert_int_equal(off, 212);
	assert_int_equal(out[10], 4);			/* num_buffers */
	check_payload(out + 12, 200, 9);
}

/*
 * Buffers that can hold any frame: the frame is read straight into them
 * (no copy), with the same outcomes as through wisp's buffer.
 */
static void test_rx_direct(void **state)
{
	struct nfix *f = *state;
	struct net_stats st;
	uint64_t a[1];
	uint32_t l[1], len;
	uint8_t out[3100];
	unsigned int i, off = 0;

	/* MRG_RXBUF: 16 chains of 8 KiB hold any frame. */
	bring_up(f, 1u << F_MRG_RXBUF);
	for (i = 0; i < VDRV_QSIZE; i++) {
		a[0] = BUF + 0x2000 * i;
		l[0] = 0x2000;
		vdrv_offer(&f->drv, RXQ, 1, a, l, true);
	}
	peer_send(f, 9000, 7);
	vdrv_serve_until(&f->drv, RXQ, 2);
	for (i = 0; i < 2; i++) {
		len = vdrv_used_elem(&f->drv, RXQ, i, NULL);
		assert_int_equal(len, i ? 9012 - 0x2000 : 0x2000);
	}
	assert_int_equal(vdrv_gpa(&f->drv, BUF)[10], 2);		/* num_buffers */
	check_payload(vdrv_gpa(&f->drv, BUF + 12), 0x2000 - 12, 7);
	check_payload(vdrv_gpa(&f->drv, BUF + 0x2000), 9012 - 0x2000,
		      (uint8_t)(7 + 0x2000 - 12));
	/* A header the driver did not negotiate: dropped, chains kept. */
	{
		static uint8_t frame[NET_HDR_SIZE + 100];

		memset(frame, 0, sizeof(frame));
		frame[0] = 1;				/* NEEDS_CSUM */
		assert_int_equal(send(f->peer, frame, sizeof(frame), 0),
				 (ssize_t)sizeof(frame));
	}
	peer_send(f, 3000, 3);
	vdrv_serve_until(&f->drv, RXQ, 3);
	len = vdrv_used_elem(&f->drv, RXQ, 2, NULL);
	assert_int_equal(len, 3012);
	memcpy(out + off, vdrv_gpa(&f->drv, BUF + 0x4000), len);
	assert_int_equal(out[10], 1);
	check_payload(out + 12, 3000, 3);
	net_get_stats(f->dev, &st);
	assert_int_equal(st.rx_frames, 2);
	assert_int_equal(st.rx_bytes, 12000);
	assert_int_equal(st.rx_no_fit, 1);
}

/*
 * A driver with an RX buffer offered, then the tap goes away: the device
 * sees the link down.
 */
static void lose_tap(struct nfix *f)
{
	uint64_t a[1] = { BUF };
	uint32_t l[1] = { 2048 };
	int i;

	bring_up(f, 1u << F_STATUS);
	vdrv_offer(&f->drv, RXQ, 1, a, l, true);
	fake_host_poll(&f->fh, 10);
	close(f->peer);
	f->peer = -1;
	for (i = 0; i < 10 && net_link_up(f->dev); i++)
		fake_host_poll(&f->fh, 10);
	assert_false(net_link_up(f->dev));
}

static void test_link_down_and_reset(void **state)
{
	struct nfix *f = *state;
	struct net_stats st;
	uint64_t a[1] = { BUF };
	uint32_t l[1] = { 2048 };
	int i;

	/* The tap goes away: link down, a configuration interrupt. */
	lose_tap(f);
	assert_int_equal(tap_events(f), 0);	/* no busy loop on a dead fd */
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_DEVCFG + 6, 2), 0);
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_ISR, 1) & 2, 2);
	/* TX still completes (frames dropped), so the driver never stalls. */
	l[0] = 72;
	a[0] = BUF + 0x1000;
	memset(vdrv_gpa(&f->drv, BUF + 0x1000), 0, 12);
	vdrv_offer(&f->drv, TXQ, 1, a, l, false);
	vdrv_serve_until(&f->drv, TXQ, 1);
	net_get_stats(f->dev, &st);
	assert_int_equal(st.tx_errors, 1);

	/* A reset finishes on the I/O thread and the device comes back. */
	vdrv_bar_wr(&f->drv, 0x14, 1, 0);
	for (i = 0; i < 50 && vdrv_bar_rd(&f->drv, 0x14, 1); i++)
		fake_host_poll(&f->fh, 10);
	assert_int_equal(vdrv_bar_rd(&f->drv, 0x14, 1), 0);
	bring_up(f, 1u << F_STATUS);
	assert_int_equal(vdrv_bar_rd(&f->drv, 0x14, 1), 0x0f);
}

/*
 * The announcement after a restore or a migration: one RARP request from
 * the device's MAC onto the tap, whatever the driver did (none here: the
 * guest has no part in it), and -ENETDOWN once the tap is gone.
 */
static void test_announce(void **state)
{
	static const uint8_t want[NET_ANNOUNCE_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* to everyone */
		2, 0, 0, 0, 0, 0x42,			/* from the MAC */
		0x80, 0x35,				/* RARP */
		0, 1, 0x08, 0x00, 6, 4, 0, 3,		/* Ethernet, IPv4, request */
		2, 0, 0, 0, 0, 0x42, 0, 0, 0, 0,	/* sender */
		2, 0, 0, 0, 0, 0x42, 0, 0, 0, 0,	/* target */
	};
	static const uint8_t zero_hdr[NET_HDR_SIZE];
	struct nfix *f = *state;
	uint8_t frame[NET_HDR_SIZE + NET_ANNOUNCE_LEN + 16];

	assert_int_equal(net_announce(f->dev), 0);
	assert_int_equal(recv(f->peer, frame, sizeof(frame), MSG_DONTWAIT),
			 NET_HDR_SIZE + NET_ANNOUNCE_LEN);
	assert_memory_equal(frame, zero_hdr, NET_HDR_SIZE);
	assert_memory_equal(frame + NET_HDR_SIZE, want, sizeof(want));
	/* Sent once per call: nothing more is waiting. */
	assert_int_equal(recv(f->peer, frame, sizeof(frame), MSG_DONTWAIT), -1);

	/* The link seen down (a driver at work): nothing is written. */
	lose_tap(f);
	assert_int_equal(net_announce(f->dev), -ENETDOWN);
}

/* Queue pairs: the control queue enables them (VIRTIO_NET_CTRL_MQ). */
static void test_multiqueue(void **state)
{
	struct nfix *f = *state;
	struct net_stats st;
	uint8_t frame[80];
	uint64_t a[2];
	uint32_t l[2];
	unsigned int i;

	/* Two pairs and a control queue: 5 queues, CTRL_VQ and MQ offered. */
	assert_int_equal(vdrv_bar_rd(&f->drv, 0x12, 2), 5);
	vdrv_bar_wr(&f->drv, 0x00, 4, 0);
	assert_int_equal(vdrv_bar_rd(&f->drv, 0x04, 4) >> 17 & 1, 1);
	assert_int_equal(vdrv_bar_rd(&f->drv, 0x04, 4) >> 22 & 1, 1);
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_DEVCFG + 8, 2), 2);
	vdrv_bring_up(&f->drv, 1u << 17 | 1u << 22 | VDRV_F_EVENT_IDX, 5);

	/* Before VQ_PAIRS_SET only pair 0 is in use: pair 1's TX is dropped. */
	memset(vdrv_gpa(&f->drv, BUF), 0, 72);
	a[0] = BUF;
	l[0] = 72;
	vdrv_offer(&f->drv, 3, 1, a, l, false);
	vdrv_serve_until(&f->drv, 3, 1);
	assert_int_equal(recv(f->peer2, frame, sizeof(frame), MSG_DONTWAIT), -1);
	net_get_stats(f->dev, &st);
	assert_int_equal(st.tx_errors, 1);

	/* Commands: class, command, data in one buffer, the ack in another. */
	static const struct {
		uint8_t cmd[4];
		uint32_t len;
		uint8_t ack;
	} cmds[] = {
		{ { 4, 0, 3, 0 }, 4, 1 },	/* 3 pairs: more than there are */
		{ { 4, 0, 0, 0 }, 4, 1 },	/* 0 pairs */
		{ { 0, 0, 1, 0 }, 3, 1 },	/* RX mode: not offered */
		{ { 4, 0, 2, 0 }, 4, 0 },	/* 2 pairs: OK */
	};
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		memcpy(vdrv_gpa(&f->drv, BUF + 0x100), cmds[i].cmd, 4);
		vdrv_gpa(&f->drv, BUF + 0x200)[0] = 0xee;
		a[0] = BUF + 0x100;
		l[0] = cmds[i].len;
		a[1] = BUF + 0x200;
		l[1] = 1;
		{
			/* readable command, then the writable ack */
			uint16_t head = f->drv.next_desc[4], idx;

			vdrv_set_desc(&f->drv, 4, head, a[0], l[0], 1, (head + 1) % VDRV_QSIZE);
			vdrv_set_desc(&f->drv, 4, (head + 1) % VDRV_QSIZE, a[1], 1, 2, 0);
			f->drv.next_desc[4] = (head + 2) % VDRV_QSIZE;
			memcpy(vdrv_gpa(&f->drv, VDRV_RING(4) + 0x1000 + 4 + 2 * (f->drv.avail[4] % VDRV_QSIZE)),
			       &head, 2);
			idx = ++f->drv.avail[4];
			memcpy(vdrv_gpa(&f->drv, VDRV_RING(4) + 0x1000 + 2), &idx, 2);
			vdrv_bar_wr(&f->drv, VIRTIO_PCI_NOTIFY + 4 * 4, 2, 4);
		}
		vdrv_serve_until(&f->drv, 4, i + 1);
		assert_int_equal(vdrv_used_elem(&f->drv, 4, i, NULL), 1);
		if (vdrv_gpa(&f->drv, BUF + 0x200)[0] != cmds[i].ack)
			fail_msg("command %u: ack %u, want %u", i,
				 vdrv_gpa(&f->drv, BUF + 0x200)[0], cmds[i].ack);
	}
	/* Now pair 1 carries frames both ways. */
	a[0] = BUF;
	l[0] = 72;
	vdrv_offer(&f->drv, 3, 1, a, l, false);
	vdrv_serve_until(&f->drv, 3, 2);
	assert_int_equal(recv(f->peer2, frame, sizeof(frame), MSG_DONTWAIT), 72);
	a[0] = BUF + 0x1000;
	l[0] = 2048;
	vdrv_offer(&f->drv, 2, 1, a, l, true);
	assert_int_equal(send(f->peer2, frame, 72, 0), 72);
	vdrv_serve_until(&f->drv, 2, 1);
	assert_int_equal(vdrv_used_elem(&f->drv, 2, 0, NULL), 72);
}

static void test_ring_corruption(void **state)
{
	struct nfix *f = *state;
	uint16_t bad = 99, idx;

	bring_up(f, 0);
	memcpy(vdrv_gpa(&f->drv, VDRV_RING(TXQ) + 0x1000 + 4), &bad, 2);
	idx = ++f->drv.avail[TXQ];
	memcpy(vdrv_gpa(&f->drv, VDRV_RING(TXQ) + 0x1000 + 2), &idx, 2);
	vdrv_bar_wr(&f->drv, VIRTIO_PCI_NOTIFY + 4, 2, 1);
	fake_host_poll(&f->fh, 10);
	assert_true(vdrv_bar_rd(&f->drv, 0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
	/* RX keeps working meanwhile (only the broken queue is ignored). */
	{
		uint64_t a[1] = { BUF };
		uint32_t l[1] = { 2048 };

		vdrv_offer(&f->drv, RXQ, 1, a, l, true);
		peer_send(f, 60, 5);
		vdrv_serve_until(&f->drv, RXQ, 1);
		check_payload(vdrv_gpa(&f->drv, BUF + 12), 60, 5);
	}
}

/* Send a broadcast frame out of host interface @ifname (into its tap). */
static void host_send(const char *ifname)
{
	struct sockaddr_ll a = {
		.sll_family = AF_PACKET,
		.sll_ifindex = (int)if_nametoindex(ifname),
		.sll_halen = 6,
		.sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	uint8_t frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			      2, 0, 0, 0, 0, 0x99, 0x88, 0xb5 };
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	assert_true(a.sll_ifindex > 0);
	assert_int_equal(sendto(s, frame, sizeof(frame), 0,
				(struct sockaddr *)&a, sizeof(a)),
			 sizeof(frame));
	close(s);
}

/*
 * A real tap, in a network namespace of the test's own, deleted while the
 * device's watch on it is paused (no RX buffers, so nothing reads it):
 * the device hears of it from rtnetlink and takes the link down.  Another
 * tap going away first changes nothing.
 */
static void test_tap_deleted(void **state)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 0x43 };
	struct nfix *f = calloc(1, sizeof(*f));
	struct net_options o;
	struct net_tap tap;
	struct ifreq ifr;
	char msg[200], warn[200];
	int i, other, err = 0;

	assert_non_null(f);
	f->peer = f->peer2 = -1;
	*state = f;
	assert_int_equal(fake_host_init(&f->fh, 0, DRAM), 0);
	if (geteuid() || unshare(CLONE_NEWNET) ||
	    access("/dev/net/tun", R_OK | W_OK)) {
		print_message("a real tap needs root, a network namespace and /dev/net/tun: skipped\n");
		skip();
	}
	assert_int_equal(net_parse_options("tap=wisptest0", &o, msg,
					   sizeof(msg)), 0);
	if (net_open_tap(&o, &tap, msg, sizeof(msg), warn, sizeof(warn)))
		fail_msg("%s", msg);
	f->tap_fd = tap.fds[0];
	f->dev = net_create(&f->fh.hs, &o, mac, &tap, msg, sizeof(msg), &err);
	if (!f->dev)
		fail_msg("net_create: %s (%d)", msg, err);
	f->pd = net_pci_device(f->dev);
	f->drv = (struct vdrv){ .fh = &f->fh, .pd = f->pd };
	bring_up(f, 1u << F_STATUS);

	/* A frame and no buffers: the watch pauses. */
	host_send("wisptest0");
	for (i = 0; i < 100 && tap_events(f); i++)
		fake_host_poll(&f->fh, 10);
	assert_int_equal(tap_events(f), 0);

	/* An unrelated tap (not persistent) comes and goes. */
	other = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	assert_true(other >= 0);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strcpy(ifr.ifr_name, "wisptest1");
	assert_int_equal(ioctl(other, TUNSETIFF, &ifr), 0);
	close(other);
	for (i = 0; i < 10; i++)
		fake_host_poll(&f->fh, 10);
	assert_true(net_link_up(f->dev));

	assert_int_equal(system("ip link delete dev wisptest0"), 0);
	for (i = 0; i < 100 && net_link_up(f->dev); i++)
		fake_host_poll(&f->fh, 10);
	assert_false(net_link_up(f->dev));
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_DEVCFG + 6, 2), 0);
	assert_int_equal(vdrv_bar_rd(&f->drv, VIRTIO_PCI_ISR, 1) & 2, 2);
}

/*
 * An RX chain held waiting for a frame and a frame sent; quiesce (the
 * chain is un-popped), save, restore into a fresh device on a fresh
 * "tap": the chain takes the next frame and TX goes on.  A different MAC
 * fails the load.
 */
static void test_snapshot(void **state)
{
	struct nfix *f = *state, *g;
	struct state_writer w;
	struct state_reader r;
	struct net_stats st;
	uint8_t frame[200];
	uint64_t a[1];
	uint32_t l[1];
	void *gs = NULL;
	uint16_t avail[VDRV_MAX_QUEUES], next[VDRV_MAX_QUEUES], head;
	const struct virtq *vq;

	bring_up(f, 1u << F_MAC | 1u << F_STATUS);
	a[0] = BUF;
	l[0] = 64;		/* too small for the frame below: held */
	vdrv_offer(&f->drv, RXQ, 1, a, l, true);
	peer_send(f, 200, 2);
	fake_host_poll(&f->fh, 10);
	fake_host_poll(&f->fh, 10);
	assert_int_equal(vdrv_used_idx(&f->drv, RXQ), 0);
	memset(vdrv_gpa(&f->drv, BUF + 0x1000), 0, 12);
	memset(vdrv_gpa(&f->drv, BUF + 0x1000 + 12), 0xab, 50);
	a[0] = BUF + 0x1000;
	l[0] = 62;
	vdrv_offer(&f->drv, TXQ, 1, a, l, false);
	vdrv_serve_until(&f->drv, TXQ, 1);
	assert_int_equal(recv(f->peer, frame, sizeof(frame), MSG_DONTWAIT), 62);

	assert_int_equal(net_quiesce(f->dev), 0);
	vq = ((struct virtio_pci *)f->pd)->ops->queue_virtq((struct virtio_pci *)f->pd, RXQ);
	assert_int_equal(vq->last_avail, 0);	/* un-popped */
	assert_int_equal(vq->in_flight[0], 0);
	assert_int_equal(state_writer_init(&w), 0);
	state_begin(&w, "virtio-net@0");
	net_save(f->dev, &w);
	state_end(&w);
	assert_int_equal(state_writer_finish(&w), 0);
	memcpy(avail, f->drv.avail, sizeof(avail));
	memcpy(next, f->drv.next_desc, sizeof(next));

	n_setup(&gs);
	g = gs;
	memcpy(g->fh.ram, f->fh.ram, DRAM);
	memcpy(g->drv.avail, avail, sizeof(avail));
	memcpy(g->drv.next_desc, next, sizeof(next));
	assert_int_equal(state_reader_init(&r, w.fdt, fdt_totalsize(w.fdt)), 0);
	net_load(g->dev, &r, state_node(&r, STATE_ROOT, "virtio-net@0"));
	if (r.failed)
		fail_msg("load: %s", r.err);
	assert_int_equal(vdrv_bar_rd(&g->drv, 0x14, 1), 0x0f);
	/* The held chain takes a frame that fits; TX continues. */
	peer_send(g, 40, 3);
	vdrv_serve_until(&g->drv, RXQ, 1);
	assert_int_equal(vdrv_used_elem(&g->drv, RXQ, 0, &head), 52);
	assert_int_equal(head, 0);
	check_payload(vdrv_gpa(&g->drv, BUF + 12), 40, 3);
	a[0] = BUF + 0x1000;
	l[0] = 62;
	vdrv_offer(&g->drv, TXQ, 1, a, l, false);
	vdrv_serve_until(&g->drv, TXQ, 2);
	assert_int_equal(recv(g->peer, frame, sizeof(frame), MSG_DONTWAIT), 62);
	net_get_stats(g->dev, &st);
	assert_int_equal(st.tx_frames, 1);
	n_teardown(&gs);

	/* Another MAC: refused with both named. */
	gs = NULL;
	n_setup(&gs);
	g = gs;
	{
		size_t len = fdt_totalsize(w.fdt);
		void *t = malloc(len);
		int off;
		static const uint8_t other[6] = { 2, 0, 0, 0, 0, 0x43 };

		memcpy(t, w.fdt, len);
		off = fdt_path_offset(t, "/virtio-net@0");
		assert_int_equal(fdt_setprop_inplace(t, off, "mac", other, 6), 0);
		assert_int_equal(state_reader_init(&r, t, len), 0);
		net_load(g->dev, &r, state_node(&r, STATE_ROOT, "virtio-net@0"));
		assert_true(r.failed);
		assert_non_null(strstr(r.err, "/virtio-net@0: the MAC is 02:00:00:00:00:42 here, 02:00:00:00:00:43 in the snapshot"));
		free(t);
	}
	n_teardown(&gs);
	state_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_valid),
		cmocka_unit_test(test_options_bad),
		cmocka_unit_test(test_default_mac),
		cmocka_unit_test_setup_teardown(test_tx, n_setup, n_teardown),
		cmocka_unit_test_prestate_setup_teardown(test_tx, n_setup, n_teardown,
							 "tap=test0,mtu=1500,tx=writev"),
		cmocka_unit_test_setup_teardown(test_rx, n_setup, n_teardown),
		cmocka_unit_test_setup_teardown(test_rx_mergeable, n_setup,
						n_teardown),
		cmocka_unit_test_setup_teardown(test_rx_direct, n_setup,
						n_teardown),
		cmocka_unit_test_setup_teardown(test_link_down_and_reset, n_setup,
						n_teardown),
		cmocka_unit_test_prestate_setup_teardown(test_link_down_and_reset,
							 n_setup, n_teardown,
							 "tap=test0,mtu=1500,tx=writev"),
		cmocka_unit_test_setup_teardown(test_ring_corruption, n_setup,
						n_teardown),
		cmocka_unit_test_setup_teardown(test_announce, n_setup,
						n_teardown),
		cmocka_unit_test_prestate_setup_teardown(test_multiqueue, n_setup,
							 n_teardown,
							 "tap=test0,queues=2"),
		cmocka_unit_test_teardown(test_tap_deleted, n_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, n_setup, n_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
