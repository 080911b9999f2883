// SPDX-License-Identifier: Apache-2.0
/* Live migration over TCP (contracts in migrate.h). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <libfdt.h>
#include <linux/sockios.h>

#include "config.h"
#include "control.h"
#include "migrate.h"
#include "snapshot.h"
#include "vm.h"

#define PAGE			4096ULL
#define STREAM_MAGIC		"WISPMIG1"
#define REC_HELLO		1
#define REC_PAGES		2
#define REC_STATE		3
/* The destination's messages: a kind and a length, then a text. */
#define MSG_ACCEPT		0	/* the HELLO fits: send the rest */
#define MSG_READY		0	/* loaded, vCPUs parked: waits for GO */
#define MSG_RELEASE		1	/* let go of the shared disks */
/* The source's: one 32-bit word. */
#define MSG_RELEASED		1	/* the disks' locks are open */
#define MSG_GO			2	/* run: the source stops for good */
#define CONNECT_TIMEOUT_MS	5000
#define MAX_RUN			(1ULL << 20)	/* bytes per PAGES record */
#define MAX_TREE		(64ULL << 20)
#define ANSWER_TIMEOUT_MS	120000	/* the destination loads the state */
#define IO_TIMEOUT_MS		30000	/* a peer silent this long is gone */

struct record {
	uint32_t type;
	uint32_t flags;
	uint64_t a, b;
};

struct migration {
	struct vm *vm;
	int sock;
	unsigned int downtime_ms;
	pthread_t thread;
	bool thread_started;
	bool abort;			/* atomic: the VM is going away */
	bool stay_paused;		/* failed, and cannot safely run on */
	bool was_paused;		/* by its user, before the last phase */
	struct ev_source done_src;	/* eventfd: pre-copy ended */
	migrate_done_fn done;
	void *ctx;
	uint64_t *dirty;		/* a bit per page of RAM, to send */
	uint64_t *slot_log;		/* KVM's log of one slot */
	uint64_t n_pages;
	uint64_t start_ns;
	int precopy_ret;
	char msg[512];
	struct migrate_result res;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int migrate_parse_uri(const char *uri, struct sockaddr_storage *sa,
		      socklen_t *len, char *msg, size_t msg_len)
{
	if (strncmp(uri, "tcp:", 4)) {
		snprintf(msg, msg_len, "'%s' is not tcp:HOST:PORT", uri);
		return -EINVAL;
	}
	return control_parse_listen(uri + 4, sa, len, msg, msg_len);
}

/* ---- the socket -------------------------------------------------------- */

/* Wait up to @ms for @events on @fd.  Returns 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&p, 1, ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

/* Connect non-blocking socket @fd within CONNECT_TIMEOUT_MS. */
static int connect_within(int fd, const struct sockaddr *sa, socklen_t len)
{
	socklen_t elen = sizeof(int);
	int ret, e = 0;

	if (!connect(fd, sa, len))
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	ret = wait_fd(fd, POLLOUT, CONNECT_TIMEOUT_MS);
	if (ret)
		return ret;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen))
		return -errno;
	return -e;
}

/* No Nagle delay; a peer silent for IO_TIMEOUT_MS counts as gone. */
static void tune_socket(int fd)
{
	unsigned int user_timeout = IO_TIMEOUT_MS;
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
		   sizeof(user_timeout));
}

static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int ret = wait_fd(fd, POLLOUT, IO_TIMEOUT_MS);

			if (ret)
				return ret;
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

static int recv_all(int fd, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int ret = wait_fd(fd, POLLIN, timeout_ms);

			if (ret)
				return ret;
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		p += n;
		len -= n;
	}
	return 0;
}

static int send_record(int fd, uint32_t type, uint64_t a, uint64_t b,
		       const void *payload, size_t len)
{
	struct record r = { .type = type, .a = a, .b = b };
	int ret = send_all(fd, &r, sizeof(r));

	return ret ? ret : send_all(fd, payload, len);
}

/* ---- the source -------------------------------------------------------- */

static int set_logging(struct vm *vm, bool on)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < vm->mem.n_regions && !ret; i++) {
		const struct guest_region *r = &vm->mem.regions[i];

		ret = kvm_set_memory_logged(&vm->kvm, i, r->gpa, r->size,
					    r->host, on);
	}
	return ret;
}

