/* SPDX-License-Identifier: Apache-2.0 */
/*
 * KVM's own state of an x86 VM, for snapshots and migration: each vCPU's
 * registers, special registers, XSAVE area, XCRs, LAPIC, MSRs, pending
 * events, debug registers, MP state, CPUID and TSC frequency; the VM's
 * in-kernel PICs, IOAPIC, PIT and kvmclock.  Getting and putting talk
 * to KVM; saving and loading talk to the state tree (devices/state.h),
 * and a load checks every size and count before anything reaches KVM.
 */
#ifndef WISP_KVM_STATE_H
#define WISP_KVM_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "../devices/state.h"
#include "error.h"

#define CPU_STATE_MAX_MSRS	256
#define CPU_STATE_MAX_CPUID	128
#define CPU_STATE_XSAVE_MAX	16384

struct cpu_state {
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint32_t xsave_size;		/* bytes used in @xsave */
	uint8_t xsave[CPU_STATE_XSAVE_MAX] __attribute__((aligned(64)));
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	uint32_t tsc_khz;
	uint32_t n_msrs;
	struct kvm_msr_entry msrs[CPU_STATE_MAX_MSRS];
	uint32_t n_cpuid;
	struct kvm_cpuid_entry2 cpuid[CPU_STATE_MAX_CPUID];
};

/*
 * Read vCPU @fd's whole state (its thread must be out of KVM_RUN): MP
 * state first, since reading it lets KVM take pending INIT/SIPI.  The
 * MSRs are those of KVM_GET_MSR_INDEX_LIST (@dev_fd) that KVM reads
 * back; the CPUID is @cpuid, the table wisp gave the vCPU.  Returns 0 or
 * -errno with @err set.
 */
int cpu_state_get(int dev_fd, int fd, unsigned int index,
		  const struct kvm_cpuid2 *cpuid, struct cpu_state *st,
		  struct wisp_err *err);

/*
 * Load @st into vCPU @fd, created but never run, in the order KVM needs
 * (CPUID and TSC frequency; registers, XSAVE, XCRs, special registers,
 * MSRs, MP state, LAPIC, events, debug registers).  An MSR or TSC
 * frequency this host refuses is an error naming it.
 */
int cpu_state_put(int fd, unsigned int index, const struct cpu_state *st,
		  struct wisp_err *err);

/* Write @st into the current node of @w. */
void cpu_state_save(struct state_writer *w, const struct cpu_state *st);

/* Read @node into @st, checking sizes and counts (errors in @r). */
void cpu_state_load(struct state_reader *r, int node, struct cpu_state *st);

/*
 * Does this host offer every CPU feature the snapshot's guest saw?
 * @host: the CPUID wisp would give this vCPU here (cpu_build_cpuid).
 * Returns 0, or -ENOTSUP with @err naming the first missing feature.
 */
int cpu_state_check_cpuid(const struct cpu_state *st,
			  const struct kvm_cpuid2 *host, unsigned int index,
			  struct wisp_err *err);

struct vm_kvm_state {
	struct kvm_pic_state pic[2];	/* master, slave */
	struct kvm_ioapic_state ioapic;
	struct kvm_pit_state2 pit;
	uint64_t clock_ns;		/* kvmclock at the save */
	uint64_t realtime_ns;		/* CLOCK_REALTIME at the save */
};

/* Read the in-kernel irqchip, PIT and clock of VM @vm_fd. */
int vm_kvm_state_get(int vm_fd, struct vm_kvm_state *st,
		     struct wisp_err *err);

/*
 * Load @st into VM @vm_fd; the clock steps forward by the real time
 * passed since the save (never back).
 */
int vm_kvm_state_put(int vm_fd, const struct vm_kvm_state *st,
		     struct wisp_err *err);

void vm_kvm_state_save(struct state_writer *w, const struct vm_kvm_state *st);
void vm_kvm_state_load(struct state_reader *r, int node,
		       struct vm_kvm_state *st);

#endif
