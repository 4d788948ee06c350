/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VPNKit's vmnet protocol, as VPNKit documents and speaks it on its --ethernet Unix
 * socket:
 *
 *   client -> server  greeting: "VMN3T", u32 version 22 (little-endian), 40-byte commit
 *   server -> client  its greeting, the same shape
 *   client -> server  VIF request: u8 1, 36-char UUID, u32 IPv4 (0: VPNKit chooses)
 *   server -> client  u8 1 and 257 bytes (u16 MTU, u16 max packet size, 6-byte MAC, zero
 *                     padding), or another type, u8 length and an error text
 *   both ways         frames: u16 little-endian length, then the Ethernet frame
 *
 * VPNKit does not say which address it gave the VIF; a DHCPDISCOVER from the VIF's MAC
 * is answered with an offer that does.
 */
#include "src/net/vmnet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "src/lib/util.h"
#include "src/net/dhcp.h"

static const uint8_t magic[5] = { 'V', 'M', 'N', '3', 'T' };

void rk_vmnet_hello(uint8_t out[RK_VMNET_HELLO_LEN])
{
	memcpy(out, magic, sizeof(magic));
	out[5] = 22; /* the protocol version, little-endian */
	out[6] = out[7] = out[8] = 0;
	/* the commit is informational */
	memset(out + 9, '0', 40);
}

int rk_vmnet_check_hello(const uint8_t in[RK_VMNET_HELLO_LEN])
{
	return memcmp(in, magic, sizeof(magic)) == 0 ? 0 : -EPROTO;
}

void rk_vmnet_uuid(char out[37])
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)((uint64_t)ts.tv_nsec >> (i % 8) ^ (uint64_t)getpid() >> i);
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

void rk_vmnet_vif_request(uint8_t out[RK_VMNET_VIF_REQUEST_LEN], const char uuid[37])
{
	out[0] = 1;
	memcpy(out + 1, uuid, 36);
	memset(out + 37, 0, 4);
}

void rk_vmnet_parse_vif(const uint8_t in[RK_VMNET_VIF_LEN], struct rk_vmnet_vif *ret)
{
	ret->mtu = (unsigned)in[0] | (unsigned)in[1] << 8;
	ret->max_packet = (unsigned)in[2] | (unsigned)in[3] << 8;
	memcpy(ret->mac, in + 4, 6);
}

#define ETH_LEN 14
#define IP_LEN	20
#define UDP_LEN 8

size_t rk_vmnet_dhcp_discover(uint8_t *buf, size_t size, const uint8_t mac[6], uint32_t xid)
{
	size_t hdr = ETH_LEN + IP_LEN + UDP_LEN, dhcp, ip_total, udp_total;
	uint16_t sum;

	if (size < hdr + RK_DHCP_MIN_LEN + 32)
		return 0;
	dhcp = rk_dhcp_build(buf + hdr, size - hdr, RK_DHCP_DISCOVER, xid, mac, 0, 0);
	ip_total = IP_LEN + UDP_LEN + dhcp;
	udp_total = UDP_LEN + dhcp;
	/* Ethernet: broadcast, from mac, IPv4 */
	memset(buf, 0xff, 6);
	memcpy(buf + 6, mac, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	/* IPv4: 0.0.0.0 -> 255.255.255.255, UDP, TTL 64 */
	uint8_t *ip = buf + ETH_LEN;
	memset(ip, 0, IP_LEN);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_total >> 8);
	ip[3] = (uint8_t)ip_total;
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4);
	sum = rk_inet_checksum(ip, IP_LEN);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	/* UDP 68 -> 67; a zero checksum means none, which IPv4 allows */
	uint8_t *udp = ip + IP_LEN;
	udp[0] = 0;
	udp[1] = 68;
	udp[2] = 0;
	udp[3] = 67;
	udp[4] = (uint8_t)(udp_total >> 8);
	udp[5] = (uint8_t)udp_total;
	udp[6] = udp[7] = 0;
	return hdr + dhcp;
}

int rk_vmnet_dhcp_offer(const uint8_t *frame, size_t len, const uint8_t mac[6], uint32_t xid,
			uint32_t *ret_ip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct rk_dhcp_reply reply;
	const uint8_t *ip, *udp;
	size_t ihl, ip_total;

	if (len < ETH_LEN + IP_LEN + UDP_LEN ||
	    (memcmp(frame, mac, 6) != 0 && memcmp(frame, bcast, 6) != 0) || frame[12] != 0x08 ||
	    frame[13] != 0x00)
		return -EINVAL;
	ip = frame + ETH_LEN;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	ip_total = (size_t)ip[2] << 8 | ip[3];
	if ((ip[0] >> 4) != 4 || ihl < IP_LEN || ip[9] != 17 || ip_total > len - ETH_LEN ||
	    ip_total < ihl + UDP_LEN)
		return -EINVAL;
	udp = ip + ihl;
	if (udp[0] != 0 || udp[1] != 67 || udp[2] != 0 || udp[3] != 68)
		return -EINVAL;
	if (rk_dhcp_parse(udp + UDP_LEN, ip_total - ihl - UDP_LEN, xid, mac, &reply) < 0 ||
	    reply.type != RK_DHCP_OFFER || reply.yiaddr == 0)
		return -EINVAL;
	*ret_ip = reply.yiaddr;
	return 0;
}

static size_t frame_len(const struct rk_vmnet_reader *r)
{
	return (size_t)r->buf[0] | (size_t)r->buf[1] << 8;
}

uint8_t *rk_vmnet_reader_space(struct rk_vmnet_reader *r, size_t *ret_size)
{
	if (r->have < RK_VMNET_FRAME_HDR)
		*ret_size = RK_VMNET_FRAME_HDR - r->have;
	else
		*ret_size = RK_VMNET_FRAME_HDR + frame_len(r) - r->have;
	return r->buf + r->have;
}

size_t rk_vmnet_reader_commit(struct rk_vmnet_reader *r, size_t n, const uint8_t **ret_frame)
{
	size_t len;

	r->have += n;
	if (r->have < RK_VMNET_FRAME_HDR)
		return 0;
	len = frame_len(r);
	if (r->have < RK_VMNET_FRAME_HDR + len)
		return 0;
	r->have = 0; /* an empty frame is skipped */
	*ret_frame = r->buf + RK_VMNET_FRAME_HDR;
	return len;
}
