/* SPDX-License-Identifier: Apache-2.0 */
/* The DNS forwarder of --net=builtin (see dns.c): UDP queries to the virtual DNS address,
 * relayed to the host's resolvers by the engine's loop. */
#ifndef RK_DNS_H
#define RK_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "src/lib/vnet.h"

#define RK_DNS_SERVERS 3  /* as many as glibc reads */
#define RK_DNS_PENDING 64 /* queries in flight; the oldest gives way */

struct rk_dns;

/* Where replies go: one Ethernet frame for the child. */
typedef void rk_dns_send_fn(const uint8_t *frame, size_t len, void *opaque);

struct rk_dns_config {
	/* the network: its DNS address (and fd00::3 with IPv6) and the child's MTU (a longer
	 * reply is cut to its question with TC set) */
	const struct rk_vnet *vnet;
	/* the resolvers: n_servers fixed ones, or (n_servers 0) the nameservers of
	 * resolv_conf (NULL: /etc/resolv.conf), read again when the file changes */
	struct sockaddr_storage servers[RK_DNS_SERVERS];
	size_t n_servers;
	const char *resolv_conf;
};

struct rk_dns *rk_dns_new(const struct rk_dns_config *cfg, rk_dns_send_fn *send, void *opaque);

struct rk_frame;

/* Takes a UDP datagram to the DNS address, port 53, as the filter passed it (its route
 * RK_ROUTE_DNS): forwarded, or dropped when it holds no query. now_ms: the engine's
 * clock. */
void rk_dns_input(struct rk_dns *d, const struct rk_frame *fr, int64_t now_ms);

/* Before the engine polls: expires queries unanswered for 5 s, registers the sockets of
 * the others with add (to be polled for input; it returns a poll index) and lowers
 * *timeout_ms to the next expiry. */
void rk_dns_fill(struct rk_dns *d, int64_t now_ms, int (*add)(int fd, void *opaque), void *opaque,
		 uint32_t *timeout_ms);

/* After the poll: reads the answers (revents gives a poll index's events, non-zero when
 * ready) and sends them to the child. A refused query goes on to the next resolver. */
void rk_dns_poll(struct rk_dns *d, int (*revents)(int idx, void *opaque), void *opaque);

/* The nameserver queries go to first (resolv.conf read again if it changed), into ret
 * (port 53, or a fixed server's). Returns false if there is none. */
bool rk_dns_server(struct rk_dns *d, int64_t now_ms, struct sockaddr_storage *ret);

/* Queries in flight (for tests). */
size_t rk_dns_pending(const struct rk_dns *d);

void rk_dns_free(struct rk_dns *d);

/* Parses resolv.conf text: up to max nameserver addresses (IPv4 or IPv6, with an
 * optional %scope) on port 53. Returns how many. */
size_t rk_dns_parse_resolv(const char *text, struct sockaddr_storage *out, size_t max);

#endif
