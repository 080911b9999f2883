// SPDX-License-Identifier: Apache-2.0
/*
 * Recording fake of struct host_services for device unit tests.  See
 * fake_host_testlib.h.  No cmocka here: every unit test binary links this
 * file, whether or not it uses it.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fake_host_testlib.h"

static void *fake_guest_ptr(void *ctx, uint64_t gpa, uint64_t len)
{
	struct fake_host *fh = ctx;
	uint64_t off;

	fh->guest_ptr_calls++;
	/* [gpa, gpa + len) inside [ram_base, ram_base + ram_size), no wrap. */
	if (!fh->ram || gpa < fh->ram_base)
		goto refuse;
	off = gpa - fh->ram_base;
	if (off > fh->ram_size || len > fh->ram_size - off)
		goto refuse;
	if (len == 0 && off == fh->ram_size)
		goto refuse;	/* an empty range must still start in RAM */
	return fh->ram + off;
refuse:
	fh->guest_ptr_refused++;
	return NULL;
}

static void fake_irq_line(void *ctx, unsigned int gsi, int level)
{
	struct fake_host *fh = ctx;

	fh->irq_calls++;
	fh->irq_last_gsi = gsi;
	fh->irq_last_level = level;
	if (gsi >= FAKE_HOST_MAX_GSI || (level != 0 && level != 1)) {
		fh->irq_bad_calls++;
		return;
	}
	fh->irq_calls_gsi[gsi]++;
	fh->irq_level[gsi] = level;
}

static void fake_request_stop(void *ctx, int status)
{
	struct fake_host *fh = ctx;

	fh->stop_status = status;
	fh->stop_count++;
}

static void fake_request_reset(void *ctx)
{
	struct fake_host *fh = ctx;

	fh->reset_count++;
}

static void fake_console_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct fake_host *fh = ctx;
	size_t room = FAKE_HOST_CONSOLE_SIZE - fh->console_len;
	size_t n = len < room ? len : room;

	fh->console_calls++;
	memcpy(fh->console + fh->console_len, buf, n);
	fh->console_len += n;
	fh->console_dropped += len - n;
}

static void fake_console_rx_ready(void *ctx)
{
	struct fake_host *fh = ctx;

	fh->rx_ready_count++;
}

/* Do [a, a + as) and [b, b + bs) overlap?  Sizes are non-zero, no wrap. */
static bool overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a <= b + (bs - 1) && b <= a + (as - 1);
}

static int fake_map_region(void *ctx, bool is_io, uint64_t addr,
			   uint64_t size, const struct io_handler *ops,
			   void *dev, const char *name)
{
	struct fake_host *fh = ctx;
	unsigned int i;

	(void)name;
	fh->map_calls++;
	if (!size || addr + (size - 1) < addr) {
		fh->map_refused++;
		return -EINVAL;
	}
	if ((!is_io && fh->ram_size &&
	     overlaps(addr, size, fh->ram_base, fh->ram_size)))
		goto busy;
	for (i = 0; i < fh->n_regions; i++)
		if (fh->regions[i].is_io == is_io &&
		    overlaps(addr, size, fh->regions[i].addr,
			     fh->regions[i].size))
			goto busy;
	if (fh->n_regions == FAKE_HOST_MAX_REGIONS)
		goto busy;
	fh->regions[fh->n_regions++] = (struct fake_region){
		is_io, addr, size, ops, dev,
	};
	return 0;
busy:
	fh->map_refused++;
	return -EEXIST;
}

static int fake_unmap_region(void *ctx, bool is_io, uint64_t addr)
{
	struct fake_host *fh = ctx;
	unsigned int i;

	fh->unmap_calls++;
	for (i = 0; i < fh->n_regions; i++) {
		if (fh->regions[i].is_io != is_io || fh->regions[i].addr != addr)
			continue;
		fh->regions[i] = fh->regions[--fh->n_regions];
		return 0;
	}
	return -ENOENT;
}

const struct fake_region *fake_host_region(const struct fake_host *fh,
					   bool is_io, uint64_t addr)
{
	unsigned int i;

	for (i = 0; i < fh->n_regions; i++)
		if (fh->regions[i].is_io == is_io && fh->regions[i].addr == addr)
			return &fh->regions[i];
	return NULL;
}

static int fake_msi_alloc(void *ctx, int *fd)
{
	struct fake_host *fh = ctx;
	int i;

	for (i = 0; i < FAKE_HOST_MAX_MSI && fh->msi[i].used; i++)
		;
	if (i == FAKE_HOST_MAX_MSI)
		return -ENOSPC;
	*fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (*fd < 0)
		return -errno;
	fh->msi[i] = (struct fake_msi){ .used = true, .fd = *fd };
	return i;
}

