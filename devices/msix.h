/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MSI-X for a PCI function: the capability, the vector table and the
 * pending-bit array (both in one of the function's memory BARs, whose
 * handler forwards accesses here), and delivery: each vector has a host
 * MSI route and eventfd (host_services.msi_alloc), updated when the guest
 * programs an unmasked entry.  A vector raised while masked (entry,
 * function mask, or MSI-X disabled) sets its pending bit and is delivered
 * when unmasked.  bad-inputs.md row 22: table and PBA accesses beyond the
 * vectors, and odd-sized ones, are ignored (reads give 0).
 */
#ifndef WISP_DEVICES_MSIX_H
#define WISP_DEVICES_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "host.h"
#include "pci.h"
#include "state.h"

#define MSIX_MAX_VECTORS	64
#define MSIX_ENTRY_SIZE		16
#define MSIX_NO_VECTOR		0xffff	/* virtio's "no vector" */

/* Message Control bits (the capability's bytes 2-3). */
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000
#define MSIX_ENTRY_CTRL_MASKBIT	0x1

struct msix_vector {
	uint32_t addr_lo, addr_hi, data, ctrl;	/* the guest's table entry */
	int handle, fd;				/* host route, eventfd */
	bool routed;				/* route holds addr/data */
};

struct msix {
	struct pci_device *pd;
	const struct host_services *hs;
	unsigned int cap;		/* capability offset */
	unsigned int n;			/* vectors */
	pthread_mutex_t lock;		/* table, routes, pending bits */
	struct msix_vector vec[MSIX_MAX_VECTORS];
	uint64_t pending;		/* bit per vector (the PBA) */
	uint16_t control;		/* Message Control as last applied */
	uint64_t bad_accesses;
};

/*
 * Add the MSI-X capability to @pd for @n vectors (1 to MSIX_MAX_VECTORS)
 * with the table at @table_off and the PBA at @pba_off of BAR @bar, and
 * allocate a host route per vector.  All vectors start masked, MSI-X
 * disabled.  Returns 0 or -errno.  Construction thread.
 */
int msix_init(struct msix *m, struct pci_device *pd,
	      const struct host_services *hs, unsigned int n, unsigned int bar,
	      uint32_t table_off, uint32_t pba_off);

/* Release the routes. */
void msix_destroy(struct msix *m);

/* Bytes the table and the PBA take in the BAR. */
uint32_t msix_table_size(unsigned int n);
uint32_t msix_pba_size(unsigned int n);

/*
 * Guest accesses to the table (@offset into it) and the PBA, from the
 * BAR's handler.  vCPU threads.
 */
void msix_table_read(struct msix *m, uint64_t offset, uint8_t *data,
		     uint32_t len);
void msix_table_write(struct msix *m, uint64_t offset, const uint8_t *data,
		      uint32_t len);
void msix_pba_read(struct msix *m, uint64_t offset, uint8_t *data,
		   uint32_t len);

/*
 * The guest wrote configuration space [off, off + len): call from the
 * device's config_written hook; applies Message Control changes.
 */
void msix_config_written(struct msix *m, unsigned int off, unsigned int len);

/*
 * Signal vector @vector: delivered now, or left pending while masked.
 * Vectors out of range (MSIX_NO_VECTOR among them) are ignored.  Returns
 * true when delivered.  Any thread.
 */
bool msix_raise(struct msix *m, unsigned int vector);

/* Is MSI-X enabled (and not function-masked)?  Any thread. */
bool msix_enabled(struct msix *m);

/*
 * Snapshots: msix_save writes, into the node the caller opened, the
 * number of vectors, the table (16 bytes per vector, little-endian words
 * as the guest reads them) and the pending bits.  Message Control lives
 * in configuration space (pci_host_save).  msix_load, on a freshly
 * initialised @m: checks the vector count and that no reserved bit or
 * pending bit beyond the vectors is set, replays each entry through the
 * guest's table write path (address and data first, then the mask bit:
 * unmasked entries get their routes, msi_set), then sets the pending bits
 * and delivers those that are unmasked (a spurious interrupt at worst).
 * Errors go to @r; @m stays safe to destroy.
 */
void msix_save(struct msix *m, struct state_writer *w);
void msix_load(struct msix *m, struct state_reader *r, int node);

#endif
