// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "cmdline.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/*
 * Find the next word of @s at or after *@pos: its start and length.  A
 * word ends at a space outside double quotes.  Returns false at the end.
 */
static bool next_word(const char *s, size_t *pos, size_t *start, size_t *len)
{
	size_t i = *pos;
	bool quoted = false;

	while (s[i] && is_space(s[i]))
		i++;
	if (!s[i])
		return false;
	*start = i;
	for (; s[i] && (quoted || !is_space(s[i])); i++)
		if (s[i] == '"')
			quoted = !quoted;
	*len = i - *start;
	*pos = i;
	return true;
}

/* Length of the parameter name of the word at @w (@len bytes). */
static size_t name_length(const char *w, size_t len)
{
	size_t i = 0;

	if (len && w[0] == '"')		/* "name=value with spaces" */
		i = 1;
	while (i < len && w[i] != '=' && w[i] != '"')
		i++;
	return i;
}

static bool same_name(const char *a, size_t a_len, const char *b, size_t b_len)
{
	size_t i;

	if (a_len && *a == '"') {
		a++;
		a_len--;
	}
	if (b_len && *b == '"') {
		b++;
		b_len--;
	}
	if (a_len != b_len)
		return false;
	for (i = 0; i < a_len; i++) {
		char x = a[i] == '-' ? '_' : a[i];
		char y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return true;
}

/* Does @user (before its "--") set the parameter named @name? */
static bool user_sets(const char *user, const char *name, size_t name_len)
{
	size_t pos = 0, start, len;

	while (user && next_word(user, &pos, &start, &len)) {
		if (len == 2 && !memcmp(user + start, "--", 2))
			return false;
		if (same_name(user + start, name_length(user + start, len),
			      name, name_len))
			return true;
	}
	return false;
}

/* Append @len bytes of @s, with a space before it unless first. */
static bool append(char *out, size_t size, size_t *used, const char *s,
		   size_t len)
{
	size_t need = len + (*used ? 1 : 0);

	if (need >= size - *used)
		return false;
	if (*used)
		out[(*used)++] = ' ';
	memcpy(out + *used, s, len);
	*used += len;
	out[*used] = '\0';
	return true;
}

long cmdline_compose(char *out, size_t size, const char *platform,
		     const char *user)
{
	size_t pos = 0, start, len, used = 0;

	if (!size)
		return -E2BIG;
	out[0] = '\0';
	while (platform && next_word(platform, &pos, &start, &len)) {
		if (user_sets(user, platform + start,
			      name_length(platform + start, len)))
			continue;
		if (!append(out, size, &used, platform + start, len))
			return -E2BIG;
	}
	if (user && *user && !append(out, size, &used, user, strlen(user)))
		return -E2BIG;
	return used;
}
