// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the long-mode builders (firmware/longmode.c): the identity
 * page tables, checked entry by entry and through a page walk done here as
 * the MMU does it, and the GDT, decoded bit by bit from the SDM's segment
 * descriptor layout.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "longmode.h"

#define PAGE		0x1000ULL
#define LARGE		(2ULL << 20)
#define GiB		(1ULL << 30)
#define P		0x001ULL	/* present */
#define RW		0x002ULL	/* writable */
#define PS		0x080ULL	/* page size: 2 MiB in a PD */
#define ADDR_MASK	0x000ffffffffff000ULL
#define LARGE_MASK	0x000fffffffe00000ULL
#define ENTRIES		512
#define FILL		0xa5
#define GUARD		64

_Static_assert(LONGMODE_PAGE_SIZE == 4096, "page size");
_Static_assert(LONGMODE_IDENTITY_TOP == 4 * GiB, "4 GiB mapped");
_Static_assert(LONGMODE_TABLES_SIZE == 6 * 4096, "PML4, PDPT, four PDs");
_Static_assert(LONGMODE_BOOT_CS == 0x10, "__BOOT_CS");
_Static_assert(LONGMODE_BOOT_DS == 0x18, "__BOOT_DS");
_Static_assert(LONGMODE_GDT_SIZE == 4 * 8, "four descriptors");

/* Tables, and a guard after them that the builder must not touch. */
static uint8_t buf[LONGMODE_TABLES_SIZE + GUARD];

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Entry @i of the table at guest-physical @table, in tables built at @gpa. */
static uint64_t entry(uint64_t gpa, uint64_t table, unsigned int i)
{
	assert_true(table >= gpa && table + PAGE <= gpa + LONGMODE_TABLES_SIZE);
	assert_int_equal(table & (PAGE - 1), 0);
	return rd64(buf + (table - gpa) + i * 8);
}

/*
 * Translate @va as the MMU would with CR3 = @gpa (4-level paging): 0 and
 * *@pa, or -1 for a not-present entry.  Every table a walk reaches must lie
 * inside the built tables.
 */
static int walk(uint64_t gpa, uint64_t va, uint64_t *pa)
{
	uint64_t e;

	e = entry(gpa, gpa, (va >> 39) & 511);
	if (!(e & P))
		return -1;
	assert_true(e & RW);
	e = entry(gpa, e & ADDR_MASK, (va >> 30) & 511);
	if (!(e & P))
		return -1;
	assert_true(e & RW);
	assert_false(e & PS);	/* no 1 GiB pages */
	e = entry(gpa, e & ADDR_MASK, (va >> 21) & 511);
	if (!(e & P))
		return -1;
	assert_true(e & RW);
	assert_true(e & PS);	/* 2 MiB pages, no page tables */
	*pa = (e & LARGE_MASK) | (va & (LARGE - 1));
	return 0;
}

static void build(uint64_t gpa)
{
	memset(buf, FILL, sizeof(buf));
	assert_int_equal(longmode_build_identity(buf, gpa), 0);
}

static void expect_fill(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		assert_int_equal(p[i], FILL);
}

static void test_pml4(void **state)
{
	const uint64_t gpas[] = { 0xa000, 0x200000, 4 * GiB - 6 * PAGE };
	unsigned int i, k;

	(void)state;
	for (k = 0; k < 3; k++) {
		build(gpas[k]);
		assert_int_equal(rd64(buf), (gpas[k] + PAGE) | P | RW);
		for (i = 1; i < ENTRIES; i++)
			assert_int_equal(rd64(buf + i * 8), 0);
		expect_fill(buf + LONGMODE_TABLES_SIZE, GUARD);
	}
}

