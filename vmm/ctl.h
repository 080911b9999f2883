/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control client: "wisp list|info|pause|resume|shutdown|stop|stat",
 * each a client of a running VM's control socket (docs/control.md).
 */
#ifndef WISP_CTL_H
#define WISP_CTL_H

#include <stdbool.h>

/* Is @cmd one of the control subcommands? */
bool ctl_is_command(const char *cmd);

/*
 * Run control subcommand argv[0] with its arguments; returns the exit
 * status (docs/control.md, "The command line").
 */
int ctl_main(int argc, char **argv);

#endif
