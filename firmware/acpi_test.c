// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the ACPI table builder (firmware/acpi.c).  The checks
 * decode the output bytes at the offsets of the ACPI 6.3 specification,
 * starting from the RSDP and following the pointers as a guest does, and
 * hand every table to iasl (acpica-tools) as a second opinion.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acpi.h"
#include "le.h"

#define BUF_GPA		0xe0000ULL
#define BUF_SIZE	0x10000
#define FILL		0xa7

/* Header (5.2.6) and RSDP (5.2.5.3) offsets. */
#define HDR_LENGTH	4
#define HDR_REVISION	8
#define HDR_SIZE	36
#define RSDP_SIZE	36

/* FADT (5.2.9) offsets. */
#define FADT_FIRMWARE_CTRL	36
#define FADT_DSDT		40
#define FADT_PM_PROFILE		45
#define FADT_SCI_INT		46
#define FADT_SMI_CMD		48
#define FADT_PM1A_EVT_BLK	56
#define FADT_IAPC_BOOT_ARCH	109
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_ARM_BOOT_ARCH	129
#define FADT_MINOR_VERSION	131
#define FADT_X_FIRMWARE_CTRL	132
#define FADT_X_DSDT		140
#define FADT_X_PM1A_EVT_BLK	148
#define FADT_SLEEP_CONTROL_REG	244
#define FADT_SLEEP_STATUS_REG	256
#define FADT_HYPERVISOR_VENDOR	268
#define FADT_LENGTH		276

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static int all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	while (len--)
		if (*p++ != v)
			return 0;
	return 1;
}

/* A build, decoded from the RSDP on. */
struct built {
	uint8_t *buf;		/* BUF_SIZE bytes at BUF_GPA */
	uint64_t gpa;
	long used;
	uint64_t rsdp_gpa;
	const uint8_t *rsdp, *xsdt, *fadt, *madt, *mcfg, *dsdt;
};

/* The 64-bit PCI window of the builds below, unless a test says else. */
#define MMIO64_BASE	0x240000000ULL		/* 9 GiB */
#define MMIO64_SIZE	0x400000000ULL		/* 16 GiB */

/* The bytes at guest-physical [gpa, gpa + len), which must be in use. */
static const uint8_t *at(const struct built *b, uint64_t gpa, uint64_t len)
{
	assert_true(gpa >= b->gpa);
	assert_true(gpa - b->gpa <= (uint64_t)b->used);
	assert_true(len <= (uint64_t)b->used - (gpa - b->gpa));
	return b->buf + (gpa - b->gpa);
}

/*
 * The table at @gpa: signature, length inside the buffer, checksum, the
 * 8-byte alignment and, for the tables built at run time, the IDs.
 */
static const uint8_t *table(const struct built *b, uint64_t gpa,
			    const char *sig)
{
	const uint8_t *t = at(b, gpa, HDR_SIZE);
	uint32_t len = le_get(t + HDR_LENGTH, 4);

	assert_memory_equal(t, sig, 4);
	assert_true(len >= HDR_SIZE);
	t = at(b, gpa, len);
	assert_int_equal(sum(t, len), 0);
	assert_int_equal(gpa % 8, 0);
	assert_memory_equal(t + 10, ACPI_OEM_ID, 6);
	assert_memory_equal(t + 16, ACPI_OEM_TABLE_ID, 8);
	assert_int_equal(le_get(t + 24, 4), ACPI_OEM_REVISION);
	if (strcmp(sig, "DSDT")) {
		assert_memory_equal(t + 28, "WISP", 4);
		assert_int_equal(le_get(t + 32, 4), ACPI_CREATOR_REVISION);
	}
	return t;
}

