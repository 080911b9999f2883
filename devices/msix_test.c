// SPDX-License-Identifier: Apache-2.0
/*
 * MSI-X: the capability through PCI configuration space, the table and
 * PBA, masking at every level with pending delivery, route updates, and
 * the ignored accesses of bad-inputs.md row 22.
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
#include "msix.h"
#include "pci.h"
#include "pci_testlib.h"

#define VECTORS		3
#define TABLE_OFF	0x2000
#define PBA_OFF		0x3000

struct fixture {
	struct fake_host fh;
	struct pci_host host;
	struct pci_device pd;
	struct msix msix;
};

static void bar_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	memset(data, 0, len);
}

static const struct io_handler bar_io = { .read = bar_read };

static void on_config_written(struct pci_device *pd, unsigned int off,
			      unsigned int len)
{
	struct fixture *f = (struct fixture *)((char *)pd -
					       offsetof(struct fixture, pd));

	msix_config_written(&f->msix, off, len);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_int_equal(fake_host_init(&f->fh, 0, 1 << 20), 0);
	assert_int_equal(pci_host_init(&f->host, &f->fh.hs, 0, 0), 0);
	pci_device_init(&f->pd, "msix", 0x1af4, 0x1042, 0x018000, 1, 0, 0);
	assert_int_equal(pci_device_add_bar(&f->pd, 0, 0x4000, 0, &bar_io, f), 0);
	assert_int_equal(msix_init(&f->msix, &f->pd, &f->fh.hs, VECTORS, 0,
				   TABLE_OFF, PBA_OFF), 0);
	f->pd.config_written = on_config_written;
	assert_int_equal(pci_host_add(&f->host, &f->pd), 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	msix_destroy(&f->msix);
	pci_host_destroy(&f->host);
	fake_host_free(&f->fh);
	free(f);
	return 0;
}

static uint32_t cfg_read(struct fixture *f, unsigned int reg, unsigned int len)
{
	int bad;
	uint32_t v = pci_test_cfg_read(&f->host, 1, reg, len, &bad);

	assert_int_equal(bad, 0);
	return v;
}

static void cfg_write(struct fixture *f, unsigned int reg, unsigned int len,
		      uint32_t value)
{
	pci_test_cfg_write(&f->host, 1, reg, len, value);
}

static void table_write(struct fixture *f, uint64_t off, uint32_t len,
			uint64_t value)
{
	uint8_t data[8];

	io_put(data, len, value);
	msix_table_write(&f->msix, off, data, len);
}

static uint64_t table_read(struct fixture *f, uint64_t off, uint32_t len)
{
	uint8_t data[8];

	msix_table_read(&f->msix, off, data, len);
	return io_get(data, len);
}

static uint64_t pba(struct fixture *f)
{
	uint8_t data[8];

	msix_pba_read(&f->msix, 0, data, 8);
	return io_get(data, 8);
}

/* Program vector @i to @addr/@data and unmask it. */
static void program(struct fixture *f, unsigned int i, uint64_t addr,
		    uint32_t data)
{
	table_write(f, i * 16, 4, (uint32_t)addr);
	table_write(f, i * 16 + 4, 4, addr >> 32);
	table_write(f, i * 16 + 8, 4, data);
	table_write(f, i * 16 + 12, 4, 0);
}

static int handle(struct fixture *f, unsigned int i)
{
	return f->msix.vec[i].handle;
}

