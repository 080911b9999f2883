/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interrupt plumbing between devices and KVM: the GSI routing table (the
 * in-kernel irqchip's default routes plus one MSI route per device vector,
 * installed with KVM_SET_GSI_ROUTING), irqfds that raise a GSI when an
 * eventfd is written, and ioeventfds that turn a guest's write to an
 * address into an eventfd signal without leaving the kernel.
 */
#ifndef WISP_IRQ_H
#define WISP_IRQ_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IRQ_IOAPIC_PINS		24	/* GSIs 0-23: the IOAPIC (0-15: PIC too) */
#define IRQ_MSI_GSI_BASE	IRQ_IOAPIC_PINS
#define IRQ_MAX_MSI		1024	/* MSI routes per VM */
#define IRQ_TABLE_MAX		(16 + IRQ_IOAPIC_PINS + IRQ_MAX_MSI)

struct irq_msi {
	bool used;
	uint64_t address;
	uint32_t data;
};

struct irq_routes {
	int vm_fd;			/* -1: build tables only (unit tests) */
	pthread_mutex_t lock;		/* everything below */
	struct irq_msi msi[IRQ_MAX_MSI];
	struct kvm_irq_routing *table;	/* room for IRQ_TABLE_MAX entries */
};

/*
 * Start with the default routes only (no KVM call: they are what KVM
 * already has).  Returns 0 or -ENOMEM.
 */
int irq_routes_init(struct irq_routes *r, int vm_fd);
void irq_routes_destroy(struct irq_routes *r);

/*
 * Fill @out (room for @max entries) with the routing table: GSIs 0-15 to
 * both the PIC and the IOAPIC pin of the same number, 16-23 to the
 * IOAPIC, then one MSI entry per allocated vector.  Returns the count, or
 * -ENOSPC.  Caller holds @r->lock (or owns @r alone).
 */
int irq_build_table(const struct irq_routes *r, struct kvm_irq_routing_entry *out,
		    unsigned int max);

/*
 * Allocate an MSI route (address 0, data 0 until set) and return its GSI,
 * or -ENOSPC.  Installs the new table.  Any thread.
 */
int irq_msi_alloc(struct irq_routes *r);

/* Point MSI route @gsi at @address/@data and install.  0 or -errno. */
int irq_msi_set(struct irq_routes *r, int gsi, uint64_t address, uint32_t data);

/* Release MSI route @gsi (its irqfd must be gone) and install. */
void irq_msi_free(struct irq_routes *r, int gsi);

/* Bind (@assign) or unbind eventfd @fd to @gsi (KVM_IRQFD).  0 or -errno. */
int irq_irqfd(int vm_fd, int fd, unsigned int gsi, bool assign);

/*
 * Signal eventfd @fd when the guest writes @len bytes (any value) at MMIO
 * address @addr, or (un)register that (KVM_IOEVENTFD).  0 or -errno.
 */
int irq_ioeventfd(int vm_fd, uint64_t addr, uint32_t len, int fd, bool assign);

#endif
