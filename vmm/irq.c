// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "irq.h"

#define PIC_PINS	16

int irq_routes_init(struct irq_routes *r, int vm_fd)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->vm_fd = vm_fd;
	r->table = calloc(1, sizeof(*r->table) +
			  IRQ_TABLE_MAX * sizeof(r->table->entries[0]));
	if (!r->table)
		return -ENOMEM;
	ret = pthread_mutex_init(&r->lock, NULL);
	if (ret) {
		free(r->table);
		r->table = NULL;
		return -ret;
	}
	return 0;
}

void irq_routes_destroy(struct irq_routes *r)
{
	if (!r->table)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->table);
	r->table = NULL;
}

static struct kvm_irq_routing_entry irqchip_route(unsigned int gsi,
						   unsigned int chip,
						   unsigned int pin)
{
	return (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};
}

int irq_build_table(const struct irq_routes *r, struct kvm_irq_routing_entry *out,
		    unsigned int max)
{
	unsigned int gsi, i, n = 0;

	for (gsi = 0; gsi < IRQ_IOAPIC_PINS; gsi++) {
		if (gsi < PIC_PINS) {
			if (n == max)
				return -ENOSPC;
			out[n++] = irqchip_route(gsi, gsi < 8 ?
						 KVM_IRQCHIP_PIC_MASTER :
						 KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
		}
		if (n == max)
			return -ENOSPC;
		out[n++] = irqchip_route(gsi, KVM_IRQCHIP_IOAPIC, gsi);
	}
	for (i = 0; i < IRQ_MAX_MSI; i++) {
		if (!r->msi[i].used)
			continue;
		if (n == max)
			return -ENOSPC;
		out[n++] = (struct kvm_irq_routing_entry){
			.gsi = IRQ_MSI_GSI_BASE + i,
			.type = KVM_IRQ_ROUTING_MSI,
			.u.msi = {
				.address_lo = (uint32_t)r->msi[i].address,
				.address_hi = r->msi[i].address >> 32,
				.data = r->msi[i].data,
			},
		};
	}
	return n;
}

/* Install the table.  Caller holds the lock. */
static int install(struct irq_routes *r)
{
	int n = irq_build_table(r, r->table->entries, IRQ_TABLE_MAX);

	if (n < 0)
		return n;
	r->table->nr = n;
	r->table->flags = 0;
	if (r->vm_fd < 0)
		return 0;
	return ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, r->table) ? -errno : 0;
}

int irq_msi_alloc(struct irq_routes *r)
{
	unsigned int i;
	int ret;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < IRQ_MAX_MSI && r->msi[i].used; i++)
		;
	if (i == IRQ_MAX_MSI) {
		pthread_mutex_unlock(&r->lock);
		return -ENOSPC;
	}
	r->msi[i] = (struct irq_msi){ .used = true };
	ret = install(r);
	if (ret)
		r->msi[i].used = false;
	pthread_mutex_unlock(&r->lock);
	return ret ? ret : (int)(IRQ_MSI_GSI_BASE + i);
}

/* The slot of MSI route @gsi, or -1. */
static int msi_slot(const struct irq_routes *r, int gsi)
{
	unsigned int i = (unsigned int)gsi - IRQ_MSI_GSI_BASE;

	return gsi >= IRQ_MSI_GSI_BASE && i < IRQ_MAX_MSI && r->msi[i].used ?
	       (int)i : -1;
}

int irq_msi_set(struct irq_routes *r, int gsi, uint64_t address, uint32_t data)
{
	struct irq_msi old;
	int i, ret;

	pthread_mutex_lock(&r->lock);
	i = msi_slot(r, gsi);
	if (i < 0) {
		pthread_mutex_unlock(&r->lock);
		return -ENOENT;
	}
	old = r->msi[i];
	if (old.address == address && old.data == data) {
		pthread_mutex_unlock(&r->lock);
		return 0;
	}
	r->msi[i].address = address;
	r->msi[i].data = data;
	ret = install(r);
	if (ret)
		r->msi[i] = old;
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void irq_msi_free(struct irq_routes *r, int gsi)
{
	int i;

	pthread_mutex_lock(&r->lock);
	i = msi_slot(r, gsi);
	if (i >= 0) {
		r->msi[i].used = false;
		install(r);
	}
	pthread_mutex_unlock(&r->lock);
}

int irq_irqfd(int vm_fd, int fd, unsigned int gsi, bool assign)
{
	struct kvm_irqfd req = {
		.fd = fd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	return ioctl(vm_fd, KVM_IRQFD, &req) ? -errno : 0;
}

int irq_ioeventfd(int vm_fd, uint64_t addr, uint32_t len, int fd, bool assign)
{
	struct kvm_ioeventfd req = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	return ioctl(vm_fd, KVM_IOEVENTFD, &req) ? -errno : 0;
}
