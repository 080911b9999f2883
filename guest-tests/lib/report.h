/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test result lines on the console, and leaving the VM.
 *
 *	PASS: <message>
 *	FAIL: <message>
 *	SKIP: <message>
 *	SUMMARY: <N> passed, <M> failed, <K> skipped
 *
 * Any CPU may report; the counters are atomic.
 */
#ifndef GUEST_REPORT_H
#define GUEST_REPORT_H

#include <stdbool.h>

#include "x86.h"

#define EXIT_PORT	0xf4

/* Prints PASS or FAIL with the message; returns @ok. */
#define report(ok, ...)	report_at(__FILE__, __LINE__, (ok), __VA_ARGS__)
bool report_at(const char *file, int line, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prints SKIP with the message: a check that cannot run here. */
void report_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Names the test that is about to run; an unexpected exception then says
 * where the guest was ("in 'name' after x86/foo.c:42").
 */
#define test_begin(name) report_mark(__FILE__, __LINE__, (name))
void report_mark(const char *file, int line, const char *name);

/* "in 'name' after file:line" for the last test_begin()/report(). */
const char *report_where(void);

int report_failures(void);

/* Prints the SUMMARY line and exits: status 0 if nothing failed, else 1. */
void __noreturn report_summary(void);

/*
 * Writes @status to the exit port (a 4-byte out).  Should the VM still
 * run afterwards, says so and resets it (i8042), then triple-faults, so
 * the VMM sees a distinct failure rather than a hang.
 */
void __noreturn exit_guest(u32 status);

/* The fallback half of exit_guest(), for guests doing their own out. */
void __noreturn exit_port_failed(void);

#endif
