// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <liburing.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../options.h"
#include "net.h"
#include "pci.h"
#include "virtq.h"

/* ---- --net ------------------------------------------------------------------ */

enum { NET_TAP, NET_BRIDGE, NET_MAC, NET_QUEUES, NET_MTU, NET_TX };

static const char *const net_keys[] = {
	"tap", "bridge", "mac", "queues", "mtu", "tx", NULL,
};

#define NET_KEYS "tap, bridge, mac, queues, mtu, tx"

/* An interface name the kernel would take (dev_valid_name). */
static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s <= ' ' || *s > '~')
			return false;
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "02:00:5e:00:00:01" into @mac: six two-digit hex bytes. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	int i, hi, lo;

	if (strlen(s) != 17)
		return false;
	for (i = 0; i < 6; i++) {
		hi = hex_digit(s[3 * i]);
		lo = hex_digit(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = hi << 4 | lo;
	}
	return true;
}

int net_parse_options(const char *spec, struct net_options *o, char *msg,
		      size_t msg_len)
{
	char value[64], key[OPT_KEY_MAX];
	const char *p = spec;
	unsigned int seen = 0;
	unsigned long n;
	int ret, which;

	memset(o, 0, sizeof(*o));
	if (!*spec)
		return opt_bad(msg, msg_len, "empty: give tap=NAME or bridge=BR");
	while ((ret = opt_next(&p, key, value, sizeof(value), NET_KEYS, msg,
			       msg_len)) > 0) {
		switch ((which = opt_key(key, net_keys, &seen, NET_KEYS, msg,
					 msg_len))) {
		case NET_TAP:
		case NET_BRIDGE:
			if (!valid_ifname(value))
				return opt_bad(msg, msg_len, "%s='%s' is not an interface name (1 to %d characters, no '/', ':' or spaces)",
					       key, value, IFNAMSIZ - 1);
			strcpy(which == NET_TAP ? o->tap : o->bridge, value);
			break;
		case NET_MAC:
			if (!parse_mac(value, o->mac))
				return opt_bad(msg, msg_len, "mac='%s' is not six hex bytes like 02:00:00:00:00:01",
					       value);
			if (o->mac[0] & 1)
				return opt_bad(msg, msg_len, "mac='%s' is a multicast address",
					       value);
			if (!(o->mac[0] | o->mac[1] | o->mac[2] | o->mac[3] |
			      o->mac[4] | o->mac[5]))
				return opt_bad(msg, msg_len, "mac='%s' is all zeros", value);
			o->has_mac = true;
			break;
		case NET_QUEUES:
			if (opt_uint(key, value, 1, NET_MAX_QUEUE_PAIRS, &n, msg,
				     msg_len))
				return -EINVAL;
			o->queues = n;
			break;
		case NET_MTU:
			if (opt_uint(key, value, NET_MTU_MIN, NET_MTU_MAX, &n, msg,
				     msg_len))
				return -EINVAL;
			o->mtu = n;
			break;
		case NET_TX:
			if (strcmp(value, "uring") && strcmp(value, "writev"))
				return opt_bad(msg, msg_len, "tx='%s' is not uring or writev",
					       value);
			o->tx_writev = !strcmp(value, "writev");
			break;
		default:
			return -EINVAL;	/* opt_key's message */
		}
	}
	if (ret < 0)
		return ret;
	if ((seen & 1u << NET_TAP) && (seen & 1u << NET_BRIDGE))
		return opt_bad(msg, msg_len, "give tap= or bridge=, not both");
	if (!(seen & (1u << NET_TAP | 1u << NET_BRIDGE)))
		return opt_bad(msg, msg_len, "no tap= or bridge= given");
	return 0;
}

void net_default_mac(const char *name, unsigned int index, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	char key[96];
	size_t i, n;

	if (name && *name) {
		n = (size_t)snprintf(key, sizeof(key), "wisp:%s:%u", name, index);
		for (i = 0; i < n && i < sizeof(key); i++) {
			h ^= (uint8_t)key[i];
			h *= 0x100000001b3ULL;
		}
		for (i = 0; i < 6; i++)
			mac[i] = h >> (8 * i);
	} else if (getrandom(mac, 6, 0) != 6) {
		h ^= (uint64_t)getpid() << 16 ^ (uintptr_t)mac;
		for (i = 0; i < 6; i++)
			mac[i] = h >> (8 * i);
	}
	mac[0] = (mac[0] & 0xfc) | 0x02;	/* unicast, locally administered */
}

/* ---- the tap ------------------------------------------------------------------ */

static int tun_attach(const char *name, short flags, char actual[IFNAMSIZ])
{
	struct ifreq ifr;
	int fd, e;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENXIO : -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		e = -errno;
		close(fd);
		return e;
	}
	memcpy(actual, ifr.ifr_name, IFNAMSIZ);
	actual[IFNAMSIZ - 1] = 0;
	return fd;
}

/* A socket for interface ioctls and @ifr named @ifname.  fd or -errno. */
static int ifreq_socket(const char *ifname, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", ifname);
	return s < 0 ? -errno : s;
}

/* Give @ifname @mtu (when non-zero), bring it up if @up.  0 or -errno. */
static int link_set(const char *ifname, unsigned int mtu, bool up)
{
	struct ifreq ifr;
	int s, ret = 0;

	s = ifreq_socket(ifname, &ifr);
	if (s < 0)
		return s;
	if (mtu) {
		ifr.ifr_mtu = mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr))
			ret = -errno;
	}
	if (!ret && up && ioctl(s, SIOCGIFFLAGS, &ifr))
		ret = -errno;
	if (!ret && up && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			ret = -errno;
	}
	close(s);
	return ret;
}

static int bridge_add(const char *bridge, const char *ifname)
{
	struct ifreq ifr;
	int s, ret = 0;

	s = ifreq_socket(bridge, &ifr);
	if (s < 0)
		return s;
	ifr.ifr_ifindex = if_nametoindex(ifname);
	if (!ifr.ifr_ifindex || ioctl(s, SIOCBRADDIF, &ifr))
		ret = -errno;
	close(s);
	return ret;
}

