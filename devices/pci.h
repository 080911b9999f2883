/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI: one host bridge, bus 0, single-function devices.  The guest reaches
 * configuration space through mechanism #1 (ports 0xcf8/0xcfc) and ECAM
 * (MMIO, described by the MCFG table).  Devices describe their BARs and
 * capabilities; this file owns everything generic: read-only fields, BAR
 * sizing (writable bits only, so writing all-ones reads the size mask
 * back), and mapping BARs onto the PIO/MMIO buses when the guest enables
 * decoding (bad-inputs.md row 24: a BAR that would overlap RAM or another
 * range is left unmapped).
 *
 * Address map (guest-physical):
 *   [PCI_MMIO32_BASE, +PCI_MMIO32_SIZE)  32-bit BAR window
 *   [PCI_ECAM_BASE, +PCI_ECAM_SIZE)      ECAM for bus 0 (reserved in e820)
 *   [PCI_IO_BASE, +PCI_IO_SIZE)          I/O BAR window (ports)
 *   64-bit BARs: a window above RAM, chosen per VM (pci_host_init).
 */
#ifndef WISP_DEVICES_PCI_H
#define WISP_DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "host.h"
#include "state.h"

#define PCI_CONFIG_ADDRESS	0xcf8	/* 4 ports: the address register */
#define PCI_CONFIG_DATA		0xcfc	/* 4 ports: the data window */
#define PCI_MMIO32_BASE		0xc0000000ULL
#define PCI_MMIO32_SIZE		0x20000000ULL
#define PCI_ECAM_BASE		0xe0000000ULL
#define PCI_ECAM_SIZE		0x100000ULL	/* bus 0 only */
#define PCI_IO_BASE		0xc000ULL
#define PCI_IO_SIZE		0x4000ULL
#define PCI_MMIO64_SIZE		(16ULL << 30)	/* above RAM, per VM */

#define PCI_SLOTS		32	/* slot 0 is the host bridge */
#define PCI_CFG_SIZE		4096	/* ECAM; mechanism #1 reaches 256 */
#define PCI_BARS		6

/* Configuration header offsets and bits (type 0 header). */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define  PCI_COMMAND_IO		0x0001
#define  PCI_COMMAND_MEMORY	0x0002
#define  PCI_COMMAND_MASTER	0x0004
#define  PCI_COMMAND_INTX_OFF	0x0400
#define PCI_STATUS		0x06
#define  PCI_STATUS_CAP_LIST	0x0010
#define PCI_REVISION		0x08
#define PCI_CLASS_PROG		0x09	/* 3 bytes: prog-if, subclass, class */
#define PCI_CACHE_LINE_SIZE	0x0c
#define PCI_LATENCY_TIMER	0x0d
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SUBSYS_VENDOR_ID	0x2c
#define PCI_SUBSYS_ID		0x2e
#define PCI_ROM_ADDRESS		0x30
#define PCI_CAP_PTR		0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d
#define PCI_CAP_START		0x40	/* capabilities go from here */

#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11

/* BAR flags for pci_device_add_bar(). */
#define PCI_BAR_IO		0x1
#define PCI_BAR_MEM64		0x2
#define PCI_BAR_PREFETCH	0x4

struct pci_device;

struct pci_bar {
	uint64_t size;			/* power of two; 0: not implemented */
	unsigned int flags;		/* PCI_BAR_* */
	const struct io_handler *ops;	/* handlers get offsets into the BAR */
	void *dev;
	bool mapped;			/* on the bus at @mapped_at */
	uint64_t mapped_at;
	bool refused_logged;
};

/*
 * One function's configuration space and BARs.  Embedded in the device
 * that owns it; the hooks run on vCPU threads with the host's config lock
 * held, and must not block.
 */
struct pci_device {
	const char *name;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];	/* bits the guest may change */
	struct pci_bar bar[PCI_BARS];
	unsigned int cap_end;		/* next free capability offset */
	unsigned int slot;		/* set by pci_host_add */
	struct pci_host *host;

	/* After the generic read of [off, off + len): may override @data. */
	void (*config_read)(struct pci_device *pd, unsigned int off,
			    uint8_t *data, unsigned int len);
	/* After a write to [off, off + len) was applied through wmask. */
	void (*config_written)(struct pci_device *pd, unsigned int off,
			       unsigned int len);
	/* BAR @index was mapped at @addr (@mapped) or unmapped from it. */
	void (*bar_mapped)(struct pci_device *pd, unsigned int index,
			   uint64_t addr, bool mapped);
};

