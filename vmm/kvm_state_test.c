// SPDX-License-Identifier: Apache-2.0
/*
 * KVM's vCPU and VM state in the state tree: save/load round trips of
 * pseudo-random state, every size and range check of a load, and the
 * CPUID feature check of a restore.  Pure: no /dev/kvm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "kvm_state.h"

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static void rand_fill(uint64_t *seed, void *p, size_t len)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(rng_next(seed) >> 24);
}

static void rand_segment(uint64_t *seed, struct kvm_segment *s)
{
	uint64_t x = rng_next(seed);

	s->base = rng_next(seed);
	s->limit = (uint32_t)rng_next(seed);
	s->selector = (uint16_t)x;
	/* Only what the packed flags hold; padding stays 0 (not saved). */
	s->type = x >> 16 & 0xf;
	s->s = x >> 20 & 1;
	s->dpl = x >> 21 & 3;
	s->present = x >> 23 & 1;
	s->avl = x >> 24 & 1;
	s->l = x >> 25 & 1;
	s->db = x >> 26 & 1;
	s->g = x >> 27 & 1;
	s->unusable = x >> 28 & 1;
}

/*
 * Pseudo-random state in every field that is saved.  Not saved, left 0:
 * kvm_segment.padding, kvm_dtable.padding, kvm_msr_entry.reserved, the
 * XSAVE area past xsave_size, the MSRs past n_msrs, the CPUID entries
 * past n_cpuid (and the compiler's padding inside struct cpu_state).
 */
static struct cpu_state *random_cpu(uint64_t seed, uint32_t xsave_size,
				    uint32_t n_msrs, uint32_t n_cpuid)
{
	struct cpu_state *st = calloc(1, sizeof(*st));
	struct kvm_segment *segs[8];
	uint64_t *regs;
	unsigned int i;

	assert_non_null(st);
	st->mp.mp_state = rng_next(&seed) % (KVM_MP_STATE_AP_RESET_HOLD + 1);
	regs = (uint64_t *)&st->regs;
	for (i = 0; i < sizeof(st->regs) / 8; i++)
		regs[i] = rng_next(&seed);

	st->sregs.cr0 = rng_next(&seed);
	st->sregs.cr2 = rng_next(&seed);
	st->sregs.cr3 = rng_next(&seed);
	st->sregs.cr4 = rng_next(&seed);
	st->sregs.cr8 = rng_next(&seed);
	st->sregs.efer = rng_next(&seed);
	st->sregs.apic_base = rng_next(&seed);
	st->sregs.gdt.base = rng_next(&seed);
	st->sregs.gdt.limit = (uint16_t)rng_next(&seed);
	st->sregs.idt.base = rng_next(&seed);
	st->sregs.idt.limit = (uint16_t)rng_next(&seed);
	rand_fill(&seed, st->sregs.interrupt_bitmap,
		  sizeof(st->sregs.interrupt_bitmap));
	segs[0] = &st->sregs.cs;
	segs[1] = &st->sregs.ds;
	segs[2] = &st->sregs.es;
	segs[3] = &st->sregs.fs;
	segs[4] = &st->sregs.gs;
	segs[5] = &st->sregs.ss;
	segs[6] = &st->sregs.tr;
	segs[7] = &st->sregs.ldt;
	for (i = 0; i < 8; i++)
		rand_segment(&seed, segs[i]);

	st->xsave_size = xsave_size;
	rand_fill(&seed, st->xsave, xsave_size);
	rand_fill(&seed, &st->xcrs, sizeof(st->xcrs));
	st->xcrs.nr_xcrs = rng_next(&seed) % (KVM_MAX_XCRS + 1);
	rand_fill(&seed, &st->lapic, sizeof(st->lapic));
	rand_fill(&seed, &st->events, sizeof(st->events));
	rand_fill(&seed, &st->debugregs, sizeof(st->debugregs));
	st->tsc_khz = (uint32_t)rng_next(&seed) | 1;
	st->n_msrs = n_msrs;
	for (i = 0; i < n_msrs; i++) {
		st->msrs[i].index = (uint32_t)rng_next(&seed);
		st->msrs[i].data = rng_next(&seed);
	}
	st->n_cpuid = n_cpuid;
	rand_fill(&seed, st->cpuid, n_cpuid * sizeof(st->cpuid[0]));
	return st;
}

