// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net: a small polled guest driver (guest-tests/lib/virtio.c) that
 * talks to the host kernel through the VMM's tap.  The runner starts the
 * VMM in its own network namespace with a tap at 10.0.2.1/24 ({tap} in
 * tests.list); the guest is 10.0.2.15.  Parameters: `mac` (the MAC given
 * to the VMM), `host_mac` (the tap's, optional).
 *
 * Normal use: the PCI function, its BAR and capabilities, the offered
 * features, MAC and link status in the device configuration; ARP who-has
 * 10.0.2.1 answered by the host kernel; echo requests in three TX layouts
 * (one descriptor, header apart, header split 5 + 7), a burst, and a
 * 1400-byte one, with IP and ICMP checksums and payload checked; with
 * MRG_RXBUF and 256-byte RX buffers a large reply spread over several
 * buffers (num_buffers > 1).  Checksum and payload loops run at CPL3.
 *
 * Hostile guest (bad-inputs.md row 25): a TX chain shorter than the
 * header, a TX frame over 65550 bytes, RX chains that are readable or
 * shorter than the header, and a frame too large for one RX chain without
 * MRG_RXBUF (dropped, the chain kept).  The device keeps working without
 * a reset.  Checks of outcomes that only wisp's contract defines say
 * "wisp only:" and are skipped under QEMU, which answers some of these
 * with DEVICE_NEEDS_RESET instead (docs/guest-tests.md).
 *
 * Frames not waited for (the host's IPv6 router solicitations and MLD
 * reports, ARP) are skipped; ARP requests for 10.0.2.15 are answered.
 * Every wait is bounded.
 */
#include "guest.h"
#include "virtio.h"

#define NET_F_CSUM		(1ULL << 0)
#define NET_F_GUEST_CSUM	(1ULL << 1)
#define NET_F_MTU		(1ULL << 3)
#define NET_F_MAC		(1ULL << 5)
#define NET_F_GUEST_TSO4	(1ULL << 7)
#define NET_F_GUEST_TSO6	(1ULL << 8)
#define NET_F_GUEST_ECN		(1ULL << 9)
#define NET_F_HOST_TSO4		(1ULL << 11)
#define NET_F_HOST_TSO6		(1ULL << 12)
#define NET_F_HOST_ECN		(1ULL << 13)
#define NET_F_MRG_RXBUF		(1ULL << 15)
#define NET_F_STATUS		(1ULL << 16)
#define NET_F_CTRL_VQ		(1ULL << 17)
#define NET_F_MQ		(1ULL << 22)

/* What wisp offers with one queue pair and no mtu= (the contract). */
#define NET_OFFERED	(VIRTIO_F_VERSION_1 | NET_F_CSUM | NET_F_GUEST_CSUM | \
			 NET_F_MAC | NET_F_GUEST_TSO4 | NET_F_GUEST_TSO6 | \
			 NET_F_GUEST_ECN | NET_F_HOST_TSO4 | NET_F_HOST_TSO6 | \
			 NET_F_HOST_ECN | NET_F_MRG_RXBUF | NET_F_STATUS | \
			 VIRTIO_F_EVENT_IDX | VIRTIO_F_INDIRECT_DESC)
#define NET_BASIC	(NET_F_MAC | NET_F_STATUS)

#define NET_CFG_MAC		0
#define NET_CFG_STATUS		6
#define NET_S_LINK_UP		1
#define NET_HDR_LEN		12
#define NET_TX_MAX		65550	/* header + 65538 */

#define ETH_HLEN		14
#define ETH_P_IP		0x0800
#define ETH_P_ARP		0x0806
#define ETH_P_TEST		0x88b5	/* local experimental */
#define ARP_LEN			28
#define IP_HLEN			20
#define ICMP_HLEN		8
#define ICMP_ECHO_REPLY		0
#define ICMP_ECHO		8
#define ECHO_ID			0x5749

#define RXQ			0
#define TXQ			1
#define QSIZE			64
#define RX_SLOTS		48	/* RX chain i: descriptor i, rxmem[i] */
#define RX_SLOT_BYTES		2048
#define RX_SMALL		256
#define BAD_DESC		56	/* hostile RX chains: descriptors 56.. */
#define NR_BAD			3
#define PING_SMALL		56
#define PING_LARGE		1400
#define WAIT_US			3000000
#define QUIET_US		1000000	/* for frames that must not come */
/* In the 32-bit PCI window, away from where the VMM put the BARs. */
#define BAR_NET			0xd0000000UL
#define WISP_ONLY		"wisp only: "

struct net_hdr {
	u8 flags;
	u8 gso_type;
	u16 hdr_len;
	u16 gso_size;
	u16 csum_start;
	u16 csum_offset;
	u16 num_buffers;
} __attribute__((packed));