int net_open_tap(const struct net_options *o, struct net_tap *t, char *msg,
		 size_t msg_len, char *warn, size_t warn_len)
{
	const char *name = o->bridge[0] ? "wisptap%d" : o->tap;
	unsigned int pairs = o->queues ? o->queues : 1, i;
	bool existed = !o->bridge[0] && if_nametoindex(o->tap);
	short flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	int hdr = NET_HDR_SIZE, sndbuf = INT_MAX, fd, ret;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < NET_MAX_QUEUE_PAIRS; i++)
		t->fds[i] = -1;
	if (warn_len)
		warn[0] = 0;
	if (o->bridge[0] && !if_nametoindex(o->bridge)) {
		snprintf(msg, msg_len, "no bridge '%s' on this host", o->bridge);
		return -ENODEV;
	}
	fd = tun_attach(name, flags | (pairs > 1 ? IFF_MULTI_QUEUE : 0),
			t->ifname);
	if (fd == -EINVAL && pairs > 1 && existed) {
		fd = tun_attach(name, flags, t->ifname);
		if (fd >= 0) {
			snprintf(warn, warn_len, "tap '%s' was made without multi_queue: using one queue pair, not %u",
				 o->tap, pairs);
			pairs = 1;
		}
	}
	if (fd < 0) {
		ret = fd;
		if ((ret == -EPERM || ret == -EACCES) && o->bridge[0])
			snprintf(msg, msg_len, "cannot create a tap for bridge '%s': not permitted (needs CAP_NET_ADMIN)",
				 o->bridge);
		else if (ret == -EPERM || ret == -EACCES)
			snprintf(msg, msg_len, existed ?
				 "tap '%s': not permitted (it belongs to another user or group)" :
				 "cannot create tap '%s': not permitted (needs CAP_NET_ADMIN; or create it beforehand with 'ip tuntap add %s mode tap user USER')",
				 name, name);
		else if (ret == -ENXIO)
			snprintf(msg, msg_len, "no /dev/net/tun (is the tun module loaded?)");
		else if (ret == -EBUSY)
			snprintf(msg, msg_len, "tap '%s' is in use by another process",
				 name);
		else if (ret == -EINVAL)
			snprintf(msg, msg_len, "'%s' is not a tap interface (or not one wisp can use)",
				 name);
		else
			snprintf(msg, msg_len, "tap '%s': %s", name, strerror(-ret));
		return ret;
	}
	t->fds[0] = fd;
	t->n_fds = 1;
	for (i = 1; i < pairs; i++) {
		fd = tun_attach(t->ifname, flags | IFF_MULTI_QUEUE, t->ifname);
		if (fd < 0) {
			ret = fd;
			snprintf(msg, msg_len, "tap '%s': queue %u: %s", t->ifname,
				 i, strerror(-ret));
			goto fail;
		}
		t->fds[t->n_fds++] = fd;
	}
	/*
	 * An unlimited send buffer: a tap write then never waits for room
	 * (the tap's queue drops instead), which the TX batches rely on.
	 */
	for (i = 0; i < t->n_fds; i++) {
		if (ioctl(t->fds[i], TUNSETVNETHDRSZ, &hdr) ||
		    ioctl(t->fds[i], TUNSETSNDBUF, &sndbuf) ||
		    ioctl(t->fds[i], TUNSETOFFLOAD, 0UL)) {
			ret = -errno;
			snprintf(msg, msg_len, "tap '%s': virtio header: %s",
				 t->ifname, strerror(-ret));
			goto fail;
		}
	}
	if (o->bridge[0]) {
		ret = bridge_add(o->bridge, t->ifname);
		if (ret == -EOPNOTSUPP || ret == -EINVAL)
			ret = -ENODEV;		/* no such bridge, as far as we care */
		if (ret) {
			snprintf(msg, msg_len, "cannot add tap '%s' to bridge '%s': %s",
				 t->ifname, o->bridge,
				 ret == -ENODEV ? "not a bridge" : strerror(-ret));
			goto fail;
		}
	}
	if (!existed) {
		ret = link_set(t->ifname, o->mtu, true);
		if (ret) {
			snprintf(msg, msg_len, "cannot bring tap '%s' up%s: %s",
				 t->ifname, o->mtu ? " with that MTU" : "",
				 strerror(-ret));
			goto fail;
		}
	} else if (o->mtu && link_set(t->ifname, o->mtu, false) && warn_len &&
		   !warn[0]) {
		snprintf(warn, warn_len, "tap '%s': cannot set its MTU to %u (the guest is told %u)",
			 t->ifname, o->mtu, o->mtu);
	}
	return 0;
fail:
	net_close_tap(t);
	return ret;
}

void net_close_tap(struct net_tap *t)
{
	unsigned int i;

	for (i = 0; i < NET_MAX_QUEUE_PAIRS; i++) {
		if (t->fds[i] >= 0)
			close(t->fds[i]);
		t->fds[i] = -1;
	}
	t->n_fds = 0;
}

/* ---- the device ---------------------------------------------------------------- */

#define F_CSUM		0
#define F_GUEST_CSUM	1
#define F_MTU		3
#define F_MAC		5
#define F_GUEST_TSO4	7
#define F_GUEST_TSO6	8
#define F_GUEST_ECN	9
#define F_HOST_TSO4	11
#define F_HOST_TSO6	12
#define F_HOST_ECN	13
#define F_MRG_RXBUF	15
#define F_STATUS	16
#define F_CTRL_VQ	17
#define F_MQ		22

#define HDR_F_NEEDS_CSUM	1
#define GSO_NONE		0
#define GSO_TCPV4		1
#define GSO_TCPV6		4
#define GSO_ECN			0x80
#define STATUS_LINK_UP		1

#define CTRL_MQ			4
#define CTRL_MQ_VQ_PAIRS_SET	0
#define CTRL_OK			0
#define CTRL_ERR		1

#define TX_SEGS		128	/* buffers per TX chain */
#define RX_SEGS		64	/* buffers per RX chain */
#define RX_STASH	64	/* RX chains held for one frame */
#define RX_BUDGET	64	/* frames per pass */
#define CTRL_SEGS	8
#define TX_BATCH	32	/* frames per io_uring_enter */
#define RX_READ		(NET_HDR_SIZE + NET_MAX_FRAME + 1)	/* + 1: see too long */
#define RX_IOV		1024	/* UIO_MAXIOV */

struct rx_chain {
	uint16_t head;
	unsigned int n;
	uint32_t cap;			/* writable bytes */
	struct virtq_buf bufs[RX_SEGS];
};

struct tx_slot {
	uint16_t head;
	unsigned int iovcnt;
	uint8_t hdr[NET_HDR_SIZE];	/* the guest's header, copied once */
	struct iovec iov[TX_SEGS + 1];
};

struct net_qp {
	struct net_dev *dev;
	unsigned int index;
	int fd;				/* the tap queue */
	struct virtq rx, tx;
	struct host_watch rx_kick, tx_kick, tap;
	unsigned int tap_events;	/* what the tap watch waits for now */
	bool attached;			/* the tap queue is on (pairs in use) */
	bool rx_starved;		/* no buffers: the tap waits for a kick */
	bool tx_blocked;		/* the tap refused with EAGAIN */
	bool broken_told;

	/*
	 * TX: frames prepared for the tap.  With a ring, up to TX_BATCH go
	 * in one io_uring_enter; without, slot 0 is written with writev
	 * (and kept while the tap is full).
	 */
	struct io_uring *ring;		/* NULL: writev per frame */
	struct tx_slot *tx_slots;	/* TX_BATCH */
	unsigned int tx_batched;
	struct virtq_buf tx_bufs[TX_SEGS];

	/* RX: a frame read from the tap, and the chains it may go into. */
	uint8_t *rx_frame;		/* NET_HDR_SIZE + NET_MAX_FRAME */
	uint32_t rx_len;		/* bytes in rx_frame; 0: none */
	struct rx_chain *stash;		/* RX_STASH chains, a ring: FIFO */
	unsigned int stash_head;	/* index of the oldest */
	unsigned int n_stash;
	uint64_t stash_cap;
	struct iovec *rx_iov;		/* RX_IOV: the stash, to read into */

	struct net_stats stats;
};

struct net_dev {
	struct virtio_pci vp;		/* first: the transport's callbacks cast */
	const struct host_services *hs;
	struct net_options opts;
	char ifname[IFNAMSIZ];
	uint8_t config[NET_CONFIG_SIZE];
	unsigned int n_pairs;
	struct net_qp *qp;
	bool has_ctrl;
	struct virtq ctrl;
	struct host_watch ctrl_kick;
	int reset_fd;
	struct host_watch reset_watch;
	int link_events_fd;		/* rtnetlink, RTMGRP_LINK; -1: none */
	struct host_watch link_events;
	bool reset_pending;		/* atomic */
	bool link_up;			/* atomic */
	bool driver_ok;			/* atomic: queues may be used */
	/* Negotiated, set at DRIVER_OK (the transport's lock held). */
	bool mrg_rxbuf, tx_csum, tx_tso4, tx_tso6, tx_ecn;
	bool rx_csum, rx_tso4, rx_tso6, rx_ecn;
};

