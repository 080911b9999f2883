// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>

#include "acpi_pm.h"

struct acpi_pm {
	const struct host_services *hs;
};

static void acpi_pm_read(void *dev, uint64_t offset, uint8_t *data,
			 uint32_t len)
{
	(void)dev;
	(void)offset;
	io_put(data, len, 0);	/* no wake status, nothing to report */
}

static void acpi_pm_write(void *dev, uint64_t offset, const uint8_t *data,
			  uint32_t len)
{
	struct acpi_pm *pm = dev;
	uint8_t v;

	if (len != 1)
		return;		/* the registers are one byte wide */
	v = data[0];
	if (offset == ACPI_PM_SLEEP_CONTROL && (v & ACPI_PM_SLP_EN) &&
	    ((v >> ACPI_PM_SLP_TYP_SHIFT) & ACPI_PM_SLP_TYP_MASK) ==
	    ACPI_PM_SLP_TYP_S5)
		pm->hs->request_stop(pm->hs->ctx, 0);	/* powered off */
	else if (offset == ACPI_PM_RESET && v == ACPI_PM_RESET_VALUE)
		pm->hs->request_reset(pm->hs->ctx);
	/* Other sleep types, the status register's WAK_STS: nothing. */
}

const struct io_handler acpi_pm_io = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};

struct acpi_pm *acpi_pm_create(const struct host_services *hs)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (pm)
		pm->hs = hs;
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	free(pm);
}
