/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Formatted output.  Conversions: %d %i %u %x %X %p %s %c %%, with flags
 * '-' '0' '#', a width (or '*'), a precision for %s, and the length
 * modifiers h hh l ll z.
 */
#ifndef GUEST_PRINTF_H
#define GUEST_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Like C's: returns the length the full output would have had. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Formats into a 512-byte buffer (longer output is cut) and writes it to
 * the serial port under the serial lock, so lines from several CPUs do not
 * mix.  Any CPU, CPL0 or CPL3.
 */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);

/* As printf, but without the lock: for the fatal-trap path only. */
void printf_unlocked(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
