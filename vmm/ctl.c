// SPDX-License-Identifier: Apache-2.0
/*
 * The control client: "wisp list|info|pause|resume|shutdown|stop|stat|balloon|
 * snapshot|migrate" (docs/control.md, "The command line").  Every subcommand goes through
 * the same two steps: ctl_open() connects to a VM's socket and
 * ctl_call() sends one request line and reads its reply line, each
 * before a deadline, so that a VM that does not answer cannot hang the
 * command.
 *
 * The environment variable WISP_RUN_DIR, when set and not empty, replaces
 * the default socket directory (/run/wisp, $XDG_RUNTIME_DIR/wisp or
 * /tmp/wisp-UID) for NAMEs and for "wisp list".
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "ctl.h"
#include "error.h"

#define CTL_REPLY_MAX		(1 << 20)	/* longest reply line we take */
#define CTL_CONNECT_MS		1000		/* connect, one VM */
#define CTL_REPLY_MS		3000		/* one request's reply */
#define CTL_LIST_MS		1000		/* all of one VM in "list" */
#define CTL_SNAPSHOT_MS		600000		/* snapshot: writing the RAM */
#define CTL_MIGRATE_MS		3600000		/* migrate: all of it */
#define CTL_MAX_SECONDS		86400.0
#define CTL_DOWNTIME_MS		300		/* migrate --downtime default */
#define CTL_DOWNTIME_MAX_MS	60000

/* Options of a subcommand, as parsed. */
struct ctl_opts {
	const char *name;	/* NAME or socket path; NULL for list */
	bool json;
	bool prometheus;
	bool watch;
	bool has_timeout;
	double timeout;		/* shutdown --timeout */
	double interval;	/* stat --watch */
	bool has_size;
	uint64_t size;		/* balloon SIZE, bytes */
	bool stats;		/* balloon --stats */
	const char *dir;	/* snapshot DIR, as given */
	bool resume;		/* snapshot --resume */
	const char *uri;	/* migrate tcp:HOST:PORT */
	unsigned int downtime_ms;	/* migrate --downtime */
};

struct ctl_cmd;
/* A subcommand: 0 or -errno with the message and exit status in @err. */
typedef int (*ctl_run_fn)(const struct ctl_cmd *cmd, const struct ctl_opts *o,
			  struct wisp_err *err);

/* Which options a subcommand takes. */
enum {
	OPT_JSON	= 1 << 0,
	OPT_TIMEOUT	= 1 << 1,
	OPT_WATCH	= 1 << 2,
	OPT_PROMETHEUS	= 1 << 3,
	OPT_SIZE	= 1 << 4,	/* a SIZE after NAME */
	OPT_STATS	= 1 << 5,
	OPT_DIR		= 1 << 6,	/* a DIR after NAME; --resume */
	OPT_URI		= 1 << 7,	/* a URI after NAME; --downtime */
};

struct ctl_cmd {
	const char *name;
	const char *args;	/* the usage line after "wisp NAME " */
	const char *help;	/* what it does, one line */
	unsigned int opts;	/* OPT_* */
	bool needs_name;
	ctl_run_fn run;
};

/* One connection to a VM's control socket. */
struct ctl_conn {
	int fd;
	const char *name;	/* as the user gave it, for messages */
	char *buf;		/* bytes received, the last line first */
	size_t len;		/* bytes in buf */
	size_t used;		/* bytes of buf that the last line took */
	size_t cap;
};

/* A reply with "ok": true. */
struct ctl_reply {
	json_object *obj;	/* owned by the caller: json_object_put() */
	const char *line;	/* as received, valid until the next call */
};

/* Pure helpers, testable without a socket (ctl.h). */

int ctl_run_dir(uid_t uid, const char *override, const char *xdg,
		char *buf, size_t size)
{
	int n;

	if (override && *override)
		n = snprintf(buf, size, "%s", override);
	else if (uid == 0)
		n = snprintf(buf, size, "/run/wisp");
	else if (xdg && *xdg == '/')
		n = snprintf(buf, size, "%s/wisp", xdg);
	else
		n = snprintf(buf, size, "/tmp/wisp-%u", (unsigned int)uid);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static bool valid_vm_name(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 64)
		return false;
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && !strchr("._-", *name))
			return false;
	return true;
}

int ctl_socket_path(const char *name, const char *dir, char *buf, size_t size)
{
	int n;

	if (strchr(name, '/'))
		n = snprintf(buf, size, "%s", name);
	else if (!valid_vm_name(name))
		return -EINVAL;
	else
		n = snprintf(buf, size, "%s/%s.sock", dir, name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int ctl_parse_seconds(const char *s, double *out)
{
	bool digit = false, dot = false;
	const char *p;
	double v;

	for (p = s; *p; p++) {
		if (isdigit((unsigned char)*p))
			digit = true;
		else if (*p == '.' && !dot)
			dot = true;
		else
			return -EINVAL;
	}
	if (!digit)
		return -EINVAL;
	v = strtod(s, NULL);
	if (v > CTL_MAX_SECONDS)
		return -ERANGE;
	*out = v;
	return 0;
}

void ctl_format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	uint64_t unit = 1024;
	unsigned int i = 0;

	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 "B", bytes);
		return;
	}
	while (i + 1 < sizeof(units) - 1 && bytes / unit >= 1024) {
		unit <<= 10;
		i++;
	}
	if (bytes % unit == 0)
		snprintf(buf, size, "%" PRIu64 "%c", bytes / unit, units[i]);
	else
		snprintf(buf, size, "%.1f%c", (double)bytes / (double)unit,
			 units[i]);
}

void ctl_format_uptime(double seconds, char *buf, size_t size)
{
	unsigned long long s;

	if (!(seconds >= 0) || seconds > 1e15) {	/* NaN too */
		snprintf(buf, size, "?");
		return;
	}
	s = (unsigned long long)seconds;
	if (s < 60)
		snprintf(buf, size, "%llus", s);
	else if (s < 3600)
		snprintf(buf, size, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%lluh%02llum", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%llud%02lluh", s / 86400, s % 86400 / 3600);
}

void ctl_format_cpus(const int *cpus, size_t n, char *buf, size_t size)
{
	size_t i = 0, j, at = 0, len;
	char item[32];

	if (!size)
		return;
	buf[0] = '\0';
	if (!n)
		snprintf(buf, size, "-");
	while (i < n) {
		for (j = i; j + 1 < n && cpus[j + 1] == cpus[j] + 1; j++)
			;
		if (j == i)
			snprintf(item, sizeof(item), "%s%d", at ? "," : "",
				 cpus[i]);
		else
			snprintf(item, sizeof(item), "%s%d-%d", at ? "," : "",
				 cpus[i], cpus[j]);
		len = strlen(item);
		/* Unless it is the last, leave room for "..." after it. */
		if (at + len + (j + 1 < n ? 3 : 0) >= size) {
			snprintf(buf + at, size - at, "...");
			return;
		}
		memcpy(buf + at, item, len + 1);
		at += len;
		i = j + 1;
	}
}

int ctl_parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	int ret = parse_size(s, 1ULL << 20, &v);

	if (ret)
		return ret;
	if (v > INT64_MAX)
		return -ERANGE;
	*out = v;
	return 0;
}

