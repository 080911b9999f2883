/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Everything a test guest needs.  A guest defines `int main(void)`; the
 * library boots, runs it on the BSP, then prints the summary and exits.
 */
#ifndef GUEST_H
#define GUEST_H

#include "apic.h"
#include "boot.h"
#include "desc.h"
#include "libc.h"
#include "printf.h"
#include "report.h"
#include "serial.h"
#include "smp.h"
#include "testdev.h"
#include "tsc.h"
#include "user.h"
#include "x86.h"

#endif