static int fake_msi_set(void *ctx, int handle, uint64_t address, uint32_t data)
{
	struct fake_host *fh = ctx;

	if (handle < 0 || handle >= FAKE_HOST_MAX_MSI || !fh->msi[handle].used)
		return -ENOENT;
	fh->msi[handle].address = address;
	fh->msi[handle].data = data;
	fh->msi[handle].set_calls++;
	return 0;
}

static void fake_msi_free(void *ctx, int handle, int fd)
{
	struct fake_host *fh = ctx;

	if (handle < 0 || handle >= FAKE_HOST_MAX_MSI || !fh->msi[handle].used ||
	    fh->msi[handle].fd != fd)
		return;
	close(fd);
	fh->msi[handle].used = false;
}

long fake_host_msi_count(struct fake_host *fh, int handle)
{
	uint64_t v = 0;

	if (handle < 0 || handle >= FAKE_HOST_MAX_MSI || !fh->msi[handle].used)
		return -1;
	if (read(fh->msi[handle].fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return (long)v;
}

static int fake_ioeventfd(void *ctx, uint64_t addr, uint32_t len, int fd,
			  bool assign)
{
	struct fake_host *fh = ctx;
	unsigned int i;

	for (i = 0; i < fh->n_ioeventfds; i++)
		if (fh->ioeventfds[i].addr == addr)
			break;
	if (assign) {
		if (i < fh->n_ioeventfds ||
		    fh->n_ioeventfds == FAKE_HOST_MAX_IOEVENTFDS) {
			fh->ioeventfd_bad_calls++;
			return -EEXIST;
		}
		fh->ioeventfds[fh->n_ioeventfds++] = (struct fake_ioeventfd){
			addr, len, fd,
		};
		return 0;
	}
	if (i == fh->n_ioeventfds || fh->ioeventfds[i].fd != fd) {
		fh->ioeventfd_bad_calls++;
		return -ENOENT;
	}
	fh->ioeventfds[i] = fh->ioeventfds[--fh->n_ioeventfds];
	return 0;
}

static int fake_watch(void *ctx, struct host_watch *w)
{
	struct fake_host *fh = ctx;

	if (fh->n_watches == FAKE_HOST_MAX_WATCHES)
		return -ENOSPC;
	fh->watch_events[fh->n_watches] = HOST_WATCH_IN;
	fh->watches[fh->n_watches++] = w;
	w->priv = fh;
	return 0;
}

static void fake_unwatch(void *ctx, struct host_watch *w)
{
	struct fake_host *fh = ctx;
	unsigned int i;

	for (i = 0; i < fh->n_watches; i++)
		if (fh->watches[i] == w) {
			fh->n_watches--;
			fh->watches[i] = fh->watches[fh->n_watches];
			fh->watch_events[i] = fh->watch_events[fh->n_watches];
			w->priv = NULL;
			return;
		}
}

static int fake_watch_events(void *ctx, struct host_watch *w,
			     unsigned int events)
{
	struct fake_host *fh = ctx;
	unsigned int i;

	for (i = 0; i < fh->n_watches; i++)
		if (fh->watches[i] == w) {
			fh->watch_events[i] = events;
			return 0;
		}
	return -ENOENT;
}

int fake_host_poll(struct fake_host *fh, int timeout_ms)
{
	struct pollfd pfd[FAKE_HOST_MAX_WATCHES];
	struct host_watch *w[FAKE_HOST_MAX_WATCHES];
	unsigned int i, n = fh->n_watches;
	int ran = 0;

	for (i = 0; i < n; i++) {
		unsigned int ev = fh->watch_events[i];

		w[i] = fh->watches[i];
		pfd[i] = (struct pollfd){
			.fd = ev ? w[i]->fd : -1,
			.events = (ev & HOST_WATCH_IN ? POLLIN : 0) |
				  (ev & HOST_WATCH_OUT ? POLLOUT : 0),
		};
	}
	if (poll(pfd, n, timeout_ms) <= 0)
		return 0;
	for (i = 0; i < n; i++)
		if (pfd[i].revents) {
			w[i]->cb(w[i]->arg);
			ran++;
		}
	return ran;
}

static int64_t fake_discard(void *ctx, uint64_t gpa, uint64_t len,
			    bool balloon)
{
	struct fake_host *fh = ctx;
	uint64_t start, end;

	if (fh->discard_calls < FAKE_HOST_MAX_DISCARDS)
		fh->discards[fh->discard_calls] =
			(struct fake_discard){ gpa, len, balloon };
	fh->discard_calls++;
	if (!len || gpa < fh->ram_base || gpa - fh->ram_base > fh->ram_size ||
	    len > fh->ram_size - (gpa - fh->ram_base)) {
		fh->discard_refused++;
		return -EINVAL;
	}
	start = (gpa - fh->ram_base + 4095) & ~4095ULL;
	end = (gpa - fh->ram_base + len) & ~4095ULL;
	if (start >= end)
		return 0;
	memset(fh->ram + start, 0, end - start);
	fh->discarded_bytes += end - start;
	return end - start;
}

static void fake_mark_written(void *ctx, uint64_t gpa, uint64_t len)
{
	struct fake_host *fh = ctx;

	if (!fh->tracking_written)
		return;
	if (fh->written_calls < FAKE_HOST_MAX_DISCARDS)
		fh->written[fh->written_calls] =
			(struct fake_written){ gpa, len };
	fh->written_calls++;
}

static bool fake_written_tracked(void *ctx)
{
	struct fake_host *fh = ctx;

	return fh->tracking_written;
}

static void fake_reclaim(void *ctx, uint64_t gpa, uint64_t len)
{
	struct fake_host *fh = ctx;

	if (fh->reclaim_calls < FAKE_HOST_MAX_DISCARDS)
		fh->reclaims[fh->reclaim_calls] =
			(struct fake_discard){ gpa, len, true };
	fh->reclaim_calls++;
}

void fake_host_reset_records(struct fake_host *fh)
{
	fh->discard_calls = 0;
	fh->discard_refused = 0;
	fh->reclaim_calls = 0;
	fh->discarded_bytes = 0;
	fh->guest_ptr_calls = 0;
	fh->guest_ptr_refused = 0;
	memset(fh->irq_level, 0, sizeof(fh->irq_level));
	memset(fh->irq_calls_gsi, 0, sizeof(fh->irq_calls_gsi));
	fh->irq_calls = 0;
	fh->irq_bad_calls = 0;
	fh->irq_last_gsi = 0;
	fh->irq_last_level = 0;
	fh->console_len = 0;
	fh->console_dropped = 0;
	fh->console_calls = 0;
	fh->stop_status = -1;
	fh->stop_count = 0;
	fh->reset_count = 0;
	fh->rx_ready_count = 0;
	fh->map_calls = 0;
	fh->map_refused = 0;
	fh->unmap_calls = 0;
}

int fake_host_init(struct fake_host *fh, uint64_t ram_base, uint64_t ram_size)
{
	memset(fh, 0, sizeof(*fh));
	if (ram_size && ram_base + ram_size < ram_base)
		return -EINVAL;
	if (ram_size) {
		if (ram_size > SIZE_MAX)
			return -ENOMEM;
		fh->ram = calloc(1, (size_t)ram_size);
		if (!fh->ram)
			return -ENOMEM;
	}
	fh->ram_base = ram_base;
	fh->ram_size = ram_size;
	fh->hs.ctx = fh;
	fh->hs.guest_ptr = fake_guest_ptr;
	fh->hs.irq_line = fake_irq_line;
	fh->hs.request_stop = fake_request_stop;
	fh->hs.request_reset = fake_request_reset;
	fh->hs.console_write = fake_console_write;
	fh->hs.console_rx_ready = fake_console_rx_ready;
	fh->hs.map_region = fake_map_region;
	fh->hs.unmap_region = fake_unmap_region;
	fh->hs.msi_alloc = fake_msi_alloc;
	fh->hs.msi_set = fake_msi_set;
	fh->hs.msi_free = fake_msi_free;
	fh->hs.ioeventfd = fake_ioeventfd;
	fh->hs.watch = fake_watch;
	fh->hs.unwatch = fake_unwatch;
	fh->hs.watch_events = fake_watch_events;
	fh->hs.discard = fake_discard;
	fh->hs.reclaim = fake_reclaim;
	fh->hs.mark_written = fake_mark_written;
	fh->hs.written_tracked = fake_written_tracked;
	fake_host_reset_records(fh);
	return 0;
}

void fake_host_free(struct fake_host *fh)
{
	int i;

	for (i = 0; i < FAKE_HOST_MAX_MSI; i++)
		if (fh->msi[i].used)
			fake_msi_free(fh, i, fh->msi[i].fd);
	free(fh->ram);
	fh->ram = NULL;
	fh->ram_size = 0;
}

void *fake_host_gpa(struct fake_host *fh, uint64_t gpa, uint64_t len)
{
	return fake_guest_ptr(fh, gpa, len);
}

int fake_io_read(const struct io_handler *ops, void *dev, uint64_t offset,
		 uint32_t len, uint64_t *value)
{
	uint8_t data[16];
	uint32_t i;

	memset(data, 0xcd, sizeof(data));
	ops->read(dev, offset, data, len);
	*value = io_get(data, len);
	for (i = len; i < sizeof(data); i++)
		if (data[i] != 0xcd)
			return -1;
	return 0;
}

void fake_io_write(const struct io_handler *ops, void *dev, uint64_t offset,
		   uint32_t len, uint64_t value)
{
	uint8_t data[8];

	io_put(data, len, value);
	ops->write(dev, offset, data, len);
}