int ctl_abs_dir(const char *dir, char *buf, size_t size)
{
	char parent[PATH_MAX], real[PATH_MAX];
	const char *last, *slash;
	size_t len = strlen(dir);
	int n;

	if (!len)
		return -EINVAL;
	if (realpath(dir, real)) {
		n = snprintf(buf, size, "%s", real);
		return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
	}
	if (errno != ENOENT)
		return -errno;
	/* It does not exist (yet): its parent must. */
	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len >= sizeof(parent))
		return -ENAMETOOLONG;
	memcpy(parent, dir, len);
	parent[len] = '\0';
	slash = strrchr(parent, '/');
	if (!slash) {
		last = dir;
		snprintf(parent, sizeof(parent), ".");
	} else {
		last = dir + (slash - parent) + 1;
		parent[slash == parent ? 1 : slash - parent] = '\0';
	}
	len -= last - dir;	/* the last component, without the '/'s */
	if (!realpath(parent, real))
		return -errno;
	n = snprintf(buf, size, "%s%s%.*s", real,
		     strcmp(real, "/") ? "/" : "", (int)len, last);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int ctl_parse_migrate_uri(const char *uri, char *host, size_t hsize,
			  unsigned int *port)
{
	const char *h, *hend, *p;
	unsigned long v;
	size_t i, n;

	if (strncmp(uri, "tcp:", 4))
		return -EINVAL;
	h = uri + 4;
	if (*h == '[') {	/* [IPv6] */
		hend = strchr(h, ']');
		if (!hend || hend[1] != ':')
			return -EINVAL;
		h++;
		p = hend + 2;
		for (i = 0; h + i < hend; i++)
			if (!isxdigit((unsigned char)h[i]) &&
			    !strchr(":.", h[i]))
				return -EINVAL;
		if (!memchr(h, ':', hend - h))
			return -EINVAL;
	} else {
		hend = strchr(h, ':');
		if (!hend)
			return -EINVAL;
		p = hend + 1;
		for (i = 0; h + i < hend; i++)
			if (!isalnum((unsigned char)h[i]) &&
			    !strchr(".-_", h[i]))
				return -EINVAL;
	}
	n = hend - h;
	if (!n || !*p || strspn(p, "0123456789") != strlen(p))
		return -EINVAL;
	if (strlen(p) > 5)
		return -ERANGE;
	v = strtoul(p, NULL, 10);
	if (v < 1 || v > 65535)
		return -ERANGE;
	if (n >= hsize)
		return -ENAMETOOLONG;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = v;
	return 0;
}

/* Time and deadlines, in milliseconds of CLOCK_MONOTONIC. */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ms_left(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Wait for @events on @fd until @deadline: 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	for (;;) {
		n = poll(&pfd, 1, ms_left(deadline));
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* The connection: bytes in and out, no JSON. */

/*
 * Connect @c to the socket at @path before @deadline.  0 or -errno:
 * -ENOENT no socket, -ECONNREFUSED nobody listens, -ETIMEDOUT nobody
 * accepts (the listen backlog stays full).
 */
static int conn_open(struct ctl_conn *c, const char *path, int64_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const struct timespec pause = { 0, 10 * 1000 * 1000 };
	socklen_t len = sizeof(int);
	int fd, ret, soerr;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		ret = -errno;
		if (ret == -EINTR)
			continue;
		if (ret == -EAGAIN) {	/* backlog full: try again */
			if (!ms_left(deadline)) {
				ret = -ETIMEDOUT;
				goto fail;
			}
			nanosleep(&pause, NULL);
			continue;
		}
		if (ret != -EINPROGRESS)
			goto fail;
		ret = wait_fd(fd, POLLOUT, deadline);
		if (ret)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len)) {
			ret = -errno;
			goto fail;
		}
		if (soerr) {
			ret = -soerr;
			goto fail;
		}
		break;
	}
	c->fd = fd;
	c->len = c->used = 0;
	return 0;
fail:
	close(fd);
	return ret;
}

static void conn_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->used = c->cap = 0;
}

