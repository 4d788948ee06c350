/* SPDX-License-Identifier: Apache-2.0 */
/* ICMP echo for the engine when libslirp is not loaded (see icmpnat.c). */
#ifndef RK_ICMPNAT_H
#define RK_ICMPNAT_H

#include <stdbool.h>
#include <stdint.h>

#include "netstack/nat.h"

#define RK_ICMPNAT_FLOWS   64	 /* the child's pings at once; the least recent gives way */
#define RK_ICMPNAT_IDLE_MS 10000 /* a ping's socket closes after this long without traffic */

struct rk_icmpnat_config {
	int tap;		    /* where frames to the child are written */
	const struct rk_vnet *vnet; /* the network (its MTU, gateway and DNS addresses) */
	const struct rk_child_mac *peer;
	bool vnet_hdr; /* frames go behind a struct virtio_net_hdr */
};

struct rk_icmpnat_stats {
	uint64_t answered;    /* echo requests to the network's own addresses, answered here */
	uint64_t sent;	      /* echo requests sent on through a host socket */
	uint64_t replies;     /* echo replies from the host sockets to the child */
	uint64_t dropped;     /* anything else, and requests with no socket to be had */
	uint64_t out_dropped; /* frames the tap refused */
};

struct rk_icmpnat;
struct rk_frame;

struct rk_icmpnat *rk_icmpnat_new(const struct rk_icmpnat_config *cfg);

/* Takes what the filter passed for libslirp (route RK_ROUTE_SLIRP): an IPv4 ICMP echo
 * request is answered or sent on, the rest dropped. now_ms: the engine's clock. The calls
 * below accept a NULL n (the engine with libslirp), and then do nothing. */
void rk_icmpnat_input(struct rk_icmpnat *n, const struct rk_frame *fr, int64_t now_ms);

/* Before the engine polls: closes the sockets idle for RK_ICMPNAT_IDLE_MS, registers the
 * others with add and lowers *timeout_ms to the next expiry. */
void rk_icmpnat_fill(struct rk_icmpnat *n, int64_t now_ms,
		     int (*add)(int fd, int events, void *opaque), void *opaque,
		     uint32_t *timeout_ms);

/* After the poll: the replies that arrived go to the child. */
void rk_icmpnat_poll(struct rk_icmpnat *n, int64_t now_ms, int (*revents)(int idx, void *opaque),
		     void *opaque);

const struct rk_icmpnat_stats *rk_icmpnat_stats(const struct rk_icmpnat *n);

/* Closes every socket. Accepts NULL. */
void rk_icmpnat_free(struct rk_icmpnat *n);

#endif
