// SPDX-License-Identifier: Apache-2.0
/*
 * The control socket and the metrics endpoint (control.h, docs/control.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "metrics.h"
#include "migrate.h"
#include "snapshot.h"
#include "vm.h"

#define PAUSE_TIMEOUT_MS	2000
#define ACCEPT_BATCH		16

enum client_kind { CLIENT_CONTROL, CLIENT_HTTP };

struct client {
	struct ev_source src;
	struct control *ctl;
	enum client_kind kind;
	struct client *next;
	bool reading;			/* EPOLLIN wanted */
	bool writing;			/* EPOLLOUT wanted */
	bool close_when_sent;
	bool draining;			/* replied, written end shut: discard */
	size_t drained;
	size_t in_len;
	char in[CONTROL_LINE_MAX + 1];
	char *out;
	size_t out_len, out_cap;
};

struct control {
	const struct vm_config *cfg;
	char path[CONTROL_PATH_MAX];	/* the socket; "" with --api none */
	char lock_path[CONTROL_PATH_MAX + 8];	/* held: "" when not */
	int lock_fd;
	struct ev_source listen_src;	/* the control socket */
	struct ev_source metrics_src;	/* --metrics-listen */
	struct ev_source shutdown_src;	/* timerfd: shutdown's escalation */
	bool shutting_down;
	uint64_t started_ns;
	struct vm *vm;			/* attached to; NULL between boots */
	struct client *clients;
	unsigned int n_clients[2];	/* by kind */
	struct client *migrate_client;	/* awaits a migration's end */
	bool migrating;
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ---- requests ------------------------------------------------------------ */

static const char *const op_names[] = {
	[CONTROL_INFO] = "info",
	[CONTROL_PAUSE] = "pause",
	[CONTROL_RESUME] = "resume",
	[CONTROL_SHUTDOWN] = "shutdown",
	[CONTROL_STOP] = "stop",
	[CONTROL_STAT] = "stat",
	[CONTROL_BALLOON] = "balloon",
	[CONTROL_SNAPSHOT] = "snapshot",
	[CONTROL_MIGRATE] = "migrate",
};

#define N_OPS (sizeof(op_names) / sizeof(op_names[0]))

int control_parse_request(const char *line, size_t len,
			  struct control_request *req, char *msg,
			  size_t msg_len)
{
	struct json_tokener *tok;
	struct json_object *o, *v;
	enum json_tokener_error jerr;
	const char *name = NULL;
	char text[CONTROL_LINE_MAX + 1];
	unsigned int i;
	size_t end;
	int ret = -EINVAL;

	memset(req, 0, sizeof(*req));
	req->timeout = CONTROL_SHUTDOWN_TIMEOUT;
	if (len > CONTROL_LINE_MAX) {
		snprintf(msg, msg_len, "request longer than %d bytes",
			 CONTROL_LINE_MAX);
		return -EINVAL;
	}
	tok = json_tokener_new_ex(16);
	if (!tok) {
		snprintf(msg, msg_len, "out of memory");
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
			       JSON_TOKENER_VALIDATE_UTF8);
	/* The NUL after the line ends a bare number as well. */
	memcpy(text, line, len);
	text[len] = 0;
	o = json_tokener_parse_ex(tok, text, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	if (!o && jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	if (jerr != json_tokener_success) {
		snprintf(msg, msg_len, "malformed request: %s",
			 json_tokener_error_desc(jerr));
		goto out;
	}
	end = json_tokener_get_parse_end(tok);
	while (end < len && (text[end] == ' ' || text[end] == '\t'))
		end++;
	if (end < len) {
		snprintf(msg, msg_len, "malformed request: text after the object");
		goto out;
	}
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(msg, msg_len, "malformed request: not a JSON object");
		goto out;
	}
	if (json_object_object_get_ex(o, "version", &v)) {
		int64_t ver = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) ||
		    ver != CONTROL_VERSION) {
			if (json_object_is_type(v, json_type_int))
				snprintf(msg, msg_len, "unsupported version %lld (this wisp speaks %d)",
					 (long long)ver, CONTROL_VERSION);
			else
				snprintf(msg, msg_len, "'version' must be an integer");
			goto out;
		}
	}
	if (!json_object_object_get_ex(o, "request", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(msg, msg_len, "missing \"request\" (a string)");
		goto out;
	}
	name = json_object_get_string(v);
	for (i = 0; i < N_OPS; i++)
		if (!strcmp(name, op_names[i]))
			break;
	if (i == N_OPS) {
		snprintf(msg, msg_len, "unknown request '%.64s'", name);
		goto out;
	}
	req->op = i;
	json_object_object_foreach(o, key, val) {
		if (!strcmp(key, "version") || !strcmp(key, "request"))
			continue;
		if (req->op == CONTROL_SHUTDOWN && !strcmp(key, "timeout")) {
			double t = json_object_get_double(val);

			if ((!json_object_is_type(val, json_type_int) &&
			     !json_object_is_type(val, json_type_double)) ||
			    !isfinite(t) || t < 0 || t > 86400) {
				snprintf(msg, msg_len, "'timeout' must be a number of seconds from 0 to 86400");
				goto out;
			}
			req->timeout = t;
		} else if (req->op == CONTROL_STAT && !strcmp(key, "format")) {
			const char *f = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_string) ||
			    (strcmp(f, "json") && strcmp(f, "prometheus"))) {
				snprintf(msg, msg_len, "'format' must be \"json\" or \"prometheus\"");
				goto out;
			}
			req->prometheus = !strcmp(f, "prometheus");
		} else if (req->op == CONTROL_BALLOON &&
			   !strcmp(key, "target_bytes")) {
			if (!json_object_is_type(val, json_type_int) ||
			    json_object_get_int64(val) < 0) {
				snprintf(msg, msg_len, "'target_bytes' must be a whole number of bytes, 0 or more");
				goto out;
			}
			req->has_target = true;
			req->target_bytes = json_object_get_int64(val);
		} else if (req->op == CONTROL_SNAPSHOT && !strcmp(key, "dir")) {
			const char *d = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_string) ||
			    d[0] != '/' || strlen(d) >= sizeof(req->dir)) {
				snprintf(msg, msg_len, "'dir' must be an absolute path of at most %zu bytes",
					 sizeof(req->dir) - 1);
				goto out;
			}
			strcpy(req->dir, d);
		} else if (req->op == CONTROL_MIGRATE && !strcmp(key, "uri")) {
			const char *u = json_object_get_string(val);
			struct sockaddr_storage sa;
			socklen_t sl;
			char why[160];

			if (!json_object_is_type(val, json_type_string) ||
			    strlen(u) >= sizeof(req->uri) ||
			    migrate_parse_uri(u, &sa, &sl, why, sizeof(why))) {
				snprintf(msg, msg_len, "'uri' must be tcp:HOST:PORT");
				goto out;
			}
			strcpy(req->uri, u);
		} else if (req->op == CONTROL_MIGRATE &&
			   !strcmp(key, "downtime_ms")) {
			int64_t d = json_object_get_int64(val);

			if (!json_object_is_type(val, json_type_int) || d < 1 ||
			    d > 60000) {
				snprintf(msg, msg_len, "'downtime_ms' must be a whole number from 1 to 60000");
				goto out;
			}
			req->downtime_ms = d;
		} else if (req->op == CONTROL_SNAPSHOT &&
			   !strcmp(key, "resume")) {
			if (!json_object_is_type(val, json_type_boolean)) {
				snprintf(msg, msg_len, "'resume' must be true or false");
				goto out;
			}
			req->resume = json_object_get_boolean(val);
		} else {
			snprintf(msg, msg_len, "unknown field '%.64s' for request '%s'",
				 key, name);
			goto out;
		}
	}
	if (req->op == CONTROL_SNAPSHOT && !req->dir[0]) {
		snprintf(msg, msg_len, "snapshot: missing 'dir'");
		goto out;
	}
	if (req->op == CONTROL_MIGRATE && !req->uri[0]) {
		snprintf(msg, msg_len, "migrate: missing 'uri'");
		goto out;
	}
	if (req->op == CONTROL_MIGRATE && !req->downtime_ms)
		req->downtime_ms = MIGRATE_DEFAULT_DOWNTIME_MS;
	ret = 0;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return ret;
}

