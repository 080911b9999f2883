/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running code at CPL3.  The whole identity map is user-accessible, so
 * user code sees all of RAM and may call library code; it runs with
 * IOPL 3, so it may also use in/out (printf works).
 */
#ifndef GUEST_USER_H
#define GUEST_USER_H

#include "x86.h"

/*
 * Runs @fn(@arg) at CPL3 on this CPU's user stack and returns its
 * result.  Interrupts are enabled in user mode iff they were enabled at
 * the call.  @fn returns to CPL0 through `int $0x80` (a DPL3 gate).  Not
 * reentrant; CPL0 only.
 */
u64 run_user(u64 (*fn)(u64), u64 arg);

/* Used by trap dispatch: unwinds to run_user() returning @value. */
void __noreturn user_return(u64 value);

#endif