/* A tree whose /vcpu holds @st (malloc'd, exact size). */
static void *save_cpu(const struct cpu_state *st, size_t *len)
{
	struct state_writer w;
	void *blob;

	assert_int_equal(state_writer_init(&w), 0);
	state_put_u32(&w, "version", 1);
	state_begin(&w, "vcpu");
	cpu_state_save(&w, st);
	state_end(&w);
	assert_int_equal(state_writer_finish(&w), 0);
	*len = fdt_totalsize(w.fdt);
	blob = malloc(*len);
	assert_non_null(blob);
	memcpy(blob, w.fdt, *len);
	state_writer_free(&w);
	return blob;
}

/* Load /vcpu of @tree into @st; returns whether it failed. */
static bool load_cpu(const void *tree, size_t len, struct cpu_state *st,
		     struct state_reader *r)
{
	assert_int_equal(state_reader_init(r, tree, len), 0);
	cpu_state_load(r, state_node(r, STATE_ROOT, "vcpu"), st);
	return r->failed;
}

static void expect_equal(const struct cpu_state *a, const struct cpu_state *b)
{
	assert_memory_equal(&a->mp, &b->mp, sizeof(a->mp));
	assert_memory_equal(&a->regs, &b->regs, sizeof(a->regs));
	assert_memory_equal(&a->sregs.cs, &b->sregs.cs, sizeof(a->sregs.cs));
	assert_memory_equal(&a->sregs.ldt, &b->sregs.ldt, sizeof(a->sregs.ldt));
	assert_memory_equal(&a->sregs, &b->sregs, sizeof(a->sregs));
	assert_int_equal(a->xsave_size, b->xsave_size);
	assert_memory_equal(a->xsave, b->xsave, sizeof(a->xsave));
	assert_memory_equal(&a->xcrs, &b->xcrs, sizeof(a->xcrs));
	assert_memory_equal(&a->lapic, &b->lapic, sizeof(a->lapic));
	assert_memory_equal(&a->events, &b->events, sizeof(a->events));
	assert_memory_equal(&a->debugregs, &b->debugregs,
			    sizeof(a->debugregs));
	assert_int_equal(a->tsc_khz, b->tsc_khz);
	assert_int_equal(a->n_msrs, b->n_msrs);
	assert_memory_equal(a->msrs, b->msrs, sizeof(a->msrs));
	assert_int_equal(a->n_cpuid, b->n_cpuid);
	assert_memory_equal(a->cpuid, b->cpuid, sizeof(a->cpuid));
	/* Nothing else: the whole struct, padding included. */
	assert_memory_equal(a, b, sizeof(*a));
}

static void round_trip(uint64_t seed, uint32_t xsave_size, uint32_t n_msrs,
		       uint32_t n_cpuid)
{
	struct cpu_state *st = random_cpu(seed, xsave_size, n_msrs, n_cpuid);
	struct cpu_state *back = malloc(sizeof(*back));
	struct state_reader r;
	size_t len;
	void *tree;

	assert_non_null(back);
	memset(back, 0xa5, sizeof(*back));	/* load must clear all of it */
	tree = save_cpu(st, &len);
	if (load_cpu(tree, len, back, &r))
		fail_msg("load failed: %s", r.err);
	expect_equal(st, back);
	free(tree);
	free(st);
	free(back);
}

static void test_cpu_round_trip(void **state)
{
	(void)state;
	round_trip(1, 4096, 40, 30);
	round_trip(2, 4096 + 64 * 37, CPU_STATE_MAX_MSRS, CPU_STATE_MAX_CPUID);
	round_trip(3, CPU_STATE_XSAVE_MAX, 0, 1);
	round_trip(4, 4096 * 2 + 64, 1, 2);
	for (uint64_t s = 10; s < 30; s++)
		round_trip(s, 4096 + 64 * (s % 8), (s * 13) % 257,
			   1 + (s * 7) % 128);
}

