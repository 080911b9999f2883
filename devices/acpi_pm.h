/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hardware-reduced ACPI power management: the FADT's sleep control, sleep
 * status and reset registers, three 1-byte I/O ports (docs/acpi.md).
 * Writing SLP_TYP 5 (S5) with SLP_EN to the sleep control register powers
 * the VM off (exit status 0); writing the reset value to the reset register
 * asks for a reset.  Every read returns 0; other writes, widths and offsets
 * are ignored.
 */
#ifndef WISP_DEVICES_ACPI_PM_H
#define WISP_DEVICES_ACPI_PM_H

#include "host.h"

#define ACPI_PM_PIO_BASE	0x600
#define ACPI_PM_PIO_SIZE	3

/* Register offsets; each register is one byte. */
#define ACPI_PM_SLEEP_CONTROL	0
#define ACPI_PM_SLEEP_STATUS	1
#define ACPI_PM_RESET		2

/* Sleep control: SLP_TYP in bits 4:2, SLP_EN in bit 5 (ACPI 4.8.3.7). */
#define ACPI_PM_SLP_TYP_SHIFT	2
#define ACPI_PM_SLP_TYP_MASK	0x7
#define ACPI_PM_SLP_EN		0x20
#define ACPI_PM_SLP_TYP_S5	5	/* the DSDT's \_S5 */

#define ACPI_PM_RESET_VALUE	0x01	/* the FADT's RESET_VALUE */

struct acpi_pm;

extern const struct io_handler acpi_pm_io;

/*
 * Create the device; register it at ACPI_PM_PIO_BASE, ACPI_PM_PIO_SIZE
 * ports.  Returns NULL when out of memory.  The host services must outlive
 * the device.
 */
struct acpi_pm *acpi_pm_create(const struct host_services *hs);
void acpi_pm_destroy(struct acpi_pm *pm);

#endif