/* Send all of @data before @deadline: 0 or -errno (-EPIPE: closed). */
static int conn_send(struct ctl_conn *c, const char *data, size_t len,
		     int64_t deadline)
{
	ssize_t n;
	int ret;

	while (len) {
		n = send(c->fd, data, len, MSG_NOSIGNAL);
		if (n > 0) {
			data += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		ret = wait_fd(c->fd, POLLOUT, deadline);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Receive one line before @deadline; *@line points at it, '\n' replaced
 * by a NUL, until the next call.  Its length, or -errno: -EPIPE the peer
 * closed first, -EMSGSIZE longer than CTL_REPLY_MAX, -ETIMEDOUT.
 */
static ssize_t conn_recv_line(struct ctl_conn *c, int64_t deadline,
			      char **line)
{
	size_t scanned = 0;
	char *nl, *grown;
	ssize_t n;
	int ret;

	if (c->used) {
		memmove(c->buf, c->buf + c->used, c->len - c->used);
		c->len -= c->used;
		c->used = 0;
	}
	for (;;) {
		nl = c->len > scanned ?
		     memchr(c->buf + scanned, '\n', c->len - scanned) : NULL;
		if (nl) {
			*nl = '\0';
			c->used = nl - c->buf + 1;
			*line = c->buf;
			return nl - c->buf;
		}
		scanned = c->len;
		if (c->len > CTL_REPLY_MAX)
			return -EMSGSIZE;
		if (c->len == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 4096;

			if (cap > CTL_REPLY_MAX + 1)
				cap = CTL_REPLY_MAX + 1;
			grown = realloc(c->buf, cap);
			if (!grown)
				return -ENOMEM;
			c->buf = grown;
			c->cap = cap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n > 0) {
			c->len += n;
			continue;
		}
		if (n == 0)
			return -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		ret = wait_fd(c->fd, POLLIN, deadline);
		if (ret)
			return ret;
	}
}

/* The protocol: JSON lines. */

/*
 * Connect to VM @name (a name or a socket path) before @deadline.  0, or
 * the message in @err: WISP_EXIT_USAGE for a bad name,
 * WISP_EXIT_UNAVAILABLE when no VM is there.
 */
static int ctl_open(struct ctl_conn *c, const char *name, int64_t deadline,
		    struct wisp_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	bool is_path = strchr(name, '/');
	const char *what = is_path ? "at" : "named";
	int ret;

	c->fd = -1;
	c->name = name;
	c->buf = NULL;
	c->len = c->used = c->cap = 0;
	ret = ctl_run_dir(geteuid(), getenv("WISP_RUN_DIR"),
			  getenv("XDG_RUNTIME_DIR"), dir, sizeof(dir));
	if (!ret)
		ret = ctl_socket_path(name, dir, path, sizeof(path));
	if (ret == -EINVAL)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "'%s' is neither a VM name (1-64 letters, digits, '.', '_', '-') nor a socket path",
			       name);
	if (!ret)
		ret = conn_open(c, path, deadline);
	switch (ret) {
	case 0:
		return 0;
	case -ENAMETOOLONG:
		return err_set(err, WISP_EXIT_USAGE, -ret,
			       "socket path too long for '%s'", name);
	case -ENOENT:
	case -ENOTDIR:
		return err_set(err, WISP_EXIT_UNAVAILABLE, -ret,
			       "no VM %s '%s' (no %s)", what, name,
			       is_path ? "such socket" : path);
	case -ECONNREFUSED:
		return err_set(err, WISP_EXIT_UNAVAILABLE, -ret,
			       "no VM %s '%s' (nobody listens on %s)", what,
			       name, is_path ? "it" : path);
	case -ETIMEDOUT:
		return err_set(err, WISP_EXIT_UNAVAILABLE, -ret,
			       "no VM %s '%s' answers (%s accepts no connection)",
			       what, name, is_path ? "it" : path);
	default:
		return err_set(err, WISP_EXIT_UNAVAILABLE, -ret,
			       "cannot connect to %s: %s", path, strerror(-ret));
	}
}

/* Replace control characters in a message from the VM. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/*
 * Send @req and read its reply within @timeout_ms.  0 with @r filled when
 * the VM said "ok": true; otherwise the message in @err and -errno:
 * WISP_EXIT_DATAERR (-EPROTO) when it refused, WISP_EXIT_OSERR when the
 * exchange failed (-ECONNRESET: the VM closed the connection first) or
 * the reply is not a protocol reply.
 */
static int ctl_call(struct ctl_conn *c, const char *req, int timeout_ms,
		    struct ctl_reply *r, struct wisp_err *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	json_object *obj = NULL, *ok, *version, *msg;
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	char *line = NULL;
	ssize_t len = 0;
	size_t end;
	int ret;

	ret = conn_send(c, req, strlen(req), deadline);
	/* A VM that refuses a connection says why, then closes it. */
	if (!ret || ret == -EPIPE || ret == -ECONNRESET) {
		len = conn_recv_line(c, deadline, &line);
		ret = len < 0 ? (int)len : 0;
	}
	if (ret == -EPIPE || ret == -ECONNRESET)
		return err_set(err, WISP_EXIT_OSERR, ECONNRESET,
			       "%s: the connection closed before a reply",
			       c->name);
	if (ret == -ETIMEDOUT)
		return err_set(err, WISP_EXIT_OSERR, ETIMEDOUT,
			       "%s: no reply within %d s", c->name,
			       (timeout_ms + 999) / 1000);
	if (ret == -EMSGSIZE)
		return err_set(err, WISP_EXIT_OSERR, EMSGSIZE,
			       "%s: reply longer than %d bytes", c->name,
			       CTL_REPLY_MAX);
	if (ret)
		return err_set(err, WISP_EXIT_OSERR, -ret, "%s: %s", c->name,
			       strerror(-ret));

	tok = json_tokener_new();
	if (!tok)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	obj = json_tokener_parse_ex(tok, line, len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr != json_tokener_success) {
		json_object_put(obj);
		return err_set(err, WISP_EXIT_OSERR, EBADMSG,
			       "%s: malformed reply: %s", c->name,
			       json_tokener_error_desc(jerr));
	}
	while (end < (size_t)len && isspace((unsigned char)line[end]))
		end++;
	if (end < (size_t)len || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean)) {
		json_object_put(obj);
		return err_set(err, WISP_EXIT_OSERR, EBADMSG,
			       "%s: malformed reply (not an object with \"ok\")",
			       c->name);
	}
	if (json_object_object_get_ex(obj, "version", &version) &&
	    json_object_get_int(version) != 1) {
		json_object_put(obj);
		return err_set(err, WISP_EXIT_OSERR, EBADMSG,
			       "%s: reply of protocol version %s (this wisp speaks 1)",
			       c->name, json_object_to_json_string(version));
	}
	if (!json_object_get_boolean(ok)) {
		ret = err_set(err, WISP_EXIT_DATAERR, EPROTO, "%s: %s", c->name,
			      json_object_object_get_ex(obj, "error", &msg) &&
			      json_object_is_type(msg, json_type_string) ?
			      json_object_get_string(msg) : "refused");
		sanitize(err->msg);
		json_object_put(obj);
		return ret;
	}
	r->obj = obj;
	r->line = line;
	return 0;
}

/* A request line: {"version":1,"request":@request} plus @args, "\n". */
static char *ctl_request(const char *request, json_object *args)
{
	json_object *req = json_object_new_object();
	char *line = NULL;

	if (!req)
		return NULL;
	json_object_object_add(req, "version", json_object_new_int(1));
	json_object_object_add(req, "request", json_object_new_string(request));
	if (args) {
		json_object_object_foreach(args, key, val)
			json_object_object_add(req, key, json_object_get(val));
	}
	if (asprintf(&line, "%s\n",
		     json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN)) < 0)
		line = NULL;
	json_object_put(req);
	return line;
}

/*
 * The request line that @cmd sends with options @o (list: none; it sends
 * "info" to each VM).  NULL with the message in @err.
 */
static char *cmd_request(const struct ctl_cmd *cmd, const struct ctl_opts *o,
			 struct wisp_err *err)
{
	json_object *args = json_object_new_object();
	char dir[PATH_MAX];
	char *req = NULL;
	int ret;

	if (!args) {
		err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
		return NULL;
	}
	if ((cmd->opts & OPT_TIMEOUT) && o->has_timeout)
		json_object_object_add(args, "timeout",
			o->timeout == (double)(int)o->timeout ?
			json_object_new_int((int)o->timeout) :
			json_object_new_double(o->timeout));
	if ((cmd->opts & OPT_PROMETHEUS) && o->prometheus)
		json_object_object_add(args, "format",
				       json_object_new_string("prometheus"));
	if ((cmd->opts & OPT_SIZE) && o->has_size)
		json_object_object_add(args, "target_bytes",
				       json_object_new_int64((int64_t)o->size));
	if (cmd->opts & OPT_DIR) {
		/* The server's working directory is not ours. */
		ret = ctl_abs_dir(o->dir, dir, sizeof(dir));
		if (ret == -ENAMETOOLONG || ret == -EINVAL) {
			err_set(err, WISP_EXIT_USAGE, -ret,
				"%s: DIR '%s': %s", cmd->name, o->dir,
				ret == -EINVAL ? "empty" : "path too long");
			goto out;
		}
		if (ret) {
			err_set(err, WISP_EXIT_NOINPUT, -ret,
				"%s: DIR '%s': %s (its parent must exist)",
				cmd->name, o->dir, strerror(-ret));
			goto out;
		}
		json_object_object_add(args, "dir", json_object_new_string(dir));
		json_object_object_add(args, "resume",
				       json_object_new_boolean(o->resume));
	}
	if (cmd->opts & OPT_URI) {
		json_object_object_add(args, "uri", json_object_new_string(o->uri));
		json_object_object_add(args, "downtime_ms",
				       json_object_new_int((int)o->downtime_ms));
	}
	req = ctl_request(cmd->name, args);
	if (!req)
		err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
out:
	json_object_put(args);
	return req;
}

/* Reading replies: absent or mistyped fields read as "?" or a default. */

static json_object *jget(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v = jget(o, key);

	return json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : "?";
}

static bool jis_num(json_object *v)
{
	return json_object_is_type(v, json_type_int) ||
	       json_object_is_type(v, json_type_double);
}

static double jdouble(json_object *o, const char *key, double def)
{
	json_object *v = jget(o, key);

	return jis_num(v) ? json_object_get_double(v) : def;
}

static void jsize(json_object *o, const char *key, char *buf, size_t size)
{
	json_object *v = jget(o, key);

	if (json_object_is_type(v, json_type_int))
		ctl_format_size(json_object_get_uint64(v), buf, size);
	else
		snprintf(buf, size, "?");
}