static void test_pdpt(void **state)
{
	const uint64_t gpa = 0x200000;
	const uint8_t *pdpt = buf + PAGE;
	unsigned int i;

	(void)state;
	build(gpa);
	for (i = 0; i < 4; i++)
		assert_int_equal(rd64(pdpt + i * 8),
				 (gpa + (2 + i) * PAGE) | P | RW);
	for (i = 4; i < ENTRIES; i++)
		assert_int_equal(rd64(pdpt + i * 8), 0);
}

static void test_pd_entries(void **state)
{
	const uint64_t gpa = 0xa000;
	unsigned int pd, i;
	uint64_t e;

	(void)state;
	build(gpa);
	for (pd = 0; pd < 4; pd++) {
		for (i = 0; i < ENTRIES; i++) {
			e = rd64(buf + (2 + pd) * PAGE + i * 8);
			assert_int_equal(e, ((uint64_t)pd * ENTRIES + i) * LARGE |
					 P | RW | PS);
		}
	}
	/* The last 2 MiB page ends at 4 GiB exactly. */
	e = rd64(buf + LONGMODE_TABLES_SIZE - 8);
	assert_int_equal((e & LARGE_MASK) + LARGE, 4 * GiB);
	assert_false(e & (1ULL << 63));		/* executable */
	assert_false(e & 0x004);		/* supervisor only */
}

static void test_walk_identity(void **state)
{
	const uint64_t gpas[] = { 0xa000, 0x7ff000, 4 * GiB - 6 * PAGE };
	const uint64_t va[] = {
		0, 0x7000, 16 * (1ULL << 20) + 123, 3 * GiB + 5,
		4 * GiB - 1, 1 * GiB, 2 * GiB - 1, 0x1fffff, 0x200000,
	};
	unsigned int i, k;
	uint64_t pa;

	(void)state;
	for (k = 0; k < 3; k++) {
		build(gpas[k]);
		for (i = 0; i < sizeof(va) / sizeof(va[0]); i++) {
			pa = ~0ULL;
			assert_int_equal(walk(gpas[k], va[i], &pa), 0);
			assert_int_equal(pa, va[i]);
		}
		/* Nothing from 4 GiB on. */
		assert_int_equal(walk(gpas[k], 4 * GiB, &pa), -1);
		assert_int_equal(walk(gpas[k], 512 * GiB, &pa), -1);
		assert_int_equal(walk(gpas[k], 0xffffffff80000000ULL, &pa), -1);
	}
}

/* Every 2 MiB page of [0, 4 GiB) through the walk. */
static void test_walk_all(void **state)
{
	uint64_t va, pa;

	(void)state;
	build(0x100000);
	for (va = 0; va < 4 * GiB; va += LARGE) {
		assert_int_equal(walk(0x100000, va + (va >> 21 & 0xfff), &pa), 0);
		assert_int_equal(pa, va + (va >> 21 & 0xfff));
	}
}

static void test_bad_gpa(void **state)
{
	const uint64_t bad[] = {
		0xa001, 0xa800, 0xafff, 1,	/* misaligned */
		4 * GiB - 5 * PAGE,		/* ends above 4 GiB */
		4 * GiB - PAGE, 4 * GiB, 8 * GiB,
		4 * GiB - 6 * PAGE + 8,		/* both */
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(buf, FILL, sizeof(buf));
		assert_int_equal(longmode_build_identity(buf, bad[i]), -EINVAL);
		expect_fill(buf, sizeof(buf));
	}
	/* The highest that fits, and 0. */
	build(4 * GiB - 6 * PAGE);
	build(0);
	assert_int_equal(rd64(buf), PAGE | P | RW);
}

/*
 * A page-aligned gpa so high that gpa + LONGMODE_TABLES_SIZE wraps past
 * 2^64 is "too high" all the same.
 */
static void test_bad_gpa_wrapping(void **state)
{
	const uint64_t bad[] = {
		0xfffffffffffff000ULL, 0xffffffffffffa000ULL,
		0xffffffffffff0000ULL,
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(buf, FILL, sizeof(buf));
		assert_int_equal(longmode_build_identity(buf, bad[i]), -EINVAL);
		expect_fill(buf, sizeof(buf));
	}
}

