// SPDX-License-Identifier: Apache-2.0
/* Placeholder until the control client lands (docs/control.md). */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "error.h"

bool ctl_is_command(const char *cmd)
{
	static const char *const cmds[] = {
		"list", "info", "pause", "resume", "shutdown", "stop", "stat",
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmd, cmds[i]))
			return true;
	return false;
}

int ctl_main(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "wisp: %s: not built yet\n", argv[0]);
	return WISP_EXIT_SOFTWARE;
}