/* Bytes the socket holds that the peer has not acknowledged yet. */
static uint64_t unsent(int fd)
{
	int n = 0;

	return ioctl(fd, SIOCOUTQ, &n) || n < 0 ? 0 : (uint64_t)n;
}

/*
 * OR every page written since the last call into m->dirty: KVM's dirty
 * ring (harvested into the written record) or its slots' bitmaps, and
 * the pages wisp's devices wrote.
 */
static int collect_dirty(struct migration *m)
{
	struct guest_mem *mem = &m->vm->mem;
	unsigned int i;
	uint64_t p, first;
	int ret;

	if (m->vm->kvm.dirty_ring_entries) {
		ret = vm_harvest_dirty(m->vm);
		if (ret)
			return ret;
		guest_mem_take_written(mem, m->dirty);
		return 0;
	}
	for (i = 0; i < mem->n_regions; i++) {
		const struct guest_region *r = &mem->regions[i];
		uint64_t pages = r->size / PAGE;

		memset(m->slot_log, 0, (pages + 63) / 64 * 8);
		ret = kvm_get_dirty_log(&m->vm->kvm, i, m->slot_log);
		if (ret)
			return ret;
		first = (r->host - mem->base) / PAGE;
		for (p = 0; p < pages; p++)
			if (m->slot_log[p / 64] & (1ULL << (p % 64)))
				m->dirty[(first + p) / 64] |=
					1ULL << ((first + p) % 64);
	}
	guest_mem_take_written(mem, m->dirty);
	return 0;
}

static uint64_t count_dirty(const struct migration *m)
{
	uint64_t i, n = 0;

	for (i = 0; i < (m->n_pages + 63) / 64; i++)
		n += __builtin_popcountll(m->dirty[i]);
	return n;
}

/*
 * Send the pages marked in m->dirty, in runs of consecutive pages, and
 * clear the marks.  With @skip_zero (the first round: the destination's
 * RAM starts as zeros) pages of zeros are not sent.
 */
static int send_dirty(struct migration *m, bool skip_zero)
{
	const uint8_t *base = m->vm->mem.base;
	uint64_t p, run = 0, run_len = 0;
	int ret;

	for (p = 0; p <= m->n_pages; p++) {
		bool send = false;

		if (p < m->n_pages && (m->dirty[p / 64] & (1ULL << (p % 64)))) {
			m->dirty[p / 64] &= ~(1ULL << (p % 64));
			send = !(skip_zero && guest_page_is_zero(base + p * PAGE));
		}
		if (send && run_len < MAX_RUN) {
			if (!run_len)
				run = p * PAGE;
			run_len += PAGE;
			continue;
		}
		if (run_len) {
			ret = send_record(m->sock, REC_PAGES, run, run_len,
					  base + run, run_len);
			if (ret)
				return ret;
			m->res.bytes_sent += run_len;
			run_len = 0;
		}
		if (send) {
			run = p * PAGE;
			run_len = PAGE;
		}
		if (__atomic_load_n(&m->abort, __ATOMIC_ACQUIRE))
			return -ECANCELED;
	}
	return 0;
}

static int send_hello(struct migration *m)
{
	struct state_writer w;
	unsigned int i;
	char node[32];
	int ret;

	if (state_writer_init(&w))
		return -ENOMEM;
	state_put_str(&w, "format", SNAPSHOT_FORMAT);
	state_put_u32(&w, "version", SNAPSHOT_VERSION);
	state_put_u64(&w, "checksum", 0);
	state_begin(&w, "config");
	state_put_u32(&w, "cpus", m->vm->n_vcpus);
	state_put_u32(&w, "disks", m->vm->n_disks);
	state_put_u32(&w, "nets", m->vm->n_nets);
	state_put_u32(&w, "balloon", !!m->vm->balloon);
	state_end(&w);
	state_begin(&w, "memory");
	state_put_u64(&w, "size", m->vm->mem.size);
	state_end(&w);
	state_begin(&w, "devices");
	for (i = 0; i < m->vm->n_nets; i++) {
		snprintf(node, sizeof(node), "virtio-net@%u", i);
		state_begin(&w, node);
		state_put_bytes(&w, "mac", m->vm->backends->nets[i].mac, 6);
		state_end(&w);
	}
	state_end(&w);
	ret = state_writer_finish(&w);
	if (!ret) {
		snapshot_seal_tree(w.fdt);
		ret = send_record(m->sock, REC_HELLO, fdt_totalsize(w.fdt), 0,
				  w.fdt, fdt_totalsize(w.fdt));
	}
	state_writer_free(&w);
	return ret;
}

