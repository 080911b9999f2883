/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host side of the guest console: a bounded output buffer that vCPU
 * threads fill without ever blocking and the event loop drains, and the
 * input side (stdin in raw mode when it is a terminal, with the Ctrl-A
 * escape) feeding a device through a callback.
 */
#ifndef WISP_CONSOLE_H
#define WISP_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "config.h"
#include "error.h"
#include "evloop.h"

#define CONSOLE_OUT_SIZE	(64 * 1024)
#define CONSOLE_IN_CHUNK	256
#define CONSOLE_ESCAPE		0x01	/* Ctrl-A */

struct console {
	enum console_kind kind;
	struct evloop *loop;

	/* Where input goes; returns the bytes taken (event-loop thread). */
	size_t (*deliver)(void *sink, const uint8_t *buf, size_t len);
	void *sink;
	/* Ctrl-A x was typed. */
	void (*quit)(void *ctx);
	void *quit_ctx;

	/* Output: ring of CONSOLE_OUT_SIZE bytes, guarded by @lock. */
	pthread_mutex_t lock;
	uint8_t *out_buf;
	size_t out_head, out_len;
	uint64_t dropped;		/* bytes lost to a full buffer */
	int out_fd;
	bool out_owned;			/* out_fd is ours to close */
	int out_saved_flags;		/* stdout's flags to restore, or -1 */
	bool out_dead;			/* write error: discard from now on */
	bool out_waiting;		/* EPOLLOUT armed */
	struct ev_source out_src;
	struct ev_source wake_src;	/* eventfd: output queued */

	/* Input. */
	struct ev_source in_src;	/* fd -1 when there is no input */
	bool in_watched;
	bool in_paused;			/* device full: waiting for rx_ready */
	bool tty;			/* stdin is a terminal in raw mode */
	bool escape;			/* last input byte was Ctrl-A */
	struct termios saved_termios;
	uint8_t pending[CONSOLE_IN_CHUNK * 2];
	size_t pending_off, pending_len;
	struct ev_source ready_src;	/* eventfd: the device has room */
};

/*
 * Set up the console for @cfg (stdio, none or file) on @loop.  Puts a
 * terminal stdin into raw mode (restored by console_close() and on fatal
 * signals).  Errors: WISP_EXIT_NOINPUT for a console file that cannot be
 * opened, WISP_EXIT_OSERR otherwise.
 */
int console_open(struct console *con, const struct vm_config *cfg,
		 struct evloop *loop, struct wisp_err *err);

/* Start reading input into @deliver once the VM is built. */
int console_start_input(struct console *con);

/*
 * Queue guest output.  Never blocks; drops (and counts) what does not fit.
 * Any thread.
 */
void console_write(struct console *con, const uint8_t *buf, size_t len);

/* The device has room for input again.  Any thread. */
void console_rx_ready(struct console *con);

/*
 * Write out what is buffered, waiting at most @timeout_ms for a slow
 * reader, then restore the terminal and close.  Returns bytes dropped over
 * the console's life.
 */
uint64_t console_close(struct console *con, int timeout_ms);

#endif
