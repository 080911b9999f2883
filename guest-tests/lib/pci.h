/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI configuration space through mechanism #1 (ports 0xcf8/0xcfc), bus 0
 * only, and the few operations a test driver needs: find a function by
 * vendor and device ID, walk its capabilities, place a memory BAR.
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include "x86.h"

#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_CLASS_REVISION	0x08	/* class code << 8 | revision ID */
#define PCI_BAR0		0x10
#define PCI_CAP_PTR		0x34

#define PCI_COMMAND_MEMORY	0x0002
#define PCI_COMMAND_MASTER	0x0004
#define PCI_STATUS_CAP_LIST	0x0010
#define PCI_CAP_VENDOR		0x09

/* A function on bus 0: (slot << 3) | function. */
typedef u8 pci_devfn;

u32 pci_read32(pci_devfn fn, u8 off);
u16 pci_read16(pci_devfn fn, u8 off);
u8 pci_read8(pci_devfn fn, u8 off);
void pci_write32(pci_devfn fn, u8 off, u32 v);
void pci_write16(pci_devfn fn, u8 off, u16 v);

/*
 * The @index-th function (0 first, in slot order) with @vendor:@device;
 * true and *@fn set if there is one.
 */
bool pci_find(u16 vendor, u16 device, unsigned int index, pci_devfn *fn);

/*
 * Offset of the first capability of type @id at or after the one that
 * follows @after (0: from the start of the list); 0 when there is none.
 * Bounded: a looping list ends after 48 steps.
 */
u8 pci_next_cap(pci_devfn fn, u8 after, u8 id);

/*
 * Size memory BAR @bar the way drivers do (all-ones, read the mask back,
 * restore), with decoding off.  Returns the size, 0 for an unimplemented
 * or I/O BAR.
 */
u64 pci_bar_size(pci_devfn fn, unsigned int bar);

/* The 24-bit class code (base class, subclass, programming interface). */
u32 pci_class(pci_devfn fn);

/* True if BAR @bar is a 64-bit memory BAR (it then uses @bar + 1 too). */
bool pci_bar_is_mem64(pci_devfn fn, unsigned int bar);

/* The address in memory BAR @bar (both halves for a 64-bit BAR). */
u64 pci_bar_addr(pci_devfn fn, unsigned int bar);

/*
 * Move memory BAR @bar to @addr with decoding off, then turn memory
 * decoding and bus mastering on.
 */
void pci_bar_place(pci_devfn fn, unsigned int bar, u64 addr);

#endif
