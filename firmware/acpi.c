// SPDX-License-Identifier: Apache-2.0
/*
 * ACPI table builder.  Every field is written little-endian at its offset
 * in the ACPI 6.3 specification (chapter 5.2), so nothing depends on the
 * host compiler's struct layout.
 */
#include <errno.h>
#include <string.h>

#include "acpi.h"
#include "le.h"
#include "dsdt_aml.h"	/* generated: dsdt_aml[], from dsdt.asl */

/* System description table header (5.2.6). */
#define HDR_SIGNATURE		0
#define HDR_LENGTH		4
#define HDR_REVISION		8
#define HDR_CHECKSUM		9
#define HDR_OEM_ID		10
#define HDR_OEM_TABLE_ID	16
#define HDR_OEM_REVISION	24
#define HDR_CREATOR_ID		28
#define HDR_CREATOR_REVISION	32
#define HDR_SIZE		36

/* RSDP (5.2.5.3), revision 2: ACPI 2.0 and later. */
#define RSDP_CHECKSUM		8
#define RSDP_OEM_ID		9
#define RSDP_REVISION		15
#define RSDP_RSDT_ADDRESS	16
#define RSDP_LENGTH		20
#define RSDP_XSDT_ADDRESS	24
#define RSDP_EXT_CHECKSUM	32
#define RSDP_V1_SIZE		20
#define RSDP_SIZE		36

/* XSDT (5.2.8): 64-bit pointers to the FADT, the MADT and the MCFG. */
#define XSDT_REVISION		1
#define XSDT_ENTRIES		3
#define XSDT_SIZE		(HDR_SIZE + 8 * XSDT_ENTRIES)

/* FADT (5.2.9), revision 6.3. */
#define FADT_REVISION		6
#define FADT_MINOR_REVISION	3
#define FADT_SIZE		276
#define FADT_IAPC_BOOT_ARCH	109
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_MINOR_VERSION	131
#define FADT_X_DSDT		140
#define FADT_SLEEP_CONTROL_REG	244
#define FADT_SLEEP_STATUS_REG	256
#define FADT_HYPERVISOR_VENDOR	268

/* FADT flags (5.2.9, table 5.35). */
#define FADT_F_WBINVD		(1U << 0)
#define FADT_F_PWR_BUTTON	(1U << 4)	/* control-method button */
#define FADT_F_SLP_BUTTON	(1U << 5)	/* no sleep button */
#define FADT_F_RESET_REG_SUP	(1U << 10)
#define FADT_F_HW_REDUCED_ACPI	(1U << 20)

/* IA-PC boot architecture flags (5.2.9.3). */
#define BOOT_ARCH_VGA_NOT_PRESENT	(1U << 2)
#define BOOT_ARCH_CMOS_RTC_NOT_PRESENT	(1U << 5)

/* Generic Address Structure (5.2.3.2). */
#define GAS_SPACE_SYSTEM_IO	1
#define GAS_ACCESS_BYTE		1

/* MADT (5.2.12), revision 5 (ACPI 6.3). */
#define MADT_REVISION		5
#define MADT_LAPIC_ADDRESS	36
#define MADT_FLAGS		40
#define MADT_ENTRIES		44
#define MADT_PCAT_COMPAT	(1U << 0)
#define MADT_TYPE_LAPIC		0
#define MADT_TYPE_IOAPIC	1
#define MADT_TYPE_ISO		2
#define MADT_TYPE_LAPIC_NMI	4
#define MADT_LAPIC_SIZE		8
#define MADT_IOAPIC_SIZE	12
#define MADT_ISO_SIZE		10
#define MADT_LAPIC_NMI_SIZE	6
#define MADT_LAPIC_ENABLED	(1U << 0)
#define MADT_ALL_PROCESSORS	0xff
/* MPS INTI flags: active high (01), edge triggered (01 << 2). */
#define MPS_INTI_EDGE_HIGH	0x0005

/*
 * MCFG (PCI Firmware Specification 3.2, 4.1.2): 8 reserved bytes, then one
 * 16-byte allocation per ECAM region: base, segment, first and last bus.
 */
#define MCFG_REVISION		1
#define MCFG_ALLOCATIONS	44
#define MCFG_SIZE		(MCFG_ALLOCATIONS + 16)