static void build_cfg(struct built *b, uint64_t gpa,
		      const struct acpi_config *cfg)
{
	const uint8_t *x;
	uint32_t i, xlen;

	memset(b, 0, sizeof(*b));
	b->buf = malloc(BUF_SIZE);
	assert_non_null(b->buf);
	memset(b->buf, FILL, BUF_SIZE);
	b->gpa = gpa;
	b->used = acpi_build(b->buf, BUF_SIZE, gpa, cfg, &b->rsdp_gpa);
	assert_true(b->used > 0 && b->used <= BUF_SIZE);
	assert_int_equal(b->used, acpi_tables_size(cfg));
	assert_true(all_bytes(b->buf + b->used, BUF_SIZE - b->used, FILL));

	/* RSDP: revision 2, both checksums, XSDT only. */
	assert_int_equal(b->rsdp_gpa, gpa);
	b->rsdp = at(b, b->rsdp_gpa, RSDP_SIZE);
	assert_int_equal(b->rsdp_gpa % 16, 0);
	assert_memory_equal(b->rsdp, "RSD PTR ", 8);
	assert_int_equal(sum(b->rsdp, 20), 0);
	assert_int_equal(sum(b->rsdp, RSDP_SIZE), 0);

	/* XSDT: each pointer reaches a table; the FADT's reaches the DSDT. */
	b->xsdt = table(b, le_get(b->rsdp + 24, 8), "XSDT");
	x = b->xsdt;
	xlen = le_get(x + HDR_LENGTH, 4);
	assert_int_equal((xlen - HDR_SIZE) % 8, 0);
	for (i = HDR_SIZE; i < xlen; i += 8) {
		uint64_t p = le_get(x + i, 8);
		const uint8_t *t = at(b, p, HDR_SIZE);

		if (!memcmp(t, "FACP", 4)) {
			assert_null(b->fadt);
			b->fadt = table(b, p, "FACP");
		} else if (!memcmp(t, "APIC", 4)) {
			assert_null(b->madt);
			b->madt = table(b, p, "APIC");
		} else if (!memcmp(t, "MCFG", 4)) {
			assert_null(b->mcfg);
			b->mcfg = table(b, p, "MCFG");
		} else {
			fail_msg("XSDT entry %u: unexpected table %.4s",
				 (i - HDR_SIZE) / 8, (const char *)t);
		}
	}
	assert_non_null(b->fadt);
	assert_non_null(b->madt);
	assert_non_null(b->mcfg);
	b->dsdt = table(b, le_get(b->fadt + FADT_X_DSDT, 8), "DSDT");
}

static void build_at(struct built *b, uint64_t gpa, unsigned int n_cpus)
{
	struct acpi_config cfg = {
		.n_cpus = n_cpus,
		.pci_mmio64_base = MMIO64_BASE,
		.pci_mmio64_size = MMIO64_SIZE,
	};

	build_cfg(b, gpa, &cfg);
}

static void build(struct built *b, unsigned int n_cpus)
{
	build_at(b, BUF_GPA, n_cpus);
}

static void unbuild(struct built *b)
{
	free(b->buf);
	b->buf = NULL;
}

static void test_rsdp(void **state)
{
	struct built b;

	(void)state;
	build(&b, 1);
	assert_memory_equal(b.rsdp + 9, ACPI_OEM_ID, 6);
	assert_int_equal(b.rsdp[15], 2);			/* revision */
	assert_int_equal(le_get(b.rsdp + 16, 4), 0);		/* no RSDT */
	assert_int_equal(le_get(b.rsdp + 20, 4), RSDP_SIZE);	/* length */
	assert_true(all_bytes(b.rsdp + 33, 3, 0));		/* reserved */
	assert_int_equal(b.rsdp - b.buf, 0);
	unbuild(&b);
}

static void test_xsdt_and_headers(void **state)
{
	struct built b;

	(void)state;
	build(&b, 2);
	assert_int_equal(le_get(b.xsdt + HDR_LENGTH, 4), HDR_SIZE + 3 * 8);
	assert_int_equal(b.xsdt[HDR_REVISION], 1);
	assert_int_equal(b.fadt[HDR_REVISION], 6);
	assert_int_equal(b.madt[HDR_REVISION], 5);
	assert_int_equal(b.dsdt[HDR_REVISION], 2);	/* 64-bit integers */
	/* The tables do not overlap and follow the RSDP in order. */
	assert_true(b.xsdt >= b.rsdp + RSDP_SIZE);
	assert_true(b.fadt >= b.xsdt + le_get(b.xsdt + HDR_LENGTH, 4));
	assert_true(b.madt >= b.fadt + le_get(b.fadt + HDR_LENGTH, 4));
	assert_true(b.mcfg >= b.madt + le_get(b.madt + HDR_LENGTH, 4));
	assert_true(b.dsdt >= b.mcfg + le_get(b.mcfg + HDR_LENGTH, 4));
	assert_int_equal(b.dsdt + le_get(b.dsdt + HDR_LENGTH, 4) - b.buf, b.used);
	unbuild(&b);
}

/* A Generic Address Structure: a byte-wide register in I/O space. */
static void expect_gas_io8(const uint8_t *g, uint64_t port)
{
	assert_int_equal(g[0], 1);		/* SystemIO */
	assert_int_equal(g[1], 8);		/* bit width */
	assert_int_equal(g[2], 0);		/* bit offset */
	assert_int_equal(g[3], 1);		/* byte access */
	assert_int_equal(le_get(g + 4, 8), port);
}

