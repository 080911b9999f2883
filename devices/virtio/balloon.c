// SPDX-License-Identifier: Apache-2.0
/* virtio-balloon (balloon.h, docs/memory.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../options.h"
#include "balloon.h"
#include "pci.h"
#include "virtq.h"

/* ---- --balloon ---------------------------------------------------------------- */

enum { OPT_DEFLATE_ON_OOM, OPT_REPORTING, OPT_STATS };

static const char *const balloon_keys[] = {
	"deflate_on_oom", "free_page_reporting", "stats", NULL,
};

#define BALLOON_KEYS "deflate_on_oom, free_page_reporting, stats"
#define STATS_INTERVAL_MAX	3600

int balloon_parse_options(const char *spec, struct balloon_options *o,
			  char *msg, size_t msg_len)
{
	char value[32], key[OPT_KEY_MAX];
	const char *p = spec;
	unsigned int seen = 0;
	unsigned long n;
	int ret;

	memset(o, 0, sizeof(*o));
	while ((ret = opt_next(&p, key, value, sizeof(value), BALLOON_KEYS,
			       msg, msg_len)) > 0) {
		switch (opt_key(key, balloon_keys, &seen, BALLOON_KEYS, msg,
				msg_len)) {
		case OPT_DEFLATE_ON_OOM:
			if (opt_onoff(key, value, &o->deflate_on_oom, msg,
				      msg_len))
				return -EINVAL;
			break;
		case OPT_REPORTING:
			if (opt_onoff(key, value, &o->free_page_reporting, msg,
				      msg_len))
				return -EINVAL;
			break;
		case OPT_STATS:
			if (opt_uint(key, value, 1, STATS_INTERVAL_MAX, &n, msg,
				     msg_len))
				return -EINVAL;
			o->stats_interval = n;
			break;
		default:
			return -EINVAL;
		}
	}
	return ret < 0 ? -EINVAL : 0;
}

/* ---- the device ------------------------------------------------------------------ */

#define F_MUST_TELL_HOST	0
#define F_STATS_VQ		1
#define F_DEFLATE_ON_OOM	2
#define F_REPORTING		5

#define CONFIG_SIZE		8	/* num_pages, actual */
#define STAT_ENTRY		10	/* le16 tag, le64 value */
#define MAX_SEGS		64	/* buffers per chain */

enum queue_role { Q_NONE, Q_INFLATE, Q_DEFLATE, Q_STATS, Q_REPORTING };

#define N_QUEUES_MAX		4

struct balloon_vq {
	struct balloon_dev *dev;
	unsigned int index;
	enum queue_role role;		/* set when the driver enables it */
	struct virtq q;
	struct host_watch kick;
	bool broken_told;
};

struct balloon_dev {
	struct virtio_pci vp;		/* first: the transport's callbacks cast */
	const struct host_services *hs;
	struct balloon_options opts;
	uint64_t ram_pages;
	uint32_t num_pages, actual;	/* configuration; the transport's lock */
	unsigned int n_queues;
	struct balloon_vq vq[N_QUEUES_MAX];
	struct virtq_buf bufs[MAX_SEGS];
	int reset_fd;
	struct host_watch reset_watch;
	int stats_fd;			/* timerfd; -1 without stats */
	struct host_watch stats_watch;
	bool stats_held;		/* the driver's buffer, waiting */
	uint16_t stats_head;
	uint64_t stats_time_ns;
	bool reset_pending;		/* atomic */
	bool driver_ok;			/* atomic */
	struct balloon_status st;	/* counters and the guest's stats */
};