static struct net_dev *dev_of(struct virtio_pci *vp)
{
	return (struct net_dev *)vp;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint16_t get_le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static void queue_broken(struct net_dev *d, struct net_qp *qp,
			 struct virtq *vq, unsigned int index)
{
	if (qp && qp->broken_told)
		return;
	fprintf(stderr, "wisp: %s: queue %u: %s: device needs reset\n",
		d->vp.name, index, vq->why);
	if (qp)
		qp->broken_told = true;
	virtio_pci_needs_reset(&d->vp);
}

/* The driver set DRIVER_OK and no reset is under way. */
static bool running(struct net_dev *d)
{
	return __atomic_load_n(&d->driver_ok, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&d->reset_pending, __ATOMIC_ACQUIRE);
}

static void set_tap_events(struct net_qp *qp, unsigned int events)
{
	struct net_dev *d = qp->dev;

	if (events == qp->tap_events)
		return;
	if (!d->hs->watch_events(d->hs->ctx, &qp->tap, events))
		qp->tap_events = events;
}

/* The tap wants reading unless the guest has no buffers for it. */
static void update_tap_watch(struct net_qp *qp)
{
	struct net_dev *d = qp->dev;
	bool link = __atomic_load_n(&d->link_up, __ATOMIC_ACQUIRE);
	unsigned int ev = 0;

	/* A detached tap queue reports EPOLLERR and refuses reads. */
	if (!qp->attached)
		link = false;
	if (link && !qp->rx_starved && qp->rx.active && !qp->rx.broken &&
	    running(d))
		ev |= HOST_WATCH_IN;
	if (link && qp->tx_blocked)
		ev |= HOST_WATCH_OUT;
	set_tap_events(qp, ev);
}

/* The tap is gone (deleted, or its peer closed): take the link down. */
static void link_down(struct net_qp *qp, int e)
{
	struct net_dev *d = qp->dev;

	if (!__atomic_exchange_n(&d->link_up, false, __ATOMIC_ACQ_REL))
		goto out;
	fprintf(stderr, "wisp: %s: tap '%s' is gone (%s): link down\n",
		d->vp.name, d->ifname, e ? strerror(e) : "end of file");
	pthread_mutex_lock(&d->vp.lock);
	put_le16(d->config + 6, 0);
	pthread_mutex_unlock(&d->vp.lock);
	virtio_pci_notify_config(&d->vp);
out:
	qp->tx_blocked = false;
	update_tap_watch(qp);
}

/*
 * Ask the tap itself whether it is still there: a deleted tap's files
 * answer EBADFD (pair 0 is always attached, so nothing else does).
 */
static void tap_check(struct net_dev *d)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(d->qp[0].fd, TUNGETIFF, &ifr) && errno == EBADFD)
		link_down(&d->qp[0], EBADFD);
}

/*
 * Link events from rtnetlink.  Deleting a tap wakes its readers before it
 * lets go of their files: a poll in between finds nothing to report and no
 * second wake-up follows, and a paused watch hears nothing at all.
 * RTM_DELLINK is sent after the files are let go, so each one (or a lost
 * one: ENOBUFS) makes us ask the tap.  A link moved to another namespace
 * also sends RTM_DELLINK here, and its tap still answers.
 */
static void on_link_events(void *arg)
{
	struct net_dev *d = arg;
	union {
		struct nlmsghdr h;
		char buf[8192];
	} m;
	bool check = false;

	for (;;) {
		ssize_t n = recv(d->link_events_fd, m.buf, sizeof(m.buf),
				 MSG_DONTWAIT);
		const struct nlmsghdr *h = &m.h;
		int len = n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			check = true;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* Not expected; never spin on it. */
			d->hs->watch_events(d->hs->ctx, &d->link_events, 0);
			break;
		}
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == RTM_DELLINK)
				check = true;
	}
	if (check && __atomic_load_n(&d->link_up, __ATOMIC_ACQUIRE))
		tap_check(d);
}

static bool tap_gone(int e)
{
	return e == EBADFD || e == ENODEV || e == ENXIO || e == EPIPE ||
	       e == ECONNRESET;
}

/* ---- TX --------------------------------------------------------------------- */

/*
 * Check the header (copied into qp->tx_hdr) against what was negotiated:
 * only offloads the driver accepted, no flags a driver must not set.
 */
static bool tx_header_ok(const struct net_dev *d, const uint8_t *h)
{
	uint8_t flags = h[0], gso = h[1];

	if (flags & ~HDR_F_NEEDS_CSUM)
		return false;
	if ((flags & HDR_F_NEEDS_CSUM) && !d->tx_csum)
		return false;
	if ((gso & GSO_ECN) && !d->tx_ecn)
		return false;
	switch (gso & ~GSO_ECN) {
	case GSO_NONE:
		return !(gso & GSO_ECN);
	case GSO_TCPV4:
		return d->tx_tso4;
	case GSO_TCPV6:
		return d->tx_tso6;
	default:
		return false;
	}
}

/*
 * Turn the chain in qp->tx_bufs (@n buffers) into @t's iovecs: the header
 * copied once into wisp's memory (row 16), the frame straight from guest
 * RAM.  Returns NULL, or the counter to bump for a chain that is dropped.
 */
static uint64_t *tx_prepare(struct net_qp *qp, struct tx_slot *t,
			    unsigned int n)
{
	struct net_dev *d = qp->dev;
	uint64_t total = 0;
	uint32_t got = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (qp->tx_bufs[i].writable || !qp->tx_bufs[i].base)
			return &qp->stats.tx_bad_buffer;
		total += qp->tx_bufs[i].len;
	}
	if (total < NET_HDR_SIZE)
		return &qp->stats.tx_short;
	if (total - NET_HDR_SIZE > NET_MAX_FRAME)
		return &qp->stats.tx_oversize;
	t->iov[0] = (struct iovec){ t->hdr, NET_HDR_SIZE };
	t->iovcnt = 1;
	for (i = 0; i < n; i++) {
		uint8_t *p = qp->tx_bufs[i].base;
		uint32_t len = qp->tx_bufs[i].len, take = 0;

		if (got < NET_HDR_SIZE) {
			take = NET_HDR_SIZE - got < len ? NET_HDR_SIZE - got : len;
			memcpy(t->hdr + got, p, take);
			got += take;
		}
		if (len > take)
			t->iov[t->iovcnt++] = (struct iovec){ p + take, len - take };
	}
	if (!tx_header_ok(d, t->hdr))
		return &qp->stats.tx_bad_header;
	put_le16(t->hdr + 10, 0);		/* num_buffers: RX only */
	return NULL;
}

/* The tap took a frame (@ret bytes) or refused it (-errno). */
static void tx_account(struct net_qp *qp, ssize_t ret)
{
	if (ret >= 0) {
		qp->stats.tx_frames++;
		qp->stats.tx_bytes += ret > NET_HDR_SIZE ? ret - NET_HDR_SIZE : 0;
		return;
	}
	qp->stats.tx_errors++;	/* EIO (down), EINVAL (bad GSO), ... */
	if (tap_gone(-ret))
		link_down(qp, -ret);
}

/* Write slot 0 with writev.  Returns false when the tap is full. */
static bool tx_send(struct net_qp *qp)
{
	struct tx_slot *t = &qp->tx_slots[0];
	ssize_t ret;

	if (!__atomic_load_n(&qp->dev->link_up, __ATOMIC_ACQUIRE) ||
	    !qp->attached) {
		qp->stats.tx_errors++;
		return true;
	}
	ret = writev(qp->fd, t->iov, t->iovcnt);
	if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
			errno == ENOBUFS))
		return false;
	tx_account(qp, ret < 0 ? -errno : ret);
	return true;
}

/*
 * Write the batched slots with one io_uring_enter and give their chains
 * back.  A tap write never waits (the tap drops what its queue cannot
 * take), so every completion is there when the call returns.
 */
