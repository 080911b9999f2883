// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk: a small guest driver (guest-tests/lib/virtio.c, polled, no
 * interrupts) against wisp's virtio-pci transport and blk device.  Disks
 * (tests.list): disk 0 read-write with `disk_sectors` sectors, serial
 * `serial` and two queues; disk 1 read-only, filled by the runner so that
 * every 8-byte word holds its own byte offset ({disk:SIZE:numbered}).
 *
 * Normal use: BAR placement, the five capabilities, features, capacity,
 * GET_ID, write/read patterns at the start, middle and end of the disk,
 * FLUSH, a full queue of requests in flight with one kick, the second
 * queue, the read-only disk, and requests that must fail (out of range,
 * across the end, not whole sectors, unknown type).  Pattern loops run at
 * CPL3 (native speed under PVM).
 *
 * Hostile guest (bad-inputs.md): a descriptor loop (row 1), an avail
 * index far ahead (row 5), a data buffer outside RAM (row 9), a queue of
 * size 3 (row 14).  Each gets its documented outcome (DEVICE_NEEDS_RESET
 * with a configuration-change ISR bit, or IOERR), then the driver resets
 * the device and a normal request works again: wisp keeps running.
 */
#include "guest.h"
#include "virtio.h"

#define BLK_T_IN		0
#define BLK_T_OUT		1
#define BLK_T_FLUSH		4
#define BLK_T_GET_ID		8
#define BLK_S_OK		0
#define BLK_S_IOERR		1
#define BLK_S_UNSUPP		2
#define BLK_F_SEG_MAX		(1ULL << 2)
#define BLK_F_RO		(1ULL << 5)
#define BLK_F_BLK_SIZE		(1ULL << 6)
#define BLK_F_FLUSH		(1ULL << 9)
#define BLK_F_MQ		(1ULL << 12)
#define BLK_CFG_CAPACITY	0
#define BLK_CFG_BLK_SIZE	20
#define BLK_CFG_NUM_QUEUES	34
#define SECTOR			512

#define QSIZE			64
#define SLOTS			(QSIZE / 3)	/* three descriptors a request */
#define IO_BYTES		(16 * 1024)
#define WAIT_US			5000000
/* In the 32-bit PCI window, away from where wisp put the BARs. */
#define BAR_RW			0xd0000000UL
#define BAR_RO			0xd0010000UL
/* Past the end of this guest's RAM (64 MiB), below the PCI window. */
#define OUTSIDE_RAM		0x80000000UL

struct blk_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
};

struct slot {
	struct blk_hdr hdr;
	u8 status;
} __aligned(64);

/* Rings: disk 0's queues 0 and 1, the read-only disk's queue 0. */
static u8 qmem[3][VIRTQ_MEM_SIZE(QSIZE)] __aligned(4096);
static u8 ram_under_bar[0x8000] __aligned(0x8000);
static u8 data[SLOTS][IO_BYTES] __aligned(4096);
static struct slot slots[SLOTS];

static struct virtio_dev rw, ro;
static struct virtq q0, q1, qro;
static u64 capacity;
static u32 used_len;		/* of the last request() */

/* --- pattern loops, run at CPL3 ------------------------------------- */

struct pattern {
	u64 *buf;
	u64 words;
	u64 seed;
};

static u64 pattern_word(u64 seed, u64 i)
{
	u64 x = seed * 0x9e3779b97f4a7c15ULL + i;

	x ^= x >> 29;
	return x * 0xbf58476d1ce4e5b9ULL;
}

static u64 fill_user(u64 arg)
{
	struct pattern *p = (struct pattern *)arg;

	for (u64 i = 0; i < p->words; i++)
		p->buf[i] = pattern_word(p->seed, i);
	return 0;
}

/* Returns the number of words that differ. */
static u64 check_user(u64 arg)
{
	struct pattern *p = (struct pattern *)arg;
	u64 bad = 0;

	for (u64 i = 0; i < p->words; i++)
		bad += p->buf[i] != pattern_word(p->seed, i);
	return bad;
}

/* Words that do not hold their own disk byte offset (the numbered disk). */
static u64 check_numbered_user(u64 arg)
{
	struct pattern *p = (struct pattern *)arg;
	u64 bad = 0;

	for (u64 i = 0; i < p->words; i++)
		bad += p->buf[i] != p->seed + 8 * i;
	return bad;
}

static void fill(void *buf, u32 len, u64 seed)
{
	struct pattern p = { buf, len / 8, seed };

	run_user(fill_user, (u64)&p);
}

