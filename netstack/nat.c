/* SPDX-License-Identifier: Apache-2.0 */
/* The address rules and frame building the engine's translations share (see nat.h). */
#include "netstack/nat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>

#include "netstack/wire.h"

#define ETH_HLEN       14
#define NAT_FD_RESERVE 192  /* the tap, control and stop descriptors, DNS, listeners, libslirp */
#define NAT_UDP_MAX    4096 /* RK_UDPNAT_FLOWS */

static const uint8_t host6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

bool rk_nat_outbound(const struct rk_vnet *cfg, bool v6, const uint8_t *dst, uint16_t port,
		     struct sockaddr_storage *ret)
{
	memset(ret, 0, sizeof(*ret));
	/* sin_port and sin6_port lie at the same offset */
	((struct sockaddr_in *)ret)->sin_port = port;
	if (!v6) {
		struct sockaddr_in *in = (struct sockaddr_in *)ret;
		uint32_t a;
		memcpy(&a, dst, 4);
		in->sin_family = AF_INET;
		if (a == cfg->gateway) {
			if (cfg->disable_host_loopback)
				return false;
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			return true;
		}
		if ((a & cfg->mask) == cfg->net)
			return false;
		in->sin_addr.s_addr = a;
		return true;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ret;
	if (!cfg->ipv6)
		return false;
	in6->sin6_family = AF_INET6;
	if (memcmp(dst, host6, 16) == 0) {
		if (cfg->disable_host_loopback)
			return false;
		in6->sin6_addr = in6addr_loopback;
		return true;
	}
	/* the virtual prefix, link-local and multicast are not the host's */
	if (memcmp(dst, host6, 8) == 0 || dst[0] == 0xff ||
	    (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80))
		return false;
	memcpy(&in6->sin6_addr, dst, 16);
	return true;
}

void rk_nat_inbound(const struct rk_vnet *cfg, const struct sockaddr_storage *from,
		    uint8_t *ret_addr, uint16_t *ret_port)
{
	if (from->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)from;
		uint8_t first = (uint8_t)(ntohl(in->sin_addr.s_addr) >> 24);
		if (first == 127 || first == 0)
			memcpy(ret_addr, &cfg->gateway, 4);
		else
			memcpy(ret_addr, &in->sin_addr, 4);
		*ret_port = in->sin_port;
		return;
	}
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)from;
	const uint8_t *a = in6->sin6_addr.s6_addr;
	bool mapped_lo = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && (a[12] == 127 || a[12] == 0);
	if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) || IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) ||
	    mapped_lo)
		memcpy(ret_addr, host6, 16);
	else
		memcpy(ret_addr, &in6->sin6_addr, 16);
	*ret_port = in6->sin6_port;
}

bool rk_nat_inbound_as(const struct rk_vnet *cfg, const struct sockaddr_storage *from, bool v6,
		       uint8_t *ret_addr, uint16_t *ret_port)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)from;
	struct sockaddr_storage v4 = { .ss_family = AF_INET };

	if (from->ss_family == (v6 ? AF_INET6 : AF_INET)) {
		rk_nat_inbound(cfg, from, ret_addr, ret_port);
		return true;
	}
	if (v6)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&v4;
		memcpy(&in->sin_addr, in6->sin6_addr.s6_addr + 12, 4);
		in->sin_port = in6->sin6_port;
		rk_nat_inbound(cfg, &v4, ret_addr, ret_port);
		return true;
	}
	memcpy(ret_addr, &cfg->gateway, 4);
	*ret_port = in6->sin6_port;
	return true;
}

socklen_t rk_sockaddr_len(const union rk_sockaddr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->v6) : sizeof(a->v4);
}

const uint8_t *rk_sockaddr_addr(const union rk_sockaddr *a)
{
	return a->sa.sa_family == AF_INET6 ? a->v6.sin6_addr.s6_addr
					   : (const uint8_t *)&a->v4.sin_addr;
}

