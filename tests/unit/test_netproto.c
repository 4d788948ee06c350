/* SPDX-License-Identifier: Apache-2.0 */
/* The DHCP client's messages, VPNKit's vmnet protocol and the vpnkit relay's frame
 * copying, without a DHCP server or a VPNKit: the relay runs over socketpairs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "src/net/dhcp.h"
#include "src/net/vmnet.h"
#include "src/net/vpnkit.h"

static const uint8_t mac[6] = { 0x02, 0x50, 0, 0, 0, 0x0a };

/* A server's answer to a request: BOOTREPLY, our xid and MAC, then options. */
static size_t reply(uint8_t *buf, uint32_t xid, const uint8_t *opts, size_t n)
{
	memset(buf, 0, RK_DHCP_MIN_LEN);
	buf[0] = 2;
	buf[1] = 1;
	buf[2] = 6;
	memcpy(buf + 4, &xid, 4);
	inet_pton(AF_INET, "10.0.3.51", buf + 16);
	memcpy(buf + 28, mac, 6);
	memcpy(buf + 236, "\x63\x82\x53\x63", 4);
	memcpy(buf + RK_DHCP_MIN_LEN, opts, n);
	return RK_DHCP_MIN_LEN + n;
}

static void test_dhcp_request_shape(void **state)
{
	uint8_t buf[400];
	uint32_t xid = 0x11223344, ip, server;
	size_t n;

	(void)state;
	inet_pton(AF_INET, "10.0.3.51", &ip);
	inet_pton(AF_INET, "10.0.3.1", &server);
	n = rk_dhcp_build(buf, sizeof(buf), RK_DHCP_REQUEST, xid, mac, ip, server);
	assert_true(n > RK_DHCP_MIN_LEN);
	assert_int_equal(buf[0], 1);	 /* BOOTREQUEST */
	assert_int_equal(buf[10], 0x80); /* broadcast: no address yet */
	assert_memory_equal(buf + 4, &xid, 4);
	assert_memory_equal(buf + 28, mac, 6);
	assert_memory_equal(buf + 236, "\x63\x82\x53\x63", 4);
	/* type, requested address, server, parameter list, end */
	assert_memory_equal(buf + 240, "\x35\x01\x03\x32\x04", 5);
	assert_memory_equal(buf + 245, &ip, 4);
	assert_memory_equal(buf + 249, "\x36\x04", 2);
	assert_memory_equal(buf + 251, &server, 4);
	assert_int_equal(buf[n - 1], 255);
	/* a DISCOVER carries neither address */
	n = rk_dhcp_build(buf, sizeof(buf), RK_DHCP_DISCOVER, xid, mac, 0, 0);
	assert_memory_equal(buf + 240, "\x35\x01\x01\x37", 4);
	/* too small a buffer */
	assert_int_equal(rk_dhcp_build(buf, 200, RK_DHCP_DISCOVER, xid, mac, 0, 0), 0);
}

static void test_dhcp_reply_parse(void **state)
{
	static const uint8_t ack[] = {
		0x35, 1, 5,				    /* ACK */
		0,					    /* a pad */
		0x01, 4, 255, 255, 255,	 0,		    /* /24 */
		0x03, 8, 10,  0,   3,	 1,    10, 0, 3, 9, /* routers: the first counts */
		0x06, 4, 10,  0,   3,	 1,		    /* DNS */
		0x33, 4, 0,   0,   0x0e, 0x10,		    /* 3600 s */
		0x36, 4, 10,  0,   3,	 1,		    /* server */
		0xfe, 3, 1,   2,   3,			    /* unknown: skipped */
		0xff,
	};
	uint8_t buf[600];
	struct rk_dhcp_reply r;
	uint32_t xid = 7, a;
	size_t n = reply(buf, xid, ack, sizeof(ack));

	(void)state;
	assert_int_equal(rk_dhcp_parse(buf, n, xid, mac, &r), 0);
	assert_int_equal(r.type, RK_DHCP_ACK);
	inet_pton(AF_INET, "10.0.3.51", &a);
	assert_int_equal(r.yiaddr, a);
	inet_pton(AF_INET, "10.0.3.1", &a);
	assert_int_equal(r.router, a);
	assert_int_equal(r.dns, a);
	assert_int_equal(r.server_id, a);
	inet_pton(AF_INET, "255.255.255.0", &a);
	assert_int_equal(r.netmask, a);
	assert_int_equal(r.lease, 3600);

	/* not ours: another xid, another MAC, a request, no cookie */
	assert_int_equal(rk_dhcp_parse(buf, n, xid + 1, mac, &r), -EINVAL);
	buf[33] ^= 1;
	assert_int_equal(rk_dhcp_parse(buf, n, xid, mac, &r), -EINVAL);
	buf[33] ^= 1;
	buf[0] = 1;
	assert_int_equal(rk_dhcp_parse(buf, n, xid, mac, &r), -EINVAL);
	buf[0] = 2;
	buf[236] = 0;
	assert_int_equal(rk_dhcp_parse(buf, n, xid, mac, &r), -EINVAL);
	buf[236] = 0x63;
	/* truncated: an option running past the end, a length byte missing, no header */
	assert_int_equal(rk_dhcp_parse(buf, RK_DHCP_MIN_LEN + 8, xid, mac, &r), -EINVAL);
	assert_int_equal(rk_dhcp_parse(buf, RK_DHCP_MIN_LEN + 5, xid, mac, &r), -EINVAL);
	assert_int_equal(rk_dhcp_parse(buf, RK_DHCP_MIN_LEN - 1, xid, mac, &r), -EINVAL);
	/* no message type */
	n = reply(buf, xid, (const uint8_t *)"\xff", 1);
	assert_int_equal(rk_dhcp_parse(buf, n, xid, mac, &r), -EINVAL);
}