static struct balloon_dev *dev_of(struct virtio_pci *vp)
{
	return (struct balloon_dev *)vp;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static bool running(struct balloon_dev *d)
{
	return __atomic_load_n(&d->driver_ok, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&d->reset_pending, __ATOMIC_ACQUIRE);
}

static void queue_broken(struct balloon_vq *v)
{
	if (v->broken_told)
		return;
	fprintf(stderr, "wisp: %s: queue %u: %s: device needs reset\n",
		v->dev->vp.name, v->index, v->q.why);
	v->broken_told = true;
	virtio_pci_needs_reset(&v->dev->vp);
}

/*
 * Give a run of @n pages from @pfn to the host (@inflate) or take them
 * back; a run not inside RAM is done page by page, to count the bad ones.
 */
static void pfn_run(struct balloon_dev *d, uint64_t pfn, uint64_t n,
		    bool inflate)
{
	const struct host_services *hs = d->hs;
	uint64_t gpa = pfn << BALLOON_PAGE_SHIFT;
	uint64_t len = n << BALLOON_PAGE_SHIFT, i;
	int64_t r;

	if (!n)
		return;
	if (!hs->guest_ptr(hs->ctx, gpa, len)) {
		if (n == 1) {
			d->st.bad_pfns++;
			return;
		}
		for (i = 0; i < n; i++)
			pfn_run(d, pfn + i, 1, inflate);
		return;
	}
	if (inflate) {
		r = hs->discard(hs->ctx, gpa, len, true);
		if (r > 0)
			d->st.discarded_bytes += r;
		d->st.inflated_pages += n;
	} else {
		hs->reclaim(hs->ctx, gpa, len);
		d->st.deflated_pages += n;
	}
}

/* The PFNs of one inflate or deflate chain, consecutive ones in runs. */
static void pfn_chain(struct balloon_dev *d, unsigned int n_bufs,
		      bool inflate)
{
	uint64_t run_start = 0, run_len = 0;
	unsigned int b, used = 0;

	for (b = 0; b < n_bufs; b++) {
		const struct virtq_buf *buf = &d->bufs[b];
		uint32_t i, n = buf->len / 4;

		if (buf->writable || !buf->base || buf->len % 4) {
			d->st.bad_buffers++;
			continue;
		}
		for (i = 0; i < n; i++) {
			uint64_t pfn = get_le32(buf->base + 4 * i);

			if (used++ >= BALLOON_MAX_PFNS) {
				d->st.capped_pfns += n - i;
				break;
			}
			if (run_len && pfn == run_start + run_len) {
				run_len++;
				continue;
			}
			pfn_run(d, run_start, run_len, inflate);
			run_start = pfn;
			run_len = 1;
		}
	}
	pfn_run(d, run_start, run_len, inflate);
}

/* Free page reporting: each buffer is a free range to give back. */
static void report_chain(struct balloon_dev *d, unsigned int n_bufs)
{
	const struct host_services *hs = d->hs;
	unsigned int b;

	for (b = 0; b < n_bufs; b++) {
		const struct virtq_buf *buf = &d->bufs[b];
		int64_t r;

		if (!buf->base) {
			d->st.bad_buffers++;
			continue;
		}
		d->st.reported_bytes += buf->len;
		r = hs->discard(hs->ctx, buf->gpa, buf->len, false);
		if (r > 0)
			d->st.discarded_bytes += r;
	}
}

/* A statistics buffer: up to BALLOON_MAX_STATS tag-value entries. */
static void stats_chain(struct balloon_dev *d, unsigned int n_bufs)
{
	const struct virtq_buf *buf = &d->bufs[0];
	uint32_t i, n;

	if (n_bufs != 1 || buf->writable || !buf->base) {
		d->st.bad_buffers++;
		return;
	}
	n = buf->len / STAT_ENTRY;
	if (n > BALLOON_MAX_STATS)
		n = BALLOON_MAX_STATS;
	d->st.stats_present = 0;
	for (i = 0; i < n; i++) {
		const uint8_t *e = buf->base + STAT_ENTRY * i;
		uint16_t tag = e[0] | e[1] << 8;

		if (tag >= BALLOON_STAT_TAGS)
			continue;
		d->st.stats[tag] = get_le64(e + 2);
		d->st.stats_present |= 1u << tag;
	}
	d->st.stats_updates++;
	d->stats_time_ns = now_ns();
}

static void process_queue(struct balloon_vq *v)
{
	struct balloon_dev *d = v->dev;
	struct virtq *q = &v->q;
	bool pushed = false;
	unsigned int budget;
	uint16_t head;
	int n;

	if (!running(d) || !q->active)
		return;
	for (budget = 0; budget < BALLOON_QUEUE_SIZE; budget++) {
		if (v->role == Q_STATS && d->stats_held)
			break;		/* one buffer at a time: the timer's */
		n = virtq_pop(q, d->bufs, MAX_SEGS, &head);
		if (!n) {
			virtq_notifications(q, true);
			if (virtq_pending(q))
				continue;
			break;
		}
		if (n < 0) {
			queue_broken(v);
			return;
		}
		switch (v->role) {
		case Q_INFLATE:
		case Q_DEFLATE:
			pfn_chain(d, n, v->role == Q_INFLATE);
			break;
		case Q_REPORTING:
			report_chain(d, n);
			break;
		case Q_STATS:
			stats_chain(d, n);
			d->stats_held = true;
			d->stats_head = head;
			continue;	/* kept until the next poll */
		default:
			break;
		}
		virtq_push(q, head, 0);
		pushed = true;
	}
	if (pushed && virtq_publish(q))
		virtio_pci_notify_queue(&d->vp, v->index);
}

static void on_kick(void *arg)
{
	struct balloon_vq *v = arg;

	host_drain_fd(v->dev->vp.queues[v->index].notify_fd);
	process_queue(v);
}

static struct balloon_vq *stats_vq(struct balloon_dev *d)
{
	unsigned int i;

