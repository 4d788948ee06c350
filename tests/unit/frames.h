/* SPDX-License-Identifier: Apache-2.0 */
/* What the engine-level unit tests share: the virtual network's configuration, the child's
 * frames written by hand, host sockets of the test's own on loopback. Header-only, as
 * checksum.h. */
#ifndef RK_TEST_FRAMES_H
#define RK_TEST_FRAMES_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "netstack/engine.h"
#include "tests/unit/checksum.h"

#define ETH 14

static const uint8_t gw_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };
static const uint8_t child_mac[6] = { 0x02, 0, 0, 0, 0, 0x64 };

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The default network (10.0.2.0/24, the child .100, gateway .2, DNS .3) into cfg, with
 * one resolver nobody asks (no resolv.conf is read). */
static inline void net_config(struct rk_engine_config *cfg)
{
	rk_vnet_slirp(&cfg->vnet, "", NULL);
	cfg->n_dns_servers = 1;
	cfg->dns_servers[0].ss_family = AF_INET;
}

/* An engine of cfg on one end of a new frame socket (as the tap), the other end into
 * *ret_child. Returns NULL on failure. */
static inline struct rk_engine *engine_on_socketpair(const struct rk_engine_config *cfg,
						     int *ret_child)
{
	struct rk_error err;
	struct rk_engine *e;
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) < 0)
		return NULL;
	e = rk_engine_new(cfg, sp[0], &err);
	if (e)
		*ret_child = sp[1];
	return e;
}

/* A socket of type on addr (127.0.0.1 or ::1, listening if a stream), kernel-chosen
 * port into *port. Returns it, or -1. */
static inline int host_socket(int type, const char *addr, uint16_t *port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	bool v6 = strchr(addr, ':') != NULL;
	int fd = socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	*port = 0;
	ss.ss_family = v6 ? AF_INET6 : AF_INET;
	if (v6)
		inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr);
	else
		inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr);
	if (fd < 0 ||
	    bind(fd, (struct sockaddr *)&ss,
		 v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 8) < 0) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port); /* same offset in both */
	return fd;
}

/* Ethernet to the gateway's MAC from the child's; IPv4 from 10.0.2.100 to dst with proto
 * and plen bytes of payload (zeroed), its header checksum right. Returns the length. */
static inline size_t ip4_frame(uint8_t *fr, const char *dst, uint8_t proto, size_t plen)
{
	uint8_t *ip = fr + ETH;

	memset(fr, 0, ETH + 20 + plen);
	memcpy(fr, gw_mac, 6);
	memcpy(fr + 6, child_mac, 6);
	put16(fr + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + plen));
	put16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, "10.0.2.100", ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	put16(ip + 10, (uint16_t)~sum16(ip, 20, 0));
	return ETH + 20 + plen;
}

/* The same over IPv6, from fd00::100. */
static inline size_t ip6_frame(uint8_t *fr, const char *dst, uint8_t proto, size_t plen)
{
	uint8_t *ip = fr + ETH;

	memset(fr, 0, ETH + 40 + plen);
	memcpy(fr, gw_mac, 6);
	memcpy(fr + 6, child_mac, 6);
	put16(fr + 12, 0x86dd);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)plen);
	ip[6] = proto;
	ip[7] = 64;
	inet_pton(AF_INET6, "fd00::100", ip + 8);
	inet_pton(AF_INET6, dst, ip + 24);
	return ETH + 40 + plen;
}

/* The one's complement sum of the pseudo-header of the transport header at l4 of a frame
 * of len bytes. */
static inline uint32_t pseudo_sum(const uint8_t *fr, size_t len, size_t l4)
{
	const uint8_t *ip = fr + ETH;
	bool v6 = (ip[0] >> 4) == 6;
	size_t alen = v6 ? 16 : 4;

	return sum16(v6 ? ip + 8 : ip + 12, 2 * alen, 0) + (uint32_t)(v6 ? ip[6] : ip[9]) +
	       (uint32_t)(len - l4);
}

#endif