/* ---- what a VM is and does ----------------------------------------------- */

static const char *vm_state(struct control *c)
{
	if (vm_stopping(c->vm))
		return "stopping";
	if (c->shutting_down)
		return "shutting-down";
	return vm_paused(c->vm) ? "paused" : "running";
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

/* Name, PID, state and uptime: the start of info and stat. */
static struct json_object *vm_header(struct control *c)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "name", c->cfg->name);
	add_int(o, "pid", getpid());
	add_str(o, "state", vm_state(c));
	json_object_object_add(o, "uptime_s", json_object_new_double(
		(monotonic_ns() - c->started_ns) / 1e9));
	return o;
}

static struct json_object *vcpu_affinity(pid_t tid)
{
	struct json_object *a = json_object_new_array();
	cpu_set_t set;
	int cpu;

	if (tid <= 0 || sched_getaffinity(tid, sizeof(set), &set))
		return a;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			json_object_array_add(a, json_object_new_int(cpu));
	return a;
}

static void format_mac(const uint8_t mac[6], char *s, size_t len)
{
	snprintf(s, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

static struct json_object *vm_info(struct control *c)
{
	struct vm *vm = c->vm;
	struct json_object *o = vm_header(c), *a, *m;
	unsigned int i;
	char id[16], mac[18];

	a = json_object_new_array();
	for (i = 0; i < vm->n_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		pid_t tid = __atomic_load_n(&v->tid, __ATOMIC_ACQUIRE);
		struct json_object *e = json_object_new_object();

		add_int(e, "index", i);
		add_int(e, "tid", tid);
		json_object_object_add(e, "affinity", vcpu_affinity(tid));
		add_int(e, "pinned", v->pin_cpu);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "vcpus", a);
	m = json_object_new_object();
	add_u64(m, "size_bytes", c->cfg->mem_size);
	add_str(m, "backing", vm->mem.hugetlb ? "hugetlb" : "thp");
	json_object_object_add(m, "ksm", json_object_new_boolean(c->cfg->ksm));
	json_object_object_add(o, "memory", m);
	a = json_object_new_array();
	for (i = 0; i < vm->n_disks; i++) {
		const struct vm_disk *d = &vm->backends->disks[i];
		struct json_object *e = json_object_new_object();

		snprintf(id, sizeof(id), "blk%u", i);
		add_str(e, "id", id);
		add_str(e, "kind", "virtio-blk");
		add_str(e, "path", d->opts.path);
		json_object_object_add(e, "read_only",
				       json_object_new_boolean(d->opts.readonly));
		json_object_array_add(a, e);
	}
	for (i = 0; i < vm->n_nets; i++) {
		const struct vm_net *n = &vm->backends->nets[i];
		struct json_object *e = json_object_new_object();

		snprintf(id, sizeof(id), "net%u", i);
		add_str(e, "id", id);
		add_str(e, "kind", "virtio-net");
		add_str(e, "tap", n->tap.ifname);
		format_mac(n->mac, mac, sizeof(mac));
		add_str(e, "mac", mac);
		add_int(e, "queues", n->tap.n_fds ? n->tap.n_fds : 1);
		add_str(e, "link", net_link_up(vm->nets[i]) ? "up" : "down");
		json_object_array_add(a, e);
	}
	if (vm->balloon) {
		const struct balloon_options *b = &c->cfg->balloon_opts;
		struct json_object *e = json_object_new_object();

		add_str(e, "id", "balloon0");
		add_str(e, "kind", "virtio-balloon");
		json_object_object_add(e, "deflate_on_oom",
				       json_object_new_boolean(b->deflate_on_oom));
		json_object_object_add(e, "free_page_reporting",
				       json_object_new_boolean(b->free_page_reporting));
		add_int(e, "stats_interval_s", b->stats_interval);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "devices", a);
	add_str(o, "api", c->path);
	return o;
}

/*
 * Guest RAM resident on the host: Rss (plus hugetlb pages, which smaps
 * counts apart) of the mappings inside guest RAM's.
 */
static uint64_t guest_resident(const struct guest_mem *mem)
{
	uintptr_t lo = (uintptr_t)mem->base, hi = lo + mem->size;
	unsigned long start, end;
	uint64_t kib, total = 0;
	bool inside = false;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			inside = start >= lo && end <= hi && start < end;
			continue;
		}
		if (!inside)
			continue;
		if (sscanf(line, "Rss: %" SCNu64 " kB", &kib) == 1 ||
		    sscanf(line, "Private_Hugetlb: %" SCNu64 " kB", &kib) == 1 ||
		    sscanf(line, "Shared_Hugetlb: %" SCNu64 " kB", &kib) == 1)
			total += kib << 10;
	}
	fclose(f);
	return total;
}

