/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Frames behind virtio-net headers that a hostile child chooses: the engine must act on the
 * bytes its filter judged. A child's packet socket (PACKET_VNET_HDR) sets csum_start and
 * csum_offset to anything; an engine that completes that "checksum" after the filter lets
 * the child write two bytes of its choice anywhere in an approved frame. Each test forges
 * such a frame (the payload chosen so that the sum is the bytes wanted) for one target:
 * the IPv4 and IPv6 destination, the protocol byte, the fragment word, the TCP flags and
 * the urgent pointer. Each must be dropped and counted, and nothing may reach the host
 * socket it aims at; positive controls show that a well-formed partial checksum is
 * completed and delivered, so the listeners would have seen a leak.
 *
 * The crafted frames' addresses would leak if the engine were wrong, so the test runs in
 * a network namespace of its own with only lo (main() makes it). Every wait is bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include "tests/unit/frames.h"

#define MTU 1500

struct fixture {
	struct rk_engine *e;
	int child; /* the child's end of the frame socket */
	int host;  /* the host socket the frame aims at */
	uint16_t port;
};

static void start(struct fixture *f, bool no_loopback, bool libslirp_tcp, int type,
		  const char *addr)
{
	struct rk_engine_config cfg = {
		.vnet = { .mtu = MTU, .ipv6 = true, .disable_host_loopback = no_loopback },
		.vnet_hdr = true,
		.libslirp_tcp = libslirp_tcp
	};

	net_config(&cfg);
	f->e = engine_on_socketpair(&cfg, &f->child);
	assert_non_null(f->e);
	f->host = host_socket(type, addr, &f->port);
	assert_true(f->host >= 0);
}

/* Whether the host socket got a datagram or a connection within ms, the engine running. */
static bool host_reached(struct fixture *f, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		struct pollfd p = { .fd = f->host, .events = POLLIN };
		uint8_t junk[2048];
		rk_engine_step(f->e, 0);
		while (read(f->child, junk, sizeof(junk)) > 0)
			; /* what the engine answers the child */
		if (poll(&p, 1, 10) == 1)
			return true;
	}
	return false;
}

static uint64_t drops(struct fixture *f, enum rk_filter_reason *ret_vnet)
{
	struct rk_engine_stats st;
	uint64_t n = 0;

	rk_engine_stats(f->e, &st);
	for (size_t i = 0; i < RK_FILTER_REASONS; i++)
		n += st.dropped[i];
	*ret_vnet = st.dropped[RK_FILTER_VNET] == n ? RK_FILTER_VNET : RK_FILTER_OK;
	return n;
}

static void stop(struct fixture *f)
{
	rk_engine_free(f->e);
	close(f->child);
	close(f->host);
}

/* The frame (len bytes) behind a virtio-net header, to the engine as its tap gives it. */
static void send_vnet(struct fixture *f, const uint8_t *frame, size_t len, uint16_t csum_start,
		      uint16_t csum_offset)
{
	uint8_t buf[sizeof(struct virtio_net_hdr) + 2048];
	struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				     .csum_start = csum_start,
				     .csum_offset = csum_offset };

	assert_true(len <= 2048);
	memcpy(buf, &vh, sizeof(vh));
	memcpy(buf + sizeof(vh), frame, len);
	rk_engine_input(f->e, buf, sizeof(vh) + len);
}

static void ip4_fix(uint8_t *fr)
{
	put16(fr + ETH + 10, 0);
	put16(fr + ETH + 10, (uint16_t)~sum16(fr + ETH, 20, 0));
}

/* A whole transport checksum at l4 + at (TCP 16, UDP 6), over what follows l4. */
static void l4_fix(uint8_t *fr, size_t len, size_t l4, size_t at)
{
	put16(fr + l4 + at, 0);
	put16(fr + l4 + at, (uint16_t)~sum16(fr + l4, len - l4, pseudo_sum(fr, len, l4)));
}

/* What a final frame needs: its IPv4 header checksum, and its transport checksum (TCP,
 * or UDP over IPv6) when l4_at is not 0. */
struct fix {
	size_t l4, l4_at;
};

static void apply_fix(uint8_t *fr, size_t len, const struct fix *fx)
{
	if ((fr[ETH] >> 4) == 4)
		ip4_fix(fr);
	if (fx->l4_at)
		l4_fix(fr, len, fx->l4, fx->l4_at);
}

