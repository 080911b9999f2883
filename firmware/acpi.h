/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's ACPI tables: RSDP, XSDT, FADT (hardware-reduced, revision 6),
 * MADT, MCFG and the DSDT compiled from firmware/dsdt.asl (its 64-bit PCI
 * window patched in per VM).  Pure builder: bytes
 * out, no vmm/ or devices/ includes.  docs/acpi.md describes the tables.
 */
#ifndef WISP_FIRMWARE_ACPI_H
#define WISP_FIRMWARE_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* Identification in every table header (the DSDT's comes from its ASL). */
#define ACPI_OEM_ID		"WISP  "	/* 6 bytes */
#define ACPI_OEM_TABLE_ID	"WISPVM  "	/* 8 bytes */
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_ID		"WISP"
#define ACPI_CREATOR_REVISION	1

/* vCPU i has APIC ID i; 8-bit xAPIC IDs, 0xff is the broadcast ID. */
#define ACPI_MAX_CPUS		254

/* Interrupt controllers (KVM's in-kernel LAPICs, IOAPIC and 8259s). */
#define ACPI_LAPIC_BASE		0xfee00000U
#define ACPI_IOAPIC_BASE	0xfec00000U
#define ACPI_IOAPIC_ID		0
#define ACPI_IOAPIC_GSI_BASE	0	/* 24 pins: GSI n is pin n */
#define ACPI_PIT_GSI		2	/* ISA IRQ 0 is wired to pin 2 */
#define ACPI_LAPIC_NMI_LINT	1	/* NMI on LINT1 of every vCPU */

/*
 * Hardware-reduced power management: three 1-byte I/O ports (the FADT's
 * sleep control, sleep status and reset registers).  Writing
 * ACPI_SLP_TYP_S5 << ACPI_SLP_TYP_SHIFT | ACPI_SLP_EN to the sleep control
 * register powers the VM off; ACPI_RESET_VALUE to the reset register
 * resets it.
 */
#define ACPI_SLEEP_CONTROL_PORT	0x600
#define ACPI_SLEEP_STATUS_PORT	0x601
#define ACPI_RESET_PORT		0x602
#define ACPI_RESET_VALUE	0x01
#define ACPI_SLP_TYP_S5		5	/* the DSDT's \_S5 */
#define ACPI_SLP_TYP_SHIFT	2
#define ACPI_SLP_EN		0x20

/*
 * What the static DSDT describes (firmware/dsdt.asl; acpi_test checks the
 * AML against these): COM1, the Generic Event Device's interrupt (an edge
 * on it presses the power button) and the pvpanic register.
 */
#define ACPI_COM1_PORT		0x3f8
#define ACPI_COM1_GSI		4
#define ACPI_GED_GSI		9
#define ACPI_PVPANIC_BASE	0xfeb02000U
#define ACPI_PVPANIC_SIZE	2

/*
 * PCI: the DSDT's PCI0 has bus 0, the 32-bit window below and a 64-bit
 * window given per VM (acpi_config); the MCFG points at ECAM for bus 0,
 * which a PNP0C02 device in the DSDT reserves (Linux uses ECAM only when
 * firmware reserves it).
 */
#define ACPI_PCI_MMIO32_BASE	0xc0000000U
#define ACPI_PCI_MMIO32_SIZE	0x20000000U
#define ACPI_PCI_ECAM_BASE	0xe0000000U
#define ACPI_PCI_ECAM_SIZE	0x00100000U	/* bus 0: 32 slots x 8 x 4 KiB */

/* The RSDP is 16-byte aligned (the spec's scan), the other tables 8. */
#define ACPI_RSDP_ALIGN		16
#define ACPI_TABLE_ALIGN	8

struct acpi_config {
	unsigned int n_cpus;	/* 1 to ACPI_MAX_CPUS, all enabled */
	/*
	 * The 64-bit PCI window [base, base + size): size 0 for none; else
	 * above 4 GiB, not wrapping.
	 */
	uint64_t pci_mmio64_base;
	uint64_t pci_mmio64_size;
};

/*
 * The bytes acpi_build() needs for @cfg, or -EINVAL when @cfg is invalid
 * (n_cpus 0 or above ACPI_MAX_CPUS, or a bad 64-bit window).  Any thread.
 */
long acpi_tables_size(const struct acpi_config *cfg);

/*
 * Write the RSDP, XSDT, FADT, MADT, MCFG and DSDT into @buf, which the guest
 * sees at guest-physical @buf_gpa, and set *@rsdp_gpa (when not NULL) to
 * the RSDP's address: the start of the buffer.  @buf_gpa must be 16-byte
 * aligned and the tables must not wrap 64 bits.  Bytes of @buf past the
 * returned length are not touched.  Returns the bytes used, -EINVAL for a
 * bad @cfg or address, -ENOSPC when @size is below acpi_tables_size(), or
 * -EIO when the compiled DSDT lacks its 64-bit window placeholder; nothing
 * is written on error.  Any thread; the caller owns @buf.
 */
long acpi_build(uint8_t *buf, size_t size, uint64_t buf_gpa,
		const struct acpi_config *cfg, uint64_t *rsdp_gpa);

#endif
