/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control client: "wisp list|info|pause|resume|shutdown|stop|stat|balloon|
 * snapshot|migrate", each a client of a running VM's control socket
 * (docs/control.md).
 */
#ifndef WISP_CTL_H
#define WISP_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Is @cmd one of the control subcommands? */
bool ctl_is_command(const char *cmd);

/*
 * Run control subcommand argv[0] with its arguments; returns the exit
 * status (docs/control.md, "The command line").
 */
int ctl_main(int argc, char **argv);

/*
 * The socket directory for effective user @uid: @override when not empty
 * (the WISP_RUN_DIR environment variable), else /run/wisp for root, else
 * @xdg/wisp when @xdg (XDG_RUNTIME_DIR) is an absolute path, else
 * /tmp/wisp-UID: as "wisp run" makes it.
 * 0 or -ENAMETOOLONG.
 */
int ctl_run_dir(uid_t uid, const char *override, const char *xdg,
		char *buf, size_t size);

/*
 * The socket of @name: @name itself when it contains a '/', else
 * @dir/@name.sock.  -EINVAL when @name is not a VM name (1-64 letters,
 * digits, '.', '_', '-'), -ENAMETOOLONG when the path does not fit.
 */
int ctl_socket_path(const char *name, const char *dir, char *buf, size_t size);

/*
 * Parse a number of seconds: digits with an optional fraction ("0.5"), at
 * most 86400.  0, -EINVAL (not such a number) or -ERANGE.
 */
int ctl_parse_seconds(const char *s, double *out);

/*
 * Parse a balloon SIZE: digits with an optional K, M, G or T suffix (a bare
 * number is MiB, as --mem), at most INT64_MAX bytes.  0, -EINVAL or
 * -ERANGE.
 */
int ctl_parse_size(const char *s, uint64_t *out);

/* @bytes for people: "512M", "1.5G", "19.2M", "100B". */
void ctl_format_size(uint64_t bytes, char *buf, size_t size);

/* An uptime: "12s", "5m03s", "1h02m", "3d04h"; "?" when not a number. */
void ctl_format_uptime(double seconds, char *buf, size_t size);

/* A CPU list with ranges: "0-3,8"; "-" when empty; "..." when cut. */
void ctl_format_cpus(const int *cpus, size_t n, char *buf, size_t size);

/*
 * @dir as an absolute path for a server whose working directory differs:
 * realpath(@dir) when it exists, else the real path of its parent with
 * the last component appended (trailing '/'s dropped).  0, -EINVAL (empty),
 * -ENOENT or another realpath() error for the parent, -ENAMETOOLONG.
 */
int ctl_abs_dir(const char *dir, char *buf, size_t size);

/*
 * Parse a migration URI "tcp:HOST:PORT" (HOST a name, an IPv4 address or
 * an IPv6 address in brackets, given back without them; PORT 1-65535).
 * 0, -EINVAL (not that shape), -ERANGE (the port) or -ENAMETOOLONG (HOST
 * does not fit @hsize).
 */
int ctl_parse_migrate_uri(const char *uri, char *host, size_t hsize,
			  unsigned int *port);

/*
 * The request line (with its '\n') that "wisp @argv..." would send, for
 * commands that send one request (not list): *@line malloc()ed.  0, 1 for
 * --help, or -errno with the message and exit status in @err (as
 * ctl_main() prints them).  Relative snapshot DIRs are made absolute
 * against the current directory.
 */
struct wisp_err;
int ctl_build_request(int argc, char **argv, char **line,
		      struct wisp_err *err);

#endif
