/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /dev/kvm and the VM file descriptor: opening with API and capability
 * checks, the in-kernel irqchip and PIT, memory slots.
 */
#ifndef WISP_KVM_H
#define WISP_KVM_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "error.h"

struct kvm {
	int dev_fd;			/* /dev/kvm */
	int vm_fd;
	int vcpu_mmap_size;		/* size of each vCPU's kvm_run mapping */
	int max_vcpus;
	struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID, owned */
	uint32_t dirty_ring_entries;	/* per vCPU; 0: the bitmap is used */
};

#define KVM_DIRTY_RING_ENTRIES	4096	/* 64 KiB per vCPU, when offered */

/*
 * Log dirty pages into per-vCPU rings (KVM_CAP_DIRTY_LOG_RING) rather
 * than the slots' bitmaps, where KVM offers it: before any vCPU exists.
 * Sets kvm->dirty_ring_entries; a kernel without it leaves 0, and
 * KVM_GET_DIRTY_LOG serves.  Returns 0 or -errno.
 */
int kvm_enable_dirty_ring(struct kvm *kvm);

/*
 * Open @path (normally "/dev/kvm"), check the API version and every
 * capability wisp needs, create a VM with the in-kernel irqchip (PIC,
 * IOAPIC, LAPICs) and PIT.  On failure returns -errno and sets @err with
 * WISP_EXIT_UNAVAILABLE and what the user can do about it.
 */
int kvm_open(struct kvm *kvm, const char *path, struct wisp_err *err);

/* Close everything kvm_open() opened.  Safe on a half-opened struct. */
void kvm_close(struct kvm *kvm);

/* Map [gpa, gpa + size) to @host as memory slot @slot.  Returns 0/-errno. */
int kvm_set_memory(struct kvm *kvm, uint32_t slot, uint64_t gpa,
		   uint64_t size, void *host);

/* The same, with KVM's dirty page log on or off (a slot may be redone). */
int kvm_set_memory_logged(struct kvm *kvm, uint32_t slot, uint64_t gpa,
			  uint64_t size, void *host, bool log_dirty);

/*
 * The pages of slot @slot written since the last call (or since logging
 * began), a bit per 4 KiB page from the slot's start, into @bitmap (room
 * for the slot, in whole 64-bit words); the log starts afresh.  Any
 * thread.  Returns 0 or -errno.
 */
int kvm_get_dirty_log(struct kvm *kvm, uint32_t slot, uint64_t *bitmap);

/* Drive interrupt line @gsi of the in-kernel irqchip.  Any thread. */
int kvm_irq_line(struct kvm *kvm, unsigned int gsi, int level);

#endif
