/* SPDX-License-Identifier: Apache-2.0 */
/* The host forwards' listeners of the TCP translation (--port-driver=netstack): an
 * accepted client becomes a connection the engine opens to the child; see tcpnat.c. */
#include "netstack/tcpnat_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "netstack/filter.h"
#include "netstack/nat.h"
#include "netstack/wire.h"
#include "src/lib/util.h"

/* A connection accepted on a host forward's listener: a flow whose SYN goes to the child
 * (after an ARP request, if the child has not been heard from yet). */
static void accept_flow(struct rk_tcpnat *t, const struct listener *l, int fd,
			const struct sockaddr_storage *client, int64_t now_ms)
{
	bool v6 = l->guest.sa.sa_family == AF_INET6;
	const uint8_t *caddr = rk_sockaddr_addr(&l->guest);
	uint16_t cport = rk_sockaddr_port(&l->guest), rport;
	uint8_t raddr[16];
	struct flow *f = NULL;

	if (!rk_nat_inbound_as(t->cfg.vnet, client, v6, raddr, &rport)) {
		close(fd);
		return;
	}
	/* clients of two host ports forwarded to one guest port may come from the same port
	 * (loopback ones all show as the gateway): a connection that would tn_take the place of
	 * a live or closing one gets another port of the dynamic range instead */
	for (int i = 0; i < FWD_PORT_TRIES && tn_lookup(t, v6, caddr, raddr, cport, rport); i++)
		rport = htons((uint16_t)(FWD_PORT_FIRST + t->next_port++ % FWD_PORT_COUNT));
	if (!tn_table_full(t) && !tn_lookup(t, v6, caddr, raddr, cport, rport))
		f = tn_flow_new(t, fd, v6, caddr, raddr, cport, rport, now_ms);
	if (!f) {
		/* a full table: the client hears it at once (a reset), not when it gives up */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		t->stats.refused++;
		return;
	}
	if (t->cfg.peer->known) {
		tn_send_syn(t, f, now_ms);
	} else {
		f->state = WAIT_MAC;
		tn_send_arp_request(t, f);
		tn_arm_rto(f, now_ms);
	}
}

int rk_tcpnat_listen(struct rk_tcpnat *t, const union rk_sockaddr *host,
		     const union rk_sockaddr *guest)
{
	int fd, one = 1;

	if (t->n_listeners == RK_TCPNAT_LISTENERS)
		return -ENOSPC;
	for (size_t i = 0; i < t->n_listeners; i++)
		if (rk_sockaddr_equal(&t->listeners[i].host, host))
			return -EADDRINUSE;
	fd = socket(host->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (host->sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &host->sa, rk_sockaddr_len(host)) < 0 || listen(fd, SOMAXCONN) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	t->listeners = rk_xrealloc(t->listeners, (t->n_listeners + 1) * sizeof(*t->listeners));
	t->listeners[t->n_listeners++] =
		(struct listener){ .fd = fd, .poll_idx = -1, .host = *host, .guest = *guest };
	return 0;
}

int rk_tcpnat_unlisten(struct rk_tcpnat *t, const union rk_sockaddr *host)
{
	for (size_t i = 0; i < t->n_listeners; i++)
		if (rk_sockaddr_equal(&t->listeners[i].host, host)) {
			close(t->listeners[i].fd);
			t->listeners[i] = t->listeners[--t->n_listeners];
			return 0;
		}
	return -ENOENT;
}

void rk_tcpnat_unlisten_all(struct rk_tcpnat *t)
{
	while (t && t->n_listeners)
		close(t->listeners[--t->n_listeners].fd);
}

/* Accepts what a listener has (a bounded number per pass). Out of descriptors, the
 * listeners rest for a while: the connection stays queued, and polling again at once
 * would find it again. */
void tn_accept_all(struct rk_tcpnat *t, const struct listener *l, int64_t now_ms)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage client = { 0 };
		socklen_t len = sizeof(client);
		int fd = accept4(l->fd, (struct sockaddr *)&client, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				t->accept_at = now_ms + ACCEPT_PAUSE_MS;
				t->stats.accept_paused++;
			}
			return;
		}
		accept_flow(t, l, fd, &client, now_ms);
	}
}
