/* SPDX-License-Identifier: Apache-2.0 */
/* The frame filter in front of libslirp: what passes, what is dropped and why, URG
 * stripping with a checksum that still verifies, proxy ARP. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "netstack/filter.h"
#include "tests/unit/checksum.h"

static struct rk_vnet vnet;
static struct rk_filter_config cfg = { .vnet = &vnet };

static int setup(void **state)
{
	(void)state;
	vnet = (struct rk_vnet){ .mtu = 65520 };
	rk_vnet_slirp(&vnet, "", NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rk_filter_release(&cfg);
	return 0;
}

/* The TCP checksum of an IPv4 frame verifies (sums to 0xffff). */
static bool tcp4_checksum_ok(const uint8_t *f, size_t tcp_len)
{
	uint32_t pseudo = 0;
	const uint8_t *ip = f + 14;

	pseudo += (uint32_t)ip[12] << 8 | ip[13];
	pseudo += (uint32_t)ip[14] << 8 | ip[15];
	pseudo += (uint32_t)ip[16] << 8 | ip[17];
	pseudo += (uint32_t)ip[18] << 8 | ip[19];
	pseudo += 6 + (uint32_t)tcp_len;
	return sum16(ip + 20, tcp_len, pseudo) == 0xffff;
}

/* An Ethernet + IPv4 + TCP frame from the child to dst:port with flags, urgent pointer
 * and payload, checksums correct. Returns its length. */
