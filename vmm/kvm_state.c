// SPDX-License-Identifier: Apache-2.0
/* KVM's own VM and vCPU state (contracts in kvm_state.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <libfdt.h>

#include "kvm_state.h"

/* ---- general registers, by name ----------------------------------------- */

#define REG(name) { #name, offsetof(struct kvm_regs, name) }
static const struct {
	const char *name;
	size_t offset;
} general_regs[] = {
	REG(rax), REG(rbx), REG(rcx), REG(rdx), REG(rsi), REG(rdi),
	REG(rsp), REG(rbp), REG(r8), REG(r9), REG(r10), REG(r11), REG(r12),
	REG(r13), REG(r14), REG(r15), REG(rip), REG(rflags),
};
#undef REG

#define SEG(name) { #name, offsetof(struct kvm_sregs, name) }
static const struct {
	const char *name;
	size_t offset;
} segment_regs[] = {
	SEG(cs), SEG(ds), SEG(es), SEG(fs), SEG(gs), SEG(ss), SEG(tr),
	SEG(ldt),
};
#undef SEG

/* A segment's attributes packed as VMX access rights. */
static uint32_t segment_flags(const struct kvm_segment *s)
{
	return (s->type & 0xf) | (s->s & 1) << 4 | (s->dpl & 3) << 5 |
	       (s->present & 1) << 7 | (s->avl & 1) << 12 | (s->l & 1) << 13 |
	       (s->db & 1) << 14 | (s->g & 1) << 15 | (s->unusable & 1) << 16;
}

static void segment_unpack(struct kvm_segment *s, uint32_t f)
{
	s->type = f & 0xf;
	s->s = f >> 4 & 1;
	s->dpl = f >> 5 & 3;
	s->present = f >> 7 & 1;
	s->avl = f >> 12 & 1;
	s->l = f >> 13 & 1;
	s->db = f >> 14 & 1;
	s->g = f >> 15 & 1;
	s->unusable = f >> 16 & 1;
}

#define SEGMENT_FLAGS_MASK	0x1f0ffU

/* ---- KVM -------------------------------------------------------------- */

static int get_msrs(int dev_fd, int fd, struct cpu_state *st)
{
	struct kvm_msr_list *list;
	struct kvm_msrs *msrs;
	uint32_t i, n;
	int ret = 0;

	list = calloc(1, sizeof(*list) + CPU_STATE_MAX_MSRS * sizeof(uint32_t));
	msrs = calloc(1, sizeof(*msrs) +
			 CPU_STATE_MAX_MSRS * sizeof(struct kvm_msr_entry));
	if (!list || !msrs) {
		ret = -ENOMEM;
		goto out;
	}
	list->nmsrs = CPU_STATE_MAX_MSRS;
	if (ioctl(dev_fd, KVM_GET_MSR_INDEX_LIST, list)) {
		ret = -errno;
		goto out;
	}
	/*
	 * KVM_GET_MSRS stops at the first MSR it cannot read: keep what it
	 * read, skip that one and go on with the rest.
	 */
	st->n_msrs = 0;
	for (i = 0; i < list->nmsrs;) {
		uint32_t want = list->nmsrs - i;
		int got;

		msrs->nmsrs = want;
		for (n = 0; n < want; n++)
			msrs->entries[n] = (struct kvm_msr_entry){
				.index = list->indices[i + n] };
		got = ioctl(fd, KVM_GET_MSRS, msrs);
		if (got < 0) {
			ret = -errno;
			goto out;
		}
		memcpy(&st->msrs[st->n_msrs], msrs->entries,
		       got * sizeof(msrs->entries[0]));
		st->n_msrs += got;
		i += got + 1;	/* past the one KVM refused */
	}
out:
	free(list);
	free(msrs);
	return ret;
}

int cpu_state_get(int dev_fd, int fd, unsigned int index,
		  const struct kvm_cpuid2 *cpuid, struct cpu_state *st,
		  struct wisp_err *err)
{
	const char *what;
	int size, ret;