static bool matches(void *buf, u32 len, u64 seed)
{
	struct pattern p = { buf, len / 8, seed };

	return run_user(check_user, (u64)&p) == 0;
}

/* --- requests ------------------------------------------------------- */

/* Lay out request @s (descriptors 3s..3s+2) and publish it. */
static void queue_request(struct virtq *q, unsigned int s, u32 type,
			  u64 sector, const void *buf, u32 len)
{
	u16 d = 3 * s;

	slots[s].hdr = (struct blk_hdr){ .type = type, .sector = sector };
	slots[s].status = 0xff;
	virtq_desc(q, d, &slots[s].hdr, sizeof(slots[s].hdr),
		   VRING_DESC_F_NEXT, d + 1);
	if (len) {
		u16 dir = type == BLK_T_OUT ? 0 : VRING_DESC_F_WRITE;

		virtq_desc(q, d + 1, buf, len, dir | VRING_DESC_F_NEXT, d + 2);
		virtq_desc(q, d + 2, &slots[s].status, 1, VRING_DESC_F_WRITE, 0);
	} else {
		virtq_desc(q, d + 1, &slots[s].status, 1, VRING_DESC_F_WRITE,
			   0);
	}
	virtq_publish(q, d);
}

/*
 * One request on slot 0, waited for: the status byte, or -1 when no used
 * entry came (or it named another head).  The used length goes to
 * used_len.
 */
static int request(struct virtq *q, u32 type, u64 sector, const void *buf,
		   u32 len)
{
	u32 id;

	queue_request(q, 0, type, sector, buf, len);
	virtq_kick(q);
	if (!virtq_wait_used(q, WAIT_US, &id, &used_len) || id != 0)
		return -1;
	return slots[0].status;
}

/* Reset, negotiate @features, set up @nq queues of QSIZE, DRIVER_OK. */
static bool bring_up(struct virtio_dev *d, u64 features, struct virtq *qa,
		     struct virtq *qb, u8 (*mem)[VIRTQ_MEM_SIZE(QSIZE)])
{
	if (!virtio_negotiate(d, features))
		return false;
	virtq_setup(qa, d, 0, QSIZE, mem[0]);
	if (qb)
		virtq_setup(qb, d, 1, QSIZE, mem[1]);
	virtio_set_status(d, VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER |
			  VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK);
	virtio_isr(d);		/* start from a clear ISR */
	return virtio_status(d) == (VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER |
				    VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK);
}

static bool bring_up_rw(void)
{
	return bring_up(&rw, BLK_F_FLUSH | BLK_F_BLK_SIZE | BLK_F_MQ, &q0,
			&q1, qmem);
}

/* --- normal use ----------------------------------------------------- */

static bool test_probe(void)
{
	u64 want = cmdline_get_ulong("disk_sectors", 0);
	u64 offered;
	pci_devfn fn;

	test_begin("virtio-blk-probe");
	if (!report(pci_find(VIRTIO_VENDOR, VIRTIO_DEV_BLK, 0, &fn),
		    "a virtio-blk function (1af4:1042) is on bus 0"))
		return false;
	report(pci_bar_size(fn, 0) == 0x8000,
	       "BAR 0 sizes as 32 KiB (all-ones written, mask read back)");
	if (!report(virtio_open(&rw, VIRTIO_DEV_BLK, 0, BAR_RW),
		    "BAR 0 moved to %#lx; common, notify, ISR and device regions found",
		    BAR_RW))
		return false;
	report(pci_bar_addr(rw.fn, 0) == BAR_RW,
	       "BAR 0 reads back where the guest put it");
	report(rw.caps_seen == 0x3e,
	       "all five virtio capabilities (common, notify, ISR, device, PCI access)");
	offered = virtio_device_features(&rw);
	report((offered & (VIRTIO_F_VERSION_1 | BLK_F_FLUSH | BLK_F_BLK_SIZE |
			   BLK_F_SEG_MAX | BLK_F_MQ | VIRTIO_F_EVENT_IDX |
			   VIRTIO_F_INDIRECT_DESC)) ==
	       (VIRTIO_F_VERSION_1 | BLK_F_FLUSH | BLK_F_BLK_SIZE |
		BLK_F_SEG_MAX | BLK_F_MQ | VIRTIO_F_EVENT_IDX |
		VIRTIO_F_INDIRECT_DESC) && !(offered & BLK_F_RO),
	       "features offered: VERSION_1 FLUSH BLK_SIZE SEG_MAX MQ EVENT_IDX INDIRECT, not RO (%#lx)",
	       offered);
	report(!virtio_negotiate(&rw, 1ULL << 63) &&
	       !(virtio_status(&rw) & VIRTIO_FEATURES_OK),
	       "FEATURES_OK refused for a feature never offered");
	if (!report(bring_up_rw(), "reset, negotiation, two queues, DRIVER_OK"))
		return false;
	capacity = virtio_cfg64(&rw, BLK_CFG_CAPACITY);
	report(capacity == want, "capacity %lu sectors (expected %lu)",
	       capacity, want);
	report(virtio_cfg32(&rw, BLK_CFG_BLK_SIZE) == SECTOR,
	       "block size 512");
	report(readw(rw.devcfg + BLK_CFG_NUM_QUEUES) == 2 &&
	       virtio_num_queues(&rw) == 2, "two queues (queues=2)");
	return capacity == want && capacity >= 64;
}

