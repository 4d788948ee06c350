/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UDP flows of the builtin port driver
 *
 * A datagram from a new client address gets a UDP socket of the child's namespace from
 * the pool, connected to the target; the child's replies on it are sent back to that
 * client from the published socket. A flow lives while it is used: it ends after
 * FLOW_IDLE_MS without traffic, and the least recently used one makes room when a port
 * has FLOW_MAX of them.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "port/builtin_int.h"
#include "src/lib/log.h"
#include "src/lib/util.h"

#define FLOW_BUCKETS 256
#define FLOW_MAX     4096
#define FLOW_IDLE_MS 90000
#define RECV_MAX     64 /* datagrams per wake-up */

static unsigned peer_hash(const struct sockaddr *sa, socklen_t len)
{
	const unsigned char *p = (const unsigned char *)sa;
	unsigned h = 2166136261u;

	for (socklen_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % FLOW_BUCKETS;
}

/* recvfrom() leaves unused fields zero, so equal addresses compare equal as bytes */
static struct bp_flow **find_slot(struct bp_port *port, const struct sockaddr *sa, socklen_t len)
{
	struct bp_flow **slot = &port->buckets[peer_hash(sa, len)];

	for (; *slot; slot = &(*slot)->hnext)
		if ((*slot)->peer_len == len && memcmp(&(*slot)->peer, sa, len) == 0)
			break;
	return slot;
}

static void touch(struct bp_flow *f, uint64_t now)
{
	f->last_ms = now;
	rk_list_del(&f->link);
	rk_list_add_tail(&f->port->conns, &f->link);
}

static void flow_close(struct bp_driver *d, struct bp_flow *f)
{
	struct bp_port *port = f->port;
	struct bp_flow **slot = find_slot(port, &f->peer.sa, f->peer_len);

	if (*slot == f)
		*slot = f->hnext;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, f->fd, NULL);
	close(f->fd);
	f->fd = -1;
	port->n_flows--;
	rk_list_del(&f->link);
	rk_list_add_tail(&d->dead_flows, &f->link);
}

static struct bp_flow *flow_new(struct bp_driver *d, struct bp_port *port,
				const struct sockaddr *sa, socklen_t len, struct bp_flow **slot)
{
	struct bp_flow *f;
	int fd;

	if (port->n_flows >= FLOW_MAX) {
		flow_close(d, rk_container_of(port->conns.next, struct bp_flow, link));
		slot = find_slot(port, sa, len);
	}
	fd = bp_pool_take(d, port->pool);
	if (fd < 0) {
		rk_debug("port driver: no UDP socket at hand, datagram dropped");
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&port->target, port->target_len) < 0) {
		rk_debug("port driver: connecting in the child: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	f = rk_xcalloc(1, sizeof(*f));
	f->ev.kind = BP_FLOW;
	f->fd = fd;
	f->port = port;
	memcpy(&f->peer, sa, len);
	f->peer_len = len;
	rk_list_init(&f->link);
	if (bp_watch(d, fd, &f->ev, EPOLLIN) < 0) {
		close(fd);
		free(f);
		return NULL;
	}
	f->hnext = *slot;
	*slot = f;
	port->n_flows++;
	rk_list_add_tail(&port->conns, &f->link);
	return f;
}

void bp_udp_receive(struct bp_driver *d, struct bp_port *port)
{
	uint64_t now = rk_now_ms();

	if (!port->buckets)
		port->buckets = rk_xcalloc(FLOW_BUCKETS, sizeof(*port->buckets));
	for (int i = 0; i < RECV_MAX; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct bp_flow **slot, *f;
		ssize_t n;

		memset(&ss, 0, sizeof(ss));
		n = recvfrom(port->fd, d->udp_buf, BP_UDP_BUF_SIZE, MSG_DONTWAIT,
			     (struct sockaddr *)&ss, &len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (len > sizeof(ss))
			continue;
		slot = find_slot(port, (struct sockaddr *)&ss, len);
		f = *slot ? *slot : flow_new(d, port, (struct sockaddr *)&ss, len, slot);
		if (!f)
			continue;
		/* a refused earlier datagram reports ECONNREFUSED here once: send again */
		if (send(f->fd, d->udp_buf, (size_t)n, MSG_DONTWAIT) < 0 && errno == ECONNREFUSED)
			send(f->fd, d->udp_buf, (size_t)n, MSG_DONTWAIT);
		touch(f, now);
	}
}

void bp_udp_reply(struct bp_driver *d, struct bp_flow *f)
{
	if (f->fd < 0)
		return; /* closed earlier in this batch */
	for (int i = 0; i < RECV_MAX; i++) {
		ssize_t n = recv(f->fd, d->udp_buf, BP_UDP_BUF_SIZE, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue; /* ECONNREFUSED: an ICMP error, now consumed */
			return;
		}
		sendto(f->port->fd, d->udp_buf, (size_t)n, MSG_DONTWAIT, &f->peer.sa, f->peer_len);
		touch(f, rk_now_ms());
	}
}

void bp_udp_expire(struct bp_driver *d, struct bp_port *port, uint64_t now)
{
	while (!rk_list_empty(&port->conns)) {
		struct bp_flow *f = rk_container_of(port->conns.next, struct bp_flow, link);
		if (now - f->last_ms < FLOW_IDLE_MS)
			break;
		flow_close(d, f);
	}
}

void bp_udp_close_all(struct bp_driver *d, struct bp_port *port)
{
	while (!rk_list_empty(&port->conns))
		flow_close(d, rk_container_of(port->conns.next, struct bp_flow, link));
}