	for (i = 0; i < d->n_queues; i++)
		if (d->vq[i].role == Q_STATS && d->vq[i].q.active)
			return &d->vq[i];
	return NULL;
}

/* Time for fresh statistics: give the driver its buffer back to refill. */
static void on_stats_timer(void *arg)
{
	struct balloon_dev *d = arg;
	struct balloon_vq *v;

	host_drain_fd(d->stats_fd);
	v = stats_vq(d);
	if (!running(d) || !v || !d->stats_held)
		return;
	d->stats_held = false;
	virtq_push(&v->q, d->stats_head, 0);
	/*
	 * The driver refills the buffer and adds it again: ask for that
	 * notification (with EVENT_IDX avail_event has not moved since the
	 * buffer was taken), then look in case it came first.
	 */
	virtq_notifications(&v->q, true);
	if (virtq_publish(&v->q))
		virtio_pci_notify_queue(&d->vp, v->index);
	process_queue(v);
}

/* Finish a reset on the I/O thread: the guest forgets its balloon. */
static void on_reset(void *arg)
{
	struct balloon_dev *d = arg;
	unsigned int i;

	host_drain_fd(d->reset_fd);
	if (!__atomic_load_n(&d->reset_pending, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&d->driver_ok, false, __ATOMIC_RELEASE);
	for (i = 0; i < d->n_queues; i++) {
		virtq_reset(&d->vq[i].q);
		d->vq[i].role = Q_NONE;
		d->vq[i].broken_told = false;
	}
	d->stats_held = false;
	/* Every page is the guest's again. */
	d->hs->reclaim(d->hs->ctx, 0, UINT64_MAX);
	pthread_mutex_lock(&d->vp.lock);
	d->actual = 0;
	pthread_mutex_unlock(&d->vp.lock);
	__atomic_store_n(&d->reset_pending, false, __ATOMIC_RELEASE);
	virtio_pci_reset_done(&d->vp);
}

/* ---- transport callbacks (vCPU threads, the transport's lock held) ---------- */

/*
 * What queue @index is, given the negotiated features (Linux's numbering).
 * The lock is held: the features are read directly.
 */
static enum queue_role role_of(struct virtio_pci *vp, unsigned int index)
{
	uint64_t f = vp->driver_features;
	unsigned int next = 2;

	if (index < 2)
		return index ? Q_DEFLATE : Q_INFLATE;
	if ((f >> F_STATS_VQ & 1) && index == next++)
		return Q_STATS;
	if ((f >> F_REPORTING & 1) && index == next)
		return Q_REPORTING;
	return Q_NONE;
}

static int op_queue_enable(struct virtio_pci *vp, unsigned int index)
{
	struct balloon_dev *d = dev_of(vp);
	enum queue_role role = role_of(vp, index);

	if (role == Q_NONE || index >= d->n_queues)
		return -EINVAL;
	d->vq[index].role = role;
	return virtio_pci_activate_virtq(vp, index, &d->vq[index].q);
}

static bool op_reset(struct virtio_pci *vp)
{
	struct balloon_dev *d = dev_of(vp);
	uint64_t one = 1;

	__atomic_store_n(&d->reset_pending, true, __ATOMIC_RELEASE);
	if (write(d->reset_fd, &one, sizeof(one)) < 0)
		return false;	/* the counter is full: a wake-up is pending */
	return false;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void op_config_read(struct virtio_pci *vp, uint64_t offset,
			   uint8_t *data, uint32_t len)
{
	struct balloon_dev *d = dev_of(vp);
	uint8_t config[CONFIG_SIZE];

	put_le32(config, d->num_pages);
	put_le32(config + 4, d->actual);
	memcpy(data, config + offset, len);
}

static void op_config_write(struct virtio_pci *vp, uint64_t offset,
			    const uint8_t *data, uint32_t len)
{
	struct balloon_dev *d = dev_of(vp);
	uint8_t config[CONFIG_SIZE];

	/* Only actual (bytes 4-7) is the driver's to write. */
	if (offset < 4) {
		vp->ignored_writes++;
		return;
	}
	put_le32(config, d->num_pages);
	put_le32(config + 4, d->actual);
	memcpy(config + offset, data, len);
	d->actual = get_le32(config + 4);
}

static void op_driver_ok(struct virtio_pci *vp)
{
	struct balloon_dev *d = dev_of(vp);
	uint64_t one = 1;
	unsigned int i;

	__atomic_store_n(&d->driver_ok, true, __ATOMIC_RELEASE);
	/* Kicks that came before DRIVER_OK were ignored: look again. */
	for (i = 0; i < d->n_queues; i++)
		if (write(vp->queues[i].notify_fd, &one, sizeof(one)) < 0)
			continue;	/* full: a wake-up is pending */
}

static struct virtq *op_queue_virtq(struct virtio_pci *vp, unsigned int index)
{
	struct balloon_dev *d = dev_of(vp);

	return index < d->n_queues ? &d->vq[index].q : NULL;
}

static const struct virtio_pci_device_ops balloon_ops = {
	.queue_enable = op_queue_enable,
	.reset = op_reset,
	.config_read = op_config_read,
	.config_write = op_config_write,
	.driver_ok = op_driver_ok,
	.queue_virtq = op_queue_virtq,
};

/* ---- construction and control ------------------------------------------------- */

struct balloon_dev *balloon_create(const struct host_services *hs,
				   const struct balloon_options *o,
				   uint64_t ram_bytes, char *msg,
				   size_t msg_len, int *err)
{
	struct balloon_dev *d = calloc(1, sizeof(*d));
	uint64_t features;
	unsigned int i;
	int ret;

	if (!d) {
		*err = -ENOMEM;
		snprintf(msg, msg_len, "out of memory");
		return NULL;
	}
	d->hs = hs;
	d->opts = *o;
	d->ram_pages = ram_bytes >> BALLOON_PAGE_SHIFT;
	d->reset_fd = d->stats_fd = -1;
	d->n_queues = 2 + (o->stats_interval ? 1 : 0) +
		      (o->free_page_reporting ? 1 : 0);
	features = 1ULL << F_MUST_TELL_HOST |
		   (o->stats_interval ? 1ULL << F_STATS_VQ : 0) |
		   (o->deflate_on_oom ? 1ULL << F_DEFLATE_ON_OOM : 0) |
		   (o->free_page_reporting ? 1ULL << F_REPORTING : 0) |
		   1ULL << VIRTIO_F_EVENT_IDX_BIT |
		   1ULL << VIRTIO_F_INDIRECT_DESC_BIT;
	ret = virtio_pci_init(&d->vp, "virtio-balloon", hs, BALLOON_DEVICE_ID,
			      BALLOON_DEVICE_ID, 0xff0000, d->n_queues,
			      BALLOON_QUEUE_SIZE, features, CONFIG_SIZE,
			      &balloon_ops, d);
	if (ret) {
		free(d);
		*err = ret;
		snprintf(msg, msg_len, "virtio-pci: %s", strerror(-ret));
		return NULL;
	}
	d->reset_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->reset_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = host_watch_start(d->hs, &d->reset_watch, d->reset_fd, on_reset, d);
	for (i = 0; !ret && i < d->n_queues; i++) {
		struct balloon_vq *v = &d->vq[i];

		v->dev = d;
		v->index = i;
		v->q.hs = hs;
		ret = host_watch_start(d->hs, &v->kick,
				       d->vp.queues[i].notify_fd, on_kick, v);
	}
	if (!ret && o->stats_interval) {
		struct itimerspec its = {
			.it_value = { .tv_sec = o->stats_interval },
			.it_interval = { .tv_sec = o->stats_interval },
		};

		d->stats_fd = timerfd_create(CLOCK_MONOTONIC,
					     TFD_NONBLOCK | TFD_CLOEXEC);
		if (d->stats_fd < 0 ||
		    timerfd_settime(d->stats_fd, 0, &its, NULL))
			ret = -errno;
		else
			ret = host_watch_start(d->hs, &d->stats_watch,
					       d->stats_fd, on_stats_timer, d);
	}
	if (ret)
		goto fail;
	return d;
fail:
	*err = ret;
	snprintf(msg, msg_len, "%s", strerror(-ret));
	balloon_destroy(d);
	return NULL;
}

struct pci_device *balloon_pci_device(struct balloon_dev *d)
{
	return &d->vp.pd;
}

int balloon_set_target(struct balloon_dev *d, uint64_t bytes)
{
	uint64_t pages = bytes >> BALLOON_PAGE_SHIFT;

	if (pages > d->ram_pages || pages > UINT32_MAX)
		return -ERANGE;
	pthread_mutex_lock(&d->vp.lock);
	d->num_pages = pages;
	pthread_mutex_unlock(&d->vp.lock);
	virtio_pci_notify_config(&d->vp);
	return 0;
}

void balloon_get_status(struct balloon_dev *d, struct balloon_status *s)
{
	uint64_t features;

	*s = d->st;
	pthread_mutex_lock(&d->vp.lock);
	s->target_pages = d->num_pages;
	s->actual_pages = d->actual;
	features = d->vp.status & VIRTIO_STATUS_FEATURES_OK ?
		   d->vp.driver_features : 0;
	pthread_mutex_unlock(&d->vp.lock);
	s->stats_queue = features >> F_STATS_VQ & 1;
	s->deflate_on_oom = features >> F_DEFLATE_ON_OOM & 1;
	s->free_page_reporting = features >> F_REPORTING & 1;
	s->stats_age_ms = s->stats_updates ?
			  (now_ns() - d->stats_time_ns) / 1000000 : 0;
}

/* ---- snapshots -------------------------------------------------------------- */

int balloon_quiesce(struct balloon_dev *d)
{
	on_reset(d);		/* a reset the driver asked for, finished */
	return 0;
}

void balloon_save(struct balloon_dev *d, struct state_writer *w)
{
	uint8_t stats[8 * BALLOON_STAT_TAGS];
	unsigned int i, k;

	for (i = 0; i < BALLOON_STAT_TAGS; i++)
		for (k = 0; k < 8; k++)
			stats[8 * i + k] = d->st.stats[i] >> (56 - 8 * k);
	state_put_u64(w, "ram-pages", d->ram_pages);
	state_put_u32(w, "queues", d->n_queues);
	pthread_mutex_lock(&d->vp.lock);
	state_put_u32(w, "num-pages", d->num_pages);
	state_put_u32(w, "actual", d->actual);
	pthread_mutex_unlock(&d->vp.lock);
	state_put_u32(w, "stats-held", d->stats_held);
	state_put_u32(w, "stats-head", d->stats_head);
	state_put_u64(w, "stats-updates", d->st.stats_updates);
	state_put_u32(w, "stats-present", d->st.stats_present);
	state_put_bytes(w, "stats", stats, sizeof(stats));
	virtio_pci_save(&d->vp, w);
}

void balloon_load(struct balloon_dev *d, struct state_reader *r, int node)
{
	uint64_t ram_pages = state_get_u64(r, node, "ram-pages");
	uint32_t queues = state_get_u32(r, node, "queues");
	uint32_t num_pages = state_get_u32(r, node, "num-pages");
	uint32_t actual = state_get_u32(r, node, "actual");
	bool held = state_get_u32_max(r, node, "stats-held", 1);
	uint16_t head = state_get_u32_max(r, node, "stats-head", 0xffff);
	uint64_t updates = state_get_u64(r, node, "stats-updates");
	uint32_t present = state_get_u32_max(r, node, "stats-present",
					     (1u << BALLOON_STAT_TAGS) - 1);
	uint8_t stats[8 * BALLOON_STAT_TAGS];
	struct balloon_vq *sv;
	unsigned int i, k;

	state_get_bytes(r, node, "stats", stats, sizeof(stats));
	if (r->failed)
		return;
	if (ram_pages != d->ram_pages) {
		state_fail(r, node, "the guest has %llu pages of RAM here, %llu in the snapshot",
			   (unsigned long long)d->ram_pages,
			   (unsigned long long)ram_pages);
		return;
	}
	if (queues != d->n_queues) {
		state_fail(r, node, "%u queues here, %u in the snapshot (other --balloon options)",
			   d->n_queues, queues);
		return;
	}
	if (num_pages > d->ram_pages) {
		state_fail(r, node, "num-pages %u is more than the guest's %llu pages",
			   num_pages, (unsigned long long)d->ram_pages);
		return;
	}
	virtio_pci_load(&d->vp, r, node);
	if (r->failed)
		return;
	/* Chains are handled when taken; only the statistics one is held. */
	sv = stats_vq(d);
	for (i = 0; i < d->n_queues; i++) {
		struct balloon_vq *v = &d->vq[i];
		uint16_t n = v->q.active ? v->q.last_avail - v->q.used_idx : 0;

		v->broken_told = v->q.broken;
		if (v == sv && held) {
			if (n != 1 || head >= v->q.size ||
			    !(v->q.in_flight[head / 64] >> (head % 64) & 1)) {
				state_fail(r, node, "stats-head %u is not the one chain in flight on the statistics queue",
					   head);
				return;
			}
		} else if (n) {
			state_fail(r, node, "queue %u has %u chains in flight; the balloon holds none there",
				   i, n);
			return;
		}
	}
	if (held && !sv) {
		state_fail(r, node, "a statistics buffer is held without a statistics queue");
		return;
	}
	pthread_mutex_lock(&d->vp.lock);
	d->num_pages = num_pages;
	d->actual = actual;
	pthread_mutex_unlock(&d->vp.lock);
	d->stats_held = held;
	d->stats_head = held ? head : 0;
	d->st.stats_updates = updates;
	d->st.stats_present = present;
	for (i = 0; i < BALLOON_STAT_TAGS; i++) {
		d->st.stats[i] = 0;
		for (k = 0; k < 8; k++)
			d->st.stats[i] = d->st.stats[i] << 8 | stats[8 * i + k];
	}
	d->stats_time_ns = now_ns();
}

void balloon_destroy(struct balloon_dev *d)
{
	unsigned int i;

	if (!d)
		return;
	for (i = 0; i < d->n_queues; i++)
		host_watch_stop(d->hs, &d->vq[i].kick);
	host_watch_stop(d->hs, &d->reset_watch);
	host_watch_stop(d->hs, &d->stats_watch);
	if (d->reset_fd >= 0)
		close(d->reset_fd);
	if (d->stats_fd >= 0)
		close(d->stats_fd);
	virtio_pci_destroy(&d->vp);
	free(d);
}