/* Forges fr: with a "checksum" completed over [at, len) and written at at (csum_start at,
 * csum_offset 0), the two bytes there become want, and the final frame is one that the
 * host side accepts (its checksums right). The word at free_at is searched for that; the
 * bytes at at before the write are what the filter sees. */
static void forge(uint8_t *fr, size_t len, size_t at, uint16_t want, size_t free_at,
		  const struct fix *fx)
{
	for (uint32_t w = 2; w < 0x10000; w++) {
		uint16_t before;
		put16(fr + free_at, (uint16_t)w);
		before = get16(fr + at);
		put16(fr + at, want);
		apply_fix(fr, len, fx);
		put16(fr + at, before);
		uint16_t written = (uint16_t)~sum16(fr + at, len - at, 0);
		if (written == want)
			return;
	}
	fail_msg("no word makes the sum");
}

/* Whether a test runs with the TCP translation off (libslirp carries TCP, as on kernels
 * before 6.9): its prestate. */
static bool slirp_tcp(void **state)
{
	return *state && *(const bool *)*state;
}

/* The attack, then the verdict: dropped as a bad virtio-net header, nothing at the host. */
static void assert_refused(struct fixture *f)
{
	enum rk_filter_reason only;

	assert_false(host_reached(f, 300));
	assert_int_equal(drops(f, &only), 1);
	assert_int_equal(only, RK_FILTER_VNET);
}

/* 10.0.0.1 as the filter sees it, 127.0.0.1 once the "checksum" is written: UDP to a
 * listener on the host's 127.0.0.1, with --disable-host-loopback. */
static void test_rewrite_ipv4_destination(void **state)
{
	struct fixture f;
	uint8_t fr[256];
	size_t n = ip4_frame(fr, "10.0.0.1", 17, 8 + 16), l4 = ETH + 20;
	struct fix fx = { .l4 = l4 };

	start(&f, true, slirp_tcp(state), SOCK_DGRAM, "127.0.0.1");
	put16(fr + l4, 40000);
	put16(fr + l4 + 2, f.port);
	put16(fr + l4 + 4, 8 + 16);
	memcpy(fr + l4 + 8, "leaked to lo....", 16);
	forge(fr, n, ETH + 16, 0x7f00, n - 2, &fx); /* UDP checksum 0: none */
	send_vnet(&f, fr, n, ETH + 16, 0);
	assert_refused(&f);
	stop(&f);
}

/* ::2 as the filter sees it, ::1 after the write: UDP to a listener on the host's ::1. */
static void test_rewrite_ipv6_destination(void **state)
{
	struct fixture f;
	uint8_t fr[256];
	size_t n = ip6_frame(fr, "::2", 17, 8 + 16), l4 = ETH + 40;
	struct fix fx = { .l4 = l4, .l4_at = 6 };

	start(&f, true, slirp_tcp(state), SOCK_DGRAM, "::1");
	put16(fr + l4, 40000);
	put16(fr + l4 + 2, f.port);
	put16(fr + l4 + 4, 8 + 16);
	memcpy(fr + l4 + 8, "leaked to ::1...", 16);
	/* the checksum of the final datagram fixes the sum: the word written is searched */
	forge(fr, n, ETH + 24 + 14, 0x0001, ETH + 24 + 14, &fx);
	send_vnet(&f, fr, n, ETH + 24 + 14, 0);
	assert_refused(&f);
	stop(&f);
}

/* A TCP SYN to 10.0.2.2 carried as "UDP" (protocol 17 rewritten to 6, with the TTL):
 * past the TCP translation and the urgent-data stripping, into libslirp's TCP, which
 * connects to the host's 127.0.0.1. */
static void test_rewrite_protocol(void **state)
{
	struct fixture f;
	uint8_t fr[256];
	size_t n = ip4_frame(fr, "10.0.2.2", 17, 20), l4 = ETH + 20;
	struct fix fx = { .l4 = l4, .l4_at = 16 };

	start(&f, false, slirp_tcp(state), SOCK_STREAM, "127.0.0.1");
	put16(fr + l4, 40000);
	put16(fr + l4 + 2, f.port);
	put16(fr + l4 + 4, 20); /* the sequence number's high word: a UDP length that fits */
	fr[l4 + 12] = 0x50;
	fr[l4 + 13] = 0x22; /* SYN, and URG with a pointer, which the filter never saw */
	put16(fr + l4 + 14, 65535);
	put16(fr + l4 + 18, 1);
	forge(fr, n, ETH + 8, 0x4006, ETH + 4, &fx); /* the IP id is free */
	send_vnet(&f, fr, n, ETH + 8, 0);
	assert_refused(&f);
	stop(&f);
}

