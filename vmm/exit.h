/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one exit-dispatch function: decides what a KVM_RUN exit means from
 * struct kvm_run alone.  Pure apart from the bus handlers it calls, so unit
 * tests drive it with made-up kvm_run contents.
 */
#ifndef WISP_EXIT_H
#define WISP_EXIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "bus.h"

#define EXIT_REASON_SLOTS	64	/* counted exit reasons (0..63) */

/* Per-vCPU exit counters; written by the owning vCPU thread only. */
struct exit_stats {
	uint64_t by_reason[EXIT_REASON_SLOTS];
	uint64_t unclaimed_pio;
	uint64_t unclaimed_mmio;
};

struct exit_env {
	struct bus *pio;
	struct bus *mmio;
	struct bus_reader *reader;	/* this vCPU's, for the buses' grace periods */
	struct exit_stats *stats;
	int verbose;		/* log unclaimed accesses when > 0 */
};

/* Why the vCPU must stop, when exit_dispatch() says so. */
struct exit_stop {
	int status;		/* exit status for the process */
	bool dump;		/* print registers: the guest or KVM failed */
	char why[160];		/* one line for the user */
};

/*
 * Handle one exit described by @run, whose mapping is @run_size bytes.
 * Returns 0 when the vCPU may re-enter the guest, 1 when it must stop
 * (then @stop says why).  Never trusts kernel-provided offsets beyond
 * @run_size.  Called on the vCPU thread that owns @run.
 */
int exit_dispatch(const struct exit_env *env, struct kvm_run *run,
		  size_t run_size, struct exit_stop *stop);

#endif