static void test_fadt(void **state)
{
	const uint8_t *f;
	struct built b;

	(void)state;
	build(&b, 1);
	f = b.fadt;
	assert_int_equal(le_get(f + HDR_LENGTH, 4), FADT_LENGTH);
	assert_int_equal(f[HDR_REVISION], 6);
	assert_int_equal(f[FADT_MINOR_VERSION], 3);
	/* WBINVD, PWR_BUTTON, SLP_BUTTON, RESET_REG_SUP, HW_REDUCED_ACPI. */
	assert_int_equal(le_get(f + FADT_FLAGS, 4),
			 1U << 0 | 1U << 4 | 1U << 5 | 1U << 10 | 1U << 20);
	/* VGA not present, CMOS RTC not present; MSI allowed, no 8042. */
	assert_int_equal(le_get(f + FADT_IAPC_BOOT_ARCH, 2), 1U << 2 | 1U << 5);
	assert_int_equal(le_get(f + FADT_ARM_BOOT_ARCH, 2), 0);
	/* The DSDT only through X_DSDT; no FACS. */
	assert_int_equal(le_get(f + FADT_DSDT, 4), 0);
	assert_int_equal(le_get(f + FADT_X_DSDT, 8), BUF_GPA + (b.dsdt - b.buf));
	assert_int_equal(le_get(f + FADT_FIRMWARE_CTRL, 4), 0);
	assert_int_equal(le_get(f + FADT_X_FIRMWARE_CTRL, 8), 0);
	/* Hardware-reduced: no SCI, SMI, PM1/PM2/PM timer/GPE blocks. */
	assert_int_equal(f[FADT_PM_PROFILE], 0);
	assert_int_equal(le_get(f + FADT_SCI_INT, 2), 0);
	assert_int_equal(le_get(f + FADT_SMI_CMD, 4), 0);
	assert_true(all_bytes(f + FADT_PM1A_EVT_BLK,
			      FADT_IAPC_BOOT_ARCH - FADT_PM1A_EVT_BLK, 0));
	assert_true(all_bytes(f + FADT_X_PM1A_EVT_BLK,
			      FADT_SLEEP_CONTROL_REG - FADT_X_PM1A_EVT_BLK, 0));
	/* The registers of devices/acpi_pm.c. */
	expect_gas_io8(f + FADT_RESET_REG, ACPI_RESET_PORT);
	assert_int_equal(f[FADT_RESET_VALUE], ACPI_RESET_VALUE);
	expect_gas_io8(f + FADT_SLEEP_CONTROL_REG, ACPI_SLEEP_CONTROL_PORT);
	expect_gas_io8(f + FADT_SLEEP_STATUS_REG, ACPI_SLEEP_STATUS_PORT);
	assert_int_equal(ACPI_SLEEP_CONTROL_PORT, 0x600);
	assert_int_equal(ACPI_SLEEP_STATUS_PORT, 0x601);
	assert_int_equal(ACPI_RESET_PORT, 0x602);
	assert_int_equal(ACPI_RESET_VALUE, 1);
	assert_memory_equal(f + FADT_HYPERVISOR_VENDOR, "WISP\0\0\0\0", 8);
	unbuild(&b);
}

/* Walk the MADT's entries; check each kind and count them. */
static void check_madt(const uint8_t *m, unsigned int n_cpus)
{
	uint32_t len = le_get(m + HDR_LENGTH, 4);
	unsigned int seen[256] = { 0 };
	unsigned int lapics = 0, ioapics = 0, isos = 0, nmis = 0;
	const uint8_t *e = m + 44;
	unsigned int i;

	assert_int_equal(le_get(m + 36, 4), 0xfee00000);	/* LAPIC address */
	assert_int_equal(le_get(m + 40, 4), 1);		/* PCAT_COMPAT */
	assert_int_equal(len, 44 + 8 * n_cpus + 12 + 10 + 6);
	while (e < m + len) {
		assert_true(e + 2 <= m + len);
		assert_true(e[1] >= 2 && e + e[1] <= m + len);
		switch (e[0]) {
		case 0:		/* Processor Local APIC */
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], e[3]);	/* UID = APIC ID */
			assert_int_equal(le_get(e + 4, 4), 1);	/* enabled */
			if (!lapics)
				assert_int_equal(e[3], 0);	/* BSP first */
			seen[e[3]]++;
			lapics++;
			break;
		case 1:		/* I/O APIC */
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], 0);		/* ID */
			assert_int_equal(e[3], 0);
			assert_int_equal(le_get(e + 4, 4), 0xfec00000);
			assert_int_equal(le_get(e + 8, 4), 0);	/* GSI base */
			ioapics++;
			break;
		case 2:		/* Interrupt Source Override */
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);		/* ISA */
			assert_int_equal(e[3], 0);		/* IRQ 0 */
			assert_int_equal(le_get(e + 4, 4), 2);	/* GSI 2 */
			assert_int_equal(le_get(e + 8, 2), 0x5);	/* edge, high */
			isos++;
			break;
		case 4:		/* Local APIC NMI */
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);		/* all CPUs */
			assert_int_equal(le_get(e + 3, 2), 0x5);	/* edge, high */
			assert_int_equal(e[5], 1);		/* LINT1 */
			nmis++;
			break;
		default:
			fail_msg("MADT: unexpected entry type %u", e[0]);
		}
		e += e[1];
	}
	assert_ptr_equal(e, m + len);
	assert_int_equal(lapics, n_cpus);
	for (i = 0; i < 256; i++)
		assert_int_equal(seen[i], i < n_cpus ? 1 : 0);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 1);
	assert_int_equal(nmis, 1);
}