/* KVM exit reasons stat names; the rest count as "other". */
static const struct {
	unsigned int reason;
	const char *name;
} exit_names[] = {
	{ KVM_EXIT_IO, "io" },
	{ KVM_EXIT_MMIO, "mmio" },
	{ KVM_EXIT_HLT, "hlt" },
	{ KVM_EXIT_SHUTDOWN, "shutdown" },
	{ KVM_EXIT_SYSTEM_EVENT, "system_event" },
};

#define N_EXIT_NAMES (sizeof(exit_names) / sizeof(exit_names[0]))

static struct json_object *vcpu_stat(const struct vcpu *v)
{
	struct json_object *o = json_object_new_object();
	struct json_object *e = json_object_new_object();
	uint64_t n, total = 0, named = 0, values[KVM_STATS_MAX];
	unsigned int r, i;

	for (r = 0; r < EXIT_REASON_SLOTS; r++)
		total += __atomic_load_n(&v->stats.by_reason[r],
					 __ATOMIC_RELAXED);
	for (i = 0; i < N_EXIT_NAMES; i++) {
		n = __atomic_load_n(&v->stats.by_reason[exit_names[i].reason],
				    __ATOMIC_RELAXED);
		add_u64(e, exit_names[i].name, n);
		named += n;
	}
	add_u64(e, "other", total > named ? total - named : 0);
	add_int(o, "index", v->index);
	json_object_object_add(o, "exits", e);
	add_u64(o, "exits_total", total);
	if (!kvm_stats_read(&v->kvm_stats, values)) {
		struct json_object *k = json_object_new_object();
		struct json_object *g = json_object_new_object();

		for (i = 0; i < v->kvm_stats.n; i++)
			add_u64(v->kvm_stats.desc[i].cumulative ? k : g,
				v->kvm_stats.desc[i].name, values[i]);
		json_object_object_add(o, "kvm_counters", k);
		json_object_object_add(o, "kvm_gauges", g);
	}
	return o;
}

static struct json_object *vm_stat(struct control *c)
{
	struct vm *vm = c->vm;
	struct json_object *o = vm_header(c), *a, *m;
	unsigned int i;
	char id[16];

	a = json_object_new_array();
	for (i = 0; i < vm->n_vcpus; i++)
		json_object_array_add(a, vcpu_stat(&vm->vcpus[i]));
	json_object_object_add(o, "vcpus", a);
	m = json_object_new_object();
	add_u64(m, "size_bytes", c->cfg->mem_size);
	add_u64(m, "resident_bytes", guest_resident(&vm->mem));
	json_object_object_add(o, "memory", m);
	a = json_object_new_array();
	for (i = 0; i < vm->n_disks; i++) {
		struct json_object *e = json_object_new_object();
		struct blk_queue_stats s;

		blk_get_stats(vm->disks[i], &s);
		snprintf(id, sizeof(id), "blk%u", i);
		add_str(e, "id", id);
		add_str(e, "kind", "virtio-blk");
		add_u64(e, "reads", s.reads);
		add_u64(e, "writes", s.writes);
		add_u64(e, "flushes", s.flushes);
		add_u64(e, "discards", s.discards);
		add_u64(e, "write_zeroes", s.zeroes);
		add_u64(e, "bytes_read", s.bytes_read);
		add_u64(e, "bytes_written", s.bytes_written);
		add_u64(e, "errors", s.errors);
		json_object_array_add(a, e);
	}
	for (i = 0; i < vm->n_nets; i++) {
		struct json_object *e = json_object_new_object();
		struct net_stats s;

		net_get_stats(vm->nets[i], &s);
		snprintf(id, sizeof(id), "net%u", i);
		add_str(e, "id", id);
		add_str(e, "kind", "virtio-net");
		add_str(e, "link", net_link_up(vm->nets[i]) ? "up" : "down");
		add_u64(e, "tx_frames", s.tx_frames);
		add_u64(e, "tx_bytes", s.tx_bytes);
		add_u64(e, "rx_frames", s.rx_frames);
		add_u64(e, "rx_bytes", s.rx_bytes);
		add_u64(e, "tx_dropped", s.tx_short + s.tx_oversize +
			s.tx_bad_header + s.tx_bad_buffer + s.tx_errors);
		add_u64(e, "rx_dropped", s.rx_no_fit + s.rx_bad_buffer);
		json_object_array_add(a, e);
	}
	if (vm->balloon) {
		struct json_object *e = json_object_new_object();
		struct balloon_status b;

		balloon_get_status(vm->balloon, &b);
		add_str(e, "id", "balloon0");
		add_str(e, "kind", "virtio-balloon");
		add_u64(e, "target_bytes", b.target_pages << BALLOON_PAGE_SHIFT);
		add_u64(e, "actual_bytes", b.actual_pages << BALLOON_PAGE_SHIFT);
		add_u64(e, "inflated_pages", b.inflated_pages);
		add_u64(e, "deflated_pages", b.deflated_pages);
		add_u64(e, "discarded_bytes", b.discarded_bytes);
		add_u64(e, "reported_bytes", b.reported_bytes);
		add_u64(e, "bad_pfns", b.bad_pfns + b.capped_pfns);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "devices", a);
	return o;
}

