/* SPDX-License-Identifier: Apache-2.0 */
/* The DNS forwarder of --net=builtin against resolvers of the test's own on 127.0.0.1 and
 * ::1: what reaches the resolver, the answer frame the child gets (headers, checksums),
 * truncation to the MTU, the move to the next resolver, bounds and expiry, resolv.conf
 * parsing (its reading is covered by the integration tests, root/05-dns.bats). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "netstack/dns.h"
#include "netstack/filter.h"
#include "tests/unit/checksum.h"

static uint8_t sent[70000]; /* the last frame for the child */
static size_t sent_len;
static int n_sent;

static void on_send(const uint8_t *frame, size_t len, void *opaque)
{
	(void)opaque;
	assert_true(len <= sizeof(sent));
	memcpy(sent, frame, len);
	sent_len = len;
	n_sent++;
}

static struct pollfd pfd[RK_DNS_PENDING];
static int n_pfd;

static int add(int fd, void *opaque)
{
	(void)opaque;
	pfd[n_pfd] = (struct pollfd){ .fd = fd, .events = POLLIN };
	return n_pfd++;
}

static int revents(int idx, void *opaque)
{
	(void)opaque;
	return idx >= 0 && idx < n_pfd ? pfd[idx].revents : 0;
}

/* One pass of a loop as the engine's. */
static void step(struct rk_dns *d, int64_t now_ms, int timeout_ms)
{
	uint32_t timeout = (uint32_t)timeout_ms;

	n_pfd = 0;
	rk_dns_fill(d, now_ms, add, NULL, &timeout);
	if (poll(pfd, (nfds_t)n_pfd, (int)timeout) > 0)
		rk_dns_poll(d, revents, NULL);
}

static const uint8_t child_mac[6] = { 0x02, 0, 0, 0, 0, 0x64 };
static const uint8_t query[] = { 0xbe, 0xef, 0x01, 0x00, 0,   1,   0,	0, 0,	0,
				 0,    0,    4,	   't',	 'e', 's', 't', 7, 'i', 'n',
				 'v',  'a',  'l',  'i',	 'd', 0,   0,	1, 0,	1 };

/* An Ethernet + IPv4 (or IPv6) + UDP frame from the child's port 40000 to dst:53 */
static size_t query_frame(uint8_t *f, bool v6, const char *dst, const uint8_t *msg, size_t len)
{
	size_t ip_hlen = v6 ? 40 : 20;
	uint8_t *ip = f + 14, *udp = ip + ip_hlen;

	memset(f, 0, 14 + ip_hlen + 8);
	memcpy(f + 6, child_mac, 6);
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		ip[0] = 0x60;
		ip[4] = (uint8_t)((8 + len) >> 8);
		ip[5] = (uint8_t)(8 + len);
		ip[6] = 17;
		ip[7] = 64;
		inet_pton(AF_INET6, "fd00::100", ip + 8);
		inet_pton(AF_INET6, dst, ip + 24);
	} else {
		ip[0] = 0x45;
		ip[2] = (uint8_t)((28 + len) >> 8);
		ip[3] = (uint8_t)(28 + len);
		ip[8] = 64;
		ip[9] = 17;
		inet_pton(AF_INET, "10.0.2.100", ip + 12);
		inet_pton(AF_INET, dst, ip + 16);
	}
	udp[0] = 40000 >> 8;
	udp[1] = 40000 & 0xff;
	udp[3] = 53;
	udp[4] = (uint8_t)((8 + len) >> 8);
	udp[5] = (uint8_t)(8 + len);
	memcpy(udp + 8, msg, len);
	return 14 + ip_hlen + 8 + len;
}

/* A UDP socket on addr, port chosen by the kernel; *ss is where it is. */
static int resolver(const char *addr, struct sockaddr_storage *ss)
{
	bool v6 = strchr(addr, ':') != NULL;
	socklen_t len = sizeof(*ss);
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = v6 ? AF_INET6 : AF_INET;
	if (v6)
		inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)ss)->sin6_addr);
	else
		inet_pton(AF_INET, addr, &((struct sockaddr_in *)ss)->sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)ss,
			      v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)),
			 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)ss, &len), 0);
	return fd;
}

