/* SPDX-License-Identifier: Apache-2.0 */
/* Big-endian fields of frames and messages, read and written byte by byte (no alignment
 * assumed). */
#ifndef RK_WIRE_H
#define RK_WIRE_H

#include <stdint.h>

static inline uint16_t rk_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void rk_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t rk_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void rk_put32(uint8_t *p, uint32_t v)
{
	rk_put16(p, (uint16_t)(v >> 16));
	rk_put16(p + 2, (uint16_t)v);
}

#endif