_Static_assert(sizeof(struct net_hdr) == NET_HDR_LEN, "virtio_net_hdr");

/* A received frame: where its bytes are, and what the device said. */
struct frame {
	struct net_hdr hdr;		/* the first buffer's header */
	const u8 *data;			/* the frame after the header */
	u32 len;
	unsigned int bufs;		/* RX chains it took */
	u16 slots[RX_SLOTS];		/* those chains, to post again */
	u32 used_len[RX_SLOTS];
};

enum rx_result { RX_NONE, RX_FRAME, RX_RETURNED, RX_BAD };
enum layout { ONE_DESC, HDR_APART, HDR_SPLIT };

struct echo {
	int tx;				/* TX used length, or < 0 */
	bool got;			/* the reply with our id and seq came */
	bool eth_ok, ip_ok, icmp_ok, payload_ok;
	struct frame *f;
};

static u8 qmem[2][VIRTQ_MEM_SIZE(QSIZE)] __aligned(4096);
static u8 rxmem[RX_SLOTS][RX_SLOT_BYTES] __aligned(4096);
static u8 badmem[NR_BAD + 1][RX_SLOT_BYTES] __aligned(4096);
static u8 txmem[NET_HDR_LEN + RX_SLOT_BYTES] __aligned(64);
static u8 arpmem[NET_HDR_LEN + 64] __aligned(64);
static u8 bigmem[70000] __aligned(4096);
static u8 reassembled[RX_SLOTS * RX_SMALL];
static struct frame frame;

static struct virtio_dev net;
static struct virtq rxq, txq;
static bool mrg, on_wisp;
static u32 rx_size[RX_SLOTS];
static bool rx_posted[RX_SLOTS];
static unsigned int returned[NR_BAD];
static u32 returned_len[NR_BAD];
static char rx_error[120];
static unsigned int skipped, arp_answered;

static u8 mac[6], host_mac[6];
static bool host_mac_known;
static const u8 guest_ip[4] = { 10, 0, 2, 15 };
static const u8 host_ip[4] = { 10, 0, 2, 1 };
static const u8 broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* --- bytes ----------------------------------------------------------- */

static u16 get16(const u8 *p)
{
	return (u16)p[0] << 8 | p[1];
}

static void put16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* "02:00:00:00:00:01" into @out; false if malformed. */
static bool parse_mac(const char *s, u8 *out)
{
	for (int i = 0; i < 6; i++) {
		unsigned int v = 0;

		for (int j = 0; j < 2; j++, s++) {
			char c = *s;

			if (c >= '0' && c <= '9')
				v = v * 16 + c - '0';
			else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
				v = v * 16 + (c | 0x20) - 'a' + 10;
			else
				return false;
		}
		out[i] = v;
		if (*s != (i == 5 ? '\0' : ':'))
			return false;
		s++;
	}
	return true;
}

/* --- loops over frame bytes, run at CPL3 ------------------------------- */

struct bytes {
	u8 *p;
	const u8 *src;
	u32 len;
	u32 seed;
};

static u8 pattern_byte(u32 seed, u32 i)
{
	return (u8)(i * 7 + seed * 13 + (i >> 8));
}