/* Receives a query at the resolver; returns its length, *peer the forwarder's socket. */
static size_t resolver_recv(int fd, uint8_t *buf, size_t cap, struct sockaddr_storage *peer)
{
	socklen_t len = sizeof(*peer);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	assert_int_equal(poll(&p, 1, 2000), 1);
	n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)peer, &len);
	assert_true(n >= 0);
	return (size_t)n;
}

/* The frame through the filter, as the engine gives it: true if it was routed to the
 * forwarder (and given to it at now_ms). */
static bool input(struct rk_dns *d, const struct rk_dns_config *c, uint8_t *f, size_t n,
		  int64_t now_ms)
{
	struct rk_filter_config fc = { .vnet = c->vnet };
	struct rk_frame fr;
	bool ours;

	ours = rk_filter_frame(&fc, f, n, NULL, &fr) == RK_FILTER_PASS && fr.route == RK_ROUTE_DNS;
	if (ours)
		rk_dns_input(d, &fr, now_ms);
	rk_filter_release(&fc);
	return ours;
}

/* the network of the tests: 10.0.2.0/24 and fd00::/64, MTU 1500 (tests change it) */
static struct rk_vnet vnet;

static struct rk_dns_config config(void)
{
	struct rk_dns_config c = { .vnet = &vnet };

	vnet = (struct rk_vnet){ .mtu = 1500, .ipv6 = true };
	rk_vnet_slirp(&vnet, "", NULL);
	return c;
}

/* A query over IPv4 answered by a resolver on ::1: the answer frame goes back to the
 * child's MAC, address and port, from 10.0.2.3:53 with libslirp's MAC scheme. */
static void test_v4_query_to_v6_resolver(void **state)
{
	struct rk_dns_config c = config();
	uint8_t f[256], buf[512], answer[200];
	struct sockaddr_storage peer;
	int rfd = resolver("::1", &c.servers[0]);
	size_t n;
	struct rk_dns *d;

	(void)state;
	c.n_servers = 1;
	d = rk_dns_new(&c, on_send, NULL);
	n_sent = 0;
	assert_true(input(d, &c, f, query_frame(f, false, "10.0.2.3", query, sizeof(query)), 0));
	assert_int_equal(rk_dns_pending(d), 1);
	n = resolver_recv(rfd, buf, sizeof(buf), &peer);
	assert_int_equal(n, sizeof(query));
	assert_memory_equal(buf, query, sizeof(query));

	/* a stranger's datagram (wrong ID) first: ignored */
	memcpy(answer, query, sizeof(query));
	answer[0] = 0x12;
	assert_true(sendto(rfd, answer, sizeof(query), 0, (struct sockaddr *)&peer,
			   sizeof(struct sockaddr_in6)) > 0);
	step(d, 1, 1000);
	assert_int_equal(n_sent, 0);
	assert_int_equal(rk_dns_pending(d), 1);

	for (size_t i = 0; i < sizeof(answer); i++)
		answer[i] = (uint8_t)(i * 7);
	memcpy(answer, query, 2);
	assert_true(sendto(rfd, answer, sizeof(answer), 0, (struct sockaddr *)&peer,
			   sizeof(struct sockaddr_in6)) > 0);
	step(d, 2, 1000);
	assert_int_equal(n_sent, 1);
	assert_int_equal(rk_dns_pending(d), 0);
	assert_int_equal(sent_len, 14 + 20 + 8 + sizeof(answer));
	assert_memory_equal(sent, child_mac, 6);
	assert_memory_equal(sent + 6, "\x52\x55\x0a\x00\x02\x03\x08\x00", 8);
	const uint8_t *ip = sent + 14, *udp = ip + 20;
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(ip[2] << 8 | ip[3], 20 + 8 + sizeof(answer));
	assert_int_equal(ip[9], 17);
	assert_int_equal(sum16(ip, 20, 0), 0xffff);
	assert_memory_equal(ip + 12, "\x0a\x00\x02\x03\x0a\x00\x02\x64", 8);
	assert_int_equal(udp[0] << 8 | udp[1], 53);
	assert_int_equal(udp[2] << 8 | udp[3], 40000);
	assert_int_equal(udp[4] << 8 | udp[5], 8 + sizeof(answer));
	assert_memory_equal(udp + 8, answer, sizeof(answer));
	rk_dns_free(d);
	close(rfd);
}

