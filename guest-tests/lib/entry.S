/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PVH entry: the VMM (wisp, or QEMU's PVH option ROM) starts us in 32-bit
 * protected mode with paging off, flat segments and EBX pointing at
 * struct hvm_start_info.  APs arrive here too, from the real-mode
 * trampoline.  Both switch to long mode on the static identity map
 * below and call C on a stack chosen by their LAPIC ID.
 */
#include "layout.h"

/* XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit physical entry point. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* namesz: "Xen\0" */
	.long 8				/* descsz */
	.long 18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad pvh_start32
	.balign 4

	.section .text32, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	movl %ebx, boot_info_paddr
	lgdt gdt_desc
	movl $1, %esi			/* esi != 0: bootstrap processor */
	jmp common32

/*
 * From the trampoline, which loaded our GDT already; DS still has its
 * real-mode base, so load the flat segments before touching memory.
 */
	.globl ap_start32
ap_start32:
	cli
	cld
	xorl %esi, %esi

common32:
	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	ljmp $SEL_KCODE32, $1f
1:
	/*
	 * The LAPIC ID register picks the kernel stack.  (Not CPUID: the smp
	 * test checks CPUID's APIC ID, which must not crash us when wrong.)
	 */
	movl 0xfee00020, %ebx
	shrl $24, %ebx
	cmpl $MAX_CPUS, %ebx
	jae park32
	movl %ebx, %ebp
	leal 1(%ebx), %eax
	imull $KSTACK_SIZE, %eax, %eax
	leal kstacks(%eax), %esp

	movl %cr4, %eax
	orl $0x20, %eax			/* PAE */
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax		/* PG | PE */
	movl %eax, %cr0
	ljmp $SEL_KCODE, $start64

park32:
	hlt
	jmp park32

	.text
	.code64
start64:
	movl %esp, %esp			/* clear the upper half of rsp */
	movl %ebp, %edi			/* first argument: APIC ID */
	testl %esi, %esi
	jz 1f
	call boot_main
	jmp park64
1:	call ap_main
park64:
	cli
	hlt
	jmp park64

/*
 * AP trampoline, copied to TRAMPOLINE_ADDR and started by SIPI in real
 * mode with CS = TRAMPOLINE_ADDR >> 4.  It only enters protected mode;
 * ap_start32 in the image does the rest.  Kept out of .text so that the
 * forbidden-instruction check does not decode 16-bit code as 64-bit.
 */
	.section .rodata.trampoline, "a"
	.code16
	.globl trampoline_start, trampoline_end
trampoline_start:
	cli
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tramp_gdt_desc - trampoline_start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEL_KCODE32, $ap_start32
	.balign 8
tramp_gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
trampoline_end:
	.code64

	.data
	.balign 16
	.globl gdt, gdt_end, gdt_desc
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08 kernel code, 64-bit */
	.quad 0x00cf93000000ffff	/* 0x10 kernel data */
	.quad 0x00cf9b000000ffff	/* 0x18 kernel code, 32-bit */
	.quad 0x00cff3000000ffff	/* 0x20 user data, DPL 3 */
	.quad 0x00affb000000ffff	/* 0x28 user code, 64-bit, DPL 3 */
	.fill 2 * MAX_CPUS, 8, 0	/* 0x30: TSS descriptors, per CPU */
gdt_end:
	.balign 8
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

	.globl boot_info_paddr
	.balign 4
boot_info_paddr:
	.long 0

/*
 * Identity map of the first 4 GiB with 2 MiB pages, all user-accessible
 * (CPL3 test code runs on it).  The MMIO hole [3 GiB, 4 GiB) is uncached.
 * RAM above 4 GiB gets page directories at run time (see boot.c).
 */
	.section .data.pgtable, "aw"
	.balign 4096
	.globl pml4, pdpt
pml4:
	.quad pdpt + PTE_P + PTE_W + PTE_U
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + PTE_P + PTE_W + PTE_U
	.quad pd + 0x1000 + PTE_P + PTE_W + PTE_U
	.quad pd + 0x2000 + PTE_P + PTE_W + PTE_U
	.quad pd + 0x3000 + PTE_P + PTE_W + PTE_U
	.fill 508, 8, 0
pd:
	.set pgaddr, 0
	.rept 3 * 512
	.quad pgaddr + PTE_P + PTE_W + PTE_U + PTE_PS
	.set pgaddr, pgaddr + 0x200000
	.endr
	.rept 512
	.quad pgaddr + PTE_P + PTE_W + PTE_U + PTE_PS + PTE_PWT + PTE_PCD
	.set pgaddr, pgaddr + 0x200000
	.endr

	.section .note.GNU-stack, "", @progbits
