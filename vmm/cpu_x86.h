/* SPDX-License-Identifier: Apache-2.0 */
/*
 * x86 vCPU state at creation: CPUID (KVM's supported set plus the
 * hypervisor bit and an APIC-ID topology of one core per vCPU), MSRs, the
 * LAPIC's LINT pins and the FPU, and the PVH entry state of the BSP.
 */
#ifndef WISP_CPU_X86_H
#define WISP_CPU_X86_H

#include <stdint.h>
#include <linux/kvm.h>

#include "error.h"

/*
 * Fill @out (room for @supported->nent entries) with the CPUID table of
 * vCPU @index of @n_cpus.  Pure: unit-testable without KVM.
 */
void cpu_build_cpuid(const struct kvm_cpuid2 *supported, unsigned int index,
		     unsigned int n_cpus, struct kvm_cpuid2 *out);

/*
 * The guest-physical address width the vCPUs can use: CPUID 0x80000008
 * EAX[7:0], or EAX[23:16] (the guest width KVM can map) when that is set
 * and smaller; within [36, 52], 36 when @supported lacks the leaf.  Pure.
 */
unsigned int cpu_phys_bits(const struct kvm_cpuid2 *supported);

/*
 * Set up CPUID, MSRs, LAPIC LINT0/LINT1 and FPU of vCPU @index on
 * @vcpu_fd.  Returns 0 or -errno with @err set.  Construction thread.
 */
int cpu_init(int vcpu_fd, const struct kvm_cpuid2 *supported,
	     unsigned int index, unsigned int n_cpus, int verbose,
	     struct wisp_err *err);

/* Boot code and data selectors (the Linux boot protocol's __BOOT_CS/DS). */
#define CPU_BOOT_CS	0x10
#define CPU_BOOT_DS	0x18

/*
 * Put vCPU @vcpu_fd in the PVH entry state: 32-bit protected mode, paging
 * off, flat segments, EIP = @entry, EBX = @start_info.  Returns 0/-errno.
 */
int cpu_set_pvh_entry(int vcpu_fd, uint64_t entry, uint64_t start_info,
		      struct wisp_err *err);

/*
 * Put vCPU @vcpu_fd in the Linux 64-bit boot protocol's entry state: long
 * mode with paging through the identity tables at @page_tables, the GDT
 * at @gdt (@gdt_limit) holding CPU_BOOT_CS and CPU_BOOT_DS, interrupts
 * off, RIP = @entry, RSI = @boot_params.  Returns 0/-errno.
 */
int cpu_set_linux64_entry(int vcpu_fd, uint64_t entry, uint64_t boot_params,
			  uint64_t page_tables, uint64_t gdt,
			  uint16_t gdt_limit, struct wisp_err *err);

/* Print the registers of @vcpu_fd to stderr (for fatal exits). */
void cpu_dump_registers(int vcpu_fd);

#endif
