/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-CPU data and AP bring-up.  CPU numbers are APIC IDs (wisp and QEMU
 * number vCPU i with APIC ID i); the limit is MAX_CPUS.
 */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include "desc.h"
#include "layout.h"
#include "x86.h"

struct tss {
	u32 reserved0;
	u64 rsp0, rsp1, rsp2;
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __attribute__((packed));

struct percpu {
	struct percpu *self;		/* PERCPU_SELF */
	u64 user_rsp;			/* PERCPU_USER_RSP: see traps.S */
	struct tss *tss;		/* PERCPU_TSS */
	int id;
	int online;			/* set by the AP once it runs C */
	int done;			/* set when the AP's function returned */
	struct ex_info ex;
	struct tss tss_store;
};

extern struct percpu percpus[MAX_CPUS];

/* This CPU's data, through the GS base (works at CPL0 and CPL3). */
static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	asm volatile("movq %%gs:0, %0" : "=r"(p));
	return p;
}

static inline int cpu_id(void)
{
	return this_cpu()->id;
}

/* Sets up the calling CPU: GS base, TSS, IDT.  Boot code only. */
void cpu_init(int id);

/*
 * Starts CPUs 1 .. @ncpus-1 one after the other with INIT-SIPI-SIPI
 * through the real-mode trampoline at TRAMPOLINE_ADDR.  Each AP enters
 * long mode on the BSP's page tables, on its own stack, enables its LAPIC
 * and calls @fn(id) with interrupts off, then halts.  Waits up to 10 s for
 * each AP to come online.  Returns the number of CPUs online, the BSP
 * included.  BSP only.
 */
int smp_start(int ncpus, void (*fn)(int cpu));

/* True once CPU @id has returned from the smp_start() function. */
bool cpu_done(int id);

/* AP entry from entry.S, on CPU @id's stack in long mode. */
void __noreturn ap_main(int id);

#endif