	memset(st, 0, sizeof(*st));
	size = ioctl(dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (size < (int)sizeof(struct kvm_xsave))
		size = sizeof(struct kvm_xsave);
	if (size > CPU_STATE_XSAVE_MAX)
		return err_set(err, WISP_EXIT_UNAVAILABLE, E2BIG,
			       "vCPU %u: an XSAVE area of %d bytes", index,
			       size);
	st->xsave_size = size;

	/* MP state first: reading it lets KVM take a pending INIT/SIPI. */
#define GET(req, arg)							\
	do {								\
		what = #req;						\
		if (ioctl(fd, req, arg))				\
			goto fail;					\
	} while (0)
	GET(KVM_GET_MP_STATE, &st->mp);
	GET(KVM_GET_REGS, &st->regs);
	GET(KVM_GET_SREGS, &st->sregs);
	if (size > (int)sizeof(struct kvm_xsave))
		GET(KVM_GET_XSAVE2, st->xsave);
	else
		GET(KVM_GET_XSAVE, st->xsave);
	GET(KVM_GET_XCRS, &st->xcrs);
	GET(KVM_GET_LAPIC, &st->lapic);
	GET(KVM_GET_VCPU_EVENTS, &st->events);
	GET(KVM_GET_DEBUGREGS, &st->debugregs);
#undef GET
	ret = ioctl(fd, KVM_GET_TSC_KHZ, 0);
	if (ret <= 0) {
		what = "KVM_GET_TSC_KHZ";
		goto fail;
	}
	st->tsc_khz = ret;
	ret = get_msrs(dev_fd, fd, st);
	if (ret)
		return err_set(err, WISP_EXIT_OSERR, -ret,
			       "vCPU %u: reading MSRs: %s", index,
			       strerror(-ret));
	if (cpuid->nent > CPU_STATE_MAX_CPUID)
		return err_set(err, WISP_EXIT_SOFTWARE, E2BIG,
			       "vCPU %u: %u CPUID entries", index, cpuid->nent);
	st->n_cpuid = cpuid->nent;
	memcpy(st->cpuid, cpuid->entries, cpuid->nent * sizeof(st->cpuid[0]));
	return 0;
fail:
	return err_set(err, WISP_EXIT_OSERR, errno, "vCPU %u: %s: %s", index,
		       what, strerror(errno));
}

static int set_msrs(int fd, unsigned int index, const struct cpu_state *st,
		    struct wisp_err *err)
{
	struct kvm_msrs *msrs;
	int ret;

	msrs = calloc(1, sizeof(*msrs) +
			 st->n_msrs * sizeof(struct kvm_msr_entry));
	if (!msrs)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	msrs->nmsrs = st->n_msrs;
	memcpy(msrs->entries, st->msrs, st->n_msrs * sizeof(st->msrs[0]));
	ret = ioctl(fd, KVM_SET_MSRS, msrs);
	free(msrs);
	if (ret < 0)
		return err_set(err, WISP_EXIT_OSERR, errno,
			       "vCPU %u: KVM_SET_MSRS: %s", index,
			       strerror(errno));
	if ((uint32_t)ret < st->n_msrs)
		return err_set(err, WISP_EXIT_UNAVAILABLE, ENOTSUP,
			       "vCPU %u: this host's KVM refuses MSR 0x%x = 0x%llx",
			       index, st->msrs[ret].index,
			       (unsigned long long)st->msrs[ret].data);
	return 0;
}

#define MSR_IA32_TSC_DEADLINE	0x6e0

static int set_tsc_deadline(int fd, unsigned int index,
			    const struct cpu_state *st, struct wisp_err *err)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entry;
	} m = { .hdr.nmsrs = 1 };
	uint32_t i;

	for (i = 0; i < st->n_msrs; i++)
		if (st->msrs[i].index == MSR_IA32_TSC_DEADLINE)
			break;
	if (i == st->n_msrs)
		return 0;
	m.entry = st->msrs[i];
	if (ioctl(fd, KVM_SET_MSRS, &m) != 1)
		return err_set(err, WISP_EXIT_UNAVAILABLE, errno ? errno : ENOTSUP,
			       "vCPU %u: KVM refuses the TSC deadline MSR",
			       index);
	return 0;
}

int cpu_state_put(int fd, unsigned int index, const struct cpu_state *st,
		  struct wisp_err *err)
{
	struct kvm_cpuid2 *c;
	const char *what;
	int ret;