/* Every mp_state up to the highest, and tsc-khz extremes. */
static void test_cpu_round_trip_ranges(void **state)
{
	struct cpu_state *st = random_cpu(77, 4096, 3, 3);
	struct cpu_state *back = malloc(sizeof(*back));
	struct state_reader r;
	size_t len;
	void *tree;
	uint32_t mp;

	(void)state;
	assert_non_null(back);
	for (mp = 0; mp <= KVM_MP_STATE_AP_RESET_HOLD; mp++) {
		st->mp.mp_state = mp;
		st->tsc_khz = mp & 1 ? UINT32_MAX : 1;
		st->xcrs.nr_xcrs = mp & 1 ? KVM_MAX_XCRS : 0;
		tree = save_cpu(st, &len);
		assert_false(load_cpu(tree, len, back, &r));
		expect_equal(st, back);
		free(tree);
	}
	free(st);
	free(back);
}

/* ---- rejections ------------------------------------------------------- */

/* @tree with @prop of node @path set to @data (NULL: deleted). */
static void *edit_tree(const void *tree, size_t *len, const char *path,
		       const char *prop, const void *data, size_t n)
{
	size_t size = *len + n + 1024;
	void *out = malloc(size);
	int node;

	assert_non_null(out);
	assert_int_equal(fdt_open_into(tree, out, size), 0);
	node = fdt_path_offset(out, path);
	assert_true(node >= 0);
	if (data)
		assert_int_equal(fdt_setprop(out, node, prop, data, n), 0);
	else
		assert_int_equal(fdt_delprop(out, node, prop), 0);
	assert_int_equal(fdt_pack(out), 0);
	*len = fdt_totalsize(out);
	return out;
}

static void *edit_u32(const void *tree, size_t *len, const char *path,
		      const char *prop, uint32_t v)
{
	fdt32_t cell = cpu_to_fdt32(v);

	return edit_tree(tree, len, path, prop, &cell, sizeof(cell));
}

/* @len: where the edit left the edited tree's size. */
static void expect_rejected(void *edited, const size_t *len, const char *msg)
{
	struct cpu_state *st = malloc(sizeof(*st));
	struct state_reader r;

	assert_non_null(st);
	if (!load_cpu(edited, *len, st, &r))
		fail_msg("accepted; expected \"%s\"", msg);
	if (strcmp(r.err, msg))
		fail_msg("message \"%s\"; expected \"%s\"", r.err, msg);
	free(st);
	free(edited);
}