static const unsigned int cpu_counts[] = { 1, 2, 4, 64, 254 };
#define N_COUNTS (sizeof(cpu_counts) / sizeof(cpu_counts[0]))

static void test_madt_one_lapic_per_vcpu(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_COUNTS; i++) {
		struct built b;

		build(&b, cpu_counts[i]);
		check_madt(b.madt, cpu_counts[i]);
		unbuild(&b);
	}
	assert_int_equal(ACPI_MAX_CPUS, 254);
}

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle,
			   size_t len)
{
	return memmem(hay, n, needle, len);
}

/* The static DSDT describes what firmware/acpi.h says. */
static void test_dsdt_matches_platform(void **state)
{
	const uint8_t com1_io[] = {
		0x47, 0x01,			/* IO, Decode16 */
		ACPI_COM1_PORT & 0xff, ACPI_COM1_PORT >> 8,
		ACPI_COM1_PORT & 0xff, ACPI_COM1_PORT >> 8,
		0x08, 0x08,			/* alignment, length */
	};
	const uint8_t com1_irq[] = {
		0x22, (1U << ACPI_COM1_GSI) & 0xff, (1U << ACPI_COM1_GSI) >> 8,
	};
	const uint8_t ged_irq[] = {
		0x89, 0x06, 0x00,		/* Extended Interrupt */
		0x03,				/* consumer, edge, high, excl. */
		0x01, ACPI_GED_GSI, 0, 0, 0,
	};
	const uint8_t pvpanic_mem[] = {
		0x86, 0x09, 0x00, 0x01,		/* Memory32Fixed, ReadWrite */
		ACPI_PVPANIC_BASE & 0xff, (ACPI_PVPANIC_BASE >> 8) & 0xff,
		(ACPI_PVPANIC_BASE >> 16) & 0xff, ACPI_PVPANIC_BASE >> 24,
		ACPI_PVPANIC_SIZE, 0, 0, 0,
	};
	const uint32_t mmio_end = ACPI_PCI_MMIO32_BASE + ACPI_PCI_MMIO32_SIZE - 1;
	const uint8_t pci_window[] = {
		/* DWord memory: min, max, translation, length */
		ACPI_PCI_MMIO32_BASE & 0xff, (ACPI_PCI_MMIO32_BASE >> 8) & 0xff,
		(ACPI_PCI_MMIO32_BASE >> 16) & 0xff, ACPI_PCI_MMIO32_BASE >> 24,
		mmio_end & 0xff, (mmio_end >> 8) & 0xff, (mmio_end >> 16) & 0xff,
		mmio_end >> 24, 0, 0, 0, 0,
		ACPI_PCI_MMIO32_SIZE & 0xff, (ACPI_PCI_MMIO32_SIZE >> 8) & 0xff,
		(ACPI_PCI_MMIO32_SIZE >> 16) & 0xff, ACPI_PCI_MMIO32_SIZE >> 24,
	};
	const uint8_t ecam_mem[] = {
		0x86, 0x09, 0x00, 0x01,		/* Memory32Fixed, ReadWrite */
		ACPI_PCI_ECAM_BASE & 0xff, (ACPI_PCI_ECAM_BASE >> 8) & 0xff,
		(ACPI_PCI_ECAM_BASE >> 16) & 0xff, ACPI_PCI_ECAM_BASE >> 24,
		ACPI_PCI_ECAM_SIZE & 0xff, (ACPI_PCI_ECAM_SIZE >> 8) & 0xff,
		(ACPI_PCI_ECAM_SIZE >> 16) & 0xff, ACPI_PCI_ECAM_SIZE >> 24,
	};
	const uint8_t pnp0c02[] = { 0x0c, 0x41, 0xd0, 0x0c, 0x02 };
	const uint8_t pnp0a03[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	const uint8_t pnp0501[] = { 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	const uint8_t pnp0c0c[] = { 0x0c, 0x41, 0xd0, 0x0c, 0x0c };
	const uint8_t notify[] = { 0x86, 'P', 'W', 'R', 'B', 0x0a, 0x80 };
	const uint8_t *d, *s5;
	struct built b;
	size_t len;

	(void)state;
	build(&b, 1);
	d = b.dsdt;
	len = le_get(d + HDR_LENGTH, 4);
	assert_non_null(find(d, len, com1_io, sizeof(com1_io)));
	assert_non_null(find(d, len, com1_irq, sizeof(com1_irq)));
	assert_non_null(find(d, len, pnp0501, sizeof(pnp0501)));
	assert_non_null(find(d, len, "PCI0", 4));
	assert_non_null(find(d, len, pnp0a03, sizeof(pnp0a03)));
	assert_non_null(find(d, len, pci_window, sizeof(pci_window)));
	assert_non_null(find(d, len, pnp0c02, sizeof(pnp0c02)));
	assert_non_null(find(d, len, ecam_mem, sizeof(ecam_mem)));
	assert_non_null(find(d, len, pnp0c0c, sizeof(pnp0c0c)));
	assert_non_null(find(d, len, "\x0d" "ACPI0013", 9));
	assert_non_null(find(d, len, ged_irq, sizeof(ged_irq)));
	assert_non_null(find(d, len, "_EVT", 4));
	assert_non_null(find(d, len, notify, sizeof(notify)));
	assert_non_null(find(d, len, "\x0d" "QEMU0001", 9));
	assert_non_null(find(d, len, pvpanic_mem, sizeof(pvpanic_mem)));
	/* Name (\_S5, Package () { ACPI_SLP_TYP_S5, ... }) */
	s5 = find(d, len, "_S5_", 4);
	assert_non_null(s5);
	assert_int_equal(s5[4], 0x12);		/* PackageOp */
	assert_true(s5[5] < 0x40);		/* one-byte PkgLength */
	assert_true(s5[6] >= 1);		/* elements */
	assert_int_equal(s5[7], 0x0a);		/* BytePrefix */
	assert_int_equal(s5[8], ACPI_SLP_TYP_S5);
	unbuild(&b);
}

/* MCFG: one ECAM allocation, segment 0, bus 0 only. */
static void test_mcfg(void **state)
{
	const uint8_t *m, *a;
	struct built b;

	(void)state;
	build(&b, 2);
	m = b.mcfg;
	assert_int_equal(le_get(m + HDR_LENGTH, 4), 60);
	assert_int_equal(m[HDR_REVISION], 1);
	assert_true(all_bytes(m + HDR_SIZE, 8, 0));	/* reserved */
	a = m + 44;
	assert_int_equal(le_get(a, 8), ACPI_PCI_ECAM_BASE);
	assert_int_equal(le_get(a + 8, 2), 0);		/* segment */
	assert_int_equal(a[10], 0);			/* first bus */
	assert_int_equal(a[11], 0);			/* last bus */
	assert_int_equal(ACPI_PCI_ECAM_SIZE, (a[11] - a[10] + 1) << 20);
	unbuild(&b);
}

/*
 * The DSDT's QWord memory descriptor (0x8a, length 43) in PCI0's _CRS,
 * found by its ResourceProducer/PosDecode/MinFixed/MaxFixed (without a
 * window: neither fixed), prefetchable read-write flags.
 */
static const uint8_t *dsdt_qword_memory(const uint8_t *d, bool fixed)
{
	/* General flags: producer, positive decode, min and max fixed. */
	const uint8_t head[] = { 0x8a, 0x2b, 0x00, 0x00,
				 fixed ? 0x0c : 0x00, 0x07 };
	size_t len = le_get(d + HDR_LENGTH, 4);
	const uint8_t *q = find(d, len, head, sizeof(head));

	assert_non_null(q);
	/* Only one such descriptor: the 64-bit window. */
	assert_null(find(q + 1, len - (q + 1 - d), head, sizeof(head)));
	return q;
}

/* The per-VM 64-bit window lands in the DSDT, which stays checksummed. */
static void test_dsdt_mmio64_window(void **state)
{
	const uint64_t placeholder = 0x5749535000000000ULL;
	struct acpi_config cfg = { .n_cpus = 1 };
	const uint8_t *q;
	struct built b;

	(void)state;
	build(&b, 1);
	q = dsdt_qword_memory(b.dsdt, true);
	assert_int_equal(le_get(q + 14, 8), MMIO64_BASE);
	assert_int_equal(le_get(q + 22, 8), MMIO64_BASE + MMIO64_SIZE - 1);
	assert_int_equal(le_get(q + 30, 8), 0);		/* translation */
	assert_int_equal(le_get(q + 38, 8), MMIO64_SIZE);
	unbuild(&b);

	/* Another window, another DSDT: nothing cached between builds. */
	cfg.pci_mmio64_base = 1ULL << 40;
	cfg.pci_mmio64_size = 1ULL << 30;
	build_cfg(&b, BUF_GPA, &cfg);
	q = dsdt_qword_memory(b.dsdt, true);
	assert_int_equal(le_get(q + 14, 8), 1ULL << 40);
	assert_int_equal(le_get(q + 22, 8), (1ULL << 40) + (1ULL << 30) - 1);
	assert_int_equal(le_get(q + 38, 8), 1ULL << 30);
	unbuild(&b);

	/* No window: zero length, not fixed: valid, and OSPM ignores it. */
	cfg.pci_mmio64_base = 0;
	cfg.pci_mmio64_size = 0;
	build_cfg(&b, BUF_GPA, &cfg);
	q = dsdt_qword_memory(b.dsdt, false);
	assert_int_equal(le_get(q + 6, 8), 0xfff);	/* granularity */
	assert_int_equal(le_get(q + 14, 8), 0);
	assert_int_equal(le_get(q + 22, 8), 0xfff);
	assert_int_equal(le_get(q + 38, 8), 0);
	assert_null(find(b.dsdt, le_get(b.dsdt + HDR_LENGTH, 4),
			 (const uint8_t *)&placeholder, 8));
	unbuild(&b);
}

static void test_size_grows_with_cpus(void **state)
{
	struct acpi_config one = { .n_cpus = 1 }, max = { .n_cpus = 254 };

	(void)state;
	assert_true(acpi_tables_size(&one) > 0);
	assert_int_equal(acpi_tables_size(&max),
			 acpi_tables_size(&one) + 253 * 8);
	assert_true(acpi_tables_size(&max) < 4096);
}

static void test_exact_size_fits(void **state)
{
	struct acpi_config cfg = { .n_cpus = 4 };
	long need = acpi_tables_size(&cfg);
	uint8_t *buf = malloc(BUF_SIZE);
	uint64_t rsdp = 0;

	(void)state;
	assert_non_null(buf);
	memset(buf, FILL, BUF_SIZE);
	assert_int_equal(acpi_build(buf, need, BUF_GPA, &cfg, &rsdp), need);
	assert_int_equal(rsdp, BUF_GPA);
	assert_true(all_bytes(buf + need, BUF_SIZE - need, FILL));
	/* The RSDP's address is optional: it is the buffer's. */
	assert_int_equal(acpi_build(buf, need, BUF_GPA, &cfg, NULL), need);
	free(buf);
}

static void test_too_small_writes_nothing(void **state)
{
	struct acpi_config cfg = { .n_cpus = 64 };
	long need = acpi_tables_size(&cfg);
	const size_t sizes[] = { 0, 1, 20, 36, 100, 1000, (size_t)need - 1 };
	uint8_t *buf = malloc(BUF_SIZE);
	size_t i;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t rsdp = 0x1234;

		memset(buf, FILL, BUF_SIZE);
		assert_int_equal(acpi_build(buf, sizes[i], BUF_GPA, &cfg, &rsdp),
				 -ENOSPC);
		assert_true(all_bytes(buf, BUF_SIZE, FILL));
		assert_int_equal(rsdp, 0x1234);
	}
	free(buf);
}

static void test_bad_arguments(void **state)
{
	const unsigned int bad_n[] = { 0, ACPI_MAX_CPUS + 1, 255, 256, UINT_MAX };
	const uint64_t bad_gpa[] = {
		BUF_GPA + 8, BUF_GPA + 1, UINT64_MAX & ~0xfULL,
		UINT64_MAX & ~0xffULL,		/* the tables would wrap */
	};
	struct acpi_config ok = { .n_cpus = 1 };
	uint8_t *buf = malloc(BUF_SIZE);
	uint64_t rsdp = 0x1234;
	size_t i;

	(void)state;
	assert_non_null(buf);
	memset(buf, FILL, BUF_SIZE);
	for (i = 0; i < sizeof(bad_n) / sizeof(bad_n[0]); i++) {
		struct acpi_config cfg = { .n_cpus = bad_n[i] };

		assert_int_equal(acpi_tables_size(&cfg), -EINVAL);
		assert_int_equal(acpi_build(buf, BUF_SIZE, BUF_GPA, &cfg, &rsdp),
				 -EINVAL);
	}
	{
		/* 64-bit windows below 4 GiB or wrapping. */
		const struct acpi_config bad_window[] = {
			{ .n_cpus = 1, .pci_mmio64_base = 0xc0000000,
			  .pci_mmio64_size = 1 << 20 },
			{ .n_cpus = 1, .pci_mmio64_base = UINT64_MAX - 0xfff,
			  .pci_mmio64_size = 0x2000 },
		};

		for (i = 0; i < 2; i++) {
			assert_int_equal(acpi_tables_size(&bad_window[i]),
					 -EINVAL);
			assert_int_equal(acpi_build(buf, BUF_SIZE, BUF_GPA,
						    &bad_window[i], &rsdp),
					 -EINVAL);
		}
	}
	assert_int_equal(acpi_tables_size(NULL), -EINVAL);
	assert_int_equal(acpi_build(buf, BUF_SIZE, BUF_GPA, NULL, &rsdp),
			 -EINVAL);
	for (i = 0; i < sizeof(bad_gpa) / sizeof(bad_gpa[0]); i++)
		assert_int_equal(acpi_build(buf, BUF_SIZE, bad_gpa[i], &ok,
					    &rsdp), -EINVAL);
	assert_true(all_bytes(buf, BUF_SIZE, FILL));
	assert_int_equal(rsdp, 0x1234);
	free(buf);
}

/* Above 4 GiB every pointer needs its 64 bits. */
static void test_high_address(void **state)
{
	const uint64_t gpa = 0x123456780ULL;
	struct built b;

	(void)state;
	build_at(&b, gpa, 2);
	assert_int_equal(b.rsdp_gpa, gpa);
	assert_int_equal(le_get(b.fadt + FADT_X_DSDT, 8), gpa + (b.dsdt - b.buf));
	check_madt(b.madt, 2);
	unbuild(&b);
}

/* --- iasl (acpica-tools) as a second opinion --- */

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	s = malloc(n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, n, f), (size_t)n);
	s[n] = 0;
	fclose(f);
	if (len)
		*len = n;
	return s;
}