/* The Internet checksum of the bytes: 0 over a region holding its own. */
static u64 csum_user(u64 arg)
{
	struct bytes *b = (struct bytes *)arg;
	u64 sum = 0;
	u32 i;

	for (i = 0; i + 1 < b->len; i += 2)
		sum += (u32)b->p[i] << 8 | b->p[i + 1];
	if (i < b->len)
		sum += (u32)b->p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static u64 fill_user(u64 arg)
{
	struct bytes *b = (struct bytes *)arg;

	for (u32 i = 0; i < b->len; i++)
		b->p[i] = pattern_byte(b->seed, i);
	return 0;
}

/* Returns the number of bytes that differ from the pattern. */
static u64 check_user(u64 arg)
{
	struct bytes *b = (struct bytes *)arg;
	u64 bad = 0;

	for (u32 i = 0; i < b->len; i++)
		bad += b->p[i] != pattern_byte(b->seed, i);
	return bad;
}

static u64 copy_user(u64 arg)
{
	struct bytes *b = (struct bytes *)arg;

	memcpy(b->p, b->src, b->len);
	return 0;
}

static u16 csum(const void *p, u32 len)
{
	struct bytes b = { .p = (u8 *)p, .len = len };

	return run_user(csum_user, (u64)&b);
}

static void fill(void *p, u32 len, u32 seed)
{
	struct bytes b = { .p = p, .len = len, .seed = seed };

	run_user(fill_user, (u64)&b);
}

static bool matches(const void *p, u32 len, u32 seed)
{
	struct bytes b = { .p = (u8 *)p, .len = len, .seed = seed };

	return run_user(check_user, (u64)&b) == 0;
}

static void copy(void *dst, const void *src, u32 len)
{
	struct bytes b = { .p = dst, .src = src, .len = len };

	run_user(copy_user, (u64)&b);
}

/* --- device ---------------------------------------------------------- */

static bool needs_reset(void)
{
	return virtio_status(&net) & VIRTIO_NEEDS_RESET;
}

/* Reset, negotiate @features, set up both queues, DRIVER_OK; no RX yet. */
static bool bring_up(u64 features)
{
	if (!virtio_negotiate(&net, features))
		return false;
	mrg = features & NET_F_MRG_RXBUF;
	virtq_setup(&rxq, &net, RXQ, QSIZE, qmem[0]);
	virtq_setup(&txq, &net, TXQ, QSIZE, qmem[1]);
	memset(rx_posted, 0, sizeof(rx_posted));
	memset(returned, 0, sizeof(returned));
	virtio_set_status(&net, VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER |
			  VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK);
	return virtio_status(&net) == (VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER |
				       VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK);
}

/* Post RX chain @slot: one writable descriptor of @size bytes. */
static void rx_post(unsigned int slot, u32 size)
{
	virtq_desc(&rxq, slot, rxmem[slot], size, VRING_DESC_F_WRITE, 0);
	rx_size[slot] = size;
	rx_posted[slot] = true;
	virtq_publish(&rxq, slot);
}

/* Post chains [@first, @first + @n) of @size bytes and kick. */
static void rx_fill(unsigned int first, unsigned int n, u32 size)
{
	for (unsigned int i = first; i < first + n; i++)
		rx_post(i, size);
	virtq_kick(&rxq);
}

/* Post a frame's chains again once it has been looked at. */
static void rx_done(struct frame *f)
{
	for (unsigned int i = 0; i < f->bufs; i++)
		rx_post(f->slots[i], rx_size[f->slots[i]]);
	f->bufs = 0;
	virtq_kick(&rxq);
}

static void rx_fail(const char *fmt, unsigned int a, unsigned int b)
{
	if (!rx_error[0])
		snprintf(rx_error, sizeof(rx_error), fmt, a, b);
}

static bool rx_wait(u64 deadline, u32 *id, u32 *len)
{
	while (!virtq_get_used(&rxq, id, len)) {
		if (tsc_expired(deadline))
			return false;
		cpu_relax();
	}
	return true;
}

/* One used entry of a normal chain: checked, and recorded in @f. */
static bool rx_take(struct frame *f, u32 id, u32 len)
{
	if (id >= RX_SLOTS || !rx_posted[id]) {
		rx_fail("used entry for chain %u, which is not posted", id, 0);
		return false;
	}
	rx_posted[id] = false;
	f->slots[f->bufs] = id;
	f->used_len[f->bufs++] = len;
	if (len > rx_size[id]) {
		rx_fail("used length %u in a chain of %u bytes", len,
			rx_size[id]);
		return false;
	}
	return true;
}

/*
 * The next thing the device put in the RX used ring, until @deadline: a
 * frame (in @f, its chains still held: rx_done() posts them again), a
 * hostile chain given back (returned[] counts it), or a malformed entry
 * (rx_error says what; its chains are posted again).
 */
static enum rx_result rx_next(struct frame *f, u64 deadline)
{
	u32 id, len, n, at;

	f->bufs = 0;
	if (!rx_wait(deadline, &id, &len))
		return RX_NONE;
	if (id >= BAD_DESC && id < BAD_DESC + NR_BAD) {
		returned[id - BAD_DESC]++;
		returned_len[id - BAD_DESC] = len;
		return RX_RETURNED;
	}
	if (!rx_take(f, id, len))
		goto bad;
	if (len < NET_HDR_LEN) {
		rx_fail("used length %u, shorter than the header (chain %u)",
			len, id);
		goto bad;
	}
	memcpy(&f->hdr, rxmem[id], NET_HDR_LEN);
	f->data = rxmem[id] + NET_HDR_LEN;
	f->len = len - NET_HDR_LEN;
	n = mrg ? f->hdr.num_buffers : 1;
	if (n == 1)
		return RX_FRAME;
	if (n == 0 || n > RX_SLOTS) {
		rx_fail("num_buffers %u (chain %u)", n, id);
		goto bad;
	}
	/* MRG_RXBUF: the rest follows in the next used entries. */
	copy(reassembled, f->data, f->len);
	at = f->len;
	while (f->bufs < n) {
		if (!rx_wait(tsc_deadline_us(WAIT_US), &id, &len)) {
			rx_fail("num_buffers %u, but only %u buffers came", n,
				f->bufs);
			goto bad;
		}
		if (!rx_take(f, id, len))
			goto bad;
		if (at + len > sizeof(reassembled)) {
			rx_fail("a merged frame of more than %u bytes (%u)",
				(unsigned int)sizeof(reassembled), at + len);
			goto bad;
		}
		copy(reassembled + at, rxmem[id], len);
		at += len;
	}
	f->data = reassembled;
	f->len = at;
	return RX_FRAME;
bad:
	rx_done(f);
	return RX_BAD;
}

/* --- TX -------------------------------------------------------------- */

/* One device-readable descriptor of a TX chain. */
struct seg {
	const void *p;
	u32 len;
};

/*
 * Send the chain @segs (descriptors 0..@n-1) and wait for it: its used
 * length, -1 when it did not come back, -2 when another head did.
 */
static int tx_chain(const struct seg *segs, unsigned int n)
{
	u32 id, len;

	for (unsigned int i = 0; i < n; i++)
		virtq_desc(&txq, i, segs[i].p, segs[i].len,
			   i + 1 < n ? VRING_DESC_F_NEXT : 0, i + 1);
	virtq_publish(&txq, 0);
	virtq_kick(&txq);
	if (!virtq_wait_used(&txq, WAIT_US, &id, &len))
		return -1;
	return id == 0 ? (int)len : -2;
}

/* Send the frame of @len bytes after a zeroed header in @buf. */
static int tx_frame(u8 *buf, u32 len, enum layout layout)
{
	struct seg segs[2];

	memset(buf, 0, NET_HDR_LEN);
	switch (layout) {
	case ONE_DESC:
		segs[0] = (struct seg){ buf, NET_HDR_LEN + len };
		return tx_chain(segs, 1);
	case HDR_APART:
		segs[0] = (struct seg){ buf, NET_HDR_LEN };
		segs[1] = (struct seg){ buf + NET_HDR_LEN, len };
		return tx_chain(segs, 2);
	case HDR_SPLIT:
		segs[0] = (struct seg){ buf, 5 };
		segs[1] = (struct seg){ buf + 5, NET_HDR_LEN - 5 + len };
		return tx_chain(segs, 2);
	}
	return -1;
}

static void eth_header(u8 *p, const u8 *dst, u16 type)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, mac, 6);
	put16(p + 12, type);
}