/* The balloon request's reply object: target, actual, counters, stats. */
static struct json_object *balloon_reply(struct balloon_dev *d)
{
	static const char *const names[BALLOON_STAT_TAGS] = {
		[BALLOON_STAT_SWAP_IN] = "swap_in_bytes",
		[BALLOON_STAT_SWAP_OUT] = "swap_out_bytes",
		[BALLOON_STAT_MAJFLT] = "major_faults",
		[BALLOON_STAT_MINFLT] = "minor_faults",
		[BALLOON_STAT_MEMFREE] = "free_bytes",
		[BALLOON_STAT_MEMTOT] = "total_bytes",
		[BALLOON_STAT_AVAIL] = "available_bytes",
		[BALLOON_STAT_CACHES] = "caches_bytes",
		[BALLOON_STAT_HTLB_PGALLOC] = "hugetlb_allocations",
		[BALLOON_STAT_HTLB_PGFAIL] = "hugetlb_failures",
	};
	struct json_object *o = json_object_new_object(), *st;
	struct balloon_status b;
	unsigned int i;

	balloon_get_status(d, &b);
	add_u64(o, "target_bytes", b.target_pages << BALLOON_PAGE_SHIFT);
	add_u64(o, "actual_bytes", b.actual_pages << BALLOON_PAGE_SHIFT);
	add_u64(o, "inflated_pages", b.inflated_pages);
	add_u64(o, "deflated_pages", b.deflated_pages);
	add_u64(o, "discarded_bytes", b.discarded_bytes);
	add_u64(o, "reported_bytes", b.reported_bytes);
	add_u64(o, "bad_pfns", b.bad_pfns);
	add_u64(o, "capped_pfns", b.capped_pfns);
	add_u64(o, "bad_buffers", b.bad_buffers);
	/* What the guest's driver accepted (all false before it loads). */
	st = json_object_new_object();
	json_object_object_add(st, "stats",
			       json_object_new_boolean(b.stats_queue));
	json_object_object_add(st, "deflate_on_oom",
			       json_object_new_boolean(b.deflate_on_oom));
	json_object_object_add(st, "free_page_reporting",
			       json_object_new_boolean(b.free_page_reporting));
	json_object_object_add(o, "negotiated", st);
	if (b.stats_queue && b.stats_updates) {
		st = json_object_new_object();
		add_u64(st, "age_ms", b.stats_age_ms);
		add_u64(st, "updates", b.stats_updates);
		for (i = 0; i < BALLOON_STAT_TAGS; i++)
			if (b.stats_present >> i & 1)
				add_u64(st, names[i], b.stats[i]);
		json_object_object_add(o, "stats", st);
	} else {
		json_object_object_add(o, "stats", NULL);
	}
	return o;
}

/* ---- shutdown's escalation ------------------------------------------------- */

static void on_shutdown_timer(struct ev_source *src, uint32_t events)
{
	struct control *c = src->data;
	uint64_t n;

	(void)events;
	if (read(src->fd, &n, sizeof(n)) != sizeof(n) || !c->vm)
		return;
	vm_fail(c->vm, WISP_EXIT_STOPPED,
		"shutdown: the guest did not power off in time: stopped");
}

