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
 *   published port's client from such an address gets its replies; without libslirp
 *   (engine.c), those for the gateway and DNS addresses too.
 * - The virtio-net header before each frame is the child's to choose (a packet socket with
 *   PACKET_VNET_HDR sets csum_start and csum_offset to anything in the frame), so it is
 *   checked against the headers parsed here: a checksum to complete must be the TCP or UDP
 *   checksum field of the transport header found (csum_start at that header, csum_offset
 *   16 or 6), never in a fragment; segmentation must be TCP of the frame's IP version,
 *   with a size and a header length that fit. Anything else is dropped. The completion
 *   itself happens here, last, for the frames that go to libslirp (the TCP translation
 *   and the DNS forwarder ignore checksums): no byte changes after the verdict, so what
 *   was judged is what is acted on.
 * - Each frame is parsed once: the verdict comes with a view (struct rk_frame: transport
 *   protocol, its offset, the route) that the TCP translation and the DNS forwarder take
 *   as it is.
 */
#include "netstack/filter.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/wire.h"
#include "src/lib/util.h"

/* ETH_HLEN and the ETH_P_ values come with <linux/virtio_net.h> */
#define PROTO_TCP 6
#define PROTO_UDP 17
#define TCP_URG	  0x20

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

/* Clears URG and the urgent pointer of a TCP header; fix_csum: the checksum is whole and
 * is updated to match (a partial one is summed later over the bytes as they are then). */
