// SPDX-License-Identifier: Apache-2.0
/*
 * "wisp run" option parsing.  Each option is one table entry: its name,
 * whether it takes a value, its help text and its parser, so that adding
 * an option touches one place.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../devices/virtio/balloon.h"
#include "../devices/virtio/blk.h"
#include "../devices/virtio/net.h"
#include "config.h"
#include "control.h"
#include "migrate.h"

int parse_size(const char *s, uint64_t bare_unit, uint64_t *out)
{
	uint64_t value = 0, unit = bare_unit;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int digit = *p - '0';

		if (value > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		value = value * 10 + digit;
	}
	if (*p) {
		switch (toupper((unsigned char)*p)) {
		case 'K': unit = 1ULL << 10; break;
		case 'M': unit = 1ULL << 20; break;
		case 'G': unit = 1ULL << 30; break;
		case 'T': unit = 1ULL << 40; break;
		default: return -EINVAL;
		}
		p++;
		if (*p == 'i' && p[1] == 'B')
			p += 2;
		else if (toupper((unsigned char)*p) == 'B')
			p++;
		if (*p)
			return -EINVAL;
	}
	if (value && unit > UINT64_MAX / value)
		return -ERANGE;
	*out = value * unit;
	return 0;
}

static int parse_cpu_number(const char **p, unsigned int *cpu)
{
	unsigned long v = 0;

	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	while (isdigit((unsigned char)**p)) {
		v = v * 10 + (unsigned int)(**p - '0');
		if (v >= 1024)		/* CPU_SETSIZE */
			return -EINVAL;
		(*p)++;
	}
	*cpu = v;
	return 0;
}

int parse_cpulist(const char *s, uint16_t *cpus, unsigned int max)
{
	const char *p = s;
	unsigned int n = 0;

	for (;;) {
		unsigned int first, last, cpu;

		if (parse_cpu_number(&p, &first))
			return -EINVAL;
		last = first;
		if (*p == '-') {
			p++;
			if (parse_cpu_number(&p, &last) || last < first)
				return -EINVAL;
		}
		for (cpu = first; cpu <= last; cpu++) {
			if (n == max)
				return -E2BIG;
			cpus[n++] = cpu;
		}
		if (!*p)
			return n;
		if (*p != ',')
			return -EINVAL;
		p++;
	}
}

#define usage_err(err, ...) err_set(err, WISP_EXIT_USAGE, EINVAL, __VA_ARGS__)

/* Option parsers: return 0 or an error set through usage_err(). */

static int opt_name(struct vm_config *cfg, const char *v, struct wisp_err *err)
{
	size_t len = strlen(v);
	size_t i;

	if (!len || len > WISP_NAME_MAX || v[0] == '.' || v[0] == '-')
		goto bad;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)v[i]) && !strchr("._-", v[i]))
			goto bad;
	memcpy(cfg->name, v, len + 1);
	return 0;
bad:
	return usage_err(err, "--name: '%s' is not a valid name (1-64 of A-Z a-z 0-9 . _ -, not starting with . or -)",
			 v);
}

static int opt_cpus(struct vm_config *cfg, const char *v, struct wisp_err *err)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || errno || n < 1 ||
	    n > WISP_MAX_CPUS)
		return usage_err(err, "--cpus: '%s' is not a vCPU count from 1 to %d",
				 v, WISP_MAX_CPUS);
	cfg->cpus = n;
	return 0;
}

static int opt_mem(struct vm_config *cfg, const char *v, struct wisp_err *err)
{
	uint64_t size;
	int ret = parse_size(v, 1ULL << 20, &size);

	if (ret == -ERANGE || (!ret && size > WISP_MAX_MEM))
		return usage_err(err, "--mem: '%s' is too large (at most %s)",
				 v, "1T");
	if (ret)
		return usage_err(err, "--mem: '%s' is not a size (a number of MiB, or a number with K, M, G or T)",
				 v);
	if (size < WISP_MIN_MEM)
		return usage_err(err, "--mem: '%s' is too small (at least %s)",
				 v, "16M");
	if (size & 0xfff)
		return usage_err(err, "--mem: '%s' is not a multiple of 4 KiB",
				 v);
	cfg->mem_size = size;
	return 0;
}

static int opt_kernel(struct vm_config *cfg, const char *v,
		      struct wisp_err *err)
{
	if (cfg->kernel)
		return usage_err(err, "more than one kernel given ('%s' and '%s')",
				 cfg->kernel, v);
	if (!*v)
		return usage_err(err, "--kernel: empty file name");
	cfg->kernel = v;
	return 0;
}