static void arp_frame(u8 *p, u16 op, const u8 *tha, const u8 *tpa)
{
	eth_header(p, op == 1 ? broadcast : tha, ETH_P_ARP);
	p += ETH_HLEN;
	put16(p, 1);			/* Ethernet */
	put16(p + 2, ETH_P_IP);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, op);
	memcpy(p + 8, mac, 6);
	memcpy(p + 14, guest_ip, 4);
	memcpy(p + 18, tha, 6);
	memcpy(p + 24, tpa, 4);
}

/* An ARP packet of @f (op @op) for 10.0.2.15, or NULL. */
static const u8 *arp_for_us(const struct frame *f, u16 op)
{
	const u8 *a = f->data + ETH_HLEN;

	if (f->len < ETH_HLEN + ARP_LEN || get16(f->data + 12) != ETH_P_ARP ||
	    get16(a) != 1 || get16(a + 2) != ETH_P_IP || a[4] != 6 ||
	    a[5] != 4 || get16(a + 6) != op || memcmp(a + 24, guest_ip, 4))
		return NULL;
	return a;
}

/* The host asks who has 10.0.2.15 (its neighbour entry aged): answer. */
static void answer_arp(const struct frame *f)
{
	const u8 *a = arp_for_us(f, 1);

	if (!a)
		return;
	arp_frame(arpmem + NET_HDR_LEN, 2, a + 8, a + 14);
	if (tx_frame(arpmem, ETH_HLEN + ARP_LEN, ONE_DESC) >= 0)
		arp_answered++;
}

/*
 * Receive until @match accepts a frame (left in @f with its chains held)
 * or @us pass.  Other frames are skipped (ARP requests answered), hostile
 * chains counted as they come back.
 */
static bool wait_for(bool (*match)(const struct frame *, u64), u64 arg,
		     struct frame *f, u64 us)
{
	u64 deadline = tsc_deadline_us(us);

	for (;;) {
		switch (rx_next(f, deadline)) {
		case RX_NONE:
			return false;
		case RX_FRAME:
			if (match(f, arg))
				return true;
			answer_arp(f);
			skipped++;
			rx_done(f);
			break;
		case RX_RETURNED:
		case RX_BAD:
			break;
		}
	}
}

/* --- ICMP echo ------------------------------------------------------- */

/* The ICMP header of an echo reply with sequence @seq from the host. */
static const u8 *echo_reply_of(const struct frame *f, u16 seq)
{
	const u8 *ip = f->data + ETH_HLEN, *icmp = ip + IP_HLEN;

	if (f->len < ETH_HLEN + IP_HLEN + ICMP_HLEN ||
	    get16(f->data + 12) != ETH_P_IP || ip[0] != 0x45 || ip[9] != 1 ||
	    memcmp(ip + 12, host_ip, 4) || memcmp(ip + 16, guest_ip, 4) ||
	    icmp[0] != ICMP_ECHO_REPLY || get16(icmp + 4) != ECHO_ID ||
	    get16(icmp + 6) != seq)
		return NULL;
	return icmp;
}

