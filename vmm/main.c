// SPDX-License-Identifier: Apache-2.0
/*
 * wisp: a minimal KVM virtual machine monitor.  main() is the only place
 * that prints a fatal error and exits.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "control.h"
#include "ctl.h"
#include "error.h"
#include "migrate.h"
#include "snapshot.h"
#include "vm.h"

#ifndef WISP_VERSION
#define WISP_VERSION "0.1.0"
#endif

static const char exit_status_help[] =
	"exit status:\n"
	"  0       guest powered off, or wrote 0 to the exit port\n"
	"  1-63    the value the guest wrote to the exit port 0xf4 (above 63: 63)\n"
	"  64      bad usage          65  bad kernel, initrd or image\n"
	"  66      input file missing 69  /dev/kvm, a tap or the name unavailable\n"
	"  70      internal error     71  host resources (memory, hugepages, threads)\n"
	"  80      guest reset or reboot (unless --reboot=restart)\n"
	"  81      guest panic        82  triple fault or KVM failure\n"
	"  83      --timeout expired  84  stopped from outside (Ctrl-A x, wisp stop,\n"
	"                                 wisp snapshot)\n"
	"  85      migrated: the VM runs on in another wisp (wisp migrate)\n"
	"  128+N   stopped by signal N (SIGINT 130, SIGTERM 143)\n";

static void print_help(FILE *out)
{
	fputs("wisp " WISP_VERSION ": a minimal KVM virtual machine monitor\n\n", out);
	config_print_help(out);
	fputs("\nother commands (docs/control.md):\n"
	      "  wisp list                         the running VMs\n"
	      "  wisp info|pause|resume|stop NAME\n"
	      "  wisp shutdown NAME [--timeout S]  press the power button\n"
	      "  wisp stat NAME [--json|--prometheus] [--watch [S]]\n"
	      "  wisp balloon NAME [SIZE] [--stats]  the balloon's target and state\n"
	      "  wisp snapshot NAME DIR [--resume]  save the VM in DIR (docs/snapshot.md)\n"
	      "  wisp restore DIR [OPTIONS]        run the VM saved in DIR\n"
	      "  wisp migrate NAME tcp:HOST:PORT [--downtime MS]  move the VM to a\n"
	      "                                    wisp run ... --incoming tcp:ADDR:PORT\n"
	      "  wisp --help | --version\n", out);
	fputs("\nexamples:\n"
	      "  wisp run --cpus 2 --mem 256M build/guest-tests/hello.elf\n"
	      "  wisp run --mem 1G --cmdline 'quiet' --initrd initrd.img bzImage\n"
	      "  wisp run --cpus 2 --pin 2,3 --hugepages --timeout 60 guest.elf\n\n",
	      out);
	fputs(exit_status_help, out);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Run the VM of @cfg (from @restore's snapshot first, when given) until
 * it ends; returns the exit status.
 */
static int run_vm(const struct vm_config *cfg, struct snapshot *restore)
{
	struct wisp_err err = { 0 };
	struct vm_backends backends = { 0 };
	uint64_t deadline_ns = 0;
	struct control *ctl;
	struct vm vm;
	int status;

	if (cfg->timeout_sec)
		deadline_ns = monotonic_ns() + cfg->timeout_sec * 1000000000ULL;
	/* The name first: a second VM of that name fails before anything. */
	ctl = control_open(cfg, &err);
	if (err.status) {
		fprintf(stderr, "wisp: %s\n", err.msg);
		return err.status;
	}
	/*
	 * A guest reset ends the VM; with --reboot=restart a new one boots
	 * from scratch (fresh KVM VM, RAM, devices and vCPUs: no state of the
	 * old guest survives) but the same open, locked disk images and taps.
	 */
	for (;;) {
		if (vm_create(&vm, cfg, &backends, deadline_ns, restore, &err) ||
		    (ctl && control_attach(ctl, &vm) &&
		     err_set(&err, WISP_EXIT_OSERR, ENOMEM,
			     "control socket: cannot serve it"))) {
			control_detach(ctl);
			vm_destroy(&vm);
			vm_backends_close(&backends);
			control_close(ctl);
			if (restore)
				migrate_answer(restore, &err);
			fprintf(stderr, "wisp: %s\n", err.msg);
			return err.status;
		}
		restore = NULL;		/* a reboot boots the kernel */
		status = vm_run(&vm);
		control_detach(ctl);
		vm_destroy(&vm);
		if (vm.err.status)
			fprintf(stderr, "wisp: %s\n", vm.err.msg);
		if (status != WISP_EXIT_RESET || cfg->reboot != REBOOT_RESTART) {
			vm_backends_close(&backends);
			control_close(ctl);
			return status;
		}
		if (cfg->verbose)
			fprintf(stderr, "wisp: guest reset: booting again (--reboot=restart)\n");
	}
}

