// SPDX-License-Identifier: Apache-2.0
#include "pci.h"

#define CONFIG_ADDRESS	0xcf8
#define CONFIG_DATA	0xcfc
#define BAR_MEM64	0x4

static void select(pci_devfn fn, u8 off)
{
	outl(CONFIG_ADDRESS, 0x80000000U | (u32)fn << 8 | (off & 0xfc));
}

u32 pci_read32(pci_devfn fn, u8 off)
{
	select(fn, off);
	return inl(CONFIG_DATA);
}

u16 pci_read16(pci_devfn fn, u8 off)
{
	select(fn, off);
	return inw(CONFIG_DATA + (off & 2));
}

u8 pci_read8(pci_devfn fn, u8 off)
{
	select(fn, off);
	return inb(CONFIG_DATA + (off & 3));
}

void pci_write32(pci_devfn fn, u8 off, u32 v)
{
	select(fn, off);
	outl(CONFIG_DATA, v);
}

void pci_write16(pci_devfn fn, u8 off, u16 v)
{
	select(fn, off);
	outw(CONFIG_DATA + (off & 2), v);
}

bool pci_find(u16 vendor, u16 device, unsigned int index, pci_devfn *fn)
{
	unsigned int f;

	for (f = 0; f < 256; f++) {
		u32 id = pci_read32(f, PCI_VENDOR_ID);

		if (id == ((u32)device << 16 | vendor) && index-- == 0) {
			*fn = f;
			return true;
		}
	}
	return false;
}

u8 pci_next_cap(pci_devfn fn, u8 after, u8 id)
{
	u8 off;
	int steps;

	if (!(pci_read16(fn, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	off = after ? pci_read8(fn, after + 1) : pci_read8(fn, PCI_CAP_PTR);
	for (steps = 0; off >= 0x40 && steps < 48; steps++) {
		off &= 0xfc;
		if (pci_read8(fn, off) == id)
			return off;
		off = pci_read8(fn, off + 1);
	}
	return 0;
}

u32 pci_class(pci_devfn fn)
{
	return pci_read32(fn, PCI_CLASS_REVISION) >> 8;
}

bool pci_bar_is_mem64(pci_devfn fn, unsigned int bar)
{
	return (pci_read32(fn, PCI_BAR0 + 4 * bar) & 0x7) == BAR_MEM64;
}

u64 pci_bar_size(pci_devfn fn, unsigned int bar)
{
	u8 reg = PCI_BAR0 + 4 * bar;
	u16 cmd = pci_read16(fn, PCI_COMMAND);
	u32 lo = pci_read32(fn, reg), hi = 0, mlo, mhi = 0xffffffff;
	bool mem64 = pci_bar_is_mem64(fn, bar);
	u64 mask;

	if (lo & 1)
		return 0;		/* I/O BAR */
	pci_write16(fn, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	pci_write32(fn, reg, 0xffffffff);
	mlo = pci_read32(fn, reg);
	pci_write32(fn, reg, lo);
	if (mem64) {
		hi = pci_read32(fn, reg + 4);
		pci_write32(fn, reg + 4, 0xffffffff);
		mhi = pci_read32(fn, reg + 4);
		pci_write32(fn, reg + 4, hi);
	}
	pci_write16(fn, PCI_COMMAND, cmd);
	if (!(mlo & ~0xfU) && (!mem64 || !mhi))
		return 0;		/* not implemented */
	mask = ((u64)mhi << 32 | (mlo & ~0xfU));
	if (!mem64)
		mask |= 0xffffffff00000000ULL;
	return mask ? ~mask + 1 : 0;
}

u64 pci_bar_addr(pci_devfn fn, unsigned int bar)
{
	u8 reg = PCI_BAR0 + 4 * bar;
	u64 a = pci_read32(fn, reg) & ~0xfU;

	if (pci_bar_is_mem64(fn, bar))
		a |= (u64)pci_read32(fn, reg + 4) << 32;
	return a;
}

void pci_bar_place(pci_devfn fn, unsigned int bar, u64 addr)
{
	u8 reg = PCI_BAR0 + 4 * bar;
	u16 cmd = pci_read16(fn, PCI_COMMAND);

	pci_write16(fn, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	if (pci_bar_is_mem64(fn, bar))
		pci_write32(fn, reg + 4, addr >> 32);
	pci_write32(fn, reg, (u32)addr);
	pci_write16(fn, PCI_COMMAND,
		    cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}