static void test_get_id(void)
{
	const char *serial = cmdline_get("serial");
	static char id[20] __aligned(64);
	size_t n = serial ? strlen(serial) : 0;
	bool padded = true;

	test_begin("virtio-blk-get-id");
	memset(id, 0x55, sizeof(id));
	if (!report(serial && n <= sizeof(id), "serial= given, 20 bytes at most"))
		return;
	report(request(&q0, BLK_T_GET_ID, 0, id, sizeof(id)) == BLK_S_OK,
	       "GET_ID completes OK");
	for (size_t i = n; i < sizeof(id); i++)
		padded &= id[i] == 0;
	report(!strncmp(id, serial, n) && padded,
	       "GET_ID returns the serial '%s', NUL-padded to 20 bytes", serial);
}

static void test_patterns(void)
{
	const u64 at[] = { 0, capacity / 2 - 3, capacity - IO_BYTES / SECTOR };
	bool ok = true;

	test_begin("virtio-blk-patterns");
	for (unsigned int i = 0; i < ARRAY_SIZE(at); i++) {
		fill(data[0], IO_BYTES, at[i] + 1);
		ok &= request(&q0, BLK_T_OUT, at[i], data[0], IO_BYTES) ==
		      BLK_S_OK;
	}
	report(ok && used_len == 1,
	       "16 KiB writes at sectors 0, %lu and %lu (the last ones); used length 1 (the status byte)",
	       at[1], at[2]);
	ok = true;
	for (unsigned int i = 0; i < ARRAY_SIZE(at); i++) {
		memset(data[0], 0, IO_BYTES);
		ok &= request(&q0, BLK_T_IN, at[i], data[0], IO_BYTES) ==
		      BLK_S_OK && used_len == IO_BYTES + 1 &&
		      matches(data[0], IO_BYTES, at[i] + 1);
	}
	report(ok, "the same sectors read back the patterns written; used length 16 KiB + 1");
	report(request(&q0, BLK_T_FLUSH, 0, NULL, 0) == BLK_S_OK,
	       "FLUSH completes OK");
}

/* SLOTS requests published before one kick; all complete, in any order. */
static void test_in_flight(void)
{
	bool seen[SLOTS] = { false }, ok = true;
	unsigned int s, got = 0;
	u32 id, len;

	test_begin("virtio-blk-in-flight");
	for (s = 0; s < SLOTS; s++) {
		fill(data[s], IO_BYTES, 1000 + s);
		queue_request(&q0, s, BLK_T_OUT, 64 + s * (IO_BYTES / SECTOR),
			      data[s], IO_BYTES);
	}
	virtq_kick(&q0);
	while (got < SLOTS && virtq_wait_used(&q0, WAIT_US, &id, &len)) {
		if (id % 3 || id / 3 >= SLOTS || seen[id / 3])
			ok = false;
		else
			seen[id / 3] = true;
		got++;
	}
	for (s = 0; s < SLOTS; s++)
		ok &= seen[s] && slots[s].status == BLK_S_OK;
	report(ok && got == SLOTS,
	       "%u writes in flight at once (one kick): each completed once, OK",
	       SLOTS);
	ok = true;
	for (s = 0; s < SLOTS; s++) {
		memset(data[s], 0, IO_BYTES);
		ok &= request(&q0, BLK_T_IN, 64 + s * (IO_BYTES / SECTOR),
			      data[s], IO_BYTES) == BLK_S_OK &&
		      matches(data[s], IO_BYTES, 1000 + s);
	}
	report(ok, "each of them reads back its own data");
}

