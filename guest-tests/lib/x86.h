/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thin wrappers around x86 instructions: port and memory-mapped I/O, MSRs,
 * control registers, CPUID, TSC and interrupt flag handling.  All inline;
 * none of them touches SSE/x87 state.
 */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#define X86_EFLAGS_IF		(1UL << 9)
#define X86_EFLAGS_IOPL3	(3UL << 12)

#define MSR_EFER		0xc0000080
#define MSR_GS_BASE		0xc0000101

#define __noreturn		__attribute__((noreturn))
#define __aligned(n)		__attribute__((aligned(n)))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define barrier()		asm volatile("" ::: "memory")

static inline void outb(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(u16 port, u16 v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u16 inw(u16 port)
{
	u16 v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* MMIO accessors: one access of exactly the given width. */
static inline u8 readb(u64 addr)
{
	return *(volatile u8 *)addr;
}

static inline u16 readw(u64 addr)
{
	return *(volatile u16 *)addr;
}

static inline u32 readl(u64 addr)
{
	return *(volatile u32 *)addr;
}

static inline u64 readq(u64 addr)
{
	return *(volatile u64 *)addr;
}

static inline void writeb(u64 addr, u8 v)
{
	*(volatile u8 *)addr = v;
}

static inline void writew(u64 addr, u16 v)
{
	*(volatile u16 *)addr = v;
}

static inline void writel(u64 addr, u32 v)
{
	*(volatile u32 *)addr = v;
}

static inline void writeq(u64 addr, u64 v)
{
	*(volatile u64 *)addr = v;
}

/*
 * A pointer to guest-physical address @pa (identity mapped).  The empty
 * asm hides the constant from GCC's bounds warnings.
 */
static inline void *phys_ptr(u64 pa)
{
	void *p = (void *)pa;

	asm("" : "+r"(p));
	return p;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | ((u64)hi << 32);
}

static inline void wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))
		     : "memory");
}

static inline u64 read_cr2(void)
{
	u64 v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline u64 read_cr3(void)
{
	u64 v;

	asm volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(u64 v)
{
	asm volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	asm volatile("cpuid"
		     : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
		     : "a"(leaf), "c"(sub));
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | ((u64)hi << 32);
}

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

static inline void irq_disable(void)
{
	asm volatile("cli" ::: "memory");
}

static inline void irq_enable(void)
{
	asm volatile("sti" ::: "memory");
}

/* Enable interrupts and halt until one arrives (sti's shadow covers hlt). */
static inline void safe_halt(void)
{
	asm volatile("sti; hlt" ::: "memory");
}

static inline u64 save_flags(void)
{
	u64 f;

	asm volatile("pushfq; popq %0" : "=r"(f) : : "memory");
	return f;
}

static inline void restore_flags(u64 f)
{
	asm volatile("pushq %0; popfq" : : "r"(f) : "memory", "cc");
}

#endif
