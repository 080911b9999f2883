// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk.h"

__attribute__((format(printf, 3, 4)))
static int bad(char *msg, size_t msg_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msg_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_onoff(const char *key, const char *v, bool *out, char *msg,
		       size_t msg_len)
{
	if (!strcmp(v, "on")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "off")) {
		*out = false;
		return 0;
	}
	return bad(msg, msg_len, "%s='%s' is not on or off", key, v);
}

/*
 * Copy the next value of @spec (up to an unescaped comma, ",," standing
 * for a comma) into @out (room for @room bytes with the NUL); advance
 * *@spec past it and its comma.  Returns the length, or -E2BIG.
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

int blk_parse_options(const char *spec, struct blk_options *o, char *msg,
		      size_t msg_len)
{
	char value[BLK_PATH_MAX + 1];
	unsigned int seen = 0;
	const char *p = spec;

	memset(o, 0, sizeof(*o));
	if (!*spec)
		return bad(msg, msg_len, "empty: give path=FILE");
	while (*p) {
		size_t key_len = strcspn(p, "=,");
		unsigned int bit;
		char key[16];

		if (p[key_len] != '=' || !key_len || key_len >= sizeof(key))
			return bad(msg, msg_len, "'%.*s' is not KEY=VALUE (keys: path, readonly, direct, serial, queues)",
				   (int)strcspn(p, ","), p);
		memcpy(key, p, key_len);
		key[key_len] = 0;
		p += key_len + 1;
		if (take_value(&p, value, sizeof(value)) < 0)
			return bad(msg, msg_len, "%s: value too long", key);
		if (!strcmp(key, "path"))
			bit = 1;
		else if (!strcmp(key, "readonly"))
			bit = 2;
		else if (!strcmp(key, "direct"))
			bit = 4;
		else if (!strcmp(key, "serial"))
			bit = 8;
		else if (!strcmp(key, "queues"))
			bit = 16;
		else
			return bad(msg, msg_len, "unknown key '%s' (keys: path, readonly, direct, serial, queues)",
				   key);
		if (seen & bit)
			return bad(msg, msg_len, "%s given twice", key);
		seen |= bit;
		if (bit == 1) {
			if (!*value)
				return bad(msg, msg_len, "path is empty");
			if (strlen(value) >= sizeof(o->path))
				return bad(msg, msg_len, "path too long");
			strcpy(o->path, value);
		} else if (bit == 2 || bit == 4) {
			if (parse_onoff(key, value, bit == 2 ? &o->readonly :
					&o->direct, msg, msg_len))
				return -EINVAL;
		} else if (bit == 8) {
			size_t i, n = strlen(value);

			if (n > BLK_SERIAL_MAX)
				return bad(msg, msg_len, "serial '%s' is longer than %d bytes",
					   value, BLK_SERIAL_MAX);
			for (i = 0; i < n; i++)
				if (value[i] < 0x21 || value[i] > 0x7e)
					return bad(msg, msg_len, "serial '%s' has a character that is not printable ASCII",
						   value);
			strcpy(o->serial, value);
		} else {
			char *end;
			unsigned long q = strtoul(value, &end, 10);

			if (!*value || *end || value[0] == '-' || !q ||
			    q > BLK_MAX_QUEUES)
				return bad(msg, msg_len, "queues='%s' is not a number from 1 to %d",
					   value, BLK_MAX_QUEUES);
			o->queues = q;
		}
	}
	if (!(seen & 1))
		return bad(msg, msg_len, "no path= given");
	return 0;
}
