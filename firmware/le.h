/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Little-endian loads and stores at any alignment, for the builders and
 * parsers of guest-visible structures (ACPI, boot_params, bzImage headers).
 */
#ifndef WISP_FIRMWARE_LE_H
#define WISP_FIRMWARE_LE_H

#include <stdint.h>

static inline void le_put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void le_put32(uint8_t *p, uint32_t v)
{
	le_put16(p, v);
	le_put16(p + 2, v >> 16);
}

static inline void le_put64(uint8_t *p, uint64_t v)
{
	le_put32(p, v);
	le_put32(p + 4, v >> 32);
}

static inline uint16_t le_get16(const uint8_t *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static inline uint32_t le_get32(const uint8_t *p)
{
	return le_get16(p) | (uint32_t)le_get16(p + 2) << 16;
}

static inline uint64_t le_get64(const uint8_t *p)
{
	return le_get32(p) | (uint64_t)le_get32(p + 4) << 32;
}

/* The @len-byte (1 to 8) little-endian value at @p. */
static inline uint64_t le_get(const uint8_t *p, unsigned int len)
{
	uint64_t v = 0;

	while (len--)
		v = v << 8 | p[len];
	return v;
}

/* Store the low @len bytes (1 to 8) of @v at @p, little-endian. */
static inline void le_put(uint8_t *p, unsigned int len, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