static void test_cpu_rejects(void **state)
{
	struct cpu_state *st = random_cpu(5, 4096, 3, 2);
	uint8_t buf[CPU_STATE_XSAVE_MAX + 64] = { 0 };
	size_t len, l;
	void *tree;
	char msg[200];

	(void)state;
	tree = save_cpu(st, &len);

	l = len;
	expect_rejected(edit_tree(tree, &l, "/vcpu", "xsave", buf, 100), &l,
			"/vcpu: xsave: 100 bytes");
	l = len;
	expect_rejected(edit_tree(tree, &l, "/vcpu", "xsave", buf,
				  4096 + 32), &l,
			"/vcpu: xsave: 4128 bytes");
	l = len;
	expect_rejected(edit_tree(tree, &l, "/vcpu", "xsave", buf,
				  CPU_STATE_XSAVE_MAX + 64), &l,
			"/vcpu: xsave: 16448 bytes");
	l = len;
	expect_rejected(edit_tree(tree, &l, "/vcpu", "xsave", buf, 0), &l,
			"/vcpu: xsave: 0 bytes");
	l = len;
	expect_rejected(edit_tree(tree, &l, "/vcpu", "xsave", NULL, 0), &l,
			"/vcpu/xsave: missing");

	/* MSR indices and values out of step. */
	l = len;
	expect_rejected(edit_tree(tree, &l, "/vcpu/msrs", "value", buf,
				  4 * 8), &l,
			"/vcpu/msrs: 12 index bytes, 32 value bytes");
	l = len;
	expect_rejected(edit_tree(tree, &l, "/vcpu/msrs", "index", buf, 13), &l,
			"/vcpu/msrs: 13 index bytes, 24 value bytes");
	{
		/* More MSRs than the struct holds. */
		size_t n = CPU_STATE_MAX_MSRS + 1;
		uint8_t *big = calloc(n, 8);
		void *t2;
		size_t l2;

		assert_non_null(big);
		l = len;
		t2 = edit_tree(tree, &l, "/vcpu/msrs", "index", big, n * 4);
		l2 = l;
		expect_rejected(edit_tree(t2, &l2, "/vcpu/msrs", "value", big,
					  n * 8), &l2,
				"/vcpu/msrs: 1028 index bytes, 2056 value bytes");
		free(t2);
		free(big);
	}

	/* CPUID: whole entries, at least one, at most CPU_STATE_MAX_CPUID. */
	l = len;
	expect_rejected(edit_tree(tree, &l, "/vcpu", "cpuid", buf, 41), &l,
			"/vcpu: cpuid: 41 bytes");
	l = len;
	expect_rejected(edit_tree(tree, &l, "/vcpu", "cpuid", buf, 0), &l,
			"/vcpu: cpuid: 0 bytes");
	{
		size_t n = (CPU_STATE_MAX_CPUID + 1) *
			   sizeof(struct kvm_cpuid_entry2);
		uint8_t *big = calloc(1, n);

		assert_non_null(big);
		l = len;
		snprintf(msg, sizeof(msg), "/vcpu: cpuid: %zu bytes", n);
		expect_rejected(edit_tree(tree, &l, "/vcpu", "cpuid", big,
					  n), &l,
				msg);
		free(big);
	}

	/* Segment flags with a bit the packing does not know. */
	l = len;
	expect_rejected(edit_u32(tree, &l, "/vcpu/sregs/cs", "flags",
				 0x100), &l,
			"/vcpu/sregs/cs: flags 0x100 has unknown bits");
	l = len;
	expect_rejected(edit_u32(tree, &l, "/vcpu/sregs/ldt", "flags",
				 0x80000000), &l,
			"/vcpu/sregs/ldt: flags 0x80000000 has unknown bits");
	l = len;
	expect_rejected(edit_u32(tree, &l, "/vcpu/sregs/tr", "selector",
				 0x10000), &l,
			"/vcpu/sregs/tr/selector: 65536 is out of range (at most 65535)");
	l = len;
	expect_rejected(edit_u32(tree, &l, "/vcpu/sregs", "gdt-limit",
				 0x10000), &l,
			"/vcpu/sregs/gdt-limit: 65536 is out of range (at most 65535)");

	l = len;
	snprintf(msg, sizeof(msg),
		 "/vcpu/mp-state: 99 is out of range (at most %d)",
		 KVM_MP_STATE_AP_RESET_HOLD);
	expect_rejected(edit_u32(tree, &l, "/vcpu", "mp-state", 99), &l, msg);
	l = len;
	expect_rejected(edit_u32(tree, &l, "/vcpu", "tsc-khz", 0), &l,
			"/vcpu: tsc-khz is 0");

	/* XCRs: a count past the array. */
	{
		struct kvm_xcrs x = st->xcrs;

		x.nr_xcrs = KVM_MAX_XCRS + 1;
		l = len;
		snprintf(msg, sizeof(msg), "/vcpu: xcrs: %u registers",
			 KVM_MAX_XCRS + 1);
		expect_rejected(edit_tree(tree, &l, "/vcpu", "xcrs", &x,
					  sizeof(x)), &l, msg);
		l = len;
		snprintf(msg, sizeof(msg),
			 "/vcpu/xcrs: %zu bytes where %zu belong",
			 sizeof(x) - 1, sizeof(x));
		expect_rejected(edit_tree(tree, &l, "/vcpu", "xcrs", &x,
					  sizeof(x) - 1), &l, msg);
	}
	l = len;
	snprintf(msg, sizeof(msg), "/vcpu/lapic: 4 bytes where %zu belong",
		 sizeof(struct kvm_lapic_state));
	expect_rejected(edit_tree(tree, &l, "/vcpu", "lapic", buf, 4), &l, msg);
	l = len;
	expect_rejected(edit_tree(tree, &l, "/vcpu/regs", "rip", NULL, 0), &l,
			"/vcpu/regs/rip: missing");
	l = len;
	expect_rejected(edit_u32(tree, &l, "/vcpu/regs", "rflags", 1), &l,
			"/vcpu/regs/rflags: 4 bytes where 8 belong");

	free(tree);
	free(st);
}

/* A zero-CPUID state saves but cannot load (cpu_state_get never makes one). */
static void test_cpu_no_cpuid(void **state)
{
	struct cpu_state *st = random_cpu(6, 4096, 1, 0);
	struct cpu_state *back = malloc(sizeof(*back));
	struct state_reader r;
	size_t len;
	void *tree = save_cpu(st, &len);

	(void)state;
	assert_non_null(back);
	assert_true(load_cpu(tree, len, back, &r));
	assert_string_equal(r.err, "/vcpu: cpuid: 0 bytes");
	free(tree);
	free(st);
	free(back);
}

