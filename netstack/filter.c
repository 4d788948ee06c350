/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The frame filter: every frame the child sends passes here before libslirp sees it.
 *
 * - Only ARP, IPv4 and IPv6 pass (libslirp would also parse NC-SI, a CVE source).
 * - Packets to loopback or unspecified destinations are dropped: libslirp's
 *   disable_host_loopback only stops the gateway's translation to 127.0.0.1, and a frame
 *   addressed straight to 127.0.0.1 (root in the child can write one on the tap) would be
 *   connected to as is. IPv4 broadcast and multicast have no host socket to go to.
 * - TCP loses its urgent flag and pointer, with the checksum fixed up (RFC 1624): Debian's
 *   libslirp 4.7 reads out of bounds on crafted urgent data.
 * - IPv4 fragments never reach libslirp: its reassembly corrupts memory when a
 *   datagram's last fragment comes first, or comes twice, or follows a first fragment that
 *   libslirp itself dropped (all found by fuzz/fuzz_netstack.c). They are reassembled
 *   here instead, in order only: the first (offset 0) opens a datagram, each next one must
 *   start where the last ended, and the whole datagram goes on as one packet (so URG is
 *   stripped from the whole TCP header, RFC 1858). A child's kernel sends fragments in
 *   order, so nothing legitimate is lost. IPv6 fragments are dropped: libslirp does not
 *   reassemble them.
 * - ARP requests for addresses of the subnet that libslirp does not answer (it only knows
 *   the gateway and DNS addresses) are answered here, with libslirp's MAC scheme, so that a
 *   published port's client from such an address gets its replies.
 */
#include "filter.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wire.h"

#define ETH_HLEN   14
#define ETH_P_IP   0x0800
#define ETH_P_ARP  0x0806
#define ETH_P_IPV6 0x86dd
#define PROTO_TCP  6
#define TCP_URG	   0x20

/* An address field, kept in network byte order. */
static uint32_t get_addr(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4); /* stays in network byte order */
	return v;
}

/* RFC 1624: HC' = ~(~HC + ~m + m') for a 16-bit word that changed from m to m'. */
static void csum_replace(uint8_t *csum, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~rk_get16(csum) + (uint32_t)(uint16_t)~old + new;

	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	rk_put16(csum, (uint16_t)~sum);
}

/* Clears URG and the urgent pointer of a TCP header that fits in len bytes. */
static void strip_urgent(uint8_t *tcp, size_t len)
{
	uint16_t old;

	if (len < 20)
		return;
	old = rk_get16(tcp + 12);
	if (old & TCP_URG) {
		rk_put16(tcp + 12, (uint16_t)(old & ~TCP_URG));
		csum_replace(tcp + 16, old, (uint16_t)(old & ~TCP_URG));
	}
	old = rk_get16(tcp + 18);
	if (old) {
		rk_put16(tcp + 18, 0);
		csum_replace(tcp + 16, old, 0);
	}
}

void rk_filter_slirp_mac(uint32_t a, uint8_t mac[6])
{
	mac[0] = 0x52;
	mac[1] = 0x55;
	memcpy(mac + 2, &a, 4);
}

static enum rk_filter_verdict arp(const struct rk_filter_config *cfg, const uint8_t *frame,
				  size_t len, uint8_t *reply, size_t *reply_len)
{
	const uint8_t *a = frame + ETH_HLEN;
	uint32_t target, host;

	/* Ethernet/IPv4 ARP only; anything else is harmless to pass on (libslirp checks) */
	if (len < ETH_HLEN + 28 || rk_get16(a) != 1 || rk_get16(a + 2) != ETH_P_IP || a[4] != 6 ||
	    a[5] != 4 || rk_get16(a + 6) != 1)
		return RK_FILTER_PASS;
	target = get_addr(a + 24);
	host = target & ~cfg->mask;
	if ((target & cfg->mask) != cfg->net || target == cfg->child || target == cfg->gateway ||
	    target == cfg->dns || host == 0 || host == ~cfg->mask)
		return RK_FILTER_PASS;
	/* Ethernet: back to the asker, from the target's MAC */
	memcpy(reply, frame + 6, 6);
	rk_filter_slirp_mac(target, reply + 6);
	rk_put16(reply + 12, ETH_P_ARP);
	uint8_t *r = reply + ETH_HLEN;
	rk_put16(r, 1);
	rk_put16(r + 2, ETH_P_IP);
	r[4] = 6;
	r[5] = 4;
	rk_put16(r + 6, 2); /* reply */
	rk_filter_slirp_mac(target, r + 8);
	memcpy(r + 14, &target, 4);
	memcpy(r + 18, a + 8, 10); /* the asker's MAC and address */
	*reply_len = ETH_HLEN + 28;
	return RK_FILTER_REPLY;
}