static void tx_flush(struct net_qp *qp)
{
	unsigned int batched = qp->tx_batched, n = batched, i, done = 0;
	struct io_uring_cqe *cqe;
	int ret;

	if (!batched)
		return;
	qp->tx_batched = 0;
	if (!__atomic_load_n(&qp->dev->link_up, __ATOMIC_ACQUIRE) ||
	    !qp->attached) {
		qp->stats.tx_errors += n;	/* a pair the driver did not enable */
		goto push;
	}
	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(qp->ring);

		if (!sqe) {		/* cannot be: the ring holds TX_BATCH */
			qp->stats.tx_errors += n - i;
			n = i;
			break;
		}
		io_uring_prep_writev(sqe, 0, qp->tx_slots[i].iov,
				     qp->tx_slots[i].iovcnt, 0);
		sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_sqe_set_data64(sqe, i);
	}
	ret = io_uring_submit_and_wait(qp->ring, n);
	while (done < n) {
		ret = io_uring_wait_cqe(qp->ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			/* The ring failed us: count the rest as refused. */
			qp->stats.tx_errors += n - done;
			break;
		}
		tx_account(qp, cqe->res);
		io_uring_cqe_seen(qp->ring, cqe);
		done++;
	}
push:
	for (i = 0; i < batched; i++)
		virtq_push(&qp->tx, qp->tx_slots[i].head, 0);
}

static void process_tx(struct net_qp *qp)
{
	struct net_dev *d = qp->dev;
	unsigned int done = 0;
	bool pushed = false;
	struct tx_slot *t;
	uint64_t *drop;
	int n;

	if (!running(d) || !qp->tx.active)
		return;
	if (qp->tx_blocked) {
		if (!tx_send(qp))
			return;
		qp->tx_blocked = false;
		update_tap_watch(qp);
		virtq_push(&qp->tx, qp->tx_slots[0].head, 0);
		pushed = true;
	}
	for (;;) {
		/* Bounded work per pass (row 17): the loop serves others. */
		if (done == qp->tx.size) {
			uint64_t one = 1;

			if (write(qp->tx_kick.fd, &one, sizeof(one)) < 0)
				break;	/* saturated: a wake-up is pending */
			break;
		}
		t = &qp->tx_slots[qp->ring ? qp->tx_batched : 0];
		n = virtq_pop(&qp->tx, qp->tx_bufs, TX_SEGS, &t->head);
		if (!n) {
			virtq_notifications(&qp->tx, true);
			if (virtq_pending(&qp->tx))
				continue;
			break;
		}
		if (n < 0) {
			queue_broken(d, qp, &qp->tx, 2 * qp->index + 1);
			break;
		}
		done++;
		pushed = true;
		drop = tx_prepare(qp, t, n);
		if (drop) {
			(*drop)++;
			virtq_push(&qp->tx, t->head, 0);
		} else if (qp->ring) {
			if (++qp->tx_batched == TX_BATCH)
				tx_flush(qp);
		} else if (tx_send(qp)) {
			virtq_push(&qp->tx, t->head, 0);
		} else {
			qp->tx_blocked = true;
			update_tap_watch(qp);
			break;
		}
	}
	if (qp->ring)
		tx_flush(qp);
	if (pushed && virtq_publish(&qp->tx))
		virtio_pci_notify_queue(&d->vp, 2 * qp->index + 1);
}

/* ---- RX --------------------------------------------------------------------- */

/* The @i-th oldest chain in the stash. */
static struct rx_chain *stash_at(struct net_qp *qp, unsigned int i)
{
	return &qp->stash[(qp->stash_head + i) % RX_STASH];
}

/* Give a chain back unused (row 25: a buffer the device cannot use). */
static void rx_reject(struct net_qp *qp, uint16_t head)
{
	qp->stats.rx_bad_buffer++;
	virtq_push(&qp->rx, head, 0);
}

/*
 * Take chains into the stash until it holds @need bytes.  Returns true
 * when it does; false when the ring ran dry (notifications are on then),
 * the stash is full, or the queue broke.  *@pushed is set when a bad
 * chain was given back.
 */
static bool stash_fill(struct net_qp *qp, uint64_t need, bool *pushed)
{
	struct net_dev *d = qp->dev;

	while (qp->stash_cap < need && qp->n_stash < RX_STASH) {
		struct rx_chain *c = stash_at(qp, qp->n_stash);
		unsigned int i;
		bool ok = true;
		int n;

		n = virtq_pop(&qp->rx, c->bufs, RX_SEGS, &c->head);
		if (!n) {
			virtq_notifications(&qp->rx, true);
			if (virtq_pending(&qp->rx))
				continue;
			return false;
		}
		if (n < 0) {
			queue_broken(d, qp, &qp->rx, 2 * qp->index);
			return false;
		}
		c->n = n;
		c->cap = 0;
		for (i = 0; i < (unsigned int)n; i++) {
			if (!c->bufs[i].writable || !c->bufs[i].base)
				ok = false;
			c->cap += c->bufs[i].len;
		}
		if (!ok || c->cap < NET_HDR_SIZE) {
			rx_reject(qp, c->head);
			*pushed = true;
			continue;
		}
		qp->n_stash++;
		qp->stash_cap += c->cap;
	}
	return qp->stash_cap >= need;
}

/* Copy up to @len bytes of @src into chain @c; returns bytes copied. */
static uint32_t copy_to_chain(const struct rx_chain *c, const uint8_t *src,
			      uint32_t len)
{
	uint32_t done = 0;
	unsigned int i;

	for (i = 0; i < c->n && done < len; i++) {
		uint32_t take = c->bufs[i].len < len - done ?
				c->bufs[i].len : len - done;

		memcpy(c->bufs[i].base, src + done, take);
		done += take;
	}
	return done;
}

static void stash_drop_front(struct net_qp *qp, unsigned int k)
{
	unsigned int i;

	for (i = 0; i < k; i++)
		qp->stash_cap -= stash_at(qp, i)->cap;
	qp->stash_head = (qp->stash_head + k) % RX_STASH;
	qp->n_stash -= k;
}

/* A frame the tap offered that the driver did not negotiate. */
static bool rx_offload_ok(const struct net_dev *d, const uint8_t *h)
{
	uint8_t gso = h[1];

	if ((h[0] & HDR_F_NEEDS_CSUM) && !d->rx_csum)
		return false;
	if ((gso & GSO_ECN) && !d->rx_ecn)
		return false;
	switch (gso & ~GSO_ECN) {
	case GSO_NONE:
		return true;
	case GSO_TCPV4:
		return d->rx_tso4;
	case GSO_TCPV6:
		return d->rx_tso6;
	default:
		return false;
	}
}

/* Put the frame in qp->rx_frame into the stash's chains. */
static void rx_deliver(struct net_qp *qp)
{
	struct net_dev *d = qp->dev;
	uint32_t left = qp->rx_len, off = 0;
	unsigned int k = 0;

	if (!d->mrg_rxbuf) {
		put_le16(qp->rx_frame + 10, 1);
		copy_to_chain(stash_at(qp, 0), qp->rx_frame, left);
		virtq_push(&qp->rx, stash_at(qp, 0)->head, left);
		stash_drop_front(qp, 1);
		return;
	}
	while (off < qp->rx_len) {
		off += stash_at(qp, k)->cap < left ? stash_at(qp, k)->cap : left;
		left = qp->rx_len - off;
		k++;
	}
	put_le16(qp->rx_frame + 10, k);
	off = 0;
	for (unsigned int i = 0; i < k; i++) {
		uint32_t n = copy_to_chain(stash_at(qp, i), qp->rx_frame + off,
					   qp->rx_len - off);

		virtq_push(&qp->rx, stash_at(qp, i)->head, n);
		off += n;
	}
	stash_drop_front(qp, k);
}

/* How many stash chains a frame of @len bytes fills (MRG_RXBUF). */
static unsigned int chains_for(struct net_qp *qp, uint32_t len)
{
	uint32_t off = 0;
	unsigned int k = 0;

	while (off < len) {
		uint32_t cap = stash_at(qp, k)->cap;

		off += cap < len - off ? cap : len - off;
		k++;
	}
	return k;
}

