// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pci.h"

#define HOST_BRIDGE_VENDOR	0x1b36	/* Red Hat, Inc.: the IDs QEMU's */
#define HOST_BRIDGE_DEVICE	0x0008	/* PCIe host bridge uses */
#define CLASS_HOST_BRIDGE	0x060000

#define CONFIG_ENABLE		0x80000000U
#define CONFIG_ADDRESS_MASK	0x80fffffcU	/* enable, bus, device, function, register */

uint32_t pci_cfg_get(const struct pci_device *pd, unsigned int off,
		     unsigned int len)
{
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		v |= (uint32_t)pd->cfg[off + i] << (8 * i);
	return v;
}

void pci_cfg_set(struct pci_device *pd, unsigned int off, unsigned int len,
		 uint32_t value)
{
	unsigned int i;

	for (i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		pd->cfg[off + i] = value >> (8 * i);
}

void pci_device_set_wmask(struct pci_device *pd, unsigned int off,
			  unsigned int len, uint32_t mask)
{
	unsigned int i;

	for (i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		pd->wmask[off + i] = mask >> (8 * i);
}

void pci_device_init(struct pci_device *pd, const char *name, uint16_t vendor,
		     uint16_t device, uint32_t class_code, uint8_t revision,
		     uint16_t subsys_vendor, uint16_t subsys_id)
{
	memset(pd, 0, sizeof(*pd));
	pd->name = name;
	pd->cap_end = PCI_CAP_START;
	pci_cfg_set(pd, PCI_VENDOR_ID, 2, vendor);
	pci_cfg_set(pd, PCI_DEVICE_ID, 2, device);
	pci_cfg_set(pd, PCI_REVISION, 1, revision);
	pci_cfg_set(pd, PCI_CLASS_PROG, 3, class_code);
	pci_cfg_set(pd, PCI_SUBSYS_VENDOR_ID, 2, subsys_vendor);
	pci_cfg_set(pd, PCI_SUBSYS_ID, 2, subsys_id);
	pci_device_set_wmask(pd, PCI_COMMAND, 2, PCI_COMMAND_IO |
			     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			     PCI_COMMAND_INTX_OFF);
	/* Scratch registers software may use; they change nothing. */
	pci_device_set_wmask(pd, PCI_CACHE_LINE_SIZE, 1, 0xff);
	pci_device_set_wmask(pd, PCI_LATENCY_TIMER, 1, 0xff);
	pci_device_set_wmask(pd, PCI_INTERRUPT_LINE, 1, 0xff);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int pci_device_add_bar(struct pci_device *pd, unsigned int index,
		       uint64_t size, unsigned int flags,
		       const struct io_handler *ops, void *dev)
{
	bool io = flags & PCI_BAR_IO, wide = flags & PCI_BAR_MEM64;
	unsigned int off = PCI_BAR0 + 4 * index;
	uint64_t mask;

	if (index >= PCI_BARS || (wide && index + 1 >= PCI_BARS) || !ops ||
	    !is_pow2(size) || (io && (wide || size < 4 || size > 256)) ||
	    (!io && size < 16) || (!wide && !io && size > (1ULL << 31)))
		return -EINVAL;
	if (pd->bar[index].size || (index && pd->bar[index - 1].size &&
					(pd->bar[index - 1].flags & PCI_BAR_MEM64)) ||
	    (wide && pd->bar[index + 1].size))
		return -EINVAL;
	pd->bar[index] = (struct pci_bar){
		.size = size, .flags = flags, .ops = ops, .dev = dev,
	};
	mask = ~(size - 1);
	if (io) {
		pci_cfg_set(pd, off, 4, 0x1);
		pci_device_set_wmask(pd, off, 4, (uint32_t)mask & 0xfffffffc);
		return 0;
	}
	pci_cfg_set(pd, off, 4, (wide ? 0x4 : 0) |
		    (flags & PCI_BAR_PREFETCH ? 0x8 : 0));
	pci_device_set_wmask(pd, off, 4, (uint32_t)mask & 0xfffffff0);
	if (wide)
		pci_device_set_wmask(pd, off + 4, 4, mask >> 32);
	return 0;
}

int pci_device_add_cap(struct pci_device *pd, uint8_t id, const void *body,
		       unsigned int len)
{
	unsigned int off = (pd->cap_end + 3) & ~3U, prev;

	if (off + 2 + len > 256)
		return -ENOSPC;
	pd->cfg[off] = id;
	pd->cfg[off + 1] = 0;
	if (body)
		memcpy(&pd->cfg[off + 2], body, len);
	/* Link it at the end of the list. */
	prev = pd->cfg[PCI_CAP_PTR];
	if (!prev) {
		pd->cfg[PCI_CAP_PTR] = off;
	} else {
		while (pd->cfg[prev + 1])
			prev = pd->cfg[prev + 1];
		pd->cfg[prev + 1] = off;
	}
	pci_cfg_set(pd, PCI_STATUS, 2,
		    pci_cfg_get(pd, PCI_STATUS, 2) | PCI_STATUS_CAP_LIST);
	pd->cap_end = off + 2 + len;
	return off;
}

/* The address BAR @i is programmed with (memory: 64-bit when wide). */
static uint64_t bar_address(const struct pci_device *pd, unsigned int i)
{
	uint32_t lo = pci_cfg_get(pd, PCI_BAR0 + 4 * i, 4);

	if (pd->bar[i].flags & PCI_BAR_IO)
		return lo & ~3U;
	if (pd->bar[i].flags & PCI_BAR_MEM64)
		return (lo & ~0xfULL) |
		       (uint64_t)pci_cfg_get(pd, PCI_BAR0 + 4 * (i + 1), 4) << 32;
	return lo & ~0xfU;
}

/*
 * Bring the bus in line with the command register and the BARs: unmap
 * what moved or lost decoding, map what gained it.  A BAR that would
 * overlap RAM or another range stays unmapped (logged once until it maps).
 */
static void update_mappings(struct pci_host *host, struct pci_device *pd)
{
	const struct host_services *hs = host->hs;
	uint16_t cmd = pci_cfg_get(pd, PCI_COMMAND, 2);
	unsigned int i;

	for (i = 0; i < PCI_BARS; i++) {
		struct pci_bar *bar = &pd->bar[i];
		bool io = bar->flags & PCI_BAR_IO;
		bool decode = cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
		uint64_t addr;
		int ret;

		if (!bar->size)
			continue;
		addr = bar_address(pd, i);
		if (bar->mapped && (!decode || addr != bar->mapped_at)) {
			hs->unmap_region(hs->ctx, io, bar->mapped_at);
			bar->mapped = false;
			if (pd->bar_mapped)
				pd->bar_mapped(pd, i, bar->mapped_at, false);
		}
		if (!decode || bar->mapped)
			continue;
		ret = hs->map_region(hs->ctx, io, addr, bar->size, bar->ops,
				     bar->dev, pd->name);
		if (ret) {
			if (!bar->refused_logged)
				fprintf(stderr, "wisp: pci %s: BAR%u at 0x%llx (%llu bytes) overlaps RAM or another device: left unmapped\n",
					pd->name, i, (unsigned long long)addr,
					(unsigned long long)bar->size);
			bar->refused_logged = true;
			continue;
		}
		bar->refused_logged = false;
		bar->mapped = true;
		bar->mapped_at = addr;
		if (pd->bar_mapped)
			pd->bar_mapped(pd, i, addr, true);
	}
}

static void config_read(struct pci_device *pd, unsigned int off,
			uint8_t *data, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		data[i] = pd->cfg[off + i];
	if (pd->config_read)
		pd->config_read(pd, off, data, len);
}

static void config_write(struct pci_host *host, struct pci_device *pd,
			 unsigned int off, const uint8_t *data, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		pd->cfg[off + i] = (pd->cfg[off + i] & ~pd->wmask[off + i]) |
				   (data[i] & pd->wmask[off + i]);
	/* Decoding or a BAR changed: the buses follow. */
	if ((off < PCI_COMMAND + 2 && off + len > PCI_COMMAND) ||
	    (off < PCI_BAR0 + 4 * PCI_BARS && off + len > PCI_BAR0))
		update_mappings(host, pd);
	if (pd->config_written)
		pd->config_written(pd, off, len);
}

/* The function at @devfn (device << 3 | function) of bus 0, or NULL. */
static struct pci_device *find(struct pci_host *host, unsigned int bus,
			       unsigned int devfn)
{
	if (bus || (devfn & 7))
		return NULL;	/* one bus, single-function devices */
	if (!(devfn >> 3))
		return &host->bridge;
	return host->slots[devfn >> 3];
}

/*
 * One configuration access of @len bytes at register @reg: reads of
 * nothing, and misaligned or odd-sized accesses, give all-ones; such
 * writes are dropped (bad-inputs.md rows 21 and 23).
 */
static void config_access(struct pci_host *host, unsigned int bus,
			  unsigned int devfn, unsigned int reg, uint8_t *data,
			  uint32_t len, bool is_write)
{
	struct pci_device *pd;

	pthread_mutex_lock(&host->lock);
	pd = find(host, bus, devfn);
	if (!pd || (len != 1 && len != 2 && len != 4) || (reg & (len - 1)) ||
	    reg + len > PCI_CFG_SIZE) {
		if (pd)
			host->bad_accesses++;
		if (!is_write)
			memset(data, 0xff, len);
	} else if (is_write) {
		config_write(host, pd, reg, data, len);
	} else {
		config_read(pd, reg, data, len);
	}
	pthread_mutex_unlock(&host->lock);
}

static void address_read(void *dev, uint64_t offset, uint8_t *data,
			 uint32_t len)
{
	struct pci_host *host = dev;

	if (offset || len != 4) {
		memset(data, 0xff, len);
		return;
	}
	io_put(data, 4, __atomic_load_n(&host->config_address, __ATOMIC_RELAXED));
}

static void address_write(void *dev, uint64_t offset, const uint8_t *data,
			  uint32_t len)
{
	struct pci_host *host = dev;

	/* Only whole-dword writes set the address (0xcf9 is not a reset). */
	if (offset || len != 4)
		return;
	__atomic_store_n(&host->config_address,
			 (uint32_t)io_get(data, 4) & CONFIG_ADDRESS_MASK,
			 __ATOMIC_RELAXED);
}

static void data_access(void *dev, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write)
{
	struct pci_host *host = dev;
	uint32_t ca = __atomic_load_n(&host->config_address, __ATOMIC_RELAXED);

	if (!(ca & CONFIG_ENABLE) || offset + len > 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	config_access(host, (ca >> 16) & 0xff, (ca >> 8) & 0xff,
		      (ca & 0xfc) + offset, data, len, is_write);
}

static void data_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	data_access(dev, offset, data, len, false);
}

static void data_write(void *dev, uint64_t offset, const uint8_t *data,
		       uint32_t len)
{
	data_access(dev, offset, (uint8_t *)data, len, true);
}

static void ecam_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	config_access(dev, offset >> 20, (offset >> 12) & 0xff, offset & 0xfff,
		      data, len, false);
}

static void ecam_write(void *dev, uint64_t offset, const uint8_t *data,
		       uint32_t len)
{
	config_access(dev, offset >> 20, (offset >> 12) & 0xff, offset & 0xfff,
		      (uint8_t *)data, len, true);
}

const struct io_handler pci_config_address_io = {
	.read = address_read,
	.write = address_write,
};

const struct io_handler pci_config_data_io = {
	.read = data_read,
	.write = data_write,
};

const struct io_handler pci_ecam_io = {
	.read = ecam_read,
	.write = ecam_write,
};

int pci_host_init(struct pci_host *host, const struct host_services *hs,
		  uint64_t mmio64_base, uint64_t mmio64_size)
{
	int ret;

	memset(host, 0, sizeof(*host));
	ret = pthread_mutex_init(&host->lock, NULL);
	if (ret)
		return -ret;
	host->hs = hs;
	host->mmio32_next = PCI_MMIO32_BASE;
	host->mmio64_base = host->mmio64_next = mmio64_base;
	host->mmio64_size = mmio64_size;
	host->io_next = PCI_IO_BASE;
	pci_device_init(&host->bridge, "host-bridge", HOST_BRIDGE_VENDOR,
			HOST_BRIDGE_DEVICE, CLASS_HOST_BRIDGE, 0,
			HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE);
	host->bridge.host = host;
	return 0;
}

void pci_host_destroy(struct pci_host *host)
{
	pthread_mutex_destroy(&host->lock);
}

/* Take @size bytes, naturally aligned, from [*next, end).  0: full. */
static uint64_t window_take(uint64_t *next, uint64_t end, uint64_t size)
{
	uint64_t addr = (*next + size - 1) & ~(size - 1);

	if (addr < *next || addr > end || size > end - addr)
		return 0;
	*next = addr + size;
	return addr;
}

int pci_host_add(struct pci_host *host, struct pci_device *pd)
{
	unsigned int slot, i;

	for (slot = 1; slot < PCI_SLOTS && host->slots[slot]; slot++)
		;
	if (slot == PCI_SLOTS)
		return -ENOSPC;
	for (i = 0; i < PCI_BARS; i++) {
		const struct pci_bar *bar = &pd->bar[i];
		unsigned int off = PCI_BAR0 + 4 * i;
		uint64_t addr;

		if (!bar->size)
			continue;
		if (bar->flags & PCI_BAR_IO)
			addr = window_take(&host->io_next,
					   PCI_IO_BASE + PCI_IO_SIZE, bar->size);
		else if ((bar->flags & PCI_BAR_MEM64) && host->mmio64_size)
			addr = window_take(&host->mmio64_next,
					   host->mmio64_base + host->mmio64_size,
					   bar->size);
		else
			addr = window_take(&host->mmio32_next,
					   PCI_MMIO32_BASE + PCI_MMIO32_SIZE,
					   bar->size);
		if (!addr)
			return -ENOSPC;
		pci_cfg_set(pd, off, 4, (pci_cfg_get(pd, off, 4) & 0xf) |
			    (uint32_t)addr);
		if (bar->flags & PCI_BAR_MEM64)
			pci_cfg_set(pd, off + 4, 4, addr >> 32);
	}
	pd->slot = slot;
	pd->host = host;
	host->slots[slot] = pd;
	return slot;
}

/* ---- snapshots ----------------------------------------------------------- */

#define SNAP_CFG_BYTES	256	/* mechanism #1's reach: all capabilities */

static struct pci_device *slot_device(struct pci_host *host, unsigned int s)
{
	return s ? host->slots[s] : &host->bridge;
}

static uint32_t occupied_slots(struct pci_host *host)
{
	uint32_t mask = 0;
	unsigned int s;

	for (s = 0; s < PCI_SLOTS; s++)
		if (slot_device(host, s))
			mask |= 1U << s;
	return mask;
}

static uint32_t mapped_bars(const struct pci_device *pd)
{
	uint32_t mask = 0;
	unsigned int i;

	for (i = 0; i < PCI_BARS; i++)
		if (pd->bar[i].mapped)
			mask |= 1U << i;
	return mask;
}

void pci_host_save(struct pci_host *host, struct state_writer *w)
{
	unsigned int s;
	char name[16];

	pthread_mutex_lock(&host->lock);
	state_put_u32(w, "config-address",
		      __atomic_load_n(&host->config_address, __ATOMIC_RELAXED));
	state_put_u32(w, "slots", occupied_slots(host));
	for (s = 0; s < PCI_SLOTS; s++) {
		struct pci_device *pd = slot_device(host, s);

		if (!pd)
			continue;
		snprintf(name, sizeof(name), "slot@%x", s);
		state_begin(w, name);
		state_put_str(w, "name", pd->name);
		state_put_bytes(w, "config", pd->cfg, SNAP_CFG_BYTES);
		state_put_u32(w, "bars-mapped", mapped_bars(pd));
		state_end(w);
	}
	pthread_mutex_unlock(&host->lock);
}

static void load_device(struct pci_host *host, struct pci_device *pd,
			struct state_reader *r, int node)
{
	uint32_t mapped, now;
	const uint8_t *cfg;
	size_t len;
	int off;

	cfg = state_get_blob(r, node, "config", &len);
	mapped = state_get_u32(r, node, "bars-mapped");
	if (r->failed)
		return;
	if (len != SNAP_CFG_BYTES) {
		state_fail(r, node, "config: %zu bytes where %d belong", len,
			   SNAP_CFG_BYTES);
		return;
	}
	if (mapped >> PCI_BARS) {
		state_fail(r, node, "bars-mapped 0x%x names BARs that do not exist",
			   mapped);
		return;
	}
	/* The read-only bytes say which device this is and what it has. */
	for (off = 0; off < SNAP_CFG_BYTES; off++) {
		if ((cfg[off] & ~pd->wmask[off]) ==
		    (pd->cfg[off] & ~pd->wmask[off]))
			continue;
		state_fail(r, node, "%s: read-only configuration byte 0x%02x is 0x%02x in the snapshot, 0x%02x here (a different device or device configuration)",
			   pd->name, off, cfg[off], pd->cfg[off]);
		return;
	}
	pthread_mutex_lock(&host->lock);
	for (off = SNAP_CFG_BYTES - 4; off >= 0; off -= 4) {
		if (!(pd->wmask[off] | pd->wmask[off + 1] | pd->wmask[off + 2] |
		      pd->wmask[off + 3]))
			continue;
		config_write(host, pd, off, &cfg[off], 4);
	}
	now = mapped_bars(pd);
	pthread_mutex_unlock(&host->lock);
	if (memcmp(pd->cfg, cfg, SNAP_CFG_BYTES)) {
		state_fail(r, node, "%s: configuration space differs after the replay",
			   pd->name);
		return;
	}
	if (now != mapped)
		state_fail(r, node, "%s: BARs mapped 0x%x in the snapshot, 0x%x here (a BAR overlaps RAM or another device)",
			   pd->name, mapped, now);
}

void pci_host_load(struct pci_host *host, struct state_reader *r, int node)
{
	uint32_t ca = state_get_u32(r, node, "config-address");
	uint32_t slots = state_get_u32(r, node, "slots");
	unsigned int s;
	char name[16];

	if (r->failed)
		return;
	if (ca & ~CONFIG_ADDRESS_MASK) {
		state_fail(r, node, "config-address 0x%08x has bits no guest can set",
			   ca);
		return;
	}
	if (slots != occupied_slots(host)) {
		state_fail(r, node, "the snapshot has devices in slots 0x%08x, this VM in 0x%08x",
			   slots, occupied_slots(host));
		return;
	}
	__atomic_store_n(&host->config_address, ca, __ATOMIC_RELAXED);
	for (s = 0; s < PCI_SLOTS && !r->failed; s++) {
		struct pci_device *pd = slot_device(host, s);

		if (!pd)
			continue;
		snprintf(name, sizeof(name), "slot@%x", s);
		load_device(host, pd, r, state_node(r, node, name));
	}
}