static void juptime(json_object *o, char *buf, size_t size)
{
	ctl_format_uptime(jdouble(o, "uptime_s", -1), buf, size);
}

/* A reply's member @key, which must be an object. */
static int reply_member(const struct ctl_conn *c, const struct ctl_reply *r,
			const char *key, json_object **out, struct wisp_err *err)
{
	*out = jget(r->obj, key);
	if (json_object_is_type(*out, json_type_object))
		return 0;
	return err_set(err, WISP_EXIT_OSERR, EBADMSG,
		       "%s: malformed reply (no \"%s\" object)", c->name, key);
}

/* Open @o->name and make one request: the common case. */
static int ctl_once(const struct ctl_opts *o, const char *req,
		    struct ctl_conn *c, struct ctl_reply *r, struct wisp_err *err)
{
	int ret;

	ret = ctl_open(c, o->name, now_ms() + CTL_CONNECT_MS, err);
	if (!ret)
		ret = ctl_call(c, req, CTL_REPLY_MS, r, err);
	return ret;
}

/* The subcommands. */

/* scandir() filter: NAME.sock, a socket or of unknown type. */
static int sock_entry(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && !strcmp(d->d_name + n - 5, ".sock") &&
	       (d->d_type == DT_SOCK || d->d_type == DT_UNKNOWN);
}

/*
 * The "info" object of VM @name at socket @path for "list"; NULL if none.
 * All of it within CTL_LIST_MS.
 */
static json_object *list_one(const char *path, const char *name)
{
	struct wisp_err err = { 0 };
	int64_t deadline = now_ms() + CTL_LIST_MS;
	struct ctl_reply r = { 0 };
	struct ctl_conn c;
	json_object *info = NULL;
	char *req = ctl_request("info", NULL);
	int ret;

	if (!req)
		return NULL;
	ret = ctl_open(&c, path, deadline, &err);
	if (!ret) {
		c.name = name;	/* messages name the VM, not its socket */
		ret = ctl_call(&c, req, ms_left(deadline), &r, &err);
	}
	if (!ret)
		ret = reply_member(&c, &r, "info", &info, &err);
	info = ret ? NULL : json_object_get(info);
	/* A socket nobody answers is a dead VM's: skipped silently. */
	if (err.status && err.status != WISP_EXIT_UNAVAILABLE)
		fprintf(stderr, "wisp: list: %s\n", err.msg);
	json_object_put(r.obj);
	conn_close(&c);
	free(req);
	return info;
}

static void list_print(json_object *all)
{
	size_t i, n = json_object_array_length(all);
	int width = 4;
	char mem[32], up[32];

	for (i = 0; i < n; i++) {
		int len = strlen(jstr(json_object_array_get_idx(all, i), "name"));

		if (len > width)
			width = len;
	}
	printf("%-*s  %7s  %-13s  %5s  %6s  %s\n", width, "NAME", "PID",
	       "STATE", "VCPUS", "MEMORY", "UPTIME");
	for (i = 0; i < n; i++) {
		json_object *info = json_object_array_get_idx(all, i);
		json_object *vcpus = jget(info, "vcpus");

		jsize(jget(info, "memory"), "size_bytes", mem, sizeof(mem));
		juptime(info, up, sizeof(up));
		printf("%-*s  %7" PRId64 "  %-13s  %5zu  %6s  %s\n", width,
		       jstr(info, "name"),
		       json_object_get_int64(jget(info, "pid")),
		       jstr(info, "state"),
		       json_object_is_type(vcpus, json_type_array) ?
		       json_object_array_length(vcpus) : 0, mem, up);
	}
}

static int run_list(const struct ctl_cmd *cmd, const struct ctl_opts *o,
		    struct wisp_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent **ents = NULL;
	json_object *all, *info;
	int i, n, ret;

	(void)cmd;
	ret = ctl_run_dir(geteuid(), getenv("WISP_RUN_DIR"),
			  getenv("XDG_RUNTIME_DIR"), dir, sizeof(dir));
	if (ret)
		return err_set(err, WISP_EXIT_USAGE, -ret,
			       "list: socket directory name too long");
	n = scandir(dir, &ents, sock_entry, alphasort);
	if (n < 0 && errno != ENOENT)
		return err_set(err, WISP_EXIT_OSERR, errno,
			       "list: cannot read %s: %s", dir, strerror(errno));
	all = json_object_new_array();
	for (i = 0; i < n; i++) {
		char *name = ents[i]->d_name;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     name) < sizeof(path)) {
			name[strlen(name) - 5] = '\0';	/* ".sock" */
			info = list_one(path, name);
			if (info)
				json_object_array_add(all, info);
		}
		free(ents[i]);
	}
	free(ents);
	if (o->json)
		puts(json_object_to_json_string_ext(all, JSON_C_TO_STRING_PLAIN));
	else
		list_print(all);
	json_object_put(all);
	return 0;
}

/* Every member of @o but those in @skip, as ", key value". */
static void print_members(json_object *o, const char *const *skip)
{
	const char *const *s;

	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, key, val) {
		for (s = skip; *s && strcmp(*s, key); s++)
			;
		if (*s)
			continue;
		printf(", %s %s", key, json_object_is_type(val, json_type_string) ?
		       json_object_get_string(val) :
		       json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
	}
}

static void info_print_vcpu(json_object *v)
{
	json_object *aff = jget(v, "affinity");
	int cpus[1024];
	size_t i, n = 0;
	char list[256];
	int64_t pinned = json_object_get_int64(jget(v, "pinned"));

	if (json_object_is_type(aff, json_type_array))
		for (i = 0; i < json_object_array_length(aff) && n < 1024; i++)
			cpus[n++] = json_object_get_int(
				json_object_array_get_idx(aff, i));
	ctl_format_cpus(cpus, n, list, sizeof(list));
	printf("  vcpu%-4" PRId64 " tid %" PRId64 ", CPUs %s, ",
	       json_object_get_int64(jget(v, "index")),
	       json_object_get_int64(jget(v, "tid")), list);
	if (pinned >= 0 && jget(v, "pinned"))
		printf("pinned to %" PRId64 "\n", pinned);
	else
		printf("not pinned\n");
}

static void info_print(json_object *info)
{
	static const char *const dev_skip[] = { "id", "kind", NULL };
	json_object *vcpus = jget(info, "vcpus"), *devs = jget(info, "devices");
	json_object *mem = jget(info, "memory");
	size_t i, n;
	char buf[32];

	printf("name     %s\n", jstr(info, "name"));
	printf("pid      %" PRId64 "\n", json_object_get_int64(jget(info, "pid")));
	printf("state    %s\n", jstr(info, "state"));
	juptime(info, buf, sizeof(buf));
	printf("uptime   %s\n", buf);
	n = json_object_is_type(vcpus, json_type_array) ?
	    json_object_array_length(vcpus) : 0;
	printf("vcpus    %zu\n", n);
	for (i = 0; i < n; i++)
		info_print_vcpu(json_object_array_get_idx(vcpus, i));
	jsize(mem, "size_bytes", buf, sizeof(buf));
	printf("memory   %s (%s)\n", buf, jstr(mem, "backing"));
	n = json_object_is_type(devs, json_type_array) ?
	    json_object_array_length(devs) : 0;
	printf("devices  %zu\n", n);
	for (i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(devs, i);

		printf("  %-7s %s", jstr(d, "id"), jstr(d, "kind"));
		print_members(d, dev_skip);
		putchar('\n');
	}
	if (jget(info, "api"))
		printf("api      %s\n", jstr(info, "api"));
	if (jget(info, "version"))
		printf("version  %s\n", jstr(info, "version"));
}

