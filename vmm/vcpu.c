// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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
	vcpu->env = (struct exit_env){
		.pio = &vm->pio,
		.mmio = &vm->mmio,
		.stats = &vcpu->stats,
		.verbose = vm->cfg->verbose,
	};
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

static void vcpu_loop(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct exit_stop stop;

	while (!vm_stopping(vm)) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			vm_fail(vm, WISP_EXIT_SOFTWARE, "vCPU %u: KVM_RUN: %s",
				vcpu->index, strerror(errno));
			return;
		}
		if (!exit_dispatch(&vcpu->env, vcpu->run, vcpu->run_size, &stop))
			continue;
		/* Failures say why at once, with the registers after it. */
		if (stop.dump || vm->cfg->verbose)
			fprintf(stderr, "wisp: vCPU %u: %s\n", vcpu->index,
				stop.why);
		if (stop.dump)
			cpu_dump_registers(vcpu->fd);
		vm_request_stop(vm, stop.status);
		return;
	}
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
	return NULL;
}

int vcpu_start(struct vcpu *vcpu, struct wisp_err *err)
{
	int ret;

	ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
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

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}