/* Words in iasl's and acpiexec's output that mean trouble. */
static const char *const iasl_bad[] = {
	"error", "warning", "remark", "invalid", "unknown", "****", NULL,
};
static const char *const acpica_bad[] = {
	"error", "warning", "exception", NULL,
};

/*
 * iasl and acpiexec report trouble in their output but still exit 0: look
 * for it, past the compiler's "0 Errors, 0 Warnings, 0 Remarks" summary.
 */
static void expect_clean(const char *path, const char *const *bad)
{
	static const char ok[] =
		"Compilation successful. 0 Errors, 0 Warnings, 0 Remarks";
	char *s = read_file(path, NULL), *summary;

	summary = strstr(s, ok);
	if (summary)
		memset(summary, ' ', strlen(ok));
	for (; *bad; bad++)
		if (strcasestr(s, *bad))
			fail_msg("%s mentions \"%s\":\n%s", path, *bad, s);
	free(s);
}

static void run(const char *dir, const char *cmd, const char *log)
{
	char line[1024];
	int rc;

	snprintf(line, sizeof(line), "cd '%s' && %s >%s 2>&1", dir, cmd, log);
	rc = system(line);
	if (rc) {
		char path[512];
		char *out;

		snprintf(path, sizeof(path), "%s/%s", dir, log);
		out = read_file(path, NULL);
		fail_msg("'%s' failed (%d):\n%s", cmd, rc, out);
	}
}

