/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event loop: one epoll instance, run by the main thread, that serves
 * signals, the console, timers and (later) device I/O.  Handlers run on
 * the loop's thread, one at a time.
 */
#ifndef WISP_EVLOOP_H
#define WISP_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

struct ev_source;

typedef void (*ev_callback)(struct ev_source *src, uint32_t events);

/* Embed one of these per watched fd; @cb gets it back. */
struct ev_source {
	int fd;
	ev_callback cb;
	void *data;
};

struct evloop {
	int epoll_fd;
	bool stop;	/* set by a handler to end evloop_run() */
};

/* Returns 0 or -errno. */
int evloop_init(struct evloop *loop);
void evloop_destroy(struct evloop *loop);

/* Watch @src->fd for @events (EPOLLIN, EPOLLOUT).  Returns 0 or -errno. */
int evloop_add(struct evloop *loop, struct ev_source *src, uint32_t events);
int evloop_modify(struct evloop *loop, struct ev_source *src, uint32_t events);
int evloop_remove(struct evloop *loop, struct ev_source *src);

/* Dispatch events until a handler sets loop->stop.  Returns 0 or -errno. */
int evloop_run(struct evloop *loop);

#endif