	c = malloc(sizeof(*c) + st->n_cpuid * sizeof(st->cpuid[0]));
	if (!c)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	c->nent = st->n_cpuid;
	c->padding = 0;
	memcpy(c->entries, st->cpuid, st->n_cpuid * sizeof(st->cpuid[0]));
	ret = ioctl(fd, KVM_SET_CPUID2, c);
	free(c);
	if (ret)
		return err_set(err, WISP_EXIT_UNAVAILABLE, errno,
			       "vCPU %u: KVM_SET_CPUID2: %s", index,
			       strerror(errno));
	ret = ioctl(fd, KVM_GET_TSC_KHZ, 0);
	if (ret > 0 && (uint32_t)ret != st->tsc_khz &&
	    ioctl(fd, KVM_SET_TSC_KHZ, (unsigned long)st->tsc_khz))
		return err_set(err, WISP_EXIT_UNAVAILABLE, errno,
			       "vCPU %u: the snapshot's TSC runs at %u kHz, this host's at %d kHz, and KVM cannot scale it: %s",
			       index, st->tsc_khz, ret, strerror(errno));

#define PUT(req, arg)							\
	do {								\
		what = #req;						\
		if (ioctl(fd, req, arg))				\
			goto fail;					\
	} while (0)
	PUT(KVM_SET_REGS, &st->regs);
	PUT(KVM_SET_XSAVE, st->xsave);
	PUT(KVM_SET_XCRS, &st->xcrs);
	PUT(KVM_SET_SREGS, &st->sregs);
	ret = set_msrs(fd, index, st, err);
	if (ret)
		return ret;
	PUT(KVM_SET_MP_STATE, &st->mp);
	PUT(KVM_SET_LAPIC, &st->lapic);
	/*
	 * KVM drops a TSC deadline written while the LAPIC timer is not in
	 * TSC-deadline mode, as a fresh LAPIC's is: again, after the LAPIC.
	 */
	ret = set_tsc_deadline(fd, index, st, err);
	if (ret)
		return ret;
	PUT(KVM_SET_VCPU_EVENTS, &st->events);
	PUT(KVM_SET_DEBUGREGS, &st->debugregs);
#undef PUT
	return 0;
fail:
	return err_set(err, errno == EINVAL ? WISP_EXIT_DATAERR :
		       WISP_EXIT_OSERR, errno, "vCPU %u: %s: %s", index, what,
		       strerror(errno));
}

/* ---- the tree ---------------------------------------------------------- */

static void put_u32_array(struct state_writer *w, const char *name,
			  const uint32_t *v, uint32_t n)
{
	fdt32_t *cells = malloc((n ? n : 1) * sizeof(*cells));
	uint32_t i;

	if (!cells) {
		w->err = w->err ? w->err : -ENOMEM;
		return;
	}
	for (i = 0; i < n; i++)
		cells[i] = cpu_to_fdt32(v[i]);
	state_put_bytes(w, name, cells, n * sizeof(*cells));
	free(cells);
}

void cpu_state_save(struct state_writer *w, const struct cpu_state *st)
{
	uint32_t idx[CPU_STATE_MAX_MSRS];
	uint32_t val[2 * CPU_STATE_MAX_MSRS];
	unsigned int i;

	state_put_u32(w, "mp-state", st->mp.mp_state);
	state_put_u32(w, "tsc-khz", st->tsc_khz);
	state_put_bytes(w, "xsave", st->xsave, st->xsave_size);
	state_put_bytes(w, "xcrs", &st->xcrs, sizeof(st->xcrs));
	state_put_bytes(w, "lapic", &st->lapic, sizeof(st->lapic));
	state_put_bytes(w, "events", &st->events, sizeof(st->events));
	state_put_bytes(w, "debugregs", &st->debugregs,
			sizeof(st->debugregs));
	state_put_bytes(w, "cpuid", st->cpuid,
			st->n_cpuid * sizeof(st->cpuid[0]));

	state_begin(w, "regs");
	for (i = 0; i < sizeof(general_regs) / sizeof(general_regs[0]); i++)
		state_put_u64(w, general_regs[i].name,
			      *(const uint64_t *)((const char *)&st->regs +
						  general_regs[i].offset));
	state_end(w);

	state_begin(w, "sregs");
	state_put_u64(w, "cr0", st->sregs.cr0);
	state_put_u64(w, "cr2", st->sregs.cr2);
	state_put_u64(w, "cr3", st->sregs.cr3);
	state_put_u64(w, "cr4", st->sregs.cr4);
	state_put_u64(w, "cr8", st->sregs.cr8);
	state_put_u64(w, "efer", st->sregs.efer);
	state_put_u64(w, "apic-base", st->sregs.apic_base);
	state_put_u64(w, "gdt-base", st->sregs.gdt.base);
	state_put_u32(w, "gdt-limit", st->sregs.gdt.limit);
	state_put_u64(w, "idt-base", st->sregs.idt.base);
	state_put_u32(w, "idt-limit", st->sregs.idt.limit);
	state_put_bytes(w, "interrupt-bitmap", st->sregs.interrupt_bitmap,
			sizeof(st->sregs.interrupt_bitmap));
	for (i = 0; i < sizeof(segment_regs) / sizeof(segment_regs[0]); i++) {
		const struct kvm_segment *s = (const void *)
			((const char *)&st->sregs + segment_regs[i].offset);

		state_begin(w, segment_regs[i].name);
		state_put_u64(w, "base", s->base);
		state_put_u32(w, "limit", s->limit);
		state_put_u32(w, "selector", s->selector);
		state_put_u32(w, "flags", segment_flags(s));
		state_end(w);
	}
	state_end(w);


	state_begin(w, "msrs");
	for (i = 0; i < st->n_msrs; i++) {
		idx[i] = st->msrs[i].index;
		val[2 * i] = st->msrs[i].data >> 32;
		val[2 * i + 1] = (uint32_t)st->msrs[i].data;
	}
	put_u32_array(w, "index", idx, st->n_msrs);
	put_u32_array(w, "value", val, 2 * st->n_msrs);
	state_end(w);

}

