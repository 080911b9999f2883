// SPDX-License-Identifier: Apache-2.0
/*
 * exceptions: #UD, #DE, #GP and #PF raised on purpose at CPL0 and CPL3,
 * caught by the guest (exception table fixups and an installed handler),
 * with the vector, error code and CR2 checked; the guest carries on.
 */
#include "guest.h"

#define NONCANONICAL	0x8000000000000000ULL
/* PML4 slot 160: nothing is mapped there. */
#define UNMAPPED	0x0000500000000000ULL
#define BOGUS_MSR	0xdeadbeefU

static void test_ud_de(void)
{
	u32 q;

	test_begin("ud-de");
	report(ud2_safe() == VEC_UD, "ud2 raises #UD");
	report(div_safe(1, 0, &q) == VEC_DE, "divide by zero raises #DE");
	report(div_safe(10, 3, &q) == EX_NONE && q == 3,
	       "a good divide raises nothing");
}

static void test_gp(void)
{
	u64 v;

	test_begin("gp");
	report(read64_safe(NONCANONICAL, &v) == VEC_GP &&
	       ex_last()->error == 0,
	       "non-canonical load raises #GP(0)");
	report(write64_safe(NONCANONICAL, 1) == VEC_GP,
	       "non-canonical store raises #GP");
	if (rdmsr_safe(BOGUS_MSR, &v) == VEC_GP)
		report(true, "rdmsr of a bogus MSR raises #GP");
	else
		report_skip("rdmsr %#x raised no #GP here (TCG ignores it)",
			    BOGUS_MSR);
}

static void test_pf(void)
{
	const struct ex_info *ex = ex_last();
	int vec;
	u64 v;

	test_begin("pf");
	vec = read64_safe(UNMAPPED, &v);
	report(vec == VEC_PF && ex->cr2 == UNMAPPED &&
	       (ex->error & (PF_ERR_P | PF_ERR_W | PF_ERR_U)) == 0,
	       "read of an unmapped page: #PF, CR2 %#lx, error %#lx",
	       ex->cr2, ex->error);
	vec = write64_safe(UNMAPPED + 8, 1);
	report(vec == VEC_PF && ex->cr2 == UNMAPPED + 8 &&
	       (ex->error & (PF_ERR_P | PF_ERR_W | PF_ERR_U)) == PF_ERR_W,
	       "write to an unmapped page: #PF, CR2 %#lx, error %#lx",
	       ex->cr2, ex->error);
}

/* At CPL3: a write fault, a privileged instruction. */
static u64 user_faults(u64 arg)
{
	const struct ex_info *ex = ex_last();
	u64 bits = 0;

	(void)arg;
	if (write64_safe(UNMAPPED, 1) == VEC_PF && ex->cpl == 3 &&
	    ex->cr2 == UNMAPPED &&
	    (ex->error & (PF_ERR_P | PF_ERR_W | PF_ERR_U)) ==
	    (PF_ERR_W | PF_ERR_U))
		bits |= 1;
	if (hlt_safe() == VEC_GP)
		bits |= 2;
	if (ud2_safe() == VEC_UD)
		bits |= 4;
	return bits;
}

static void test_user(void)
{
	u64 bits;

	test_begin("user");
	bits = run_user(user_faults, 0);
	report(bits & 1, "CPL3 write to an unmapped page: #PF, error U|W");
	report(bits & 2, "CPL3 hlt raises #GP");
	report(bits & 4, "CPL3 ud2 raises #UD");
}

static volatile int ud_hits;

/* Skips the 2-byte ud2 and counts. */
static void ud_handler(struct trap_frame *f)
{
	ud_hits++;
	f->rip += 2;
}

static void test_handler(void)
{
	test_begin("handler");
	set_trap_handler(VEC_UD, ud_handler);
	asm volatile("ud2");
	asm volatile("ud2");
	set_trap_handler(VEC_UD, NULL);
	report(ud_hits == 2, "installed #UD handler ran twice (%d)", ud_hits);
	report(ud2_safe() == VEC_UD, "fixup works again after removal");
}

int main(void)
{
	test_ud_de();
	test_gp();
	test_pf();
	test_user();
	test_handler();
	return 0;
}
