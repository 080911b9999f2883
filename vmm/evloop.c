// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "evloop.h"

#define EVLOOP_BATCH	16

int evloop_init(struct evloop *loop)
{
	loop->stop = false;
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	return loop->epoll_fd < 0 ? -errno : 0;
}

void evloop_destroy(struct evloop *loop)
{
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	loop->epoll_fd = -1;
}

static int evloop_ctl(struct evloop *loop, int op, struct ev_source *src,
		      uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(loop->epoll_fd, op, src->fd, &ev) ? -errno : 0;
}

int evloop_add(struct evloop *loop, struct ev_source *src, uint32_t events)
{
	return evloop_ctl(loop, EPOLL_CTL_ADD, src, events);
}

int evloop_modify(struct evloop *loop, struct ev_source *src, uint32_t events)
{
	return evloop_ctl(loop, EPOLL_CTL_MOD, src, events);
}

int evloop_remove(struct evloop *loop, struct ev_source *src)
{
	return evloop_ctl(loop, EPOLL_CTL_DEL, src, 0);
}

int evloop_run(struct evloop *loop)
{
	struct epoll_event events[EVLOOP_BATCH];

	while (!loop->stop) {
		int i, n = epoll_wait(loop->epoll_fd, events, EVLOOP_BATCH, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n && !loop->stop; i++) {
			struct ev_source *src = events[i].data.ptr;

			src->cb(src, events[i].events);
		}
	}
	return 0;
}
