/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One thread per vCPU, named vcpuN, optionally pinned to a host CPU before
 * its first KVM_RUN.  The thread only emulates registers (through
 * exit_dispatch) and never blocks on host I/O.
 *
 * With --exit-stats each thread times its own exit handling (see
 * exit_timing.h) and prints one line to stderr when it ends:
 *
 *   wisp: vcpu0 exits: io 200110 (median 850 ns, p90 1210 ns), mmio 200004 (median 930 ns, p90 1300 ns), other 12 (median 420 ns, p90 610 ns); clock read 21 ns
 */
#ifndef WISP_VCPU_H
#define WISP_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "exit.h"
#include "exit_timing.h"
#include "kvm.h"
#include "kvm_stats.h"

/* The signal that kicks a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL	SIGUSR1

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	int pin_cpu;		/* host CPU, or -1 */
	pthread_t thread;
	bool started;
	pid_t tid;		/* set by the thread itself */
	struct exit_stats stats;
	struct exit_env env;
	struct exit_timing *timing;	/* --exit-stats only, else NULL */
	struct kvm_stats kvm_stats;	/* KVM's own counters; fd -1: none */
	struct kvm_cpuid2 *cpuid;	/* the CPUID given to the guest, owned */
	struct kvm_dirty_gfn *dirty_ring;	/* mapped; NULL without */
	uint32_t dirty_next;		/* the next entry to harvest */
};

/*
 * Create vCPU @index in @vm's KVM VM and map its kvm_run.  Returns 0 or
 * -errno with @err set.  Construction thread.
 */
int vcpu_create(struct vcpu *vcpu, struct vm *vm, unsigned int index,
		struct wisp_err *err);

/* Start the vCPU's thread.  Returns 0 or -errno with @err set. */
int vcpu_start(struct vcpu *vcpu, struct wisp_err *err);

/*
 * Make the thread leave KVM_RUN soon and look at the VM's stop and pause
 * flags, which the caller set first (immediate_exit plus a signal).  Any
 * thread.
 */
void vcpu_kick(struct vcpu *vcpu);

/* Wait for a started thread to end. */
void vcpu_join(struct vcpu *vcpu);

/*
 * Move the pages vCPU @vcpu's dirty ring names into guest RAM's written
 * record (guest_mem_mark_written) and mark its entries for reset; the
 * caller then issues KVM_RESET_DIRTY_RINGS.  Under vm->dirty_lock.
 * Returns the entries harvested.
 */
unsigned int vcpu_harvest_dirty(struct vcpu *vcpu);

/* Unmap and close.  The thread must have ended. */
void vcpu_destroy(struct vcpu *vcpu);

#endif