/* A query to fd00::3 answered by a resolver on 127.0.0.1: an IPv6 answer whose UDP
 * checksum verifies. */
static void test_v6_query(void **state)
{
	struct rk_dns_config c = config();
	uint8_t f[256], buf[512];
	struct sockaddr_storage peer;
	int rfd = resolver("127.0.0.1", &c.servers[0]);
	struct rk_dns *d;
	uint32_t pseudo = 0;

	(void)state;
	c.n_servers = 1;
	d = rk_dns_new(&c, on_send, NULL);
	n_sent = 0;
	assert_true(input(d, &c, f, query_frame(f, true, "fd00::3", query, sizeof(query)), 0));
	assert_int_equal(resolver_recv(rfd, buf, sizeof(buf), &peer), sizeof(query));
	assert_true(sendto(rfd, query, sizeof(query), 0, (struct sockaddr *)&peer,
			   sizeof(struct sockaddr_in)) > 0);
	step(d, 1, 1000);
	assert_int_equal(n_sent, 1);
	assert_int_equal(sent_len, 14 + 40 + 8 + sizeof(query));
	assert_memory_equal(sent + 6, "\x52\x56\x00\x00\x00\x03\x86\xdd", 8);
	const uint8_t *ip = sent + 14, *udp = ip + 40;
	assert_int_equal(ip[6], 17);
	assert_int_equal(ip[4] << 8 | ip[5], 8 + sizeof(query));
	for (size_t i = 8; i < 40; i += 2)
		pseudo += (uint32_t)ip[i] << 8 | ip[i + 1];
	pseudo += 17 + 8 + (uint32_t)sizeof(query);
	assert_int_equal(sum16(udp, 8 + sizeof(query), pseudo), 0xffff);
	assert_memory_equal(udp + 8, query, sizeof(query));
	rk_dns_free(d);
	close(rfd);
}

/* What is not a query to the DNS address is not the forwarder's; malformed queries to it
 * are taken and dropped; IPv6 is ignored without --ipv6. */
static void test_not_for_dns(void **state)
{
	struct rk_dns_config c = config();
	uint8_t f[256];
	struct rk_dns *d;
	size_t n;

	(void)state;
	vnet.ipv6 = false;
	c.n_servers = 1;
	d = rk_dns_new(&c, on_send, NULL);
	assert_false(input(d, &c, f, query_frame(f, false, "10.0.2.2", query, sizeof(query)), 0));
	assert_false(input(d, &c, f, query_frame(f, true, "fd00::3", query, sizeof(query)), 0));
	n = query_frame(f, false, "10.0.2.3", query, sizeof(query));
	f[14 + 20 + 3] = 54; /* another port */
	assert_false(input(d, &c, f, n, 0));
	f[14 + 20 + 3] = 53;
	f[14 + 9] = 6; /* TCP: libslirp's */
	assert_false(input(d, &c, f, n, 0));
	f[14 + 9] = 17;
	assert_false(input(d, &c, f, 30, 0)); /* short */
	/* a UDP length beyond the packet: the filter drops it */
	f[14 + 20 + 5] = 0xff;
	assert_false(input(d, &c, f, n, 0));
	/* a message shorter than a DNS header: taken, and dropped */
	assert_true(input(d, &c, f, query_frame(f, false, "10.0.2.3", query, 11), 0));
	assert_int_equal(rk_dns_pending(d), 0);
	rk_dns_free(d);
}

/* An answer longer than the MTU allows becomes its question with TC set. */
static void test_truncated(void **state)
{
	struct rk_dns_config c = config();
	uint8_t f[256], buf[512], big[1400];
	struct sockaddr_storage peer;
	int rfd = resolver("127.0.0.1", &c.servers[0]);
	struct rk_dns *d;

	(void)state;
	c.n_servers = 1;
	vnet.mtu = 1280;
	d = rk_dns_new(&c, on_send, NULL);
	n_sent = 0;
	assert_true(input(d, &c, f, query_frame(f, false, "10.0.2.3", query, sizeof(query)), 0));
	resolver_recv(rfd, buf, sizeof(buf), &peer);
	memset(big, 0xaa, sizeof(big));
	memcpy(big, query, sizeof(query));
	big[2] = 0x81;
	big[7] = 9; /* answers */
	assert_true(sendto(rfd, big, sizeof(big), 0, (struct sockaddr *)&peer,
			   sizeof(struct sockaddr_in)) > 0);
	step(d, 1, 1000);
	assert_int_equal(n_sent, 1);
	assert_int_equal(sent_len, 14 + 28 + sizeof(query));
	const uint8_t *m = sent + 14 + 28;
	assert_int_equal(m[2], 0x83); /* QR and TC */
	assert_memory_equal(m + 4, "\x00\x01\x00\x00\x00\x00\x00\x00", 8);
	assert_memory_equal(m + 12, query + 12, sizeof(query) - 12);
	rk_dns_free(d);
	close(rfd);
}

