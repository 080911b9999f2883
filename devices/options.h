/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device sub-options: "key=value,key=value,...", as --disk and --net take
 * them.  A comma inside a value is written ",,".  Parsing helpers only:
 * each device keeps its own keys and checks (architecture.md, rule 9).
 */
#ifndef WISP_DEVICES_OPTIONS_H
#define WISP_DEVICES_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#define OPT_KEY_MAX	24	/* bytes with the NUL */

/*
 * Take the next "key=value" of *@spec into @key and @value (room for
 * @value_room bytes with the NUL) and advance *@spec past it.  Returns 1,
 * 0 at the end of the spec, or -EINVAL with a one-line message in @msg
 * ("'X' is not KEY=VALUE (keys: @keys)", "KEY: value too long").
 */
int opt_next(const char **spec, char key[OPT_KEY_MAX], char *value,
	     size_t value_room, const char *keys, char *msg, size_t msg_len);

/*
 * Which of the NULL-terminated @keys @key is: returns its index, marking
 * it in *@seen, or -EINVAL with "unknown key 'K' (keys: @help)" or "K given
 * twice" in @msg.
 */
int opt_key(const char *key, const char *const *keys, unsigned int *seen,
	    const char *help, char *msg, size_t msg_len);

/* "on" or "off" into *@out; else -EINVAL with a message. */
int opt_onoff(const char *key, const char *value, bool *out, char *msg,
	      size_t msg_len);

/*
 * A decimal number from @min to @max into *@out; else -EINVAL with
 * "KEY='V' is not a number from MIN to MAX".
 */
int opt_uint(const char *key, const char *value, unsigned long min,
	     unsigned long max, unsigned long *out, char *msg, size_t msg_len);

/* Format a message into @msg and return -EINVAL. */
int opt_bad(char *msg, size_t msg_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