static int opt_initrd(struct vm_config *cfg, const char *v,
		      struct wisp_err *err)
{
	if (!*v)
		return usage_err(err, "--initrd: empty file name");
	cfg->initrd = v;
	return 0;
}

static int opt_cmdline(struct vm_config *cfg, const char *v,
		       struct wisp_err *err)
{
	(void)err;
	cfg->cmdline = v;
	return 0;
}

static int opt_no_default_cmdline(struct vm_config *cfg, const char *v,
				  struct wisp_err *err)
{
	(void)v;
	(void)err;
	cfg->no_default_cmdline = true;
	return 0;
}

static int opt_reboot(struct vm_config *cfg, const char *v,
		      struct wisp_err *err)
{
	if (!strcmp(v, "exit"))
		cfg->reboot = REBOOT_EXIT;
	else if (!strcmp(v, "restart"))
		cfg->reboot = REBOOT_RESTART;
	else
		return usage_err(err, "--reboot: '%s' is not one of exit, restart",
				 v);
	return 0;
}

static int opt_exit_stats(struct vm_config *cfg, const char *v,
			  struct wisp_err *err)
{
	(void)v;
	(void)err;
	cfg->exit_stats = true;
	return 0;
}

static int opt_disk(struct vm_config *cfg, const char *v, struct wisp_err *err)
{
	struct blk_options *o = malloc(sizeof(*o));
	char msg[200];
	int ret;

	if (!o)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	ret = blk_parse_options(v, o, msg, sizeof(msg));
	free(o);
	if (ret)
		return usage_err(err, "--disk: %s", msg);
	if (cfg->n_disks == WISP_MAX_DISKS)
		return usage_err(err, "--disk: at most %d disks", WISP_MAX_DISKS);
	cfg->disks[cfg->n_disks++] = v;
	return 0;
}

static int opt_net(struct vm_config *cfg, const char *v, struct wisp_err *err)
{
	struct net_options o;
	char msg[200];

	if (net_parse_options(v, &o, msg, sizeof(msg)))
		return usage_err(err, "--net: %s", msg);
	if (cfg->n_nets == WISP_MAX_NETS)
		return usage_err(err, "--net: at most %d network devices",
				 WISP_MAX_NETS);
	cfg->nets[cfg->n_nets++] = v;
	return 0;
}

static int opt_pin(struct vm_config *cfg, const char *v, struct wisp_err *err)
{
	int n = parse_cpulist(v, cfg->pin, WISP_MAX_CPUS);

	if (n < 0)
		return usage_err(err, "--pin: '%s' is not a CPU list (like 0,2-3; CPUs below 1024)",
				 v);
	cfg->n_pin = n;
	return 0;
}

static int opt_ksm(struct vm_config *cfg, const char *v, struct wisp_err *err)
{
	(void)v;
	(void)err;
	cfg->ksm = true;
	return 0;
}

static int opt_balloon(struct vm_config *cfg, const char *v,
		       struct wisp_err *err)
{
	char msg[200];

	if (cfg->balloon)
		return usage_err(err, "--balloon given twice");
	if (balloon_parse_options(v ? v : "", &cfg->balloon_opts, msg,
				  sizeof(msg)))
		return usage_err(err, "--balloon: %s", msg);
	cfg->balloon = true;
	return 0;
}

static int opt_hugepages(struct vm_config *cfg, const char *v,
			 struct wisp_err *err)
{
	(void)v;
	(void)err;
	cfg->hugepages = true;
	return 0;
}

static int opt_console(struct vm_config *cfg, const char *v,
		       struct wisp_err *err)
{
	if (!strcmp(v, "stdio")) {
		cfg->console = CONSOLE_STDIO;
	} else if (!strcmp(v, "none")) {
		cfg->console = CONSOLE_NONE;
	} else if (!strncmp(v, "file=", 5) && v[5]) {
		cfg->console = CONSOLE_FILE;
		cfg->console_path = v + 5;
	} else {
		return usage_err(err, "--console: '%s' is not one of stdio, none, file=PATH",
				 v);
	}
	return 0;
}

static int opt_timeout(struct vm_config *cfg, const char *v,
		       struct wisp_err *err)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || errno || !n ||
	    n > 1000000000UL)
		return usage_err(err, "--timeout: '%s' is not a number of seconds from 1 to 1000000000",
				 v);
	cfg->timeout_sec = n;
	return 0;
}

static int opt_api(struct vm_config *cfg, const char *v, struct wisp_err *err)
{
	if (!*v || strlen(v) >= CONTROL_PATH_MAX)
		return usage_err(err, "--api: '%s' is not a socket path (1-%d bytes) or 'none'",
				 v, CONTROL_PATH_MAX - 1);
	cfg->no_api = !strcmp(v, "none");
	cfg->api = cfg->no_api ? NULL : v;
	return 0;
}

