/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Errors that reach the user: a one-line message plus the process exit
 * status it maps to (the table in README.md).  Functions still return
 * -errno; the struct travels beside the call so that only main() prints
 * and exits.
 */
#ifndef WISP_ERROR_H
#define WISP_ERROR_H

#include <stdarg.h>

/* Exit statuses from the table in README.md and architecture.md. */
enum wisp_status {
	WISP_EXIT_OK = 0,
	WISP_EXIT_GUEST_MAX = 63,	/* exit-port values are capped here */
	WISP_EXIT_USAGE = 64,		/* EX_USAGE */
	WISP_EXIT_DATAERR = 65,		/* EX_DATAERR */
	WISP_EXIT_NOINPUT = 66,		/* EX_NOINPUT */
	WISP_EXIT_UNAVAILABLE = 69,	/* EX_UNAVAILABLE: /dev/kvm */
	WISP_EXIT_SOFTWARE = 70,	/* EX_SOFTWARE: wisp's own bug */
	WISP_EXIT_OSERR = 71,		/* EX_OSERR: host resources */
	WISP_EXIT_RESET = 80,
	WISP_EXIT_PANIC = 81,
	WISP_EXIT_CRASH = 82,		/* triple fault, KVM failure */
	WISP_EXIT_TIMEOUT = 83,
	WISP_EXIT_STOPPED = 84,		/* stopped from outside */
	WISP_EXIT_MIGRATED = 85,	/* moved to another wisp (migrate) */
};

struct wisp_err {
	int status;		/* enum wisp_status, 0 while no error */
	char msg[512];
};

/*
 * Record the first error: formats the message, stores @status and returns
 * -@errnum (so callers write "return err_set(...)").  A later call does not
 * overwrite an earlier message: the first cause is the one worth printing.
 */
int err_set(struct wisp_err *err, int status, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Put "@prefix: " in front of the recorded message (e.g. a file name). */
void err_prefix(struct wisp_err *err, const char *prefix);

#endif
