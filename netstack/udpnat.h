/* SPDX-License-Identifier: Apache-2.0 */
/* The engine's own UDP translation (see udpnat.c): each of the child's UDP sources becomes
 * a host socket, in a table with a bound; host forwards of UDP are sockets of that table. */
#ifndef RK_UDPNAT_H
#define RK_UDPNAT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netstack/nat.h"

#define RK_UDPNAT_FLOWS	   4096 /* the child's sources at once; the least recent gives way */
#define RK_UDPNAT_FORWARDS 1024 /* host forwards */
#define RK_UDPNAT_CLIENTS6 256	/* IPv6 clients of one forward to an IPv4 guest */
#define RK_UDPNAT_IDLE_MS  (180 * 1000)

struct rk_udpnat_config {
	int tap;		    /* where frames to the child are written */
	const struct rk_vnet *vnet; /* the network (its MTU, gateway) */
	const struct rk_child_mac *peer;
	bool vnet_hdr; /* frames go behind a struct virtio_net_hdr */
};

struct rk_udpnat_stats {
	uint64_t flows;	      /* sources taken */
	uint64_t active;      /* open now */
	uint64_t evicted;     /* closed to make room for a new one */
	uint64_t refused;     /* datagrams to where the child may not send, or with no socket */
	uint64_t out_dropped; /* frames the tap refused */
};

struct rk_udpnat;
struct rk_frame;

struct rk_udpnat *rk_udpnat_new(const struct rk_udpnat_config *cfg);

/* Takes a UDP datagram as the filter passed it (its route RK_ROUTE_UDP): sent from the
 * host socket of its source, opened if it is new. now_ms: the engine's clock. */
void rk_udpnat_input(struct rk_udpnat *u, const struct rk_frame *fr, int64_t now_ms);

/* A host forward (--port-driver=netstack): a socket on host whose datagrams go to guest
 * in the child, from the client's address (a loopback client as the gateway); what the
 * child sends from guest leaves through it. An IPv6 host takes IPv6 only; for an IPv4
 * guest each IPv6 client shows as the gateway on a port of its own, which the child's
 * answers go back through (at most RK_UDPNAT_CLIENTS6 clients, the least recent gives
 * way). Returns 0 or -errno. */
int rk_udpnat_listen(struct rk_udpnat *u, const union rk_sockaddr *host,
		     const union rk_sockaddr *guest);

/* Closes the forward on host. Returns 0 or -ENOENT. */
int rk_udpnat_unlisten(struct rk_udpnat *u, const union rk_sockaddr *host);

/* Before the engine polls: closes sources idle for RK_UDPNAT_IDLE_MS, registers the
 * sockets with add (which returns a poll index) and lowers *timeout_ms to the next
 * expiry. */
void rk_udpnat_fill(struct rk_udpnat *u, int64_t now_ms,
		    int (*add)(int fd, int events, void *opaque), void *opaque,
		    uint32_t *timeout_ms);

/* After the poll: the datagrams that arrived go to the child (a bounded number per socket
 * and pass), cut into IP fragments where they do not fit the MTU. */
void rk_udpnat_poll(struct rk_udpnat *u, int64_t now_ms, int (*revents)(int idx, void *opaque),
		    void *opaque);

const struct rk_udpnat_stats *rk_udpnat_stats(const struct rk_udpnat *u);

/* Closes every socket. Accepts NULL. */
void rk_udpnat_free(struct rk_udpnat *u);

#endif
