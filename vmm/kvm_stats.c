// SPDX-License-Identifier: Apache-2.0
/* KVM's binary statistics of a vCPU (kvm_stats.h). */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_stats.h"

#define STATS_FILE_MAX	(1u << 20)	/* larger layouts are refused */

static bool pread_all(int fd, void *buf, size_t len, off_t off)
{
	return pread(fd, buf, len, off) == (ssize_t)len;
}

int kvm_stats_init(struct kvm_stats *s, int fd)
{
	struct kvm_stats_header h;
	size_t desc_size;
	uint8_t *descs = NULL;
	uint32_t i;
	uint64_t end = 0;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (!pread_all(fd, &h, sizeof(h), 0))
		goto bad;
	desc_size = sizeof(struct kvm_stats_desc) + (size_t)h.name_size;
	if (h.name_size < 2 || h.name_size > 256 || !h.num_desc ||
	    h.num_desc > 4096 ||
	    (uint64_t)h.desc_offset + (uint64_t)h.num_desc * desc_size >
	    STATS_FILE_MAX || h.data_offset > STATS_FILE_MAX)
		goto bad;
	descs = malloc(h.num_desc * desc_size);
	if (!descs || !pread_all(fd, descs, h.num_desc * desc_size,
				 h.desc_offset))
		goto bad;
	for (i = 0; i < h.num_desc && s->n < KVM_STATS_MAX; i++) {
		const uint8_t *p = descs + i * desc_size;
		const char *name = (const char *)p + sizeof(struct kvm_stats_desc);
		struct kvm_stats_desc d;	/* p may be unaligned */
		uint32_t type;
		size_t len;

		memcpy(&d, p, sizeof(d));
		type = d.flags & KVM_STATS_TYPE_MASK;
		len = strnlen(name, h.name_size);
		/* Scalars only; a name must end inside its field. */
		if (d.size != 1 || len == h.name_size ||
		    len >= KVM_STATS_NAME_MAX || !len ||
		    (type != KVM_STATS_TYPE_CUMULATIVE &&
		     type != KVM_STATS_TYPE_INSTANT &&
		     type != KVM_STATS_TYPE_PEAK) ||
		    d.offset % 8 || d.offset > STATS_FILE_MAX - 8)
			continue;
		memcpy(s->desc[s->n].name, name, len + 1);
		s->desc[s->n].offset = d.offset;
		s->desc[s->n].cumulative = type == KVM_STATS_TYPE_CUMULATIVE;
		if (d.offset + 8u > end)
			end = d.offset + 8u;
		s->n++;
	}
	free(descs);
	if (!s->n)
		goto none;
	s->data_offset = h.data_offset;
	s->data_size = end;
	s->fd = fd;
	return 0;
bad:
	free(descs);
	close(fd);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	return -EINVAL;
none:
	close(fd);
	s->fd = -1;
	return -ENOENT;
}

int kvm_stats_open(struct kvm_stats *s, int vcpu_fd)
{
	int fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);

	if (fd < 0) {
		memset(s, 0, sizeof(*s));
		s->fd = -1;
		return -errno;
	}
	return kvm_stats_init(s, fd);
}

int kvm_stats_read(const struct kvm_stats *s, uint64_t *values)
{
	uint64_t *data;
	unsigned int i;

	if (s->fd < 0)
		return -ENOENT;
	data = malloc(s->data_size);
	if (!data)
		return -ENOMEM;
	if (!pread_all(s->fd, data, s->data_size, s->data_offset)) {
		free(data);
		return -EIO;
	}
	for (i = 0; i < s->n; i++)
		values[i] = data[s->desc[i].offset / 8];
	free(data);
	return 0;
}

void kvm_stats_close(struct kvm_stats *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->n = 0;
}
