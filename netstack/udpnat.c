/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UDP translation for --net=builtin: the child's datagrams onto host sockets, without
 * libslirp.
 *
 * - Each source the child sends from (address and port) gets one unconnected host socket,
 *   as libslirp does: a datagram goes to its destination with sendto() (the gateway is the
 *   host's loopback unless --disable-host-loopback, nat.c), and whatever arrives on the
 *   socket goes back to that source, from the sender's address (a loopback sender shows as
 *   the gateway). A source is closed after RK_UDPNAT_IDLE_MS without a datagram from the
 *   child.
 * - The table is bounded: at its share of the descriptor limit (rk_nat_budget, at most
 *   RK_UDPNAT_FLOWS sources), or when no descriptor is left, the
 *   least recently used source gives way, so a child that opens sources without end keeps
 *   a bounded number of descriptors, and a new source always works.
 * - Host forwards (--port-driver=netstack) are sockets of the same table, bound to the
 *   published address and keyed by the child's side: what a client sends goes to the
 *   service from the client's address, and what the service sends from its port leaves
 *   through the published socket, to whomever it addresses. They are never evicted. An
 *   IPv6 forward to an IPv4 side (no --ipv6) shows each IPv6 client as the gateway on a
 *   port of its own (struct client6), and the service's answers to that port go back to
 *   that client.
 * - Datagrams to the child that do not fit the MTU are cut into IP fragments (IPv4, or a
 *   fragment header for IPv6), as a router on the path would; one that fits carries a
 *   partial checksum behind a virtio-net header, which the child's kernel trusts.
 */
#include "netstack/udpnat.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "netstack/filter.h"
#include "netstack/wire.h"
#include "src/lib/util.h"

#define PROTO_UDP  17
#define PROTO_FRAG 44
#define HASH_SIZE  4096
#define BATCH	   32 /* datagrams read from one socket per pass */
#define DGRAM_MAX  65535

struct uflow {
	struct uflow *hnext;	     /* hash chain */
	struct uflow *older, *newer; /* the LRU list (sources, not forwards) */
	size_t idx;		     /* in u->all */
	int fd;
	int poll_idx;
	bool v6;
	bool forward;
	uint8_t caddr[16];	 /* the child's side (IPv4: first 4 bytes) */
	uint16_t cport;		 /* network byte order */
	union rk_sockaddr host;	 /* a forward's published address */
	int64_t last_ms;	 /* the child's last datagram */
	struct client6 *clients; /* an IPv6 forward to IPv4: who each gateway port is */
	size_t n_clients;
	uint16_t next_port;
};

/* An IPv6 client of a forward to an IPv4 side, as the child sees it: the gateway, port. */
struct client6 {
	struct sockaddr_in6 addr;
	uint16_t port; /* network byte order */
	int64_t last_ms;
};

#define CLIENT_PORT_FIRST 49152
#define CLIENT_PORT_COUNT 16384

struct rk_udpnat {
	struct rk_udpnat_config cfg;
	struct rk_udpnat_stats stats;
	struct uflow *hash[HASH_SIZE];
	struct uflow *oldest, *newest;
	struct uflow **all;
	size_t n_all, cap_all;
	size_t n_sources, max_sources;
	uint16_t ip_id;
	uint32_t frag_id;
	uint8_t gw_mac[6];
	uint8_t hdr[ETH_HLEN + 40 + 8 + 8]; /* Ethernet, IP, fragment and UDP headers */
	uint8_t *buf;			    /* a datagram from a host socket */
};

static size_t hash_key(bool v6, const uint8_t *caddr, uint16_t cport)
{
	uint32_t h = 2166136261u ^ v6;

	for (size_t i = 0; i < (v6 ? 16u : 4u); i++)
		h = (h ^ caddr[i]) * 16777619u;
	h = (h ^ cport) * 16777619u;
	return (h ^ h >> 15) % HASH_SIZE;
}

static struct uflow *lookup(const struct rk_udpnat *u, bool v6, const uint8_t *caddr,
			    uint16_t cport)
{
	for (struct uflow *f = u->hash[hash_key(v6, caddr, cport)]; f; f = f->hnext)
		if (f->v6 == v6 && f->cport == cport && memcmp(f->caddr, caddr, v6 ? 16 : 4) == 0)
			return f;
	return NULL;
}

