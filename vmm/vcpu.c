// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cpu_x86.h"
#include "vcpu.h"
#include "vm.h"

int vcpu_create(struct vcpu *vcpu, struct vm *vm, unsigned int index,
		struct wisp_err *err)
{
	struct kvm *kvm = &vm->kvm;
	void *run;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->kvm_stats.fd = -1;
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->pin_cpu = vm->cfg->n_pin ? vm->cfg->pin[index] : -1;
	vcpu->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (vcpu->fd < 0)
		return err_set(err, errno == ENOMEM ? WISP_EXIT_OSERR :
			       WISP_EXIT_UNAVAILABLE, errno,
			       "cannot create vCPU %u: %s", index, strerror(errno));
	run = mmap(NULL, kvm->vcpu_mmap_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, vcpu->fd, 0);
	if (run == MAP_FAILED) {
		int errnum = errno;

		close(vcpu->fd);
		vcpu->fd = -1;
		return err_set(err, WISP_EXIT_OSERR, errnum,
			       "cannot map vCPU %u's kvm_run: %s", index,
			       strerror(errnum));
	}
	vcpu->run = run;
	vcpu->run_size = kvm->vcpu_mmap_size;
	if (vm->cfg->exit_stats) {
		vcpu->timing = calloc(1, sizeof(*vcpu->timing));
		if (!vcpu->timing)
			return err_set(err, WISP_EXIT_OSERR, ENOMEM,
				       "out of memory for vCPU %u's exit statistics",
				       index);
	}
	/* Older kernels have none: stat then shows wisp's counts only. */
	kvm_stats_open(&vcpu->kvm_stats, vcpu->fd);
	vcpu->env = (struct exit_env){
		.pio = &vm->pio,
		.mmio = &vm->mmio,
		.reader = &vm->bus_readers[index],
		.stats = &vcpu->stats,
		.verbose = vm->cfg->verbose,
	};
	if (kvm->dirty_ring_entries) {
		size_t bytes = kvm->dirty_ring_entries *
			       sizeof(struct kvm_dirty_gfn);
		void *ring = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
				  MAP_SHARED, vcpu->fd,
				  KVM_DIRTY_LOG_PAGE_OFFSET * sysconf(_SC_PAGESIZE));

		if (ring == MAP_FAILED)
			return err_set(err, WISP_EXIT_OSERR, errno,
				       "cannot map vCPU %u's dirty ring: %s",
				       index, strerror(errno));
		vcpu->dirty_ring = ring;
	}
	/* Kept: a snapshot saves what the guest saw (KVM's may differ). */
	vcpu->cpuid = malloc(sizeof(*vcpu->cpuid) + kvm->cpuid->nent *
			     sizeof(kvm->cpuid->entries[0]));
	if (!vcpu->cpuid)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	cpu_build_cpuid(kvm->cpuid, index, vm->cfg->cpus, vcpu->cpuid);
	return cpu_init(vcpu->fd, kvm->cpuid, index, vm->cfg->cpus,
			vm->cfg->verbose, err);
}