static int recv_message(struct migration *m, uint32_t *kind);

#define FAIL(m, ret, ...)						\
	do {								\
		snprintf((m)->msg, sizeof((m)->msg), __VA_ARGS__);	\
		return (ret);						\
	} while (0)

/* Connect, then send RAM in rounds until the rest fits the target. */
static int precopy(struct migration *m)
{
	uint64_t round_start, sent_before, dirty, elapsed_ns;
	uint64_t queued_before, queued;
	double bandwidth = 0, rate;
	unsigned int round;
	uint32_t kind;
	int ret;

	ret = send_all(m->sock, STREAM_MAGIC, 8);
	if (!ret)
		ret = send_hello(m);
	if (ret)
		FAIL(m, ret, "sending to the destination: %s", strerror(-ret));
	/* A destination that does not fit says so before any RAM goes. */
	ret = recv_message(m, &kind);
	if (ret)
		return ret;
	if (kind != MSG_ACCEPT)
		FAIL(m, -EPROTO, "the destination answered %u to HELLO", kind);
	ret = guest_mem_track_start(&m->vm->mem);
	if (!ret)
		ret = set_logging(m->vm, true);
	if (ret)
		FAIL(m, ret, "dirty page logging: %s", strerror(-ret));
	fprintf(stderr, "wisp: migrate: the destination accepts; dirty pages from KVM's %s\n",
		m->vm->kvm.dirty_ring_entries ? "dirty ring" : "dirty bitmap");
	/* Round 0: all of RAM, its zero pages skipped. */
	memset(m->dirty, 0xff, (m->n_pages + 63) / 64 * 8);
	if (m->n_pages % 64)
		m->dirty[m->n_pages / 64] = (1ULL << (m->n_pages % 64)) - 1;
	for (round = 0;; round++) {
		round_start = now_ns();
		sent_before = m->res.bytes_sent;
		queued_before = unsent(m->sock);
		ret = send_dirty(m, round == 0);
		if (ret)
			FAIL(m, ret, "sending RAM: %s", strerror(-ret));
		ret = collect_dirty(m);
		if (ret)
			FAIL(m, ret, "the dirty page log: %s", strerror(-ret));
		elapsed_ns = now_ns() - round_start;
		m->res.rounds = round + 1;
		/*
		 * What the link carried, not what the socket took: bytes
		 * still queued count as not sent, and as left to send.
		 */
		queued = unsent(m->sock);
		if (m->res.bytes_sent + queued_before > sent_before + queued &&
		    elapsed_ns)
			bandwidth = (double)(m->res.bytes_sent + queued_before -
					     sent_before - queued) *
				    1e9 / elapsed_ns;
		rate = elapsed_ns ? count_dirty(m) * PAGE * 1e9 / elapsed_ns : 0;
		dirty = count_dirty(m) * PAGE + queued;
		fprintf(stderr, "wisp: migrate: round %u: %.1f MiB sent, dirty rate %.1f MiB/s, %.1f MiB left, estimated downtime %.0f ms\n",
			round + 1, m->res.bytes_sent / 1048576.0,
			rate / 1048576.0, dirty / 1048576.0,
			bandwidth > 0 ? dirty * 1000.0 / bandwidth : 0.0);
		if (bandwidth > 0 && dirty * 1000.0 / bandwidth <= m->downtime_ms)
			return 0;
		if (!dirty)
			return 0;
		if (round + 1 >= MIGRATE_MAX_ROUNDS)
			FAIL(m, -ETIMEDOUT,
			     "cannot meet the downtime target of %u ms: the guest dirties %.1f MiB/s, the link carries %.1f MiB/s; the VM runs on here",
			     m->downtime_ms, rate / 1048576.0,
			     bandwidth / 1048576.0);
	}
}

/*
 * Let go of (or take back) every shared disk's lock.  Taking back one
 * that another process took meanwhile fails, said on stderr; the caller
 * then keeps the VM paused.  Returns 0 or the first -errno.
 */