/* Write byte @b at offset @off of chain @c's buffers. */
static void chain_put(const struct rx_chain *c, uint32_t off, uint8_t b)
{
	unsigned int i;

	for (i = 0; i < c->n; off -= c->bufs[i].len, i++)
		if (off < c->bufs[i].len) {
			c->bufs[i].base[off] = b;
			return;
		}
}

/*
 * Can the next frame be read straight into the stash's chains?  Only when
 * they can hold any frame the tap may give (one chain without MRG_RXBUF),
 * so that nothing is cut short.  Saves a copy of every frame.  Returns
 * the number of qp->rx_iov entries made, 0 when not.
 */
static unsigned int rx_can_direct(struct net_qp *qp, bool *pushed)
{
	bool mrg = qp->dev->mrg_rxbuf;
	unsigned int i, j, n_iov = 0;
	uint64_t total = 0;

	if (mrg ? !stash_fill(qp, RX_READ, pushed) :
	    stash_at(qp, 0)->cap < RX_READ)
		return 0;
	for (i = 0; i < (mrg ? qp->n_stash : 1) && total < RX_READ; i++)
		for (j = 0; j < stash_at(qp, i)->n; j++) {
			if (n_iov == RX_IOV)
				return 0;	/* too many pieces: copy instead */
			qp->rx_iov[n_iov++] = (struct iovec){
				stash_at(qp, i)->bufs[j].base,
				stash_at(qp, i)->bufs[j].len,
			};
			total += stash_at(qp, i)->bufs[j].len;
		}
	return n_iov;
}

/*
 * Read a frame into the stash's chains and complete the ones it filled.
 * Returns 1 (a frame was handled, delivered or dropped), 0 (nothing to
 * read) or -errno (the tap failed).
 */
static int rx_read_direct(struct net_qp *qp, unsigned int n_iov)
{
	struct net_dev *d = qp->dev;
	uint8_t hdr[NET_HDR_SIZE];
	unsigned int i, j, k = 1;
	ssize_t n;

	n = readv(qp->fd, qp->rx_iov, n_iov);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ?
		       0 : -errno;
	if (!n)
		return -EPIPE;
	/* The header as the tap wrote it: in the first chain's bytes. */
	for (i = 0, j = 0; i < NET_HDR_SIZE && j < stash_at(qp, 0)->n; j++) {
		const struct virtq_buf *b = &stash_at(qp, 0)->bufs[j];
		uint32_t take = b->len < NET_HDR_SIZE - i ? b->len : NET_HDR_SIZE - i;

		memcpy(hdr + i, b->base, take);
		i += take;
	}
	if (n <= NET_HDR_SIZE || n >= RX_READ || !rx_offload_ok(d, hdr)) {
		qp->stats.rx_no_fit++;		/* the chains stay for the next */
		return 1;
	}
	if (d->mrg_rxbuf)
		k = chains_for(qp, n);
	chain_put(stash_at(qp, 0), 10, k);	/* num_buffers */
	chain_put(stash_at(qp, 0), 11, k >> 8);
	qp->stats.rx_frames++;
	qp->stats.rx_bytes += n - NET_HDR_SIZE;
	for (i = 0; i < k; i++) {
		struct rx_chain *c = stash_at(qp, i);
		uint32_t len = c->cap < n ? c->cap : n;

		virtq_push(&qp->rx, c->head, len);
		n -= len;
	}
	stash_drop_front(qp, k);
	return 1;
}

static void process_rx(struct net_qp *qp)
{
	struct net_dev *d = qp->dev;
	unsigned int frames, n_iov;
	bool pushed = false;
	ssize_t n;

	if (!running(d) || !qp->rx.active || !qp->attached ||
	    !__atomic_load_n(&d->link_up, __ATOMIC_ACQUIRE)) {
		update_tap_watch(qp);
		return;
	}
	for (frames = 0; frames < RX_BUDGET; frames++) {
		if (!qp->rx_len) {
			/* Read only when there is a buffer to put it in. */
			if (!stash_fill(qp, NET_HDR_SIZE, &pushed))
				goto starved;
			n_iov = rx_can_direct(qp, &pushed);
			if (n_iov) {
				int r = rx_read_direct(qp, n_iov);

				if (r < 0)
					link_down(qp, r == -EPIPE ? 0 : -r);
				if (r <= 0)
					break;
				pushed = true;
				continue;
			}
			n = read(qp->fd, qp->rx_frame, RX_READ);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n <= 0) {
				link_down(qp, n ? errno : 0);
				break;
			}
			if (n <= NET_HDR_SIZE || n == RX_READ ||
			    !rx_offload_ok(d, qp->rx_frame)) {
				qp->stats.rx_no_fit++;
				continue;
			}
			qp->rx_len = n;
		}
		if (d->mrg_rxbuf ? !stash_fill(qp, qp->rx_len, &pushed) :
		    stash_at(qp, 0)->cap < qp->rx_len) {
			if (d->mrg_rxbuf && qp->n_stash < RX_STASH &&
			    qp->stash_cap < qp->rx_len)
				goto starved;	/* keep the frame for more buffers */
			qp->stats.rx_no_fit++;
			qp->rx_len = 0;
			continue;
		}
		qp->stats.rx_frames++;
		qp->stats.rx_bytes += qp->rx_len - NET_HDR_SIZE;
		rx_deliver(qp);
		qp->rx_len = 0;
		pushed = true;
	}
	qp->rx_starved = false;
	goto out;
starved:
	/* Nothing to put frames in: the tap waits for the driver's kick. */
	qp->rx_starved = true;
out:
	update_tap_watch(qp);
	if (pushed && virtq_publish(&qp->rx))
		virtio_pci_notify_queue(&d->vp, 2 * qp->index);
}

/* ---- control queue ------------------------------------------------------------ */

/*
 * Attach the tap queues of the first @pairs pairs, detach the others, so
 * the tap spreads frames over the pairs the driver uses only.  I/O thread
 * (or construction).
 */
static void set_active_pairs(struct net_dev *d, unsigned int pairs)
{
	unsigned int i;

	d->qp[0].attached = true;
	for (i = 1; i < d->n_pairs; i++) {
		struct net_qp *qp = &d->qp[i];
		bool on = i < pairs;
		struct ifreq ifr;

		if (on != qp->attached) {
			memset(&ifr, 0, sizeof(ifr));
			ifr.ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
			if (ioctl(qp->fd, TUNSETQUEUE, &ifr) && errno != EINVAL &&
			    errno != ENOTTY)
				fprintf(stderr, "wisp: %s: tap queue %u: %s\n",
					d->vp.name, i, strerror(errno));
			qp->attached = on;
		}
		update_tap_watch(qp);
	}
}

static uint8_t ctrl_command(struct net_dev *d, const uint8_t *cmd,
			    uint32_t len)
{
	unsigned int pairs;

	if (len == 4 && cmd[0] == CTRL_MQ && cmd[1] == CTRL_MQ_VQ_PAIRS_SET) {
		pairs = get_le16(cmd + 2);
		if (pairs < 1 || pairs > d->n_pairs)
			return CTRL_ERR;
		set_active_pairs(d, pairs);
		return CTRL_OK;
	}
	return CTRL_ERR;
}

