/* SPDX-License-Identifier: Apache-2.0 */
/* The usermode NAT behind --net=builtin (see engine.c): the frame filter, the translations
 * and libslirp, driven by one loop over the child's tap device. Knows nothing about the command
 * line. */
#ifndef RK_ENGINE_H
#define RK_ENGINE_H

#include <stdbool.h>
#include <netinet/in.h>
#include <stdint.h>

#include "netstack/dns.h"
#include "netstack/filter.h"
#include "netstack/nat.h"
#include "src/lib/error.h"

struct rk_engine_config {
	struct rk_vnet vnet; /* the network (IPv6: fd00::/64, host fd00::2, DNS fd00::3) */
	/* the child's connections go through libslirp's TCP, not tcpnat.c (tests, fuzzing) */
	bool libslirp_tcp;
	/* the tap carries a struct virtio_net_hdr before each frame (rk_tap_open): the child's
	 * TCP segments may be 64 KiB with a partial checksum, and ours to it are the same */
	bool vnet_hdr;
	/* once stopped, how long rk_engine_run goes on while the child's connections still
	 * carry data (ms; 0: it returns at once) */
	unsigned drain_ms;
	/* the resolvers DNS queries are forwarded to (dns.c): n_dns_servers fixed ones (tests),
	 * or the nameservers of resolv_conf (NULL: /etc/resolv.conf) */
	struct sockaddr_storage dns_servers[RK_DNS_SERVERS];
	size_t n_dns_servers;
	const char *resolv_conf;
	/* the clock libslirp's timers run on; NULL: CLOCK_MONOTONIC (tests and the fuzzer
	 * bring their own) */
	int64_t (*clock_ns)(void *arg);
	void *clock_arg;
};

struct rk_engine_stats {
	uint64_t frames_in, frames_out, replies;
	uint64_t out_dropped; /* the child's tap queue was full */
	uint64_t dropped[RK_FILTER_REASONS];
	/* the child's connections carried by tcpnat.c: taken, open now, rewinds, resets, and
	 * bytes held for a full socket */
	uint64_t tcp_flows, tcp_active, tcp_retransmits, tcp_resets, tcp_held;
	/* connections refused with a reset (full table, no descriptor, closed destination) */
	uint64_t tcp_refused;
	/* the child's UDP sources (udpnat.c): taken, open now (forwards too), given way */
	uint64_t udp_flows, udp_active, udp_evicted;
	/* ICMP echo without libslirp (icmpnat.c): answered by the engine, sent on, replies
	 * back, and what it dropped */
	uint64_t icmp_answered, icmp_sent, icmp_replies, icmp_dropped;
};

struct rk_engine;

/* A host forward (--port-driver=netstack): a listener on the host whose connections
 * (tcpnat.c, or libslirp before Linux 6.9: one family only) or datagrams (udpnat.c) the
 * engine carries into the child, keeping the client's address. Sent to the
 * engine process over its control socket, answered with a struct rk_engine_fwd_reply. */
enum {
	RK_ENGINE_FWD_ADD = 1,
	RK_ENGINE_FWD_REMOVE = 2
};
struct rk_engine_fwd {
	uint32_t seq; /* echoed in the reply: a late reply to an abandoned request is told apart */
	uint32_t op;
	uint32_t udp;
	/* the listener, and the child's side (ADD only): of the same family, or an IPv6
	 * listener for an IPv4 side (without --ipv6) */
	union rk_sockaddr host, guest;
};
struct rk_engine_fwd_reply {
	uint32_t seq;
	int32_t result; /* 0 or -errno */
};

/* An engine on tap (a non-blocking descriptor of frames; the engine takes it). Returns
 * NULL with err set on failure. */
struct rk_engine *rk_engine_new(const struct rk_engine_config *cfg, int tap, struct rk_error *err);

/* Adds or removes a host forward. Returns 0 or -errno. */
int rk_engine_forward(struct rk_engine *e, const struct rk_engine_fwd *f);

/* Serves forward requests arriving on fd (a SOCK_SEQPACKET socket) from the loop. */
void rk_engine_set_control(struct rk_engine *e, int fd);

/* Runs until stop_fd (or -1) becomes readable or the tap ends. After the stop it goes on,
 * for cfg->drain_ms at most, until the connections tcpnat.c carries have ended: the tap
 * keeps the child's network namespace, so the sockets of a command that has exited still
 * deliver what they hold. Returns 0 at a stop, -EPIPE when the tap ended, or -errno. */
int rk_engine_run(struct rk_engine *e, int stop_fd);

/* One pass of the loop with a bounded wait (ms): drains the tap, services libslirp's
 * sockets and timers. For tests and fuzzing, which drive the engine step by step. Returns
 * 0, -EPIPE or -errno. */
int rk_engine_step(struct rk_engine *e, int timeout_ms);

/* Feeds one frame as if the child had written it (with vnet_hdr, behind its struct
 * virtio_net_hdr). For tests and fuzzing. */
void rk_engine_input(struct rk_engine *e, uint8_t *frame, size_t len);

/* The engine's counters, into ret. */
void rk_engine_stats(const struct rk_engine *e, struct rk_engine_stats *ret);

void rk_engine_free(struct rk_engine *e);

#endif