/* One IPv4 fragment (offset in 8-byte units, more: MF) into its datagram. Returns HELD,
 * REASSEMBLED (cfg->out holds the datagram as one frame) or DROP. */
static enum rk_filter_verdict reassemble(struct rk_filter_config *cfg, const uint8_t *frame,
					 size_t ihl, size_t total, unsigned offset, bool more)
{
	const uint8_t *ip = frame + ETH_HLEN;
	struct rk_filter_frag *slot = NULL, *oldest = &cfg->frags[0];
	size_t data = total - ihl, whole;
	uint32_t src = get_addr(ip + 12), dst = get_addr(ip + 16);
	uint16_t id = rk_get16(ip + 4);
	uint8_t *out;

	for (size_t i = 0; i < RK_FILTER_FRAGS; i++) {
		struct rk_filter_frag *f = &cfg->frags[i];
		if (f->used && f->src == src && f->dst == dst && f->id == id && f->proto == ip[9])
			slot = f;
		if (!f->used || (oldest->used && f->stamp < oldest->stamp))
			oldest = f;
	}
	/* a checksum the kernel would reject; all but the last carry a multiple of 8 bytes;
	 * the datagram fits 64 KiB */
	if (rk_inet_checksum(ip, ihl) != 0 || (more && data % 8) || offset * 8 + data + ihl > 65535)
		goto drop;
	if (offset == 0) {
		slot = slot ? slot : oldest; /* a new first fragment restarts the datagram */
		if (!slot->data)
			slot->data = rk_xmalloc(65535);
		slot->src = src;
		slot->dst = dst;
		slot->id = id;
		slot->proto = ip[9];
		slot->used = true;
		slot->head_len = ETH_HLEN + ihl;
		memcpy(slot->head, frame, slot->head_len);
	} else if (!slot || offset != slot->next) {
		goto drop;
	}
	memcpy(slot->data + (size_t)offset * 8, ip + ihl, data);
	slot->next = offset + (unsigned)(data / 8);
	slot->stamp = ++cfg->frag_clock;
	if (more)
		return RK_FILTER_HELD;
	/* whole: the first fragment's headers, the payload, a fresh length and checksum */
	slot->used = false;
	whole = (size_t)offset * 8 + data;
	if (slot->head_len - ETH_HLEN + whole > 65535)
		return RK_FILTER_DROP;
	if (!cfg->out)
		cfg->out = rk_xmalloc(RK_FRAME_MAX);
	out = cfg->out;
	memcpy(out, slot->head, slot->head_len);
	memcpy(out + slot->head_len, slot->data, whole);
	ihl = slot->head_len - ETH_HLEN;
	rk_put16(out + ETH_HLEN + 2, (uint16_t)(ihl + whole));
	rk_put16(out + ETH_HLEN + 6, rk_get16(out + ETH_HLEN + 6) & 0x4000); /* keep DF only */
	rk_put16(out + ETH_HLEN + 10, 0);
	rk_put16(out + ETH_HLEN + 10, rk_inet_checksum(out + ETH_HLEN, ihl));
	cfg->out_len = slot->head_len + whole;
	return RK_FILTER_REASSEMBLED;
drop:
	if (slot)
		slot->used = false;
	return RK_FILTER_DROP;
}

static enum rk_filter_verdict ipv4(struct rk_filter_config *cfg, uint8_t *frame, size_t len,
				   enum rk_filter_reason *reason)
{
	uint8_t *ip = frame + ETH_HLEN;
	size_t ihl, total;
	uint32_t dst, first;
	unsigned offset;
	bool more;
	enum rk_filter_verdict verdict;

