/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control socket of a running VM (docs/control.md): one JSON object per
 * line each way, served on the VM's event loop, and the Prometheus metrics
 * endpoint (--metrics-listen).  Opened once per "wisp run", before the VM
 * is built, and attached to each VM the run boots (--reboot=restart builds
 * a new one): clients connected to one boot are dropped at its end.
 *
 * Nothing a client does blocks the event loop or reaches the guest: every
 * socket is non-blocking, request lines and queued replies are capped, and
 * a client over a limit is disconnected.
 */
#ifndef WISP_CONTROL_H
#define WISP_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "error.h"

#define CONTROL_PATH_MAX	108	/* sizeof(sun_path) */
#define CONTROL_LINE_MAX	4096	/* bytes of one request, without \n */
#define CONTROL_MAX_CLIENTS	16	/* each of the socket and metrics */
#define CONTROL_OUT_MAX		(256 << 10)	/* queued reply bytes */
#define CONTROL_VERSION		1
#define CONTROL_SHUTDOWN_TIMEOUT	60	/* seconds, when not given */

struct vm;
struct control;

enum control_op {
	CONTROL_INFO,
	CONTROL_PAUSE,
	CONTROL_RESUME,
	CONTROL_SHUTDOWN,
	CONTROL_STOP,
	CONTROL_STAT,
	CONTROL_BALLOON,
	CONTROL_SNAPSHOT,
	CONTROL_MIGRATE,
};

struct control_request {
	enum control_op op;
	double timeout;			/* shutdown: seconds, 0: never */
	bool prometheus;		/* stat: "format": "prometheus" */
	bool has_target;		/* balloon: "target_bytes" given */
	uint64_t target_bytes;
	char dir[1024];			/* snapshot: absolute directory */
	bool resume;			/* snapshot: run on afterwards */
	char uri[128];			/* migrate: tcp:HOST:PORT */
	unsigned int downtime_ms;	/* migrate: the target */
};

/*
 * Parse one request line (@len bytes, no newline).  Returns 0, or -EINVAL
 * with the reply's error message in @msg.  Pure.
 */
int control_parse_request(const char *line, size_t len,
			  struct control_request *req, char *msg,
			  size_t msg_len);

/*
 * Parse --metrics-listen's ADDR:PORT (an IPv4 address, [IPv6] or
 * localhost; port 1-65535).  Returns 0 or -EINVAL with @msg set.
 */
int control_parse_listen(const char *s, struct sockaddr_storage *sa,
			 socklen_t *len, char *msg, size_t msg_len);

/* Is ADDR:PORT @s (already checked) a loopback address? */
bool control_listen_is_loopback(const char *s);

/*
 * The directory of the default sockets: $WISP_RUN_DIR when set (tests),
 * /run/wisp for root, $XDG_RUNTIME_DIR/wisp, else /tmp/wisp-UID.
 */
void control_default_dir(char *dir, size_t len);

/*
 * Take @cfg's name (a lock beside the socket), bind and listen on its
 * socket (replacing a dead VM's) and on --metrics-listen.  Returns NULL
 * with @err set: 69 when a live VM holds the name or the address is taken,
 * 64 for a path that does not fit, 71 otherwise.  NULL with no error when
 * there is nothing to serve (--api none without --metrics-listen).
 */
struct control *control_open(const struct vm_config *cfg,
			     struct wisp_err *err);

/* Serve on @vm's event loop from now on.  Returns 0 or -errno. */
int control_attach(struct control *c, struct vm *vm);

/* Drop the clients and leave the loop; before vm_destroy(). */
void control_detach(struct control *c);

/* Remove the socket, release the name, free.  NULL is ignored. */
void control_close(struct control *c);

#endif
