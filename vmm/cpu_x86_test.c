// SPDX-License-Identifier: Apache-2.0
/* The CPUID table each vCPU gets: hypervisor bit and APIC-ID topology. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "cpu_x86.h"

static struct kvm_cpuid2 *fake_supported(void)
{
	static const struct kvm_cpuid_entry2 entries[] = {
		{ .function = 0, .eax = 0x1f },
		{ .function = 1, .ebx = 0xff0800, .ecx = 0x1, .edx = 0x10000000 },
		{ .function = 4, .index = 0, .eax = 0xfc004121 },
		{ .function = 0xb, .index = 0 },
		{ .function = 0xb, .index = 1 },
		{ .function = 0xb, .index = 2 },
		{ .function = 0x80000008, .ecx = 0xff },
		{ .function = 0x8000001e, .eax = 7, .ebx = 0x107 },
	};
	size_t n = sizeof(entries) / sizeof(entries[0]);
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(entries[0]));

	c->nent = n;
	for (size_t i = 0; i < n; i++)
		c->entries[i] = entries[i];
	return c;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c,
					   uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == function &&
		    c->entries[i].index == index)
			return &c->entries[i];
	static const struct kvm_cpuid_entry2 missing;

	fail_msg("leaf %x.%x missing", function, index);
	return &missing;
}

static void test_topology(void **state)
{
	struct kvm_cpuid2 *sup = fake_supported();
	struct kvm_cpuid2 *out = calloc(1, sizeof(*out) +
					sup->nent * sizeof(sup->entries[0]));
	unsigned int cpu;

	(void)state;
	for (cpu = 0; cpu < 4; cpu++) {
		cpu_build_cpuid(sup, cpu, 4, out);
		assert_int_equal(out->nent, sup->nent);
		/* Hypervisor bit, APIC ID and logical count in leaf 1. */
		assert_true(find(out, 1, 0)->ecx & (1U << 31));
		assert_true(find(out, 1, 0)->ecx & 1);
		assert_int_equal(find(out, 1, 0)->ebx >> 24, cpu);
		assert_int_equal((find(out, 1, 0)->ebx >> 16) & 0xff, 4);
		assert_int_equal(find(out, 1, 0)->ebx & 0xffff, 0x0800);
		assert_true(find(out, 1, 0)->edx & (1U << 28));
		/* x2APIC topology: one thread per core, 4 cores. */
		assert_int_equal(find(out, 0xb, 0)->edx, cpu);
		assert_int_equal(find(out, 0xb, 0)->ebx, 1);
		assert_int_equal((find(out, 0xb, 0)->ecx >> 8) & 0xff, 1);
		assert_int_equal(find(out, 0xb, 1)->eax, 2);
		assert_int_equal(find(out, 0xb, 1)->ebx, 4);
		assert_int_equal((find(out, 0xb, 1)->ecx >> 8) & 0xff, 2);
		assert_int_equal(find(out, 0xb, 2)->ebx, 0);
		assert_int_equal((find(out, 0xb, 2)->ecx >> 8) & 0xff, 0);
		assert_int_equal(find(out, 4, 0)->eax >> 26, 3);
		assert_int_equal(find(out, 0x80000008, 0)->ecx & 0xff, 3);
		assert_int_equal((find(out, 0x80000008, 0)->ecx >> 12) & 0xf, 2);
		assert_int_equal(find(out, 0x8000001e, 0)->eax, cpu);
	}
	/* One vCPU: no HTT, shift 0. */
	cpu_build_cpuid(sup, 0, 1, out);
	assert_false(find(out, 1, 0)->edx & (1U << 28));
	assert_int_equal(find(out, 0xb, 1)->eax, 0);
	/* Three vCPUs round the ID space up to 4. */
	cpu_build_cpuid(sup, 2, 3, out);
	assert_int_equal(find(out, 0xb, 1)->eax, 2);
	assert_int_equal(find(out, 0xb, 1)->ebx, 3);
	free(out);
	free(sup);
}

static void test_phys_bits(void **state)
{
	struct kvm_cpuid2 *c = fake_supported();

	(void)state;
	assert_int_equal(cpu_phys_bits(c), 36);	/* leaf with EAX 0 */
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000008)
			c->entries[i].eax = 0x3027;	/* 39 phys, 48 virt */
	assert_int_equal(cpu_phys_bits(c), 39);
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000008)
			c->entries[i].eax = 0x303034;	/* 52 phys, 48 mappable */
	assert_int_equal(cpu_phys_bits(c), 48);
	c->nent = 0;
	assert_int_equal(cpu_phys_bits(c), 36);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_phys_bits),
	};

	return cmocka_run_group_tests_name("cpu_x86", tests, NULL, NULL);
}
