/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ICMP echo for --net=builtin when libslirp is not loaded
 *
 * With the TCP translation running and without --ipv6, libslirp would only carry ICMP
 * (engine.c then leaves it unloaded, and the filter answers ARP). This is that ICMP:
 *
 * - An echo request to one of the network's own addresses (the gateway, the DNS address)
 *   is answered here, as libslirp answers them.
 * - An echo request to an address outside the virtual network goes out through an
 *   unprivileged ICMP socket of the host (a "ping socket": net.ipv4.ping_group_range must
 *   hold the user's group), one socket per identifier and destination of the child's. The
 *   kernel numbers the requests of each socket with an identifier of its own; the replies
 *   get the child's back. Where no such socket can be had the request is dropped, as
 *   libslirp's only fallback (a UDP datagram to port 7) comes to on any current host.
 * - Everything else is dropped: the rest of the virtual network has no hosts, and ICMP
 *   errors from the child answer traffic that reached it, which needs nothing of ours.
 *
 * Replies larger than the MTU (the child may send a request that was fragmented) go back
 * in IPv4 fragments. Checksums are computed here, and the child's are checked first.
 */
#include "netstack/icmpnat.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "netstack/filter.h"
#include "netstack/wire.h"
#include "src/lib/log.h"
#include "src/lib/util.h"

#define PROTO_ICMP   1
#define ECHO_REPLY   0
#define ECHO_REQUEST 8
#define BATCH	     16 /* replies read per socket and pass */

struct flow {
	int fd; /* -1: a free slot */
	int poll_idx;
	uint16_t id;  /* the child's identifier */
	uint32_t dst; /* where its requests go (network byte order) */
	int64_t last_ms;
};

struct rk_icmpnat {
	struct rk_icmpnat_config cfg;
	struct rk_icmpnat_stats stats;
	struct flow flows[RK_ICMPNAT_FLOWS];
	uint16_t ip_id;
	bool warned; /* that no ping socket can be had */
	uint8_t hdr[ETH_HLEN + 20];
	uint8_t *buf; /* one ICMP message, RK_FRAME_MAX bytes */
};

struct rk_icmpnat *rk_icmpnat_new(const struct rk_icmpnat_config *cfg)
{
	struct rk_icmpnat *n = rk_xcalloc(1, sizeof(*n));

	n->cfg = *cfg;
	n->buf = rk_xmalloc(RK_FRAME_MAX);
	for (size_t i = 0; i < RK_ARRAY_SIZE(n->flows); i++)
		n->flows[i].fd = -1;
	return n;
}

/* The ICMP message msg (len bytes, its checksum done) to the child at dst from src, in
 * fragments where it does not fit the MTU. */
static void to_child(struct rk_icmpnat *n, uint32_t src, uint32_t dst, const uint8_t *msg,
		     size_t len)
{
	const struct rk_vnet *v = n->cfg.vnet;
	/* a reply from one of the network's own addresses comes from its MAC; one from
	 * outside comes through the gateway */
	uint32_t from = src == v->dns ? v->dns : v->gateway;
	size_t chunk = (v->mtu - 20) & ~(size_t)7, hl;
	struct virtio_net_hdr vh = { 0 }; /* a whole frame, checksums done */
	uint16_t id = n->ip_id++;
	uint8_t mac[6];

	if (!n->cfg.peer->known) { /* no frame came from the child yet: nowhere to go */
		n->stats.out_dropped++;
		return;
	}
	rk_filter_slirp_mac(from, mac);
	for (size_t at = 0; at < len; at += chunk) {
		size_t piece = len - at < chunk ? len - at : chunk;
		bool more = at + piece < len;
		struct iovec iov[3];
		hl = rk_nat_headers(n->hdr, n->cfg.peer->mac, mac, false, (const uint8_t *)&src,
				    (const uint8_t *)&dst, PROTO_ICMP, piece, id,
				    (uint16_t)(at / 8 | (more ? 0x2000 : 0)));
		iov[0] = (struct iovec){ &vh, sizeof(vh) };
		iov[1] = (struct iovec){ n->hdr, hl };
		iov[2] = (struct iovec){ (void *)(msg + at), piece };
		if (writev(n->cfg.tap, iov + !n->cfg.vnet_hdr, 2 + n->cfg.vnet_hdr) < 0) {
			n->stats.out_dropped++;
			break;
		}
	}
}

/* A free slot, or the least recently used one, closed. */
static struct flow *take_slot(struct rk_icmpnat *n)
{
	struct flow *oldest = &n->flows[0];

	for (size_t i = 0; i < RK_ARRAY_SIZE(n->flows); i++) {
		struct flow *f = &n->flows[i];
		if (f->fd < 0)
			return f;
		if (f->last_ms < oldest->last_ms)
			oldest = f;
	}
	close(oldest->fd);
	oldest->fd = -1;
	return oldest;
}

/* The socket for the child's requests with identifier id to dst, opened if new; NULL when
 * none can be had. */
static struct flow *flow_for(struct rk_icmpnat *n, uint16_t id, uint32_t dst, int64_t now_ms)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = dst };
	struct flow *f;
	int fd;

	for (size_t i = 0; i < RK_ARRAY_SIZE(n->flows); i++) {
		f = &n->flows[i];
		if (f->fd >= 0 && f->id == id && f->dst == dst)
			return f;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0) {
		if (!n->warned)
			rk_debug("netstack: no ICMP socket (net.ipv4.ping_group_range): %s; "
				 "the child's pings to the outside are dropped",
				 strerror(errno));
		n->warned = true;
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		close(fd);
		return NULL;
	}
	f = take_slot(n);
	*f = (struct flow){ .fd = fd, .poll_idx = -1, .id = id, .dst = dst, .last_ms = now_ms };
	return f;
}