static void strip_urgent(uint8_t *tcp, bool fix_csum)
{
	uint16_t old = rk_get16(tcp + 12);

	if (old & TCP_URG) {
		rk_put16(tcp + 12, (uint16_t)(old & ~TCP_URG));
		if (fix_csum)
			csum_replace(tcp + 16, old, (uint16_t)(old & ~TCP_URG));
	}
	old = rk_get16(tcp + 18);
	if (old) {
		rk_put16(tcp + 18, 0);
		if (fix_csum)
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
	host = target & ~cfg->vnet->mask;
	if ((target & cfg->vnet->mask) != cfg->vnet->net || target == cfg->vnet->child ||
	    (!cfg->no_slirp && (target == cfg->vnet->gateway || target == cfg->vnet->dns)) ||
	    host == 0 || host == ~cfg->vnet->mask)
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
 * PASS (cfg->out holds the datagram as one frame of *ret_len bytes) or DROP. */
static enum rk_filter_verdict reassemble(struct rk_filter_config *cfg, const uint8_t *frame,
					 size_t ihl, size_t total, unsigned offset, bool more,
					 size_t *ret_len)
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
	*ret_len = slot->head_len + whole;
	return RK_FILTER_PASS;
drop:
	if (slot)
		slot->used = false;
	return RK_FILTER_DROP;
}

/* The checks a virtio-net header gets before anything else about the frame: flags and a
 * segmentation type that this engine knows. */
static bool vnet_known(const struct virtio_net_hdr *vh)
{
	uint8_t gso = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (vh->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return vh->gso_type == VIRTIO_NET_HDR_GSO_NONE && vh->gso_size == 0;
	/* segmentation (TSO only: the tap offers no UFO or USO) needs a partial checksum */
	return (gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6) &&
	       (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && vh->gso_size > 0;
}

/* The header against the transport header the filter found (fr->l4, fr->proto), before
 * that header itself is checked: a checksum field where the kernel puts it, segmentation
 * of TCP over the frame's IP version. */
static bool vnet_matches(const struct virtio_net_hdr *vh, const struct rk_frame *fr)
{
	uint8_t gso = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (vh->csum_start != fr->l4)
			return false;
		if (!((fr->proto == PROTO_TCP && vh->csum_offset == 16) ||
		      (fr->proto == PROTO_UDP && vh->csum_offset == 6)))
			return false;
	}
	if (vh->hdr_len > fr->len)
		return false;
	return gso == VIRTIO_NET_HDR_GSO_NONE ||
	       (fr->proto == PROTO_TCP && fr->v6 == (gso == VIRTIO_NET_HDR_GSO_TCPV6));
}

static bool is_dns(const struct rk_filter_config *cfg, const struct rk_frame *fr)
{
	static const uint8_t dns6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 };
	const uint8_t *ip = fr->data + ETH_HLEN;

	if (fr->proto != PROTO_UDP || rk_get16(fr->data + fr->l4 + 2) != 53)
		return false;
	return fr->v6 ? cfg->vnet->ipv6 && memcmp(ip + 24, dns6, 16) == 0
		      : get_addr(ip + 16) == cfg->vnet->dns;
}

/* The transport header at fr->l4 (up to fr->len): checked, stripped of urgent data,
 * matched against vh, routed, and its checksum completed if it goes to libslirp. */
static enum rk_filter_verdict transport(const struct rk_filter_config *cfg, struct rk_frame *fr,
					const struct virtio_net_hdr *vh)
{
	uint8_t *ip = fr->data + ETH_HLEN, *l4 = fr->data + fr->l4;
	size_t seg = fr->len - fr->l4, thl = 0;
	bool partial = vh && (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);

	fr->src = fr->v6 ? ip + 8 : ip + 12;
	fr->dst = fr->v6 ? ip + 24 : ip + 16;
	if (vh && !vnet_matches(vh, fr))
		goto bad_vnet;
	if (fr->proto == PROTO_TCP) {
		if (seg < 20 || (thl = (size_t)(l4[12] >> 4) * 4) < 20 || thl > seg)
			goto malformed;
		/* the kernel gives the length of the linear part as hdr_len: the headers at
		 * least, when it segments */
		if (vh && vh->gso_type != VIRTIO_NET_HDR_GSO_NONE && vh->hdr_len < fr->l4 + thl)
			goto bad_vnet;
	} else if (fr->proto == PROTO_UDP) {
		if (seg < 8 || rk_get16(l4 + 4) < 8 || rk_get16(l4 + 4) > seg)
			goto malformed;
	}
	if (fr->proto == PROTO_TCP || fr->proto == PROTO_UDP) {
		memcpy(&fr->sport, l4, 2);
		memcpy(&fr->dport, l4 + 2, 2);
	}
	/* a partial checksum is summed over the bytes as they are later: no fix-up */
	if (fr->proto == PROTO_TCP)
		strip_urgent(l4, !partial);
	if (fr->proto == PROTO_TCP && cfg->tcp_translated)
		fr->route = RK_ROUTE_TCP;
	else if (is_dns(cfg, fr))
		fr->route = RK_ROUTE_DNS;
	else if (fr->proto == PROTO_UDP)
		fr->route = RK_ROUTE_UDP;
	else
		fr->route = RK_ROUTE_SLIRP;
	if (partial && fr->route == RK_ROUTE_SLIRP) {
		uint16_t sum = rk_inet_checksum(l4, seg);
		/* a UDP sum of 0 means none: the kernel sends 0xffff */
		rk_put16(l4 + vh->csum_offset, sum == 0 && fr->proto == PROTO_UDP ? 0xffff : sum);
	}
	return RK_FILTER_PASS;
malformed:
	fr->reason = RK_FILTER_MALFORMED;
	return RK_FILTER_DROP;
bad_vnet:
	fr->reason = RK_FILTER_VNET;
	return RK_FILTER_DROP;
}

static enum rk_filter_verdict ipv4(struct rk_filter_config *cfg, struct rk_frame *fr,
				   const struct virtio_net_hdr *vh)
{
	uint8_t *ip = fr->data + ETH_HLEN;
	size_t ihl, total;
	uint32_t dst, first;
	unsigned offset;
	bool more;

	if (fr->len < ETH_HLEN + 20 || (ip[0] >> 4) != 4)
		goto malformed;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	total = rk_get16(ip + 2);
	if (ihl < 20 || total < ihl || total > fr->len - ETH_HLEN)
		goto malformed;
	dst = get_addr(ip + 16);
	first = ((const uint8_t *)&dst)[0];
	if (first == 127 || first == 0) {
		fr->reason = RK_FILTER_LOOPBACK;
		return RK_FILTER_DROP;
	}
	if (first >= 224 || dst == (cfg->vnet->net | ~cfg->vnet->mask)) {
		fr->reason = RK_FILTER_BROADCAST;
		return RK_FILTER_DROP;
	}
	offset = rk_get16(ip + 6) & 0x1fff;
	more = rk_get16(ip + 6) & 0x2000;
	if (offset || more) {
		enum rk_filter_verdict verdict;
		/* a fragment's checksum covers the whole datagram: nothing to offload */
		if (vh && (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
			fr->reason = RK_FILTER_VNET;
			return RK_FILTER_DROP;
		}
		verdict = reassemble(cfg, fr->data, ihl, total, offset, more, &fr->len);
		if (verdict == RK_FILTER_DROP)
			fr->reason = RK_FILTER_FRAGMENT;
		if (verdict != RK_FILTER_PASS)
			return verdict;
		/* go on with the whole datagram (its header is the first fragment's) */
		fr->data = cfg->out;
		ip = fr->data + ETH_HLEN;
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		vh = NULL;
	} else {
		fr->len = ETH_HLEN + total;
	}
	fr->proto = ip[9];
	fr->l4 = ETH_HLEN + ihl;
	return transport(cfg, fr, vh);
malformed:
	fr->reason = RK_FILTER_MALFORMED;
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

static enum rk_filter_verdict ipv6(const struct rk_filter_config *cfg, struct rk_frame *fr,
				   const struct virtio_net_hdr *vh)
{
	uint8_t *ip = fr->data + ETH_HLEN;
	size_t payload, at;
	uint8_t next;

	if (fr->len < ETH_HLEN + 40 || (ip[0] >> 4) != 6)
		goto malformed;
	payload = rk_get16(ip + 4);
	if (payload > fr->len - ETH_HLEN - 40)
		goto malformed;
	fr->len = ETH_HLEN + 40 + payload;
	fr->v6 = true;
	if (v6_is_loopback_like(ip + 24)) {
		fr->reason = RK_FILTER_LOOPBACK;
		return RK_FILTER_DROP;
	}
	/* the transport header, behind at most 8 extension headers */
	next = ip[6];
	at = ETH_HLEN + 40;
	for (int i = 0; i < 8; i++) {
		size_t hlen;
		switch (next) {
		case 0:	 /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (fr->len - at < 8)
				goto malformed;
			hlen = ((size_t)fr->data[at + 1] + 1) * 8;
			break;
		case 44: /* fragment: libslirp does not reassemble IPv6 */
			fr->reason = RK_FILTER_FRAGMENT;
			return RK_FILTER_DROP;
		default:
			fr->proto = next;
			fr->l4 = at;
			return transport(cfg, fr, vh);
		}
		if (hlen > fr->len - at)
			goto malformed;
		next = fr->data[at];
		at += hlen;
	}
malformed:
	fr->reason = RK_FILTER_MALFORMED;
	return RK_FILTER_DROP;
}

static enum rk_filter_verdict judge(struct rk_filter_config *cfg, uint8_t *frame, size_t len,
				    const struct virtio_net_hdr *vh, struct rk_frame *ret)
{
	if (len < ETH_HLEN || len > RK_FRAME_MAX) {
		ret->reason = RK_FILTER_SIZE;
		return RK_FILTER_DROP;
	}
	if (vh && !vnet_known(vh)) {
		ret->reason = RK_FILTER_VNET;
		return RK_FILTER_DROP;
	}
	switch (rk_get16(frame + 12)) {
	case ETH_P_ARP:
		/* nothing to offload in ARP */
		if (vh && (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
			ret->reason = RK_FILTER_VNET;
			return RK_FILTER_DROP;
		}
		return arp(cfg, frame, len, ret->reply, &ret->reply_len);
	case ETH_P_IP:
		return ipv4(cfg, ret, vh);
	case ETH_P_IPV6:
		return ipv6(cfg, ret, vh);
	default:
		ret->reason = RK_FILTER_ETHERTYPE;
		return RK_FILTER_DROP;
	}
}

enum rk_filter_verdict rk_filter_frame(struct rk_filter_config *cfg, uint8_t *frame, size_t len,
				       const struct virtio_net_hdr *vh, struct rk_frame *ret)
{
	enum rk_filter_verdict v;

	*ret = (struct rk_frame){ .data = frame, .len = len, .reason = RK_FILTER_OK };
	v = judge(cfg, frame, len, vh, ret);
	/* the tap has one other end: a frame that holds together tells the child's MAC */
	if (v != RK_FILTER_DROP) {
		memcpy(cfg->peer.mac, frame + 6, 6);
		cfg->peer.known = true;
	}
	return v;
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
