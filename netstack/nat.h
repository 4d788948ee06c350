/* SPDX-License-Identifier: Apache-2.0 */
/* What the engine's translations (tcpnat.c, udpnat.c) share: where a child's packet may go
 * on the host, how a host address shows in the child, the headers and sums of the frames
 * they write to the child. No I/O. */
#ifndef RK_NAT_H
#define RK_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "src/lib/vnet.h"

/* A socket address of either family: a host forward's listener, or its side in the child. */
union rk_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

/* The length bind() and sendto() take for a. */
socklen_t rk_sockaddr_len(const union rk_sockaddr *a);

/* Same family, address and port. */
bool rk_sockaddr_equal(const union rk_sockaddr *a, const union rk_sockaddr *b);

/* The address bytes of a (4 or 16) and its port (network byte order). */
const uint8_t *rk_sockaddr_addr(const union rk_sockaddr *a);
uint16_t rk_sockaddr_port(const union rk_sockaddr *a);

/* The child's MAC, learnt by the filter from the frames it passes. */
struct rk_child_mac {
	uint8_t mac[6];
	bool known;
};

/* Where a packet from the child to dst (16 bytes for IPv6, 4 for IPv4), port (network
 * byte order), goes on the host, into *ret: the gateway is the host's loopback (unless
 * disable_host_loopback), an address outside the virtual network is itself. Returns false
 * for what is not to be reached: the rest of the virtual network, IPv6 link-local and
 * multicast, IPv6 when it is off. */
bool rk_nat_outbound(const struct rk_vnet *cfg, bool v6, const uint8_t *dst, uint16_t port,
		     struct sockaddr_storage *ret);

/* How a host address from (AF_INET or AF_INET6) shows in the child, into ret_addr (16 or
 * 4 bytes) and *ret_port: a loopback or unspecified one as the gateway (fd00::2 for
 * IPv6), the rest as itself. */
void rk_nat_inbound(const struct rk_vnet *cfg, const struct sockaddr_storage *from,
		    uint8_t *ret_addr, uint16_t *ret_port);

/* rk_nat_inbound for a host forward whose side in the child is IPv4 (v6 false) or IPv6:
 * an IPv4-mapped client is IPv4; an IPv6 client of an IPv4 side cannot show as itself and
 * is the gateway (*ret_port its port: the caller picks another where that one is taken).
 * Returns false for a client of IPv4 to an IPv6 side, which does not happen (the
 * listeners of such forwards are IPv6 only). */
bool rk_nat_inbound_as(const struct rk_vnet *cfg, const struct sockaddr_storage *from, bool v6,
		       uint8_t *ret_addr, uint16_t *ret_port);

/* How many connections (tcp) and UDP sources (udp) the translations hold at once, from
 * the descriptor limit as it is now (RLIMIT_NOFILE): the rest of the engine (the tap, the
 * DNS forwarder's 64 queries, listeners, libslirp) keeps a reserve, UDP a quarter of
 * what is left (at most RK_UDPNAT_FLOWS), TCP the remainder; so that neither can take the
 * descriptors the other, or a published port's listener, needs. */
void rk_nat_budget(size_t *ret_tcp, size_t *ret_udp);

/* The one's complement sum of p added to sum, in the machine's byte order (so the folded,
 * inverted result is stored with memcpy). len is even except for the last piece. */
uint64_t rk_nat_sum(uint64_t sum, const uint8_t *p, size_t len);

/* The checksum of a sum from rk_nat_sum: folded and inverted, in the machine's order. */
uint16_t rk_nat_fold(uint64_t sum);

/* The pseudo-header's sum for a transport header of len bytes, proto, between src and
 * dst (16 bytes each for IPv6, 4 for IPv4). */
uint64_t rk_nat_pseudo(bool v6, const uint8_t *src, const uint8_t *dst, uint8_t proto, size_t len);

/* Writes an Ethernet header (to dst_mac, from src_mac) and an IPv4 or IPv6 header (from
 * src to dst, TTL 64) for payload bytes of proto at frame. IPv4: id and the fragment word
 * (flags and offset) as given, the header checksum filled in. Returns the headers' length
 * (14 + 20 or 14 + 40). */
size_t rk_nat_headers(uint8_t *frame, const uint8_t *dst_mac, const uint8_t *src_mac, bool v6,
		      const uint8_t *src, const uint8_t *dst, uint8_t proto, size_t payload,
		      uint16_t id, uint16_t frag);

/* Writes an ARP request at frame (42 bytes): who has target (4 bytes), asked by src_ip
 * (network byte order) at src_mac. Returns its length. */
size_t rk_nat_arp_request(uint8_t *frame, const uint8_t *src_mac, uint32_t src_ip,
			  const uint8_t *target);

#endif
