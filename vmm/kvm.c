// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm.h"

/* Free guest-physical pages in the MMIO hole for Intel's real-mode TSS. */
#define KVM_IDENTITY_MAP_GPA	0xfeffc000ULL
#define KVM_TSS_GPA		0xfeffd000ULL

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
};

static int open_device(struct kvm *kvm, const char *path, struct wisp_err *err)
{
	kvm->dev_fd = open(path, O_RDWR | O_CLOEXEC);
	if (kvm->dev_fd >= 0)
		return 0;
	switch (errno) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		return err_set(err, WISP_EXIT_UNAVAILABLE, errno,
			       "%s does not exist: enable virtualization (VT-x/AMD-V) in the firmware and load the kvm_intel or kvm_amd module",
			       path);
	case EACCES:
	case EPERM:
		return err_set(err, WISP_EXIT_UNAVAILABLE, errno,
			       "no permission to open %s: add yourself to its group (usually: sudo usermod -aG kvm $USER, then log in again)",
			       path);
	default:
		return err_set(err, WISP_EXIT_UNAVAILABLE, errno,
			       "cannot open %s: %s", path, strerror(errno));
	}
}

static int get_supported_cpuid(struct kvm *kvm, struct wisp_err *err)
{
	int nent;

	for (nent = 64; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
					      nent * sizeof(c->entries[0]));

		if (!c)
			return err_set(err, WISP_EXIT_OSERR, ENOMEM,
				       "out of memory");
		c->nent = nent;
		if (!ioctl(kvm->dev_fd, KVM_GET_SUPPORTED_CPUID, c)) {
			kvm->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			return err_set(err, WISP_EXIT_UNAVAILABLE, errno,
				       "KVM_GET_SUPPORTED_CPUID: %s",
				       strerror(errno));
	}
	return err_set(err, WISP_EXIT_UNAVAILABLE, E2BIG,
		       "KVM_GET_SUPPORTED_CPUID: too many entries");
}

int kvm_open(struct kvm *kvm, const char *path, struct wisp_err *err)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity_map = KVM_IDENTITY_MAP_GPA;
	size_t i;
	int ret;

	memset(kvm, 0, sizeof(*kvm));
	kvm->dev_fd = kvm->vm_fd = -1;
	ret = open_device(kvm, path, err);
	if (ret)
		return ret;

	ret = ioctl(kvm->dev_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION)
		return err_set(err, WISP_EXIT_UNAVAILABLE, EINVAL,
			       "%s speaks KVM API version %d, wisp needs %d",
			       path, ret, KVM_API_VERSION);
	for (i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++)
		if (ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION,
			  required_caps[i].cap) <= 0)
			return err_set(err, WISP_EXIT_UNAVAILABLE, ENOTSUP,
				       "KVM lacks %s, which wisp needs (is the host kernel older than 4.11?)",
				       required_caps[i].name);

	kvm->vcpu_mmap_size = ioctl(kvm->dev_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size < (int)sizeof(struct kvm_run))
		return err_set(err, WISP_EXIT_UNAVAILABLE, EINVAL,
			       "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	kvm->max_vcpus = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION,
			       KVM_CAP_MAX_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION,
				       KVM_CAP_NR_VCPUS);
	ret = get_supported_cpuid(kvm, err);
	if (ret)
		return ret;

	do {
		kvm->vm_fd = ioctl(kvm->dev_fd, KVM_CREATE_VM, 0);
	} while (kvm->vm_fd < 0 && errno == EINTR);
	if (kvm->vm_fd < 0)
		return err_set(err, errno == ENOMEM ? WISP_EXIT_OSERR :
			       WISP_EXIT_UNAVAILABLE, errno,
			       "KVM_CREATE_VM: %s", strerror(errno));
	if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) ||
	    ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_map))
		return err_set(err, WISP_EXIT_UNAVAILABLE, errno,
			       "KVM_SET_TSS_ADDR: %s", strerror(errno));
	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0))
		return err_set(err, WISP_EXIT_UNAVAILABLE, errno,
			       "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	if (ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit))
		return err_set(err, WISP_EXIT_UNAVAILABLE, errno,
			       "KVM_CREATE_PIT2: %s", strerror(errno));
	return 0;
}

void kvm_close(struct kvm *kvm)
{
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->dev_fd >= 0)
		close(kvm->dev_fd);
	free(kvm->cpuid);
	memset(kvm, 0, sizeof(*kvm));
	kvm->dev_fd = kvm->vm_fd = -1;
}

int kvm_set_memory(struct kvm *kvm, uint32_t slot, uint64_t gpa,
		   uint64_t size, void *host)
{
	return kvm_set_memory_logged(kvm, slot, gpa, size, host, false);
}

int kvm_set_memory_logged(struct kvm *kvm, uint32_t slot, uint64_t gpa,
			  uint64_t size, void *host, bool log_dirty)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	return ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) ?
		-errno : 0;
}

int kvm_get_dirty_log(struct kvm *kvm, uint32_t slot, uint64_t *bitmap)
{
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bitmap };

	return ioctl(kvm->vm_fd, KVM_GET_DIRTY_LOG, &log) ? -errno : 0;
}

int kvm_enable_dirty_ring(struct kvm *kvm)
{
	uint32_t bytes = KVM_DIRTY_RING_ENTRIES * sizeof(struct kvm_dirty_gfn);
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_DIRTY_LOG_RING,
		.args = { bytes },
	};
	int max = ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING);

	kvm->dirty_ring_entries = 0;
	if (max <= 0 || (uint32_t)max < bytes)
		return 0;	/* not offered: the bitmap serves */
	if (ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap))
		return -errno;
	kvm->dirty_ring_entries = KVM_DIRTY_RING_ENTRIES;
	return 0;
}

int kvm_irq_line(struct kvm *kvm, unsigned int gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	return ioctl(kvm->vm_fd, KVM_IRQ_LINE, &irq) ? -errno : 0;
}
