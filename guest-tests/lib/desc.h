/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IDT, trap dispatch, and the ways a test can expect an exception.
 *
 * Every vector enters trap_dispatch().  In order: a CPL3 `int $0x80` ends
 * run_user(); a handler installed with set_trap_handler() runs; an
 * exception raised by an instruction listed in the exception table is
 * recorded in this CPU's ex_info and the instruction is skipped; spurious
 * PIC/LAPIC vectors are ignored; anything else prints
 * "FAIL: unexpected exception ..." and exits with status 3.
 */
#ifndef GUEST_DESC_H
#define GUEST_DESC_H

#include "x86.h"

#define VEC_DE		0
#define VEC_UD		6
#define VEC_DF		8
#define VEC_GP		13
#define VEC_PF		14
#define VEC_SPURIOUS	0xff	/* LAPIC spurious vector */

#define EX_NONE		(-1)

#define PF_ERR_P	0x1	/* protection violation (page present) */
#define PF_ERR_W	0x2	/* write */
#define PF_ERR_U	0x4	/* CPL3 access */

struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

typedef void (*trap_handler_t)(struct trap_frame *f);

/* What the last fixed-up exception on this CPU was. */
struct ex_info {
	int vector;		/* EX_NONE if none since ex_clear() */
	u64 error;
	u64 cr2;		/* for #PF */
	u64 rip;		/* the faulting instruction */
	int cpl;
};

/* Builds the IDT (BSP, once, at boot). */
void idt_init(void);
/* Loads the IDT on the calling CPU. */
void idt_load(void);

/*
 * Installs @fn for @vector (NULL removes it).  The handler runs with
 * interrupts off and must send the LAPIC EOI itself for interrupts.
 * Shared by all CPUs.
 */
void set_trap_handler(int vector, trap_handler_t fn);

/*
 * Exception table entry: if instruction at label @insn faults, resume at
 * label @fixup.  For use inside asm statements, e.g.
 *	asm volatile("1: ud2\n2:\n" EX_TABLE(1b, 2b));
 */
#define EX_TABLE(insn, fixup)						\
	".pushsection .ex_table, \"a\"\n\t.balign 8\n\t"		\
	".quad " #insn ", " #fixup "\n\t.popsection\n\t"

/* Forget the last recorded exception on this CPU. */
void ex_clear(void);
/* The last recorded exception on this CPU. */
const struct ex_info *ex_last(void);

/*
 * Each of these runs one instruction that may fault and returns the
 * vector it raised, or EX_NONE.  Callable at CPL0 and CPL3.
 */
int ud2_safe(void);
int hlt_safe(void);
int rdmsr_safe(u32 msr, u64 *val);
int wrmsr_safe(u32 msr, u64 val);
int read64_safe(u64 addr, u64 *val);
int write64_safe(u64 addr, u64 val);
int div_safe(u32 dividend, u32 divisor, u32 *quot);

/* Human-readable "#PF" style name of an exception vector. */
const char *exception_name(int vector);

/* Entry from trap_common (traps.S) for every vector. */
void trap_dispatch(struct trap_frame *f);

/* Prints the FAIL line for @f and exits with status 3. */
void __noreturn fatal_trap(struct trap_frame *f);

/* Loads an empty IDT and faults: the CPU shuts down (triple fault). */
void __noreturn triple_fault(void);

#endif