/* iasl and acpiexec come with Debian's acpica-tools: required, not skipped. */
static void require(const char *tool)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	if (system(cmd))
		fail_msg("%s not found: install acpica-tools "
			 "(tools/install-deps) to run the ACPI tests", tool);
}

/* iasl -d decodes the table without complaint. */
static void disassemble(const char *dir, const char *name, const uint8_t *t)
{
	char path[512], cmd[128], log[64];

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	write_file(path, t, le_get(t + HDR_LENGTH, 4));
	snprintf(cmd, sizeof(cmd), "iasl -vs -d %s.dat", name);
	snprintf(log, sizeof(log), "%s.log", name);
	run(dir, cmd, log);
	snprintf(path, sizeof(path), "%s/%s.log", dir, name);
	expect_clean(path, iasl_bad);
	snprintf(path, sizeof(path), "%s/%s.dsl", dir, name);
	expect_clean(path, iasl_bad);
}

/*
 * iasl refuses to disassemble any binary RSDP ("RSD " is no valid table
 * name), so compile the decoded fields with its data table compiler,
 * which computes both checksums itself, and compare the bytes.
 */
static void recompile_rsdp(const char *dir, const uint8_t *r)
{
	char path[512], src[512];
	char *aml;
	size_t len;

	snprintf(src, sizeof(src),
		 "Signature : \"RSD PTR \"\n"
		 "Checksum : 0\n"
		 "Oem ID : \"%.6s\"\n"
		 "Revision : %x\n"
		 "RSDT Address : %llx\n"
		 "Length : %llx\n"
		 "XSDT Address : %llx\n"
		 "Extended Checksum : 0\n"
		 "Reserved : 0\n",
		 (const char *)r + 9, r[15],
		 (unsigned long long)le_get(r + 16, 4),
		 (unsigned long long)le_get(r + 20, 4),
		 (unsigned long long)le_get(r + 24, 8));
	snprintf(path, sizeof(path), "%s/rsdp.asl", dir);
	write_file(path, src, strlen(src));
	run(dir, "iasl -vs rsdp.asl", "rsdp.log");
	snprintf(path, sizeof(path), "%s/rsdp.log", dir);
	expect_clean(path, iasl_bad);
	snprintf(path, sizeof(path), "%s/rsdp.aml", dir);
	aml = read_file(path, &len);
	assert_int_equal(len, RSDP_SIZE);
	assert_memory_equal(aml, r, RSDP_SIZE);
	free(aml);
}