void cpu_state_load(struct state_reader *r, int node, struct cpu_state *st)
{
	const uint8_t *idx, *val, *blob;
	size_t n_idx, n_val, len;
	int sregs, regs, msrs;
	unsigned int i;

	memset(st, 0, sizeof(*st));
	st->mp.mp_state = state_get_u32_max(r, node, "mp-state",
					    KVM_MP_STATE_AP_RESET_HOLD);
	st->tsc_khz = state_get_u32(r, node, "tsc-khz");
	if (!r->failed && !st->tsc_khz)
		state_fail(r, node, "tsc-khz is 0");

	regs = state_node(r, node, "regs");
	for (i = 0; i < sizeof(general_regs) / sizeof(general_regs[0]); i++)
		*(uint64_t *)((char *)&st->regs + general_regs[i].offset) =
			state_get_u64(r, regs, general_regs[i].name);

	sregs = state_node(r, node, "sregs");
	st->sregs.cr0 = state_get_u64(r, sregs, "cr0");
	st->sregs.cr2 = state_get_u64(r, sregs, "cr2");
	st->sregs.cr3 = state_get_u64(r, sregs, "cr3");
	st->sregs.cr4 = state_get_u64(r, sregs, "cr4");
	st->sregs.cr8 = state_get_u64(r, sregs, "cr8");
	st->sregs.efer = state_get_u64(r, sregs, "efer");
	st->sregs.apic_base = state_get_u64(r, sregs, "apic-base");
	st->sregs.gdt.base = state_get_u64(r, sregs, "gdt-base");
	st->sregs.gdt.limit = state_get_u32_max(r, sregs, "gdt-limit", 0xffff);
	st->sregs.idt.base = state_get_u64(r, sregs, "idt-base");
	st->sregs.idt.limit = state_get_u32_max(r, sregs, "idt-limit", 0xffff);
	state_get_bytes(r, sregs, "interrupt-bitmap",
			st->sregs.interrupt_bitmap,
			sizeof(st->sregs.interrupt_bitmap));
	for (i = 0; i < sizeof(segment_regs) / sizeof(segment_regs[0]); i++) {
		struct kvm_segment *s = (void *)((char *)&st->sregs +
						 segment_regs[i].offset);
		int seg = state_node(r, sregs, segment_regs[i].name);
		uint32_t flags;

		s->base = state_get_u64(r, seg, "base");
		s->limit = state_get_u32(r, seg, "limit");
		s->selector = state_get_u32_max(r, seg, "selector", 0xffff);
		flags = state_get_u32(r, seg, "flags");
		if (flags & ~SEGMENT_FLAGS_MASK)
			state_fail(r, seg, "flags 0x%x has unknown bits",
				   flags);
		segment_unpack(s, flags);
	}

	blob = state_get_blob(r, node, "xsave", &len);
	if (blob && (len < sizeof(struct kvm_xsave) ||
		     len > CPU_STATE_XSAVE_MAX || len % 64))
		state_fail(r, node, "xsave: %zu bytes", len);
	else if (blob) {
		memcpy(st->xsave, blob, len);
		st->xsave_size = len;
	}
	state_get_bytes(r, node, "xcrs", &st->xcrs, sizeof(st->xcrs));
	if (st->xcrs.nr_xcrs > KVM_MAX_XCRS)
		state_fail(r, node, "xcrs: %u registers", st->xcrs.nr_xcrs);
	state_get_bytes(r, node, "lapic", &st->lapic, sizeof(st->lapic));
	state_get_bytes(r, node, "events", &st->events, sizeof(st->events));
	state_get_bytes(r, node, "debugregs", &st->debugregs,
			sizeof(st->debugregs));

	msrs = state_node(r, node, "msrs");
	idx = state_get_blob(r, msrs, "index", &n_idx);
	val = state_get_blob(r, msrs, "value", &n_val);
	if (!r->failed && (n_idx % 4 || n_idx / 4 > CPU_STATE_MAX_MSRS ||
			   n_val != 2 * n_idx))
		state_fail(r, msrs, "%zu index bytes, %zu value bytes", n_idx,
			   n_val);
	if (!r->failed) {
		st->n_msrs = n_idx / 4;
		for (i = 0; i < st->n_msrs; i++) {
			st->msrs[i].index = fdt32_ld((const fdt32_t *)idx + i);
			st->msrs[i].data =
				(uint64_t)fdt32_ld((const fdt32_t *)val + 2 * i)
				<< 32 |
				fdt32_ld((const fdt32_t *)val + 2 * i + 1);
		}
	}

	blob = state_get_blob(r, node, "cpuid", &len);
	if (blob && (!len || len % sizeof(st->cpuid[0]) ||
		     len / sizeof(st->cpuid[0]) > CPU_STATE_MAX_CPUID))
		state_fail(r, node, "cpuid: %zu bytes", len);
	else if (blob) {
		st->n_cpuid = len / sizeof(st->cpuid[0]);
		memcpy(st->cpuid, blob, len);
	}
}