static bool match_echo(const struct frame *f, u64 seq)
{
	return echo_reply_of(f, seq) != NULL;
}

/* An echo reply with a sequence number in [@arg & 0xffff, @arg >> 16). */
static bool match_echo_range(const struct frame *f, u64 arg)
{
	for (u16 seq = arg & 0xffff; seq < arg >> 16; seq++)
		if (echo_reply_of(f, seq))
			return true;
	return false;
}

/* Build an echo request with @len payload bytes (pattern @seq). */
static u32 echo_request(u8 *p, u16 seq, u32 len)
{
	u8 *ip = p + ETH_HLEN, *icmp = ip + IP_HLEN;

	eth_header(p, host_mac, ETH_P_IP);
	memset(ip, 0, IP_HLEN + ICMP_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, IP_HLEN + ICMP_HLEN + len);
	put16(ip + 4, seq);
	put16(ip + 6, 0x4000);		/* don't fragment */
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, guest_ip, 4);
	memcpy(ip + 16, host_ip, 4);
	put16(ip + 10, csum(ip, IP_HLEN));
	icmp[0] = ICMP_ECHO;
	put16(icmp + 4, ECHO_ID);
	put16(icmp + 6, seq);
	fill(icmp + ICMP_HLEN, len, seq);
	put16(icmp + 2, csum(icmp, ICMP_HLEN + len));
	return ETH_HLEN + IP_HLEN + ICMP_HLEN + len;
}

/* Check the reply @f to echo @seq with @len payload bytes into @e. */
static void check_reply(struct echo *e, const struct frame *f, u16 seq,
			u32 len)
{
	const u8 *ip = f->data + ETH_HLEN, *icmp = ip + IP_HLEN;
	u32 ip_len = IP_HLEN + ICMP_HLEN + len;

	e->eth_ok = !memcmp(f->data, mac, 6) &&
		    !memcmp(f->data + 6, host_mac, 6);
	e->ip_ok = get16(ip + 2) == ip_len && f->len >= ETH_HLEN + ip_len &&
		   !(get16(ip + 6) & 0x3fff) && csum(ip, IP_HLEN) == 0;
	if (!e->ip_ok)
		return;
	e->icmp_ok = icmp[1] == 0 && csum(icmp, ICMP_HLEN + len) == 0;
	e->payload_ok = matches(icmp + ICMP_HLEN, len, seq);
}

/*
 * Echo request @seq with @len payload bytes, sent as @layout; the reply
 * waited for up to @us and checked.  The reply's chains stay held in
 * @e->f (rx_done() them).  True if it all went well.
 */
static bool ping(struct echo *e, u16 seq, u32 len, enum layout layout,
		 u64 us)
{
	u32 n = echo_request(txmem + NET_HDR_LEN, seq, len);

	memset(e, 0, sizeof(*e));
	e->f = &frame;
	e->tx = tx_frame(txmem, n, layout);
	if (e->tx < 0)
		return false;
	e->got = wait_for(match_echo, seq, &frame, us);
	if (!e->got)
		return false;
	check_reply(e, &frame, seq, len);
	return e->tx == 0 && e->eth_ok && e->ip_ok && e->icmp_ok &&
	       e->payload_ok;
}

/* ping(), reported in one line, the chains posted again. */
static bool ping_report(u16 seq, u32 len, enum layout layout,
			const char *what)
{
	struct echo e;
	bool ok = ping(&e, seq, len, layout, WAIT_US);

	if (e.got)
		rx_done(e.f);
	if (!ok)
		printf("virtio-net: echo %u: TX used length %d, reply %s, Ethernet %s, IP %s, ICMP %s, payload %s\n",
		       seq, e.tx, e.got ? "came" : "missing",
		       e.eth_ok ? "ok" : "bad", e.ip_ok ? "ok" : "bad",
		       e.icmp_ok ? "ok" : "bad", e.payload_ok ? "ok" : "bad");
	return report(ok, "%s: echo request with %u payload bytes, reply with the same payload, IP and ICMP checksums valid",
		      what, len);
}

/* --- normal use ------------------------------------------------------ */

