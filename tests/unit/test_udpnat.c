/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's UDP translation (netstack/udpnat.c), with the engine on a frame socket and
 * the test playing the child with hand-written frames: a datagram from the child reaches a
 * host socket of the test's on 127.0.0.1 or ::1 (through the gateway), and the answer
 * comes back to the child's source from the gateway; an answer larger than the MTU comes
 * as IPv4 fragments, or IPv6 ones behind a fragment header, which put together give the
 * datagram with a valid checksum; one that fits carries a partial checksum behind a
 * virtio-net header. The host sockets are the test's own, on loopback only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include "tests/unit/frames.h"

#define MTU 1500

struct fixture {
	struct rk_engine *e;
	int child;
	bool vnet;
};

static void start(struct fixture *f, bool vnet)
{
	struct rk_engine_config cfg = { .vnet = { .mtu = MTU, .ipv6 = true }, .vnet_hdr = vnet };

	net_config(&cfg);
	f->e = engine_on_socketpair(&cfg, &f->child);
	assert_non_null(f->e);
	f->vnet = vnet;
}

static void stop(struct fixture *f)
{
	rk_engine_free(f->e);
	close(f->child);
}

/* A UDP datagram from the child's 10.0.2.100:40000 (fd00::100 for IPv6) to dst:port. */
static void child_send(struct fixture *f, bool v6, const char *dst, uint16_t port, const void *data,
		       size_t len)
{
	uint8_t fr[sizeof(struct virtio_net_hdr) + 256], *p = fr + (f->vnet ? 10 : 0), *udp;
	size_t n;

	assert_true(len <= 128);
	memset(fr, 0, sizeof(fr));
	n = v6 ? ip6_frame(p, dst, 17, 8 + len) : ip4_frame(p, dst, 17, 8 + len);
	udp = p + ETH + (v6 ? 40 : 20);
	put16(udp, 40000);
	put16(udp + 2, port);
	put16(udp + 4, (uint16_t)(8 + len));
	memcpy(udp + 8, data, len);
	rk_engine_input(f->e, fr, (size_t)(p - fr) + n);
}

/* Receives the child's datagram at the host socket and answers it with len bytes. */
static void host_answer(struct fixture *f, int fd, const uint8_t *answer, size_t len)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t buf[256];

	for (int i = 0; i < 100 && poll(&p, 1, 10) == 0; i++)
		rk_engine_step(f->e, 0);
	assert_int_equal(recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(sendto(fd, answer, len, 0, (struct sockaddr *)&from, flen), (ssize_t)len);
}

/* The frames the engine writes to the child for the answer, put back together into
 * dgram (the UDP header and payload); returns its length. Checks every frame on the way:
 * Ethernet addresses, the gateway as source, sizes within the MTU, fragment fields. */
