/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The BIOS reset vector, f000:fff0 (physical 0xffff0).  wisp has no BIOS,
 * but guests still jump there to reset: Linux does when its reboot method
 * falls through to "BIOS" (the default on hardware-reduced ACPI systems
 * without EFI).  The stub there writes the ACPI reset register, so such a
 * jump resets the VM instead of running zeroed memory.  Pure builder.
 */
#ifndef WISP_FIRMWARE_RESET_VECTOR_H
#define WISP_FIRMWARE_RESET_VECTOR_H

#include <stddef.h>
#include <stdint.h>

#define RESET_VECTOR_GPA	0xffff0ULL
#define RESET_VECTOR_SIZE	16

/*
 * Write the 16-bit real-mode stub (out @value to I/O port @port, then halt
 * for ever) into @buf, which must hold RESET_VECTOR_SIZE bytes.  Returns
 * the bytes of code written.
 */
size_t reset_vector_build(uint8_t *buf, uint16_t port, uint8_t value);

#endif