static int run_info(const struct ctl_cmd *cmd, const struct ctl_opts *o,
		    struct wisp_err *err)
{
	struct ctl_reply r = { 0 };
	struct ctl_conn c;
	json_object *info;
	char *req = cmd_request(cmd, o, err);
	int ret;

	if (!req)
		return -EINVAL;
	ret = ctl_once(o, req, &c, &r, err);
	if (!ret)
		ret = reply_member(&c, &r, "info", &info, err);
	if (!ret && o->json)
		puts(r.line);
	else if (!ret)
		info_print(info);
	json_object_put(r.obj);
	conn_close(&c);
	free(req);
	return ret;
}

/* pause, resume, stop, shutdown: one request, the state it leaves. */
static int run_state(const struct ctl_cmd *cmd, const struct ctl_opts *o,
		     struct wisp_err *err)
{
	struct ctl_reply r = { 0 };
	struct ctl_conn c;
	char *req = cmd_request(cmd, o, err);
	int ret;

	if (!req)
		return -EINVAL;
	ret = ctl_once(o, req, &c, &r, err);
	if (!ret && o->json)
		puts(r.line);
	else if (!ret)
		printf("%s: %s\n", o->name, jstr(r.obj, "state"));
	json_object_put(r.obj);
	conn_close(&c);
	free(req);
	return ret;
}

/*
 * How "stat" prints counters: totals, or with --watch rates per second
 * against the previous sample (@prev, @dt seconds earlier) or, for the
 * first sample, averages over the uptime.
 */
struct stat_view {
	bool rates;
	json_object *prev;	/* the previous "stat" object or NULL */
	double dt;		/* its uptime to this one's, > 0 */
	double uptime;
};

static void stat_counter(const struct stat_view *v, json_object *cur,
			 json_object *prev, char *buf, size_t size)
{
	uint64_t now = json_object_get_uint64(cur), then;

	if (!v->rates) {
		snprintf(buf, size, "%" PRIu64, now);
		return;
	}
	if (prev && json_object_is_type(prev, json_type_int) && v->dt > 0 &&
	    (then = json_object_get_uint64(prev)) <= now)
		snprintf(buf, size, "%.1f", (double)(now - then) / v->dt);
	else
		snprintf(buf, size, "%.1f", v->uptime > 0 ?
			 (double)now / v->uptime : 0.0);
}

/* The member of array @key of @prev at @i if it has the same @id. */
static json_object *prev_item(json_object *prev, const char *key, size_t i,
			      json_object *cur, const char *id)
{
	json_object *arr = jget(prev, key), *p;

	if (!json_object_is_type(arr, json_type_array) ||
	    i >= json_object_array_length(arr))
		return NULL;
	p = json_object_array_get_idx(arr, i);
	if (!json_object_equal(jget(p, id), jget(cur, id)))
		return NULL;
	return p;
}

/* A column of the vCPU table: its heading, at least 8 wide. */
static int stat_width(const char *heading)
{
	int len = strlen(heading);

	return len > 8 ? len : 8;
}

static void stat_print_vcpus(const struct stat_view *v, json_object *stat)
{
	json_object *vcpus = jget(stat, "vcpus"), *first;
	size_t i, n;
	char num[32];

	if (!json_object_is_type(vcpus, json_type_array) ||
	    !(n = json_object_array_length(vcpus)))
		return;
	/* Columns: the first vCPU's exit reasons, then the total. */
	first = jget(json_object_array_get_idx(vcpus, 0), "exits");
	if (!json_object_is_type(first, json_type_object))
		return;
	printf("vcpu");
	json_object_object_foreach(first, key, val) {
		(void)val;
		printf("  %*s", stat_width(key), key);
	}
	printf("  %*s\n", stat_width("total"), "total");
	for (i = 0; i < n; i++) {
		json_object *cpu = json_object_array_get_idx(vcpus, i);
		json_object *pcpu = prev_item(v->prev, "vcpus", i, cpu, "index");
		json_object *exits = jget(cpu, "exits");

		printf("%4" PRId64, json_object_get_int64(jget(cpu, "index")));
		json_object_object_foreach(first, reason, unused) {
			json_object *cnt = jget(exits, reason);

			(void)unused;
			if (cnt)
				stat_counter(v, cnt, jget(jget(pcpu, "exits"),
							  reason),
					     num, sizeof(num));
			else
				snprintf(num, sizeof(num), "-");
			printf("  %*s", stat_width(reason), num);
		}
		stat_counter(v, jget(cpu, "exits_total"),
			     jget(pcpu, "exits_total"), num, sizeof(num));
		printf("  %*s\n", stat_width("total"), num);
	}
}

/*
 * KVM's own counters of each vCPU (where the kernel has them): those that
 * are not zero, or with --watch those that moved.
 */
static void stat_print_kvm(const struct stat_view *v, json_object *stat)
{
	json_object *vcpus = jget(stat, "vcpus");
	size_t i, n;
	char num[32];

	n = json_object_is_type(vcpus, json_type_array) ?
	    json_object_array_length(vcpus) : 0;
	for (i = 0; i < n; i++) {
		json_object *cpu = json_object_array_get_idx(vcpus, i);
		json_object *pcpu = prev_item(v->prev, "vcpus", i, cpu, "index");
		json_object *kvm = jget(cpu, "kvm_counters");
		const char *sep = ":";

		if (!json_object_is_type(kvm, json_type_object))
			continue;
		printf("vcpu%" PRId64 " kvm",
		       json_object_get_int64(jget(cpu, "index")));
		json_object_object_foreach(kvm, key, val) {
			if (!json_object_is_type(val, json_type_int))
				continue;
			stat_counter(v, val, jget(jget(pcpu, "kvm_counters"), key),
				     num, sizeof(num));
			if (!strcmp(num, "0") || !strcmp(num, "0.0"))
				continue;
			printf("%s %s %s", sep, key, num);
			sep = ",";
		}
		if (*sep == ':')
			printf(": all 0");
		putchar('\n');
	}
}

static void stat_print_devices(const struct stat_view *v, json_object *stat)
{
	json_object *devs = jget(stat, "devices");
	size_t i, n;
	char num[32];

	n = json_object_is_type(devs, json_type_array) ?
	    json_object_array_length(devs) : 0;
	for (i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(devs, i);
		json_object *pd = prev_item(v->prev, "devices", i, d, "id");
		const char *sep = ": ";

		if (!json_object_is_type(d, json_type_object))
			continue;
		printf("%s %s", jstr(d, "id"), jstr(d, "kind"));
		json_object_object_foreach(d, key, val) {
			if (!strcmp(key, "id") || !strcmp(key, "kind"))
				continue;
			if (json_object_is_type(val, json_type_int))
				stat_counter(v, val, jget(pd, key), num,
					     sizeof(num));
			printf("%s%s %s", sep, key,
			       json_object_is_type(val, json_type_int) ? num :
			       json_object_is_type(val, json_type_string) ?
			       json_object_get_string(val) :
			       json_object_to_json_string_ext(val,
						JSON_C_TO_STRING_PLAIN));
			sep = ", ";
		}
		putchar('\n');
	}
}