void rk_icmpnat_input(struct rk_icmpnat *n, const struct rk_frame *fr, int64_t now_ms)
{
	const uint8_t *icmp = fr->data + fr->l4;
	size_t len = fr->len - fr->l4;
	const struct rk_vnet *v;
	uint32_t src, dst;
	struct flow *f;

	if (!n)
		return;
	v = n->cfg.vnet;
	if (fr->v6 || rk_get16(fr->data + 12) != 0x0800 || fr->proto != PROTO_ICMP || len < 8 ||
	    icmp[0] != ECHO_REQUEST || icmp[1] != 0 || rk_inet_checksum(icmp, len) != 0) {
		n->stats.dropped++;
		return;
	}
	memcpy(&src, fr->src, 4);
	memcpy(&dst, fr->dst, 4);
	if (dst == v->gateway || dst == v->dns) {
		memcpy(n->buf, icmp, len);
		n->buf[0] = ECHO_REPLY;
		rk_put16(n->buf + 2, 0);
		rk_put16(n->buf + 2, rk_inet_checksum(n->buf, len));
		to_child(n, dst, src, n->buf, len);
		n->stats.answered++;
		return;
	}
	if ((dst & v->mask) == v->net || !(f = flow_for(n, rk_get16(icmp + 4), dst, now_ms))) {
		n->stats.dropped++;
		return;
	}
	/* the kernel puts the socket's identifier in, and the checksum */
	if (send(f->fd, icmp, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		n->stats.dropped++;
		return;
	}
	f->last_ms = now_ms;
	n->stats.sent++;
}

void rk_icmpnat_fill(struct rk_icmpnat *n, int64_t now_ms,
		     int (*add)(int fd, int events, void *opaque), void *opaque,
		     uint32_t *timeout_ms)
{
	for (size_t i = 0; n && i < RK_ARRAY_SIZE(n->flows); i++) {
		struct flow *f = &n->flows[i];
		int64_t left;
		if (f->fd < 0)
			continue;
		left = f->last_ms + RK_ICMPNAT_IDLE_MS - now_ms;
		if (left <= 0) {
			close(f->fd);
			f->fd = -1;
			continue;
		}
		f->poll_idx = add(f->fd, POLLIN, opaque);
		if ((uint64_t)left < *timeout_ms)
			*timeout_ms = (uint32_t)left;
	}
}

void rk_icmpnat_poll(struct rk_icmpnat *n, int64_t now_ms, int (*revents)(int idx, void *opaque),
		     void *opaque)
{
	for (size_t i = 0; n && i < RK_ARRAY_SIZE(n->flows); i++) {
		struct flow *f = &n->flows[i];
		if (f->fd < 0 || f->poll_idx < 0 || !revents(f->poll_idx, opaque))
			continue;
		f->poll_idx = -1;
		for (int k = 0; k < BATCH; k++) {
			/* an error (an unreachable destination) is taken off the socket too */
			ssize_t got = recv(f->fd, n->buf, RK_FRAME_MAX, MSG_DONTWAIT);
			if (got < 0 && errno != EAGAIN && errno != EINTR)
				continue;
			if (got < 0)
				break;
			if (got < 8 || n->buf[0] != ECHO_REPLY)
				continue;
			rk_put16(n->buf + 4, f->id);
			rk_put16(n->buf + 2, 0);
			rk_put16(n->buf + 2, rk_inet_checksum(n->buf, (size_t)got));
			to_child(n, f->dst, n->cfg.vnet->child, n->buf, (size_t)got);
			f->last_ms = now_ms;
			n->stats.replies++;
		}
	}
}

const struct rk_icmpnat_stats *rk_icmpnat_stats(const struct rk_icmpnat *n)
{
	static const struct rk_icmpnat_stats none;
	return n ? &n->stats : &none;
}

void rk_icmpnat_free(struct rk_icmpnat *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < RK_ARRAY_SIZE(n->flows); i++)
		if (n->flows[i].fd >= 0)
			close(n->flows[i].fd);
	free(n->buf);
	free(n);
}