uint16_t rk_sockaddr_port(const union rk_sockaddr *a)
{
	return a->sa.sa_family == AF_INET6 ? a->v6.sin6_port : a->v4.sin_port;
}

bool rk_sockaddr_equal(const union rk_sockaddr *a, const union rk_sockaddr *b)
{
	return a->sa.sa_family == b->sa.sa_family && rk_sockaddr_port(a) == rk_sockaddr_port(b) &&
	       memcmp(rk_sockaddr_addr(a), rk_sockaddr_addr(b),
		      a->sa.sa_family == AF_INET6 ? 16 : 4) == 0;
}

void rk_nat_budget(size_t *ret_tcp, size_t *ret_udp)
{
	struct rlimit rl;
	size_t limit = 1024, left;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		limit = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1 << 20 ? 1 << 20
									      : (size_t)rl.rlim_cur;
	/* below twice the reserve, a quarter each: the reserve is then what is left */
	left = limit >= 2 * NAT_FD_RESERVE ? limit - NAT_FD_RESERVE : limit / 2;
	*ret_udp = left / 4 > NAT_UDP_MAX ? NAT_UDP_MAX : left / 4;
	*ret_tcp = limit >= 2 * NAT_FD_RESERVE ? left - *ret_udp : limit / 4;
}

uint64_t rk_nat_sum(uint64_t sum, const uint8_t *p, size_t len)
{
	uint32_t w;
	uint16_t h = 0;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, 4);
		sum += w;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		h = 0;
		memcpy(&h, p, 1);
		sum += h;
	}
	return sum;
}

uint16_t rk_nat_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint64_t rk_nat_pseudo(bool v6, const uint8_t *src, const uint8_t *dst, uint8_t proto, size_t len)
{
	size_t alen = v6 ? 16 : 4;
	uint8_t tail[4];
	uint64_t sum = rk_nat_sum(rk_nat_sum(0, src, alen), dst, alen);

	rk_put16(tail, proto);
	rk_put16(tail + 2, (uint16_t)len);
	return rk_nat_sum(sum, tail, 4);
}

size_t rk_nat_headers(uint8_t *frame, const uint8_t *dst_mac, const uint8_t *src_mac, bool v6,
		      const uint8_t *src, const uint8_t *dst, uint8_t proto, size_t payload,
		      uint16_t id, uint16_t frag)
{
	uint8_t *ip = frame + ETH_HLEN;
	uint16_t csum;

	memcpy(frame, dst_mac, 6);
	memcpy(frame + 6, src_mac, 6);
	rk_put16(frame + 12, v6 ? 0x86dd : 0x0800);
	if (v6) {
		rk_put32(ip, 6u << 28);
		rk_put16(ip + 4, (uint16_t)payload);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
		return ETH_HLEN + 40;
	}
	ip[0] = 0x45;
	ip[1] = 0;
	rk_put16(ip + 2, (uint16_t)(20 + payload));
	rk_put16(ip + 4, id);
	rk_put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	rk_put16(ip + 10, 0);
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	csum = rk_nat_fold(rk_nat_sum(0, ip, 20));
	memcpy(ip + 10, &csum, 2);
	return ETH_HLEN + 20;
}

size_t rk_nat_arp_request(uint8_t *frame, const uint8_t *src_mac, uint32_t src_ip,
			  const uint8_t *target)
{
	memset(frame, 0, ETH_HLEN + 28);
	memset(frame, 0xff, 6);
	memcpy(frame + 6, src_mac, 6);
	rk_put16(frame + 12, 0x0806);
	rk_put16(frame + 14, 1);      /* Ethernet */
	rk_put16(frame + 16, 0x0800); /* IPv4 */
	frame[18] = 6;
	frame[19] = 4;
	rk_put16(frame + 20, 1); /* request */
	memcpy(frame + 22, src_mac, 6);
	memcpy(frame + 28, &src_ip, 4);
	memcpy(frame + 38, target, 4);
	return ETH_HLEN + 28;
}