static int arm_shutdown_timer(struct control *c, double seconds)
{
	struct itimerspec its = { 0 };

	if (c->shutdown_src.fd < 0) {
		c->shutdown_src.fd = timerfd_create(CLOCK_MONOTONIC,
						    TFD_NONBLOCK | TFD_CLOEXEC);
		if (c->shutdown_src.fd < 0)
			return -errno;
		c->shutdown_src.cb = on_shutdown_timer;
		c->shutdown_src.data = c;
		if (evloop_add(&c->vm->loop, &c->shutdown_src, EPOLLIN)) {
			close(c->shutdown_src.fd);
			c->shutdown_src.fd = -1;
			return -ENOMEM;
		}
	}
	if (seconds > 0) {
		its.it_value.tv_sec = (time_t)seconds;
		its.it_value.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	return timerfd_settime(c->shutdown_src.fd, 0, &its, NULL) ? -errno : 0;
}

/* ---- clients ----------------------------------------------------------------- */

static void client_close(struct client *cl)
{
	struct control *c = cl->ctl;
	struct client **p;

	if (cl->reading || cl->writing)
		evloop_remove(&c->vm->loop, &cl->src);
	close(cl->src.fd);
	for (p = &c->clients; *p; p = &(*p)->next)
		if (*p == cl) {
			*p = cl->next;
			break;
		}
	c->n_clients[cl->kind]--;
	if (c->migrate_client == cl)
		c->migrate_client = NULL;	/* the migration goes on */
	free(cl->out);
	free(cl);
}

/* Watch what @cl waits for now; false when it should be closed. */
static bool client_update(struct client *cl)
{
	struct evloop *loop = &cl->ctl->vm->loop;
	bool read = !cl->close_when_sent || cl->draining;
	bool write = cl->out_len > 0;
	uint32_t ev = (read ? EPOLLIN : 0) | (write ? EPOLLOUT : 0);
	int ret = 0;

	if (!read && !write)
		return false;
	if (read == cl->reading && write == cl->writing)
		return true;
	if (cl->reading || cl->writing)
		ret = evloop_modify(loop, &cl->src, ev);
	else
		ret = evloop_add(loop, &cl->src, ev);
	cl->reading = read;
	cl->writing = write;
	return !ret;
}

/* Write what is queued; false on an error (the client is gone). */
static bool client_flush(struct client *cl)
{
	while (cl->out_len) {
		ssize_t n = send(cl->src.fd, cl->out, cl->out_len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0)
			return false;
		memmove(cl->out, cl->out + n, cl->out_len - n);
		cl->out_len -= n;
	}
	return true;
}

/* Queue @len bytes for @cl; false when over CONTROL_OUT_MAX. */
static bool client_queue(struct client *cl, const char *buf, size_t len)
{
	if (cl->out_len + len > CONTROL_OUT_MAX)
		return false;
	if (cl->out_len + len > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		char *p;

		while (cap < cl->out_len + len)
			cap *= 2;
		p = realloc(cl->out, cap);
		if (!p)
			return false;
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, buf, len);
	cl->out_len += len;
	return true;
}

/* Queue reply @o (consumed) as one line. */
static bool client_reply(struct client *cl, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	bool ok = s && client_queue(cl, s, strlen(s)) &&
		  client_queue(cl, "\n", 1);

	json_object_put(o);
	return ok;
}

static struct json_object *reply_new(bool ok)
{
	struct json_object *o = json_object_new_object();

	add_int(o, "version", CONTROL_VERSION);
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	return o;
}

static bool client_error(struct client *cl, const char *msg)
{
	struct json_object *o = reply_new(false);

	add_str(o, "error", msg);
	return client_reply(cl, o);
}

/*
 * Pause, write the snapshot, then resume (@req->resume, or when it
 * failed) or stop the VM (84) once the reply is out.  A VM paused before
 * stays paused.
 */
static bool client_snapshot(struct client *cl,
			    const struct control_request *req)
{
	struct control *c = cl->ctl;
	struct vm *vm = c->vm;
	struct snapshot_result res;
	struct wisp_err err = { 0 };
	bool was_paused = vm_paused(vm), ok;
	struct json_object *o;
	int ret;

	if (c->shutting_down)
		return client_error(cl, "a shutdown is under way");
	if (c->migrating)
		return client_error(cl, "a migration is under way");
	ret = vm_pause(vm, PAUSE_TIMEOUT_MS);
	if (ret == -ETIMEDOUT)
		return client_error(cl, "the vCPUs did not stop within 2 s: still running");
	if (ret)
		return client_error(cl, "the VM is stopping");
	ret = snapshot_save(vm, req->dir, was_paused, &res, &err);
	if (ret) {
		if (!was_paused)
			vm_resume(vm);
		return client_error(cl, err.msg);
	}
	if (c->cfg->verbose)
		fprintf(stderr, "wisp: control: snapshot in %s (%llu ms)\n",
			req->dir, (unsigned long long)res.ms);
	o = reply_new(true);
	add_str(o, "request", "snapshot");
	add_str(o, "state", req->resume ? (was_paused ? "paused" : "running") :
		"stopping");
	add_str(o, "dir", req->dir);
	json_object_object_add(o, "memory_bytes",
			       json_object_new_int64(res.memory_bytes));
	json_object_object_add(o, "written_bytes",
			       json_object_new_int64(res.written_bytes));
	json_object_object_add(o, "ms", json_object_new_int64(res.ms));
	ok = client_reply(cl, o);
	if (req->resume) {
		if (!was_paused)
			vm_resume(vm);
	} else {
		client_flush(cl);
		vm_stop_now(vm, WISP_EXIT_STOPPED);
	}
	return ok;
}

/* A migration ended (event loop): reply, and stop the VM if it moved. */
static void migrate_done(void *ctx, int ret, const char *msg,
			 const struct migrate_result *res)
{
	struct control *c = ctx;
	struct client *cl = c->migrate_client;
	struct json_object *o;

	c->migrating = false;
	c->migrate_client = NULL;
	if (!ret)
		fprintf(stderr, "wisp: migrate: done in %llu ms: %u rounds, %.1f MiB sent, downtime %llu ms\n",
			(unsigned long long)res->total_ms, res->rounds,
			res->bytes_sent / 1048576.0,
			(unsigned long long)res->downtime_ms);
	if (cl) {
		if (ret) {
			client_error(cl, msg);
			client_flush(cl);
		} else {
			o = reply_new(true);
			add_str(o, "request", "migrate");
			add_str(o, "state", "migrated");
			json_object_object_add(o, "rounds",
					       json_object_new_int(res->rounds));
			json_object_object_add(o, "bytes_sent",
					       json_object_new_int64(res->bytes_sent));
			json_object_object_add(o, "total_ms",
					       json_object_new_int64(res->total_ms));
			json_object_object_add(o, "downtime_ms",
					       json_object_new_int64(res->downtime_ms));
			client_reply(cl, o);
			client_flush(cl);
		}
	}
	if (!ret)
		vm_stop_now(c->vm, WISP_EXIT_MIGRATED);
}

static bool client_migrate(struct client *cl,
			   const struct control_request *req)
{
	struct control *c = cl->ctl;
	struct wisp_err err = { 0 };

	if (c->shutting_down)
		return client_error(cl, "a shutdown is under way");
	if (c->migrating)
		return client_error(cl, "a migration is under way");
	if (migrate_start(c->vm, req->uri, req->downtime_ms, migrate_done, c,
			  &err))
		return client_error(cl, err.msg);
	c->migrating = true;
	c->migrate_client = cl;	/* the reply comes when it ends */
	return true;
}

/* Carry out @req; the reply is queued on @cl.  False: drop the client. */
static bool client_request(struct client *cl, const struct control_request *req)
{
	struct control *c = cl->ctl;
	struct vm *vm = c->vm;
	struct json_object *o;
	bool ok;
	int ret;

	switch (req->op) {
	case CONTROL_PAUSE:
		if (c->shutting_down)
			return client_error(cl, "a shutdown is under way");
		ret = vm_pause(vm, PAUSE_TIMEOUT_MS);
		if (ret == -ETIMEDOUT)
			return client_error(cl, "the vCPUs did not stop within 2 s: still running");
		if (ret)
			return client_error(cl, "the VM is stopping");
		break;
	case CONTROL_RESUME:
		vm_resume(vm);
		break;
	case CONTROL_SHUTDOWN:
		ret = arm_shutdown_timer(c, req->timeout);
		if (ret)
			return client_error(cl, strerror(-ret));
		c->shutting_down = true;
		vm_resume(vm);
		vm_power_button(vm);
		if (c->cfg->verbose)
			fprintf(stderr, "wisp: control: power button pressed\n");
		break;
	case CONTROL_STOP:
		if (c->cfg->verbose)
			fprintf(stderr, "wisp: control: stop\n");
		break;
	case CONTROL_SNAPSHOT:
		return client_snapshot(cl, req);
	case CONTROL_MIGRATE:
		return client_migrate(cl, req);
	case CONTROL_BALLOON:
		if (!vm->balloon)
			return client_error(cl, "no balloon (start the VM with --balloon)");
		if (req->has_target &&
		    balloon_set_target(vm->balloon, req->target_bytes))
			return client_error(cl, "'target_bytes' is more than the guest's RAM");
		break;
	default:
		break;
	}
	o = reply_new(true);
	add_str(o, "request", op_names[req->op]);
	if (req->op == CONTROL_INFO) {
		json_object_object_add(o, "info", vm_info(c));
	} else if (req->op == CONTROL_BALLOON) {
		json_object_object_add(o, "balloon", balloon_reply(vm->balloon));
	} else if (req->op == CONTROL_STAT) {
		struct json_object *s = vm_stat(c);

		if (req->prometheus) {
			char *text = metrics_format(s);

			json_object_put(s);
			if (!text) {
				json_object_put(o);
				return client_error(cl, "out of memory");
			}
			add_str(o, "prometheus", text);
			free(text);
		} else {
			json_object_object_add(o, "stat", s);
		}
	} else {
		/* What the request set going (a guest may power off at once). */
		add_str(o, "state", req->op == CONTROL_STOP ? "stopping" :
			req->op == CONTROL_SHUTDOWN ? "shutting-down" :
			vm_state(c));
	}
	ok = client_reply(cl, o);
	if (req->op == CONTROL_STOP) {
		/* The reply goes out before the loop ends. */
		client_flush(cl);
		vm_request_stop(vm, WISP_EXIT_STOPPED);
	}
	return ok;
}

/* Serve the complete lines in @cl's buffer. */
static bool control_lines(struct client *cl)
{
	char msg[200];
	size_t done = 0;

	for (;;) {
		char *nl = memchr(cl->in + done, '\n', cl->in_len - done);
		struct control_request req;
		size_t len;

		if (!nl)
			break;
		len = nl - (cl->in + done);
		if (len && cl->in[done + len - 1] == '\r')
			len--;
		if (len && !control_parse_request(cl->in + done, len, &req,
						   msg, sizeof(msg))) {
			if (!client_request(cl, &req))
				return false;
		} else if (len && !client_error(cl, msg)) {
			return false;
		}
		done = nl + 1 - cl->in;
		if (vm_stopping(cl->ctl->vm))
			break;
	}
	memmove(cl->in, cl->in + done, cl->in_len - done);
	cl->in_len -= done;
	if (cl->in_len >= CONTROL_LINE_MAX) {
		snprintf(msg, sizeof(msg), "request longer than %d bytes",
			 CONTROL_LINE_MAX);
		cl->close_when_sent = true;
		cl->in_len = 0;
		return client_error(cl, msg);
	}
	return true;
}

static bool http_reply(struct client *cl, const char *status,
		       const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\n"
			 "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
			 "Content-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", status, strlen(body));

	cl->close_when_sent = true;
	return client_queue(cl, head, n) && client_queue(cl, body, strlen(body));
}