/* A resolver that refuses (nothing on its port) passes the query to the next one. */
static void test_next_resolver(void **state)
{
	struct rk_dns_config c = config();
	uint8_t f[256], buf[512];
	struct sockaddr_storage peer;
	int gone = resolver("127.0.0.1", &c.servers[0]);
	int rfd = resolver("127.0.0.1", &c.servers[1]);
	struct rk_dns *d;

	(void)state;
	close(gone);
	c.n_servers = 2;
	d = rk_dns_new(&c, on_send, NULL);
	assert_true(input(d, &c, f, query_frame(f, false, "10.0.2.3", query, sizeof(query)), 0));
	step(d, 1, 1000); /* the refusal */
	assert_int_equal(resolver_recv(rfd, buf, sizeof(buf), &peer), sizeof(query));
	assert_int_equal(rk_dns_pending(d), 1);
	rk_dns_free(d);
	close(rfd);
}

/* A flood holds RK_DNS_PENDING queries at most, and unanswered ones expire after 5 s. */
static void test_bounds(void **state)
{
	struct rk_dns_config c = config();
	uint8_t f[256];
	int rfd = resolver("127.0.0.1", &c.servers[0]);
	struct rk_dns *d;

	(void)state;
	c.n_servers = 1;
	d = rk_dns_new(&c, on_send, NULL);
	for (int i = 0; i < 3 * RK_DNS_PENDING; i++)
		assert_true(input(d, &c, f, query_frame(f, false, "10.0.2.3", query, sizeof(query)),
				  i));
	assert_int_equal(rk_dns_pending(d), RK_DNS_PENDING);
	step(d, 3 * RK_DNS_PENDING + 4000, 0);
	assert_true(rk_dns_pending(d) > 0);
	step(d, 3 * RK_DNS_PENDING + 5000, 0);
	assert_int_equal(rk_dns_pending(d), 0);
	rk_dns_free(d);
	close(rfd);
}

/* resolv.conf: nameservers of both families, scopes, the glibc limit, and junk. */
static void test_parse_resolv(void **state)
{
	struct sockaddr_storage ss[RK_DNS_SERVERS];
	const struct sockaddr_in *in = (const struct sockaddr_in *)&ss[0];
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss[1];
	char a[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(rk_dns_parse_resolv("# stub\nsearch example\n"
					     "nameserver 127.0.0.53\n"
					     "  nameserver\t::1\n"
					     "nameserver fe80::1%1\n"
					     "nameserver 192.0.2.1\n",
					     ss, RK_DNS_SERVERS),
			 3);
	assert_int_equal(in->sin_family, AF_INET);
	assert_int_equal(ntohs(in->sin_port), 53);
	assert_string_equal(inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a)), "127.0.0.53");
	assert_int_equal(in6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(in6->sin6_port), 53);
	assert_string_equal(inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a)), "::1");
	in6 = (const struct sockaddr_in6 *)&ss[2];
	assert_int_equal(in6->sin6_scope_id, 1);

	assert_int_equal(rk_dns_parse_resolv("nameserver bogus\nnameserver 10.0.0.1%eth0\n"
					     "nameserver fe80::1%no-such-if\nnameserver\n"
					     "domain x\n",
					     ss, RK_DNS_SERVERS),
			 0);
	assert_int_equal(rk_dns_parse_resolv("", ss, RK_DNS_SERVERS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_query_to_v6_resolver),
		cmocka_unit_test(test_v6_query),
		cmocka_unit_test(test_not_for_dns),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_next_resolver),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_parse_resolv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