/* iasl compiles the disassembled DSDT again, without complaint. */
static void recompile_dsdt(const char *dir)
{
	char path[512];

	run(dir, "iasl -vs -p again dsdt.dsl", "again.log");
	snprintf(path, sizeof(path), "%s/again.log", dir);
	expect_clean(path, iasl_bad);
}

static void test_iasl_accepts_every_table(void **state)
{
	const struct acpi_config cfgs[] = {
		{ .n_cpus = 1, .pci_mmio64_base = MMIO64_BASE,
		  .pci_mmio64_size = MMIO64_SIZE },
		{ .n_cpus = 254, .pci_mmio64_base = MMIO64_BASE,
		  .pci_mmio64_size = MMIO64_SIZE },
		{ .n_cpus = 1 },		/* no 64-bit window */
	};
	size_t i;

	(void)state;
	require("iasl");
	for (i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		char dir[] = "/tmp/wisp-acpi-test-XXXXXX";
		char rm[64];
		struct built b;

		assert_non_null(mkdtemp(dir));
		build_cfg(&b, BUF_GPA, &cfgs[i]);
		recompile_rsdp(dir, b.rsdp);
		disassemble(dir, "xsdt", b.xsdt);
		disassemble(dir, "facp", b.fadt);
		disassemble(dir, "apic", b.madt);
		disassemble(dir, "mcfg", b.mcfg);
		disassemble(dir, "dsdt", b.dsdt);
		recompile_dsdt(dir);
		unbuild(&b);
		snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
		assert_int_equal(system(rm), 0);
	}
}