/* One request per connection: GET /metrics, nothing else. */
static bool http_request(struct client *cl)
{
	struct json_object *s;
	char *text;
	bool ok;

	cl->in[cl->in_len] = 0;
	if (!strstr(cl->in, "\r\n\r\n") && !strstr(cl->in, "\n\n")) {
		if (cl->in_len < CONTROL_LINE_MAX)
			return true;	/* more to come */
		return http_reply(cl, "431 Request Header Fields Too Large",
				  "request too large\n");
	}
	if (strncmp(cl->in, "GET ", 4))
		return http_reply(cl, "405 Method Not Allowed",
				  "only GET /metrics\n");
	if (strncmp(cl->in + 4, "/metrics ", 9) &&
	    strncmp(cl->in + 4, "/metrics\r", 9) &&
	    strncmp(cl->in + 4, "/metrics?", 9))
		return http_reply(cl, "404 Not Found", "only /metrics\n");
	s = vm_stat(cl->ctl);
	text = metrics_format(s);
	json_object_put(s);
	if (!text)
		return http_reply(cl, "500 Internal Server Error",
				  "out of memory\n");
	ok = http_reply(cl, "200 OK", text);
	free(text);
	return ok;
}

/*
 * After the last reply: discard what the client still sends until it
 * closes (closing with unread input would reset the connection and could
 * lose that reply), up to a bound.
 */