static int lock_disks(struct migration *m, bool lock)
{
	struct vm_backends *b = m->vm->backends;
	unsigned int i;
	int ret, first = 0;

	for (i = 0; i < b->n_disks; i++) {
		ret = blk_backing_lock(&b->disks[i].backing, lock);
		if (ret && lock)
			fprintf(stderr, "wisp: migrate: cannot lock '%s' again: %s\n",
				b->disks[i].opts.path, strerror(-ret));
		if (ret && !first)
			first = ret;
	}
	return first;
}

static void *precopy_thread(void *arg)
{
	struct migration *m = arg;
	uint64_t one = 1;

	m->precopy_ret = precopy(m);
	if (write(m->done_src.fd, &one, sizeof(one)) < 0)
		m->precopy_ret = m->precopy_ret ? m->precopy_ret : -errno;
	return NULL;
}

static void migration_free(struct migration *m)
{
	struct vm *vm = m->vm;

	if (m->thread_started)
		pthread_join(m->thread, NULL);
	set_logging(vm, false);
	guest_mem_track_stop(&vm->mem);
	if (m->done_src.fd >= 0) {
		evloop_remove(&vm->loop, &m->done_src);
		close(m->done_src.fd);
	}
	if (m->sock >= 0)
		close(m->sock);
	free(m->dirty);
	free(m->slot_log);
	free(m);
	vm->migration = NULL;
}

/* End: tell the caller, clean up; on failure the VM runs on. */
static void finish(struct migration *m, int ret, bool was_paused)
{
	struct vm *vm = m->vm;
	migrate_done_fn done = m->done;
	void *ctx = m->ctx;
	struct migrate_result res = m->res;
	bool stay_paused = m->stay_paused;
	char msg[sizeof(m->msg)];

	res.total_ms = (now_ns() - m->start_ns) / 1000000;
	snprintf(msg, sizeof(msg), "%s", m->msg);
	if (ret)
		fprintf(stderr, "wisp: migrate: %s\n", msg);
	migration_free(m);
	if (ret && !was_paused && !stay_paused)
		vm_resume(vm);
	done(ctx, ret, msg, &res);
}

/* Read the destination's next message; a failure's text into m->msg. */
static int recv_message(struct migration *m, uint32_t *kind)
{
	uint32_t hdr[2];
	char text[200];
	uint32_t len;
	int ret;

	ret = recv_all(m->sock, hdr, sizeof(hdr), ANSWER_TIMEOUT_MS);
	if (ret)
		FAIL(m, ret, "no answer from the destination: %s",
		     strerror(-ret));
	*kind = hdr[0];
	if (hdr[0] == MSG_READY || hdr[0] == MSG_RELEASE)
		return hdr[1] ? -EPROTO : 0;
	len = hdr[1] < sizeof(text) - 1 ? hdr[1] : sizeof(text) - 1;
	memset(text, 0, sizeof(text));
	if (recv_all(m->sock, text, len, IO_TIMEOUT_MS))
		strcpy(text, "(no message)");
	text[strcspn(text, "\n")] = 0;
	FAIL(m, -EREMOTEIO, "the destination failed: %s", text);
}

/*
 * The last phase, on the event loop, the VM paused: the rest of RAM and
 * the state, the disks handed over when asked, and GO once the
 * destination is ready.  A failure before GO is sent leaves this VM able
 * to run on (its disks locked again); m->stay_paused when it is not.
 */
