/* SPDX-License-Identifier: Apache-2.0 */
/* The unit tests' own Internet checksum, an oracle independent of rk_inet_checksum: the
 * folded one's complement sum of len bytes at p, added to sum. A header or datagram whose
 * checksum is right sums (with its pseudo-header) to 0xffff. */
#ifndef RK_TEST_CHECKSUM_H
#define RK_TEST_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

#endif