static void lru_unlink(struct rk_udpnat *u, struct uflow *f)
{
	if (f->older)
		f->older->newer = f->newer;
	else
		u->oldest = f->newer;
	if (f->newer)
		f->newer->older = f->older;
	else
		u->newest = f->older;
	f->older = f->newer = NULL;
}

static void lru_push(struct rk_udpnat *u, struct uflow *f)
{
	f->older = u->newest;
	f->newer = NULL;
	if (u->newest)
		u->newest->newer = f;
	else
		u->oldest = f;
	u->newest = f;
}

static void flow_free(struct rk_udpnat *u, struct uflow *f)
{
	struct uflow **pp = &u->hash[hash_key(f->v6, f->caddr, f->cport)];

	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	if (!f->forward) {
		lru_unlink(u, f);
		u->n_sources--;
	}
	u->all[f->idx] = u->all[--u->n_all];
	u->all[f->idx]->idx = f->idx;
	u->stats.active = u->n_all;
	close(f->fd);
	free(f->clients);
	free(f);
}

/* Whether f is an IPv6 forward to an IPv4 side (clients mapped to gateway ports). */
static bool mapped(const struct uflow *f)
{
	return f->forward && f->host.sa.sa_family == AF_INET6 && !f->v6;
}

/* The gateway port client shows as on f: its own, or a new one (the least recent client
 * gives way when there are RK_UDPNAT_CLIENTS6). */
static uint16_t client_port(struct uflow *f, const struct sockaddr_in6 *client, int64_t now_ms)
{
	struct client6 *c = NULL;
	bool taken;

	for (size_t i = 0; i < f->n_clients; i++)
		if (f->clients[i].addr.sin6_port == client->sin6_port &&
		    memcmp(&f->clients[i].addr.sin6_addr, &client->sin6_addr, 16) == 0) {
			f->clients[i].last_ms = now_ms;
			return f->clients[i].port;
		}
	if (f->n_clients < RK_UDPNAT_CLIENTS6) {
		f->clients = rk_xrealloc(f->clients, (f->n_clients + 1) * sizeof(*f->clients));
		c = &f->clients[f->n_clients++];
	} else {
		c = &f->clients[0];
		for (size_t i = 1; i < f->n_clients; i++)
			if (f->clients[i].last_ms < c->last_ms)
				c = &f->clients[i];
	}
	c->addr = *client;
	c->last_ms = now_ms;
	/* a port no other client of f has (there are fewer clients than ports) */
	do {
		c->port = htons((uint16_t)(CLIENT_PORT_FIRST + f->next_port++ % CLIENT_PORT_COUNT));
		taken = false;
		for (size_t i = 0; i < f->n_clients && !taken; i++)
			taken = &f->clients[i] != c && f->clients[i].port == c->port;
	} while (taken);
	return c->port;
}

/* Where the service's datagram to the gateway's port goes on mapped forward f: into *to.
 * False when no client has that port. */
static bool client_of_port(const struct rk_udpnat *u, const struct uflow *f, const uint8_t *dst,
			   uint16_t port, struct sockaddr_storage *to)
{
	if (memcmp(dst, &u->cfg.vnet->gateway, 4) != 0)
		return false;
	for (size_t i = 0; i < f->n_clients; i++)
		if (f->clients[i].port == port) {
			memset(to, 0, sizeof(*to));
			memcpy(to, &f->clients[i].addr, sizeof(f->clients[i].addr));
			return true;
		}
	return false;
}

/* Enters f (its fd open, its key set) into the table. */
static void flow_add(struct rk_udpnat *u, struct uflow *f)
{
	size_t h = hash_key(f->v6, f->caddr, f->cport);

	if (u->n_all == u->cap_all) {
		u->cap_all = u->cap_all ? u->cap_all * 2 : 64;
		u->all = rk_xrealloc(u->all, u->cap_all * sizeof(*u->all));
	}
	f->idx = u->n_all;
	u->all[u->n_all++] = f;
	f->hnext = u->hash[h];
	u->hash[h] = f;
	f->poll_idx = -1;
	if (!f->forward) {
		lru_push(u, f);
		u->n_sources++;
		u->stats.flows++;
	}
	u->stats.active = u->n_all;
}

