// SPDX-License-Identifier: Apache-2.0
#include "smp.h"
#include "user.h"

u64 run_user_asm(u64 (*fn)(u64), u64 arg, u64 user_rsp, u64 rflags);

static char ustacks[MAX_CPUS][USTACK_SIZE] __aligned(4096);

u64 run_user(u64 (*fn)(u64), u64 arg)
{
	u64 flags = save_flags();
	u64 top = (u64)ustacks[cpu_id()] + USTACK_SIZE;
	u64 uflags = (flags & X86_EFLAGS_IF) | X86_EFLAGS_IOPL3 | 0x2;
	u64 ret;

	ret = run_user_asm(fn, arg, top, uflags);
	restore_flags(flags);
	return ret;
}