static void test_second_queue(void)
{
	test_begin("virtio-blk-multiqueue");
	fill(data[1], SECTOR, 77);
	memset(data[2], 0, SECTOR);
	report(request(&q1, BLK_T_OUT, 7, data[1], SECTOR) == BLK_S_OK &&
	       request(&q0, BLK_T_IN, 7, data[2], SECTOR) == BLK_S_OK &&
	       matches(data[2], SECTOR, 77),
	       "a write on queue 1 is read back on queue 0");
}

static void test_errors(void)
{
	test_begin("virtio-blk-errors");
	report(request(&q0, BLK_T_IN, capacity, data[0], SECTOR) ==
	       BLK_S_IOERR, "read at sector == capacity: IOERR");
	report(request(&q0, BLK_T_OUT, capacity - 1, data[0], 2 * SECTOR) ==
	       BLK_S_IOERR, "write across the end of the disk: IOERR");
	report(request(&q0, BLK_T_IN, ~0ULL, data[0], SECTOR) == BLK_S_IOERR,
	       "sector 2^64-1 (the range wraps): IOERR");
	report(request(&q0, BLK_T_IN, 0, data[0], 100) == BLK_S_IOERR,
	       "read of 100 bytes (not whole sectors): IOERR");
	report(request(&q0, 99, 0, data[0], SECTOR) == BLK_S_UNSUPP,
	       "unknown request type 99: UNSUPP");
	report(request(&q0, BLK_T_IN, 0, data[0], SECTOR) == BLK_S_OK,
	       "a good request afterwards: OK");
}

static void test_read_only(void)
{
	struct pattern p = { (u64 *)data[0], IO_BYTES / 8, 0 };

	test_begin("virtio-blk-read-only");
	if (!report(virtio_open(&ro, VIRTIO_DEV_BLK, 1, BAR_RO),
		    "the second disk found, BAR 0 at %#lx", BAR_RO))
		return;
	report(virtio_device_features(&ro) & BLK_F_RO,
	       "read-only disk offers VIRTIO_BLK_F_RO");
	if (!report(bring_up(&ro, BLK_F_RO, &qro, NULL, &qmem[2]),
		    "read-only disk up"))
		return;
	p.seed = 8 * SECTOR;
	report(request(&qro, BLK_T_IN, 8, data[0], IO_BYTES) == BLK_S_OK &&
	       run_user(check_numbered_user, (u64)&p) == 0,
	       "sectors 8-39 read the runner's numbered contents");
	fill(data[1], SECTOR, 5);
	report(request(&qro, BLK_T_OUT, 8, data[1], SECTOR) == BLK_S_IOERR,
	       "a write to the read-only disk: IOERR");
	memset(data[0], 0, IO_BYTES);
	report(request(&qro, BLK_T_IN, 8, data[0], IO_BYTES) == BLK_S_OK &&
	       run_user(check_numbered_user, (u64)&p) == 0,
	       "and the sector is unchanged");
	virtio_reset(&ro, WAIT_US);
}

/* --- hostile guest -------------------------------------------------- */

/*
 * Row 24: a BAR moved onto RAM, or onto another device's BAR, with
 * decoding on is stored but not mapped: RAM stays RAM, the other device
 * keeps its addresses; moved back, the BAR works again.
 */
static void test_bar_moves(void)
{
	u32 *ram = (u32 *)ram_under_bar;
	bool ok = true;

	test_begin("virtio-blk-hostile-bar");
	if (!ro.common) {
		report_skip("BAR moves: the read-only disk is not up");
		return;
	}
	for (unsigned int i = 0; i < sizeof(ram_under_bar) / 4; i++)
		ram[i] = 0x5a5a0000 + i;
	pci_bar_place(rw.fn, 0, (u64)ram_under_bar);
	report(pci_bar_addr(rw.fn, 0) == (u64)ram_under_bar,
	       "BAR moved onto RAM at %p: the value is stored", ram_under_bar);
	for (unsigned int i = 0; i < sizeof(ram_under_bar) / 4; i += 97)
		ok &= readl((u64)&ram[i]) == 0x5a5a0000 + i;
	writel((u64)&ram[5], 0x12345678);	/* device status byte's word */
	report(ok && ram[5] == 0x12345678,
	       "the RAM under it still reads and writes as RAM");
	pci_bar_place(rw.fn, 0, BAR_RO);
	report(readw(ro.common + 0x12) == 1,
	       "BAR moved onto the other disk's BAR: that disk still answers there (1 queue)");
	pci_bar_place(rw.fn, 0, BAR_RW);
	report(virtio_status(&rw) == (VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER |
				      VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK) &&
	       request(&q0, BLK_T_IN, 0, data[0], SECTOR) == BLK_S_OK,
	       "moved back, the device works where it was");
}