static bool test_probe(void)
{
	const char *want = cmdline_get("mac");
	const char *host = cmdline_get("host_mac");
	u64 offered;
	u8 cfg_mac[6];
	pci_devfn fn;

	test_begin("virtio-net-probe");
	if (!report(pci_find(VIRTIO_VENDOR, VIRTIO_DEV_NET, 0, &fn),
		    "a virtio-net function (1af4:1041) is on bus 0"))
		return false;
	report(pci_class(fn) == 0x020000,
	       "class 020000 (Ethernet controller), read %06x", pci_class(fn));
	if (!report(virtio_open(&net, VIRTIO_DEV_NET, 0, BAR_NET),
		    "its BAR moved to %#lx; common, notify, ISR and device regions found",
		    BAR_NET))
		return false;
	printf("virtio-net: regions in BAR %u\n", net.bar_index);
	report(pci_bar_is_mem64(fn, net.bar_index) &&
	       pci_bar_addr(fn, net.bar_index) == BAR_NET,
	       "the BAR is 64-bit memory and reads back where the guest put it");
	if (on_wisp)
		report(net.bar_index == 0, WISP_ONLY "the regions are in BAR 0");
	else
		report_skip(WISP_ONLY "the regions are in BAR 0 (QEMU: BAR %u)",
			    net.bar_index);
	report(net.caps_seen == 0x3e,
	       "all five virtio capabilities (common, notify, ISR, device, PCI access)");
	offered = virtio_device_features(&net);
	printf("virtio-net: features offered %#lx\n", offered);
	report((offered & NET_OFFERED) == NET_OFFERED,
	       "features offered: VERSION_1 CSUM GUEST_CSUM MAC GUEST_TSO4 GUEST_TSO6 GUEST_ECN HOST_TSO4 HOST_TSO6 HOST_ECN MRG_RXBUF STATUS EVENT_IDX INDIRECT_DESC");
	if (on_wisp)
		report(!(offered & (NET_F_MTU | NET_F_CTRL_VQ | NET_F_MQ)) &&
		       virtio_num_queues(&net) == 2,
		       WISP_ONLY "one queue pair and no mtu=: MTU, CTRL_VQ and MQ not offered, 2 queues");
	else
		report_skip(WISP_ONLY "MTU, CTRL_VQ and MQ not offered, 2 queues (QEMU offers a control queue)");
	report(virtio_queue_max(&net, RXQ) >= QSIZE &&
	       virtio_queue_max(&net, TXQ) >= QSIZE,
	       "receiveq 0 and transmitq 0 take %u entries", QSIZE);
	for (int i = 0; i < 6; i++)
		cfg_mac[i] = virtio_cfg8(&net, NET_CFG_MAC + i);
	if (!report(want && parse_mac(want, mac),
		    "mac= on the command line: %s", want ? want : "(none)"))
		return false;
	report(!memcmp(cfg_mac, mac, 6),
	       "the device's MAC (configuration offset 0) is mac=");
	report(virtio_cfg16(&net, NET_CFG_STATUS) & NET_S_LINK_UP,
	       "link status (offset 6) has LINK_UP");
	host_mac_known = host && parse_mac(host, host_mac);
	if (host && !host_mac_known)
		report(false, "host_mac= malformed: %s", host);
	return report(bring_up(VIRTIO_F_VERSION_1 | NET_BASIC),
		      "negotiated VERSION_1 MAC STATUS, two queues, DRIVER_OK");
}

static bool match_arp_reply(const struct frame *f, u64 unused)
{
	const u8 *a = arp_for_us(f, 2);

	(void)unused;
	return a && !memcmp(a + 14, host_ip, 4);
}

static bool test_arp(void)
{
	const u8 zero[6] = { 0 };
	const u8 *a;
	bool got;

	test_begin("virtio-net-arp");
	rx_fill(0, 16, RX_SLOT_BYTES);
	arp_frame(txmem + NET_HDR_LEN, 1, zero, host_ip);
	report(tx_frame(txmem, ETH_HLEN + ARP_LEN, HDR_APART) == 0,
	       "ARP who-has 10.0.2.1 sent (header and frame in two descriptors), used length 0");
	got = wait_for(match_arp_reply, 0, &frame, WAIT_US);
	if (!report(got, "ARP reply from 10.0.2.1 received"))
		return false;
	a = frame.data + ETH_HLEN;
	report(!memcmp(frame.data, mac, 6) && !memcmp(a + 18, mac, 6),
	       "sent to our MAC, which it names as the target");
	report(!memcmp(a + 8, frame.data + 6, 6) && !(a[8] & 1),
	       "the sender's MAC is the frame's source, a unicast address");
	if (host_mac_known)
		report(!memcmp(a + 8, host_mac, 6),
		       "the sender is the tap (host_mac=)");
	else
		memcpy(host_mac, a + 8, 6);
	host_mac_known = true;
	if (on_wisp)
		report(frame.hdr.num_buffers == 1,
		       WISP_ONLY "virtio_net_hdr num_buffers 1 without MRG_RXBUF (read %u)",
		       frame.hdr.num_buffers);
	else
		report_skip(WISP_ONLY "num_buffers 1 without MRG_RXBUF (QEMU leaves %u there)",
			    frame.hdr.num_buffers);
	report(frame.hdr.flags == 0 && frame.hdr.gso_type == 0,
	       "flags 0 and gso_type NONE (no guest offloads negotiated)");
	rx_done(&frame);
	return true;
}