/* Two datagrams the filter sees whole, turned into the two fragments of one (MF set on
 * the first, an offset written into the second): libslirp's reassembly, which the
 * filter keeps fragments away from, delivers it to the host's 127.0.0.1. */
static void test_rewrite_fragment_word(void **state)
{
	struct fixture f;
	uint8_t fr[256];
	size_t n, l4 = ETH + 20;
	struct fix fx = { .l4 = l4 };
	enum rk_filter_reason only;

	start(&f, false, slirp_tcp(state), SOCK_DGRAM, "127.0.0.1");
	n = ip4_frame(fr, "10.0.2.2", 17, 8 + 16);
	put16(fr + l4, 40000);
	put16(fr + l4 + 2, f.port);
	put16(fr + l4 + 4, 8 + 16 + 16); /* the whole datagram's */
	memcpy(fr + l4 + 8, "first fragment..", 16);
	forge(fr, n, ETH + 6, 0x2000, n - 2, &fx);
	send_vnet(&f, fr, n, ETH + 6, 0);
	n = ip4_frame(fr, "10.0.2.2", 17, 16);
	memcpy(fr + l4, "second fragment.", 16);
	forge(fr, n, ETH + 6, 24 / 8, n - 2, &fx);
	send_vnet(&f, fr, n, ETH + 6, 0);
	assert_false(host_reached(&f, 300));
	assert_int_equal(drops(&f, &only), 2);
	assert_int_equal(only, RK_FILTER_VNET);
	stop(&f);
}

/* A TCP segment of no connection (ACK only, which the translation does not open) whose
 * flags become SYN: a connection the filter never saw opened. */
static void test_rewrite_tcp_flags(void **state)
{
	struct fixture f;
	uint8_t fr[256];
	size_t n = ip4_frame(fr, "10.0.2.2", 6, 20), l4 = ETH + 20;
	struct fix fx = { .l4 = l4, .l4_at = 16 };

	start(&f, false, slirp_tcp(state), SOCK_STREAM, "127.0.0.1");
	put16(fr + l4, 40000);
	put16(fr + l4 + 2, f.port);
	fr[l4 + 7] = 1;
	put16(fr + l4 + 12, 0x5010); /* ACK */
	put16(fr + l4 + 14, 65535);
	forge(fr, n, l4 + 12, 0x5002, l4 + 10, &fx); /* the ACK number is free */
	send_vnet(&f, fr, n, l4 + 12, 0);
	assert_refused(&f);
	stop(&f);
}

/* An urgent pointer written after the filter cleared it, on a segment for libslirp's
 * TCP (its urgent-data handling is what the filter keeps it out of). */
static void test_rewrite_urgent_pointer(void **state)
{
	struct fixture f;
	uint8_t fr[256];
	size_t n = ip4_frame(fr, "10.0.2.2", 6, 20 + 4), l4 = ETH + 20;
	struct fix fx = { .l4 = l4, .l4_at = 16 };
	enum rk_filter_reason only;

	start(&f, false, slirp_tcp(state), SOCK_STREAM, "127.0.0.1");
	put16(fr + l4, 40000);
	put16(fr + l4 + 2, f.port);
	fr[l4 + 7] = 1;
	put16(fr + l4 + 12, 0x5018);
	put16(fr + l4 + 14, 65535);
	forge(fr, n, l4 + 18, 0x0004, n - 2, &fx); /* a data word is free */
	send_vnet(&f, fr, n, l4 + 18, 0);
	host_reached(&f, 100);
	assert_int_equal(drops(&f, &only), 1);
	assert_int_equal(only, RK_FILTER_VNET);
	stop(&f);
}

/* The controls: a partial checksum where the kernel puts it (csum_start at the UDP or
 * TCP header, offset 6 or 16, the pseudo-header's sum in the field) is completed and the
 * datagram or connection reaches the host, over IPv4 and IPv6. */
