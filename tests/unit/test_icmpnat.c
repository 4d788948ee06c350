/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine without libslirp (IPv4 only, the TCP translation running): the filter answers
 * ARP for the gateway, and icmpnat.c answers ICMP echo to the gateway and DNS addresses,
 * in fragments where the reply does not fit the MTU, and drops what it does not answer.
 * Frames are written and read by hand on the tap's socket; nothing goes to the host (no
 * request to an address outside the network is made).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/frames.h"

#define MTU 1500

static struct rk_engine *start(int *child)
{
	struct rk_engine_config cfg = { .vnet = { .mtu = MTU } };
	struct rk_engine *e;

	net_config(&cfg);
	e = engine_on_socketpair(&cfg, child);
	assert_non_null(e);
	return e;
}

/* An echo request of dlen data bytes (i & 0xff) to dst; sum_ok false spoils its checksum.
 * Returns the frame's length. */
static size_t echo_request(uint8_t *fr, const char *dst, uint8_t type, size_t dlen, bool sum_ok)
{
	size_t len = ip4_frame(fr, dst, 1, 8 + dlen);
	uint8_t *icmp = fr + ETH + 20;

	icmp[0] = type;
	put16(icmp + 4, 0x4242);
	put16(icmp + 6, 7);
	for (size_t i = 0; i < dlen; i++)
		icmp[8 + i] = (uint8_t)i;
	put16(icmp + 2, (uint16_t)(~sum16(icmp, 8 + dlen, 0) + !sum_ok));
	return len;
}

/* The frames the engine wrote to the child (up to max) into buf[i], their lengths into
 * lens[i]; returns how many. */
static int frames_out(int child, uint8_t (*buf)[4096], size_t *lens, int max)
{
	int n = 0;
	ssize_t got;

	while (n < max && (got = read(child, buf[n], sizeof(buf[n]))) > 0)
		lens[n++] = (size_t)got;
	return n;
}

static void test_arp_for_the_gateway_answered(void **state)
{
	uint8_t fr[ETH + 28] = { 0 }, out[1][4096];
	size_t len = 0;
	int child;
	struct rk_engine *e = start(&child);

	(void)state;
	memset(fr, 0xff, 6);
	memcpy(fr + 6, child_mac, 6);
	put16(fr + 12, 0x0806);
	put16(fr + 14, 1);
	put16(fr + 16, 0x0800);
	fr[18] = 6;
	fr[19] = 4;
	put16(fr + 20, 1);
	memcpy(fr + 22, child_mac, 6);
	inet_pton(AF_INET, "10.0.2.100", fr + 28);
	inet_pton(AF_INET, "10.0.2.2", fr + 38);
	rk_engine_input(e, fr, sizeof(fr));
	assert_int_equal(frames_out(child, out, &len, 1), 1);
	assert_int_equal(get16(out[0] + 20), 2); /* a reply */
	assert_memory_equal(out[0] + 22, gw_mac, 6);
	assert_memory_equal(out[0] + 28, fr + 38, 4);
	assert_memory_equal(out[0], child_mac, 6);
	rk_engine_free(e);
	close(child);
}

/* One echo to dst answered in a single frame from src_mac, the request's data back. */
static void echo_answered(struct rk_engine *e, int child, const char *dst, const uint8_t *src_mac)
{
	uint8_t fr[ETH + 20 + 8 + 100], out[1][4096];
	size_t len = echo_request(fr, dst, 8, 100, true), olen = 0;
	const uint8_t *ip, *icmp;

	rk_engine_input(e, fr, len);
	assert_int_equal(frames_out(child, out, &olen, 1), 1);
	assert_int_equal(olen, len);
	ip = out[0] + ETH;
	icmp = ip + 20;
	assert_memory_equal(out[0], child_mac, 6);
	assert_memory_equal(out[0] + 6, src_mac, 6);
	assert_memory_equal(ip + 12, fr + ETH + 16, 4); /* from the address pinged */
	assert_memory_equal(ip + 16, fr + ETH + 12, 4);
	assert_int_equal(sum16(ip, 20, 0), 0xffff);
	assert_int_equal(icmp[0], 0);
	assert_int_equal(get16(icmp + 4), 0x4242);
	assert_int_equal(get16(icmp + 6), 7);
	assert_memory_equal(icmp + 8, fr + ETH + 28, 100);
	assert_int_equal(sum16(icmp, olen - ETH - 20, 0), 0xffff);
}

