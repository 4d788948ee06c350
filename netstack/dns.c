/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DNS forwarder of --net=builtin.
 *
 * libslirp forwards the child's queries to 10.0.2.3 only to the host's IPv4 resolvers and
 * those to fd00::3 only to its IPv6 ones, so a host whose only resolver is a stub on ::1
 * leaves the child without DNS. The engine therefore answers UDP queries to the DNS
 * addresses itself, before libslirp sees them: each query is sent from a socket of its
 * own (a fresh random source port, connected, so only the resolver's answer is read) to
 * the first nameserver of the host's resolv.conf, of either family, loopback stubs
 * included. A refused query goes on to the next nameserver. The answer is written back to
 * the child as a UDP frame from the DNS address. At most RK_DNS_PENDING queries are in
 * flight and each for 5 s at most, so a flood of queries holds a bounded number of
 * descriptors. (TCP to the DNS address is still libslirp's.)
 */
#include "netstack/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netstack/filter.h"
#include "netstack/wire.h"
#include "src/lib/log.h"
#include "src/lib/util.h"

/* ETH_HLEN and the ETH_P_ values come with <linux/virtio_net.h> (filter.h) */
#define PROTO_UDP  17
#define DNS_PORT   53
#define DNS_HLEN   12
#define TIMEOUT_MS 5000
#define RELOAD_MS  1000 /* resolv.conf is looked at no more often */
#define MAX_ANSWER 65535
#define FRAME_SIZE (ETH_HLEN + 40 + 8 + MAX_ANSWER)

/* the DNS address of the IPv6 network (fd00::3) */
static const uint8_t dns6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 };

struct query {
	int fd;	      /* -1: a free slot */
	int poll_idx; /* in the engine's poll set, or -1 */
	bool v6;
	unsigned server;  /* the resolver it was sent to */
	int64_t sent_ms;  /* when it was first sent */
	uint8_t mac[6];	  /* the child's */
	uint8_t addr[16]; /* the child's address (IPv4 in the first 4 bytes) */
	uint16_t port;	  /* and port, network byte order */
	uint8_t *msg;	  /* the query, kept to resend to the next resolver */
	size_t len;
};

struct rk_dns {
	struct rk_dns_config cfg;
	rk_dns_send_fn *send;
	void *opaque;
	int64_t checked_ms; /* when resolv.conf was last looked at; -1: never */
	struct timespec mtime;
	ino_t ino;
	off_t size;
	uint16_t ip_id;
	struct query q[RK_DNS_PENDING];
	uint8_t *frame; /* FRAME_SIZE bytes for an answer, allocated at the first query */
};

size_t rk_dns_parse_resolv(const char *text, struct sockaddr_storage *out, size_t max)
{
	size_t n = 0;

	for (const char *line = text; line && *line && n < max;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char addr[INET6_ADDRSTRLEN + IF_NAMESIZE + 2], *scope;
		struct sockaddr_in *in = (struct sockaddr_in *)&out[n];
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out[n];

		if (sscanf(line, " nameserver %63s", addr) != 1)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		scope = strchr(addr, '%');
		if (scope)
			*scope++ = '\0';
		if (!scope && inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
			in->sin_family = AF_INET;
			in->sin_port = htons(DNS_PORT);
			n++;
		} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons(DNS_PORT);
			if (scope) {
				uint64_t id = if_nametoindex(scope);
				if (!id && (rk_parse_u64(scope, &id) < 0 || id > UINT32_MAX))
					continue;
				in6->sin6_scope_id = (uint32_t)id;
			}
			n++;
		}
	}
	return n;
}

/* Reads resolv.conf again if it changed (at most once a RELOAD_MS). With no nameserver,
 * the resolver is 127.0.0.1, as for glibc. A file that cannot be opened keeps the
 * nameservers read before. */