/* Everything missing: the first error names the first field read. */
static void test_cpu_empty_node(void **state)
{
	struct state_writer w;
	struct state_reader r;
	struct cpu_state *st = malloc(sizeof(*st));

	(void)state;
	assert_non_null(st);
	assert_int_equal(state_writer_init(&w), 0);
	state_begin(&w, "vcpu");
	state_end(&w);
	assert_int_equal(state_writer_finish(&w), 0);
	assert_true(load_cpu(w.fdt, fdt_totalsize(w.fdt), st, &r));
	assert_string_equal(r.err, "/vcpu/mp-state: missing");
	state_writer_free(&w);
	free(st);
}

/* ---- the VM's state -------------------------------------------------- */

static void test_vm_round_trip(void **state)
{
	struct vm_kvm_state a, b;
	struct state_writer w;
	struct state_reader r;
	uint64_t seed = 99;
	int node;

	(void)state;
	memset(&a, 0, sizeof(a));
	rand_fill(&seed, &a.pic, sizeof(a.pic));
	rand_fill(&seed, &a.ioapic, sizeof(a.ioapic));
	rand_fill(&seed, &a.pit, sizeof(a.pit));
	a.clock_ns = rng_next(&seed);
	a.realtime_ns = rng_next(&seed);

	assert_int_equal(state_writer_init(&w), 0);
	state_begin(&w, "irqchip");
	vm_kvm_state_save(&w, &a);
	state_end(&w);
	assert_int_equal(state_writer_finish(&w), 0);

	memset(&b, 0x5a, sizeof(b));
	assert_int_equal(state_reader_init(&r, w.fdt, fdt_totalsize(w.fdt)), 0);
	node = state_node(&r, STATE_ROOT, "irqchip");
	vm_kvm_state_load(&r, node, &b);
	assert_false(r.failed);
	assert_memory_equal(&a.pic[0], &b.pic[0], sizeof(a.pic[0]));
	assert_memory_equal(&a.pic[1], &b.pic[1], sizeof(a.pic[1]));
	assert_memory_equal(&a.ioapic, &b.ioapic, sizeof(a.ioapic));
	assert_memory_equal(&a.pit, &b.pit, sizeof(a.pit));
	assert_true(a.clock_ns == b.clock_ns);
	assert_true(a.realtime_ns == b.realtime_ns);
	assert_memory_equal(&a, &b, sizeof(a));

	/* A wrong-sized PIT is refused, and b comes back zeroed. */
	{
		size_t len = fdt_totalsize(w.fdt);
		void *t = edit_tree(w.fdt, &len, "/irqchip", "pit", &a.pit, 8);

		assert_int_equal(state_reader_init(&r, t, len), 0);
		vm_kvm_state_load(&r, state_node(&r, STATE_ROOT, "irqchip"),
				  &b);
		assert_true(r.failed);
		assert_non_null(strstr(r.err, "/irqchip/pit: 8 bytes where"));
		assert_true(b.clock_ns == 0);
		free(t);
	}
	state_writer_free(&w);
}

/* ---- CPUID features --------------------------------------------------- */

#define SIG	KVM_CPUID_FLAG_SIGNIFCANT_INDEX

static const struct kvm_cpuid_entry2 base_table[] = {
	{ .function = 0, .eax = 0xd, .ebx = 0x756e6547 },
	{ .function = 1, .eax = 0x806f8, .ecx = 0x77fafbff & ~(1u << 27),
	  .edx = 0x0f8bfbff },
	{ .function = 7, .index = 0, .flags = SIG, .ebx = 0xf1bf07ab,
	  .ecx = 0x00405f5e & ~(1u << 4), .edx = 0xac004410 },
	{ .function = 7, .index = 1, .flags = SIG, .eax = 0x00001c30 },
	{ .function = 0xd, .index = 0, .flags = SIG, .eax = 0x2e7 },
	{ .function = 0xd, .index = 1, .flags = SIG, .eax = 0xf },
	{ .function = 0x80000001, .ecx = 0x00000121, .edx = 0x2c100800 },
	{ .function = 0x80000008, .eax = 0x3030, .ebx = 0x0100d000 },
};
#define N_BASE (sizeof(base_table) / sizeof(base_table[0]))