/* ---- CPU features ------------------------------------------------------ */

static const struct kvm_cpuid_entry2 *
find_leaf(const struct kvm_cpuid_entry2 *e, unsigned int n, uint32_t function,
	  uint32_t index)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (e[i].function == function &&
		    (!(e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e[i].index == index))
			return &e[i];
	return NULL;
}

int cpu_state_check_cpuid(const struct cpu_state *st,
			  const struct kvm_cpuid2 *host, unsigned int index,
			  struct wisp_err *err)
{
	/* The leaves whose registers are feature flags. */
	/*
	 * @dynamic: bits KVM sets from the guest's own state at run time
	 * (OSXSAVE, OSPKE from CR4), not features of the host.
	 */
	static const struct {
		uint32_t function, index;
		uint8_t reg;	/* 0 eax, 1 ebx, 2 ecx, 3 edx */
		uint32_t dynamic;
	} flags[] = {
		{ 1, 0, 2, 1u << 27 }, { 1, 0, 3, 0 }, { 7, 0, 1, 0 },
		{ 7, 0, 2, 1u << 4 }, { 7, 0, 3, 0 }, { 7, 1, 0, 0 },
		{ 0xd, 1, 0, 0 }, { 0x80000001, 0, 2, 0 },
		{ 0x80000001, 0, 3, 0 }, { 0x80000008, 0, 1, 0 },
	};
	static const char *const reg_names[] = { "eax", "ebx", "ecx", "edx" };
	const struct kvm_cpuid_entry2 *saved, *here;
	unsigned int i;


	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		uint32_t want, have = 0;

		saved = find_leaf(st->cpuid, st->n_cpuid, flags[i].function,
				  flags[i].index);
		if (!saved)
			continue;
		here = find_leaf(host->entries, host->nent, flags[i].function,
				 flags[i].index);
		want = (&saved->eax)[flags[i].reg] & ~flags[i].dynamic;
		if (here)
			have = (&here->eax)[flags[i].reg];
		if (want & ~have) {
			unsigned int bit = __builtin_ctz(want & ~have);

			return err_set(err, WISP_EXIT_UNAVAILABLE, ENOTSUP,
				       "vCPU %u: this host lacks a CPU feature the guest uses: CPUID 0x%x.%u %s bit %u",
				       index, flags[i].function, flags[i].index,
				       reg_names[flags[i].reg], bit);
		}
	}
	/* Physical address width: the guest's must fit this host's. */
	saved = find_leaf(st->cpuid, st->n_cpuid, 0x80000008, 0);
	here = find_leaf(host->entries, host->nent, 0x80000008, 0);
	if (saved && (!here || (saved->eax & 0xff) > (here->eax & 0xff)))
		return err_set(err, WISP_EXIT_UNAVAILABLE, ENOTSUP,
			       "vCPU %u: the guest uses %u-bit physical addresses, this host %u",
			       index, saved->eax & 0xff,
			       here ? here->eax & 0xff : 0);
	return 0;
}

