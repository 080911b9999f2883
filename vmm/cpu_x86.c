// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "cpu_x86.h"

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define CPUID_1_ECX_HYPERVISOR	(1U << 31)
#define CPUID_1_EDX_HTT		(1U << 28)
#define CPUID_TOPO_SMT		1
#define CPUID_TOPO_CORE		2

#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MISC_ENABLE_FAST_STRING	1ULL
#define MTRR_ENABLE_WB		0x806ULL	/* E=1, default type WB */

#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_MODE_EXTINT	0x7
#define APIC_MODE_NMI		0x4

static unsigned int order_base_2(unsigned int n)
{
	unsigned int bits = 0;

	while ((1U << bits) < n)
		bits++;
	return bits;
}

/* CPUID leaves 0xB and 0x1F: one thread per core, @n_cpus cores. */
static void set_topology_leaf(struct kvm_cpuid_entry2 *e, unsigned int index,
			      unsigned int n_cpus)
{
	e->edx = index;
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (CPUID_TOPO_SMT << 8) | e->index;
		break;
	case 1:
		e->eax = order_base_2(n_cpus);
		e->ebx = n_cpus;
		e->ecx = (CPUID_TOPO_CORE << 8) | e->index;
		break;
	default:
		e->eax = e->ebx = 0;
		e->ecx = e->index;
		break;
	}
}

unsigned int cpu_phys_bits(const struct kvm_cpuid2 *supported)
{
	for (uint32_t i = 0; i < supported->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &supported->entries[i];
		unsigned int bits = e->eax & 0xff;
		unsigned int guest_bits = (e->eax >> 16) & 0xff;

		if (e->function != 0x80000008)
			continue;
		/* EAX[23:16], when set: what KVM can map (e.g. 4-level EPT). */
		if (guest_bits && guest_bits < bits)
			bits = guest_bits;
		if (bits > 52)
			bits = 52;		/* the architectural maximum */
		return bits > 36 ? bits : 36;
	}
	return 36;
}

void cpu_build_cpuid(const struct kvm_cpuid2 *supported, unsigned int index,
		     unsigned int n_cpus, struct kvm_cpuid2 *out)
{
	unsigned int i, cores_bits = order_base_2(n_cpus);

	out->nent = supported->nent;
	memcpy(out->entries, supported->entries,
	       supported->nent * sizeof(supported->entries[0]));
	for (i = 0; i < out->nent; i++) {
		struct kvm_cpuid_entry2 *e = &out->entries[i];

		switch (e->function) {
		case 1:
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			e->ebx = (e->ebx & 0xffff) | (index << 24) |
				 ((n_cpus > 255 ? 255 : n_cpus) << 16);
			if (n_cpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			else
				e->edx &= ~CPUID_1_EDX_HTT;
			break;
		case 4:
			/* Cores per package - 1, in bits 31:26. */
			e->eax = (e->eax & 0x03ffffff) |
				 (((1U << cores_bits) - 1) << 26);
			break;
		case 0xb:
		case 0x1f:
			set_topology_leaf(e, index, n_cpus);
			break;
		case 0x80000008:
			/* AMD: core count - 1 and APIC-ID core bits. */
			e->ecx = (e->ecx & ~0xf0ffU) | (cores_bits << 12) |
				 (n_cpus - 1);
			break;
		case 0x8000001e:
			e->eax = index;
			e->ebx = (e->ebx & ~0xffU) | index;
			break;
		}
	}
}

static int set_msrs(int vcpu_fd, int verbose)
{
	static const struct { uint32_t index; uint64_t value; } init[] = {
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE_WB },
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[2];
	} msrs = { .hdr.nmsrs = 2 };
	int i, ret;

	for (i = 0; i < 2; i++) {
		msrs.entries[i].index = init[i].index;
		msrs.entries[i].data = init[i].value;
	}
	ret = ioctl(vcpu_fd, KVM_SET_MSRS, &msrs);
	if (ret < 0)
		return -errno;
	/* Optional MSRs: a host without one still runs guests. */
	if (ret < 2 && verbose)
		fprintf(stderr, "wisp: KVM did not accept MSR 0x%x\n",
			init[ret].index);
	return 0;
}

static void set_lvt(uint8_t *regs, unsigned int reg, unsigned int mode)
{
	uint32_t v;

	memcpy(&v, regs + reg, sizeof(v));
	v = (v & ~0x700U) | (mode << 8);
	memcpy(regs + reg, &v, sizeof(v));
}

static int set_lapic_lint(int vcpu_fd)
{
	struct kvm_lapic_state lapic;

	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &lapic))
		return -errno;
	set_lvt((uint8_t *)lapic.regs, APIC_LVT0, APIC_MODE_EXTINT);
	set_lvt((uint8_t *)lapic.regs, APIC_LVT1, APIC_MODE_NMI);
	return ioctl(vcpu_fd, KVM_SET_LAPIC, &lapic) ? -errno : 0;
}

static int set_fpu(int vcpu_fd)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	return ioctl(vcpu_fd, KVM_SET_FPU, &fpu) ? -errno : 0;
}