static void process_ctrl(struct net_dev *d)
{
	struct virtq_buf bufs[CTRL_SEGS];
	bool pushed = false;
	unsigned int done;
	uint16_t head;
	int n, i;

	if (!running(d) || !d->ctrl.active)
		return;
	for (done = 0; done < d->ctrl.size; done++) {
		uint8_t cmd[64], *ack = NULL;
		uint32_t len = 0;
		bool ok = true;

		n = virtq_pop(&d->ctrl, bufs, CTRL_SEGS, &head);
		if (!n) {
			virtq_notifications(&d->ctrl, true);
			if (virtq_pending(&d->ctrl))
				continue;
			break;
		}
		if (n < 0) {
			queue_broken(d, NULL, &d->ctrl, 2 * d->n_pairs);
			break;
		}
		for (i = 0; i < n; i++) {
			if (!bufs[i].base) {
				ok = false;
			} else if (!bufs[i].writable) {
				/* len stays <= sizeof(cmd): nothing wraps. */
				if (!ok || bufs[i].len > sizeof(cmd) - len) {
					ok = false;
				} else {
					memcpy(cmd + len, bufs[i].base, bufs[i].len);
					len += bufs[i].len;
				}
			} else if (!ack) {
				ack = bufs[i].base;
			}
		}
		if (ack) {
			*ack = ok ? ctrl_command(d, cmd, len) : CTRL_ERR;
			virtq_push(&d->ctrl, head, 1);
		} else {
			virtq_push(&d->ctrl, head, 0);
		}
		pushed = true;
	}
	if (pushed && virtq_publish(&d->ctrl))
		virtio_pci_notify_queue(&d->vp, 2 * d->n_pairs);
}

/* ---- events ----------------------------------------------------------------- */

static void on_rx_kick(void *arg)
{
	struct net_qp *qp = arg;

	host_drain_fd(qp->rx_kick.fd);
	qp->rx_starved = false;
	process_rx(qp);
}

static void on_tx_kick(void *arg)
{
	struct net_qp *qp = arg;

	host_drain_fd(qp->tx_kick.fd);
	process_tx(qp);
}

static void on_tap(void *arg)
{
	struct net_qp *qp = arg;

	if (qp->tx_blocked)
		process_tx(qp);
	process_rx(qp);
}

static void on_ctrl_kick(void *arg)
{
	struct net_dev *d = arg;

	host_drain_fd(d->ctrl_kick.fd);
	process_ctrl(d);
}

/* Receive offloads the tap may hand us: what the driver accepted. */
static void set_offloads(struct net_dev *d, unsigned long flags)
{
	if (ioctl(d->qp[0].fd, TUNSETOFFLOAD, flags) && flags)
		fprintf(stderr, "wisp: %s: tap offloads: %s\n", d->vp.name,
			strerror(errno));
}

/* Finish a reset on the I/O thread: nothing is in flight here. */
static void on_reset(void *arg)
{
	struct net_dev *d = arg;
	unsigned int i;

	host_drain_fd(d->reset_fd);
	if (!__atomic_load_n(&d->reset_pending, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&d->driver_ok, false, __ATOMIC_RELEASE);
	for (i = 0; i < d->n_pairs; i++) {
		struct net_qp *qp = &d->qp[i];

		virtq_reset(&qp->rx);
		virtq_reset(&qp->tx);
		qp->n_stash = 0;
		qp->stash_head = 0;
		qp->stash_cap = 0;
		qp->rx_len = 0;
		qp->rx_starved = false;
		qp->tx_blocked = false;
		qp->broken_told = false;
	}
	if (d->has_ctrl)
		virtq_reset(&d->ctrl);
	set_offloads(d, 0);
	set_active_pairs(d, 1);
	__atomic_store_n(&d->reset_pending, false, __ATOMIC_RELEASE);
	for (i = 0; i < d->n_pairs; i++)
		update_tap_watch(&d->qp[i]);
	virtio_pci_reset_done(&d->vp);
}

/* ---- transport callbacks (vCPU threads, the transport's lock held) ---------- */

static struct virtq *queue_of(struct net_dev *d, unsigned int index)
{
	if (index == 2 * d->n_pairs)
		return &d->ctrl;
	return index % 2 ? &d->qp[index / 2].tx : &d->qp[index / 2].rx;
}

static int op_queue_enable(struct virtio_pci *vp, unsigned int index)
{
	return virtio_pci_activate_virtq(vp, index, queue_of(dev_of(vp), index));
}

static bool op_reset(struct virtio_pci *vp)
{
	struct net_dev *d = dev_of(vp);
	uint64_t one = 1;

	/* The I/O thread stops using the queues and finishes the reset. */
	__atomic_store_n(&d->reset_pending, true, __ATOMIC_RELEASE);
	if (write(d->reset_fd, &one, sizeof(one)) < 0)
		return false;	/* the counter is full: a wake-up is pending */
	return false;
}

static void op_config_read(struct virtio_pci *vp, uint64_t offset,
			   uint8_t *data, uint32_t len)
{
	memcpy(data, dev_of(vp)->config + offset, len);
}

static void op_config_write(struct virtio_pci *vp, uint64_t offset,
			    const uint8_t *data, uint32_t len)
{
	(void)data;
	(void)offset;
	(void)len;
	vp->ignored_writes++;	/* the MAC is not writable (no CTRL_MAC_ADDR) */
}

static void op_driver_ok(struct virtio_pci *vp)
{
	struct net_dev *d = dev_of(vp);
	uint64_t f = vp->driver_features, one = 1;
	unsigned long offloads = 0;
	unsigned int i;

#define HAS(bit) ((f >> (bit)) & 1)
	d->mrg_rxbuf = HAS(F_MRG_RXBUF);
	d->tx_csum = HAS(F_CSUM);
	d->tx_tso4 = HAS(F_CSUM) && HAS(F_HOST_TSO4);
	d->tx_tso6 = HAS(F_CSUM) && HAS(F_HOST_TSO6);
	d->tx_ecn = (d->tx_tso4 || d->tx_tso6) && HAS(F_HOST_ECN);
	d->rx_csum = HAS(F_GUEST_CSUM);
	if (d->rx_csum) {
		offloads |= TUN_F_CSUM;
		d->rx_tso4 = HAS(F_GUEST_TSO4);
		d->rx_tso6 = HAS(F_GUEST_TSO6);
		d->rx_ecn = (d->rx_tso4 || d->rx_tso6) && HAS(F_GUEST_ECN);
		offloads |= (d->rx_tso4 ? TUN_F_TSO4 : 0) |
			    (d->rx_tso6 ? TUN_F_TSO6 : 0) |
			    (d->rx_ecn ? TUN_F_TSO_ECN : 0);
	} else {
		d->rx_tso4 = d->rx_tso6 = d->rx_ecn = false;
	}
#undef HAS
	set_offloads(d, offloads);
	__atomic_store_n(&d->driver_ok, true, __ATOMIC_RELEASE);
	/* Kicks that came before DRIVER_OK were ignored: look again. */
	for (i = 0; i < d->vp.num_queues; i++)
		if (write(d->vp.queues[i].notify_fd, &one, sizeof(one)) < 0)
			continue;	/* full: a wake-up is pending */
}

static struct virtq *op_queue_virtq(struct virtio_pci *vp, unsigned int index)
{
	struct net_dev *d = dev_of(vp);

	if (index > 2 * d->n_pairs || (index == 2 * d->n_pairs && !d->has_ctrl))
		return NULL;
	return queue_of(d, index);
}

static const struct virtio_pci_device_ops net_ops = {
	.queue_enable = op_queue_enable,
	.reset = op_reset,
	.config_read = op_config_read,
	.config_write = op_config_write,
	.driver_ok = op_driver_ok,
	.queue_virtq = op_queue_virtq,
};

/* ---- construction -------------------------------------------------------------- */

struct pci_device *net_pci_device(struct net_dev *dev)
{
	return &dev->vp.pd;
}

/*
 * A ring that may only write to the tap (fixed file 0), with io-wq
 * bounded to one worker: created disabled, restricted, then enabled.
 * liburing 2.3's library lacks the restriction calls: made directly.
 */
static struct io_uring *tx_ring_create(int fd, int *err)
{
	static const struct io_uring_restriction only_writev[] = {
		{ .opcode = IORING_RESTRICTION_SQE_OP,
		  .sqe_op = IORING_OP_WRITEV },
		{ .opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED,
		  .sqe_flags = IOSQE_FIXED_FILE },
	};
	struct io_uring_params p = { .flags = IORING_SETUP_R_DISABLED };
	unsigned int workers[2] = { 1, 1 };
	struct io_uring *ring = calloc(1, sizeof(*ring));
	int ret;

	if (!ring) {
		*err = -ENOMEM;
		return NULL;
	}
	ret = io_uring_queue_init_params(TX_BATCH, ring, &p);
	if (ret) {
		free(ring);
		*err = ret;
		return NULL;
	}
	ret = io_uring_register_files(ring, &fd, 1);
	if (!ret)
		ret = io_uring_register_iowq_max_workers(ring, workers);
	if (!ret && syscall(__NR_io_uring_register, ring->ring_fd,
			    IORING_REGISTER_RESTRICTIONS, only_writev, 2) < 0)
		ret = -errno;
	if (!ret && syscall(__NR_io_uring_register, ring->ring_fd,
			    IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
		ret = -errno;
	if (ret) {
		io_uring_queue_exit(ring);
		free(ring);
		*err = ret;
		return NULL;
	}
	return ring;
}

static int setup_pair(struct net_dev *d, unsigned int i, int fd)
{
	struct net_qp *qp = &d->qp[i];
	int ret;

	qp->dev = d;
	qp->index = i;
	qp->fd = fd;
	qp->attached = true;		/* as net_open_tap left it */
	qp->rx.hs = qp->tx.hs = d->hs;
	qp->rx_frame = malloc(RX_READ);
	qp->stash = calloc(RX_STASH, sizeof(*qp->stash));
	qp->rx_iov = calloc(RX_IOV, sizeof(*qp->rx_iov));
	qp->tx_slots = calloc(TX_BATCH, sizeof(*qp->tx_slots));
	if (!qp->rx_frame || !qp->stash || !qp->rx_iov || !qp->tx_slots)
		return -ENOMEM;
	if (!d->opts.tx_writev) {
		int err = 0;

		qp->ring = tx_ring_create(fd, &err);
		if (!qp->ring && !i)
			fprintf(stderr, "wisp: %s: tap '%s': io_uring: %s; writing frames one by one\n",
				d->vp.name, d->ifname, strerror(-err));
	}
	ret = host_watch_start(d->hs, &qp->rx_kick,
			       d->vp.queues[2 * i].notify_fd, on_rx_kick, qp);
	if (!ret)
		ret = host_watch_start(d->hs, &qp->tx_kick,
				       d->vp.queues[2 * i + 1].notify_fd,
				       on_tx_kick, qp);
	if (!ret)
		ret = host_watch_start(d->hs, &qp->tap, fd, on_tap, qp);
	if (!ret)
		qp->tap_events = HOST_WATCH_IN;
	return ret;
}

/*
 * Listen for link events (on_link_events); without them a deleted tap may
 * go unnoticed until the next frame either way, so failing is not fatal.
 */
static void link_events_open(struct net_dev *d)
{
	struct sockaddr_nl a = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK,
	};
	struct ifreq ifr;
	int fd, ret;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(d->qp[0].fd, TUNGETIFF, &ifr))
		return;			/* not a tap (the unit tests' sockets) */
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    NETLINK_ROUTE);
	if (fd < 0) {
		ret = -errno;
	} else if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		ret = -errno;
		close(fd);
	} else {
		ret = host_watch_start(d->hs, &d->link_events, fd,
				       on_link_events, d);
		if (ret)
			close(fd);
		else
			d->link_events_fd = fd;
	}
	if (ret)
		fprintf(stderr, "wisp: %s: tap '%s': link events: %s; a deleted tap may go unnoticed until its next frame\n",
			d->vp.name, d->ifname, strerror(-ret));
}

