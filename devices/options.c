// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

int opt_bad(char *msg, size_t msg_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msg_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * Copy the next value of @spec (up to an unescaped comma) into @out (room
 * for @room bytes with the NUL); advance *@spec past it and its comma.
 * Returns the length, or -E2BIG.
 */
static long take_value(const char **spec, char *out, size_t room)
{
	const char *p = *spec;
	size_t n = 0;

	while (*p && !(p[0] == ',' && p[1] != ',')) {
		char c = *p;

		p += (p[0] == ',' && p[1] == ',') ? 2 : 1;
		if (n + 1 >= room)
			return -E2BIG;
		out[n++] = c;
	}
	out[n] = 0;
	*spec = *p ? p + 1 : p;
	return n;
}

int opt_next(const char **spec, char key[OPT_KEY_MAX], char *value,
	     size_t value_room, const char *keys, char *msg, size_t msg_len)
{
	const char *p = *spec;
	size_t key_len;

	if (!*p)
		return 0;
	key_len = strcspn(p, "=,");
	if (p[key_len] != '=' || !key_len || key_len >= OPT_KEY_MAX)
		return opt_bad(msg, msg_len, "'%.*s' is not KEY=VALUE (keys: %s)",
			       (int)strcspn(p, ","), p, keys);
	memcpy(key, p, key_len);
	key[key_len] = 0;
	p += key_len + 1;
	if (take_value(&p, value, value_room) < 0)
		return opt_bad(msg, msg_len, "%s: value too long", key);
	*spec = p;
	return 1;
}

int opt_key(const char *key, const char *const *keys, unsigned int *seen,
	    const char *help, char *msg, size_t msg_len)
{
	unsigned int i;

	for (i = 0; keys[i]; i++)
		if (!strcmp(key, keys[i]))
			break;
	if (!keys[i])
		return opt_bad(msg, msg_len, "unknown key '%s' (keys: %s)", key,
			       help);
	if (*seen & 1u << i)
		return opt_bad(msg, msg_len, "%s given twice", key);
	*seen |= 1u << i;
	return i;
}

int opt_onoff(const char *key, const char *value, bool *out, char *msg,
	      size_t msg_len)
{
	if (!strcmp(value, "on")) {
		*out = true;
		return 0;
	}
	if (!strcmp(value, "off")) {
		*out = false;
		return 0;
	}
	return opt_bad(msg, msg_len, "%s='%s' is not on or off", key, value);
}

int opt_uint(const char *key, const char *value, unsigned long min,
	     unsigned long max, unsigned long *out, char *msg, size_t msg_len)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (!*value || *end || value[0] == '-' || value[0] == '+' ||
	    value[0] == ' ' || errno || v < min || v > max)
		return opt_bad(msg, msg_len, "%s='%s' is not a number from %lu to %lu",
			       key, value, min, max);
	*out = v;
	return 0;
}
