// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "console.h"

/*
 * The one piece of mutable file-scope state (architecture.md, rule 2): the
 * terminal settings to restore when a fatal signal kills the process.
 */
static struct termios fatal_restore_termios;
static volatile sig_atomic_t fatal_restore_armed;

static void fatal_signal_restore(int sig)
{
	if (fatal_restore_armed)
		tcsetattr(STDIN_FILENO, TCSANOW, &fatal_restore_termios);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void arm_fatal_restore(const struct termios *saved)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct sigaction sa = { .sa_handler = fatal_signal_restore };
	size_t i;

	fatal_restore_termios = *saved;
	fatal_restore_armed = 1;
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
}

static void notify(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		perror("wisp: eventfd");
}

static void drain_eventfd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		perror("wisp: eventfd");
}

void console_write(struct console *con, const uint8_t *buf, size_t len)
{
	size_t room, first, tail, n;
	bool was_empty;

	if (con->kind == CONSOLE_NONE)
		return;
	pthread_mutex_lock(&con->lock);
	if (con->out_dead) {
		pthread_mutex_unlock(&con->lock);
		return;
	}
	room = CONSOLE_OUT_SIZE - con->out_len;
	n = len < room ? len : room;
	con->dropped += len - n;
	was_empty = !con->out_len;
	tail = (con->out_head + con->out_len) % CONSOLE_OUT_SIZE;
	first = n < CONSOLE_OUT_SIZE - tail ? n : CONSOLE_OUT_SIZE - tail;
	memcpy(con->out_buf + tail, buf, first);
	memcpy(con->out_buf, buf + first, n - first);
	con->out_len += n;
	pthread_mutex_unlock(&con->lock);
	/* Wake the loop only on empty → non-empty: one syscall per burst. */
	if (was_empty && n)
		notify(con->wake_src.fd);
}

/*
 * Write buffered output until the buffer is empty or the fd would block.
 * Returns -EAGAIN when it would block, 0 otherwise.  Loop thread only: the
 * bytes being written are never touched by producers, who only append.
 */
static int console_flush(struct console *con)
{
	for (;;) {
		size_t head, chunk;
		ssize_t n;

		pthread_mutex_lock(&con->lock);
		head = con->out_head;
		chunk = con->out_len;
		if (chunk > CONSOLE_OUT_SIZE - head)
			chunk = CONSOLE_OUT_SIZE - head;
		pthread_mutex_unlock(&con->lock);
		if (!chunk)
			return 0;
		n = write(con->out_fd, con->out_buf + head, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return -EAGAIN;
		pthread_mutex_lock(&con->lock);
		if (n <= 0) {
			/* The reader is gone: count the rest as dropped. */
			con->out_dead = true;
			con->dropped += con->out_len;
			con->out_len = 0;
		} else {
			con->out_head = (con->out_head + n) % CONSOLE_OUT_SIZE;
			con->out_len -= n;
		}
		pthread_mutex_unlock(&con->lock);
	}
}

static void console_pump_output(struct console *con)
{
	bool blocked = console_flush(con) == -EAGAIN;

	if (blocked != con->out_waiting &&
	    !evloop_modify(con->loop, &con->out_src, blocked ? EPOLLOUT : 0))
		con->out_waiting = blocked;
}

static void on_output_queued(struct ev_source *src, uint32_t events)
{
	struct console *con = src->data;

	(void)events;
	drain_eventfd(src->fd);
	if (!con->out_waiting)
		console_pump_output(con);
}

static void on_output_writable(struct ev_source *src, uint32_t events)
{
	(void)events;
	console_pump_output(src->data);
}

static void set_input_watch(struct console *con, bool on)
{
	if (con->in_src.fd < 0 || on == con->in_watched)
		return;
	if (!evloop_modify(con->loop, &con->in_src, on ? EPOLLIN : 0))
		con->in_watched = on;
}

/* Hand pending input to the device; pause input when it is full. */
static void console_deliver(struct console *con)
{
	size_t n = con->deliver(con->sink, con->pending + con->pending_off,
				con->pending_len - con->pending_off);

	con->pending_off += n;
	if (con->pending_off == con->pending_len) {
		con->pending_off = con->pending_len = 0;
		con->in_paused = false;
		set_input_watch(con, true);
	} else {
		con->in_paused = true;
		set_input_watch(con, false);
	}
}

/* Apply the Ctrl-A escape to raw terminal input, into con->pending. */
static void console_take_input(struct console *con, const uint8_t *buf,
			       size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t c = buf[i];

		if (!con->tty) {
			con->pending[con->pending_len++] = c;
			continue;
		}
		if (con->escape) {
			con->escape = false;
			if (c == 'x' || c == 'X') {
				con->quit(con->quit_ctx);
				continue;
			}
			if (c != CONSOLE_ESCAPE)
				con->pending[con->pending_len++] = CONSOLE_ESCAPE;
		} else if (c == CONSOLE_ESCAPE) {
			con->escape = true;
			continue;
		}
		con->pending[con->pending_len++] = c;
	}
}

static void on_input(struct ev_source *src, uint32_t events)
{
	struct console *con = src->data;
	uint8_t buf[CONSOLE_IN_CHUNK];
	ssize_t n;

	(void)events;
	if (con->pending_len)
		return;		/* still waiting for the device */
	n = read(src->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* End of input (or a broken one): the VM runs on without. */
		evloop_remove(con->loop, src);
		src->fd = -1;
		return;
	}
	console_take_input(con, buf, n);
	if (con->pending_len)
		console_deliver(con);
}