struct net_dev *net_create(const struct host_services *hs,
			   const struct net_options *o, const uint8_t mac[6],
			   struct net_tap *tap, char *msg, size_t msg_len,
			   int *err)
{
	struct net_dev *d = calloc(1, sizeof(*d));
	unsigned int i, n_queues;
	uint64_t features;
	int ret;

	if (!d) {
		net_close_tap(tap);
		*err = -ENOMEM;
		snprintf(msg, msg_len, "out of memory");
		return NULL;
	}
	d->hs = hs;
	d->opts = *o;
	d->reset_fd = -1;
	d->link_events_fd = -1;
	d->n_pairs = tap->n_fds ? tap->n_fds : 1;
	d->has_ctrl = d->n_pairs > 1;
	d->link_up = true;
	memcpy(d->ifname, tap->ifname, IFNAMSIZ);
	memcpy(d->config, mac, 6);
	put_le16(d->config + 6, STATUS_LINK_UP);
	put_le16(d->config + 8, d->n_pairs);
	put_le16(d->config + 10, o->mtu ? o->mtu : 1500);
	features = 1ULL << F_CSUM | 1ULL << F_GUEST_CSUM | 1ULL << F_MAC |
		   1ULL << F_GUEST_TSO4 | 1ULL << F_GUEST_TSO6 |
		   1ULL << F_GUEST_ECN | 1ULL << F_HOST_TSO4 |
		   1ULL << F_HOST_TSO6 | 1ULL << F_HOST_ECN |
		   1ULL << F_MRG_RXBUF | 1ULL << F_STATUS |
		   1ULL << VIRTIO_F_INDIRECT_DESC_BIT |
		   1ULL << VIRTIO_F_EVENT_IDX_BIT |
		   (o->mtu ? 1ULL << F_MTU : 0) |
		   (d->has_ctrl ? 1ULL << F_CTRL_VQ | 1ULL << F_MQ : 0);
	n_queues = 2 * d->n_pairs + d->has_ctrl;
	ret = virtio_pci_init(&d->vp, "virtio-net", hs, NET_DEVICE_ID,
			      NET_DEVICE_ID, 0x020000, n_queues, NET_QUEUE_SIZE,
			      features, NET_CONFIG_SIZE, &net_ops, d);
	if (ret) {
		snprintf(msg, msg_len, "tap '%s': virtio-pci: %s", tap->ifname,
			 strerror(-ret));
		net_close_tap(tap);
		free(d);
		*err = ret;
		return NULL;
	}
	d->qp = calloc(d->n_pairs, sizeof(*d->qp));
	if (!d->qp) {
		ret = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < d->n_pairs; i++) {
		d->qp[i].fd = tap->fds[i];
		tap->fds[i] = -1;		/* the device's now */
	}
	tap->n_fds = 0;
	d->reset_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->reset_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = host_watch_start(d->hs, &d->reset_watch, d->reset_fd, on_reset, d);
	for (i = 0; !ret && i < d->n_pairs; i++)
		ret = setup_pair(d, i, d->qp[i].fd);
	if (!ret && d->has_ctrl) {
		d->ctrl.hs = hs;
		ret = host_watch_start(d->hs, &d->ctrl_kick,
				       d->vp.queues[2 * d->n_pairs].notify_fd,
				       on_ctrl_kick, d);
	}
	if (ret)
		goto fail;
	link_events_open(d);
	/* A tap kept from an earlier boot: nothing negotiated yet. */
	set_offloads(d, 0);
	set_active_pairs(d, 1);
	return d;
fail:
	snprintf(msg, msg_len, "tap '%s': %s", tap->ifname, strerror(-ret));
	net_close_tap(tap);
	net_destroy(d);
	*err = ret;
	return NULL;
}

