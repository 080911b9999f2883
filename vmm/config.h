/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command line of "wisp run", parsed into a struct vm_config.  The
 * parser owns no memory: strings point into argv.  Option help text lives
 * in config.c beside each option's parser.
 */
#ifndef WISP_CONFIG_H
#define WISP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "../devices/virtio/balloon.h"
#include "error.h"

#define WISP_MAX_CPUS		254	/* xAPIC IDs; 0xff is broadcast */
#define WISP_MIN_MEM		(16ULL << 20)
#define WISP_MAX_MEM		(1ULL << 40)
#define WISP_NAME_MAX		64

enum console_kind {
	CONSOLE_STDIO,
	CONSOLE_NONE,
	CONSOLE_FILE,
};

enum reboot_policy {
	REBOOT_EXIT,		/* a guest reset ends wisp with status 80 */
	REBOOT_RESTART,		/* a guest reset boots the VM again */
};

enum config_action {
	ACTION_RUN,
	ACTION_HELP,
	ACTION_VERSION,
};

#define WISP_MAX_DISKS		16
#define WISP_MAX_NETS		8

struct vm_config {
	enum config_action action;
	int argc;			/* the arguments parsed (a snapshot keeps them) */
	char **argv;
	char name[WISP_NAME_MAX + 1];
	unsigned int cpus;
	uint64_t mem_size;		/* bytes */
	const char *kernel;
	const char *initrd;
	const char *cmdline;		/* NULL when not given */
	bool no_default_cmdline;	/* drop wisp's platform parameters */
	enum reboot_policy reboot;
	unsigned int n_pin;		/* 0: no pinning */
	uint16_t pin[WISP_MAX_CPUS];	/* host CPU of vCPU i */
	bool hugepages;
	bool ksm;			/* MADV_MERGEABLE guest RAM */
	bool balloon;			/* --balloon given */
	struct balloon_options balloon_opts;
	enum console_kind console;
	const char *console_path;	/* CONSOLE_FILE */
	unsigned int timeout_sec;	/* 0: none */
	int verbose;
	bool exit_stats;		/* per-vCPU exit counts and handling times */
	unsigned int n_disks;
	const char *disks[WISP_MAX_DISKS];	/* --disk specs, checked */
	unsigned int n_nets;
	const char *nets[WISP_MAX_NETS];	/* --net specs, checked */
	const char *api;		/* --api PATH; NULL: the default */
	bool no_api;			/* --api none */
	const char *metrics_listen;	/* --metrics-listen ADDR:PORT, checked */
	bool metrics_listen_any;	/* also non-loopback addresses */
	const char *incoming;		/* --incoming tcp:ADDR:PORT, checked */
};

/*
 * Parse the arguments of "wisp run" (argv[0] is "run").  Fills @cfg with
 * defaults first; on a malformed or inconsistent option returns -EINVAL
 * with @err set to a one-line message and WISP_EXIT_USAGE.  Does not touch
 * the filesystem.  Thread: any.
 */
int config_parse(int argc, char **argv, struct vm_config *cfg,
		 struct wisp_err *err);

/*
 * Parse a size: digits with an optional K, M, G or T suffix (powers of
 * 1024).  A bare number is multiplied by @bare_unit.  Returns 0, or
 * -EINVAL for garbage and -ERANGE on overflow.
 */
int parse_size(const char *s, uint64_t bare_unit, uint64_t *out);

/*
 * Parse a CPU list such as "0,2-3" into @cpus (at most @max entries, in
 * the order written).  Returns the number of entries, or -EINVAL (syntax,
 * descending range, CPU >= 1024) or -E2BIG (more than @max entries).
 */
int parse_cpulist(const char *s, uint16_t *cpus, unsigned int max);

/* Print the help text of "wisp run" to @out (a FILE *). */
void config_print_help(void *out);

#endif