static size_t tcp4(uint8_t *f, const char *dst, uint8_t flags, uint16_t urg, const char *data)
{
	size_t dlen = strlen(data), tcp_len = 20 + dlen, total = 20 + tcp_len;
	uint8_t *ip = f + 14, *tcp = ip + 20;
	uint16_t s;

	memset(f, 0, 14 + total);
	memcpy(f, "\x52\x55\x0a\x00\x02\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[8] = 64;
	ip[9] = 6;
	inet_pton(AF_INET, "10.0.2.100", ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	s = (uint16_t)~sum16(ip, 20, 0);
	ip[10] = (uint8_t)(s >> 8);
	ip[11] = (uint8_t)s;
	tcp[0] = 0x9c;
	tcp[1] = 0x40;
	tcp[2] = 0x1f;
	tcp[3] = 0x90;
	tcp[12] = 0x50;
	tcp[13] = flags;
	tcp[14] = 0xff;
	tcp[15] = 0xff;
	tcp[18] = (uint8_t)(urg >> 8);
	tcp[19] = (uint8_t)urg;
	memcpy(tcp + 20, data, dlen);
	{
		uint32_t pseudo = 0;
		pseudo += (uint32_t)ip[12] << 8 | ip[13];
		pseudo += (uint32_t)ip[14] << 8 | ip[15];
		pseudo += (uint32_t)ip[16] << 8 | ip[17];
		pseudo += (uint32_t)ip[18] << 8 | ip[19];
		pseudo += 6 + (uint32_t)tcp_len;
		s = (uint16_t)~sum16(tcp, tcp_len, pseudo);
	}
	tcp[16] = (uint8_t)(s >> 8);
	tcp[17] = (uint8_t)s;
	return 14 + total;
}

static struct rk_frame last; /* the view of the last run */

static enum rk_filter_verdict run_vnet(uint8_t *f, size_t len, const struct virtio_net_hdr *vh,
				       enum rk_filter_reason *why)
{
	enum rk_filter_verdict v = rk_filter_frame(&cfg, f, len, vh, &last);
	*why = last.reason;
	return v;
}

static enum rk_filter_verdict run(uint8_t *f, size_t len, enum rk_filter_reason *why)
{
	return run_vnet(f, len, NULL, why);
}

static void test_tcp_urgent_is_stripped(void **state)
{
	uint8_t f[256];
	enum rk_filter_reason why;
	size_t n = tcp4(f, "10.0.2.2", 0x18 | 0x20, 7, "urgent!");

	(void)state;
	assert_true(tcp4_checksum_ok(f, n - 34));
	assert_int_equal(run(f, n, &why), RK_FILTER_PASS);
	assert_int_equal(f[34 + 13], 0x18); /* URG gone, PSH|ACK kept */
	assert_int_equal(f[34 + 18], 0);
	assert_int_equal(f[34 + 19], 0);
	assert_true(tcp4_checksum_ok(f, n - 34)); /* still valid */
	/* an urgent pointer without the flag goes too */
	n = tcp4(f, "10.0.2.2", 0x10, 0x1234, "x");
	assert_int_equal(run(f, n, &why), RK_FILTER_PASS);
	assert_int_equal(f[34 + 18] | f[34 + 19], 0);
	assert_true(tcp4_checksum_ok(f, n - 34));
	/* a plain segment is untouched */
	n = tcp4(f, "10.0.2.2", 0x02, 0, "");
	{
		uint8_t copy[256];
		memcpy(copy, f, n);
		assert_int_equal(run(f, n, &why), RK_FILTER_PASS);
		assert_memory_equal(copy, f, n);
	}
}

static void test_ipv4_destinations(void **state)
{
	static const struct {
		const char *dst;
		enum rk_filter_verdict v;
		enum rk_filter_reason why;
	} cases[] = {
		{ "10.0.2.2", RK_FILTER_PASS, RK_FILTER_OK },
		{ "10.0.2.3", RK_FILTER_PASS, RK_FILTER_OK },
		{ "192.0.2.1", RK_FILTER_PASS, RK_FILTER_OK },
		{ "127.0.0.1", RK_FILTER_DROP, RK_FILTER_LOOPBACK },
		{ "127.255.0.9", RK_FILTER_DROP, RK_FILTER_LOOPBACK },
		{ "0.0.0.0", RK_FILTER_DROP, RK_FILTER_LOOPBACK },
		{ "0.1.2.3", RK_FILTER_DROP, RK_FILTER_LOOPBACK },
		{ "255.255.255.255", RK_FILTER_DROP, RK_FILTER_BROADCAST },
		{ "10.0.2.255", RK_FILTER_DROP, RK_FILTER_BROADCAST },
		{ "224.0.0.1", RK_FILTER_DROP, RK_FILTER_BROADCAST },
	};
	uint8_t f[256];
	enum rk_filter_reason why;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = tcp4(f, cases[i].dst, 0x02, 0, "");
		assert_int_equal(run(f, n, &why), cases[i].v);
		assert_int_equal(why, cases[i].why);
	}
}

static void test_malformed_and_sizes(void **state)
{
	uint8_t f[256];
	enum rk_filter_reason why;
	size_t n = tcp4(f, "10.0.2.2", 0x02, 0, "abc");

	(void)state;
	assert_int_equal(run(f, 13, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_SIZE);
	assert_int_equal(run(f, RK_FRAME_MAX + 1, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_SIZE);
	/* IPv4 total length beyond the frame */
	assert_int_equal(run(f, n - 1, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_MALFORMED);
	/* header length below 20 */
	f[14] = 0x44;
	assert_int_equal(run(f, n, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_MALFORMED);
	/* other ethertypes: NC-SI, VLAN */
	n = tcp4(f, "10.0.2.2", 0x02, 0, "");
	f[12] = 0x88;
	f[13] = 0xf8;
	assert_int_equal(run(f, n, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_ETHERTYPE);
	f[12] = 0x81;
	f[13] = 0x00;
	assert_int_equal(run(f, n, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_ETHERTYPE);
}

/* A fragment of the datagram in full[] (its IPv4 header first, 20 bytes): payload bytes
 * [from, from + len) at offset from/8, with a valid header checksum. */
static size_t make_frag(uint8_t *f, const uint8_t *full, size_t from, size_t len, bool more)
{
	uint8_t *ip = f + 14;
	uint16_t v = (uint16_t)(from / 8 | (more ? 0x2000 : 0)), s;

	memcpy(f, "\x52\x55\x0a\x00\x02\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	memcpy(ip, full, 20);
	memcpy(ip + 20, full + 20 + from, len);
	ip[2] = (uint8_t)((20 + len) >> 8);
	ip[3] = (uint8_t)(20 + len);
	ip[6] = (uint8_t)(v >> 8);
	ip[7] = (uint8_t)v;
	ip[10] = ip[11] = 0;
	s = (uint16_t)~sum16(ip, 20, 0);
	ip[10] = (uint8_t)(s >> 8);
	ip[11] = (uint8_t)s;
	return 14 + 20 + len;
}

static void test_fragments(void **state)
{
	uint8_t whole[256], f[256];
	enum rk_filter_reason why;
	/* a TCP segment with URG, 20 + 20 + 20 bytes, in three fragments of 24, 8 and 8 */
	size_t n = tcp4(whole, "10.0.2.2", 0x18 | 0x20, 5, "abcdefghijklmnopqrst") - 14;

	(void)state;
	memmove(whole, whole + 14, n);
	rk_filter_release(&cfg);
	assert_int_equal(run(f, make_frag(f, whole, 0, 24, true), &why), RK_FILTER_HELD);
	assert_int_equal(run(f, make_frag(f, whole, 24, 8, true), &why), RK_FILTER_HELD);
	assert_int_equal(run(f, make_frag(f, whole, 32, 8, false), &why), RK_FILTER_PASS);
	/* one packet: the first header with the whole length, no fragment bits, a valid
	 * checksum, the payload in order, and URG stripped from the whole TCP header */
	assert_ptr_equal(last.data, cfg.out);
	assert_int_equal(last.len, 14 + n);
	assert_int_equal(last.l4, 14 + 20);
	assert_int_equal(last.proto, 6);
	assert_int_equal(cfg.out[14 + 2] << 8 | cfg.out[14 + 3], n);
	assert_int_equal(cfg.out[14 + 6] & 0x3f, 0);
	assert_int_equal(cfg.out[14 + 7], 0);
	assert_int_equal(sum16(cfg.out + 14, 20, 0), 0xffff);
	assert_memory_equal(cfg.out + 14 + 40, "abcdefghijklmnopqrst", 20);
	assert_int_equal(cfg.out[14 + 20 + 13], 0x18);
	assert_int_equal(cfg.out[14 + 20 + 18] | cfg.out[14 + 20 + 19], 0);
	assert_true(tcp4_checksum_ok(cfg.out, n - 20));
	/* the datagram is done: a repeat of its last fragment is dropped */
	assert_int_equal(run(f, make_frag(f, whole, 32, 8, false), &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_FRAGMENT);

	/* the last fragment first: dropped */
	assert_int_equal(run(f, make_frag(f, whole, 24, 16, false), &why), RK_FILTER_DROP);
	/* overlap (0-24 then 16-40) and a gap (0-24 then 32-40): dropped, datagram forgotten */
	assert_int_equal(run(f, make_frag(f, whole, 0, 24, true), &why), RK_FILTER_HELD);
	assert_int_equal(run(f, make_frag(f, whole, 16, 24, false), &why), RK_FILTER_DROP);
	assert_int_equal(run(f, make_frag(f, whole, 24, 16, false), &why), RK_FILTER_DROP);
	assert_int_equal(run(f, make_frag(f, whole, 0, 24, true), &why), RK_FILTER_HELD);
	assert_int_equal(run(f, make_frag(f, whole, 32, 8, false), &why), RK_FILTER_DROP);
	/* a bad header checksum (which libslirp would drop, desynchronising a reassembly) */
	n = make_frag(f, whole, 0, 24, true);
	f[14 + 10] ^= 1;
	assert_int_equal(run(f, n, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_FRAGMENT);
	/* not a multiple of 8 before the last; past 64 KiB */
	assert_int_equal(run(f, make_frag(f, whole, 0, 20, true), &why), RK_FILTER_DROP);
	n = make_frag(f, whole, 0, 8, false);
	f[14 + 6] = 0x1f;
	f[14 + 7] = 0xfd;
	f[14 + 10] = f[14 + 11] = 0;
	{
		uint16_t s = (uint16_t)~sum16(f + 14, 20, 0);
		f[14 + 10] = (uint8_t)(s >> 8);
		f[14 + 11] = (uint8_t)s;
	}
	assert_int_equal(run(f, n, &why), RK_FILTER_DROP);
	/* more datagrams at once than the table holds: the oldest are forgotten, no harm */
	for (unsigned id = 0; id < 3 * RK_FILTER_FRAGS; id++) {
		whole[4] = (uint8_t)(id >> 8);
		whole[5] = (uint8_t)id;
		assert_int_equal(run(f, make_frag(f, whole, 0, 24, true), &why), RK_FILTER_HELD);
	}
	assert_int_equal(run(f, make_frag(f, whole, 24, 16, false), &why), RK_FILTER_PASS);
	assert_ptr_equal(last.data, cfg.out);
	whole[5] = 0; /* long evicted */
	assert_int_equal(run(f, make_frag(f, whole, 24, 16, false), &why), RK_FILTER_DROP);
}

static size_t tcp6(uint8_t *f, const char *dst, uint8_t flags)
{
	uint8_t *ip = f + 14, *tcp = ip + 40;

	memset(f, 0, 14 + 60);
	memcpy(f + 12, "\x86\xdd", 2);
	ip[0] = 0x60;
	ip[5] = 20;
	ip[6] = 6;
	ip[7] = 64;
	inet_pton(AF_INET6, "fd00::100", ip + 8);
	inet_pton(AF_INET6, dst, ip + 24);
	tcp[12] = 0x50;
	tcp[13] = flags;
	tcp[18] = 0;
	tcp[19] = 9;
	return 14 + 60;
}

static void test_ipv6(void **state)
{
	uint8_t f[256];
	enum rk_filter_reason why;
	static const char *const dropped[] = { "::1", "::", "::ffff:127.0.0.1", "::ffff:0.0.0.0" };
	size_t n;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		n = tcp6(f, dropped[i], 0x02);
		assert_int_equal(run(f, n, &why), RK_FILTER_DROP);
		assert_int_equal(why, RK_FILTER_LOOPBACK);
	}
	n = tcp6(f, "fd00::2", 0x20 | 0x10);
	assert_int_equal(run(f, n, &why), RK_FILTER_PASS);
	assert_int_equal(f[14 + 40 + 13], 0x10);
	assert_int_equal(f[14 + 40 + 19], 0);
	/* neighbour discovery to a multicast address passes */
	n = tcp6(f, "ff02::1:ff00:2", 0x02);
	f[14 + 6] = 58;
	assert_int_equal(run(f, n, &why), RK_FILTER_PASS);
	/* fragments never pass (libslirp does not reassemble IPv6) */
	n = tcp6(f, "fd00::2", 0x02);
	f[14 + 6] = 44;
	assert_int_equal(run(f, n, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_FRAGMENT);
	/* a payload length beyond the frame */
	n = tcp6(f, "fd00::2", 0x02);
	assert_int_equal(run(f, n - 1, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_MALFORMED);
}

static size_t arp_request(uint8_t *f, const char *target)
{
	memset(f, 0, 42);
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(f + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10);
	memcpy(f + 22, "\x02\x00\x00\x00\x00\x01", 6);
	inet_pton(AF_INET, "10.0.2.100", f + 28);
	inet_pton(AF_INET, target, f + 38);
	return 42;
}

static void test_proxy_arp(void **state)
{
	uint8_t f[64], *reply = last.reply;
	size_t n;
	enum rk_filter_reason why;

	(void)state;
	n = arp_request(f, "10.0.2.77");
	assert_int_equal(run(f, n, &why), RK_FILTER_REPLY);
	size_t rlen = last.reply_len;
	assert_int_equal(rlen, 42);
	assert_memory_equal(reply, "\x02\x00\x00\x00\x00\x01", 6);     /* to the asker */
	assert_memory_equal(reply + 6, "\x52\x55\x0a\x00\x02\x4d", 6); /* 52:55 + 10.0.2.77 */
	assert_memory_equal(reply + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x02", 10);
	assert_memory_equal(reply + 22, "\x52\x55\x0a\x00\x02\x4d", 6);
	assert_memory_equal(reply + 28, f + 38, 4);
	assert_memory_equal(reply + 32, "\x02\x00\x00\x00\x00\x01", 6);
	assert_memory_equal(reply + 38, f + 28, 4);
	/* libslirp's own addresses, the child's, outside the subnet, network and broadcast:
	 * left to libslirp */
	static const char *const passed[] = { "10.0.2.2",    "10.0.2.3", "10.0.2.100",
					      "192.168.1.1", "10.0.2.0", "10.0.2.255" };
	for (size_t i = 0; i < 6; i++) {
		n = arp_request(f, passed[i]);
		assert_int_equal(run(f, n, &why), RK_FILTER_PASS);
		assert_int_equal(last.reply_len, 0);
	}
	/* a reply is not answered */
	n = arp_request(f, "10.0.2.77");
	f[21] = 2;
	assert_int_equal(run(f, n, &why), RK_FILTER_PASS);
}

/* A partial checksum as the child's kernel leaves it: the pseudo-header's sum, folded,
 * not inverted, in the field at tcp + 16. */
static void make_partial(uint8_t *f, size_t tcp_len)
{
	const uint8_t *ip = f + 14;
	uint32_t pseudo = (uint32_t)sum16(ip + 12, 8, 0) + 6 + (uint32_t)tcp_len;

	f[34 + 16] = 0;
	f[34 + 17] = 0;
	uint16_t s = sum16(NULL, 0, pseudo);
	f[34 + 16] = (uint8_t)(s >> 8);
	f[34 + 17] = (uint8_t)s;
}

static void test_vnet_header_checks(void **state)
{
	uint8_t f[256], copy[256];
	enum rk_filter_reason why;
	size_t n = tcp4(f, "10.0.2.2", 0x18 | 0x20, 3, "urgent, partial");
	struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				     .csum_start = 34,
				     .csum_offset = 16 };

	(void)state;
	/* for libslirp: URG stripped, then the checksum completed over the final bytes */
	make_partial(f, n - 34);
	assert_int_equal(run_vnet(f, n, &vh, &why), RK_FILTER_PASS);
	assert_int_equal(last.route, RK_ROUTE_SLIRP);
	assert_int_equal(f[34 + 13], 0x18);
	assert_int_equal(f[34 + 18] | f[34 + 19], 0);
	assert_true(tcp4_checksum_ok(f, n - 34));
	/* for the TCP translation: left partial (nobody there reads it), URG still stripped */
	cfg.tcp_translated = true;
	n = tcp4(f, "10.0.2.2", 0x18 | 0x20, 3, "urgent, partial");
	make_partial(f, n - 34);
	memcpy(copy, f, n);
	assert_int_equal(run_vnet(f, n, &vh, &why), RK_FILTER_PASS);
	assert_int_equal(last.route, RK_ROUTE_TCP);
	assert_int_equal(last.l4, 34);
	assert_memory_equal(f + 34 + 16, copy + 34 + 16, 2);
	assert_int_equal(f[34 + 13], 0x18);
	cfg.tcp_translated = false;
	/* segmentation: TSO over IPv4 with the headers' length, ECN or not */
	n = tcp4(f, "10.0.2.2", 0x10, 0, "segment me");
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.gso_size = 1448;
	vh.hdr_len = 54;
	assert_int_equal(run_vnet(f, n, &vh, &why), RK_FILTER_PASS);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(run_vnet(f, n, &vh, &why), RK_FILTER_PASS);

	/* and every header that does not match the frame: dropped, nothing changed */
	static const struct {
		uint8_t flags, gso_type;
		uint16_t hdr_len, gso_size, csum_start, csum_offset;
	} bad[] = {
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 33, 16 },     /* start before TCP */
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34 + 4, 12 }, /* same field, other start */
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 14 + 16, 0 }, /* the destination */
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 14, 8 },      /* the protocol byte */
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 14, 6 },      /* the fragment word */
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 12 },     /* the TCP flags */
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 18 },     /* the urgent pointer */
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 6 },      /* UDP's offset on TCP */
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 0xfff0 }, /* out of the frame */
		{ 0x04, 0, 0, 0, 0, 0 },			      /* an unknown flag */
		{ 0, 0, 0, 1448, 0, 0 },			      /* a size, no segmentation */
		{ 0, 0, 0xffff, 0, 0, 0 },			      /* hdr_len beyond the frame */
		{ 0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 0, 0 },	      /* ECN alone */
		{ 0, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 0, 0 },      /* TSO, no partial sum */
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 0, 34,
		  16 }, /* size 0 */
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 54, 1448, 34, 16 },
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP, 42, 1448, 34, 16 },
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 5 /* UDP_L4 */, 42, 1448, 34, 16 },
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 53, 1448, 34, 16 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct virtio_net_hdr b = { .flags = bad[i].flags,
					    .gso_type = bad[i].gso_type,
					    .hdr_len = bad[i].hdr_len,
					    .gso_size = bad[i].gso_size,
					    .csum_start = bad[i].csum_start,
					    .csum_offset = bad[i].csum_offset };
		n = tcp4(f, "10.0.2.2", 0x10 | 0x20, 9, "payload");
		memcpy(copy, f, n);
		assert_int_equal(run_vnet(f, n, &b, &why), RK_FILTER_DROP);
		assert_int_equal(why, RK_FILTER_VNET);
		assert_memory_equal(f, copy, n);
	}
	/* no checksum to complete on ARP, ICMP or a fragment */
	n = arp_request(f, "10.0.2.77");
	vh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 14 };
	assert_int_equal(run_vnet(f, n, &vh, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_VNET);
	n = tcp4(f, "10.0.2.2", 0x10, 0, "ping");
	f[14 + 9] = 1;
	vh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				      .csum_start = 34,
				      .csum_offset = 2 };
	assert_int_equal(run_vnet(f, n, &vh, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_VNET);
	n = tcp4(f, "10.0.2.2", 0x10, 0, "fragment");
	f[14 + 6] = 0x20; /* MF */
	vh.csum_offset = 16;
	assert_int_equal(run_vnet(f, n, &vh, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_VNET);
	/* TSO over IPv6 needs GSO_TCPV6 */
	n = tcp6(f, "fd00::2", 0x10);
	vh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				      .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				      .gso_size = 1428,
				      .hdr_len = 74,
				      .csum_start = 54,
				      .csum_offset = 16 };
	assert_int_equal(run_vnet(f, n, &vh, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_VNET);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	assert_int_equal(run_vnet(f, n, &vh, &why), RK_FILTER_PASS);
	assert_true(last.v6);
	assert_int_equal(last.l4, 54);
}

/* UDP to the DNS address and port 53 goes to the forwarder, other UDP to the UDP
 * translation, TCP to libslirp unless the TCP translation runs, the rest to libslirp. */
static void test_routes(void **state)
{
	uint8_t f[256];
	enum rk_filter_reason why;
	size_t n = tcp4(f, "10.0.2.3", 0x02, 0, "");

	(void)state;
	f[14 + 9] = 17;
	f[34 + 2] = 0;
	f[34 + 3] = 53;
	f[34 + 4] = 0;
	f[34 + 5] = 20; /* a UDP length that fits */
	assert_int_equal(run(f, n, &why), RK_FILTER_PASS);
	assert_int_equal(last.route, RK_ROUTE_DNS);
	f[34 + 3] = 54;
	assert_int_equal(run(f, n, &why), RK_FILTER_PASS);
	assert_int_equal(last.route, RK_ROUTE_UDP);
	/* the view the later stages use: the addresses and ports, where they are */
	assert_ptr_equal(last.src, last.data + 14 + 12);
	assert_ptr_equal(last.dst, last.data + 14 + 16);
	assert_int_equal(ntohs(last.dport), 54);
	assert_memory_equal(&last.sport, f + 34, 2);
	f[14 + 9] = 1; /* ICMP: libslirp's */
	assert_int_equal(run(f, n, &why), RK_FILTER_PASS);
	assert_int_equal(last.route, RK_ROUTE_SLIRP);
	f[14 + 9] = 17;
	f[34 + 3] = 53;
	f[34 + 5] = 21; /* beyond the packet */
	assert_int_equal(run(f, n, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_MALFORMED);
	/* a TCP header length beyond the segment */
	n = tcp4(f, "10.0.2.2", 0x02, 0, "");
	f[34 + 12] = 0x60;
	assert_int_equal(run(f, n, &why), RK_FILTER_DROP);
	assert_int_equal(why, RK_FILTER_MALFORMED);
	/* Ethernet padding is not part of the packet */
	n = tcp4(f, "10.0.2.2", 0x02, 0, "");
	assert_int_equal(run(f, n + 6, &why), RK_FILTER_PASS);
	assert_int_equal(last.len, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_urgent_is_stripped),
		cmocka_unit_test(test_ipv4_destinations),
		cmocka_unit_test(test_malformed_and_sizes),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_proxy_arp),
		cmocka_unit_test(test_vnet_header_checks),
		cmocka_unit_test(test_routes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