static void stat_print(json_object *stat, json_object *prev, bool watch)
{
	struct stat_view v = {
		.rates = watch,
		.uptime = jdouble(stat, "uptime_s", 0),
	};
	json_object *mem = jget(stat, "memory");
	char up[32], size[32], rss[32];

	if (prev) {
		v.dt = v.uptime - jdouble(prev, "uptime_s", 0);
		v.prev = v.dt > 0 ? prev : NULL;
	}
	juptime(stat, up, sizeof(up));
	jsize(mem, "size_bytes", size, sizeof(size));
	jsize(mem, "resident_bytes", rss, sizeof(rss));
	printf("%s: %s, uptime %s, memory %s, resident %s\n",
	       jstr(stat, "name"), jstr(stat, "state"), up, size, rss);
	if (watch && v.prev)
		printf("per second over the last %.1f s:\n", v.dt);
	else if (watch)
		printf("per second since start:\n");
	stat_print_vcpus(&v, stat);
	stat_print_kvm(&v, stat);
	stat_print_devices(&v, stat);
}

/* Sleep until @next_ms; the next tick @interval later, never in the past. */
static void watch_sleep(int64_t *next_ms, double interval)
{
	struct timespec ts;
	int64_t now = now_ms();

	*next_ms += (int64_t)(interval * 1000);
	if (*next_ms < now)
		*next_ms = now + (int64_t)(interval * 1000);
	ts.tv_sec = *next_ms / 1000;
	ts.tv_nsec = (*next_ms % 1000) * 1000000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/*
 * stat, once or every --watch interval on one connection.  With --watch
 * the VM going away ends it with status 0; a lost connection is opened
 * again once, in case only the connection went.
 */
static int run_stat(const struct ctl_cmd *cmd, const struct ctl_opts *o,
		    struct wisp_err *err)
{
	json_object *stat, *prev = NULL;
	struct ctl_reply r = { 0 };
	int64_t next = now_ms();
	struct ctl_conn c;
	bool seen = false;
	char *req = cmd_request(cmd, o, err);
	int ret;

	if (!req)
		return -EINVAL;
	ret = ctl_open(&c, o->name, now_ms() + CTL_CONNECT_MS, err);
	while (!ret) {
		ret = ctl_call(&c, req, CTL_REPLY_MS, &r, err);
		if (ret == -ECONNRESET && seen) {
			struct wisp_err again = { 0 };

			conn_close(&c);
			if (ctl_open(&c, o->name, now_ms() + CTL_CONNECT_MS,
				     &again)) {
				*err = (struct wisp_err){ 0 };
				ret = 0;
				break;	/* gone */
			}
			*err = (struct wisp_err){ 0 };
			ret = ctl_call(&c, req, CTL_REPLY_MS, &r, err);
		}
		if (ret)
			break;
		seen = true;
		if (o->json) {
			puts(r.line);
		} else if (o->prometheus) {
			fputs(jstr(r.obj, "prometheus"), stdout);
		} else {
			ret = reply_member(&c, &r, "stat", &stat, err);
			if (ret)
				break;
			if (o->watch && prev)
				putchar('\n');
			stat_print(stat, prev, o->watch);
			json_object_put(prev);
			prev = json_object_get(stat);
		}
		json_object_put(r.obj);
		r.obj = NULL;
		fflush(stdout);
		if (!o->watch)
			break;
		watch_sleep(&next, o->interval);
	}
	json_object_put(r.obj);
	json_object_put(prev);
	conn_close(&c);
	free(req);
	return ret;
}

/*
 * The balloon's state: its target and what the guest did, from the
 * "balloon" object of a reply.
 */
static void balloon_print(json_object *b)
{
	static const char *const features[] = {
		"stats", "deflate_on_oom", "free_page_reporting", NULL,
	};
	json_object *neg = jget(b, "negotiated");
	const char *const *f;
	const char *sep = "";
	char target[32], actual[32], disc[32], rep[32];

	jsize(b, "target_bytes", target, sizeof(target));
	jsize(b, "actual_bytes", actual, sizeof(actual));
	jsize(b, "discarded_bytes", disc, sizeof(disc));
	jsize(b, "reported_bytes", rep, sizeof(rep));
	printf("target     %s\n", target);
	printf("actual     %s\n", actual);
	printf("pages      %" PRIu64 " inflated, %" PRIu64 " deflated\n",
	       json_object_get_uint64(jget(b, "inflated_pages")),
	       json_object_get_uint64(jget(b, "deflated_pages")));
	printf("given back %s discarded, %s reported free\n", disc, rep);
	printf("refused    %" PRIu64 " bad PFNs, %" PRIu64 " capped PFNs, %"
	       PRIu64 " bad buffers\n",
	       json_object_get_uint64(jget(b, "bad_pfns")),
	       json_object_get_uint64(jget(b, "capped_pfns")),
	       json_object_get_uint64(jget(b, "bad_buffers")));
	printf("features   ");
	for (f = features; *f; f++) {
		if (!json_object_get_boolean(jget(neg, *f)))
			continue;
		printf("%s%s", sep, *f);
		sep = ", ";
	}
	printf("%s\n", *sep ? "" : "none negotiated");
}

/*
 * The guest's statistics: sizes for the members named *_bytes, numbers
 * for the rest, in the reply's order.
 */
static void balloon_print_stats(json_object *b)
{
	json_object *st = jget(b, "stats");
	char num[32], key[64];
	size_t len;

	if (!json_object_is_type(st, json_type_object)) {
		printf("stats      none yet%s\n",
		       json_object_get_boolean(jget(jget(b, "negotiated"),
						     "stats")) ? "" :
		       " (not negotiated: the VM needs --balloon=stats=SECONDS)");
		return;
	}
	printf("stats      %.1f s old, %" PRIu64 " updates\n",
	       jdouble(st, "age_ms", 0) / 1000.0,
	       json_object_get_uint64(jget(st, "updates")));
	json_object_object_foreach(st, name, val) {
		if (!strcmp(name, "age_ms") || !strcmp(name, "updates") ||
		    !json_object_is_type(val, json_type_int))
			continue;
		len = strlen(name);
		if (len > 6 && !strcmp(name + len - 6, "_bytes")) {
			snprintf(key, sizeof(key), "%.*s", (int)(len - 6), name);
			ctl_format_size(json_object_get_uint64(val), num,
					sizeof(num));
		} else {
			snprintf(key, sizeof(key), "%s", name);
			snprintf(num, sizeof(num), "%" PRIu64,
				 json_object_get_uint64(val));
		}
		printf("  %-20s %s\n", key, num);
	}
}

/* balloon [SIZE]: set the target (SIZE), then show the balloon. */
static int run_balloon(const struct ctl_cmd *cmd, const struct ctl_opts *o,
		       struct wisp_err *err)
{
	json_object *b;
	struct ctl_reply r = { 0 };
	struct ctl_conn c;
	char *req = cmd_request(cmd, o, err);
	int ret;

	if (!req)
		return -EINVAL;
	ret = ctl_once(o, req, &c, &r, err);
	if (!ret)
		ret = reply_member(&c, &r, "balloon", &b, err);
	if (!ret && o->json) {
		puts(r.line);
	} else if (!ret) {
		balloon_print(b);
		if (o->stats)
			balloon_print_stats(b);
	}
	json_object_put(r.obj);
	conn_close(&c);
	free(req);
	return ret;
}

/*
 * A refusal (status 65) of a long request as "@what: error": what the
 * VM said is about the request rather than about the VM.
 */
static void refusal_names(struct wisp_err *err, const struct ctl_conn *c,
			  const char *what)
{
	size_t len = strlen(c->name);
	char msg[sizeof(err->msg)];

	if (err->status != WISP_EXIT_DATAERR ||
	    strncmp(err->msg, c->name, len) || strncmp(err->msg + len, ": ", 2))
		return;
	snprintf(msg, sizeof(msg), "%s: %s", what, err->msg + len + 2);
	memcpy(err->msg, msg, sizeof(msg));
}

/* "12.5 MiB" from member @key of @o; false when it is not a number. */
static bool jmib(json_object *o, const char *key, char *buf, size_t size)
{
	json_object *v = jget(o, key);

	if (!json_object_is_type(v, json_type_int))
		return false;
	snprintf(buf, size, "%.1f MiB",
		 (double)json_object_get_uint64(v) / (1 << 20));
	return true;
}

/* One request that may take long: open, send, wait up to @timeout_ms. */
static int ctl_long(const struct ctl_cmd *cmd, const struct ctl_opts *o,
		    int timeout_ms, struct ctl_conn *c, struct ctl_reply *r,
		    struct wisp_err *err)
{
	char *req = cmd_request(cmd, o, err);
	int ret;

	c->fd = -1;
	c->buf = NULL;
	if (!req)
		return -EINVAL;
	ret = ctl_open(c, o->name, now_ms() + CTL_CONNECT_MS, err);
	if (!ret)
		ret = ctl_call(c, req, timeout_ms, r, err);
	if (ret)
		refusal_names(err, c, cmd->name);
	free(req);
	return ret;
}

/*
 * snapshot NAME DIR: the VM pauses and writes DIR/state.dtb and
 * DIR/memory, then stops (or runs on with --resume).  The reply comes
 * when all is written.
 */
static int run_snapshot(const struct ctl_cmd *cmd, const struct ctl_opts *o,
			struct wisp_err *err)
{
	struct ctl_reply r = { 0 };
	struct ctl_conn c;
	const char *state;
	char mem[32], written[32];
	int ret;

	ret = ctl_long(cmd, o, CTL_SNAPSHOT_MS, &c, &r, err);
	if (!ret && o->json) {
		puts(r.line);
	} else if (!ret) {
		state = jstr(r.obj, "state");
		printf("snapshot of '%s' in %s: ", o->name,
		       json_object_is_type(jget(r.obj, "dir"), json_type_string) ?
		       jstr(r.obj, "dir") : o->dir);
		if (!jmib(r.obj, "memory_bytes", mem, sizeof(mem)))
			snprintf(mem, sizeof(mem), "?");
		printf("%s of RAM", mem);
		if (jmib(r.obj, "written_bytes", written, sizeof(written)))
			printf(" (%s written)", written);
		if (jis_num(jget(r.obj, "ms")))
			printf(" in %.0f ms", jdouble(r.obj, "ms", 0));
		if (!strcmp(state, "stopping"))
			printf("; the VM stopped\n");
		else if (!strcmp(state, "running"))
			printf("; the VM runs on\n");
		else
			printf("; the VM is %s\n", state);
	}
	json_object_put(r.obj);
	conn_close(&c);
	return ret;
}

/*
 * migrate NAME tcp:HOST:PORT: the VM goes live to a "wisp run --incoming"
 * there.  The reply comes when the destination runs (or it failed and
 * the VM runs on here).
 */
static int run_migrate(const struct ctl_cmd *cmd, const struct ctl_opts *o,
		       struct wisp_err *err)
{
	static const char *const skip[] = { "version", "ok", "request", NULL };
	struct ctl_reply r = { 0 };
	struct ctl_conn c;
	int ret;

	ret = ctl_long(cmd, o, CTL_MIGRATE_MS, &c, &r, err);
	if (!ret && o->json) {
		puts(r.line);
	} else if (!ret) {
		printf("migration of '%s' to %s", o->name, o->uri);
		print_members(r.obj, skip);
		putchar('\n');
	}
	json_object_put(r.obj);
	conn_close(&c);
	return ret;
}

/* The table of subcommands and their command lines. */

static const struct ctl_cmd ctl_cmds[] = {
	{ "list", "[--json]", "the running VMs in the default socket directory",
	  OPT_JSON, false, run_list },
	{ "info", "NAME [--json]", "a VM's configuration and state",
	  OPT_JSON, true, run_info },
	{ "pause", "NAME [--json]", "stop running the VM's vCPUs",
	  OPT_JSON, true, run_state },
	{ "resume", "NAME [--json]", "run a paused VM's vCPUs again",
	  OPT_JSON, true, run_state },
	{ "shutdown", "NAME [--timeout S] [--json]",
	  "press the ACPI power button; stop the VM if it still runs S seconds later (default 60, 0: never)",
	  OPT_JSON | OPT_TIMEOUT, true, run_state },
	{ "stop", "NAME [--json]", "stop the VM now (its exit status 84)",
	  OPT_JSON, true, run_state },
	{ "stat", "NAME [--json | --prometheus] [--watch [SECONDS]]",
	  "counters: exits by reason per vCPU, memory, devices; --watch: rates every SECONDS (default 1)",
	  OPT_JSON | OPT_PROMETHEUS | OPT_WATCH, true, run_stat },
	{ "balloon", "NAME [SIZE] [--stats] [--json]",
	  "the balloon: SIZE (K, M, G; a bare number is MiB) sets how much of the guest's RAM it should hold; without, its state; --stats: the guest's memory statistics too",
	  OPT_JSON | OPT_SIZE | OPT_STATS, true, run_balloon },
	{ "snapshot", "NAME DIR [--resume] [--json]",
	  "pause the VM and write its state to DIR/state.dtb and its RAM to DIR/memory\n"
	  "  (DIR is made if missing; its parent must exist); then stop the VM (its exit\n"
	  "  status 84) or, with --resume, let it run on; 'wisp restore DIR' runs it again",
	  OPT_JSON | OPT_DIR, true, run_snapshot },
	{ "migrate", "NAME tcp:HOST:PORT [--downtime MS] [--json]",
	  "send the running VM to a 'wisp run --incoming tcp:ADDR:PORT' at HOST:PORT: RAM\n"
	  "  copied while it runs, then a pause of at most MS milliseconds (default 300,\n"
	  "  at most 60000) for the rest; the VM runs there and exits here",
	  OPT_JSON | OPT_URI, true, run_migrate },
};

#define CTL_NCMDS (sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

static void print_usage(const struct ctl_cmd *cmd)
{
	printf("usage: wisp %s %s\n  %s\n\n"
	       "NAME is a VM's name (its socket is in the default directory:\n"
	       "/run/wisp for root, else $XDG_RUNTIME_DIR/wisp or /tmp/wisp-UID;\n"
	       "WISP_RUN_DIR overrides it) or, with a '/', a socket path.\n"
	       "exit status: 0 done, 64 bad usage, 65 the VM refused the request,\n"
	       "69 no such VM, 71 the connection failed%s\n",
	       cmd->name, cmd->args, cmd->help,
	       cmd->opts & OPT_DIR ? ", 66 DIR's parent is missing" : "");
}

/* Does @arg look like a --watch value rather than a NAME? */
static bool looks_like_seconds(const char *arg)
{
	if (*arg == '-')
		arg++;
	return *arg && strspn(arg, "0123456789.") == strlen(arg);
}

/*
 * Parse @cmd's command line into @o.  0, 1 for --help, or the message in
 * @err (WISP_EXIT_USAGE).
 */
static int parse_args(const struct ctl_cmd *cmd, int argc, char **argv,
		      struct ctl_opts *o, struct wisp_err *err)
{
	bool only_names = false;
	int i;

	*o = (struct ctl_opts){ .interval = 1, .downtime_ms = CTL_DOWNTIME_MS };
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq;
		size_t len;

		if (only_names || arg[0] != '-' || !arg[1]) {
			if (o->name && (cmd->opts & OPT_DIR) && !o->dir) {
				o->dir = arg;
				continue;
			}
			if (o->name && (cmd->opts & OPT_URI) && !o->uri) {
				o->uri = arg;
				continue;
			}
			if (o->name && (cmd->opts & OPT_SIZE) && !o->has_size) {
				if (ctl_parse_size(arg, &o->size))
					return err_set(err, WISP_EXIT_USAGE, EINVAL,
						       "%s: bad SIZE '%s' (bytes with a K, M, G or T suffix; a bare number is MiB)",
						       cmd->name, arg);
				o->has_size = true;
				continue;
			}
			if (o->name || !cmd->needs_name)
				return err_set(err, WISP_EXIT_USAGE, EINVAL,
					       "%s: unexpected argument '%s' (try 'wisp %s --help')",
					       cmd->name, arg, cmd->name);
			o->name = arg;
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_names = true;
			continue;
		}
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
			return 1;
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		val = eq ? eq + 1 : NULL;
#define IS(opt, bit) ((cmd->opts & (bit)) && len == strlen(opt) && \
		      !strncmp(arg, opt, len))
		if (IS("--json", OPT_JSON) && !val) {
			o->json = true;
		} else if (IS("--prometheus", OPT_PROMETHEUS) && !val) {
			o->prometheus = true;
		} else if (IS("--stats", OPT_STATS) && !val) {
			o->stats = true;
		} else if (IS("--resume", OPT_DIR) && !val) {
			o->resume = true;
		} else if (IS("--downtime", OPT_URI)) {
			unsigned long ms;

			if (!val && i + 1 < argc)
				val = argv[++i];
			if (!val)
				return err_set(err, WISP_EXIT_USAGE, EINVAL,
					       "%s: --downtime needs a number of milliseconds",
					       cmd->name);
			ms = strspn(val, "0123456789") == strlen(val) &&
			     strlen(val) <= 6 ? strtoul(val, NULL, 10) : 0;
			if (ms < 1 || ms > CTL_DOWNTIME_MAX_MS)
				return err_set(err, WISP_EXIT_USAGE, EINVAL,
					       "%s: bad --downtime '%s' (milliseconds, 1 to %d)",
					       cmd->name, val, CTL_DOWNTIME_MAX_MS);
			o->downtime_ms = ms;
		} else if (IS("--timeout", OPT_TIMEOUT)) {
			if (!val && i + 1 < argc)
				val = argv[++i];
			if (!val)
				return err_set(err, WISP_EXIT_USAGE, EINVAL,
					       "%s: --timeout needs a number of seconds",
					       cmd->name);
			if (ctl_parse_seconds(val, &o->timeout))
				return err_set(err, WISP_EXIT_USAGE, EINVAL,
					       "%s: bad --timeout '%s' (seconds, 0 to 86400; 0: never)",
					       cmd->name, val);
			o->has_timeout = true;
		} else if (IS("--watch", OPT_WATCH)) {
			if (!val && i + 1 < argc && looks_like_seconds(argv[i + 1]))
				val = argv[++i];
			if (val && (ctl_parse_seconds(val, &o->interval) ||
				    o->interval < 0.01))
				return err_set(err, WISP_EXIT_USAGE, EINVAL,
					       "%s: bad --watch '%s' (seconds, 0.01 to 86400)",
					       cmd->name, val);
			o->watch = true;
		} else {
			return err_set(err, WISP_EXIT_USAGE, EINVAL,
				       "%s: unknown option '%s' (try 'wisp %s --help')",
				       cmd->name, arg, cmd->name);
		}
#undef IS
	}
	if (cmd->needs_name && !o->name)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "%s: missing NAME (try 'wisp %s --help')",
			       cmd->name, cmd->name);
	if ((cmd->opts & OPT_DIR) && !o->dir)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "%s: missing DIR (try 'wisp %s --help')",
			       cmd->name, cmd->name);
	if ((cmd->opts & OPT_DIR) && !*o->dir)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "%s: empty DIR", cmd->name);
	if ((cmd->opts & OPT_URI) && !o->uri)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "%s: missing tcp:HOST:PORT (try 'wisp %s --help')",
			       cmd->name, cmd->name);
	if (cmd->opts & OPT_URI) {
		char host[256];
		unsigned int port;
		int ret = ctl_parse_migrate_uri(o->uri, host, sizeof(host),
						&port);

		if (ret == -ERANGE)
			return err_set(err, WISP_EXIT_USAGE, ERANGE,
				       "%s: bad port in '%s' (1 to 65535)",
				       cmd->name, o->uri);
		if (ret)
			return err_set(err, WISP_EXIT_USAGE, -ret,
				       "%s: bad URI '%s' (tcp:HOST:PORT; an IPv6 HOST in brackets)",
				       cmd->name, o->uri);
	}
	if (o->json && o->prometheus)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "%s: --json and --prometheus exclude each other",
			       cmd->name);
	return 0;
}

