// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <string.h>

#include "error.h"

int err_set(struct wisp_err *err, int status, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (err && !err->status) {
		err->status = status;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

void err_prefix(struct wisp_err *err, const char *prefix)
{
	size_t cap = sizeof(err->msg) - 1;
	size_t plen = strlen(prefix) + 2;	/* "prefix: " */
	size_t mlen = strlen(err->msg);

	if (plen > cap)
		plen = cap;
	if (mlen > cap - plen)
		mlen = cap - plen;
	memmove(err->msg + plen, err->msg, mlen);
	memcpy(err->msg, prefix, plen - 2);
	memcpy(err->msg + plen - 2, ": ", 2);
	err->msg[plen + mlen] = '\0';
}
