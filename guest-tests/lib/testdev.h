/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wisp's test device: the same registers at ports 0xe0-0xef and at MMIO
 * 0xfeb00000 (4 KiB).  See docs/guest-tests.md.
 */
#ifndef GUEST_TESTDEV_H
#define GUEST_TESTDEV_H

#include "x86.h"

#define TESTDEV_PIO		0xe0
#define TESTDEV_MMIO		0xfeb00000UL
#define TESTDEV_GSI		5

#define TESTDEV_ID		0x00	/* R: TESTDEV_MAGIC */
#define TESTDEV_SCRATCH		0x04	/* RW 32-bit, shared PIO/MMIO */
#define TESTDEV_IRQ		0x08	/* W: 1 asserts GSI 5, 0 deasserts */
#define TESTDEV_SCRATCH64	0x10	/* RW 64-bit, MMIO only */
#define TESTDEV_COUNT		0x18	/* R 64-bit access count, MMIO only */

#define TESTDEV_MAGIC		0x50534957	/* "WISP" */

/* True when the ID register answers (under wisp; QEMU has no testdev). */
static inline bool testdev_present(void)
{
	return inl(TESTDEV_PIO + TESTDEV_ID) == TESTDEV_MAGIC;
}

/* Drives the testdev interrupt line (GSI 5) high or low. */
static inline void testdev_irq(bool level)
{
	outl(TESTDEV_PIO + TESTDEV_IRQ, level);
}

#endif
