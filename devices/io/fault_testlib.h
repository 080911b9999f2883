/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fault-injecting block I/O engine for unit tests, behind the interface
 * of engine.h.  It runs requests on a real fd with plain syscalls, one at
 * a time, on the owner thread at io_engine_flush(), through the same
 * request state machine as the real engines (short transfers continued,
 * O_DIRECT bounced, WRITE_ZEROES fallbacks), and lets a test change what
 * the syscalls return.  Linked into every unit test binary, never into
 * wisp.  Single-threaded: the owner thread makes every call.
 */
#ifndef WISP_DEVICES_IO_FAULT_TESTLIB_H
#define WISP_DEVICES_IO_FAULT_TESTLIB_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

#define FAULT_MAX_RULES	8
#define FAULT_MAX_MODES	16

/*
 * One rule, applied to whole requests as they start (at flush).  A request
 * takes the first rule that matches its op and has uses left.  For the
 * request it applies to, the rule changes the syscalls ("steps") the
 * request makes, in this order:
 *   1. the first @short_steps reads/writes asking for more than
 *      @short_len bytes transfer only @short_len (the syscall is made, on
 *      fewer bytes);
 *   2. then, with @stall, one read/write returns 0 without a syscall;
 *   3. then @error_steps steps (any kind) return @error without a syscall.
 * Steps after that run normally.
 */
struct io_fault {
	unsigned int ops;	/* (1u << IO_OP_x) it matches; 0: every op */
	unsigned int skip;	/* matching requests to let pass first */
	unsigned int count;	/* requests it applies to; 0 means 1 */
	uint64_t short_len;	/* 0: no short transfers */
	unsigned int short_steps;	/* 0 means 1 when short_len is set */
	bool stall;
	int error;		/* -errno; 0: none */
	unsigned int error_steps;	/* 0 means 1 when error is set */
};

/* What happened, for assertions. */
struct fault_stats {
	unsigned int steps[4];		/* steps by io_step kind: readv,
					 * writev, dsync, fallocate,
					 * injected or not */
	unsigned int syscalls[4];	/* the ones really made */
	unsigned int shortened;		/* syscalls cut short */
	unsigned int stalled;		/* reads/writes that returned 0 */
	unsigned int failed;		/* steps that returned @error */
	unsigned int refused;		/* submits answered -EAGAIN */
	int modes[FAULT_MAX_MODES];	/* fallocate modes tried, in order */
	unsigned int nmodes;
};

/* Indices into fault_stats.steps and .syscalls. */
#define FAULT_READV	0
#define FAULT_WRITEV	1
#define FAULT_DSYNC	2
#define FAULT_FALLOCATE	3

/* Make a fault engine (@cfg->kind is ignored).  Returns 0 or -errno. */
int fault_engine_create(const struct io_engine_config *cfg,
			struct io_engine **out);

/* Add @f to the rules.  Returns 0, or -ENOSPC when FAULT_MAX_RULES are set. */
int fault_engine_inject(struct io_engine *e, const struct io_fault *f);

/* Answer the next @n io_engine_submit() calls with -EAGAIN (queue full). */
void fault_engine_refuse_submits(struct io_engine *e, unsigned int n);

/* Drop every rule and refusal; the stats are kept. */
void fault_engine_clear(struct io_engine *e);

/* The stats so far; zeroed by fault_engine_reset_stats(). */
const struct fault_stats *fault_engine_stats(struct io_engine *e);
void fault_engine_reset_stats(struct io_engine *e);

#endif