/*
 * After a hostile request: NEEDS_RESET shows within the wait, the ISR has
 * the configuration bit, and after a reset and bring-up the disk works.
 */
static void expect_needs_reset_then_recover(const char *what)
{
	u64 deadline = tsc_deadline_us(WAIT_US);
	u8 status;

	while (!((status = virtio_status(&rw)) & VIRTIO_NEEDS_RESET) &&
	       !tsc_expired(deadline))
		cpu_relax();
	report(status & VIRTIO_NEEDS_RESET,
	       "%s: DEVICE_NEEDS_RESET (status %#x)", what, status);
	report(virtio_isr(&rw) & VIRTIO_ISR_CONFIG,
	       "%s: configuration change signalled (ISR bit 1)", what);
	report(virtio_reset(&rw, WAIT_US) && bring_up_rw() &&
	       request(&q0, BLK_T_IN, 0, data[0], SECTOR) == BLK_S_OK,
	       "%s: after a reset the disk works again", what);
}

static void test_descriptor_loop(void)
{
	test_begin("virtio-blk-hostile-loop");
	slots[0].hdr = (struct blk_hdr){ .type = BLK_T_IN };
	virtq_desc(&q0, 0, &slots[0].hdr, sizeof(slots[0].hdr),
		   VRING_DESC_F_NEXT, 1);
	/* Writable only after the header, so that the order is right. */
	virtq_desc(&q0, 1, data[0], SECTOR,
		   VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	virtq_desc(&q0, 2, data[1], SECTOR,
		   VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	virtq_publish(&q0, 0);
	virtq_kick(&q0);
	expect_needs_reset_then_recover("descriptor loop 0 -> 1 -> 2 -> 1");
}

static void test_avail_far_ahead(void)
{
	test_begin("virtio-blk-hostile-avail");
	virtq_set_avail_idx(&q0, q0.avail_idx + QSIZE + 5);
	virtq_kick(&q0);
	expect_needs_reset_then_recover("avail index queue size + 5 ahead");
}

static void test_buffer_outside_ram(void)
{
	test_begin("virtio-blk-hostile-buffer");
	report(request(&q0, BLK_T_IN, 0, (void *)OUTSIDE_RAM, SECTOR) ==
	       BLK_S_IOERR,
	       "read into a buffer outside RAM (%#lx): IOERR", OUTSIDE_RAM);
	report(request(&q0, BLK_T_OUT, 0, (void *)(64ULL << 20) - 256,
		       SECTOR) == BLK_S_IOERR,
	       "write from a buffer across the end of RAM: IOERR");
	report(!(virtio_status(&rw) & VIRTIO_NEEDS_RESET) &&
	       request(&q0, BLK_T_IN, 0, data[0], SECTOR) == BLK_S_OK,
	       "the queue keeps working (no reset needed)");
}

static void test_bad_queue_size(void)
{
	test_begin("virtio-blk-hostile-queue-size");
	report(virtio_negotiate(&rw, BLK_F_FLUSH), "renegotiated");
	virtq_setup(&q0, &rw, 0, 3, qmem[0]);
	virtio_set_status(&rw, VIRTIO_ACKNOWLEDGE | VIRTIO_DRIVER |
			  VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK);
	report(virtio_status(&rw) & VIRTIO_NEEDS_RESET,
	       "queue size 3 (not a power of two): DEVICE_NEEDS_RESET");
	report(virtio_reset(&rw, WAIT_US) && bring_up_rw() &&
	       request(&q0, BLK_T_IN, 0, data[0], SECTOR) == BLK_S_OK,
	       "queue size 3: after a reset the disk works again");
}

int main(void)
{
	if (!test_probe())
		return 0;
	test_get_id();
	test_patterns();
	test_in_flight();
	test_second_queue();
	test_errors();
	test_read_only();
	test_bar_moves();
	test_descriptor_loop();
	test_avail_far_ahead();
	test_buffer_outside_ram();
	test_bad_queue_size();
	return 0;
}