/* Makes room by closing the least recently used source. Returns false if there is none. */
static bool evict(struct rk_udpnat *u)
{
	if (!u->oldest)
		return false;
	flow_free(u, u->oldest);
	u->stats.evicted++;
	return true;
}

/* A socket for a new source of the child's, or NULL. */
static struct uflow *open_source(struct rk_udpnat *u, bool v6, const uint8_t *caddr, uint16_t cport)
{
	struct uflow *f;
	int fd;

	if (u->n_sources >= u->max_sources)
		evict(u);
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* out of descriptors: a source of ours gives one back */
	if (fd < 0 && (errno == EMFILE || errno == ENFILE) && evict(u))
		fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	f = rk_xcalloc(1, sizeof(*f));
	f->fd = fd;
	f->v6 = v6;
	memcpy(f->caddr, caddr, v6 ? 16 : 4);
	f->cport = cport;
	flow_add(u, f);
	return f;
}

void rk_udpnat_input(struct rk_udpnat *u, const struct rk_frame *fr, int64_t now_ms)
{
	const uint8_t *udp = fr->data + fr->l4, *src = fr->src, *dst = fr->dst;
	size_t len = rk_get16(udp + 4) - 8u; /* the filter checked it: 8 up to the packet's end */
	uint16_t sport = fr->sport, dport = fr->dport;
	struct sockaddr_storage to;
	struct uflow *f = lookup(u, fr->v6, src, sport);

	/* a mapped forward answers its IPv6 clients only, through their gateway ports */
	if (f && mapped(f) ? !client_of_port(u, f, dst, dport, &to)
			   : !rk_nat_outbound(u->cfg.vnet, fr->v6, dst, dport, &to) || dport == 0) {
		u->stats.refused++;
		return;
	}
	if (!f)
		f = open_source(u, fr->v6, src, sport);
	if (!f) {
		u->stats.refused++;
		return;
	}
	if (!f->forward) {
		f->last_ms = now_ms;
		lru_unlink(u, f);
		lru_push(u, f);
	}
	/* an IPv4 forward's socket takes only IPv4 destinations: the key says it is one */
	(void)!sendto(f->fd, udp + 8, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&to,
		      to.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					       : sizeof(struct sockaddr_in));
}

/* Writes the iov (after the slot for a virtio-net header) as one frame to the child. */
static void write_frame(struct rk_udpnat *u, struct iovec *iov, int n,
			const struct virtio_net_hdr *vh)
{
	iov[0] = (struct iovec){ (void *)vh, sizeof(*vh) };
	if (writev(u->cfg.tap, iov + !u->cfg.vnet_hdr, n + u->cfg.vnet_hdr) < 0)
		u->stats.out_dropped++;
}

/* A datagram of len bytes to the child's dst:dport, from src:sport (addresses of the
 * child's family), cut into fragments where it does not fit the MTU. */
