// SPDX-License-Identifier: Apache-2.0
#include "fake_host_testlib.h"
#include "pci_testlib.h"

static void select_register(struct pci_host *host, unsigned int slot,
			    unsigned int reg)
{
	fake_io_write(&pci_config_address_io, host, 0, 4,
		      0x80000000U | slot << 11 | (reg & 0xfc));
}

uint32_t pci_test_cfg_read(struct pci_host *host, unsigned int slot,
			   unsigned int reg, unsigned int len, int *bad)
{
	uint64_t v = 0;
	int ret;

	select_register(host, slot, reg);
	ret = fake_io_read(&pci_config_data_io, host, reg & 3, len, &v);
	if (bad)
		*bad = ret;
	return v;
}

void pci_test_cfg_write(struct pci_host *host, unsigned int slot,
			unsigned int reg, unsigned int len, uint32_t value)
{
	select_register(host, slot, reg);
	fake_io_write(&pci_config_data_io, host, reg & 3, len, value);
}