/*
 * The DSDT's 64-bit PCI window placeholder (dsdt.asl): a QWord address
 * space descriptor (ACPI 6.3, 6.4.3.5.1) whose minimum is this value.
 * Offsets are from the descriptor's first byte.
 */
#define DSDT_MMIO64_PLACEHOLDER	0x5749535000000000ULL
#define QWORD_DESC_TAG		0x8a
#define QWORD_DESC_SIZE		46
#define QWORD_GENERAL_FLAGS	4
#define QWORD_MIN_FIXED		(1U << 2)
#define QWORD_MAX_FIXED		(1U << 3)
#define QWORD_GRANULARITY	6
#define QWORD_MIN		14
#define QWORD_MAX		22
#define QWORD_LENGTH		38

/* Where each table goes, as offsets into the buffer. */
struct acpi_layout {
	size_t xsdt, fadt, madt, mcfg, dsdt, end;
};

static size_t align_up(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static size_t madt_size(unsigned int n_cpus)
{
	return MADT_ENTRIES + (size_t)n_cpus * MADT_LAPIC_SIZE +
	       MADT_IOAPIC_SIZE + MADT_ISO_SIZE + MADT_LAPIC_NMI_SIZE;
}

static int layout_tables(const struct acpi_config *cfg,
			 struct acpi_layout *l)
{
	if (!cfg || cfg->n_cpus == 0 || cfg->n_cpus > ACPI_MAX_CPUS)
		return -EINVAL;
	if (cfg->pci_mmio64_size &&
	    (cfg->pci_mmio64_base < (1ULL << 32) ||
	     cfg->pci_mmio64_base + cfg->pci_mmio64_size <
	     cfg->pci_mmio64_base))
		return -EINVAL;
	/* The RSDP is at offset 0. */
	l->xsdt = align_up(RSDP_SIZE, ACPI_TABLE_ALIGN);
	l->fadt = align_up(l->xsdt + XSDT_SIZE, ACPI_TABLE_ALIGN);
	l->madt = align_up(l->fadt + FADT_SIZE, ACPI_TABLE_ALIGN);
	l->mcfg = align_up(l->madt + madt_size(cfg->n_cpus), ACPI_TABLE_ALIGN);
	l->dsdt = align_up(l->mcfg + MCFG_SIZE, ACPI_TABLE_ALIGN);
	l->end = l->dsdt + sizeof(dsdt_aml);
	return 0;
}

static void put8(uint8_t *p, uint8_t v)
{
	p[0] = v;
}

/* The byte that makes @len bytes at @p (its own slot 0) sum to 0. */
static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	size_t i;

	for (i = 0; i < len; i++)
		sum += p[i];
	return (uint8_t)-sum;
}

static void put_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t + HDR_SIGNATURE, sig, 4);
	le_put32(t + HDR_LENGTH, len);
	put8(t + HDR_REVISION, rev);
	memcpy(t + HDR_OEM_ID, ACPI_OEM_ID, 6);
	memcpy(t + HDR_OEM_TABLE_ID, ACPI_OEM_TABLE_ID, 8);
	le_put32(t + HDR_OEM_REVISION, ACPI_OEM_REVISION);
	memcpy(t + HDR_CREATOR_ID, ACPI_CREATOR_ID, 4);
	le_put32(t + HDR_CREATOR_REVISION, ACPI_CREATOR_REVISION);
}

/* Call last, once the whole table is written. */
static void seal(uint8_t *t, uint32_t len)
{
	t[HDR_CHECKSUM] = 0;
	t[HDR_CHECKSUM] = checksum(t, len);
}

/* A 1-byte register in I/O space. */
static void put_gas_io8(uint8_t *p, uint16_t port)
{
	put8(p, GAS_SPACE_SYSTEM_IO);
	put8(p + 1, 8);			/* register bit width */
	put8(p + 2, 0);			/* register bit offset */
	put8(p + 3, GAS_ACCESS_BYTE);
	le_put64(p + 4, port);
}

static void build_rsdp(uint8_t *p, uint64_t xsdt_gpa)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + RSDP_OEM_ID, ACPI_OEM_ID, 6);
	put8(p + RSDP_REVISION, 2);
	le_put32(p + RSDP_RSDT_ADDRESS, 0);	/* no RSDT: XSDT only */
	le_put32(p + RSDP_LENGTH, RSDP_SIZE);
	le_put64(p + RSDP_XSDT_ADDRESS, xsdt_gpa);
	p[RSDP_CHECKSUM] = checksum(p, RSDP_V1_SIZE);
	p[RSDP_EXT_CHECKSUM] = checksum(p, RSDP_SIZE);
}

