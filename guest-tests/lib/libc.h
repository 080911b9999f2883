/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The few C library functions the guests need (the compiler may also emit
 * calls to mem* on its own), and integer parsing.
 */
#ifndef GUEST_LIBC_H
#define GUEST_LIBC_H

#include <stddef.h>

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/*
 * Parses an unsigned number, decimal or 0x-prefixed hex, from @s.  Sets
 * *@end to the first character not used.  Returns the value (0 if none).
 */
unsigned long strtoul(const char *s, const char **end);

#endif
