// SPDX-License-Identifier: Apache-2.0
#include "desc.h"
#include "layout.h"
#include "printf.h"
#include "report.h"
#include "serial.h"
#include "smp.h"
#include "user.h"

struct idt_gate {
	u16 off0;
	u16 sel;
	u8 ist;
	u8 type;
	u16 off1;
	u32 off2;
	u32 reserved;
} __attribute__((packed));

struct ex_entry {
	u64 insn;
	u64 fixup;
};

struct desc_ptr {
	u16 limit;
	u64 base;
} __attribute__((packed));

#define GATE_INTR	0x8e	/* present, DPL 0, 64-bit interrupt gate */
#define GATE_INTR_DPL3	0xee

extern const char trap_stubs[];
extern const struct ex_entry __ex_table_start[], __ex_table_end[];

static struct idt_gate idt[256] __aligned(16);
static trap_handler_t handlers[256];

void idt_init(void)
{
	for (int v = 0; v < 256; v++) {
		u64 addr = (u64)trap_stubs + 16 * v;

		idt[v] = (struct idt_gate){
			.off0 = addr & 0xffff,
			.sel = SEL_KCODE,
			.type = v == VEC_USER_RETURN ? GATE_INTR_DPL3 : GATE_INTR,
			.off1 = (addr >> 16) & 0xffff,
			.off2 = addr >> 32,
		};
	}
}

void idt_load(void)
{
	struct desc_ptr p = { sizeof(idt) - 1, (u64)idt };

	asm volatile("lidt %0" : : "m"(p));
}

void set_trap_handler(int vector, trap_handler_t fn)
{
	__atomic_store_n(&handlers[vector & 0xff], fn, __ATOMIC_RELEASE);
}

void ex_clear(void)
{
	this_cpu()->ex.vector = EX_NONE;
}

const struct ex_info *ex_last(void)
{
	return &this_cpu()->ex;
}

static bool ex_fixup(struct trap_frame *f)
{
	const struct ex_entry *e;

	for (e = __ex_table_start; e < __ex_table_end; e++) {
		if (e->insn != f->rip)
			continue;
		this_cpu()->ex = (struct ex_info){
			.vector = f->vector,
			.error = f->error,
			.cr2 = f->vector == VEC_PF ? read_cr2() : 0,
			.rip = f->rip,
			.cpl = f->cs & 3,
		};
		f->rip = e->fixup;
		return true;
	}
	return false;
}

void trap_dispatch(struct trap_frame *f)
{
	int vec = f->vector;
	trap_handler_t fn;

	if (vec == VEC_USER_RETURN && (f->cs & 3) == 3)
		user_return(f->rdi);
	fn = __atomic_load_n(&handlers[vec], __ATOMIC_ACQUIRE);
	if (fn) {
		fn(f);
		return;
	}
	if (vec < 32 && ex_fixup(f))
		return;
	/* LAPIC spurious, PIC spurious IRQ7/IRQ15 (PIC remapped to 0x20). */
	if (vec == VEC_SPURIOUS || vec == 0x27 || vec == 0x2f)
		return;
	fatal_trap(f);
}

int ud2_safe(void)
{
	ex_clear();
	asm volatile("1: ud2\n2:\n" EX_TABLE(1b, 2b) ::: "memory");
	return ex_last()->vector;
}

int hlt_safe(void)
{
	ex_clear();
	asm volatile("1: hlt\n2:\n" EX_TABLE(1b, 2b) ::: "memory");
	return ex_last()->vector;
}

int rdmsr_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;

	ex_clear();
	asm volatile("1: rdmsr\n2:\n" EX_TABLE(1b, 2b)
		     : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*val = lo | ((u64)hi << 32);
	return ex_last()->vector;
}

int wrmsr_safe(u32 msr, u64 val)
{
	ex_clear();
	asm volatile("1: wrmsr\n2:\n" EX_TABLE(1b, 2b)
		     : : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32))
		     : "memory");
	return ex_last()->vector;
}

int read64_safe(u64 addr, u64 *val)
{
	u64 v = 0;

	ex_clear();
	asm volatile("1: movq (%1), %0\n2:\n" EX_TABLE(1b, 2b)
		     : "+r"(v) : "r"(addr) : "memory");
	*val = v;
	return ex_last()->vector;
}

int write64_safe(u64 addr, u64 val)
{
	ex_clear();
	asm volatile("1: movq %1, (%0)\n2:\n" EX_TABLE(1b, 2b)
		     : : "r"(addr), "r"(val) : "memory");
	return ex_last()->vector;
}

int div_safe(u32 dividend, u32 divisor, u32 *quot)
{
	u32 q = dividend, r = 0;

	ex_clear();
	asm volatile("1: divl %2\n2:\n" EX_TABLE(1b, 2b)
		     : "+a"(q), "+d"(r) : "r"(divisor) : "memory");
	*quot = q;
	return ex_last()->vector;
}

const char *exception_name(int vector)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
		"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
	};

	if (vector >= 0 && vector < 32)
		return names[vector];
	return "interrupt";
}

void __noreturn fatal_trap(struct trap_frame *f)
{
	serial_lock_force();
	printf_unlocked("FAIL: unexpected %s #%lu (%s) at RIP %#lx, error %#lx,"
			" CR2 %#lx, CPU %d, CPL %lu, %s\n",
			f->vector < 32 ? "exception" : "interrupt", f->vector,
			exception_name(f->vector), f->rip, f->error,
			f->vector == VEC_PF ? read_cr2() : 0, cpu_id(),
			f->cs & 3, report_where());
	exit_guest(3);
}

void __noreturn triple_fault(void)
{
	struct desc_ptr p = { 0, 0 };

	asm volatile("lidt %0; ud2" : : "m"(p) : "memory");
	for (;;)
		asm volatile("hlt");
}