static int stop_and_copy(struct migration *m)
{
	struct state_writer w = { 0 };
	struct wisp_err err = { 0 };
	bool released = false;
	uint32_t kind, word;
	int ret;

	m->res.downtime_ms = now_ns();
	ret = snapshot_quiesce(m->vm, &err);
	if (ret)
		FAIL(m, ret, "%s", err.msg);
	ret = collect_dirty(m);
	if (!ret)
		ret = send_dirty(m, false);
	if (ret)
		FAIL(m, ret, "sending RAM: %s", strerror(-ret));
	ret = snapshot_build_tree(&w, m->vm, 0, m->was_paused, &err);
	if (ret) {
		state_writer_free(&w);
		FAIL(m, ret, "%s", err.msg);
	}
	ret = send_record(m->sock, REC_STATE, fdt_totalsize(w.fdt), 0, w.fdt,
			  fdt_totalsize(w.fdt));
	state_writer_free(&w);
	if (ret)
		FAIL(m, ret, "sending the state: %s", strerror(-ret));
	ret = recv_message(m, &kind);
	if (!ret && kind == MSG_RELEASE) {
		/* The destination opens the disks next: ours go. */
		released = true;
		word = MSG_RELEASED;
		ret = lock_disks(m, false);
		if (ret)
			snprintf(m->msg, sizeof(m->msg), "cannot unlock the disks: %s",
				 strerror(-ret));
		else
			ret = send_all(m->sock, &word, sizeof(word));
		if (!ret)
			ret = recv_message(m, &kind);
	}
	if (!ret && kind != MSG_READY)
		ret = -EPROTO;
	if (!ret) {
		word = MSG_GO;
		ret = send_all(m->sock, &word, sizeof(word));
		if (!ret) {
			m->res.downtime_ms = (now_ns() - m->res.downtime_ms) /
					     1000000;
			return 0;	/* committed: the destination runs */
		}
	}
	if (!m->msg[0])
		snprintf(m->msg, sizeof(m->msg), "the destination broke off: %s",
			 strerror(-ret));
	/* Running on needs the disks back; without them, stay paused. */
	if (released && lock_disks(m, true)) {
		m->stay_paused = true;
		snprintf(m->msg + strlen(m->msg), sizeof(m->msg) - strlen(m->msg),
			 "; the disks are locked by another process (the destination?): this VM stays paused");
	}
	return ret;
}

static void on_precopy_done(struct ev_source *src, uint32_t events)
{
	struct migration *m = src->data;
	bool was_paused = vm_paused(m->vm);
	uint64_t v;
	int ret;

	(void)events;
	if (read(src->fd, &v, sizeof(v)) < 0)
		return;
	pthread_join(m->thread, NULL);
	m->thread_started = false;
	m->was_paused = was_paused;
	ret = m->precopy_ret;
	if (!ret) {
		ret = vm_pause(m->vm, 2000);
		if (ret)
			snprintf(m->msg, sizeof(m->msg), "the vCPUs did not stop: %s",
				 strerror(-ret));
	}
	if (!ret)
		ret = stop_and_copy(m);
	finish(m, ret, was_paused);
}

int migrate_start(struct vm *vm, const char *uri, unsigned int downtime_ms,
		  migrate_done_fn done, void *ctx, struct wisp_err *err)
{
	struct sockaddr_storage sa;
	struct migration *m;
	socklen_t len;
	char msg[200];
	int ret;

	if (vm->migration)
		return err_set(err, WISP_EXIT_USAGE, EBUSY,
			       "a migration is under way");
	if (migrate_parse_uri(uri, &sa, &len, msg, sizeof(msg)))
		return err_set(err, WISP_EXIT_USAGE, EINVAL, "%s", msg);
	m = calloc(1, sizeof(*m));
	if (!m)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	m->vm = vm;
	m->done = done;
	m->ctx = ctx;
	m->downtime_ms = downtime_ms;
	m->start_ns = now_ns();
	m->n_pages = vm->mem.size / PAGE;
	m->dirty = calloc((m->n_pages + 63) / 64, 8);
	m->slot_log = calloc((m->n_pages + 63) / 64, 8);
	m->done_src = (struct ev_source){ .fd = -1, .cb = on_precopy_done,
					  .data = m };
	/* Non-blocking: every wait below has a deadline. */
	m->sock = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
			 SOCK_NONBLOCK, 0);
	vm->migration = m;
	if (!m->dirty || !m->slot_log || m->sock < 0) {
		ret = err_set(err, WISP_EXIT_OSERR, m->sock < 0 ? errno : ENOMEM,
			      "cannot start: %s",
			      strerror(m->sock < 0 ? errno : ENOMEM));
		goto fail;
	}
	/* The connection first: a wrong address fails the request itself. */
	ret = connect_within(m->sock, (struct sockaddr *)&sa, len);
	if (ret) {
		ret = err_set(err, WISP_EXIT_UNAVAILABLE, -ret,
			      "cannot connect to %s: %s", uri + 4,
			      strerror(-ret));
		goto fail;
	}
	tune_socket(m->sock);
	m->done_src.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->done_src.fd < 0 ||
	    evloop_add(&vm->loop, &m->done_src, EPOLLIN)) {
		ret = err_set(err, WISP_EXIT_OSERR, errno, "eventfd: %s",
			      strerror(errno));
		goto fail;
	}
	ret = pthread_create(&m->thread, NULL, precopy_thread, m);
	if (ret) {
		ret = err_set(err, WISP_EXIT_OSERR, ret, "thread: %s",
			      strerror(ret));
		goto fail;
	}
	m->thread_started = true;
	return 0;