static void test_partial_checksum_delivered(void **state)
{
	struct fixture f;
	uint8_t fr[256], got[64];
	size_t n = ip4_frame(fr, "10.0.2.2", 17, 8 + 16), l4 = ETH + 20;
	enum rk_filter_reason only;

	(void)state;
	start(&f, false, false, SOCK_DGRAM, "127.0.0.1");
	put16(fr + l4, 40000);
	put16(fr + l4 + 2, f.port);
	put16(fr + l4 + 4, 8 + 16);
	memcpy(fr + l4 + 8, "partial checksum", 16);
	ip4_fix(fr);
	put16(fr + l4 + 6, sum16(NULL, 0, pseudo_sum(fr, n, l4)));
	send_vnet(&f, fr, n, (uint16_t)l4, 6);
	assert_true(host_reached(&f, 2000));
	assert_int_equal(recv(f.host, got, sizeof(got), 0), 16);
	assert_memory_equal(got, "partial checksum", 16);
	assert_int_equal(drops(&f, &only), 0);
	stop(&f);

	/* IPv6, to fd00::2 (the host's ::1) */
	start(&f, false, false, SOCK_DGRAM, "::1");
	n = ip6_frame(fr, "fd00::2", 17, 8 + 16);
	l4 = ETH + 40;
	put16(fr + l4, 40000);
	put16(fr + l4 + 2, f.port);
	put16(fr + l4 + 4, 8 + 16);
	memcpy(fr + l4 + 8, "partial over v6.", 16);
	put16(fr + l4 + 6, sum16(NULL, 0, pseudo_sum(fr, n, l4)));
	send_vnet(&f, fr, n, (uint16_t)l4, 6);
	assert_true(host_reached(&f, 2000));
	assert_int_equal(recv(f.host, got, sizeof(got), 0), 16);
	assert_memory_equal(got, "partial over v6.", 16);
	stop(&f);

	/* a SYN into libslirp's TCP, which checks the completed checksum */
	start(&f, false, true, SOCK_STREAM, "127.0.0.1");
	n = ip4_frame(fr, "10.0.2.2", 6, 20);
	l4 = ETH + 20;
	put16(fr + l4, 40000);
	put16(fr + l4 + 2, f.port);
	fr[l4 + 7] = 1;
	put16(fr + l4 + 12, 0x5002);
	put16(fr + l4 + 14, 65535);
	ip4_fix(fr);
	put16(fr + l4 + 16, sum16(NULL, 0, pseudo_sum(fr, n, l4)));
	send_vnet(&f, fr, n, (uint16_t)l4, 16);
	assert_true(host_reached(&f, 2000));
	stop(&f);
}

/* Only lo, in a network namespace of the test's own (a user namespace too when not root). */
static int private_net(void)
{
	struct ifreq ifr = { 0 };
	int fd;

	if (unshare(CLONE_NEWNET) < 0) {
		uid_t uid = getuid();
		gid_t gid = getgid();
		char map[64];
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
			return -errno;
		fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			(void)!write(fd, "deny", 4);
			close(fd);
		}
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, map, strlen(map)) < 0)
			return -errno;
		close(fd);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		fd = open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, map, strlen(map)) < 0)
			return -errno;
		close(fd);
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	ifr.ifr_flags = IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

int main(void)
{
	static bool on = true; /* each rewrite again with libslirp's TCP */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partial_checksum_delivered),
		cmocka_unit_test(test_rewrite_ipv4_destination),
		cmocka_unit_test(test_rewrite_ipv6_destination),
		cmocka_unit_test(test_rewrite_protocol),
		cmocka_unit_test(test_rewrite_fragment_word),
		cmocka_unit_test(test_rewrite_tcp_flags),
		cmocka_unit_test(test_rewrite_urgent_pointer),
		cmocka_unit_test_prestate(test_rewrite_ipv4_destination, &on),
		cmocka_unit_test_prestate(test_rewrite_ipv6_destination, &on),
		cmocka_unit_test_prestate(test_rewrite_protocol, &on),
		cmocka_unit_test_prestate(test_rewrite_fragment_word, &on),
		cmocka_unit_test_prestate(test_rewrite_tcp_flags, &on),
		cmocka_unit_test_prestate(test_rewrite_urgent_pointer, &on),
	};
	int r = private_net();

	if (r < 0) {
		fprintf(stderr, "test_vnet: no network namespace of its own: %s\n", strerror(-r));
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