static int opt_metrics_listen(struct vm_config *cfg, const char *v,
			      struct wisp_err *err)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char msg[160];

	if (control_parse_listen(v, &sa, &len, msg, sizeof(msg)))
		return usage_err(err, "--metrics-listen: %s", msg);
	cfg->metrics_listen = v;
	return 0;
}

static int opt_metrics_listen_any(struct vm_config *cfg, const char *v,
				  struct wisp_err *err)
{
	(void)v;
	(void)err;
	cfg->metrics_listen_any = true;
	return 0;
}

static int opt_incoming(struct vm_config *cfg, const char *v,
			struct wisp_err *err)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char msg[200];

	if (migrate_parse_uri(v, &sa, &len, msg, sizeof(msg)))
		return usage_err(err, "--incoming: %s", msg);
	cfg->incoming = v;
	return 0;
}

static int opt_verbose(struct vm_config *cfg, const char *v,
		       struct wisp_err *err)
{
	(void)v;
	(void)err;
	cfg->verbose++;
	return 0;
}

static int opt_help(struct vm_config *cfg, const char *v, struct wisp_err *err)
{
	(void)v;
	(void)err;
	cfg->action = ACTION_HELP;
	return 0;
}

static int opt_version(struct vm_config *cfg, const char *v,
		       struct wisp_err *err)
{
	(void)v;
	(void)err;
	cfg->action = ACTION_VERSION;
	return 0;
}

struct option_desc {
	const char *name;
	char short_name;
	const char *arg;	/* NULL: takes no value */
	const char *help;
	int (*parse)(struct vm_config *cfg, const char *value,
		     struct wisp_err *err);
};

/* An @arg "[=...]": the value only as --name=VALUE, else NULL. */
static bool optional_value(const struct option_desc *opt)
{
	return opt->arg && opt->arg[0] == '[';
}