static void to_child(struct rk_udpnat *u, bool v6, const uint8_t *src, uint16_t sport,
		     const uint8_t *dst, uint16_t dport, const uint8_t *data, size_t len)
{
	size_t iphl = v6 ? 40 : 20, udplen = 8 + len, at, hl;
	uint8_t udph[8];
	uint16_t csum;
	uint64_t sum = rk_nat_pseudo(v6, src, dst, PROTO_UDP, udplen);
	struct virtio_net_hdr vh = { 0 };
	struct iovec iov[4];

	memcpy(udph, &sport, 2);
	memcpy(udph + 2, &dport, 2);
	rk_put16(udph + 4, (uint16_t)udplen);
	rk_put16(udph + 6, 0);
	if (iphl + udplen <= u->cfg.vnet->mtu) {
		hl = rk_nat_headers(u->hdr, u->cfg.peer->mac, u->gw_mac, v6, src, dst, PROTO_UDP,
				    udplen, u->ip_id++, 0);
		if (u->cfg.vnet_hdr) {
			/* partial: the pseudo-header's sum, not inverted, as the kernel leaves it
			 */
			vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			vh.csum_start = (uint16_t)hl;
			vh.csum_offset = 6;
			csum = (uint16_t)~rk_nat_fold(sum);
		} else {
			csum = rk_nat_fold(rk_nat_sum(rk_nat_sum(sum, udph, 8), data, len));
		}
		memcpy(udph + 6, csum ? &csum : &(uint16_t){ 0xffff }, 2);
		memcpy(u->hdr + hl, udph, 8);
		iov[1] = (struct iovec){ u->hdr, hl + 8 };
		iov[2] = (struct iovec){ (void *)data, len };
		write_frame(u, iov, 2, &vh);
		return;
	}
	/* fragments: the checksum covers the whole datagram, so it is summed here */
	csum = rk_nat_fold(rk_nat_sum(rk_nat_sum(sum, udph, 8), data, len));
	memcpy(udph + 6, csum ? &csum : &(uint16_t){ 0xffff }, 2);
	size_t chunk = (u->cfg.vnet->mtu - iphl - (v6 ? 8 : 0)) & ~(size_t)7;
	uint16_t id = u->ip_id++;
	uint32_t id6 = ++u->frag_id;
	for (at = 0; at < udplen; at += chunk) {
		size_t piece = udplen - at < chunk ? udplen - at : chunk;
		/* the first carries the UDP header, the rest only data */
		size_t from = at ? at - 8 : 0, dlen = at ? piece : piece - 8;
		bool more = at + piece < udplen;
		int n = 1;
		if (v6) {
			uint8_t *fh;
			hl = rk_nat_headers(u->hdr, u->cfg.peer->mac, u->gw_mac, true, src, dst,
					    PROTO_FRAG, 8 + piece, 0, 0);
			fh = u->hdr + hl;
			fh[0] = PROTO_UDP;
			fh[1] = 0;
			rk_put16(fh + 2, (uint16_t)(at | more));
			rk_put32(fh + 4, id6);
			hl += 8;
		} else {
			hl = rk_nat_headers(u->hdr, u->cfg.peer->mac, u->gw_mac, false, src, dst,
					    PROTO_UDP, piece, id,
					    (uint16_t)(at / 8 | (more ? 0x2000 : 0)));
		}
		iov[n++] = (struct iovec){ u->hdr, hl };
		if (!at)
			iov[n++] = (struct iovec){ udph, 8 };
		iov[n++] = (struct iovec){ (void *)(data + from), dlen };
		vh = (struct virtio_net_hdr){ 0 };
		write_frame(u, iov, n - 1, &vh);
	}
}

/* What arrived on f's socket, to the child (a bounded number per pass). */
static void receive(struct rk_udpnat *u, struct uflow *f, int64_t now_ms)
{
	int family = f->forward ? f->host.sa.sa_family : f->v6 ? AF_INET6 : AF_INET;

	for (int i = 0; i < BATCH; i++) {
		struct sockaddr_storage from = { 0 };
		socklen_t flen = sizeof(from);
		uint8_t saddr[16];
		uint16_t sport;
		ssize_t n = recvfrom(f->fd, u->buf, DGRAM_MAX, MSG_DONTWAIT,
				     (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			continue; /* an ICMP error queued on the socket: read past it */
		}
		if (from.ss_family != family)
			continue;
		if (!u->cfg.peer->known) {
			/* a forward's client before the child spoke: ask where it is */
			uint8_t a[ETH_HLEN + 28];
			struct iovec iov[2] = { { 0 }, { a, sizeof(a) } };
			struct virtio_net_hdr none = { 0 };
			rk_nat_arp_request(a, u->gw_mac, u->cfg.vnet->gateway,
					   f->v6 ? (const uint8_t *)&u->cfg.vnet->child : f->caddr);
			write_frame(u, iov, 1, &none);
			continue;
		}
		if (!rk_nat_inbound_as(u->cfg.vnet, &from, f->v6, saddr, &sport))
			continue;
		if (mapped(f) && !IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&from)->sin6_addr))
			sport = client_port(f, (struct sockaddr_in6 *)&from, now_ms);
		to_child(u, f->v6, saddr, sport, f->caddr, f->cport, u->buf, (size_t)n);
	}
}