static void build_xsdt(uint8_t *t, uint64_t fadt_gpa, uint64_t madt_gpa,
		       uint64_t mcfg_gpa)
{
	put_header(t, "XSDT", XSDT_SIZE, XSDT_REVISION);
	le_put64(t + HDR_SIZE, fadt_gpa);
	le_put64(t + HDR_SIZE + 8, madt_gpa);
	le_put64(t + HDR_SIZE + 16, mcfg_gpa);
	seal(t, XSDT_SIZE);
}

/* One ECAM region: segment 0, buses 0 to 0 (ACPI_PCI_ECAM_SIZE). */
static void build_mcfg(uint8_t *t)
{
	uint8_t *a = t + MCFG_ALLOCATIONS;

	put_header(t, "MCFG", MCFG_SIZE, MCFG_REVISION);
	le_put64(a, ACPI_PCI_ECAM_BASE);
	le_put16(a + 8, 0);			/* PCI segment group */
	put8(a + 10, 0);			/* first bus */
	put8(a + 11, ACPI_PCI_ECAM_SIZE / (1U << 20) - 1);	/* last bus */
	seal(t, MCFG_SIZE);
}

/* Offset of the 64-bit window's descriptor in dsdt_aml, or -1. */
static long dsdt_window_offset(void)
{
	size_t i;

	for (i = 0; i + QWORD_DESC_SIZE <= sizeof(dsdt_aml); i++)
		if (dsdt_aml[i] == QWORD_DESC_TAG &&
		    le_get64(dsdt_aml + i + QWORD_MIN) ==
		    DSDT_MMIO64_PLACEHOLDER)
			return (long)i;
	return -1;
}

/*
 * Copy the DSDT and write the 64-bit window over the descriptor at
 * @window_off.  Without a window the descriptor becomes a variable one
 * (ACPI 6.3, 6.4.3.5: minimum and maximum not fixed) of length 0 with a
 * 4 KiB granularity over [0, 0xfff]: valid, and OSPM skips it for its
 * zero length.
 */
static void build_dsdt(uint8_t *t, const struct acpi_config *cfg,
		       size_t window_off)
{
	uint64_t base = cfg->pci_mmio64_base, size = cfg->pci_mmio64_size;
	uint8_t *d = t + window_off;

	memcpy(t, dsdt_aml, sizeof(dsdt_aml));
	if (size) {
		le_put64(d + QWORD_MIN, base);
		le_put64(d + QWORD_MAX, base + size - 1);
	} else {
		d[QWORD_GENERAL_FLAGS] &= ~(QWORD_MIN_FIXED | QWORD_MAX_FIXED);
		le_put64(d + QWORD_GRANULARITY, 0xfff);
		le_put64(d + QWORD_MIN, 0);
		le_put64(d + QWORD_MAX, 0xfff);
	}
	le_put64(d + QWORD_LENGTH, size);
	t[HDR_CHECKSUM] = 0;
	t[HDR_CHECKSUM] = checksum(t, sizeof(dsdt_aml));
}

/*
 * Hardware-reduced ACPI: no PM1/GPE blocks, no SCI, no SMI command port,
 * no fixed-feature buttons.  IAPC_BOOT_ARCH: no VGA; no CMOS RTC (wisp
 * emulates none at ports 0x70/0x71; guests take wall-clock time from
 * kvmclock); no 8042 (port 0x64 only resets; the reset register comes
 * first anyway); no legacy devices outside the namespace (COM1 is in the
 * DSDT); MSI allowed.
 */