#define BURST		8
#define BURST_SEQ	10

static void test_ping(void)
{
	bool sent = true, seen[BURST] = { false };
	unsigned int good = 0;
	struct echo e;

	test_begin("virtio-net-ping");
	ping_report(1, PING_SMALL, ONE_DESC, "one descriptor");
	ping_report(2, PING_SMALL, HDR_APART, "header apart");
	ping_report(3, PING_SMALL, HDR_SPLIT, "header split 5 + 7 bytes");
	ping_report(4, PING_LARGE, ONE_DESC, "large");
	/* A burst: all requests out before any reply is looked at. */
	for (u16 i = 0; i < BURST; i++) {
		u32 n = echo_request(txmem + NET_HDR_LEN, BURST_SEQ + i,
				     100 + i);

		sent &= tx_frame(txmem, n, ONE_DESC) == 0;
	}
	while (good < BURST &&
	       wait_for(match_echo_range,
			BURST_SEQ | (u64)(BURST_SEQ + BURST) << 16, &frame,
			WAIT_US)) {
		u16 i = get16(frame.data + ETH_HLEN + IP_HLEN + 6) - BURST_SEQ;

		memset(&e, 0, sizeof(e));
		check_reply(&e, &frame, BURST_SEQ + i, 100 + i);
		if (!seen[i] && e.eth_ok && e.ip_ok && e.icmp_ok &&
		    e.payload_ok) {
			seen[i] = true;
			good++;
		}
		rx_done(&frame);
	}
	report(sent && good == BURST,
	       "a burst of %u echo requests sent back to back: every reply came, intact",
	       BURST);
}

static void test_mrg(void)
{
	struct echo e;
	bool ok, lens_ok = true;
	u32 total = 0;

	test_begin("virtio-net-mrg-rxbuf");
	if (!report(bring_up(VIRTIO_F_VERSION_1 | NET_BASIC | NET_F_MRG_RXBUF),
		    "reset, negotiated MRG_RXBUF, %u RX chains of %u bytes",
		    RX_SLOTS, RX_SMALL))
		return;
	rx_fill(0, RX_SLOTS, RX_SMALL);
	ok = ping(&e, 20, PING_SMALL, ONE_DESC, WAIT_US);
	report(ok && e.f->bufs == 1 && e.f->hdr.num_buffers == 1,
	       "a small echo reply fits one buffer: num_buffers 1");
	if (e.got)
		rx_done(e.f);
	ok = ping(&e, 21, PING_LARGE, ONE_DESC, WAIT_US);
	if (e.got) {
		for (unsigned int i = 0; i < e.f->bufs; i++) {
			total += e.f->used_len[i];
			lens_ok &= e.f->used_len[i] > 0 &&
				   e.f->used_len[i] <= RX_SMALL;
		}
		printf("virtio-net: %u-byte reply in %u buffers, num_buffers %u\n",
		       e.f->len, e.f->bufs, e.f->hdr.num_buffers);
	}
	report(e.got && e.f->hdr.num_buffers > 1 &&
	       e.f->hdr.num_buffers == e.f->bufs,
	       "a %u-byte echo reply spreads over several buffers: num_buffers > 1, as many used entries",
	       PING_LARGE);
	report(e.got && lens_ok && total == NET_HDR_LEN + e.f->len &&
	       total == NET_HDR_LEN + ETH_HLEN + IP_HLEN + ICMP_HLEN + PING_LARGE,
	       "their used lengths add up to header and frame, none over %u",
	       RX_SMALL);
	report(ok, "reassembled: same payload, IP and ICMP checksums valid");
	if (e.got)
		rx_done(e.f);
}

/* --- hostile guest ----------------------------------------------------- */

/* Hostile RX chains: readable, 4 writable bytes, readable + writable. */
static void post_bad_rx(void)
{
	fill(badmem[0], RX_SLOT_BYTES, 99);
	virtq_desc(&rxq, BAD_DESC, badmem[0], RX_SLOT_BYTES, 0, 0);
	virtq_desc(&rxq, BAD_DESC + 1, badmem[1], 4, VRING_DESC_F_WRITE, 0);
	virtq_desc(&rxq, BAD_DESC + 2, badmem[2], NET_HDR_LEN,
		   VRING_DESC_F_NEXT, BAD_DESC + 3);
	virtq_desc(&rxq, BAD_DESC + 3, badmem[3], RX_SLOT_BYTES,
		   VRING_DESC_F_WRITE, 0);
	for (unsigned int i = 0; i < NR_BAD; i++)
		virtq_publish(&rxq, BAD_DESC + i);
}