static void on_rx_ready(struct ev_source *src, uint32_t events)
{
	struct console *con = src->data;

	(void)events;
	drain_eventfd(src->fd);
	if (con->in_paused && con->pending_len)
		console_deliver(con);
}

void console_rx_ready(struct console *con)
{
	notify(con->ready_src.fd);
}

/*
 * A private, non-blocking description of stdout, so that O_NONBLOCK does
 * not leak to the terminal or pipe we share with our parent.  Regular
 * files never block and keep their offset: they are used as they are.
 */
static int open_stdout(struct console *con)
{
	struct stat st;
	int fd, flags;

	con->out_fd = STDOUT_FILENO;
	if (fstat(STDOUT_FILENO, &st))
		return -errno;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return 0;
	fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		con->out_fd = fd;
		con->out_owned = true;
		return 0;
	}
	/*
	 * A socket cannot be reopened: make the shared one non-blocking
	 * while wisp runs, and give the old flags back in console_close().
	 */
	flags = fcntl(STDOUT_FILENO, F_GETFL);
	if (flags >= 0 && !fcntl(STDOUT_FILENO, F_SETFL, flags | O_NONBLOCK))
		con->out_saved_flags = flags;
	return 0;
}

static int open_output(struct console *con, const struct vm_config *cfg,
		       struct wisp_err *err)
{
	int ret;

	switch (cfg->console) {
	case CONSOLE_NONE:
		return 0;
	case CONSOLE_FILE:
		con->out_fd = open(cfg->console_path,
				   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (con->out_fd < 0)
			return err_set(err, WISP_EXIT_NOINPUT, errno,
				       "--console: cannot open '%s': %s",
				       cfg->console_path, strerror(errno));
		con->out_owned = true;
		return 0;
	case CONSOLE_STDIO:
		ret = open_stdout(con);
		if (ret)
			return err_set(err, WISP_EXIT_OSERR, -ret,
				       "console: bad stdout: %s", strerror(-ret));
		return 0;
	}
	return 0;
}

static void open_input(struct console *con, const struct vm_config *cfg)
{
	struct termios raw;

	con->in_src.fd = -1;
	if (cfg->console != CONSOLE_STDIO)
		return;
	con->in_src.fd = STDIN_FILENO;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &con->saved_termios))
		return;
	raw = con->saved_termios;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw))
		return;
	con->tty = true;
	arm_fatal_restore(&con->saved_termios);
}

int console_open(struct console *con, const struct vm_config *cfg,
		 struct evloop *loop, struct wisp_err *err)
{
	int ret;

	memset(con, 0, sizeof(*con));
	con->kind = cfg->console;
	con->loop = loop;
	con->out_fd = -1;
	con->out_saved_flags = -1;
	con->in_src.fd = -1;
	con->wake_src.fd = -1;
	con->ready_src.fd = -1;
	pthread_mutex_init(&con->lock, NULL);
	con->out_buf = malloc(CONSOLE_OUT_SIZE);
	con->wake_src.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	con->ready_src.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!con->out_buf || con->wake_src.fd < 0 || con->ready_src.fd < 0)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM,
			       "console: cannot allocate buffers");
	ret = open_output(con, cfg, err);
	if (ret)
		return ret;

	con->wake_src.cb = on_output_queued;
	con->wake_src.data = con;
	con->ready_src.cb = on_rx_ready;
	con->ready_src.data = con;
	con->out_src.fd = con->out_fd;
	con->out_src.cb = on_output_writable;
	con->out_src.data = con;
	ret = evloop_add(loop, &con->wake_src, EPOLLIN);
	if (!ret)
		ret = evloop_add(loop, &con->ready_src, EPOLLIN);
	if (ret)
		return err_set(err, WISP_EXIT_OSERR, -ret, "console: epoll: %s",
			       strerror(-ret));
	/* Files cannot be polled (EPERM) and never need to be. */
	if (con->out_fd >= 0 && evloop_add(loop, &con->out_src, 0))
		con->out_src.fd = -1;
	open_input(con, cfg);
	return 0;
}

int console_start_input(struct console *con)
{
	con->in_src.cb = on_input;
	con->in_src.data = con;
	if (con->in_src.fd < 0)
		return 0;
	/* Regular files and /dev/null cannot be polled: no input then. */
	if (evloop_add(con->loop, &con->in_src, EPOLLIN)) {
		con->in_src.fd = -1;
		return 0;
	}
	con->in_watched = true;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

uint64_t console_close(struct console *con, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	uint64_t dropped;

	while (con->out_fd >= 0 && console_flush(con) == -EAGAIN) {
		struct pollfd pfd = { .fd = con->out_fd, .events = POLLOUT };
		int64_t left = deadline - now_ms();

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
	}
	dropped = con->dropped + con->out_len;
	if (con->tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &con->saved_termios);
		fatal_restore_armed = 0;
	}
	if (con->out_owned)
		close(con->out_fd);
	if (con->out_saved_flags >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, con->out_saved_flags);
	if (con->wake_src.fd >= 0)
		close(con->wake_src.fd);
	if (con->ready_src.fd >= 0)
		close(con->ready_src.fd);
	free(con->out_buf);
	pthread_mutex_destroy(&con->lock);
	memset(con, 0, sizeof(*con));
	con->out_fd = con->in_src.fd = -1;
	return dropped;
}