/*
 * --incoming: wait for the source, then build the VM from what it sends
 * and tell it whether this side runs.
 */
static int run_incoming(const struct vm_config *cfg)
{
	struct wisp_err err = { 0 };
	struct snapshot mig;
	int status;

	if (migrate_accept(cfg, &mig, &err)) {
		migrate_answer(&mig, &err);
		snapshot_close(&mig);
		fprintf(stderr, "wisp: %s\n", err.msg);
		return err.status;
	}
	status = run_vm(cfg, &mig);
	snapshot_close(&mig);
	return status;
}

static int run(int argc, char **argv)
{
	struct wisp_err err = { 0 };
	struct vm_config cfg;

	if (config_parse(argc, argv, &cfg, &err)) {
		fprintf(stderr, "wisp: %s\n", err.msg);
		return err.status;
	}
	if (cfg.action == ACTION_HELP) {
		print_help(stdout);
		return 0;
	}
	if (cfg.action == ACTION_VERSION) {
		puts("wisp " WISP_VERSION);
		return 0;
	}
	if (cfg.incoming)
		return run_incoming(&cfg);
	return run_vm(&cfg, NULL);
}

/* "wisp restore DIR [OPTIONS]" (argv[0] is "restore"). */
static int restore(int argc, char **argv)
{
	struct wisp_err err = { 0 };
	struct snapshot snap;
	struct vm_config cfg;
	char dir[PATH_MAX];
	int status;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		snapshot_print_restore_help(stdout);
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "wisp: restore: no snapshot directory given (usage: wisp restore DIR [OPTIONS])\n");
		return WISP_EXIT_USAGE;
	}
	if (!realpath(argv[1], dir)) {
		fprintf(stderr, "wisp: %s: %s\n", argv[1], strerror(errno));
		return errno == ENOENT ? WISP_EXIT_NOINPUT : WISP_EXIT_OSERR;
	}
	if (snapshot_open(&snap, dir, &err) ||
	    snapshot_config(&snap, argc, argv, &cfg, &err)) {
		snapshot_close(&snap);
		fprintf(stderr, "wisp: %s\n", err.msg);
		return err.status;
	}
	/* The saved command line's relative paths are the saved VM's. */
	if (snap.cwd[0] && chdir(snap.cwd))
		fprintf(stderr, "wisp: restore: cannot enter the saved VM's directory %s (%s): its relative paths are taken from here\n",
			snap.cwd, strerror(errno));
	status = run_vm(&cfg, &snap);
	snapshot_close(&snap);
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "wisp: no command given (try 'wisp --help')\n");
		return WISP_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "run"))
		return run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "restore"))
		return restore(argc - 1, argv + 1);
	if (ctl_is_command(argv[1]))
		return ctl_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		print_help(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		puts("wisp " WISP_VERSION);
		return 0;
	}
	fprintf(stderr, "wisp: unknown command '%s' (try 'wisp --help')\n",
		argv[1]);
	return WISP_EXIT_USAGE;
}
