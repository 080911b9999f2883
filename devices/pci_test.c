// SPDX-License-Identifier: Apache-2.0
/*
 * The PCI host bridge through both access mechanisms, BAR sizing and
 * decoding, read-only fields, capabilities, and the hostile cases of
 * bad-inputs.md rows 21-24.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host_testlib.h"
#include "pci.h"
#include "pci_testlib.h"

#define RAM_SIZE	(1ULL << 20)	/* at 0: what BARs must not cover */

struct fixture {
	struct fake_host fh;
	struct pci_host host;
	struct pci_device dev;
	unsigned int map_events, unmap_events;
	uint64_t last_event_addr;
};

static void noop_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	memset(data, 0x5a, len);
}

static const struct io_handler bar_io = { .read = noop_read };

static void on_bar_mapped(struct pci_device *pd, unsigned int index,
			  uint64_t addr, bool mapped)
{
	struct fixture *f = (struct fixture *)((char *)pd -
					       offsetof(struct fixture, dev));

	(void)index;
	if (mapped)
		f->map_events++;
	else
		f->unmap_events++;
	f->last_event_addr = addr;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_int_equal(fake_host_init(&f->fh, 0, RAM_SIZE), 0);
	assert_int_equal(pci_host_init(&f->host, &f->fh.hs, 0x4000000000ULL,
				       0x400000000ULL), 0);
	pci_device_init(&f->dev, "test", 0x1af4, 0x1042, 0x018000, 1,
			0x1af4, 0x0002);
	f->dev.bar_mapped = on_bar_mapped;
	assert_int_equal(pci_device_add_bar(&f->dev, 0, 0x1000, 0, &bar_io, f), 0);
	assert_int_equal(pci_device_add_bar(&f->dev, 2, 0x4000, PCI_BAR_MEM64 |
					    PCI_BAR_PREFETCH, &bar_io, f), 0);
	assert_int_equal(pci_device_add_bar(&f->dev, 4, 0x20, PCI_BAR_IO,
					    &bar_io, f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pci_host_destroy(&f->host);
	fake_host_free(&f->fh);
	free(f);
	return 0;
}

/* Mechanism #1: select bus 0 @slot register @reg, then access 0xcfc. */
static uint32_t cf8_read(struct fixture *f, unsigned int slot,
			 unsigned int reg, unsigned int len)
{
	int bad;
	uint32_t v = pci_test_cfg_read(&f->host, slot, reg, len, &bad);

	assert_int_equal(bad, 0);
	return v;
}

static void cf8_write(struct fixture *f, unsigned int slot, unsigned int reg,
		      unsigned int len, uint32_t value)
{
	pci_test_cfg_write(&f->host, slot, reg, len, value);
}

static uint32_t ecam_read(struct fixture *f, uint64_t off, unsigned int len)
{
	uint64_t v;

	assert_int_equal(fake_io_read(&pci_ecam_io, &f->host, off, len, &v), 0);
	return v;
}

static void test_host_bridge(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	assert_int_equal(cf8_read(f, 0, PCI_VENDOR_ID, 4), 0x00081b36);
	assert_int_equal(cf8_read(f, 0, PCI_REVISION, 4) >> 8, 0x060000);
	assert_int_equal(ecam_read(f, PCI_VENDOR_ID, 4), 0x00081b36);
	/* The address register reads back what was written, masked. */
	fake_io_write(&pci_config_address_io, &f->host, 0, 4, 0xffffffff);
	assert_int_equal(fake_io_read(&pci_config_address_io, &f->host, 0, 4,
				      &v), 0);
	assert_int_equal(v, 0x80fffffc);
	/* A byte write to 0xcf9 changes nothing (it is not a reset here). */
	fake_io_write(&pci_config_address_io, &f->host, 1, 1, 0x06);
	assert_int_equal(fake_io_read(&pci_config_address_io, &f->host, 0, 4,
				      &v), 0);
	assert_int_equal(v, 0x80fffffc);
	assert_int_equal(f->fh.reset_count, 0);
}

static void test_nothing_there_reads_ones(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	/* An empty slot, another function, another bus. */
	assert_int_equal(cf8_read(f, 5, PCI_VENDOR_ID, 4), 0xffffffff);
	fake_io_write(&pci_config_address_io, &f->host, 0, 4,
		      0x80000000U | 1 << 8);
	assert_int_equal(fake_io_read(&pci_config_data_io, &f->host, 0, 4, &v), 0);
	assert_int_equal(v, 0xffffffff);
	fake_io_write(&pci_config_address_io, &f->host, 0, 4,
		      0x80000000U | 1 << 16);
	assert_int_equal(fake_io_read(&pci_config_data_io, &f->host, 0, 2, &v), 0);
	assert_int_equal(v, 0xffff);
	/* The enable bit clear. */
	fake_io_write(&pci_config_address_io, &f->host, 0, 4, 0);
	assert_int_equal(fake_io_read(&pci_config_data_io, &f->host, 0, 4, &v), 0);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(ecam_read(f, 7 << 15, 4), 0xffffffff);
	assert_int_equal(ecam_read(f, 1 << 12, 4), 0xffffffff);
}

static void test_bar_assignment_and_sizing(void **state)
{
	struct fixture *f = *state;
	uint32_t lo, hi;

	assert_int_equal(pci_host_add(&f->host, &f->dev), 1);
	/* Assigned in the windows, naturally aligned, type bits kept. */
	lo = cf8_read(f, 1, PCI_BAR0, 4);
	assert_int_equal(lo, PCI_MMIO32_BASE);
	lo = cf8_read(f, 1, PCI_BAR0 + 8, 4);
	hi = cf8_read(f, 1, PCI_BAR0 + 12, 4);
	assert_int_equal(lo, 0x0000000c);	/* 64-bit, prefetchable */
	assert_int_equal(hi, 0x40);		/* 0x40_0000_0000 */
	assert_int_equal(cf8_read(f, 1, PCI_BAR0 + 16, 4), PCI_IO_BASE | 1);
	assert_int_equal(cf8_read(f, 1, PCI_BAR0 + 4, 4), 0);	/* none */

	/* Sizing: all-ones in, the size mask (and type bits) out. */
	cf8_write(f, 1, PCI_BAR0, 4, 0xffffffff);
	assert_int_equal(cf8_read(f, 1, PCI_BAR0, 4), 0xfffff000);
	cf8_write(f, 1, PCI_BAR0 + 8, 4, 0xffffffff);
	cf8_write(f, 1, PCI_BAR0 + 12, 4, 0xffffffff);
	assert_int_equal(cf8_read(f, 1, PCI_BAR0 + 8, 4), 0xffffc00c);
	assert_int_equal(cf8_read(f, 1, PCI_BAR0 + 12, 4), 0xffffffff);
	cf8_write(f, 1, PCI_BAR0 + 16, 4, 0xffffffff);
	assert_int_equal(cf8_read(f, 1, PCI_BAR0 + 16, 4), 0xffffffe1);
	/* Unimplemented BARs and the ROM BAR stay zero. */
	cf8_write(f, 1, PCI_BAR0 + 4, 4, 0xffffffff);
	assert_int_equal(cf8_read(f, 1, PCI_BAR0 + 4, 4), 0);
	cf8_write(f, 1, PCI_ROM_ADDRESS, 4, 0xffffffff);
	assert_int_equal(cf8_read(f, 1, PCI_ROM_ADDRESS, 4), 0);
	/* Decoding was off throughout: nothing was mapped. */
	assert_int_equal(f->fh.map_calls, 0);
}

static void test_read_only_fields(void **state)
{
	struct fixture *f = *state;
	unsigned int reg;

	assert_int_equal(pci_host_add(&f->host, &f->dev), 1);
	for (reg = 0; reg < 0x40; reg += 4) {
		uint32_t before = cf8_read(f, 1, reg, 4);

		if (reg == PCI_COMMAND || (reg >= PCI_BAR0 && reg < 0x28) ||
		    reg == PCI_CACHE_LINE_SIZE || reg == PCI_INTERRUPT_LINE)
			continue;
		cf8_write(f, 1, reg, 4, ~before);
		assert_int_equal(cf8_read(f, 1, reg, 4), before);
	}
	/* The command register takes only its defined bits. */
	cf8_write(f, 1, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(cf8_read(f, 1, PCI_COMMAND, 2), 0x0407);
	/* The status register is read-only, interrupt pin 0 (no INTx). */
	cf8_write(f, 1, PCI_STATUS, 2, 0xffff);
	assert_int_equal(cf8_read(f, 1, PCI_STATUS, 2), 0);
	assert_int_equal(cf8_read(f, 1, PCI_INTERRUPT_PIN, 1), 0);
	cf8_write(f, 1, PCI_INTERRUPT_LINE, 1, 11);
	assert_int_equal(cf8_read(f, 1, PCI_INTERRUPT_LINE, 1), 11);
}

static void test_decode_maps_bars(void **state)
{
	struct fixture *f = *state;
	const struct fake_region *r;

	assert_int_equal(pci_host_add(&f->host, &f->dev), 1);
	cf8_write(f, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	r = fake_host_region(&f->fh, false, PCI_MMIO32_BASE);
	assert_non_null(r);
	assert_int_equal(r->size, 0x1000);
	assert_ptr_equal(r->ops, &bar_io);
	assert_non_null(fake_host_region(&f->fh, false, 0x4000000000ULL));
	assert_null(fake_host_region(&f->fh, true, PCI_IO_BASE));
	assert_int_equal(f->map_events, 2);

	cf8_write(f, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	assert_non_null(fake_host_region(&f->fh, true, PCI_IO_BASE));
	assert_int_equal(f->fh.n_regions, 3);

	/* Moving an enabled BAR unmaps the old range, maps the new one. */
	cf8_write(f, 1, PCI_BAR0, 4, PCI_MMIO32_BASE + 0x10000);
	assert_null(fake_host_region(&f->fh, false, PCI_MMIO32_BASE));
	assert_non_null(fake_host_region(&f->fh, false, PCI_MMIO32_BASE + 0x10000));
	assert_int_equal(f->unmap_events, 1);
	assert_int_equal(f->last_event_addr, PCI_MMIO32_BASE + 0x10000);

	/* Decoding off: everything goes; rewriting the same value: no churn. */
	cf8_write(f, 1, PCI_COMMAND, 2, 0);
	assert_int_equal(f->fh.n_regions, 0);
	cf8_write(f, 1, PCI_COMMAND, 2, 0);
	assert_int_equal(f->fh.n_regions, 0);
	assert_int_equal(f->map_events, 4);
	assert_int_equal(f->unmap_events, 4);
}

static void test_bar_onto_ram_or_another_bar(void **state)
{
	struct fixture *f = *state;
	struct pci_device other;

	assert_int_equal(pci_host_add(&f->host, &f->dev), 1);
	pci_device_init(&other, "other", 0x1af4, 0x1041, 0x020000, 1, 0, 0);
	assert_int_equal(pci_device_add_bar(&other, 0, 0x1000, 0, &bar_io,
					    &other), 0);
	assert_int_equal(pci_host_add(&f->host, &other), 2);
	cf8_write(f, 2, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cf8_write(f, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(f->fh.n_regions, 3);

	/* Onto RAM: the value is stored, the BAR is not mapped. */
	cf8_write(f, 1, PCI_BAR0, 4, 0x1000);
	assert_int_equal(cf8_read(f, 1, PCI_BAR0, 4), 0x1000);
	assert_null(fake_host_region(&f->fh, false, 0x1000));
	assert_int_equal(f->fh.n_regions, 2);
	/* Onto the other device's BAR: the same. */
	cf8_write(f, 1, PCI_BAR0, 4, cf8_read(f, 2, PCI_BAR0, 4));
	assert_int_equal(f->fh.n_regions, 2);
	assert_ptr_equal(fake_host_region(&f->fh, false,
					  cf8_read(f, 2, PCI_BAR0, 4))->dev,
			 &other);
	/* Somewhere free again: mapped. */
	cf8_write(f, 1, PCI_BAR0, 4, PCI_MMIO32_BASE + 0x100000);
	assert_non_null(fake_host_region(&f->fh, false,
					 PCI_MMIO32_BASE + 0x100000));
	/* A 64-bit BAR half-written to all-ones wraps: refused, no crash. */
	cf8_write(f, 1, PCI_BAR0 + 12, 4, 0xffffffff);
	cf8_write(f, 1, PCI_BAR0 + 8, 4, 0xffffffff);
	assert_null(fake_host_region(&f->fh, false, 0x4000000000ULL));
	assert_int_equal(f->fh.n_regions, 3);
}

static void test_bad_widths_ignored(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	assert_int_equal(pci_host_add(&f->host, &f->dev), 1);
	/* Misaligned ECAM accesses and 8-byte ones: ones, writes dropped. */
	assert_int_equal(ecam_read(f, (1 << 15) | 1, 2), 0xffff);
	assert_int_equal(fake_io_read(&pci_ecam_io, &f->host, (1 << 15), 8, &v), 0);
	assert_int_equal(v, UINT64_MAX);
	fake_io_write(&pci_ecam_io, &f->host, (1 << 15) | (PCI_COMMAND + 1), 2,
		      0xffff);
	fake_io_write(&pci_ecam_io, &f->host, (1 << 15) | PCI_COMMAND, 8,
		      UINT64_MAX);
	assert_int_equal(ecam_read(f, (1 << 15) | PCI_COMMAND, 2), 0);
	assert_int_equal(f->fh.map_calls, 0);
	assert_true(f->host.bad_accesses >= 3);
	/* Beyond 256 bytes through ECAM: extended space, zero. */
	assert_int_equal(ecam_read(f, (1 << 15) | 0x100, 4), 0);
	/* An odd-width address-register access changes nothing. */
	fake_io_write(&pci_config_address_io, &f->host, 0, 2, 0x8000);
	assert_int_equal(fake_io_read(&pci_config_address_io, &f->host, 0, 2,
				      &v), 0);
	assert_int_equal(v, 0xffff);
}

static void test_capabilities(void **state)
{
	struct fixture *f = *state;
	static const uint8_t body[6] = { 1, 2, 3, 4, 5, 6 };
	int a, b;

	a = pci_device_add_cap(&f->dev, PCI_CAP_ID_VNDR, body, sizeof(body));
	b = pci_device_add_cap(&f->dev, PCI_CAP_ID_MSIX, NULL, 10);
	assert_int_equal(a, PCI_CAP_START);
	assert_int_equal(b, PCI_CAP_START + 8);
	pci_device_set_wmask(&f->dev, b + 2, 2, 0xc000);
	assert_int_equal(pci_host_add(&f->host, &f->dev), 1);

	assert_true(cf8_read(f, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(cf8_read(f, 1, PCI_CAP_PTR, 1), a);
	assert_int_equal(cf8_read(f, 1, a, 1), PCI_CAP_ID_VNDR);
	assert_int_equal(cf8_read(f, 1, a + 1, 1), b);
	assert_int_equal(cf8_read(f, 1, a + 2, 2), 0x0201);
	assert_int_equal(cf8_read(f, 1, a + 4, 4), 0x06050403);
	assert_int_equal(cf8_read(f, 1, b, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(cf8_read(f, 1, b + 1, 1), 0);	/* the end */
	/* Only the bits the device opened are writable. */
	cf8_write(f, 1, b + 2, 2, 0xffff);
	assert_int_equal(cf8_read(f, 1, b + 2, 2), 0xc000);
	cf8_write(f, 1, a + 2, 2, 0);
	assert_int_equal(cf8_read(f, 1, a + 2, 2), 0x0201);
	/* A capability that does not fit in 256 bytes is refused. */
	assert_int_equal(pci_device_add_cap(&f->dev, PCI_CAP_ID_VNDR, NULL, 250),
			 -ENOSPC);
}

static void test_add_bar_checks(void **state)
{
	struct fixture *f = *state;
	struct pci_device d;

	(void)f;
	pci_device_init(&d, "d", 1, 2, 0, 0, 0, 0);
	assert_int_equal(pci_device_add_bar(&d, 0, 0x1800, 0, &bar_io, NULL),
			 -EINVAL);	/* not a power of two */
	assert_int_equal(pci_device_add_bar(&d, 0, 8, 0, &bar_io, NULL),
			 -EINVAL);	/* memory BARs are at least 16 bytes */
	assert_int_equal(pci_device_add_bar(&d, 5, 0x1000, PCI_BAR_MEM64,
					    &bar_io, NULL), -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 6, 0x1000, 0, &bar_io, NULL),
			 -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 0, 0x1000, 0, NULL, NULL),
			 -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 0, 0x200, PCI_BAR_IO, &bar_io,
					    NULL), -EINVAL);	/* I/O <= 256 */
	assert_int_equal(pci_device_add_bar(&d, 1, 0x1000, PCI_BAR_MEM64,
					    &bar_io, NULL), 0);
	/* Its upper half, and a BAR already described, are taken. */
	assert_int_equal(pci_device_add_bar(&d, 2, 0x1000, 0, &bar_io, NULL),
			 -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 1, 0x1000, 0, &bar_io, NULL),
			 -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 0, 0x1000, PCI_BAR_MEM64,
					    &bar_io, NULL), -EINVAL);
}

static void test_slots_and_windows_run_out(void **state)
{
	struct fixture *f = *state;
	static struct pci_device many[PCI_SLOTS];
	struct pci_device huge;
	unsigned int i;

	for (i = 1; i < PCI_SLOTS; i++) {
		pci_device_init(&many[i], "m", 1, 2, 0, 0, 0, 0);
		assert_int_equal(pci_host_add(&f->host, &many[i]), (int)i);
	}
	pci_device_init(&many[0], "m", 1, 2, 0, 0, 0, 0);
	assert_int_equal(pci_host_add(&f->host, &many[0]), -ENOSPC);

	/* A fresh host: two 256 MiB BARs fill the 32-bit window. */
	pci_host_destroy(&f->host);
	assert_int_equal(pci_host_init(&f->host, &f->fh.hs, 0, 0), 0);
	for (i = 0; i < 3; i++) {
		pci_device_init(&many[i], "m", 1, 2, 0, 0, 0, 0);
		assert_int_equal(pci_device_add_bar(&many[i], 0, 256 << 20, 0,
						    &bar_io, NULL), 0);
		assert_int_equal(pci_host_add(&f->host, &many[i]),
				 i < 2 ? (int)i + 1 : -ENOSPC);
	}
	/* Without a 64-bit window, 64-bit BARs go below 4 GiB. */
	pci_host_destroy(&f->host);
	assert_int_equal(pci_host_init(&f->host, &f->fh.hs, 0, 0), 0);
	pci_device_init(&huge, "h", 1, 2, 0, 0, 0, 0);
	assert_int_equal(pci_device_add_bar(&huge, 0, 0x1000, PCI_BAR_MEM64,
					    &bar_io, NULL), 0);
	assert_int_equal(pci_host_add(&f->host, &huge), 1);
	assert_int_equal(cf8_read(f, 1, PCI_BAR0, 4), PCI_MMIO32_BASE | 0x4);
	assert_int_equal(cf8_read(f, 1, PCI_BAR0 + 4, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_there_reads_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_assignment_and_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_maps_bars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_onto_ram_or_another_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_widths_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_bar_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots_and_windows_run_out, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
