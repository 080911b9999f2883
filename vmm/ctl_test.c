// SPDX-License-Identifier: Apache-2.0
/*
 * The control client's pure helpers: the socket directory, NAME to
 * socket path, --timeout/--watch values, balloon SIZEs, sizes, uptimes
 * and CPU lists; snapshot DIRs made absolute, migration URIs, and the
 * request lines that command lines make.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl.h"
#include "error.h"

static void test_run_dir(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(ctl_run_dir(0, NULL, "/run/user/0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/wisp");
	assert_int_equal(ctl_run_dir(1000, NULL, "/run/user/1000", buf,
				     sizeof(buf)), 0);
	assert_string_equal(buf, "/run/user/1000/wisp");
	assert_int_equal(ctl_run_dir(1000, NULL, NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/wisp-1000");
	assert_int_equal(ctl_run_dir(1000, "", "", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/wisp-1000");
	assert_int_equal(ctl_run_dir(1000, NULL, "run", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/wisp-1000");
	/* WISP_RUN_DIR wins, for root too. */
	assert_int_equal(ctl_run_dir(0, "/tmp/x", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/x");
	assert_int_equal(ctl_run_dir(1000, NULL, "/a/very/long/runtime/directory",
				     buf, 16), -ENAMETOOLONG);
}

static void test_socket_path(void **state)
{
	char buf[64], name[66];

	(void)state;
	assert_int_equal(ctl_socket_path("web", "/run/wisp", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/wisp/web.sock");
	assert_int_equal(ctl_socket_path("a.b_c-9", "/d", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/d/a.b_c-9.sock");
	/* A '/' makes it a path, taken as is. */
	assert_int_equal(ctl_socket_path("./x", "/d", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "./x");
	assert_int_equal(ctl_socket_path("/tmp/vm api", "/d", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/vm api");
	/* Not names. */
	assert_int_equal(ctl_socket_path("", "/d", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ctl_socket_path("a b", "/d", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ctl_socket_path("a:b", "/d", buf, sizeof(buf)), -EINVAL);
	memset(name, 'a', 64);
	name[64] = '\0';
	assert_int_equal(ctl_socket_path(name, "/d", buf, sizeof(buf)),
			 -ENAMETOOLONG);
	assert_int_equal(ctl_socket_path(name, "/d", buf, 0), -ENAMETOOLONG);
	name[64] = 'a';
	name[65] = '\0';
	assert_int_equal(ctl_socket_path(name, "/d", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ctl_socket_path("web", "/run/wisp", buf, 18),
			 -ENAMETOOLONG);
}

static void test_parse_seconds(void **state)
{
	double v = -1;

	(void)state;
	assert_int_equal(ctl_parse_seconds("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(ctl_parse_seconds("30", &v), 0);
	assert_true(v == 30);
	assert_int_equal(ctl_parse_seconds("0.5", &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(ctl_parse_seconds(".25", &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(ctl_parse_seconds("2.", &v), 0);
	assert_true(v == 2);
	assert_int_equal(ctl_parse_seconds("86400", &v), 0);
	assert_true(v == 86400);
	assert_int_equal(ctl_parse_seconds("86400.5", &v), -ERANGE);
	assert_int_equal(ctl_parse_seconds("1e3", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("-1", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds(".", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("1.2.3", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("0x10", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("inf", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("nan", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds(" 1", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("1s", &v), -EINVAL);
	assert_int_equal(ctl_parse_seconds("99999999999999999999999", &v),
			 -ERANGE);
}

static void test_parse_size(void **state)
{
	uint64_t v = 1;

	(void)state;
	assert_int_equal(ctl_parse_size("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(ctl_parse_size("256", &v), 0);	/* bare: MiB */
	assert_true(v == 256ULL << 20);
	assert_int_equal(ctl_parse_size("256M", &v), 0);
	assert_true(v == 256ULL << 20);
	assert_int_equal(ctl_parse_size("4096K", &v), 0);
	assert_true(v == 4ULL << 20);
	assert_int_equal(ctl_parse_size("1G", &v), 0);
	assert_true(v == 1ULL << 30);
	assert_int_equal(ctl_parse_size("2GiB", &v), 0);
	assert_true(v == 2ULL << 30);
	assert_int_equal(ctl_parse_size("8388607T", &v), 0);
	assert_true(v == 8388607ULL << 40);
	/* Beyond what a JSON integer of the protocol holds. */
	assert_int_equal(ctl_parse_size("8388608T", &v), -ERANGE);
	assert_int_equal(ctl_parse_size("99999999999999999999", &v), -ERANGE);
	v = 7;
	assert_int_equal(ctl_parse_size("", &v), -EINVAL);
	assert_int_equal(ctl_parse_size("-1", &v), -EINVAL);
	assert_int_equal(ctl_parse_size("1.5G", &v), -EINVAL);
	assert_int_equal(ctl_parse_size("12X", &v), -EINVAL);
	assert_int_equal(ctl_parse_size("M", &v), -EINVAL);
	assert_int_equal(ctl_parse_size(" 1", &v), -EINVAL);
	assert_true(v == 7);
}

static void test_format_size(void **state)
{
	static const struct {
		uint64_t bytes;
		const char *text;
	} cases[] = {
		{ 0, "0B" },
		{ 100, "100B" },
		{ 1023, "1023B" },
		{ 1024, "1K" },
		{ 1536, "1.5K" },
		{ 512ULL << 20, "512M" },
		{ 20123648, "19.2M" },
		{ 1ULL << 30, "1G" },
		{ 3ULL << 29, "1.5G" },
		{ 1023ULL << 20, "1023M" },
		{ 5ULL << 40, "5T" },
		{ UINT64_MAX, "16.0E" },
	};
	char buf[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctl_format_size(cases[i].bytes, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
}

static void test_format_uptime(void **state)
{
	static const struct {
		double s;
		const char *text;
	} cases[] = {
		{ 0, "0s" },
		{ 12.503, "12s" },
		{ 59.999, "59s" },
		{ 60, "1m00s" },
		{ 303, "5m03s" },
		{ 3599, "59m59s" },
		{ 3600, "1h00m" },
		{ 3725, "1h02m" },
		{ 86399, "23h59m" },
		{ 86400, "1d00h" },
		{ 3 * 86400 + 4 * 3600 + 59, "3d04h" },
		{ -1, "?" },
		{ 1e300, "?" },
	};
	char buf[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctl_format_uptime(cases[i].s, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
	ctl_format_uptime(0.0 / 0.0, buf, sizeof(buf));
	assert_string_equal(buf, "?");
}

static void test_format_cpus(void **state)
{
	static const int some[] = { 0, 1, 2, 3, 8, 10, 11 };
	static const int one[] = { 5 };
	static const int pair[] = { 6, 7 };
	char buf[64], small[8];

	(void)state;
	ctl_format_cpus(some, 7, buf, sizeof(buf));
	assert_string_equal(buf, "0-3,8,10-11");
	ctl_format_cpus(one, 1, buf, sizeof(buf));
	assert_string_equal(buf, "5");
	ctl_format_cpus(pair, 2, buf, sizeof(buf));
	assert_string_equal(buf, "6-7");
	ctl_format_cpus(NULL, 0, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	/* Cut short: whole ranges, then "...", always terminated. */
	ctl_format_cpus(some, 7, small, sizeof(small));
	assert_string_equal(small, "0-3...");
	ctl_format_cpus(some, 7, small, 4);
	assert_string_equal(small, "...");
}


static void test_abs_dir(void **state)
{
	char tmpl[] = "/tmp/ctl_test.XXXXXX", real[PATH_MAX], cwd[PATH_MAX];
	char buf[PATH_MAX], want[PATH_MAX + 32], sub[PATH_MAX + 8], file[PATH_MAX + 8];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	assert_non_null(realpath(tmpl, real));	/* /tmp may be a link */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(sub, sizeof(sub), "%s/sub", tmpl);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(file, sizeof(file), "%s/file", tmpl);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);

	/* Existing: its real path. */
	assert_int_equal(ctl_abs_dir(tmpl, buf, sizeof(buf)), 0);
	assert_string_equal(buf, real);
	assert_int_equal(ctl_abs_dir(sub, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "%s/sub", real);
	assert_string_equal(buf, want);
	assert_int_equal(ctl_abs_dir("/", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/");
	/* Not yet there: the parent's real path and the last component. */
	snprintf(sub, sizeof(sub), "%s/sub/../snap", tmpl);
	assert_int_equal(ctl_abs_dir(sub, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "%s/snap", real);
	assert_string_equal(buf, want);
	snprintf(sub, sizeof(sub), "%s//snap//", tmpl);
	assert_int_equal(ctl_abs_dir(sub, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	/* Relative, against the current directory. */
	assert_int_equal(chdir(tmpl), 0);
	assert_int_equal(ctl_abs_dir("snap", buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	assert_int_equal(ctl_abs_dir("snap/", buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	assert_int_equal(ctl_abs_dir("./sub/new", buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "%s/sub/new", real);
	assert_string_equal(buf, want);
	assert_int_equal(ctl_abs_dir(".", buf, sizeof(buf)), 0);
	assert_string_equal(buf, real);
	assert_int_equal(ctl_abs_dir("sub", buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "%s/sub", real);
	assert_string_equal(buf, want);
	/* A file is given as it is: the VM refuses to write there. */
	assert_int_equal(ctl_abs_dir("file", buf, sizeof(buf)), 0);
	/* Errors: empty, no parent, parent a file, too long. */
	assert_int_equal(ctl_abs_dir("", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ctl_abs_dir("nope/snap", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ctl_abs_dir("file/snap", buf, sizeof(buf)), -ENOTDIR);
	assert_int_equal(ctl_abs_dir("snap", buf, 4), -ENAMETOOLONG);
	assert_int_equal(ctl_abs_dir("sub", buf, 4), -ENAMETOOLONG);
	assert_int_equal(chdir(cwd), 0);
	unlink(file);
	snprintf(sub, sizeof(sub), "%s/sub", tmpl);
	rmdir(sub);
	rmdir(tmpl);
}

static void test_migrate_uri(void **state)
{
	static const struct {
		const char *uri;
		int ret;
		const char *host;
		unsigned int port;
	} cases[] = {
		{ "tcp:127.0.0.1:4444", 0, "127.0.0.1", 4444 },
		{ "tcp:host-b.example:1", 0, "host-b.example", 1 },
		{ "tcp:h:65535", 0, "h", 65535 },
		{ "tcp:[::1]:80", 0, "::1", 80 },
		{ "tcp:[fe80::1:2]:8080", 0, "fe80::1:2", 8080 },
		{ "tcp:h:0", -ERANGE, NULL, 0 },
		{ "tcp:h:65536", -ERANGE, NULL, 0 },
		{ "tcp:h:999999", -ERANGE, NULL, 0 },
		{ "tcp:h:", -EINVAL, NULL, 0 },
		{ "tcp::80", -EINVAL, NULL, 0 },
		{ "tcp:h", -EINVAL, NULL, 0 },
		{ "tcp:", -EINVAL, NULL, 0 },
		{ "udp:h:80", -EINVAL, NULL, 0 },
		{ "TCP:h:80", -EINVAL, NULL, 0 },
		{ "h:80", -EINVAL, NULL, 0 },
		{ "", -EINVAL, NULL, 0 },
		{ "tcp:h:80x", -EINVAL, NULL, 0 },
		{ "tcp:h:-1", -EINVAL, NULL, 0 },
		{ "tcp:h:+80", -EINVAL, NULL, 0 },
		{ "tcp:a:b:80", -EINVAL, NULL, 0 },	/* IPv6 needs brackets */
		{ "tcp:h h:80", -EINVAL, NULL, 0 },
		{ "tcp:[::1]80", -EINVAL, NULL, 0 },
		{ "tcp:[::1:80", -EINVAL, NULL, 0 },
		{ "tcp:[]:80", -EINVAL, NULL, 0 },
		{ "tcp:[host]:80", -EINVAL, NULL, 0 },
		{ "tcp://h:80", -EINVAL, NULL, 0 },
	};
	char host[64];
	unsigned int port;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		port = 0;
		assert_int_equal(ctl_parse_migrate_uri(cases[i].uri, host,
						       sizeof(host), &port),
				 cases[i].ret);
		if (cases[i].ret)
			continue;
		assert_string_equal(host, cases[i].host);
		assert_int_equal(port, cases[i].port);
	}
	assert_int_equal(ctl_parse_migrate_uri("tcp:longhostname:80", host, 8,
					       &port), -ENAMETOOLONG);
}

/* ctl_build_request of @args (a NULL-terminated list): its status. */
static int build(char **line, struct wisp_err *err, const char *arg, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)arg;
	va_start(ap, arg);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	*err = (struct wisp_err){ 0 };
	return ctl_build_request(argc, argv, line, err);
}

/* The request @line as JSON, checked to be one object on one line. */
static json_object *request(char *line)
{
	size_t len = strlen(line);
	json_object *obj;

	assert_true(len > 1 && line[len - 1] == '\n');
	assert_null(memchr(line, '\n', len - 1));
	obj = json_tokener_parse(line);
	assert_non_null(obj);
	assert_true(json_object_is_type(obj, json_type_object));
	free(line);
	return obj;
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static void test_snapshot_request(void **state)
{
	char tmpl[] = "/tmp/ctl_test.XXXXXX", real[PATH_MAX], cwd[PATH_MAX];
	char want[PATH_MAX + 8], *line;
	struct wisp_err err;
	json_object *o;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	assert_non_null(realpath(tmpl, real));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpl), 0);
	snprintf(want, sizeof(want), "%s/snap", real);

	assert_int_equal(build(&line, &err, "snapshot", "vm1", "snap", NULL), 0);
	o = request(line);
	assert_int_equal(json_object_object_length(o), 4);
	assert_int_equal(json_object_get_int(member(o, "version")), 1);
	assert_string_equal(json_object_get_string(member(o, "request")),
			    "snapshot");
	assert_string_equal(json_object_get_string(member(o, "dir")), want);
	assert_true(json_object_is_type(member(o, "resume"), json_type_boolean));
	assert_false(json_object_get_boolean(member(o, "resume")));
	json_object_put(o);

	/* Options before, between and after; --json is the client's. */
	assert_int_equal(build(&line, &err, "snapshot", "--resume", "vm1",
			       "--json", "snap/", NULL), 0);
	o = request(line);
	assert_true(json_object_get_boolean(member(o, "resume")));
	assert_string_equal(json_object_get_string(member(o, "dir")), want);
	json_object_put(o);
	assert_int_equal(build(&line, &err, "snapshot", "vm1", "--", "-snap",
			       NULL), 0);
	o = request(line);
	snprintf(want, sizeof(want), "%s/-snap", real);
	assert_string_equal(json_object_get_string(member(o, "dir")), want);
	json_object_put(o);
	assert_int_equal(build(&line, &err, "snapshot", "vm1", tmpl, NULL), 0);
	o = request(line);
	assert_string_equal(json_object_get_string(member(o, "dir")), real);
	json_object_put(o);

	/* Usage errors: status 64, nothing built. */
	assert_int_equal(build(&line, &err, "snapshot", NULL), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "missing NAME"));
	assert_int_equal(build(&line, &err, "snapshot", "vm1", NULL), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "missing DIR"));
	assert_null(line);
	assert_int_equal(build(&line, &err, "snapshot", "vm1", "", NULL),
			 -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_USAGE);
	assert_int_equal(build(&line, &err, "snapshot", "vm1", "a", "b", NULL),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "unexpected argument 'b'"));
	assert_int_equal(build(&line, &err, "snapshot", "vm1", "a", "--frob",
			       NULL), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown option '--frob'"));
	assert_int_equal(build(&line, &err, "snapshot", "vm1", "a",
			       "--resume=yes", NULL), -EINVAL);
	assert_int_equal(build(&line, &err, "snapshot", "vm1", "a",
			       "--downtime", "5", NULL), -EINVAL);
	/* A bad NAME is refused when connecting. */
	assert_int_equal(build(&line, &err, "snapshot", "a b", "a", NULL), 0);
	free(line);
	assert_int_equal(build(&line, &err, "snapshot", "vm1", "a", "--help",
			       NULL), 1);
	/* A parent that does not exist: status 66. */
	assert_int_equal(build(&line, &err, "snapshot", "vm1", "nope/snap",
			       NULL), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_NOINPUT);
	assert_null(line);
	assert_int_equal(chdir(cwd), 0);
	rmdir(tmpl);
}

static void test_migrate_request(void **state)
{
	struct wisp_err err;
	json_object *o;
	char *line;

	(void)state;
	assert_int_equal(build(&line, &err, "migrate", "vm1",
			       "tcp:127.0.0.1:4444", NULL), 0);
	o = request(line);
	assert_int_equal(json_object_object_length(o), 4);
	assert_string_equal(json_object_get_string(member(o, "request")),
			    "migrate");
	assert_string_equal(json_object_get_string(member(o, "uri")),
			    "tcp:127.0.0.1:4444");
	assert_true(json_object_is_type(member(o, "downtime_ms"), json_type_int));
	assert_int_equal(json_object_get_int(member(o, "downtime_ms")), 300);
	json_object_put(o);
	assert_int_equal(build(&line, &err, "migrate", "--downtime", "50",
			       "vm1", "tcp:[::1]:1", "--json", NULL), 0);
	o = request(line);
	assert_int_equal(json_object_get_int(member(o, "downtime_ms")), 50);
	assert_string_equal(json_object_get_string(member(o, "uri")),
			    "tcp:[::1]:1");
	json_object_put(o);
	assert_int_equal(build(&line, &err, "migrate", "vm1", "tcp:h:2",
			       "--downtime=60000", NULL), 0);
	o = request(line);
	assert_int_equal(json_object_get_int(member(o, "downtime_ms")), 60000);
	json_object_put(o);

	assert_int_equal(build(&line, &err, "migrate", "vm1", NULL), -EINVAL);
	assert_non_null(strstr(err.msg, "missing tcp:HOST:PORT"));
	assert_int_equal(build(&line, &err, "migrate", "vm1", "udp:h:1", NULL),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "bad URI"));
	assert_int_equal(build(&line, &err, "migrate", "vm1", "tcp:h:0", NULL),
			 -ERANGE);
	assert_non_null(strstr(err.msg, "bad port"));
	assert_int_equal(build(&line, &err, "migrate", "vm1", "tcp:h:70000",
			       NULL), -ERANGE);
	assert_int_equal(err.status, WISP_EXIT_USAGE);
	static const char *const bad_downtimes[] = {
		"0", "60001", "-5", "1.5", "", "3s", "99999999999",
	};
	for (size_t i = 0; i < sizeof(bad_downtimes) / sizeof(bad_downtimes[0]); i++) {
		assert_int_equal(build(&line, &err, "migrate", "vm1", "tcp:h:1",
				       "--downtime", bad_downtimes[i], NULL),
				 -EINVAL);
		assert_int_equal(err.status, WISP_EXIT_USAGE);
	}
	assert_int_equal(build(&line, &err, "migrate", "vm1", "tcp:h:1",
			       "--downtime", NULL), -EINVAL);
	assert_non_null(strstr(err.msg, "--downtime needs"));
	assert_int_equal(build(&line, &err, "migrate", "vm1", "tcp:h:1",
			       "--resume", NULL), -EINVAL);
	assert_int_equal(build(&line, &err, "migrate", "vm1", "tcp:h:1",
			       "tcp:h:2", NULL), -EINVAL);
}

/* The other commands' requests, as they were before the builder. */
static void test_other_requests(void **state)
{
	struct wisp_err err;
	json_object *o;
	char *line;

	(void)state;
	assert_int_equal(build(&line, &err, "shutdown", "vm1", "--timeout",
			       "2.5", NULL), 0);
	o = request(line);
	assert_true(json_object_get_double(member(o, "timeout")) == 2.5);
	json_object_put(o);
	assert_int_equal(build(&line, &err, "shutdown", "vm1", "--timeout",
			       "30", NULL), 0);
	o = request(line);
	assert_true(json_object_is_type(member(o, "timeout"), json_type_int));
	json_object_put(o);
	assert_int_equal(build(&line, &err, "pause", "vm1", NULL), 0);
	o = request(line);
	assert_int_equal(json_object_object_length(o), 2);
	json_object_put(o);
	assert_int_equal(build(&line, &err, "stat", "vm1", "--prometheus",
			       NULL), 0);
	o = request(line);
	assert_string_equal(json_object_get_string(member(o, "format")),
			    "prometheus");
	json_object_put(o);
	assert_int_equal(build(&line, &err, "balloon", "vm1", "1G", NULL), 0);
	o = request(line);
	assert_true(json_object_get_int64(member(o, "target_bytes")) == 1 << 30);
	json_object_put(o);
	assert_int_equal(build(&line, &err, "list", NULL), -EINVAL);
	assert_int_equal(build(&line, &err, "frobnicate", NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_dir),
		cmocka_unit_test(test_socket_path),
		cmocka_unit_test(test_parse_seconds),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_format_uptime),
		cmocka_unit_test(test_format_cpus),
		cmocka_unit_test(test_abs_dir),
		cmocka_unit_test(test_migrate_uri),
		cmocka_unit_test(test_snapshot_request),
		cmocka_unit_test(test_migrate_request),
		cmocka_unit_test(test_other_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