static void test_hostile(void)
{
	struct seg segs[5];
	u8 *big = bigmem + NET_HDR_LEN;
	bool all_back = true;
	u64 deadline;
	int tx;

	test_begin("virtio-net-hostile");
	if (!report(bring_up(VIRTIO_F_VERSION_1 | NET_BASIC),
		    "reset, negotiated VERSION_1 MAC STATUS again"))
		return;
	if (on_wisp)
		post_bad_rx();
	rx_fill(0, 16, RX_SLOT_BYTES);

	memset(bigmem, 0, NET_HDR_LEN);
	eth_header(big, host_mac, ETH_P_TEST);
	segs[0] = (struct seg){ bigmem, NET_HDR_LEN };
	for (unsigned int i = 1; i < 5; i++)
		segs[i] = (struct seg){ big + (i - 1) * 17497, 17497 };
	tx = tx_chain(segs, 5);
	report(tx == 0 && !needs_reset(),
	       "a TX frame of %u bytes with its header (over %u) in 5 descriptors comes back with used length 0, no reset (got %d)",
	       NET_HDR_LEN + 4 * 17497, NET_TX_MAX, tx);

	if (on_wisp) {
		segs[0] = (struct seg){ txmem, 4 };
		tx = tx_chain(segs, 1);
		report(tx == 0 && !needs_reset(),
		       WISP_ONLY "a TX chain of 4 bytes (shorter than the header) comes back with used length 0, no reset (got %d)",
		       tx);
	} else {
		report_skip(WISP_ONLY "a TX chain of 4 bytes comes back with used length 0 (QEMU: DEVICE_NEEDS_RESET)");
	}

	ping_report(30, PING_SMALL, ONE_DESC, "afterwards");
	if (!on_wisp) {
		report_skip(WISP_ONLY "RX chains that are readable or shorter than the header come back with used length 0 (QEMU: DEVICE_NEEDS_RESET)");
		return;
	}
	/* The device may give them back only as frames come: wait a bit. */
	deadline = tsc_deadline_us(QUIET_US);
	while (returned[0] + returned[1] + returned[2] < NR_BAD &&
	       !tsc_expired(deadline))
		if (rx_next(&frame, deadline) == RX_FRAME)
			rx_done(&frame);
	for (unsigned int i = 0; i < NR_BAD; i++) {
		all_back &= returned[i] == 1 && returned_len[i] == 0;
		if (returned[i] != 1 || returned_len[i])
			printf("virtio-net: hostile RX chain %u came back %u times, used length %u\n",
			       i, returned[i], returned_len[i]);
	}
	report(all_back && !needs_reset(),
	       WISP_ONLY "RX chains of a readable descriptor, of 4 writable bytes, and readable + writable each came back once with used length 0, no reset");
	report(matches(badmem[0], RX_SLOT_BYTES, 99),
	       WISP_ONLY "nothing was written into the readable RX descriptor");
}

/* Without MRG_RXBUF a frame larger than the chain: dropped, chain kept. */
static void test_rx_too_small(void)
{
	struct echo e;
	bool ok;

	test_begin("virtio-net-rx-too-small");
	if (!report(bring_up(VIRTIO_F_VERSION_1 | NET_BASIC),
		    "reset; only one RX chain of %u bytes", RX_SMALL))
		return;
	rx_fill(0, 1, RX_SMALL);
	ping(&e, 40, PING_LARGE, ONE_DESC, QUIET_US);
	if (e.got)
		rx_done(e.f);
	report(e.tx == 0 && !e.got && !needs_reset(),
	       "a %u-byte echo reply is not delivered into it (dropped), no reset",
	       PING_LARGE);
	ok = ping(&e, 41, PING_SMALL, ONE_DESC, WAIT_US);
	report(ok && e.f->slots[0] == 0,
	       "the chain was kept: the next, small reply arrives in it");
	/* Chain 0 stays out: larger ones take the next large reply. */
	rx_fill(1, 15, RX_SLOT_BYTES);
	ping_report(42, PING_LARGE, ONE_DESC, "with 2 KiB chains posted");
	report(!needs_reset() &&
	       virtio_status(&net) == (VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER |
				       VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK),
	       "the device kept working: DRIVER_OK, no DEVICE_NEEDS_RESET");
}

int main(void)
{
	on_wisp = testdev_present();
	if (!test_probe() || !test_arp())
		return 0;
	test_ping();
	test_mrg();
	test_hostile();
	test_rx_too_small();
	report(!rx_error[0], "every used RX entry was well-formed%s%s",
	       rx_error[0] ? ": " : "", rx_error);
	printf("virtio-net: %u other frames skipped, %u ARP requests answered\n",
	       skipped, arp_answered);
	virtio_reset(&net, WAIT_US);
	return 0;
}