struct pci_host {
	const struct host_services *hs;
	pthread_mutex_t lock;		/* config accesses and BAR remaps */
	uint32_t config_address;	/* port 0xcf8 */
	struct pci_device bridge;	/* 00:00.0 */
	struct pci_device *slots[PCI_SLOTS];
	uint64_t mmio32_next;		/* BAR allocation cursors */
	uint64_t mmio64_base, mmio64_size, mmio64_next;
	uint64_t io_next;
	uint64_t bad_accesses;		/* ignored accesses (odd width, ...) */
};

/*
 * Initialise @pd as a type 0 header with the given IDs and 24-bit class
 * code (class << 16 | subclass << 8 | prog-if); no BARs, no capabilities,
 * no interrupt pin, decoding disabled.  Construction thread.
 */
void pci_device_init(struct pci_device *pd, const char *name, uint16_t vendor,
		     uint16_t device, uint32_t class_code, uint8_t revision,
		     uint16_t subsys_vendor, uint16_t subsys_id);

/*
 * Describe BAR @index: @size bytes (a power of two, at least 16 for
 * memory and 4 for I/O; a 64-bit BAR also takes @index + 1), served by
 * @ops with @dev.  Returns 0 or -EINVAL.  Before pci_host_add.
 */
int pci_device_add_bar(struct pci_device *pd, unsigned int index,
		       uint64_t size, unsigned int flags,
		       const struct io_handler *ops, void *dev);

/*
 * Append a capability with ID @id whose bytes after the ID and next
 * pointer are @body (@len bytes; may be NULL for zeroes).  Returns its
 * offset in configuration space, or -ENOSPC.  Everything in it is
 * read-only until pci_device_set_wmask() says otherwise.
 */
int pci_device_add_cap(struct pci_device *pd, uint8_t id, const void *body,
		       unsigned int len);

/* Let the guest change the bits of @mask in [off, off + len) (LE value). */
void pci_device_set_wmask(struct pci_device *pd, unsigned int off,
			  unsigned int len, uint32_t mask);

/* Little-endian accessors for configuration space (device's own use). */
uint32_t pci_cfg_get(const struct pci_device *pd, unsigned int off,
		     unsigned int len);
void pci_cfg_set(struct pci_device *pd, unsigned int off, unsigned int len,
		 uint32_t value);

/*
 * Initialise the host bridge; 64-bit BARs go in [@mmio64_base,
 * @mmio64_base + @mmio64_size).  Returns 0 or -errno.
 */
int pci_host_init(struct pci_host *host, const struct host_services *hs,
		  uint64_t mmio64_base, uint64_t mmio64_size);
void pci_host_destroy(struct pci_host *host);

/*
 * Put @pd in the first free slot and assign its BARs addresses in the
 * windows, as firmware would (decoding stays off until the guest enables
 * it).  Returns the slot, or -ENOSPC (no slot, or a window is full).
 * Construction thread, before vCPUs run.
 */
int pci_host_add(struct pci_host *host, struct pci_device *pd);

/*
 * Register handlers: the address register (4 ports at PCI_CONFIG_ADDRESS),
 * the data window (4 ports at PCI_CONFIG_DATA) and ECAM (PCI_ECAM_SIZE
 * bytes at PCI_ECAM_BASE), each with the pci_host as the device.
 */
extern const struct io_handler pci_config_address_io;
extern const struct io_handler pci_config_data_io;
extern const struct io_handler pci_ecam_io;

/*
 * Snapshots (docs/snapshot.md).  pci_host_save writes, into the node the
 * caller opened: the configuration address latch, the occupied slots, and
 * per function a "slot@N" node (N in hex, 0 the host bridge) with its
 * standard configuration space (256 bytes: the guest-writable bits as the
 * guest set them, the rest for comparison) and which BARs were mapped.
 * vCPUs paused.
 *
 * pci_host_load, on a freshly built host with the same devices added:
 * checks that the slots and every read-only byte match (same device,
 * BARs, capabilities), then replays the writable dwords through the
 * guest's configuration write path, from the highest offset down (BARs
 * before the command register enables decoding; a window's data before
 * the registers that aim it), so BARs map exactly as for the guest and the
 * devices' hooks (MSI-X Message Control) run; a BAR that mapped in the
 * snapshot but is refused here fails the load.  Errors go to @r
 * (r->failed); the host stays safe to destroy.  Call it before the
 * devices' own loads (it works after them too).
 */
void pci_host_save(struct pci_host *host, struct state_writer *w);
void pci_host_load(struct pci_host *host, struct state_reader *r, int node);

#endif