static const struct option_desc options[] = {
	{ "kernel", 0, "FILE", "guest kernel: bzImage, or ELF with a PVH note (or give it as the last argument)", opt_kernel },
	{ "name", 0, "NAME", "name of this VM (default wisp-PID)", opt_name },
	{ "cpus", 0, "N", "number of vCPUs (default 1)", opt_cpus },
	{ "mem", 0, "SIZE", "guest RAM, with K/M/G/T suffix; a bare number is MiB (default 256M)", opt_mem },
	{ "cmdline", 0, "STR", "kernel command line, appended to wisp's (console=ttyS0 ...); yours wins", opt_cmdline },
	{ "no-default-cmdline", 0, NULL, "pass only --cmdline, without wisp's platform part", opt_no_default_cmdline },
	{ "initrd", 0, "FILE", "initial ramdisk", opt_initrd },
	{ "disk", 0, "SPEC", "virtio-blk disk (repeatable): " BLK_OPTIONS_HELP, opt_disk },
	{ "net", 0, "SPEC", "virtio-net on a tap (repeatable): " NET_OPTIONS_HELP, opt_net },
	{ "pin", 0, "CPULIST", "pin vCPU i to the i-th host CPU of CPULIST (like 0,2-3)", opt_pin },
	{ "hugepages", 0, NULL, "back guest RAM with 2 MiB hugetlb pages", opt_hugepages },
	{ "ksm", 0, NULL, "let KSM merge identical guest pages (not with --hugepages)", opt_ksm },
	{ "balloon", 0, "[=LIST]", "virtio-balloon; LIST: " BALLOON_OPTIONS_HELP " (see docs/memory.md)", opt_balloon },
	{ "console", 0, "KIND", "serial console: stdio (default), none, file=PATH", opt_console },
	{ "timeout", 0, "SECONDS", "stop the VM after SECONDS (exit status 83)", opt_timeout },
	{ "reboot", 0, "POLICY", "on a guest reset or reboot: exit (status 80, default) or restart", opt_reboot },
	{ "api", 0, "PATH", "control socket (default: /run/wisp/NAME.sock for root, else $XDG_RUNTIME_DIR/wisp/NAME.sock), or none", opt_api },
	{ "metrics-listen", 0, "ADDR:PORT", "serve Prometheus metrics over HTTP at ADDR:PORT (loopback only, unless --metrics-listen-any)", opt_metrics_listen },
	{ "metrics-listen-any", 0, NULL, "let --metrics-listen take any address", opt_metrics_listen_any },
	{ "incoming", 0, "tcp:ADDR:PORT", "wait for a VM migrated from another wisp (wisp migrate), then run it", opt_incoming },
	{ "exit-stats", 0, NULL, "at the end, print each vCPU's exits by reason and wisp's handling time", opt_exit_stats },
	{ "verbose", 'v', NULL, "say more about what wisp does (repeat for more)", opt_verbose },
	{ "help", 'h', NULL, "show this help", opt_help },
	{ "version", 'V', NULL, "show the version", opt_version },
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static const struct option_desc *find_option(const char *arg, size_t *name_len)
{
	size_t i;

	if (arg[0] == '-' && arg[1] != '-') {
		for (i = 0; i < N_OPTIONS; i++)
			if (options[i].short_name && arg[1] == options[i].short_name &&
			    !arg[2]) {
				*name_len = 1;
				return &options[i];
			}
		return NULL;
	}
	arg += 2;
	*name_len = strcspn(arg, "=");
	for (i = 0; i < N_OPTIONS; i++)
		if (strlen(options[i].name) == *name_len &&
		    !strncmp(arg, options[i].name, *name_len))
			return &options[i];
	return NULL;
}

int config_parse(int argc, char **argv, struct vm_config *cfg,
		 struct wisp_err *err)
{
	int i, ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->action = ACTION_RUN;
	cfg->argc = argc;
	cfg->argv = argv;
	cfg->cpus = 1;
	cfg->mem_size = 256ULL << 20;
	cfg->console = CONSOLE_STDIO;
	snprintf(cfg->name, sizeof(cfg->name), "wisp-%ld", (long)getpid());

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const struct option_desc *opt;
		const char *value = NULL;
		size_t name_len;

		if (arg[0] != '-' || !arg[1]) {
			ret = opt_kernel(cfg, arg, err);
			if (ret)
				return ret;
			continue;
		}
		if (!strcmp(arg, "--")) {
			if (i + 2 < argc)
				return usage_err(err, "unexpected argument '%s' after the kernel",
						 argv[i + 2]);
			if (i + 1 < argc && (ret = opt_kernel(cfg, argv[i + 1], err)))
				return ret;
			break;
		}
		opt = find_option(arg, &name_len);
		if (!opt)
			return usage_err(err, "unknown option '%s' (see 'wisp run --help')",
					 arg);
		if (arg[1] == '-' && arg[2 + name_len] == '=')
			value = arg + 3 + name_len;
		if (opt->arg && !value && !optional_value(opt)) {
			if (i + 1 >= argc)
				return usage_err(err, "option '%s' needs a value (%s)",
						 arg, opt->arg);
			value = argv[++i];
		} else if (!opt->arg && value) {
			return usage_err(err, "option '--%s' takes no value",
					 opt->name);
		}
		ret = opt->parse(cfg, value, err);
		if (ret)
			return ret;
	}

	if (cfg->action != ACTION_RUN)
		return 0;
	if (!cfg->kernel)
		return usage_err(err, "no kernel given (wisp run [options] KERNEL; see 'wisp run --help')");
	if (cfg->n_pin && cfg->n_pin != cfg->cpus)
		return usage_err(err, "--pin lists %u host CPUs for %u vCPUs (give one per vCPU)",
				 cfg->n_pin, cfg->cpus);
	if (cfg->hugepages && (cfg->mem_size & ((2ULL << 20) - 1)))
		return usage_err(err, "--mem must be a multiple of 2 MiB with --hugepages");
	if (cfg->hugepages && cfg->ksm)
		return usage_err(err, "--ksm cannot merge hugetlb pages: give --ksm or --hugepages, not both");
	if (cfg->metrics_listen && !cfg->metrics_listen_any &&
	    !control_listen_is_loopback(cfg->metrics_listen))
		return usage_err(err, "--metrics-listen: %s is not a loopback address (add --metrics-listen-any to serve metrics to other hosts)",
				 cfg->metrics_listen);
	return 0;
}

void config_print_help(void *out)
{
	FILE *f = out;
	size_t i;

	fputs("usage: wisp run [options] KERNEL\n\n"
	      "Boot KERNEL in a new KVM virtual machine; its serial console is\n"
	      "this terminal (Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A).\n\n"
	      "options:\n", f);
	for (i = 0; i < N_OPTIONS; i++) {
		char left[40];

		if (options[i].short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s",
				 options[i].short_name, options[i].name,
				 options[i].arg ? " " : "",
				 options[i].arg ? options[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s",
				 options[i].name,
				 options[i].arg && !optional_value(&options[i]) ?
				 " " : "",
				 options[i].arg ? options[i].arg : "");
		fprintf(f, "  %-24s %s\n", left, options[i].help);
	}
}