static void test_echo_to_gateway_and_dns_answered(void **state)
{
	const uint8_t dns_mac[6] = { 0x52, 0x55, 10, 0, 2, 3 };
	struct rk_engine_stats st;
	int child;
	struct rk_engine *e = start(&child);

	(void)state;
	echo_answered(e, child, "10.0.2.2", gw_mac);
	echo_answered(e, child, "10.0.2.3", dns_mac);
	rk_engine_stats(e, &st);
	assert_int_equal(st.icmp_answered, 2);
	assert_int_equal(st.icmp_dropped, 0);
	rk_engine_free(e);
	close(child);
}

/* A reply larger than the MTU comes in IPv4 fragments that fit it and put it together. */
static void test_large_echo_answered_in_fragments(void **state)
{
	static uint8_t fr[ETH + 20 + 8 + 4000], out[8][4096], whole[8 + 4000];
	size_t len = echo_request(fr, "10.0.2.2", 8, 4000, true), lens[8], got = 0;
	int child, n;
	struct rk_engine *e = start(&child);

	(void)state;
	rk_engine_input(e, fr, len);
	n = frames_out(child, out, lens, 8);
	assert_int_equal(n, 3);
	for (int i = 0; i < n; i++) {
		const uint8_t *ip = out[i] + ETH;
		size_t plen = get16(ip + 2) - 20, at = (size_t)(get16(ip + 6) & 0x1fff) * 8;
		assert_true(lens[i] <= ETH + MTU);
		assert_int_equal(get16(ip + 4), get16(out[0] + ETH + 4)); /* one datagram */
		assert_int_equal(!!(get16(ip + 6) & 0x2000), i < n - 1);
		assert_int_equal(sum16(ip, 20, 0), 0xffff);
		assert_true(at + plen <= sizeof(whole));
		memcpy(whole + at, ip + 20, plen);
		got += plen;
	}
	assert_int_equal(got, 8 + 4000);
	assert_int_equal(whole[0], 0);
	assert_memory_equal(whole + 8, fr + ETH + 28, 4000);
	assert_int_equal(sum16(whole, got, 0), 0xffff);
	rk_engine_free(e);
	close(child);
}

/* A bad checksum, another address of the network, another ICMP type: no answer. */
static void test_unanswered_echo_dropped(void **state)
{
	uint8_t fr[ETH + 20 + 8 + 32], out[1][4096];
	struct rk_engine_stats st;
	size_t olen = 0;
	int child;
	struct rk_engine *e = start(&child);

	(void)state;
	rk_engine_input(e, fr, echo_request(fr, "10.0.2.2", 8, 32, false));
	rk_engine_input(e, fr, echo_request(fr, "10.0.2.50", 8, 32, true));
	rk_engine_input(e, fr, echo_request(fr, "10.0.2.2", 13, 32, true));
	assert_int_equal(frames_out(child, out, &olen, 1), 0);
	rk_engine_stats(e, &st);
	assert_int_equal(st.icmp_dropped, 3);
	assert_int_equal(st.icmp_answered, 0);
	assert_int_equal(st.icmp_sent, 0);
	rk_engine_free(e);
	close(child);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_for_the_gateway_answered),
		cmocka_unit_test(test_echo_to_gateway_and_dns_answered),
		cmocka_unit_test(test_large_echo_answered_in_fragments),
		cmocka_unit_test(test_unanswered_echo_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
