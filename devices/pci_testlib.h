/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI configuration accesses for device unit tests, made the way a guest
 * makes them: the address through port 0xcf8, the data through 0xcfc, on
 * bus 0.  Linked into every unit test binary; no cmocka here.
 */
#ifndef WISP_DEVICES_PCI_TESTLIB_H
#define WISP_DEVICES_PCI_TESTLIB_H

#include <stdint.h>

#include "pci.h"

/*
 * Read @len bytes of register @reg of the function in @slot; all-ones
 * when nothing answers.  *@bad is set when the handler wrote more bytes
 * than asked (a bug the test should fail on); @bad may be NULL.
 */
uint32_t pci_test_cfg_read(struct pci_host *host, unsigned int slot,
			   unsigned int reg, unsigned int len, int *bad);

/* Write @len bytes of @value to register @reg of the function in @slot. */
void pci_test_cfg_write(struct pci_host *host, unsigned int slot,
			unsigned int reg, unsigned int len, uint32_t value);

#endif