static void test_vmnet_messages(void **state)
{
	uint8_t hello[RK_VMNET_HELLO_LEN], req[RK_VMNET_VIF_REQUEST_LEN], vif[RK_VMNET_VIF_LEN];
	struct rk_vmnet_vif v;
	char uuid[37], other[37];

	(void)state;
	rk_vmnet_hello(hello);
	assert_memory_equal(hello, "VMN3T\x16\0\0\0", 9); /* version 22, little-endian */
	assert_int_equal(rk_vmnet_check_hello(hello), 0);
	hello[0] = 'X';
	assert_int_equal(rk_vmnet_check_hello(hello), -EPROTO);

	rk_vmnet_uuid(uuid);
	rk_vmnet_uuid(other);
	assert_int_equal(strlen(uuid), 36);
	assert_string_not_equal(uuid, other);
	assert_int_equal(uuid[8], '-');
	assert_int_equal(uuid[14], '4'); /* version 4 */
	assert_non_null(strchr("89ab", uuid[19]));

	rk_vmnet_vif_request(req, uuid);
	assert_int_equal(req[0], 1);
	assert_memory_equal(req + 1, uuid, 36);
	assert_memory_equal(req + 37, "\0\0\0\0", 4);

	memset(vif, 0, sizeof(vif));
	memcpy(vif, "\xdc\x05\x0e\x06", 4); /* 1500, 1550 */
	memcpy(vif + 4, mac, 6);
	rk_vmnet_parse_vif(vif, &v);
	assert_int_equal(v.mtu, 1500);
	assert_int_equal(v.max_packet, 1550);
	assert_memory_equal(v.mac, mac, 6);
}

/* The DISCOVER frame is what a DHCP server expects, and an OFFER frame built from it the
 * way a server answers is understood. */
/* Replies that keep coming: one call reads a bounded burst, so that the caller's deadline
 * is looked at between bursts; the reply wanted is found by calls that follow; a NAK ends
 * a REQUEST's wait. Over a datagram socket pair, as the child's socket would deliver them. */
