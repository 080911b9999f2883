/* SPDX-License-Identifier: Apache-2.0 */
/*
 * KVM's binary statistics of one vCPU (KVM_GET_STATS_FD): the scalar
 * counters and gauges KVM keeps, including exits it handles in the kernel,
 * which wisp's own exit counts never see.  The descriptors are read and
 * checked once; each sample is one pread of the data block.  Nothing the
 * file says is trusted: offsets and sizes outside it leave a stat out.
 */
#ifndef WISP_KVM_STATS_H
#define WISP_KVM_STATS_H

#include <stdbool.h>
#include <stdint.h>

#define KVM_STATS_NAME_MAX	48	/* longer names are left out */
#define KVM_STATS_MAX		128	/* stats kept */

struct kvm_stat_desc {
	char name[KVM_STATS_NAME_MAX];
	uint32_t offset;		/* into the data block */
	bool cumulative;		/* else an instant or peak value */
};

struct kvm_stats {
	int fd;				/* -1: none */
	uint32_t data_offset;
	uint32_t data_size;		/* bytes pread per sample */
	unsigned int n;
	struct kvm_stat_desc desc[KVM_STATS_MAX];
};

/*
 * Read the descriptors from stats file @fd (taken over: closed on failure
 * too).  Returns 0 or -errno (-EINVAL: a malformed file).
 */
int kvm_stats_init(struct kvm_stats *s, int fd);

/* KVM_GET_STATS_FD on @vcpu_fd, then kvm_stats_init(). */
int kvm_stats_open(struct kvm_stats *s, int vcpu_fd);

/* The current values, @values[i] for desc[i].  Returns 0 or -errno. */
int kvm_stats_read(const struct kvm_stats *s, uint64_t *values);

void kvm_stats_close(struct kvm_stats *s);

#endif
