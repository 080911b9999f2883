/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition (format 0.0.4) of a VM's counters: the
 * "stat" object of the control protocol (docs/control.md) turned into the
 * metrics docs/control.md lists.  Pure: no I/O.
 */
#ifndef WISP_METRICS_H
#define WISP_METRICS_H

#include <json-c/json.h>

/*
 * The metrics of @stat, as a malloc'd NUL-terminated text; NULL when out
 * of memory.  Missing or mistyped fields count as 0.
 */
char *metrics_format(struct json_object *stat);

#endif