static bool client_drain(struct client *cl)
{
	char scratch[4096];
	ssize_t n = recv(cl->src.fd, scratch, sizeof(scratch), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	cl->drained += n;
	return cl->drained < CONTROL_OUT_MAX;
}

static void on_client(struct ev_source *src, uint32_t events)
{
	struct client *cl = src->data;
	bool ok = true;

	if (events & EPOLLOUT)
		ok = client_flush(cl);
	if (ok && cl->draining) {
		ok = client_drain(cl);
	} else if (ok && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
	    !cl->close_when_sent) {
		ssize_t n = recv(cl->src.fd, cl->in + cl->in_len,
				 CONTROL_LINE_MAX - cl->in_len, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			n = -2;
		if (n == 0 || n == -1) {
			ok = false;
		} else if (n > 0) {
			cl->in_len += n;
			ok = cl->kind == CLIENT_CONTROL ? control_lines(cl) :
			     http_request(cl);
		}
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		ok = false;
	}
	if (ok)
		ok = client_flush(cl);
	if (ok && cl->close_when_sent && !cl->out_len && !cl->draining) {
		shutdown(cl->src.fd, SHUT_WR);
		cl->draining = true;
	}
	if (!ok || !client_update(cl))
		client_close(cl);
}

static void accept_clients(struct control *c, struct ev_source *src,
			   enum client_kind kind)
{
	static const char busy[] =
		"{\"version\":1,\"ok\":false,\"error\":\"too many connections\"}\n";
	int i;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(src->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *cl;

		if (fd < 0)
			return;
		if (c->n_clients[kind] >= CONTROL_MAX_CLIENTS ||
		    !(cl = calloc(1, sizeof(*cl)))) {
			if (kind == CLIENT_CONTROL &&
			    send(fd, busy, sizeof(busy) - 1,
				 MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* nothing more to tell it */
			}
			close(fd);
			continue;
		}
		cl->src = (struct ev_source){ .fd = fd, .cb = on_client,
					      .data = cl };
		cl->ctl = c;
		cl->kind = kind;
		cl->next = c->clients;
		c->clients = cl;
		c->n_clients[kind]++;
		if (!client_update(cl))
			client_close(cl);
	}
}

static void on_listen(struct ev_source *src, uint32_t events)
{
	(void)events;
	accept_clients(src->data, src, CLIENT_CONTROL);
}

static void on_metrics_listen(struct ev_source *src, uint32_t events)
{
	(void)events;
	accept_clients(src->data, src, CLIENT_HTTP);
}

/* ---- opening -------------------------------------------------------------------- */

int control_parse_listen(const char *s, struct sockaddr_storage *sa,
			 socklen_t *len, char *msg, size_t msg_len)
{
	const char *colon = strrchr(s, ':');
	char host[64];
	size_t hlen;
	char *end;
	long port;

	memset(sa, 0, sizeof(*sa));
	if (!colon || colon == s)
		goto bad;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 1 || port > 65535)
		goto bad;
	hlen = colon - s;
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']' || hlen - 2 >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hlen - 2);
		host[hlen - 2] = 0;
	} else {
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, s, hlen);
		host[hlen] = 0;
		if (!strcmp(host, "localhost"))
			strcpy(host, "127.0.0.1");
	}
	if (s[0] != '[' && inet_pton(AF_INET, host,
				     &((struct sockaddr_in *)sa)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		*len = sizeof(*in);
		return 0;
	}
	if (s[0] == '[' && inet_pton(AF_INET6, host,
				     &((struct sockaddr_in6 *)sa)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
bad:
	snprintf(msg, msg_len, "'%s' is not ADDR:PORT (an IPv4 address, [IPv6] or localhost, and a port 1-65535)",
		 s);
	return -EINVAL;
}

bool control_listen_is_loopback(const char *s)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char msg[160];

	if (control_parse_listen(s, &sa, &len, msg, sizeof(msg)))
		return false;
	if (sa.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&sa)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&sa)->sin6_addr);
}

void control_default_dir(char *dir, size_t len)
{
	const char *env = getenv("WISP_RUN_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (env && *env)
		snprintf(dir, len, "%s", env);
	else if (!geteuid())
		snprintf(dir, len, "/run/wisp");
	else if (xdg && *xdg == '/')
		snprintf(dir, len, "%s/wisp", xdg);
	else
		snprintf(dir, len, "/tmp/wisp-%u", (unsigned int)geteuid());
}

/* The default directory exists, is ours and a directory (mode 0700 when made). */
static int make_dir(const char *dir, struct wisp_err *err)
{
	struct stat st;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return err_set(err, WISP_EXIT_OSERR, errno,
			       "control socket directory %s: %s", dir,
			       strerror(errno));
	if (lstat(dir, &st))
		return err_set(err, WISP_EXIT_OSERR, errno,
			       "control socket directory %s: %s", dir,
			       strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return err_set(err, WISP_EXIT_OSERR, EPERM,
			       "control socket directory %s is not a directory of this user's",
			       dir);
	return 0;
}

/* Hold @lock_path's lock for good, or say who has it. */
static int take_name(struct control *c, const char *lock_path,
		     struct wisp_err *err)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char pid[32] = "";
	ssize_t n;
	int len;

	struct stat held, now;
	int tries = 0;

again:
	c->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			  0600);
	if (c->lock_fd < 0)
		return err_set(err, WISP_EXIT_OSERR, errno, "%s: %s", lock_path,
			       strerror(errno));
	if (!fcntl(c->lock_fd, F_OFD_SETLK, &fl)) {
		/*
		 * The last owner unlinks the file as it exits: a lock on a
		 * file no longer at the path holds nothing.  Open it again.
		 */
		if (fstat(c->lock_fd, &held) || stat(lock_path, &now) ||
		    held.st_ino != now.st_ino || held.st_dev != now.st_dev) {
			close(c->lock_fd);
			c->lock_fd = -1;
			if (++tries < 10)
				goto again;
			return err_set(err, WISP_EXIT_OSERR, EAGAIN,
				       "%s keeps changing", lock_path);
		}
		/* Never take over a file that is not a lock file of ours. */
		n = pread(c->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		if (!S_ISREG(held.st_mode) || held.st_size >= (off_t)sizeof(pid) - 1 ||
		    strspn(pid, "0123456789\n") != strlen(pid)) {
			close(c->lock_fd);
			c->lock_fd = -1;
			return err_set(err, WISP_EXIT_USAGE, EEXIST,
				       "%s exists and is not a wisp lock file: not replacing it",
				       lock_path);
		}
	} else {
		int e = errno;

		if (e != EAGAIN && e != EACCES)
			return err_set(err, WISP_EXIT_OSERR, e, "%s: %s",
				       lock_path, strerror(e));
		n = pread(c->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		return err_set(err, WISP_EXIT_UNAVAILABLE, EBUSY,
			       "a VM named '%s' is running%s%s%s (its socket: %s)",
			       c->cfg->name, *pid ? " (pid " : "", pid,
			       *pid ? ")" : "", c->path);
	}
	snprintf(c->lock_path, sizeof(c->lock_path), "%s", lock_path);
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(c->lock_fd, 0) || pwrite(c->lock_fd, pid, len, 0) != len) {
		/* The PID is a courtesy for the error above. */
	}
	return 0;
}

static int open_socket(struct control *c, struct wisp_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[CONTROL_PATH_MAX], lock_path[CONTROL_PATH_MAX + 8];
	struct stat st;
	mode_t old;
	int fd, ret;

	if (c->cfg->api) {
		ret = snprintf(c->path, sizeof(c->path), "%s", c->cfg->api);
	} else {
		control_default_dir(dir, sizeof(dir));
		ret = make_dir(dir, err);
		if (ret)
			return ret;
		ret = snprintf(c->path, sizeof(c->path), "%s/%s.sock", dir,
			       c->cfg->name);
	}
	if (ret < 0 || (size_t)ret >= sizeof(c->path))
		return err_set(err, WISP_EXIT_USAGE, ENAMETOOLONG,
			       "control socket path longer than %d bytes (use --api PATH)",
			       CONTROL_PATH_MAX - 1);
	snprintf(lock_path, sizeof(lock_path), "%.*s.lock",
		 (int)(strlen(c->path) - (c->cfg->api ? 0 : 5)), c->path);
	ret = take_name(c, lock_path, err);
	if (ret)
		return ret;
	/* The name is ours: a socket there is a dead VM's; nothing else is. */
	if (!lstat(c->path, &st) && !S_ISSOCK(st.st_mode))
		return err_set(err, WISP_EXIT_USAGE, EEXIST,
			       "%s exists and is not a socket: not replacing it",
			       c->path);
	if (unlink(c->path) && errno != ENOENT)
		return err_set(err, WISP_EXIT_OSERR, errno, "%s: %s", c->path,
			       strerror(errno));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(err, WISP_EXIT_OSERR, errno, "socket: %s",
			       strerror(errno));
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret || listen(fd, CONTROL_MAX_CLIENTS)) {
		ret = errno;
		close(fd);
		return err_set(err, WISP_EXIT_OSERR, ret, "%s: %s", c->path,
			       strerror(ret));
	}
	c->listen_src = (struct ev_source){ .fd = fd, .cb = on_listen,
					    .data = c };
	return 0;
}

