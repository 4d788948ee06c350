/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The --net=builtin datapath without namespaces or a tap: the engine runs in a thread on
 * one end of a frame socket, and an lwIP virtual child (vendor/lwip) on the other. Host
 * servers of the test listen on 127.0.0.1. Checked: TCP (byte-exact, both ways) and UDP
 * (fragmented both ways) to the host through the gateway 10.0.2.2; DNS at 10.0.2.3 to the
 * test's resolver; --disable-host-loopback; the filter's drops of frames written to the
 * socket by hand; a host forward (the netstack port driver's path) into an lwIP listener.
 * Every wait is bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netstack/engine.h"
#include "src/lib/util.h"
#include "vendor/lwip/vchild.h"

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#define MTU	   1500
#define WAIT_MS	   20000 /* the bound of every wait */
#define CHILD_PORT 8080

static const uint8_t child_mac[6] = { 0x02, 0, 0, 0, 0, 0x64 };

struct fixture {
	struct rk_engine *e;
	pthread_t thread;
	int stop[2];
	int ctl[2];
	int child_fd; /* the child's end of the frame socket (owned by the netif) */
	struct netif *nif;
	struct rk_engine_stats stats; /* the engine's, once stopped */
};

static uint8_t pattern(size_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *engine_main(void *arg)
{
	struct fixture *f = arg;

	rk_engine_run(f->e, f->stop[0]);
	return NULL;
}

/* An engine on a fresh frame socket, in its own thread; the child's lwIP on the other end.
 * dns_port: the test resolver's port on 127.0.0.1, or 0. */
static bool libslirp_tcp; /* the child's connections through libslirp, not tcpnat.c */
static bool vnet_hdr;	  /* virtio-net headers on the frame socket, as on a real tap */

/* Back to the default modes after a test that changed them, passed or failed. */
static int reset_modes(void **state)
{
	(void)state;
	libslirp_tcp = vnet_hdr = false;
	return 0;
}

static void start(struct fixture *f, bool no_loopback, uint16_t dns_port)
{
	struct rk_engine_config cfg = { .vnet = { .mtu = MTU,
						  .disable_host_loopback = no_loopback },
					.libslirp_tcp = libslirp_tcp,
					.vnet_hdr = vnet_hdr };
	struct sockaddr_in *dns = (struct sockaddr_in *)&cfg.dns_servers[0];
	int sp[2], big = 1 << 20;
	struct rk_error err;

	memset(f, 0, sizeof(*f));
	rk_vnet_slirp(&cfg.vnet, "", NULL);
	dns->sin_family = AF_INET;
	dns->sin_port = htons(dns_port);
	dns->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfg.n_dns_servers = 1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp),
			 0);
	for (int i = 0; i < 2; i++)
		setsockopt(sp[i], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	assert_int_equal(pipe2(f->stop, O_CLOEXEC), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f->ctl), 0);
	f->e = rk_engine_new(&cfg, sp[0], &err);
	assert_non_null(f->e);
	rk_engine_set_control(f->e, f->ctl[0]);
	f->child_fd = sp[1];
	f->nif = rk_vchild_new(sp[1], "10.0.2.100", "10.0.2.2", MTU, child_mac);
	rk_vchild_set_vnet(f->nif, vnet_hdr);
	assert_int_equal(pthread_create(&f->thread, NULL, engine_main, f), 0);
}

static void stop(struct fixture *f)
{
	assert_int_equal(write(f->stop[1], "x", 1), 1);
	pthread_join(f->thread, NULL);
	rk_engine_stats(f->e, &f->stats);
	rk_engine_free(f->e);
	rk_vchild_free(f->nif);
	close(f->stop[0]);
	close(f->stop[1]);
	close(f->ctl[0]);
	close(f->ctl[1]);
}

/* Runs lwIP until cond(arg) holds, or WAIT_MS. Returns cond(arg). */
static bool run_until(struct fixture *f, bool (*cond)(const void *arg), const void *arg)
{
	int64_t end = now_ms() + WAIT_MS;

	while (!cond(arg) && now_ms() < end)
		assert_true(rk_vchild_poll(f->nif, 10));
	return cond(arg);
}

static bool is_set(const void *flag)
{
	return *(const bool *)flag;
}