/*
 * ACPICA itself (acpiexec, the interpreter Linux uses) runs the FADT and
 * DSDT: S5 takes the hardware-reduced path with SLP_TYP 5, and the GED's
 * _EVT turns GSI 9 into a power button notification.
 */
static char *acpiexec(const char *dir, const char *cmd)
{
	char line[256], path[512];

	snprintf(line, sizeof(line), "acpiexec -b '%s' facp.dat dsdt.dat", cmd);
	run(dir, line, "exec.log");
	snprintf(path, sizeof(path), "%s/exec.log", dir);
	expect_clean(path, acpica_bad);
	return read_file(path, NULL);
}

static void expect_in(const char *out, const char *s, int present)
{
	if ((strstr(out, s) != NULL) != present)
		fail_msg("\"%s\" %s in:\n%s", s,
			 present ? "missing" : "found", out);
}

static void test_acpica_runs_power_paths(void **state)
{
	char dir[] = "/tmp/wisp-acpi-test-XXXXXX";
	char path[512], rm[64], cmd[64];
	struct built b;
	char *out;

	(void)state;
	require("acpiexec");
	assert_non_null(mkdtemp(dir));
	build(&b, 2);
	snprintf(path, sizeof(path), "%s/facp.dat", dir);
	write_file(path, b.fadt, le_get(b.fadt + HDR_LENGTH, 4));
	snprintf(path, sizeof(path), "%s/dsdt.dat", dir);
	write_file(path, b.dsdt, le_get(b.dsdt + HDR_LENGTH, 4));
	unbuild(&b);

	out = acpiexec(dir, "sleep 5");
	expect_in(out, "Sleep-A: 05", 1);
	expect_in(out, "HwExtendedSleep", 1);	/* the sleep registers */
	free(out);
	snprintf(cmd, sizeof(cmd), "evaluate \\_SB.GED0._EVT %d", ACPI_GED_GSI);
	out = acpiexec(dir, cmd);
	expect_in(out, "Notify on [PWRB] ", 1);
	expect_in(out, "Value 0x80", 1);
	free(out);
	snprintf(cmd, sizeof(cmd), "evaluate \\_SB.GED0._EVT %d", ACPI_COM1_GSI);
	out = acpiexec(dir, cmd);		/* not the GED's interrupt */
	expect_in(out, "Evaluating \\_SB.GED0._EVT", 1);
	expect_in(out, "Notify", 0);
	free(out);

	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	assert_int_equal(system(rm), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp),
		cmocka_unit_test(test_xsdt_and_headers),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_madt_one_lapic_per_vcpu),
		cmocka_unit_test(test_dsdt_matches_platform),
		cmocka_unit_test(test_mcfg),
		cmocka_unit_test(test_dsdt_mmio64_window),
		cmocka_unit_test(test_size_grows_with_cpus),
		cmocka_unit_test(test_exact_size_fits),
		cmocka_unit_test(test_too_small_writes_nothing),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_high_address),
		cmocka_unit_test(test_iasl_accepts_every_table),
		cmocka_unit_test(test_acpica_runs_power_paths),
	};

	return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