static struct kvm_cpuid2 *host_table(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + sizeof(base_table));

	assert_non_null(c);
	c->nent = N_BASE;
	memcpy(c->entries, base_table, sizeof(base_table));
	return c;
}

static struct cpu_state *saved_with_table(void)
{
	struct cpu_state *st = calloc(1, sizeof(*st));

	assert_non_null(st);
	st->n_cpuid = N_BASE;
	memcpy(st->cpuid, base_table, sizeof(base_table));
	return st;
}

static struct kvm_cpuid_entry2 *entry(struct kvm_cpuid_entry2 *e,
				      unsigned int n, uint32_t fn,
				      uint32_t index)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (e[i].function == fn && e[i].index == index)
			return &e[i];
	fail_msg("no leaf 0x%x.%u", fn, index);
	return e;	/* not reached */
}

/* MAXPHYADDR: a guest that saw wider physical addresses cannot move. */
static void test_cpuid_phys_bits(void **state)
{
	struct cpu_state *st = saved_with_table();
	struct kvm_cpuid2 *host = host_table();
	struct wisp_err err = { 0 };

	(void)state;
	entry(host->entries, host->nent, 0x80000008, 0)->eax = 0x3027;
	assert_int_equal(cpu_state_check_cpuid(st, host, 0, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "48-bit physical addresses, this host 39"));
	/* Narrower in the guest is fine. */
	memset(&err, 0, sizeof(err));
	entry(st->cpuid, st->n_cpuid, 0x80000008, 0)->eax = 0x3024;
	assert_int_equal(cpu_state_check_cpuid(st, host, 0, &err), 0);
	free(st);
	free(host);
}

static void test_cpuid_identical(void **state)
{
	struct cpu_state *st = saved_with_table();
	struct kvm_cpuid2 *host = host_table();
	struct wisp_err err = { 0 };

	(void)state;
	assert_int_equal(cpu_state_check_cpuid(st, host, 0, &err), 0);
	assert_int_equal(err.status, 0);
	/* A host with more than the guest saw is fine too. */
	entry(host->entries, host->nent, 7, 0)->ebx |= 0xffffffff;
	entry(host->entries, host->nent, 0x80000001, 0)->ecx = 0xffffffff;
	assert_int_equal(cpu_state_check_cpuid(st, host, 0, &err), 0);
	assert_int_equal(err.status, 0);
	free(st);
	free(host);
}

static void test_cpuid_missing_feature(void **state)
{
	struct cpu_state *st = saved_with_table();
	struct kvm_cpuid2 *host = host_table();
	struct wisp_err err = { 0 };

	(void)state;
	entry(st->cpuid, st->n_cpuid, 7, 0)->ebx |= 1u << 5;
	entry(host->entries, host->nent, 7, 0)->ebx &= ~(1u << 5);
	assert_int_equal(cpu_state_check_cpuid(st, host, 3, &err), -ENOTSUP);
	assert_int_equal(err.status, WISP_EXIT_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "CPUID 0x7.0 ebx bit 5"));
	assert_non_null(strstr(err.msg, "vCPU 3"));
	assert_null(strchr(err.msg, '\n'));
	free(st);
	free(host);
}

/* The lowest missing bit of the first leaf in the list is named. */
static void test_cpuid_missing_others(void **state)
{
	static const struct {
		uint32_t fn, index;
		int reg;
		unsigned int bit;
		const char *name;
	} cases[] = {
		{ 1, 0, 2, 0, "CPUID 0x1.0 ecx bit 0" },
		{ 1, 0, 3, 31, "CPUID 0x1.0 edx bit 31" },
		/* 7.0 ecx: bits 0 and 1 set below, only bit 0 on the host */
		{ 7, 0, 2, 0, "CPUID 0x7.0 ecx bit 1" },
		{ 7, 1, 0, 4, "CPUID 0x7.1 eax bit 4" },
		{ 0xd, 1, 0, 0, "CPUID 0xd.1 eax bit 0" },
		{ 0x80000001, 0, 3, 29, "CPUID 0x80000001.0 edx bit 29" },
		{ 0x80000008, 0, 1, 12, "CPUID 0x80000008.0 ebx bit 12" },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cpu_state *st = saved_with_table();
		struct kvm_cpuid2 *host = host_table();
		struct wisp_err err = { 0 };
		uint32_t *s = &entry(st->cpuid, st->n_cpuid, cases[i].fn,
				     cases[i].index)->eax + cases[i].reg;
		uint32_t *h = &entry(host->entries, host->nent, cases[i].fn,
				     cases[i].index)->eax + cases[i].reg;

		if (cases[i].fn == 7 && cases[i].reg == 2) {
			/* Two missing bits: the lowest is named. */
			*s |= 3;
			*h &= ~3u;
			*h |= 1;
		} else {
			*s |= 1u << cases[i].bit;
			*h &= ~(1u << cases[i].bit);
		}
		assert_int_equal(cpu_state_check_cpuid(st, host, 0, &err),
				 -ENOTSUP);
		if (!strstr(err.msg, cases[i].name))
			fail_msg("case %u: \"%s\" does not name %s", i,
				 err.msg, cases[i].name);
		free(st);
		free(host);
	}
}