static void test_capability(void **state)
{
	struct fixture *f = *state;
	unsigned int cap = cfg_read(f, PCI_CAP_PTR, 1);

	assert_int_equal(cfg_read(f, cap, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(cfg_read(f, cap + 2, 2), VECTORS - 1);
	assert_int_equal(cfg_read(f, cap + 4, 4), TABLE_OFF | 0);
	assert_int_equal(cfg_read(f, cap + 8, 4), PBA_OFF | 0);
	/* Only enable and function mask are writable. */
	cfg_write(f, cap + 2, 2, 0xffff);
	assert_int_equal(cfg_read(f, cap + 2, 2), 0xc000 | (VECTORS - 1));
	cfg_write(f, cap + 4, 4, 0);
	assert_int_equal(cfg_read(f, cap + 4, 4), TABLE_OFF);
	/* Every vector starts masked, with a route of its own. */
	assert_int_equal(table_read(f, 12, 4), 1);
	assert_int_equal(table_read(f, 2 * 16 + 12, 4), 1);
	assert_true(handle(f, 0) != handle(f, 1));
	assert_int_equal(msix_table_size(VECTORS), 48);
	assert_int_equal(msix_pba_size(VECTORS), 8);
	assert_int_equal(msix_pba_size(65), 16);
}

static void test_delivery_and_masking(void **state)
{
	struct fixture *f = *state;
	unsigned int cap = f->msix.cap;

	/* Disabled: a raise is only pending. */
	assert_false(msix_raise(&f->msix, 0));
	assert_int_equal(pba(f), 1);
	program(f, 0, 0xfee01000, 0x4031);
	assert_int_equal(fake_host_msi_count(&f->fh, handle(f, 0)), 0);
	/* Enabling delivers it, with the route programmed first. */
	cfg_write(f, cap + 2, 2, MSIX_CTRL_ENABLE);
	assert_true(msix_enabled(&f->msix));
	assert_int_equal(fake_host_msi_count(&f->fh, handle(f, 0)), 1);
	assert_int_equal(f->fh.msi[handle(f, 0)].address, 0xfee01000);
	assert_int_equal(f->fh.msi[handle(f, 0)].data, 0x4031);
	assert_int_equal(pba(f), 0);

	assert_true(msix_raise(&f->msix, 0));
	assert_true(msix_raise(&f->msix, 0));
	assert_int_equal(fake_host_msi_count(&f->fh, handle(f, 0)), 2);

	/* A masked entry: pending until unmasked. */
	assert_false(msix_raise(&f->msix, 1));
	assert_int_equal(pba(f), 2);
	program(f, 1, 0xfee02000, 0x4032);
	assert_int_equal(fake_host_msi_count(&f->fh, handle(f, 1)), 1);
	assert_int_equal(pba(f), 0);

	/* The function mask holds everything; clearing it delivers. */
	cfg_write(f, cap + 2, 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	assert_false(msix_enabled(&f->msix));
	assert_false(msix_raise(&f->msix, 0));
	assert_false(msix_raise(&f->msix, 1));
	assert_int_equal(pba(f), 3);
	assert_int_equal(fake_host_msi_count(&f->fh, handle(f, 0)), 0);
	cfg_write(f, cap + 2, 2, MSIX_CTRL_ENABLE);
	assert_int_equal(fake_host_msi_count(&f->fh, handle(f, 0)), 1);
	assert_int_equal(fake_host_msi_count(&f->fh, handle(f, 1)), 1);

	/* Disabling MSI-X again holds them too. */
	cfg_write(f, cap + 2, 2, 0);
	assert_false(msix_raise(&f->msix, 1));
	assert_int_equal(fake_host_msi_count(&f->fh, handle(f, 1)), 0);
}

static void test_reprogramming(void **state)
{
	struct fixture *f = *state;
	unsigned int sets;

	cfg_write(f, f->msix.cap + 2, 2, MSIX_CTRL_ENABLE);
	program(f, 2, 0xfee00000, 0x41);
	sets = f->fh.msi[handle(f, 2)].set_calls;
	/* A live entry's new data reaches the route at once. */
	table_write(f, 2 * 16 + 8, 4, 0x42);
	assert_int_equal(f->fh.msi[handle(f, 2)].data, 0x42);
	assert_int_equal(f->fh.msi[handle(f, 2)].set_calls, sets + 1);
	/* Writing the same value again costs no route update. */
	table_write(f, 2 * 16 + 8, 4, 0x42);
	assert_int_equal(f->fh.msi[handle(f, 2)].set_calls, sets + 1);
	/* A 64-bit write of the address, read back both ways. */
	table_write(f, 2 * 16, 8, 0x00000003fee0c000ULL);
	assert_int_equal(table_read(f, 2 * 16, 8), 0x00000003fee0c000ULL);
	assert_int_equal(table_read(f, 2 * 16 + 4, 4), 3);
	assert_int_equal(f->fh.msi[handle(f, 2)].address, 0x3fee0c000ULL);
	/* Reserved vector-control bits read back 0. */
	table_write(f, 2 * 16 + 12, 4, 0xfffffffe);
	assert_int_equal(table_read(f, 2 * 16 + 12, 4), 0);
}

static void test_bad_accesses_ignored(void **state)
{
	struct fixture *f = *state;
	uint8_t data[8];

	/* Beyond the vectors, odd widths, misaligned: 0, nothing written. */
	table_write(f, VECTORS * 16, 4, 0);
	assert_int_equal(table_read(f, VECTORS * 16, 4), 0);
	table_write(f, 12, 2, 0);
	assert_int_equal(table_read(f, 12, 4), 1);	/* still masked */
	table_write(f, 4, 8, 0);			/* misaligned qword */
	assert_int_equal(table_read(f, 2, 2), 0);
	msix_pba_read(&f->msix, 8, data, 4);
	assert_int_equal(io_get(data, 4), 0);
	msix_pba_read(&f->msix, 1, data, 1);
	assert_true(f->msix.bad_accesses >= 6);
	/* Vector numbers out of range, virtio's "no vector" among them. */
	assert_false(msix_raise(&f->msix, VECTORS));
	assert_false(msix_raise(&f->msix, MSIX_NO_VECTOR));
	assert_int_equal(pba(f), 0);
}

static void test_init_checks(void **state)
{
	struct fixture *f = *state;
	struct pci_device pd;
	struct msix m;

	pci_device_init(&pd, "x", 1, 2, 0, 0, 0, 0);
	assert_int_equal(msix_init(&m, &pd, &f->fh.hs, 0, 0, 0, 0x100), -EINVAL);
	assert_int_equal(msix_init(&m, &pd, &f->fh.hs, MSIX_MAX_VECTORS + 1, 0,
				   0, 0x1000), -EINVAL);
	assert_int_equal(msix_init(&m, &pd, &f->fh.hs, 1, 6, 0, 0x100), -EINVAL);
	assert_int_equal(msix_init(&m, &pd, &f->fh.hs, 1, 0, 4, 0x100), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivery_and_masking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reprogramming, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_accesses_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_checks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