	if (len < ETH_HLEN + 20 || (ip[0] >> 4) != 4)
		goto malformed;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	total = rk_get16(ip + 2);
	if (ihl < 20 || total < ihl || total > len - ETH_HLEN)
		goto malformed;
	dst = get_addr(ip + 16);
	first = ((const uint8_t *)&dst)[0];
	if (first == 127 || first == 0) {
		*reason = RK_FILTER_LOOPBACK;
		return RK_FILTER_DROP;
	}
	if (first >= 224 || dst == (cfg->net | ~cfg->mask)) {
		*reason = RK_FILTER_BROADCAST;
		return RK_FILTER_DROP;
	}
	offset = rk_get16(ip + 6) & 0x1fff;
	more = rk_get16(ip + 6) & 0x2000;
	if (offset || more) {
		verdict = reassemble(cfg, frame, ihl, total, offset, more);
		if (verdict == RK_FILTER_DROP)
			*reason = RK_FILTER_FRAGMENT;
		if (verdict != RK_FILTER_REASSEMBLED)
			return verdict;
		/* go on with the whole datagram (its header is the first fragment's) */
		ip = cfg->out + ETH_HLEN;
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		total = rk_get16(ip + 2);
	} else {
		verdict = RK_FILTER_PASS;
	}
	if (ip[9] == PROTO_TCP) {
		/* a TCP header that does not fit cannot be checked */
		if (total - ihl < 20) {
			*reason = RK_FILTER_MALFORMED;
			return RK_FILTER_DROP;
		}
		strip_urgent(ip + ihl, total - ihl);
	}
	return verdict;
malformed:
	*reason = RK_FILTER_MALFORMED;
	return RK_FILTER_DROP;
}

static bool v6_is_loopback_like(const uint8_t *a)
{
	static const uint8_t zero[16], mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	/* :: and ::1 */
	if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1))
		return true;
	/* ::ffff:127.x.y.z and ::ffff:0.x.y.z */
	return memcmp(a, mapped, 12) == 0 && (a[12] == 127 || a[12] == 0);
}

static enum rk_filter_verdict ipv6(uint8_t *frame, size_t len, enum rk_filter_reason *reason)
{
	uint8_t *ip = frame + ETH_HLEN, *p;
	size_t payload, left;
	uint8_t next;

	if (len < ETH_HLEN + 40 || (ip[0] >> 4) != 6)
		goto malformed;
	payload = rk_get16(ip + 4);
	if (payload > len - ETH_HLEN - 40)
		goto malformed;
	if (v6_is_loopback_like(ip + 24)) {
		*reason = RK_FILTER_LOOPBACK;
		return RK_FILTER_DROP;
	}
	/* find TCP behind at most 8 extension headers */
	next = ip[6];
	p = ip + 40;
	left = payload;
	for (int i = 0; i < 8; i++) {
		size_t hlen;
		switch (next) {
		case PROTO_TCP:
			if (left < 20) {
				*reason = RK_FILTER_FRAGMENT;
				return RK_FILTER_DROP;
			}
			strip_urgent(p, left);
			return RK_FILTER_PASS;
		case 0:	 /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (left < 8)
				goto malformed;
			hlen = ((size_t)p[1] + 1) * 8;
			break;
		case 44: /* fragment: libslirp does not reassemble IPv6 */
			*reason = RK_FILTER_FRAGMENT;
			return RK_FILTER_DROP;
		default:
			return RK_FILTER_PASS;
		}
		if (hlen > left)
			goto malformed;
		next = p[0];
		p += hlen;
		left -= hlen;
	}
malformed:
	*reason = RK_FILTER_MALFORMED;
	return RK_FILTER_DROP;
}

enum rk_filter_verdict rk_filter_frame(struct rk_filter_config *cfg, uint8_t *frame, size_t len,
				       uint8_t *reply, size_t *reply_len,
				       enum rk_filter_reason *reason)
{
	*reason = RK_FILTER_OK;
	*reply_len = 0;
	if (len < ETH_HLEN || len > RK_FRAME_MAX) {
		*reason = RK_FILTER_SIZE;
		return RK_FILTER_DROP;
	}
	switch (rk_get16(frame + 12)) {
	case ETH_P_ARP:
		return arp(cfg, frame, len, reply, reply_len);
	case ETH_P_IP:
		return ipv4(cfg, frame, len, reason);
	case ETH_P_IPV6:
		return ipv6(frame, len, reason);
	default:
		*reason = RK_FILTER_ETHERTYPE;
		return RK_FILTER_DROP;
	}
}

void rk_filter_release(struct rk_filter_config *cfg)
{
	free(cfg->out);
	cfg->out = NULL;
	for (size_t i = 0; i < RK_FILTER_FRAGS; i++) {
		free(cfg->frags[i].data);
		cfg->frags[i].data = NULL;
		cfg->frags[i].used = false;
	}
}
