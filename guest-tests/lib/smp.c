// SPDX-License-Identifier: Apache-2.0
#include <stddef.h>

#include "apic.h"
#include "libc.h"
#include "printf.h"
#include "smp.h"
#include "tsc.h"

#define AP_START_TIMEOUT_US	10000000

_Static_assert(offsetof(struct percpu, self) == PERCPU_SELF, "percpu");
_Static_assert(offsetof(struct percpu, user_rsp) == PERCPU_USER_RSP, "percpu");
_Static_assert(offsetof(struct percpu, tss) == PERCPU_TSS, "percpu");
_Static_assert(sizeof(struct tss) == 104, "tss");

struct percpu percpus[MAX_CPUS];
/* Kernel stacks, picked by LAPIC ID in entry.S. */
char kstacks[MAX_CPUS][KSTACK_SIZE] __aligned(4096);

extern u64 gdt[GDT_ENTRIES];
extern const char trampoline_start[], trampoline_end[];

static void (*ap_fn)(int cpu);

static void gdt_set_tss(int id, struct tss *tss)
{
	u64 base = (u64)tss;
	u64 limit = sizeof(*tss) - 1;
	int i = GDT_TSS_INDEX + 2 * id;

	gdt[i] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		 (0x89ULL << 40) | (((limit >> 16) & 0xf) << 48) |
		 (((base >> 24) & 0xff) << 56);
	gdt[i + 1] = base >> 32;
}

void cpu_init(int id)
{
	struct percpu *pc = &percpus[id];
	u16 sel = (GDT_TSS_INDEX + 2 * id) * 8;

	pc->self = pc;
	pc->id = id;
	pc->tss = &pc->tss_store;
	pc->tss->iomap_base = sizeof(struct tss);	/* no I/O bitmap */
	pc->ex.vector = EX_NONE;
	wrmsr(MSR_GS_BASE, (u64)pc);
	gdt_set_tss(id, pc->tss);
	asm volatile("ltr %0" : : "r"(sel));
	idt_load();
}

void ap_main(int id)
{
	void (*fn)(int);

	cpu_init(id);
	lapic_enable();
	fn = __atomic_load_n(&ap_fn, __ATOMIC_ACQUIRE);
	__atomic_store_n(&percpus[id].online, 1, __ATOMIC_RELEASE);
	if (fn)
		fn(id);
	__atomic_store_n(&percpus[id].done, 1, __ATOMIC_RELEASE);
	for (;;)
		asm volatile("cli; hlt");
}

bool cpu_done(int id)
{
	return __atomic_load_n(&percpus[id].done, __ATOMIC_ACQUIRE);
}

static bool wait_online(int id)
{
	u64 deadline = tsc_deadline_us(AP_START_TIMEOUT_US);

	while (!__atomic_load_n(&percpus[id].online, __ATOMIC_ACQUIRE)) {
		if (tsc_expired(deadline))
			return false;
		cpu_relax();
	}
	return true;
}

int smp_start(int ncpus, void (*fn)(int cpu))
{
	size_t len = trampoline_end - trampoline_start;
	int online = 1;

	if (ncpus > MAX_CPUS)
		ncpus = MAX_CPUS;
	memcpy(phys_ptr(TRAMPOLINE_ADDR), trampoline_start, len);
	__atomic_store_n(&ap_fn, fn, __ATOMIC_RELEASE);
	tsc_khz();		/* calibrate before anyone relies on it */
	lapic_enable();
	for (int id = 1; id < ncpus; id++) {
		if (lapic_start_ap(id, TRAMPOLINE_ADDR >> 12) < 0) {
			printf("smp: IPIs to CPU %d not delivered\n", id);
			continue;
		}
		if (!wait_online(id)) {
			printf("smp: CPU %d did not come online\n", id);
			continue;
		}
		online++;
	}
	return online;
}