struct desc {
	uint32_t base, limit;
	unsigned int type, s, dpl, p, avl, l, db, g;
};

/* Intel SDM vol. 3, 3.4.5 "Segment Descriptors". */
static struct desc decode(uint64_t d)
{
	return (struct desc){
		.limit = (uint32_t)(d & 0xffff) | (uint32_t)((d >> 48) & 0xf) << 16,
		.base = (uint32_t)((d >> 16) & 0xffffff) |
			(uint32_t)((d >> 56) & 0xff) << 24,
		.type = (d >> 40) & 0xf,
		.s = (d >> 44) & 1,
		.dpl = (d >> 45) & 3,
		.p = (d >> 47) & 1,
		.avl = (d >> 52) & 1,
		.l = (d >> 53) & 1,
		.db = (d >> 54) & 1,
		.g = (d >> 55) & 1,
	};
}

#define TYPE_CODE	0x8	/* executable */
#define TYPE_CONFORMING	0x4	/* code; expand-down for data */
#define TYPE_RW		0x2	/* readable code, writable data */

static void test_gdt(void **state)
{
	uint8_t gdt[LONGMODE_GDT_SIZE + GUARD];
	struct desc cs, ds;

	(void)state;
	memset(gdt, FILL, sizeof(gdt));
	longmode_build_gdt(gdt);
	expect_fill(gdt + LONGMODE_GDT_SIZE, GUARD);
	/* The null descriptor, and the unused one at 0x08. */
	assert_int_equal(rd64(gdt), 0);
	assert_int_equal(rd64(gdt + 8), 0);

	cs = decode(rd64(gdt + LONGMODE_BOOT_CS));
	assert_int_equal(cs.s, 1);		/* code or data, not system */
	assert_true(cs.type & TYPE_CODE);
	assert_true(cs.type & TYPE_RW);		/* execute/read */
	assert_false(cs.type & TYPE_CONFORMING);
	assert_int_equal(cs.p, 1);
	assert_int_equal(cs.dpl, 0);
	assert_int_equal(cs.l, 1);		/* 64-bit code */
	assert_int_equal(cs.db, 0);		/* D must be 0 when L is 1 */
	assert_int_equal(cs.g, 1);
	assert_int_equal(cs.base, 0);
	assert_int_equal(cs.limit, 0xfffff);

	ds = decode(rd64(gdt + LONGMODE_BOOT_DS));
	assert_int_equal(ds.s, 1);
	assert_false(ds.type & TYPE_CODE);
	assert_true(ds.type & TYPE_RW);		/* writable */
	assert_false(ds.type & TYPE_CONFORMING);	/* expand-up */
	assert_int_equal(ds.p, 1);
	assert_int_equal(ds.dpl, 0);
	assert_int_equal(ds.l, 0);
	assert_int_equal(ds.db, 1);
	assert_int_equal(ds.g, 1);
	assert_int_equal(ds.base, 0);
	assert_int_equal(ds.limit, 0xfffff);

	/* The constants KVM's segment registers are loaded from agree. */
	assert_int_equal(rd64(gdt + LONGMODE_BOOT_CS), LONGMODE_CODE64_DESC);
	assert_int_equal(rd64(gdt + LONGMODE_BOOT_DS), LONGMODE_DATA_DESC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pml4),
		cmocka_unit_test(test_pdpt),
		cmocka_unit_test(test_pd_entries),
		cmocka_unit_test(test_walk_identity),
		cmocka_unit_test(test_walk_all),
		cmocka_unit_test(test_bad_gpa),
		cmocka_unit_test(test_bad_gpa_wrapping),
		cmocka_unit_test(test_gdt),
	};

	return cmocka_run_group_tests_name("longmode", tests, NULL, NULL);
}
