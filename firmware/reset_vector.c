// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include "reset_vector.h"

size_t reset_vector_build(uint8_t *buf, uint16_t port, uint8_t value)
{
	const uint8_t code[] = {
		0xb0, value,			/* mov al, value */
		0xba, port & 0xff, port >> 8,	/* mov dx, port */
		0xee,				/* out dx, al */
		0xfa,				/* cli */
		0xf4,				/* hlt */
		0xeb, 0xfd,			/* jmp hlt */
	};

	memset(buf, 0xf4, RESET_VECTOR_SIZE);	/* hlt everywhere else */
	memcpy(buf, code, sizeof(code));
	return sizeof(code);
}
