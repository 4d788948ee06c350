/* SPDX-License-Identifier: Apache-2.0 */
/* The engine's own TCP translation for connections the child opens (see tcpnat.c): each
 * becomes a host socket, with no TCP stack of ours in between. */
#ifndef RK_TCPNAT_H
#define RK_TCPNAT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netstack/dns.h"
#include "netstack/nat.h"

#define RK_TCPNAT_LISTENERS 1024 /* host forwards */

struct rk_tcpnat_config {
	int tap;		    /* where frames to the child are written */
	const struct rk_vnet *vnet; /* the network (its MTU, DNS address, gateway) */
	const struct rk_child_mac *peer;
	bool vnet_hdr; /* frames go behind a struct virtio_net_hdr: checksum and TSO offload */
	struct rk_dns *resolver; /* where TCP to the DNS address goes, or NULL */
	int64_t now_ms;		 /* the engine's clock at the start */
};

struct rk_tcpnat_stats {
	uint64_t flows;		/* connections taken */
	uint64_t active;	/* open now */
	uint64_t retransmits;	/* rewinds of the data sent to the child */
	uint64_t resets;	/* connections ended by a reset, either side */
	uint64_t held;		/* bytes from the child a full socket made wait here */
	uint64_t out_dropped;	/* frames the tap refused */
	uint64_t refused;	/* resets for a full table, no descriptor, a closed destination
				 * or a segment of no connection; host clients reset when full */
	uint64_t accept_paused; /* listeners rested after EMFILE or ENFILE */
};

struct rk_tcpnat;

/* Returns NULL when the kernel lacks what the translation needs (SO_PEEK_OFF on TCP,
 * Linux 6.9): libslirp then carries every connection. */
struct rk_tcpnat *rk_tcpnat_new(const struct rk_tcpnat_config *cfg);

/* A host forward (--port-driver=netstack): a listener on host whose connections become
 * connections to guest in the child; the child sees a client from a non-loopback address
 * as that address, a loopback one as the gateway (rk_nat_inbound_as: an IPv6 client of an
 * IPv4 guest as the gateway too). An IPv6 host listens to IPv6 only. Returns 0 or -errno. */
int rk_tcpnat_listen(struct rk_tcpnat *t, const union rk_sockaddr *host,
		     const union rk_sockaddr *guest);

/* Closes the listener on host (its connections go on). Returns 0 or -ENOENT. */
int rk_tcpnat_unlisten(struct rk_tcpnat *t, const union rk_sockaddr *host);

/* Whether some connection holds data on its way (held for a full socket, or sent to the
 * child and not yet acknowledged). Accepts NULL. */
bool rk_tcpnat_busy(const struct rk_tcpnat *t);

/* Closes every listener (the instance is ending). Accepts NULL. */
void rk_tcpnat_unlisten_all(struct rk_tcpnat *t);

struct rk_frame;

/* Takes a TCP segment as the filter passed it (its route RK_ROUTE_TCP): a connection's, a
 * new one's, or reset. now_ms: the engine's clock. */
void rk_tcpnat_input(struct rk_tcpnat *t, const struct rk_frame *fr, int64_t now_ms);

/* Before the engine polls: registers the sockets that need watching with add (which
 * returns a poll index) and lowers *timeout_ms to the next retransmission. */
void rk_tcpnat_fill(struct rk_tcpnat *t, int64_t now_ms,
		    int (*add)(int fd, int events, void *opaque), void *opaque,
		    uint32_t *timeout_ms);

/* After the poll: connects, reads and writes what is ready, runs the retransmission
 * timers, and sends the acknowledgements and data the pass made due. */
void rk_tcpnat_poll(struct rk_tcpnat *t, int64_t now_ms, int (*revents)(int idx, void *opaque),
		    void *opaque);

const struct rk_tcpnat_stats *rk_tcpnat_stats(const struct rk_tcpnat *t);

/* Closes every connection (the host side sees a reset). Accepts NULL. */
void rk_tcpnat_free(struct rk_tcpnat *t);

#endif
