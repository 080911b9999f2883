/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Constants shared by the guest library's assembly and C code: CPU limits,
 * stack sizes, GDT selectors and per-CPU field offsets.
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

#define MAX_CPUS		16
#define KSTACK_SIZE		16384	/* kernel stack of each CPU */
#define USTACK_SIZE		8192	/* CPL3 stack of each CPU */

#define IMAGE_BASE		0x100000	/* where the guests are linked */
#define TRAMPOLINE_ADDR		0x8000		/* AP real-mode start page */

/* GDT layout: see gdt in entry.S */
#define SEL_KCODE		0x08	/* 64-bit kernel code */
#define SEL_KDATA		0x10	/* kernel data */
#define SEL_KCODE32		0x18	/* 32-bit kernel code (boot, APs) */
#define SEL_UDATA		0x23	/* user data, RPL 3 */
#define SEL_UCODE		0x2b	/* 64-bit user code, RPL 3 */
#define GDT_TSS_INDEX		6	/* first TSS descriptor (2 slots each) */
#define GDT_ENTRIES		(GDT_TSS_INDEX + 2 * MAX_CPUS)

/* Vector of the DPL3 gate through which CPL3 code returns to CPL0. */
#define VEC_USER_RETURN		0x80

/* Offsets inside struct percpu (checked by static asserts in smp.c). */
#define PERCPU_SELF		0
#define PERCPU_USER_RSP		8
#define PERCPU_TSS		16

/* Page table entry bits used by the identity map. */
#define PTE_P			0x001
#define PTE_W			0x002
#define PTE_U			0x004
#define PTE_PWT			0x008
#define PTE_PCD			0x010
#define PTE_PS			0x080

#endif