fail:
	migration_free(m);
	return ret;
}

void migrate_abort(struct vm *vm)
{
	struct migration *m = vm->migration;

	if (!m)
		return;
	__atomic_store_n(&m->abort, true, __ATOMIC_RELEASE);
	if (m->sock >= 0)
		shutdown(m->sock, SHUT_RDWR);	/* a blocked send returns */
	migration_free(m);
}

/* ---- the destination --------------------------------------------------- */

static int recv_record(int fd, struct record *r, struct wisp_err *err)
{
	int ret = recv_all(fd, r, sizeof(*r), IO_TIMEOUT_MS);

	if (ret)
		return err_set(err, WISP_EXIT_DATAERR, -ret,
			       "migration stream: %s", strerror(-ret));
	return 0;
}

/* Read a tree of @len bytes into s->tree and check it as a snapshot's. */
static int recv_tree(struct snapshot *s, uint64_t len, const char *what,
		     struct wisp_err *err)
{
	void *tree;
	int ret;

	if (len < 40 || len > MAX_TREE)
		return err_set(err, WISP_EXIT_DATAERR, EINVAL,
			       "migration stream: a %s of %llu bytes", what,
			       (unsigned long long)len);
	tree = malloc(len);
	if (!tree)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	ret = recv_all(s->migration_fd, tree, len, IO_TIMEOUT_MS);
	if (ret) {
		free(tree);
		return err_set(err, WISP_EXIT_DATAERR, -ret,
			       "migration stream: %s", strerror(-ret));
	}
	free(s->tree);
	s->tree = tree;
	s->tree_len = len;
	return snapshot_check_tree(s, what, err);
}

/* Wait for a connection on @listen_fd (for ever: Ctrl-C ends the wait). */
static int wait_connection(int listen_fd, struct wisp_err *err)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return err_set(err, WISP_EXIT_OSERR, errno, "accept: %s",
			       strerror(errno));
	return fd;
}

/* Does this side's configuration fit the source's HELLO? */
static int check_fit(struct snapshot *s, const struct vm_config *cfg,
		     struct wisp_err *err)
{
	if (cfg->mem_size != s->memory_size)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "the VM has %llu MiB of RAM, this one %llu (--mem)",
			       (unsigned long long)(s->memory_size >> 20),
			       (unsigned long long)(cfg->mem_size >> 20));
	return snapshot_check_shape(s, cfg->cpus, cfg->n_disks, cfg->n_nets,
				    cfg->balloon, err);
}

int migrate_accept(const struct vm_config *cfg, struct snapshot *s,
		   struct wisp_err *err)
{
	const char *uri = cfg->incoming;
	uint32_t accept[2] = { MSG_ACCEPT, 0 };
	struct sockaddr_storage sa;
	struct record r;
	char magic[8], msg[200];
	socklen_t len;
	int lfd, one = 1, ret;

	memset(s, 0, sizeof(*s));
	s->memory_fd = -1;
	s->migration_fd = -1;
	if (migrate_parse_uri(uri, &sa, &len, msg, sizeof(msg)))
		return err_set(err, WISP_EXIT_USAGE, EINVAL, "--incoming: %s",
			       msg);
	lfd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return err_set(err, WISP_EXIT_OSERR, errno, "socket: %s",
			       strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, len) || listen(lfd, 1)) {
		ret = err_set(err, WISP_EXIT_UNAVAILABLE, errno,
			      "--incoming %s: %s", uri + 4, strerror(errno));
		close(lfd);
		return ret;
	}
	fprintf(stderr, "wisp: waiting for a migration on %s\n", uri + 4);
	s->migration_fd = wait_connection(lfd, err);
	close(lfd);
	if (s->migration_fd < 0)
		return s->migration_fd;
	tune_socket(s->migration_fd);
	ret = recv_all(s->migration_fd, magic, sizeof(magic), IO_TIMEOUT_MS);
	if (ret || memcmp(magic, STREAM_MAGIC, 8))
		return err_set(err, WISP_EXIT_DATAERR, EPROTO,
			       "the peer is not a wisp migration source");
	ret = recv_record(s->migration_fd, &r, err);
	if (ret)
		return ret;
	if (r.type != REC_HELLO)
		return err_set(err, WISP_EXIT_DATAERR, EPROTO,
			       "migration stream: record %u where HELLO belongs",
			       r.type);
	ret = recv_tree(s, r.a, "migration HELLO", err);
	if (!ret)
		ret = check_fit(s, cfg, err);
	if (ret)
		return ret;	/* the caller answers with @err */
	ret = send_all(s->migration_fd, accept, sizeof(accept));
	if (ret)
		return err_set(err, WISP_EXIT_OSERR, -ret, "migration: %s",
			       strerror(-ret));
	return 0;
}