int rk_udpnat_listen(struct rk_udpnat *u, const union rk_sockaddr *host,
		     const union rk_sockaddr *guest)
{
	struct uflow *f, *old;
	size_t forwards = u->n_all - u->n_sources;
	bool v6 = guest->sa.sa_family == AF_INET6;
	int fd, one = 1;

	if (forwards >= RK_UDPNAT_FORWARDS)
		return -ENOSPC;
	if (v6 && host->sa.sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	for (size_t i = 0; i < u->n_all; i++)
		if (u->all[i]->forward && rk_sockaddr_equal(&u->all[i]->host, host))
			return -EADDRINUSE;
	old = lookup(u, v6, rk_sockaddr_addr(guest), rk_sockaddr_port(guest));
	if (old && old->forward)
		return -EEXIST; /* one published socket per port of the child */
	fd = socket(host->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (host->sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &host->sa, rk_sockaddr_len(host)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	/* the service's own source gives way: its datagrams leave by the published socket */
	if (old)
		flow_free(u, old);
	f = rk_xcalloc(1, sizeof(*f));
	f->fd = fd;
	f->forward = true;
	f->v6 = v6;
	memcpy(f->caddr, rk_sockaddr_addr(guest), v6 ? 16 : 4);
	f->cport = rk_sockaddr_port(guest);
	f->host = *host;
	flow_add(u, f);
	return 0;
}

int rk_udpnat_unlisten(struct rk_udpnat *u, const union rk_sockaddr *host)
{
	for (size_t i = 0; i < u->n_all; i++) {
		struct uflow *f = u->all[i];
		if (f->forward && rk_sockaddr_equal(&f->host, host)) {
			flow_free(u, f);
			return 0;
		}
	}
	return -ENOENT;
}

void rk_udpnat_fill(struct rk_udpnat *u, int64_t now_ms,
		    int (*add)(int fd, int events, void *opaque), void *opaque,
		    uint32_t *timeout_ms)
{
	/* the oldest first: what expires is at the front of the list */
	while (u->oldest && now_ms - u->oldest->last_ms >= RK_UDPNAT_IDLE_MS)
		flow_free(u, u->oldest);
	if (u->oldest) {
		int64_t left = u->oldest->last_ms + RK_UDPNAT_IDLE_MS - now_ms;
		if ((uint64_t)left < *timeout_ms)
			*timeout_ms = (uint32_t)left;
	}
	for (size_t i = 0; i < u->n_all; i++)
		u->all[i]->poll_idx = add(u->all[i]->fd, POLLIN, opaque);
}

void rk_udpnat_poll(struct rk_udpnat *u, int64_t now_ms, int (*revents)(int idx, void *opaque),
		    void *opaque)
{
	for (size_t i = 0; i < u->n_all; i++) {
		struct uflow *f = u->all[i];
		if (f->poll_idx >= 0 && revents(f->poll_idx, opaque))
			receive(u, f, now_ms);
		f->poll_idx = -1;
	}
}

const struct rk_udpnat_stats *rk_udpnat_stats(const struct rk_udpnat *u)
{
	return &u->stats;
}

struct rk_udpnat *rk_udpnat_new(const struct rk_udpnat_config *cfg)
{
	struct rk_udpnat *u = rk_xcalloc(1, sizeof(*u));
	size_t tcp;

	u->cfg = *cfg;
	rk_nat_budget(&tcp, &u->max_sources);
	u->buf = rk_xmalloc(DGRAM_MAX);
	rk_filter_slirp_mac(cfg->vnet->gateway, u->gw_mac);
	return u;
}

void rk_udpnat_free(struct rk_udpnat *u)
{
	if (!u)
		return;
	while (u->n_all)
		flow_free(u, u->all[u->n_all - 1]);
	free(u->all);
	free(u->buf);
	free(u);
}