/* Runs lwIP for ms (a bounded wait for something that must not happen). */
static void run_for(struct fixture *f, int ms)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end)
		assert_true(rk_vchild_poll(f->nif, 10));
}

/* A listening or datagram socket on 127.0.0.1, port chosen by the kernel. */
static int host_socket(int type, uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* ---- host servers, each in a thread ---- */

struct host_server {
	int fd;
	pthread_t thread;
	size_t bytes;  /* echoed (the sink: received) */
	bool mismatch; /* the sink: a byte that is not pattern()'s */
	struct sockaddr_in peer;
	uint8_t query[512]; /* the resolver's last query */
	size_t query_len;
};

/* Accepts one connection within WAIT_MS (its reads and writes bounded by WAIT_MS too),
 * noting the peer. Returns it, or -1. */
static int accept_one(struct host_server *s)
{
	socklen_t len = sizeof(s->peer);
	struct timeval tv = { .tv_sec = WAIT_MS / 1000 };
	int c;

	if (!readable(s->fd, WAIT_MS))
		return -1;
	c = accept(s->fd, (struct sockaddr *)&s->peer, &len);
	if (c >= 0) {
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return c;
}

/* TCP: accepts one connection and echoes it until its end. */
static void *tcp_echo_main(void *arg)
{
	struct host_server *s = arg;
	static uint8_t buf[65536];
	int c = accept_one(s);
	ssize_t n;

	if (c < 0)
		return NULL;
	while ((n = read(c, buf, sizeof(buf))) > 0) {
		if (rk_write_all(c, buf, (size_t)n) < 0)
			break;
		s->bytes += (size_t)n;
	}
	shutdown(c, SHUT_WR);
	close(c);
	return NULL;
}

/* TCP: accepts one connection with a small receive buffer, reads nothing for 300 ms (the
 * engine must hold what the child sends meanwhile), then reads and checks the stream. */
static void *tcp_slow_sink_main(void *arg)
{
	struct host_server *s = arg;
	static uint8_t buf[65536];
	int c = accept_one(s);
	ssize_t n;

	if (c < 0)
		return NULL;
	usleep(300 * 1000);
	while ((n = read(c, buf, sizeof(buf))) > 0)
		for (ssize_t k = 0; k < n; k++)
			if (buf[k] != pattern(s->bytes++))
				s->mismatch = true;
	close(c);
	return NULL;
}

/* UDP: echoes datagrams until an empty one (the test's end) or none for WAIT_MS. */
static void *udp_echo_main(void *arg)
{
	struct host_server *s = arg;
	static uint8_t buf[65536];

	while (readable(s->fd, WAIT_MS)) {
		socklen_t len = sizeof(s->peer);
		ssize_t n = recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&s->peer, &len);
		if (n <= 0)
			break;
		sendto(s->fd, buf, (size_t)n, 0, (struct sockaddr *)&s->peer, len);
		s->bytes += (size_t)n;
	}
	return NULL;
}

/* A DNS resolver: answers one A query with 192.0.2.53 (TEST-NET-1). */
static void *resolver_main(void *arg)
{
	struct host_server *s = arg;
	uint8_t out[600];
	socklen_t len = sizeof(s->peer);
	ssize_t n;

	if (!readable(s->fd, WAIT_MS))
		return NULL;
	n = recvfrom(s->fd, s->query, sizeof(s->query), 0, (struct sockaddr *)&s->peer, &len);
	if (n < 12)
		return NULL;
	s->query_len = (size_t)n;
	memcpy(out, s->query, (size_t)n);
	out[2] = 0x81;
	out[3] = 0x80;
	out[7] = 1; /* one answer: a pointer to the question's name, A IN, TTL 60 */
	memcpy(out + n, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x35", 16);
	sendto(s->fd, out, (size_t)n + 16, 0, (struct sockaddr *)&s->peer, len);
	return NULL;
}

static void serve(struct host_server *s, int type, uint16_t *port, void *(*fn)(void *))
{
	memset(s, 0, sizeof(*s));
	s->fd = host_socket(type, port);
	assert_int_equal(pthread_create(&s->thread, NULL, fn, s), 0);
}

/* Ends udp_echo_main on port. */
static void end_udp(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(sendto(fd, "", 0, 0, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
}

static void serve_end(struct host_server *s)
{
	pthread_join(s->thread, NULL);
	close(s->fd);
}

/* ---- TCP flows on lwIP ---- */

struct flow {
	struct tcp_pcb *pcb;
	size_t to_send, sent, received;
	bool connected, peer_closed, failed, mismatch;
	err_t err;
};

static void push(struct flow *fl)
{
	static uint8_t chunk[16384];

	while (fl->pcb && fl->sent < fl->to_send) {
		size_t n = tcp_sndbuf(fl->pcb);
		if (n > fl->to_send - fl->sent)
			n = fl->to_send - fl->sent;
		if (n > sizeof(chunk))
			n = sizeof(chunk);
		if (!n)
			break;
		for (size_t k = 0; k < n; k++)
			chunk[k] = pattern(fl->sent + k);
		if (tcp_write(fl->pcb, chunk, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		fl->sent += n;
	}
	if (fl->pcb)
		tcp_output(fl->pcb);
}

static err_t flow_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct flow *fl = arg;

	(void)err;
	if (!p) {
		fl->peer_closed = true;
		return ERR_OK;
	}
	for (struct pbuf *q = p; q; q = q->next)
		for (u16_t k = 0; k < q->len; k++)
			if (((const uint8_t *)q->payload)[k] != pattern(fl->received++))
				fl->mismatch = true;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t flow_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	push(arg);
	return ERR_OK;
}

static void flow_err(void *arg, err_t err)
{
	struct flow *fl = arg;

	fl->pcb = NULL; /* lwIP freed it */
	fl->failed = true;
	fl->err = err;
}

static err_t flow_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct flow *fl = arg;

	(void)pcb;
	(void)err;
	fl->connected = true;
	push(fl);
	return ERR_OK;
}

static void flow_connect(struct flow *fl, const char *ip, uint16_t port, size_t bytes)
{
	ip_addr_t dst;

	memset(fl, 0, sizeof(*fl));
	fl->to_send = bytes;
	fl->pcb = tcp_new();
	assert_non_null(fl->pcb);
	tcp_arg(fl->pcb, fl);
	tcp_recv(fl->pcb, flow_recv);
	tcp_sent(fl->pcb, flow_sent);
	tcp_err(fl->pcb, flow_err);
	assert_true(ipaddr_aton(ip, &dst));
	assert_int_equal(tcp_connect(fl->pcb, &dst, port, flow_connected), ERR_OK);
}

/* Everything sent came back, or the flow failed. */
static bool flow_done(const void *arg)
{
	const struct flow *fl = arg;

	return fl->failed || fl->mismatch || (fl->connected && fl->received >= fl->to_send);
}

/* Lets go of a pcb: no callback reaches its (stack-allocated) state again. */
static void release(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	if (tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb);
}

static void flow_close(struct flow *fl)
{
	if (fl->pcb)
		release(fl->pcb);
	fl->pcb = NULL;
}

/* total bytes from the child to a host echo server through 10.0.2.2 and back, byte for
 * byte; the host sees the connection come from its loopback. The stats of the engine
 * after it, in ret_stats. */
static void tcp_echo(size_t total, unsigned drop_every, struct rk_engine_stats *ret_stats,
		     uint64_t *ret_gso)
{
	struct fixture f;
	struct host_server s;
	struct flow fl;
	uint16_t port;

	start(&f, false, 0);
	rk_vchild_drop_every(f.nif, drop_every);
	serve(&s, SOCK_STREAM, &port, tcp_echo_main);
	flow_connect(&fl, "10.0.2.2", port, total);
	run_until(&f, flow_done, &fl);
	assert_true(fl.connected);
	assert_false(fl.failed);
	assert_false(fl.mismatch);
	assert_int_equal(fl.sent, total);
	assert_int_equal(fl.received, total);
	/* the end of the stream both ways */
	assert_int_equal(tcp_shutdown(fl.pcb, 0, 1), ERR_OK);
	assert_true(run_until(&f, is_set, &fl.peer_closed));
	flow_close(&fl);
	serve_end(&s);
	assert_int_equal(s.bytes, total);
	assert_int_equal(s.peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	if (ret_gso)
		*ret_gso = rk_vchild_gso_frames(f.nif);
	stop(&f);
	*ret_stats = f.stats;
}

/* 8 MiB each way through the engine's own TCP translation (tcpnat.c). */
static void test_tcp_through_gateway(void **state)
{
	struct rk_engine_stats st;

	(void)state;
	tcp_echo(8 << 20, 0, &st, NULL);
	assert_int_equal(st.tcp_flows, 1);
	assert_int_equal(st.tcp_resets, 0);
}

/* With virtio-net headers, as on the engine's real tap: the engine's segments to the
 * child are up to 64 KiB with partial checksums, which the child completes (lwIP's own
 * checksum code) and checks. */
static void test_tcp_vnet(void **state)
{
	struct rk_engine_stats st;
	uint64_t gso;

	(void)state;
	vnet_hdr = true;
	tcp_echo(8 << 20, 0, &st, &gso);
	assert_int_equal(st.tcp_flows, 1);
	assert_true(gso > 0);
}

/* The same through libslirp's TCP, which still carries host forwards. */
static void test_tcp_through_libslirp(void **state)
{
	struct rk_engine_stats st;

	(void)state;
	libslirp_tcp = true;
	tcp_echo(1 << 20, 0, &st, NULL);
	assert_int_equal(st.tcp_flows, 0);
}

/* Every 13th frame to the child is lost: the engine resends, the stream stays whole. */
static void test_tcp_lossy(void **state)
{
	struct rk_engine_stats st;

	(void)state;
	tcp_echo(2 << 20, 13, &st, NULL);
	assert_int_equal(st.tcp_flows, 1);
	assert_true(st.tcp_retransmits > 0);
}

static bool flow_sent_all(const void *arg)
{
	const struct flow *fl = arg;

	return fl->failed || (fl->pcb && fl->sent == fl->to_send && !tcp_sndqueuelen(fl->pcb));
}

/* A host receiver that does not read for a while: the engine holds what the child sends
 * (the window it offers closes, then opens again) and loses none of it. */
static void test_tcp_slow_receiver(void **state)
{
	struct fixture f;
	struct host_server s;
	struct flow fl;
	uint16_t port;
	const size_t total = 8 << 20;
	int small = 16384;

	(void)state;
	start(&f, false, 0);
	serve(&s, SOCK_STREAM, &port, tcp_slow_sink_main);
	setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	flow_connect(&fl, "10.0.2.2", port, total);
	assert_true(run_until(&f, flow_sent_all, &fl));
	assert_false(fl.failed);
	assert_int_equal(tcp_shutdown(fl.pcb, 0, 1), ERR_OK);
	assert_true(run_until(&f, is_set, &fl.peer_closed));
	flow_close(&fl);
	serve_end(&s);
	assert_int_equal(s.bytes, total);
	assert_false(s.mismatch);
	stop(&f);
	assert_true(f.stats.tcp_held > 0);
	assert_int_equal(f.stats.tcp_resets, 0);
}

/* TCP to the DNS address reaches the forwarder's nameserver (an echo server on 127.0.0.1
 * stands in for a resolver's TCP side), even with --disable-host-loopback, as UDP does. */
static void test_tcp_dns(void **state)
{
	struct fixture f;
	struct host_server s;
	struct flow fl;
	uint16_t port;

	(void)state;
	serve(&s, SOCK_STREAM, &port, tcp_echo_main);
	start(&f, true, port);
	flow_connect(&fl, "10.0.2.3", 53, 4096);
	run_until(&f, flow_done, &fl);
	assert_true(fl.connected);
	assert_false(fl.mismatch);
	assert_int_equal(fl.received, 4096);
	assert_int_equal(tcp_shutdown(fl.pcb, 0, 1), ERR_OK);
	assert_true(run_until(&f, is_set, &fl.peer_closed));
	flow_close(&fl);
	serve_end(&s);
	assert_int_equal(s.bytes, 4096);
	stop(&f);
	assert_int_equal(f.stats.tcp_flows, 1);
}

/* A connection to a closed host port is refused with a reset. */
static void test_tcp_refused(void **state)
{
	struct fixture f;
	struct flow fl;
	uint16_t port;
	int fd;

	(void)state;
	start(&f, false, 0);
	/* a port that was just free: bound, then closed */
	fd = host_socket(SOCK_STREAM, &port);
	close(fd);
	flow_connect(&fl, "10.0.2.2", port, 1);
	assert_true(run_until(&f, is_set, &fl.failed));
	assert_false(fl.connected);
	assert_int_equal(fl.err, ERR_RST);
	stop(&f);
	assert_int_equal(f.stats.tcp_flows, 1);
	assert_int_equal(f.stats.tcp_active, 0);
}

/* ---- UDP on lwIP ---- */

struct datagrams {
	struct udp_pcb *pcb;
	uint8_t last[16384];
	size_t last_len;
	ip_addr_t from;
	u16_t from_port;
	bool got;
};

static void dgram_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		       u16_t port)
{
	struct datagrams *d = arg;

	(void)pcb;
	d->last_len = pbuf_copy_partial(p, d->last, sizeof(d->last), 0);
	d->from = *addr;
	d->from_port = port;
	d->got = true;
	pbuf_free(p);
}

static void dgram_open(struct datagrams *d)
{
	memset(d, 0, sizeof(*d));
	d->pcb = udp_new();
	assert_non_null(d->pcb);
	assert_int_equal(udp_bind(d->pcb, IP_ADDR_ANY, 0), ERR_OK);
	udp_recv(d->pcb, dgram_recv, d);
}

static void dgram_send(struct datagrams *d, const char *ip, uint16_t port, const void *buf,
		       size_t len)
{
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	ip_addr_t dst;

	assert_non_null(p);
	pbuf_take(p, buf, (u16_t)len);
	assert_true(ipaddr_aton(ip, &dst));
	d->got = false;
	assert_int_equal(udp_sendto(d->pcb, p, &dst, port), ERR_OK);
	pbuf_free(p);
}

/* Datagrams of 1 byte to 8000 bytes (lwIP fragments those over the MTU; the filter
 * reassembles them, libslirp fragments the echo, lwIP reassembles it) echoed by a host
 * server through 10.0.2.2, each byte for byte. */
static void test_udp_through_gateway(void **state)
{
	static const size_t sizes[] = { 1, 100, 1472, 1473, 4000, 8000 };
	struct fixture f;
	struct host_server s;
	struct datagrams d;
	uint8_t buf[8000];
	uint16_t port;
	size_t total = 0;

	(void)state;
	start(&f, false, 0);
	serve(&s, SOCK_DGRAM, &port, udp_echo_main);
	dgram_open(&d);
	for (size_t i = 0; i < RK_ARRAY_SIZE(sizes); i++) {
		for (size_t k = 0; k < sizes[i]; k++)
			buf[k] = pattern(k + i);
		dgram_send(&d, "10.0.2.2", port, buf, sizes[i]);
		assert_true(run_until(&f, is_set, &d.got));
		assert_int_equal(d.last_len, sizes[i]);
		assert_memory_equal(d.last, buf, sizes[i]);
		assert_int_equal(d.from_port, port);
		assert_string_equal(ipaddr_ntoa(&d.from), "10.0.2.2");
		total += sizes[i];
	}
	udp_remove(d.pcb);
	stop(&f);
	end_udp(port);
	serve_end(&s);
	assert_int_equal(s.bytes, total);
	assert_int_equal(s.peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
}

/* A query to 10.0.2.3 reaches the test's resolver on 127.0.0.1 byte for byte, and its
 * answer comes back from 10.0.2.3:53. */
static void test_dns(void **state)
{
	static const uint8_t query[] = { 0x4a, 0x11, 0x01, 0x00, 0,   1,   0,	0, 0,	0,
					 0,    0,    4,	   't',	 'e', 's', 't', 7, 'i', 'n',
					 'v',  'a',  'l',  'i',	 'd', 0,   0,	1, 0,	1 };
	struct fixture f;
	struct host_server s;
	struct datagrams d;
	uint16_t port;

	(void)state;
	serve(&s, SOCK_DGRAM, &port, resolver_main);
	start(&f, true, port);
	dgram_open(&d);
	dgram_send(&d, "10.0.2.3", 53, query, sizeof(query));
	assert_true(run_until(&f, is_set, &d.got));
	assert_string_equal(ipaddr_ntoa(&d.from), "10.0.2.3");
	assert_int_equal(d.from_port, 53);
	assert_int_equal(d.last_len, sizeof(query) + 16);
	assert_memory_equal(d.last, "\x4a\x11\x81\x80\x00\x01\x00\x01", 8);
	assert_memory_equal(d.last + sizeof(query) + 12, "\xc0\x00\x02\x35", 4);
	udp_remove(d.pcb);
	stop(&f);
	serve_end(&s);
	assert_int_equal(s.query_len, sizeof(query));
	assert_memory_equal(s.query, query, sizeof(query));
}

/* With --disable-host-loopback, neither TCP nor UDP through 10.0.2.2 reaches the host's
 * loopback listeners. */
static void test_loopback_blocked(void **state)
{
	struct fixture f;
	struct flow fl;
	struct datagrams d;
	uint16_t tport, uport;
	int lfd = host_socket(SOCK_STREAM, &tport), ufd = host_socket(SOCK_DGRAM, &uport);

	(void)state;
	start(&f, true, 0);
	flow_connect(&fl, "10.0.2.2", tport, 1);
	dgram_open(&d);
	dgram_send(&d, "10.0.2.2", uport, "ping", 4);
	run_for(&f, 1500);
	assert_false(fl.connected);
	assert_false(readable(lfd, 0));
	assert_false(readable(ufd, 0));
	flow_close(&fl);
	udp_remove(d.pcb);
	stop(&f);
	close(lfd);
	close(ufd);
	/* the engine was there all along: it read the SYN and the datagram, and answered
	 * (ARP for the gateway at least) */
	assert_true(f.stats.frames_in >= 3);
	assert_true(f.stats.frames_out >= 1);
}

/* An Ethernet + IPv4 + TCP SYN from the child to dst:port, checksums right. */
static size_t syn_frame(uint8_t *fr, uint32_t dst, uint16_t port)
{
	uint8_t *ip = fr + 14, *tcp = ip + 20, pseudo[12 + 20];
	uint32_t src;

	memset(fr, 0, 14 + 40);
	rk_filter_slirp_mac(htonl(0x0a000202), fr);
	memcpy(fr + 6, child_mac, 6);
	fr[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 40;
	ip[8] = 64;
	ip[9] = 6;
	inet_pton(AF_INET, "10.0.2.100", &src);
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	uint16_t c = rk_inet_checksum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	tcp[0] = 0x9c; /* source port 40000 */
	tcp[1] = 0x40;
	tcp[2] = (uint8_t)(port >> 8);
	tcp[3] = (uint8_t)port;
	tcp[7] = 1;	/* sequence number */
	tcp[12] = 0x50; /* header length 20 */
	tcp[13] = 0x02; /* SYN */
	tcp[14] = 0xff;
	tcp[15] = 0xff;
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	pseudo[10] = 0;
	pseudo[11] = 20;
	memcpy(pseudo + 12, tcp, 20);
	c = rk_inet_checksum(pseudo, sizeof(pseudo));
	tcp[16] = (uint8_t)(c >> 8);
	tcp[17] = (uint8_t)c;
	return 14 + 40;
}

/* Frames that root in a child could write on its tap: SYNs straight to 127.0.0.1 and
 * 0.0.0.0, a broadcast, another ethertype. None reaches the host listener; the filter
 * counts each; a SYN through the gateway, sent after them, does reach it (so the engine
 * had read them all). */
static void test_filter_drops(void **state)
{
	struct fixture f;
	struct flow fl;
	uint8_t fr[64];
	uint16_t port;
	int lfd = host_socket(SOCK_STREAM, &port), c;
	size_t n;

	(void)state;
	start(&f, false, 0);
	n = syn_frame(fr, htonl(INADDR_LOOPBACK), port);
	assert_int_equal(write(f.child_fd, fr, n), (ssize_t)n);
	n = syn_frame(fr, htonl(INADDR_ANY), port);
	assert_int_equal(write(f.child_fd, fr, n), (ssize_t)n);
	n = syn_frame(fr, htonl(INADDR_BROADCAST), port);
	assert_int_equal(write(f.child_fd, fr, n), (ssize_t)n);
	fr[12] = 0x88; /* LLDP */
	fr[13] = 0xcc;
	assert_int_equal(write(f.child_fd, fr, n), (ssize_t)n);

	flow_connect(&fl, "10.0.2.2", port, 0);
	assert_true(run_until(&f, is_set, &fl.connected));
	assert_true(readable(lfd, WAIT_MS));
	c = accept(lfd, NULL, NULL);
	assert_true(c >= 0);
	close(c);
	assert_false(readable(lfd, 200)); /* that one, and no other */
	flow_close(&fl);
	run_for(&f, 50);
	stop(&f);
	close(lfd);
	assert_int_equal(f.stats.dropped[RK_FILTER_LOOPBACK], 2);
	assert_int_equal(f.stats.dropped[RK_FILTER_BROADCAST], 1);
	assert_int_equal(f.stats.dropped[RK_FILTER_ETHERTYPE], 1);
}

/* ---- a host forward into an lwIP listener (the netstack port driver's path) ---- */

struct echo_conn {
	struct tcp_pcb *pcb;
	struct pbuf *pending; /* received, not yet all written back (at most a window) */
	size_t offset;	      /* written of pending */
	ip_addr_t remote;
	bool accepted, closed; /* closed: the client's end came; close once all is back */
};

static void echo_flush(struct echo_conn *ec)
{
	while (ec->pending) {
		struct pbuf *p = ec->pending;
		size_t room = tcp_sndbuf(ec->pcb), left = p->tot_len - ec->offset;
		u16_t n;
		uint8_t buf[16384];

		if (left > room)
			left = room;
		if (left > sizeof(buf))
			left = sizeof(buf);
		if (!left)
			break;
		n = pbuf_copy_partial(p, buf, (u16_t)left, (u16_t)ec->offset);
		if (tcp_write(ec->pcb, buf, n, TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		ec->offset += n;
		if (ec->offset == p->tot_len) {
			tcp_recved(ec->pcb, p->tot_len);
			ec->pending = NULL;
			ec->offset = 0;
			pbuf_free(p);
		}
	}
	tcp_output(ec->pcb);
	if (ec->closed && !ec->pending) {
		release(ec->pcb);
		ec->pcb = NULL;
	}
}

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct echo_conn *ec = arg;

	(void)pcb;
	(void)err;
	if (!p)
		ec->closed = true;
	else if (ec->pending)
		pbuf_cat(ec->pending, p); /* offsets stay those of the chain's head */
	else
		ec->pending = p;
	echo_flush(ec);
	return ERR_OK;
}

static err_t echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct echo_conn *ec = arg;

	(void)pcb;
	(void)len;
	if (ec->pcb)
		echo_flush(ec);
	return ERR_OK;
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct echo_conn *ec = arg;

	if (err != ERR_OK || ec->accepted)
		return ERR_VAL;
	ec->pcb = pcb;
	ec->remote = pcb->remote_ip;
	ec->accepted = true;
	tcp_arg(pcb, ec);
	tcp_recv(pcb, echo_recv);
	tcp_sent(pcb, echo_sent);
	return ERR_OK;
}

struct host_client {
	uint16_t port;
	size_t total, sent, received;
	bool mismatch, done;
	pthread_t thread;
};

/* Sends total bytes to 127.0.0.1:port while reading the echo, then half-closes and reads
 * to the end. */
static void *client_main(void *arg)
{
	struct host_client *hc = arg;
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(hc->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	static uint8_t buf[65536];
	int64_t end = now_ms() + WAIT_MS;

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto out;
	while (now_ms() < end) {
		struct pollfd p = { .fd = fd,
				    .events = POLLIN | (hc->sent < hc->total ? POLLOUT : 0) };
		ssize_t n;

		if (poll(&p, 1, 100) < 0)
			break;
		if (p.revents & POLLOUT) {
			size_t len = hc->total - hc->sent;
			if (len > sizeof(buf))
				len = sizeof(buf);
			for (size_t k = 0; k < len; k++)
				buf[k] = pattern(hc->sent + k);
			n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				hc->sent += (size_t)n;
			if (hc->sent == hc->total)
				shutdown(fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0)
				break;
			for (ssize_t k = 0; k < n; k++)
				if (buf[k] != pattern(hc->received++))
					hc->mismatch = true;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	hc->done = true;
	return NULL;
}

/* A forward added over the control socket, as the netstack port driver does: a host
 * client on 127.0.0.1 reaches the child's lwIP listener, which sees it as 10.0.2.2, and
 * 4 MiB go both ways byte for byte. Removing the forward closes the host port. */
static void host_forward(struct rk_engine_stats *ret_stats)
{
	struct fixture f;
	struct echo_conn ec = { 0 };
	struct host_client hc = { .total = 4 << 20 };
	struct tcp_pcb *lpcb = tcp_new();
	struct rk_engine_fwd fwd = { .seq = 7, .op = RK_ENGINE_FWD_ADD };
	struct rk_engine_fwd_reply r;
	uint16_t port;
	int probe = host_socket(SOCK_STREAM, &port), c;

	close(probe); /* a free port for the forward */
	start(&f, true, 0);
	assert_non_null(lpcb);
	assert_int_equal(tcp_bind(lpcb, IP_ADDR_ANY, CHILD_PORT), ERR_OK);
	lpcb = tcp_listen(lpcb);
	tcp_arg(lpcb, &ec);
	tcp_accept(lpcb, echo_accept);

	fwd.host.v4 = (struct sockaddr_in){ .sin_family = AF_INET,
					    .sin_port = htons(port),
					    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	fwd.guest.v4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(CHILD_PORT) };
	inet_pton(AF_INET, "10.0.2.100", &fwd.guest.v4.sin_addr);
	assert_int_equal(send(f.ctl[1], &fwd, sizeof(fwd), 0), (ssize_t)sizeof(fwd));
	assert_true(readable(f.ctl[1], WAIT_MS));
	assert_int_equal(recv(f.ctl[1], &r, sizeof(r), 0), (ssize_t)sizeof(r));
	assert_int_equal(r.seq, 7);
	assert_int_equal(r.result, 0);

	hc.port = port;
	assert_int_equal(pthread_create(&hc.thread, NULL, client_main, &hc), 0);
	run_until(&f, is_set, &hc.done);
	pthread_join(hc.thread, NULL);
	assert_true(ec.accepted);
	assert_string_equal(ipaddr_ntoa(&ec.remote), "10.0.2.2");
	assert_false(hc.mismatch);
	assert_int_equal(hc.sent, hc.total);
	assert_int_equal(hc.received, hc.total);

	fwd.op = RK_ENGINE_FWD_REMOVE;
	fwd.seq = 8;
	assert_int_equal(send(f.ctl[1], &fwd, sizeof(fwd), 0), (ssize_t)sizeof(fwd));
	assert_true(readable(f.ctl[1], WAIT_MS));
	assert_int_equal(recv(f.ctl[1], &r, sizeof(r), 0), (ssize_t)sizeof(r));
	assert_int_equal(r.seq, 8);
	assert_int_equal(r.result, 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(c, &fwd.host.sa, sizeof(fwd.host.v4)), -1);
	assert_int_equal(errno, ECONNREFUSED);
	close(c);
	tcp_close(lpcb);
	stop(&f);
	*ret_stats = f.stats;
}

/* Through the engine's own TCP translation (tcpnat.c's listener). */
static void test_host_forward(void **state)
{
	struct rk_engine_stats st;

	(void)state;
	host_forward(&st);
	assert_int_equal(st.tcp_flows, 1);
	assert_int_equal(st.tcp_resets, 0);
}

/* Through libslirp's host forwarding, which UDP forwards still use. */
static void test_host_forward_libslirp(void **state)
{
	struct rk_engine_stats st;

	(void)state;
	libslirp_tcp = true;
	host_forward(&st);
	assert_int_equal(st.tcp_flows, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_through_gateway),
		cmocka_unit_test_teardown(test_tcp_through_libslirp, reset_modes),
		cmocka_unit_test_teardown(test_tcp_vnet, reset_modes),
		cmocka_unit_test(test_tcp_lossy),
		cmocka_unit_test(test_tcp_slow_receiver),
		cmocka_unit_test(test_tcp_refused),
		cmocka_unit_test(test_tcp_dns),
		cmocka_unit_test(test_udp_through_gateway),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_loopback_blocked),
		cmocka_unit_test(test_filter_drops),
		cmocka_unit_test(test_host_forward),
		cmocka_unit_test_teardown(test_host_forward_libslirp, reset_modes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