int migrate_receive(struct snapshot *s, struct vm *vm, struct wisp_err *err)
{
	uint64_t pages = 0;
	struct record r;
	int ret;

	if (vm->mem.size != s->memory_size)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "--mem: the source has %llu MiB of RAM, this VM %llu",
			       (unsigned long long)(s->memory_size >> 20),
			       (unsigned long long)(vm->mem.size >> 20));
	for (;;) {
		ret = recv_record(s->migration_fd, &r, err);
		if (ret)
			return ret;
		if (r.type == REC_STATE)
			break;
		/* Hostile input: the range must lie inside RAM. */
		if (r.type != REC_PAGES || r.a % PAGE || !r.b ||
		    r.b > MAX_RUN || r.b % PAGE || r.a > vm->mem.size ||
		    r.b > vm->mem.size - r.a)
			return err_set(err, WISP_EXIT_DATAERR, EPROTO,
				       "migration stream: bad record (type %u, %llu, %llu)",
				       r.type, (unsigned long long)r.a,
				       (unsigned long long)r.b);
		ret = recv_all(s->migration_fd, vm->mem.base + r.a, r.b,
			       IO_TIMEOUT_MS);
		if (ret)
			return err_set(err, WISP_EXIT_DATAERR, -ret,
				       "migration stream: %s", strerror(-ret));
		pages += r.b / PAGE;
	}
	if (vm->cfg->verbose)
		fprintf(stderr, "wisp: migration: %llu pages received\n",
			(unsigned long long)pages);
	ret = recv_tree(s, r.a, "migration state", err);
	if (ret)
		return ret;
	return 0;
}

/*
 * Send message @kind (no payload) to the source and wait up to
 * @timeout_ms for the answer @want.  Returns 0 or -errno (-EPROTO for
 * any other answer).
 */
static int ask_source(struct snapshot *s, uint32_t kind, uint32_t want,
		      int timeout_ms)
{
	uint32_t msg[2] = { kind, 0 }, reply;
	int ret;

	ret = send_all(s->migration_fd, msg, sizeof(msg));
	if (!ret)
		ret = recv_all(s->migration_fd, &reply, sizeof(reply),
			       timeout_ms);
	if (!ret && reply != want)
		ret = -EPROTO;
	return ret;
}

int migrate_take_disks(struct snapshot *s, struct wisp_err *err)
{
	int ret = ask_source(s, MSG_RELEASE, MSG_RELEASED, IO_TIMEOUT_MS);

	if (ret)
		return err_set(err, WISP_EXIT_DATAERR, -ret,
			       "migration: the source did not let go of its disks: %s",
			       strerror(-ret));
	return 0;
}

void migrate_answer(struct snapshot *s, const struct wisp_err *err)
{
	uint32_t answer[2];

	if (s->migration_fd < 0)
		return;
	/* Any status but the message kinds the source knows. */
	answer[0] = err->status > MSG_RELEASE ? err->status : WISP_EXIT_SOFTWARE;
	answer[1] = strlen(err->msg);
	if (!send_all(s->migration_fd, answer, sizeof(answer)))
		send_all(s->migration_fd, err->msg, answer[1]);
}

int migrate_confirm(struct snapshot *s, struct wisp_err *err)
{
	int ret = ask_source(s, MSG_READY, MSG_GO, ANSWER_TIMEOUT_MS);

	if (ret)
		return err_set(err, WISP_EXIT_UNAVAILABLE, -ret,
			       "migration: the source never said go (%s); this VM does not run",
			       strerror(-ret));
	close(s->migration_fd);
	s->migration_fd = -1;
	return 0;
}
