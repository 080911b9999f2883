/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A virtual machine: everything built for one "wisp run", in the order
 * vm_create() builds it; vm_destroy() tears it down in reverse.
 */
#ifndef WISP_VM_H
#define WISP_VM_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "../devices/host.h"
#include "../devices/pci.h"
#include "../devices/virtio/balloon.h"
#include "../devices/virtio/blk.h"
#include "../devices/virtio/net.h"
#include "bus.h"
#include "config.h"
#include "console.h"
#include "error.h"
#include "evloop.h"
#include "irq.h"
#include "kvm.h"
#include "loader.h"
#include "memory.h"
#include "vcpu.h"

struct acpi_pm;
struct migration;
struct snapshot;
struct pvpanic;
struct serial;
struct testdev;

/*
 * The host resources behind --disk and --net, opened once for the whole
 * "wisp run": a VM booted again after a reset (--reboot=restart) gets the
 * same open files, so no other process can take an image's lock between
 * two boots, and a tap wisp created (which lives as long as its fds) keeps
 * its name.  vm_create() opens them on first use; each device gets
 * duplicates of the fds.
 */
struct vm_disk {
	struct blk_options opts;
	struct blk_backing backing;
};

struct vm_net {
	struct net_options opts;
	struct net_tap tap;
	uint8_t mac[6];
};

struct vm_backends {
	bool opened;
	unsigned int n_disks, n_nets;
	struct vm_disk *disks;
	struct vm_net *nets;
};

/* Close what vm_create() opened.  After the last vm_destroy(). */
void vm_backends_close(struct vm_backends *b);

struct vm {
	const struct vm_config *cfg;
	sigset_t saved_sigmask;
	bool sigmask_saved;
	struct evloop loop;
	struct ev_source stop_src;	/* eventfd: a stop was requested */
	struct ev_source signal_src;	/* signalfd: SIGINT, SIGTERM, SIGHUP */
	struct ev_source timer_src;	/* timerfd: --timeout */
	struct ev_source announce_src;	/* timerfd: a restored VM's RARPs */
	unsigned int announce_left;	/* rounds still to send (loop) */
	bool announce_started;		/* atomic */
	struct kvm kvm;
	struct guest_mem mem;
	struct console console;
	bool console_open;
	struct bus pio;
	struct bus mmio;
	struct bus_reader *bus_readers;	/* one per vCPU */
	struct host_services hs;
	struct serial *serial;
	struct testdev *testdev;
	struct acpi_pm *acpi_pm;
	struct pvpanic *pvpanic;
	struct pci_host pci;
	bool pci_ready;
	struct irq_routes irq;		/* GSI routes: irqchip defaults and MSIs */
	struct vm_backends *backends;	/* the caller's; opened on first use */
	struct snapshot *restore;	/* restoring this snapshot (or an
					 * incoming migration), else NULL */
	struct migration *migration;	/* an outgoing one under way */
	struct blk_dev *disks[WISP_MAX_DISKS];
	unsigned int n_disks;		/* created */
	struct net_dev *nets[WISP_MAX_NETS];
	unsigned int n_nets;		/* created */
	struct balloon_dev *balloon;	/* --balloon, else NULL */
	struct kernel_image kernel;
	struct vcpu *vcpus;
	unsigned int n_vcpus;		/* created so far */

	/*
	 * Pause (the control socket): while @pause_requested, vCPU threads
	 * park between KVM_RUNs, counted in @n_parked (under @pause_lock;
	 * @pause_cond signals a change either way).
	 */
	pthread_mutex_t dirty_lock;	/* harvesting the vCPUs' dirty rings */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_requested;		/* atomic */
	unsigned int n_parked;

	uint64_t deadline_ns;		/* --timeout, CLOCK_MONOTONIC; 0: none */
	int stop_status;		/* atomic; -1 while running */
	pthread_mutex_t err_lock;
	struct wisp_err err;		/* first failure while running */
};

/*
 * Build the VM described by @cfg, ready to run, with the disks and taps in
 * @backends (opened here on the first boot, then kept by the caller); --timeout
 * ends it at @deadline_ns (CLOCK_MONOTONIC, 0: never), so that a VM
 * booted again after a reset keeps the first boot's deadline.  With
 * @restore (snapshot_open'ed, @cfg from snapshot_config) RAM, devices
 * and vCPUs come from the snapshot instead of a kernel.  On failure
 * returns -errno with @err set; call vm_destroy() either way.
 */
int vm_create(struct vm *vm, const struct vm_config *cfg,
	      struct vm_backends *backends, uint64_t deadline_ns,
	      struct snapshot *restore, struct wisp_err *err);

/*
 * Start the vCPUs and serve events until the VM stops; then stop and join
 * every vCPU.  Returns the exit status; a failure's message is in vm->err.
 * Main thread.
 */
int vm_run(struct vm *vm);

/* Tear down whatever vm_create() built, in reverse order. */
void vm_destroy(struct vm *vm);

/* Ask the VM to stop with @status; the first request wins.  Any thread. */
void vm_request_stop(struct vm *vm, int status);

/*
 * The same, and the event loop serves nothing more: for a VM whose state
 * went elsewhere (a snapshot, a migration), whose devices must not take
 * another request.  Event loop thread.
 */
void vm_stop_now(struct vm *vm, int status);

/* Record a failure message (first wins) and stop with @status. */
void vm_fail(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Has a stop been requested?  Any thread. */
bool vm_stopping(struct vm *vm);

/*
 * Stop every vCPU between two KVM_RUNs (each tells the guest's kvmclock,
 * KVM_KVMCLOCK_CTRL) and wait up to @timeout_ms for all of them.  Returns
 * 0, or -ETIMEDOUT (the VM is resumed again) or -ESHUTDOWN (stopping).
 * Idempotent.  Event loop thread.
 */
int vm_pause(struct vm *vm, unsigned int timeout_ms);

/* Let paused vCPUs run again.  Idempotent; any thread. */
void vm_resume(struct vm *vm);

/* Is a pause in force? */
bool vm_paused(struct vm *vm);

/*
 * With KVM's dirty ring: move every vCPU's dirty entries into guest
 * RAM's written record (guest_mem_take_written collects them) and let
 * KVM reuse the entries.  Returns 0 or -errno.  Any thread.
 */
int vm_harvest_dirty(struct vm *vm);

/* Press the ACPI power button (docs/acpi.md).  Any thread. */
void vm_power_button(struct vm *vm);

#endif