static const struct ctl_cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < CTL_NCMDS; i++)
		if (!strcmp(name, ctl_cmds[i].name))
			return &ctl_cmds[i];
	return NULL;
}

bool ctl_is_command(const char *cmd)
{
	return find_cmd(cmd);
}

int ctl_build_request(int argc, char **argv, char **line,
		      struct wisp_err *err)
{
	const struct ctl_cmd *cmd = find_cmd(argv[0]);
	struct ctl_opts o;
	int ret;

	*line = NULL;
	if (!cmd || cmd->run == run_list)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "'%s' sends no single request", argv[0]);
	ret = parse_args(cmd, argc, argv, &o, err);
	if (ret)
		return ret;
	*line = cmd_request(cmd, &o, err);
	return *line ? 0 : -EINVAL;
}

int ctl_main(int argc, char **argv)
{
	const struct ctl_cmd *cmd = find_cmd(argv[0]);
	struct wisp_err err = { 0 };
	struct ctl_opts o;
	int ret;

	if (!cmd) {
		fprintf(stderr, "wisp: unknown command '%s'\n", argv[0]);
		return WISP_EXIT_USAGE;
	}
	ret = parse_args(cmd, argc, argv, &o, &err);
	if (ret == 1) {
		print_usage(cmd);
		return WISP_EXIT_OK;
	}
	if (!ret)
		ret = cmd->run(cmd, &o, &err);
	if (ret) {
		fflush(stdout);
		fprintf(stderr, "wisp: %s\n", err.msg);
		return err.status;
	}
	return WISP_EXIT_OK;
}