static int open_metrics(struct control *c, struct wisp_err *err)
{
	struct sockaddr_storage sa;
	const char *spec = c->cfg->metrics_listen;
	socklen_t len;
	char msg[160];
	int fd, one = 1, e;

	if (control_parse_listen(spec, &sa, &len, msg, sizeof(msg)))
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "--metrics-listen: %s", msg);
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(err, WISP_EXIT_OSERR, errno, "socket: %s",
			       strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, len) ||
	    listen(fd, CONTROL_MAX_CLIENTS)) {
		e = errno;
		close(fd);
		return err_set(err, e == EADDRINUSE || e == EADDRNOTAVAIL ||
			       e == EACCES ? WISP_EXIT_UNAVAILABLE :
			       WISP_EXIT_OSERR, e, "--metrics-listen %s: %s",
			       spec, strerror(e));
	}
	c->metrics_src = (struct ev_source){ .fd = fd, .cb = on_metrics_listen,
					     .data = c };
	return 0;
}

struct control *control_open(const struct vm_config *cfg,
			     struct wisp_err *err)
{
	struct control *c;

	if (cfg->no_api && !cfg->metrics_listen)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
		return NULL;
	}
	c->cfg = cfg;
	c->lock_fd = -1;
	c->listen_src.fd = c->metrics_src.fd = c->shutdown_src.fd = -1;
	c->started_ns = monotonic_ns();
	if (!cfg->no_api && open_socket(c, err)) {
		/*
		 * No default socket (a read-only /run, say) is no reason not
		 * to run the VM; another VM holding the name is.
		 */
		if (cfg->api || err->status == WISP_EXIT_UNAVAILABLE) {
			control_close(c);
			return NULL;
		}
		fprintf(stderr, "wisp: %s: running without a control socket\n",
			err->msg);
		memset(err, 0, sizeof(*err));
		if (c->lock_path[0])
			unlink(c->lock_path);
		c->lock_path[0] = 0;
		if (c->lock_fd >= 0)
			close(c->lock_fd);
		c->lock_fd = -1;
		c->path[0] = 0;
	}
	if (cfg->metrics_listen && open_metrics(c, err)) {
		control_close(c);
		return NULL;
	}
	return c;
}

int control_attach(struct control *c, struct vm *vm)
{
	int ret = 0;

	c->vm = vm;
	c->migrating = false;	/* one of an earlier boot died with it */
	c->migrate_client = NULL;
	if (c->listen_src.fd >= 0)
		ret = evloop_add(&vm->loop, &c->listen_src, EPOLLIN);
	if (!ret && c->metrics_src.fd >= 0)
		ret = evloop_add(&vm->loop, &c->metrics_src, EPOLLIN);
	if (!ret && c->shutdown_src.fd >= 0)
		ret = evloop_add(&vm->loop, &c->shutdown_src, EPOLLIN);
	return ret;
}

void control_detach(struct control *c)
{
	if (!c || !c->vm)
		return;
	while (c->clients) {
		client_flush(c->clients);
		client_close(c->clients);
	}
	/* A new epoll set comes with the next boot: nothing to remove. */
	c->vm = NULL;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	control_detach(c);
	if (c->listen_src.fd >= 0) {
		close(c->listen_src.fd);
		/* Ours: the name's lock is still held. */
		unlink(c->path);
	}
	if (c->metrics_src.fd >= 0)
		close(c->metrics_src.fd);
	if (c->shutdown_src.fd >= 0)
		close(c->shutdown_src.fd);
	/* Unlinked while held: the next owner checks for that (take_name). */
	if (c->lock_path[0])
		unlink(c->lock_path);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c);
}