void net_get_stats(struct net_dev *d, struct net_stats *s)
{
	unsigned int i, j;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < d->n_pairs; i++) {
		const uint64_t *src = (const uint64_t *)&d->qp[i].stats;
		uint64_t *dst = (uint64_t *)s;

		for (j = 0; j < sizeof(*s) / sizeof(uint64_t); j++)
			dst[j] += src[j];
	}
}

bool net_link_up(struct net_dev *d)
{
	return __atomic_load_n(&d->link_up, __ATOMIC_ACQUIRE);
}

/* ---- announcing where the guest is --------------------------------------- */

int net_announce(struct net_dev *d)
{
	uint8_t frame[NET_HDR_SIZE + NET_ANNOUNCE_LEN] = { 0 };
	uint8_t *eth = frame + NET_HDR_SIZE;	/* the header: all zero */
	uint8_t *rarp = eth + 14;
	ssize_t n;

	if (!net_link_up(d))
		return -ENETDOWN;
	memset(eth, 0xff, 6);			/* broadcast */
	memcpy(eth + 6, d->config, 6);		/* from the guest's MAC */
	put_be16(eth + 12, 0x8035);		/* RARP (RFC 903) */
	put_be16(rarp, 1);			/* hardware: Ethernet */
	put_be16(rarp + 2, 0x0800);		/* protocol: IPv4 */
	rarp[4] = 6;
	rarp[5] = 4;
	put_be16(rarp + 6, 3);			/* reverse request */
	memcpy(rarp + 8, d->config, 6);		/* sender: the MAC, 0.0.0.0 */
	memcpy(rarp + 18, d->config, 6);	/* target: the same */
	/* One write, one frame: safe beside the TX path's own writes. */
	n = write(d->qp[0].fd, frame, sizeof(frame));
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(frame) ? 0 : -EIO;
}

/* ---- snapshots -------------------------------------------------------------- */

/* Nothing of pair @qp held: TX written or given back, RX chains given back. */
static void quiesce_pair(struct net_dev *d, struct net_qp *qp)
{
	uint16_t heads[RX_STASH];
	bool rx_pushed = false, tx_pushed = false;
	unsigned int k;

	if (qp->tx_blocked) {
		uint16_t head = qp->tx_slots[0].head;

		if (tx_send(qp)) {
			virtq_push(&qp->tx, head, 0);
			tx_pushed = true;
		} else if (virtq_unpop(&qp->tx, &head, 1)) {
			qp->stats.tx_errors++;	/* cannot be: the last pop */
			virtq_push(&qp->tx, head, 0);
			tx_pushed = true;
		}
		qp->tx_blocked = false;
	}
	if (qp->rx_len) {
		qp->stats.rx_quiesce_drops++;
		qp->rx_len = 0;
	}
	for (k = 0; k < qp->n_stash; k++)
		heads[k] = stash_at(qp, k)->head;
	if (qp->n_stash && virtq_unpop(&qp->rx, heads, qp->n_stash)) {
		for (k = 0; k < qp->n_stash; k++)
			rx_reject(qp, heads[k]);
		rx_pushed = true;
	}
	qp->n_stash = 0;
	qp->stash_head = 0;
	qp->stash_cap = 0;
	qp->rx_starved = false;
	if (tx_pushed && virtq_publish(&qp->tx))
		virtio_pci_notify_queue(&d->vp, 2 * qp->index + 1);
	if (rx_pushed && virtq_publish(&qp->rx))
		virtio_pci_notify_queue(&d->vp, 2 * qp->index);
	update_tap_watch(qp);
}

int net_quiesce(struct net_dev *d)
{
	uint64_t one = 1;
	unsigned int i;

	on_reset(d);		/* a reset the driver asked for, finished */
	for (i = 0; i < d->n_pairs; i++)
		quiesce_pair(d, &d->qp[i]);
	for (i = 0; i < d->vp.num_queues; i++)
		if (write(d->vp.queues[i].notify_fd, &one, sizeof(one)) < 0)
			continue;	/* full: a wake-up is pending */
	return 0;
}

static unsigned int attached_pairs(const struct net_dev *d)
{
	unsigned int i;

	for (i = 1; i < d->n_pairs && d->qp[i].attached; i++)
		;
	return i;
}

void net_save(struct net_dev *d, struct state_writer *w)
{
	pthread_mutex_lock(&d->vp.lock);
	state_put_bytes(w, "mac", d->config, 6);
	pthread_mutex_unlock(&d->vp.lock);
	state_put_u32(w, "pairs", d->n_pairs);
	state_put_u32(w, "ctrl", d->has_ctrl);
	state_put_u32(w, "mtu", d->opts.mtu);
	state_put_u32(w, "link-up", __atomic_load_n(&d->link_up, __ATOMIC_ACQUIRE));
	state_put_u32(w, "active-pairs", attached_pairs(d));
	virtio_pci_save(&d->vp, w);
}

void net_load(struct net_dev *d, struct state_reader *r, int node)
{
	uint8_t mac[6];
	uint32_t pairs = state_get_u32(r, node, "pairs");
	uint32_t ctrl = state_get_u32(r, node, "ctrl");
	uint32_t mtu = state_get_u32(r, node, "mtu");
	bool link = state_get_u32_max(r, node, "link-up", 1);
	uint32_t active = state_get_u32(r, node, "active-pairs");
	unsigned int i;

	state_get_bytes(r, node, "mac", mac, sizeof(mac));
	if (r->failed)
		return;
	if (memcmp(mac, d->config, 6)) {
		state_fail(r, node, "the MAC is %02x:%02x:%02x:%02x:%02x:%02x here, %02x:%02x:%02x:%02x:%02x:%02x in the snapshot",
			   d->config[0], d->config[1], d->config[2], d->config[3],
			   d->config[4], d->config[5], mac[0], mac[1], mac[2],
			   mac[3], mac[4], mac[5]);
		return;
	}
	if (pairs != d->n_pairs || ctrl != d->has_ctrl) {
		state_fail(r, node, "%u queue pairs here, %u in the snapshot",
			   d->n_pairs, pairs);
		return;
	}
	if (mtu != d->opts.mtu) {
		state_fail(r, node, "MTU %u here, %u in the snapshot",
			   d->opts.mtu, mtu);
		return;
	}
	if (active < 1 || active > d->n_pairs) {
		state_fail(r, node, "active-pairs %u is not from 1 to %u", active,
			   d->n_pairs);
		return;
	}
	virtio_pci_load(&d->vp, r, node);
	if (r->failed)
		return;
	for (i = 0; i < d->n_pairs; i++)
		d->qp[i].broken_told = d->qp[i].rx.broken || d->qp[i].tx.broken;
	set_active_pairs(d, active);
	if (link != __atomic_load_n(&d->link_up, __ATOMIC_ACQUIRE))
		virtio_pci_notify_config(&d->vp);	/* the driver reads it again */
}

void net_destroy(struct net_dev *d)
{
	unsigned int i;

	if (!d)
		return;
	for (i = 0; d->qp && i < d->n_pairs; i++) {
		struct net_qp *qp = &d->qp[i];

		host_watch_stop(d->hs, &qp->rx_kick);
		host_watch_stop(d->hs, &qp->tx_kick);
		host_watch_stop(d->hs, &qp->tap);
		if (qp->fd >= 0)
			close(qp->fd);
		if (qp->ring) {
			io_uring_queue_exit(qp->ring);
			free(qp->ring);
		}
		free(qp->rx_frame);
		free(qp->stash);
		free(qp->rx_iov);
		free(qp->tx_slots);
	}
	host_watch_stop(d->hs, &d->ctrl_kick);
	host_watch_stop(d->hs, &d->reset_watch);
	host_watch_stop(d->hs, &d->link_events);
	if (d->reset_fd >= 0)
		close(d->reset_fd);
	if (d->link_events_fd >= 0)
		close(d->link_events_fd);
	virtio_pci_destroy(&d->vp);
	free(d->qp);
	free(d);
}