static size_t child_receive(struct fixture *f, bool v6, uint8_t *dgram, size_t cap, int *ret_frames,
			    bool *ret_partial)
{
	uint8_t fr[sizeof(struct virtio_net_hdr) + 2048], gw[16];
	size_t total = 0, got = 0;
	bool last = false;

	*ret_frames = 0;
	*ret_partial = false;
	inet_pton(v6 ? AF_INET6 : AF_INET, v6 ? "fd00::2" : "10.0.2.2", gw);
	for (int i = 0; i < 200 && !(last && got == total); i++) {
		ssize_t n = read(f->child, fr, sizeof(fr));
		uint8_t *p = fr + (f->vnet ? 10 : 0), *ip = p + ETH, *pl;
		size_t plen, off;
		bool more;
		if (n < 0) {
			rk_engine_step(f->e, 10);
			continue;
		}
		if (get16(p + 12) == 0x0806)
			continue;
		if (f->vnet) {
			struct virtio_net_hdr vh;
			memcpy(&vh, fr, sizeof(vh));
			*ret_partial |= (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
			assert_int_equal(vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		}
		n -= f->vnet ? 10 : 0;
		assert_true((size_t)n <= ETH + MTU);
		assert_memory_equal(p, child_mac, 6);
		assert_memory_equal(p + 6, gw_mac, 6);
		(*ret_frames)++;
		if (v6) {
			assert_int_equal(get16(p + 12), 0x86dd);
			assert_memory_equal(ip + 8, gw, 16);
			plen = get16(ip + 4);
			if (ip[6] == 44) { /* a fragment header */
				pl = ip + 48;
				off = get16(ip + 42) & ~7u;
				more = ip[43] & 1;
				assert_int_equal(ip[40], 17);
				plen -= 8;
			} else {
				assert_int_equal(ip[6], 17);
				pl = ip + 40;
				off = 0;
				more = false;
			}
		} else {
			assert_int_equal(get16(p + 12), 0x0800);
			assert_memory_equal(ip + 12, gw, 4);
			assert_int_equal(sum16(ip, 20, 0), 0xffff);
			plen = get16(ip + 2) - 20u;
			pl = ip + 20;
			off = (get16(ip + 6) & 0x1fff) * 8u;
			more = get16(ip + 6) & 0x2000;
		}
		assert_true(off + plen <= cap);
		memcpy(dgram + off, pl, plen);
		got += plen;
		if (!more) {
			last = true;
			total = off + plen;
		}
	}
	assert_true(last);
	assert_int_equal(got, total);
	return total;
}

/* The datagram's checksum over its pseudo-header verifies; ports and length as sent. */
static void assert_datagram(bool v6, const uint8_t *dgram, size_t len, const uint8_t *answer,
			    size_t alen, uint16_t from_port, bool partial)
{
	uint8_t gw[16], child[16];
	size_t a = v6 ? 16 : 4;
	uint32_t pseudo;

	inet_pton(v6 ? AF_INET6 : AF_INET, v6 ? "fd00::2" : "10.0.2.2", gw);
	inet_pton(v6 ? AF_INET6 : AF_INET, v6 ? "fd00::100" : "10.0.2.100", child);
	assert_int_equal(len, 8 + alen);
	assert_int_equal(get16(dgram), from_port);
	assert_int_equal(get16(dgram + 2), 40000);
	assert_int_equal(get16(dgram + 4), 8 + alen);
	assert_memory_equal(dgram + 8, answer, alen);
	pseudo = sum16(gw, a, 0) + (uint32_t)sum16(child, a, 0) + 17 + (uint32_t)len;
	if (partial) /* the field holds the pseudo-header's sum, folded, not inverted */
		assert_int_equal(get16(dgram + 6), sum16(NULL, 0, pseudo));
	else
		assert_int_equal(sum16(dgram, len, pseudo), 0xffff);
}

static void round_trip(bool v6, bool vnet, size_t alen, int want_frames)
{
	struct fixture f;
	uint8_t answer[4000], dgram[4100];
	uint16_t port;
	int fd = host_socket(SOCK_DGRAM, v6 ? "::1" : "127.0.0.1", &port), frames;
	bool partial;
	size_t n;

	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(answer); i++)
		answer[i] = (uint8_t)(i * 7 + 3);
	start(&f, vnet);
	child_send(&f, v6, v6 ? "fd00::2" : "10.0.2.2", port, "ping", 4);
	host_answer(&f, fd, answer, alen);
	n = child_receive(&f, v6, dgram, sizeof(dgram), &frames, &partial);
	assert_int_equal(frames, want_frames);
	assert_datagram(v6, dgram, n, answer, alen, port, partial);
	assert_int_equal(partial, vnet && want_frames == 1);
	stop(&f);
	close(fd);
}

static void test_v4_small(void **state)
{
	(void)state;
	round_trip(false, false, 100, 1);
	round_trip(false, true, 100, 1);
}

/* 4000 bytes at MTU 1500: 1480 bytes of IP payload per fragment, three in all */
static void test_v4_fragments(void **state)
{
	(void)state;
	round_trip(false, false, 4000, 3);
	round_trip(false, true, 4000, 3);
}

static void test_v6_small(void **state)
{
	(void)state;
	round_trip(true, false, 100, 1);
	round_trip(true, true, 100, 1);
}

/* 1448 bytes per IPv6 fragment: 4008 of UDP in three */
static void test_v6_fragments(void **state)
{
	(void)state;
	round_trip(true, false, 4000, 3);
	round_trip(true, true, 4000, 3);
}

/* Exactly the MTU: one frame; one byte more: two. */
static void test_mtu_edges(void **state)
{
	(void)state;
	round_trip(false, false, MTU - 28, 1);
	round_trip(false, false, MTU - 27, 2);
	round_trip(true, false, MTU - 48, 1);
	round_trip(true, false, MTU - 47, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_small),  cmocka_unit_test(test_v4_fragments),
		cmocka_unit_test(test_v6_small),  cmocka_unit_test(test_v6_fragments),
		cmocka_unit_test(test_mtu_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
