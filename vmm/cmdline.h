/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Linux command line wisp passes: its platform part (what the virtual
 * hardware needs, CMDLINE_PLATFORM) followed by the user's --cmdline.  A
 * parameter the user sets replaces wisp's: wisp's word is dropped when the
 * user's line (before a "--", after which words belong to init) has a word
 * with the same name, comparing names as the kernel does ('-' equals '_').
 * Double quotes group words as in the kernel's parser.
 */
#ifndef WISP_CMDLINE_H
#define WISP_CMDLINE_H

#include <stddef.h>

#define CMDLINE_PLATFORM	"console=ttyS0"

/*
 * Write @platform's words not overridden by @user, then @user (may be
 * NULL), separated by single spaces, NUL-terminated, into @out (@size
 * bytes).  Returns the length, or -E2BIG when it does not fit (@out then
 * holds a truncated, still terminated string when @size is not 0).
 */
long cmdline_compose(char *out, size_t size, const char *platform,
		     const char *user);

#endif