/* A leaf the host lacks altogether: every bit the guest saw is missing. */
static void test_cpuid_host_lacks_leaf(void **state)
{
	struct cpu_state *st = saved_with_table();
	struct kvm_cpuid2 *host = host_table();
	struct wisp_err err = { 0 };

	(void)state;
	host->nent = 3;	/* no 7.1, 0xd, 0x8000000x */
	assert_int_equal(cpu_state_check_cpuid(st, host, 0, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "CPUID 0x7.1 eax bit 4"));

	/* A leaf the guest never saw is not asked of the host. */
	memset(&err, 0, sizeof(err));
	st->n_cpuid = 3;
	assert_int_equal(cpu_state_check_cpuid(st, host, 0, &err), 0);
	free(st);
	free(host);
}

/* OSXSAVE and OSPKE follow the guest's CR4: not host features. */
static void test_cpuid_dynamic_bits(void **state)
{
	struct cpu_state *st = saved_with_table();
	struct kvm_cpuid2 *host = host_table();
	struct wisp_err err = { 0 };

	(void)state;
	entry(st->cpuid, st->n_cpuid, 1, 0)->ecx |= 1u << 27;
	entry(st->cpuid, st->n_cpuid, 7, 0)->ecx |= 1u << 4;
	assert_int_equal(cpu_state_check_cpuid(st, host, 0, &err), 0);
	assert_int_equal(err.status, 0);
	/* But the bit next to OSXSAVE is a feature (AVX, bit 28). */
	entry(st->cpuid, st->n_cpuid, 1, 0)->ecx |= 1u << 28;
	entry(host->entries, host->nent, 1, 0)->ecx &= ~(1u << 28);
	assert_int_equal(cpu_state_check_cpuid(st, host, 0, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "CPUID 0x1.0 ecx bit 28"));
	free(st);
	free(host);
}

/* Subleaves are told apart by their index where KVM says it matters. */
static void test_cpuid_subleaf_index(void **state)
{
	struct cpu_state *st = saved_with_table();
	struct kvm_cpuid2 *host = host_table();
	struct wisp_err err = { 0 };

	(void)state;
	/* 0xd.0's eax has bit 1, 0xd.1's does not: 0xd.1 must be compared. */
	entry(st->cpuid, st->n_cpuid, 0xd, 1)->eax |= 1u << 20;
	entry(host->entries, host->nent, 0xd, 0)->eax |= 1u << 20;
	assert_int_equal(cpu_state_check_cpuid(st, host, 0, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "CPUID 0xd.1 eax bit 20"));
	free(st);
	free(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_round_trip),
		cmocka_unit_test(test_cpu_round_trip_ranges),
		cmocka_unit_test(test_cpu_rejects),
		cmocka_unit_test(test_cpu_no_cpuid),
		cmocka_unit_test(test_cpu_empty_node),
		cmocka_unit_test(test_vm_round_trip),
		cmocka_unit_test(test_cpuid_identical),
		cmocka_unit_test(test_cpuid_missing_feature),
		cmocka_unit_test(test_cpuid_missing_others),
		cmocka_unit_test(test_cpuid_host_lacks_leaf),
		cmocka_unit_test(test_cpuid_dynamic_bits),
		cmocka_unit_test(test_cpuid_subleaf_index),
		cmocka_unit_test(test_cpuid_phys_bits),
	};

	return cmocka_run_group_tests_name("kvm_state", tests, NULL, NULL);
}
