/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interrupt and exception entry, and the switch to and from CPL3.
 */
#include "layout.h"

	.text
	.code64

/*
 * One 16-byte stub per vector: push a zero error code where the CPU does
 * not push one, push the vector, and join trap_common.
 */
	.balign 16
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	/* vectors with an error code: 8, 10-14, 17, 21, 29, 30 */
	.set errcode, vec == 8 || (vec >= 10 && vec <= 14) || vec == 17
	.set errcode, errcode || vec == 21 || vec == 29 || vec == 30
	.if errcode == 0
	pushq $0
	.endif
	pushq $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

/* Builds struct trap_frame (desc.h) and calls trap_dispatch(frame). */
trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	cld
	call trap_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp			/* vector and error code */
	iretq

/*
 * u64 run_user_asm(u64 (*fn)(u64), u64 arg, u64 user_rsp, u64 rflags)
 * Saves the callee-saved registers, points TSS.RSP0 just below them and
 * iretq's to user_entry at CPL3.  user_return() unwinds back here.
 */
	.globl run_user_asm
run_user_asm:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %gs:PERCPU_USER_RSP
	movq %gs:PERCPU_TSS, %rax
	movq %rsp, 4(%rax)		/* TSS.RSP0 */
	pushq $SEL_UDATA
	pushq %rdx
	pushq %rcx
	pushq $SEL_UCODE
	leaq user_entry(%rip), %rax
	pushq %rax
	iretq

/* CPL3: rdi = fn, rsi = arg, survived the iretq. */
user_entry:
	movq %rdi, %rax
	movq %rsi, %rdi
	call *%rax
	movq %rax, %rdi
	int $VEC_USER_RETURN
	ud2

/* void user_return(u64 value): back to run_user_asm's caller (CPL0). */
	.globl user_return
user_return:
	movq %rdi, %rax
	movq %gs:PERCPU_USER_RSP, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.section .note.GNU-stack, "", @progbits