static void build_fadt(uint8_t *t, uint64_t dsdt_gpa)
{
	put_header(t, "FACP", FADT_SIZE, FADT_REVISION);
	le_put16(t + FADT_IAPC_BOOT_ARCH,
	      BOOT_ARCH_VGA_NOT_PRESENT | BOOT_ARCH_CMOS_RTC_NOT_PRESENT);
	le_put32(t + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PWR_BUTTON |
	      FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP |
	      FADT_F_HW_REDUCED_ACPI);
	put_gas_io8(t + FADT_RESET_REG, ACPI_RESET_PORT);
	put8(t + FADT_RESET_VALUE, ACPI_RESET_VALUE);
	put8(t + FADT_MINOR_VERSION, FADT_MINOR_REVISION);
	le_put64(t + FADT_X_DSDT, dsdt_gpa);	/* the 32-bit DSDT stays 0 */
	put_gas_io8(t + FADT_SLEEP_CONTROL_REG, ACPI_SLEEP_CONTROL_PORT);
	put_gas_io8(t + FADT_SLEEP_STATUS_REG, ACPI_SLEEP_STATUS_PORT);
	memcpy(t + FADT_HYPERVISOR_VENDOR, "WISP\0\0\0\0", 8);
	seal(t, FADT_SIZE);
}

static void build_madt(uint8_t *t, unsigned int n_cpus)
{
	uint32_t len = madt_size(n_cpus);
	uint8_t *e = t + MADT_ENTRIES;
	unsigned int i;

	put_header(t, "APIC", len, MADT_REVISION);
	le_put32(t + MADT_LAPIC_ADDRESS, ACPI_LAPIC_BASE);
	le_put32(t + MADT_FLAGS, MADT_PCAT_COMPAT);	/* 8259s present */
	for (i = 0; i < n_cpus; i++, e += MADT_LAPIC_SIZE) {
		put8(e, MADT_TYPE_LAPIC);
		put8(e + 1, MADT_LAPIC_SIZE);
		put8(e + 2, i);			/* ACPI processor UID */
		put8(e + 3, i);			/* APIC ID */
		le_put32(e + 4, MADT_LAPIC_ENABLED);
	}
	put8(e, MADT_TYPE_IOAPIC);
	put8(e + 1, MADT_IOAPIC_SIZE);
	put8(e + 2, ACPI_IOAPIC_ID);
	le_put32(e + 4, ACPI_IOAPIC_BASE);
	le_put32(e + 8, ACPI_IOAPIC_GSI_BASE);
	e += MADT_IOAPIC_SIZE;
	put8(e, MADT_TYPE_ISO);
	put8(e + 1, MADT_ISO_SIZE);
	put8(e + 2, 0);				/* bus: ISA */
	put8(e + 3, 0);				/* source: IRQ 0, the PIT */
	le_put32(e + 4, ACPI_PIT_GSI);
	le_put16(e + 8, MPS_INTI_EDGE_HIGH);
	e += MADT_ISO_SIZE;
	put8(e, MADT_TYPE_LAPIC_NMI);
	put8(e + 1, MADT_LAPIC_NMI_SIZE);
	put8(e + 2, MADT_ALL_PROCESSORS);
	le_put16(e + 3, MPS_INTI_EDGE_HIGH);
	put8(e + 5, ACPI_LAPIC_NMI_LINT);
	seal(t, len);
}

long acpi_tables_size(const struct acpi_config *cfg)
{
	struct acpi_layout l;
	int ret = layout_tables(cfg, &l);

	return ret ? ret : (long)l.end;
}

long acpi_build(uint8_t *buf, size_t size, uint64_t buf_gpa,
		const struct acpi_config *cfg, uint64_t *rsdp_gpa)
{
	struct acpi_layout l;
	long window_off = dsdt_window_offset();
	int ret = layout_tables(cfg, &l);

	if (ret)
		return ret;
	if (buf_gpa % ACPI_RSDP_ALIGN || buf_gpa + l.end < buf_gpa)
		return -EINVAL;
	if (size < l.end)
		return -ENOSPC;		/* and nothing written */
	if (window_off < 0)
		return -EIO;		/* a dsdt.asl without the placeholder */
	memset(buf, 0, l.end);
	build_rsdp(buf, buf_gpa + l.xsdt);
	build_xsdt(buf + l.xsdt, buf_gpa + l.fadt, buf_gpa + l.madt,
		   buf_gpa + l.mcfg);
	build_fadt(buf + l.fadt, buf_gpa + l.dsdt);
	build_madt(buf + l.madt, cfg->n_cpus);
	build_mcfg(buf + l.mcfg);
	build_dsdt(buf + l.dsdt, cfg, window_off);
	if (rsdp_gpa)
		*rsdp_gpa = buf_gpa;
	return l.end;
}