static void test_dhcp_take_replies(void **state)
{
	static const uint8_t offer[] = { 0x35, 1, 2, 0x36, 4, 10, 0, 3, 1, 0xff };
	static const uint8_t nak[] = { 0x35, 1, 6, 0xff };
	uint8_t buf[600], junk[16] = { 2 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct rk_dhcp_reply r;
	uint32_t xid = 9;
	int sp[2], calls = 0, got = 0, big = 1 << 20;
	size_t n;

	(void)state;
	/* UDP on 127.0.0.1, as the child's DHCP socket is (a UNIX datagram pair would queue
	 * only a few) */
	sp[0] = socket(AF_INET, SOCK_DGRAM, 0);
	sp[1] = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(sp[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	assert_int_equal(bind(sp[0], (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(sp[0], (struct sockaddr *)&a, &alen), 0);
	assert_int_equal(connect(sp[1], (struct sockaddr *)&a, sizeof(a)), 0);
	/* blocking, as the child may have made it: only MSG_DONTWAIT keeps this from waiting */
	for (int i = 0; i < 3 * RK_DHCP_BURST; i++)
		assert_int_equal(send(sp[1], junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	n = reply(buf, xid, offer, sizeof(offer));
	assert_int_equal(send(sp[1], buf, n, 0), (ssize_t)n);
	assert_int_equal(rk_dhcp_take_replies(sp[0], xid, mac, RK_DHCP_OFFER, false, &r), 0);
	/* one burst was read, the rest waits */
	assert_true(recv(sp[0], junk, sizeof(junk), MSG_DONTWAIT | MSG_PEEK) >= 0);
	while (!got && ++calls < 10)
		got = rk_dhcp_take_replies(sp[0], xid, mac, RK_DHCP_OFFER, false, &r);
	assert_int_equal(got, 1);
	assert_int_equal(calls, 3);
	assert_int_equal(r.type, RK_DHCP_OFFER);
	/* an empty queue: nothing, at once */
	assert_int_equal(rk_dhcp_take_replies(sp[0], xid, mac, RK_DHCP_OFFER, false, &r), 0);
	n = reply(buf, xid, nak, sizeof(nak));
	assert_int_equal(send(sp[1], buf, n, 0), (ssize_t)n);
	assert_int_equal(rk_dhcp_take_replies(sp[0], xid, mac, RK_DHCP_ACK, true, &r), -EPROTO);
	close(sp[0]);
	close(sp[1]);
}

static void test_vmnet_dhcp(void **state)
{
	uint8_t frame[1024], offer[1024];
	struct rk_dhcp_reply r;
	uint32_t xid = 0xabcdef01, ip;
	size_t n = rk_vmnet_dhcp_discover(frame, sizeof(frame), mac, xid), m;

	(void)state;
	assert_true(n > 14 + 20 + 8 + RK_DHCP_MIN_LEN);
	assert_memory_equal(frame, "\xff\xff\xff\xff\xff\xff", 6);
	assert_memory_equal(frame + 6, mac, 6);
	assert_memory_equal(frame + 12, "\x08\x00", 2);
	assert_int_equal(frame[14], 0x45);
	assert_int_equal(frame[14 + 9], 17);
	assert_int_equal((frame[16] << 8 | frame[17]), n - 14);
	assert_memory_equal(frame + 34, "\x00\x44\x00\x43", 4); /* 68 -> 67 */
	{
		/* the IPv4 header checksum verifies to zero */
		uint32_t sum = 0;
		for (int i = 0; i < 20; i += 2)
			sum += (uint32_t)frame[14 + i] << 8 | frame[15 + i];
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		assert_int_equal(sum, 0xffff);
	}
	/* a server reads it as a DISCOVER from mac: answer as one would */
	memcpy(offer, frame, n);
	memcpy(offer, mac, 6);
	memcpy(offer + 34, "\x00\x43\x00\x44", 4);
	m = reply(offer + 42, xid, (const uint8_t *)"\x35\x01\x02\xff", 4);
	offer[16] = (uint8_t)((m + 28) >> 8);
	offer[17] = (uint8_t)(m + 28);
	assert_int_equal(rk_vmnet_dhcp_offer(offer, 42 + m, mac, xid, &ip), 0);
	assert_int_equal(rk_dhcp_parse(offer + 42, m, xid, mac, &r), 0);
	assert_int_equal(ip, r.yiaddr);
	/* not an offer for us */
	assert_int_equal(rk_vmnet_dhcp_offer(offer, 42 + m, mac, xid + 1, &ip), -EINVAL);
	assert_int_equal(rk_vmnet_dhcp_offer(frame, n, mac, xid, &ip), -EINVAL);
	assert_int_equal(rk_vmnet_dhcp_offer(offer, 40, mac, xid, &ip), -EINVAL);
	offer[17] += 100; /* an IPv4 length beyond the frame */
	assert_int_equal(rk_vmnet_dhcp_offer(offer, 42 + m, mac, xid, &ip), -EINVAL);
}

/* Frames split at every possible point come out whole, one by one. */
static void test_vmnet_reader(void **state)
{
	uint8_t stream[64];
	size_t len = 0, got = 0;
	static struct rk_vmnet_reader rd;

	(void)state;
	/* frames of 3, 0 (skipped) and 5 bytes */
	memcpy(stream,
	       "\x03\x00"
	       "abc"
	       "\x00\x00"
	       "\x05\x00"
	       "hello",
	       14);
	len = 14;
	for (size_t chunk = 1; chunk <= len; chunk++) {
		size_t off = 0;
		got = 0;
		rd.have = 0;
		while (off < len) {
			const uint8_t *frame;
			size_t space, n, f;
			uint8_t *at = rk_vmnet_reader_space(&rd, &space);
			n = space < chunk ? space : chunk;
			if (n > len - off)
				n = len - off;
			memcpy(at, stream + off, n);
			off += n;
			f = rk_vmnet_reader_commit(&rd, n, &frame);
			if (f == 3) {
				assert_memory_equal(frame, "abc", 3);
				got++;
			} else if (f == 5) {
				assert_memory_equal(frame, "hello", 5);
				assert_int_equal(got, 1);
				got++;
			} else {
				assert_int_equal(f, 0);
			}
		}
		assert_int_equal(got, 2);
		assert_int_equal(rd.have, 0);
	}
}

struct relay {
	int tap, sock, stop;
	int result;
};

static void *relay_thread(void *arg)
{
	struct relay *r = arg;
	r->result = rk_vpnkit_copy(r->tap, r->sock, r->stop);
	return NULL;
}

/* The relay between a "tap" (a SEQPACKET socketpair keeps frame boundaries as a tap
 * does) and a vmnet stream: every frame crosses both ways, byte for byte, including one
 * of the largest size; the end of the stream ends the relay cleanly. */
static void test_vpnkit_copy(void **state)
{
	int tap[2], vm[2], stop[2];
	struct relay r;
	pthread_t t;
	static uint8_t big[RK_VMNET_FRAME_MAX], back[RK_VMNET_FRAME_MAX + 2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, tap), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, vm), 0);
	assert_int_equal(pipe(stop), 0);
	{
		int sz = 4 << 20;
		for (int i = 0; i < 2; i++) {
			setsockopt(tap[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
			setsockopt(tap[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		}
	}
	r = (struct relay){ .tap = tap[1], .sock = vm[1], .stop = stop[0] };
	assert_int_equal(pthread_create(&t, NULL, relay_thread, &r), 0);

	/* tap -> vmnet: length-prefixed */
	assert_int_equal(write(tap[0], "frame-one", 9), 9);
	assert_int_equal(read(vm[0], back, 11), 11);
	assert_memory_equal(back,
			    "\x09\x00"
			    "frame-one",
			    11);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(write(tap[0], big, sizeof(big)), sizeof(big));
	{
		size_t have = 0;
		while (have < sizeof(back)) {
			ssize_t n = read(vm[0], back + have, sizeof(back) - have);
			assert_true(n > 0);
			have += (size_t)n;
		}
		assert_memory_equal(back, "\xff\xff", 2);
		assert_memory_equal(back + 2, big, sizeof(big));
	}

	/* vmnet -> tap: two frames in one write, then one split across writes */
	assert_int_equal(write(vm[0], "\x02\x00hi\x03\x00you\x04\x00", 11), 11);
	assert_int_equal(read(tap[0], back, sizeof(back)), 2);
	assert_memory_equal(back, "hi", 2);
	assert_int_equal(read(tap[0], back, sizeof(back)), 3);
	assert_memory_equal(back, "you", 3);
	assert_int_equal(write(vm[0], "la", 2), 2);
	usleep(10000);
	assert_int_equal(write(vm[0], "st", 2), 2);
	assert_int_equal(read(tap[0], back, sizeof(back)), 4);
	assert_memory_equal(back, "last", 4);

	/* VPNKit going away ends the relay without an error */
	close(vm[0]);
	pthread_join(t, NULL);
	assert_int_equal(r.result, 0);
	close(vm[1]);
	close(tap[0]);
	close(tap[1]);
	close(stop[0]);
	close(stop[1]);
}

/* The stop pipe ends an idle relay. */
static void test_vpnkit_copy_stop(void **state)
{
	int tap[2], vm[2], stop[2];
	struct relay r;
	pthread_t t;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, tap), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, vm), 0);
	assert_int_equal(pipe(stop), 0);
	r = (struct relay){ .tap = tap[1], .sock = vm[1], .stop = stop[0], .result = -1 };
	assert_int_equal(pthread_create(&t, NULL, relay_thread, &r), 0);
	close(stop[1]);
	pthread_join(t, NULL);
	assert_int_equal(r.result, 0);
	for (int i = 0; i < 2; i++) {
		close(tap[i]);
		close(vm[i]);
	}
	close(stop[0]);
}

static void test_vpnkit_argv(void **state)
{
	char **v = rk_vpnkit_argv("/usr/bin/vpnkit", "/run/x/vpnkit-ethernet.sock", 1500, false);
	const char *want[] = { "/usr/bin/vpnkit", "--ethernet", "/run/x/vpnkit-ethernet.sock",
			       "--mtu",		  "1500",	NULL };
	size_t i;

	(void)state;
	for (i = 0; want[i]; i++)
		assert_string_equal(v[i], want[i]);
	assert_null(v[i]);
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
	v = rk_vpnkit_argv("vpnkit", "s", 9000, true);
	assert_string_equal(v[4], "9000");
	assert_string_equal(v[5], "--host-ip");
	assert_string_equal(v[6], "0.0.0.0");
	assert_null(v[7]);
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dhcp_request_shape), cmocka_unit_test(test_dhcp_reply_parse),
		cmocka_unit_test(test_vmnet_messages),	   cmocka_unit_test(test_vmnet_dhcp),
		cmocka_unit_test(test_dhcp_take_replies),  cmocka_unit_test(test_vmnet_reader),
		cmocka_unit_test(test_vpnkit_copy),	   cmocka_unit_test(test_vpnkit_copy_stop),
		cmocka_unit_test(test_vpnkit_argv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