static int vcpu_pin(struct vcpu *vcpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(vcpu->pin_cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* vCPU thread stacks: ample, and below 2 MiB (see vcpu_start()). */
#define VCPU_STACK_SIZE	(1u << 20)

/* Back-to-back clock reads that measure the cost of one. */
#define CLOCK_SAMPLES	31

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * With --exit-stats: an exit of @kind began at @since; record the time from
 * then to now (the next KVM_RUN or the stop decision).
 */
static void vcpu_time_exit(struct vcpu *vcpu, enum exit_kind kind,
			   uint64_t since)
{
	exit_hist_add(&vcpu->timing->kind[kind], now_ns() - since);
}

/* With --exit-stats: what one clock read costs here (see exit_timing.h). */
static void vcpu_time_clock(struct vcpu *vcpu)
{
	uint64_t prev = now_ns(), t;
	int i;

	for (i = 0; i < CLOCK_SAMPLES; i++) {
		t = now_ns();
		exit_hist_add(&vcpu->timing->clock, t - prev);
		prev = t;
	}
}

/*
 * Wait while the VM is paused (vm_pause).  The guest's kvmclock is told
 * first, so that its watchdogs do not count the pause (EINVAL when the
 * guest uses no kvmclock: nothing to tell).
 */
static void vcpu_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	/*
	 * KVM finishes an exit (a port read's value into RAX, RIP past the
	 * instruction) only when KVM_RUN comes again: once with
	 * immediate_exit, so that a snapshot taken while parked holds the
	 * finished instruction and not one to run twice.
	 */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (ioctl(vcpu->fd, KVM_RUN, 0) == 0 || errno != EINTR)
		fprintf(stderr, "wisp: vCPU %u: KVM_RUN to complete an exit: %s\n",
			vcpu->index, strerror(errno));
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	ioctl(vcpu->fd, KVM_KVMCLOCK_CTRL, 0);
	pthread_mutex_lock(&vm->pause_lock);
	vm->n_parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (vm_paused(vm) && !vm_stopping(vm))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->n_parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

static void vcpu_loop(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct exit_timing *timing = vcpu->timing;
	enum exit_kind kind = EXIT_KIND_OTHER;
	uint64_t exited = 0;
	struct exit_stop stop;
	bool pending = false;	/* an exit is being timed */
	int ret;

	if (timing)
		vcpu_time_clock(vcpu);
	while (!vm_stopping(vm)) {
		if (vm_paused(vm)) {
			vcpu_park(vcpu);
			continue;
		}
		if (pending)
			vcpu_time_exit(vcpu, kind, exited);
		ret = ioctl(vcpu->fd, KVM_RUN, 0);
		if (timing) {
			/* KVM_RUN interrupted by a signal: KVM_EXIT_INTR. */
			exited = now_ns();
			kind = exit_kind_of(ret < 0 ? KVM_EXIT_INTR :
					    vcpu->run->exit_reason);
			pending = true;
		}
		if (ret < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/*
				 * A kick: the loop's checks decide why.  The
				 * kicker set its flag before immediate_exit
				 * (both seq_cst), so clearing it loses none.
				 */
				__atomic_store_n(&vcpu->run->immediate_exit, 0,
						 __ATOMIC_SEQ_CST);
				continue;
			}
			vm_fail(vm, WISP_EXIT_SOFTWARE, "vCPU %u: KVM_RUN: %s",
				vcpu->index, strerror(errno));
			break;
		}
		if (vcpu->run->exit_reason == KVM_EXIT_DIRTY_RING_FULL) {
			/* A migration logs faster than it harvests: help. */
			vm_harvest_dirty(vm);
			continue;
		}
		if (!exit_dispatch(&vcpu->env, vcpu->run, vcpu->run_size, &stop))
			continue;
		if (pending) {
			vcpu_time_exit(vcpu, kind, exited);
			pending = false;
		}
		/* Failures say why at once, with the registers after it. */
		if (stop.dump || vm->cfg->verbose)
			fprintf(stderr, "wisp: vCPU %u: %s\n", vcpu->index,
				stop.why);
		if (stop.dump)
			cpu_dump_registers(vcpu->fd);
		vm_request_stop(vm, stop.status);
		break;
	}
	if (pending)
		vcpu_time_exit(vcpu, kind, exited);
}

/* One line per vCPU, written at once so that vCPUs' lines do not mix. */
static void vcpu_print_timing(const struct vcpu *vcpu)
{
	char line[320];
	int n;

	n = exit_timing_format(vcpu->timing, vcpu->index, line, sizeof(line));
	if (n > 0)
		fputs(line, stderr);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	char name[16];
	sigset_t kick;
	int ret;

	snprintf(name, sizeof(name), "vcpu%u", vcpu->index);
	pthread_setname_np(pthread_self(), name);
	vcpu->tid = gettid();
	if (vcpu->pin_cpu >= 0) {
		ret = vcpu_pin(vcpu);
		if (ret) {
			vm_fail(vcpu->vm, WISP_EXIT_OSERR,
				"cannot pin vCPU %u to host CPU %d: %s",
				vcpu->index, vcpu->pin_cpu, strerror(-ret));
			return NULL;
		}
	}
	/* Only vCPU threads take the kick signal; it interrupts KVM_RUN. */
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	vcpu_loop(vcpu);
	if (vcpu->timing)
		vcpu_print_timing(vcpu);
	return NULL;
}

int vcpu_start(struct vcpu *vcpu, struct wisp_err *err)
{
	pthread_attr_t attr;
	int ret;

	/*
	 * glibc's default stack is 8 MiB; where transparent hugepages are
	 * "always" (Debian's default) the first touch of it can fault in a
	 * whole 2 MiB page: 2 MiB of resident memory per vCPU for a few KiB
	 * of stack.  No 2 MiB page fits in a smaller mapping.
	 */
	ret = pthread_attr_init(&attr);
	if (!ret) {
		ret = pthread_attr_setstacksize(&attr, VCPU_STACK_SIZE);
		if (!ret)
			ret = pthread_create(&vcpu->thread, &attr, vcpu_thread,
					     vcpu);
		pthread_attr_destroy(&attr);
	}
	if (ret)
		return err_set(err, WISP_EXIT_OSERR, ret,
			       "cannot start vCPU %u's thread: %s", vcpu->index,
			       strerror(ret));
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (vcpu->started)
		pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}

unsigned int vcpu_harvest_dirty(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	uint32_t n = vm->kvm.dirty_ring_entries;
	unsigned int got = 0;

	if (!vcpu->dirty_ring)
		return 0;
	/* In order, none skipped: KVM's rule for the ring. */
	for (; got < n; got++) {
		struct kvm_dirty_gfn *e = &vcpu->dirty_ring[vcpu->dirty_next % n];
		uint32_t slot;

		if (!(__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) &
		      KVM_DIRTY_GFN_F_DIRTY))
			break;
		slot = e->slot & 0xffff;	/* address space 0 only */
		if (slot < vm->mem.n_regions &&
		    e->offset < vm->mem.regions[slot].size / 4096)
			guest_mem_mark_written(&vm->mem,
					       vm->mem.regions[slot].gpa +
					       e->offset * 4096, 4096);
		__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET,
				 __ATOMIC_RELEASE);
		vcpu->dirty_next++;
	}
	return got;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	kvm_stats_close(&vcpu->kvm_stats);
	free(vcpu->timing);
	vcpu->timing = NULL;
	free(vcpu->cpuid);
	vcpu->cpuid = NULL;
	if (vcpu->dirty_ring)
		munmap(vcpu->dirty_ring, vcpu->vm->kvm.dirty_ring_entries *
			      sizeof(struct kvm_dirty_gfn));
	vcpu->dirty_ring = NULL;
	vcpu->run = NULL;
	vcpu->fd = -1;
}