/* ---- the VM's in-kernel devices and clock ------------------------------ */

int vm_kvm_state_get(int vm_fd, struct vm_kvm_state *st,
		     struct wisp_err *err)
{
	struct kvm_irqchip chip;
	struct kvm_clock_data clock = { 0 };
	struct timespec ts;
	unsigned int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < 3; i++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = i;
		if (ioctl(vm_fd, KVM_GET_IRQCHIP, &chip))
			return err_set(err, WISP_EXIT_OSERR, errno,
				       "KVM_GET_IRQCHIP: %s", strerror(errno));
		if (i < 2)
			st->pic[i] = chip.chip.pic;
		else
			st->ioapic = chip.chip.ioapic;
	}
	if (ioctl(vm_fd, KVM_GET_PIT2, &st->pit))
		return err_set(err, WISP_EXIT_OSERR, errno, "KVM_GET_PIT2: %s",
			       strerror(errno));
	if (ioctl(vm_fd, KVM_GET_CLOCK, &clock))
		return err_set(err, WISP_EXIT_OSERR, errno, "KVM_GET_CLOCK: %s",
			       strerror(errno));
	clock_gettime(CLOCK_REALTIME, &ts);
	st->clock_ns = clock.clock;
	st->realtime_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	return 0;
}

int vm_kvm_state_put(int vm_fd, const struct vm_kvm_state *st,
		     struct wisp_err *err)
{
	struct kvm_irqchip chip;
	struct kvm_clock_data clock = { .clock = st->clock_ns };
	struct timespec ts;
	uint64_t now;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = i;
		if (i < 2)
			chip.chip.pic = st->pic[i];
		else
			chip.chip.ioapic = st->ioapic;
		if (ioctl(vm_fd, KVM_SET_IRQCHIP, &chip))
			return err_set(err, WISP_EXIT_DATAERR, errno,
				       "KVM_SET_IRQCHIP: %s", strerror(errno));
	}
	if (ioctl(vm_fd, KVM_SET_PIT2, &st->pit))
		return err_set(err, WISP_EXIT_DATAERR, errno,
			       "KVM_SET_PIT2: %s", strerror(errno));
	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (now > st->realtime_ns)
		clock.clock += now - st->realtime_ns;
	if (ioctl(vm_fd, KVM_SET_CLOCK, &clock))
		return err_set(err, WISP_EXIT_OSERR, errno,
			       "KVM_SET_CLOCK: %s", strerror(errno));
	return 0;
}

void vm_kvm_state_save(struct state_writer *w, const struct vm_kvm_state *st)
{
	state_put_bytes(w, "pic-master", &st->pic[0], sizeof(st->pic[0]));
	state_put_bytes(w, "pic-slave", &st->pic[1], sizeof(st->pic[1]));
	state_put_bytes(w, "ioapic", &st->ioapic, sizeof(st->ioapic));
	state_put_bytes(w, "pit", &st->pit, sizeof(st->pit));
	state_put_u64(w, "kvmclock-ns", st->clock_ns);
	state_put_u64(w, "realtime-ns", st->realtime_ns);
}

void vm_kvm_state_load(struct state_reader *r, int node,
		       struct vm_kvm_state *st)
{
	memset(st, 0, sizeof(*st));
	state_get_bytes(r, node, "pic-master", &st->pic[0], sizeof(st->pic[0]));
	state_get_bytes(r, node, "pic-slave", &st->pic[1], sizeof(st->pic[1]));
	state_get_bytes(r, node, "ioapic", &st->ioapic, sizeof(st->ioapic));
	state_get_bytes(r, node, "pit", &st->pit, sizeof(st->pit));
	st->clock_ns = state_get_u64(r, node, "kvmclock-ns");
	st->realtime_ns = state_get_u64(r, node, "realtime-ns");
}