static void reload(struct rk_dns *d, int64_t now_ms)
{
	const char *path = d->cfg.resolv_conf ? d->cfg.resolv_conf : "/etc/resolv.conf";
	struct stat st;
	char buf[8192];
	ssize_t n = -1;
	int fd;

	if (d->checked_ms >= 0 && now_ms - d->checked_ms < RELOAD_MS)
		return;
	d->checked_ms = now_ms;
	if (stat(path, &st) == 0 && st.st_ino == d->ino && st.st_size == d->size &&
	    st.st_mtim.tv_sec == d->mtime.tv_sec && st.st_mtim.tv_nsec == d->mtime.tv_nsec &&
	    d->cfg.n_servers)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && d->cfg.n_servers)
		return; /* gone from view (the sandbox): what was read stays */
	if (fd >= 0) {
		if (fstat(fd, &st) == 0) {
			d->ino = st.st_ino;
			d->size = st.st_size;
			d->mtime = st.st_mtim;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	d->cfg.n_servers = rk_dns_parse_resolv(buf, d->cfg.servers, RK_DNS_SERVERS);
	if (!d->cfg.n_servers) {
		struct sockaddr_in *in = (struct sockaddr_in *)&d->cfg.servers[0];
		*in = (struct sockaddr_in){ .sin_family = AF_INET,
					    .sin_port = htons(DNS_PORT),
					    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		d->cfg.n_servers = 1;
	}
}

struct rk_dns *rk_dns_new(const struct rk_dns_config *cfg, rk_dns_send_fn *send, void *opaque)
{
	struct rk_dns *d = rk_xcalloc(1, sizeof(*d));

	d->cfg = *cfg;
	d->send = send;
	d->opaque = opaque;
	d->checked_ms = cfg->n_servers ? INT64_MAX : -1; /* fixed servers: never read */
	for (size_t i = 0; i < RK_DNS_PENDING; i++)
		d->q[i].fd = -1;
	/* read now, before the engine is confined: a resolv.conf that is a link out of /etc
	 * and /run can no longer be read afterwards, and its nameservers then stay */
	reload(d, 0);
	return d;
}

static void finish(struct query *q)
{
	if (q->fd >= 0)
		close(q->fd);
	free(q->msg);
	q->msg = NULL;
	q->fd = -1;
}

/* Sends q to resolver q->server or a later one. Returns false when none took it. */
static bool send_query(struct rk_dns *d, struct query *q)
{
	for (; q->server < d->cfg.n_servers; q->server++) {
		const struct sockaddr_storage *ss = &d->cfg.servers[q->server];
		socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							  : sizeof(struct sockaddr_in);
		if (q->fd >= 0)
			close(q->fd);
		q->fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (q->fd < 0)
			return false; /* out of descriptors: no resolver will do better */
		if (connect(q->fd, (const struct sockaddr *)ss, len) == 0 &&
		    send(q->fd, q->msg, q->len, 0) == (ssize_t)q->len)
			return true;
	}
	return false;
}

void rk_dns_input(struct rk_dns *d, const struct rk_frame *fr, int64_t now_ms)
{
	const uint8_t *udp = fr->data + fr->l4;
	size_t udp_len = rk_get16(udp + 4); /* the filter checked it: 8 up to the packet's end */
	struct query tmp = { .v6 = fr->v6, .port = fr->sport }, *q = NULL;

	memcpy(tmp.addr, fr->src, fr->v6 ? 16 : 4);
	memcpy(tmp.mac, fr->data + 6, 6);
	if (udp_len < 8 + DNS_HLEN || !tmp.port)
		return;
	/* a free slot, or the oldest query gives way */
	for (size_t i = 0; i < RK_DNS_PENDING; i++) {
		if (d->q[i].fd < 0) {
			q = &d->q[i];
			break;
		}
		if (!q || d->q[i].sent_ms < q->sent_ms)
			q = &d->q[i];
	}
	finish(q);
	*q = tmp;
	q->fd = -1;
	q->poll_idx = -1; /* not polled before the next fill */
	q->server = 0;
	q->sent_ms = now_ms;
	q->len = udp_len - 8;
	q->msg = rk_xmalloc(q->len);
	memcpy(q->msg, udp + 8, q->len);
	reload(d, now_ms);
	if (!send_query(d, q))
		finish(q);
}

void rk_dns_fill(struct rk_dns *d, int64_t now_ms, int (*add)(int fd, void *opaque), void *opaque,
		 uint32_t *timeout_ms)
{
	for (size_t i = 0; i < RK_DNS_PENDING; i++) {
		struct query *q = &d->q[i];
		int64_t left;

		if (q->fd < 0)
			continue;
		left = q->sent_ms + TIMEOUT_MS - now_ms;
		if (left <= 0) {
			finish(q);
			continue;
		}
		if ((uint64_t)left < *timeout_ms)
			*timeout_ms = (uint32_t)left;
		q->poll_idx = add(q->fd, opaque);
	}
}

/* The UDP checksum over IPv6 of the datagram (len bytes) that follows the header at ip.
 * The addresses and the datagram are contiguous there; the pseudo-header's length and
 * next header are added to their sum (one's complement sums add). */
static uint16_t udp6_checksum(const uint8_t *ip, size_t len)
{
	uint32_t sum = (uint16_t)~rk_inet_checksum(ip + 8, 32 + len);

	sum += (uint32_t)len + PROTO_UDP;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = (uint16_t)~sum;
	return sum ? (uint16_t)sum : 0xffff;
}

/* The end of the question section of a DNS message, or 0. */
static size_t question_end(const uint8_t *m, size_t len)
{
	size_t off = DNS_HLEN;

	if (rk_get16(m + 4) != 1)
		return 0;
	while (off < len && m[off]) {
		if (m[off] > 63)
			return 0;
		off += 1 + (size_t)m[off];
	}
	return off + 5 <= len ? off + 5 : 0;
}

/* Sends the answer in d->frame (at the UDP payload's offset for q's family) to the child. */
static void answer(struct rk_dns *d, const struct query *q, size_t len)
{
	size_t ip_hlen = q->v6 ? 40 : 20, room;
	uint8_t *eth = d->frame, *ip = eth + ETH_HLEN, *udp = ip + ip_hlen, *msg = udp + 8;

	if (d->cfg.vnet->mtu < ip_hlen + 8 + DNS_HLEN)
		return;
	room = d->cfg.vnet->mtu - ip_hlen - 8;
	if (len > room) {
		/* too long for the child's MTU: the question alone with TC, so that the child
		 * asks again over TCP */
		len = question_end(msg, len);
		if (!len || len > room)
			return;
		msg[2] |= 0x02;
		memset(msg + 6, 0, 6);
	}
	memcpy(eth, q->mac, 6);
	eth[6] = 0x52;
	rk_put16(udp, DNS_PORT);
	memcpy(udp + 2, &q->port, 2);
	rk_put16(udp + 4, (uint16_t)(8 + len));
	rk_put16(udp + 6, 0);
	if (q->v6) {
		eth[7] = 0x56;
		memcpy(eth + 8, dns6 + 12, 4);
		rk_put16(eth + 12, ETH_P_IPV6);
		memset(ip, 0, 40);
		ip[0] = 0x60;
		rk_put16(ip + 4, (uint16_t)(8 + len));
		ip[6] = PROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, dns6, 16);
		memcpy(ip + 24, q->addr, 16);
		rk_put16(udp + 6, udp6_checksum(ip, 8 + len));
	} else {
		eth[7] = 0x55;
		memcpy(eth + 8, &d->cfg.vnet->dns, 4);
		rk_put16(eth + 12, ETH_P_IP);
		memset(ip, 0, 20);
		ip[0] = 0x45;
		rk_put16(ip + 2, (uint16_t)(20 + 8 + len));
		rk_put16(ip + 4, d->ip_id++);
		ip[8] = 64;
		ip[9] = PROTO_UDP;
		memcpy(ip + 12, &d->cfg.vnet->dns, 4);
		memcpy(ip + 16, q->addr, 4);
		rk_put16(ip + 10, rk_inet_checksum(ip, 20));
		/* the UDP checksum is optional over IPv4: left 0, as many resolvers do */
	}
	d->send(d->frame, ETH_HLEN + ip_hlen + 8 + len, d->opaque);
}

void rk_dns_poll(struct rk_dns *d, int (*revents)(int idx, void *opaque), void *opaque)
{
	for (size_t i = 0; i < RK_DNS_PENDING; i++) {
		struct query *q = &d->q[i];
		size_t off;
		ssize_t n;

		if (q->fd < 0 || !revents(q->poll_idx, opaque))
			continue;
		off = ETH_HLEN + (q->v6 ? 40 : 20) + 8;
		if (!d->frame)
			d->frame = rk_xmalloc(FRAME_SIZE);
		n = recv(q->fd, d->frame + off, MAX_ANSWER, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			/* refused (no resolver there): the next one */
			q->server++;
			q->poll_idx = -1;
			if (!send_query(d, q))
				finish(q);
			continue;
		}
		/* an answer to this query (same ID), or ignored */
		if ((size_t)n < DNS_HLEN || memcmp(d->frame + off, q->msg, 2))
			continue;
		answer(d, q, (size_t)n);
		finish(q);
	}
}

bool rk_dns_server(struct rk_dns *d, int64_t now_ms, struct sockaddr_storage *ret)
{
	reload(d, now_ms);
	if (!d->cfg.n_servers)
		return false;
	*ret = d->cfg.servers[0];
	return true;
}

size_t rk_dns_pending(const struct rk_dns *d)
{
	size_t n = 0;

	for (size_t i = 0; i < RK_DNS_PENDING; i++)
		n += d->q[i].fd >= 0;
	return n;
}

void rk_dns_free(struct rk_dns *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < RK_DNS_PENDING; i++)
		finish(&d->q[i]);
	free(d->frame);
	free(d);
}