int cpu_init(int vcpu_fd, const struct kvm_cpuid2 *supported,
	     unsigned int index, unsigned int n_cpus, int verbose,
	     struct wisp_err *err)
{
	struct kvm_cpuid2 *cpuid;
	int ret;

	cpuid = malloc(sizeof(*cpuid) +
		       supported->nent * sizeof(supported->entries[0]));
	if (!cpuid)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	cpu_build_cpuid(supported, index, n_cpus, cpuid);
	ret = ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) ? -errno : 0;
	free(cpuid);
	if (ret)
		return err_set(err, WISP_EXIT_UNAVAILABLE, -ret,
			       "vCPU %u: KVM_SET_CPUID2: %s", index, strerror(-ret));
	ret = set_msrs(vcpu_fd, verbose);
	if (ret)
		return err_set(err, WISP_EXIT_UNAVAILABLE, -ret,
			       "vCPU %u: KVM_SET_MSRS: %s", index, strerror(-ret));
	ret = set_lapic_lint(vcpu_fd);
	if (ret)
		return err_set(err, WISP_EXIT_UNAVAILABLE, -ret,
			       "vCPU %u: LAPIC setup: %s", index, strerror(-ret));
	ret = set_fpu(vcpu_fd);
	if (ret)
		return err_set(err, WISP_EXIT_UNAVAILABLE, -ret,
			       "vCPU %u: KVM_SET_FPU: %s", index, strerror(-ret));
	return 0;
}

static struct kvm_segment flat_segment(uint16_t selector, uint8_t type)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = 1,
		.s = 1,
		.g = 1,
	};
}

/*
 * Load @regs into @vcpu_fd with flat boot segments (64-bit code when
 * @long_mode) and @want's control registers, EFER and GDT.
 */
static int set_entry_state(int vcpu_fd, const struct kvm_regs *regs,
			   const struct kvm_sregs *want, bool long_mode,
			   struct wisp_err *err)
{
	struct kvm_sregs sregs;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs))
		goto fail;
	sregs.cs = flat_segment(CPU_BOOT_CS, 0xb);	/* code, execute/read, accessed */
	if (long_mode) {
		sregs.cs.l = 1;
		sregs.cs.db = 0;
	}
	sregs.ds = flat_segment(CPU_BOOT_DS, 0x3);	/* data, read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){
		.limit = 0x67, .selector = 0x20, .type = 0xb, .present = 1,
	};
	sregs.gdt = want->gdt;
	sregs.idt.base = sregs.idt.limit = 0;
	sregs.cr0 = want->cr0;
	sregs.cr3 = want->cr3;
	sregs.cr4 = want->cr4;
	sregs.efer = want->efer;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) ||
	    ioctl(vcpu_fd, KVM_SET_REGS, regs))
		goto fail;
	return 0;
fail:
	return err_set(err, WISP_EXIT_UNAVAILABLE, errno,
		       "cannot set the boot CPU's registers: %s", strerror(errno));
}

int cpu_set_pvh_entry(int vcpu_fd, uint64_t entry, uint64_t start_info,
		      struct wisp_err *err)
{
	const struct kvm_regs regs = {
		.rip = entry,
		.rbx = start_info,
		.rflags = 0x2,
	};
	const struct kvm_sregs want = {
		.cr0 = CR0_PE | CR0_ET,
	};

	return set_entry_state(vcpu_fd, &regs, &want, false, err);
}

int cpu_set_linux64_entry(int vcpu_fd, uint64_t entry, uint64_t boot_params,
			  uint64_t page_tables, uint64_t gdt,
			  uint16_t gdt_limit, struct wisp_err *err)
{
	const struct kvm_regs regs = {
		.rip = entry,
		.rsi = boot_params,
		.rflags = 0x2,
	};
	const struct kvm_sregs want = {
		.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG,
		.cr3 = page_tables,
		.cr4 = CR4_PAE,
		.efer = EFER_LME | EFER_LMA,
		.gdt = { .base = gdt, .limit = gdt_limit },
	};

	return set_entry_state(vcpu_fd, &regs, &want, true, err);
}

void cpu_dump_registers(int vcpu_fd)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu_fd, KVM_GET_REGS, &r) || ioctl(vcpu_fd, KVM_GET_SREGS, &s)) {
		fprintf(stderr, "wisp:   (registers unavailable: %s)\n",
			strerror(errno));
		return;
	}
	fprintf(stderr,
		"wisp:   rip=%016llx rsp=%016llx rflags=%08llx\n"
		"wisp:   rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		"wisp:   rsi=%016llx rdi=%016llx rbp=%016llx\n"
		"wisp:   cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx\n"
		"wisp:   cs=%04x (base %llx) ss=%04x cpl=%u\n",
		r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi,
		r.rdi, r.rbp, s.cr0, s.cr2, s.cr3, s.cr4, s.efer,
		s.cs.selector, s.cs.base, s.ss.selector, s.cs.dpl);
}
