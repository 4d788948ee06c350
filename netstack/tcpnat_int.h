/* SPDX-License-Identifier: Apache-2.0 */
/* The TCP translation's own parts (tcpnat.c: the flow table and the state machine;
 * tcpnat_seg.c: segments to the child and data to the host socket; tcpnat_listen.c: the
 * host forwards' listeners). Nothing outside netstack/tcpnat*.c includes this. */
#ifndef RK_TCPNAT_INT_H
#define RK_TCPNAT_INT_H

#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netstack/tcpnat.h"

/* ETH_HLEN, ETH_P_IP and ETH_P_IPV6 come with <linux/virtio_net.h> */
#define PROTO_TCP 6

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

#define WSCALE		7	   /* ours: windows up to 8 MiB */
#define WINDOW		(1u << 20) /* bytes of the child's data held for a slow socket */
#define PEND_BUFFERS	32	   /* such buffers at once (32 MiB); then the window closes */
#define PEEK_MAX	(256u << 10)
#define RTO_MIN_MS	200
#define RTO_MAX_MS	8000
#define RETRIES		10 /* timeouts without progress before the connection is reset */
#define HASH_SIZE	4096
#define FD_RESERVE	256 /* descriptors left to the rest of the engine (libslirp, DNS) */
#define ACCEPT_PAUSE_MS 100 /* listeners rest this long after EMFILE or ENFILE */

#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_LE(a, b) ((int32_t)((a) - (b)) <= 0)

enum flow_state {
	CONNECTING, /* the host socket's connect is under way */
	SYN_SENT,   /* the child has our SYN-ACK, its ACK is awaited */
	WAIT_MAC,   /* a host forward's connection: the child's MAC is not known yet */
	SYN_OUT,    /* a host forward's connection: the child has our SYN */
	OPEN,
};

struct listener {
	int fd;
	int poll_idx;
	union rk_sockaddr host, guest;
};

struct flow {
	struct flow *hnext; /* hash chain */
	size_t idx;	    /* in t->flows */
	int fd;
	int poll_idx;
	enum flow_state state;
	bool v6;
	uint8_t mac[6];		      /* the child's */
	uint8_t caddr[16], raddr[16]; /* child and remote address (IPv4: first 4 bytes) */
	uint16_t cport, rport;	      /* network byte order */

	/* from the child */
	uint32_t rcv_nxt;
	uint8_t *pend; /* accepted, not yet written to the socket */
	size_t pend_off, pend_len;
	bool fin_in;	   /* the child's FIN is accepted */
	bool shut;	   /* and the socket shut for writing */
	bool ack_due;	   /* an ACK must go out this pass */
	uint32_t wnd_sent; /* the right edge of the window last advertised */

	/* to the child */
	uint32_t iss, snd_una, snd_nxt;
	uint32_t snd_max; /* the highest sequence number sent (snd_nxt goes back on a rewind) */
	uint32_t snd_wnd; /* the child's window, scaled */
	uint32_t cwnd;	  /* after a loss: one segment, doubled by each acknowledgement */
	uint8_t snd_wscale, rcv_wscale;
	uint16_t mss;
	bool eof;	/* the socket's read side ended */
	bool fin_sent;	/* our FIN is at snd_nxt - 1 */
	bool fin_max;	/* our FIN was sent, at snd_max - 1 */
	bool push_due;	/* try to send data this pass */
	bool syn_again; /* a host forward's SYN went again at once, after a TIME_WAIT's ACK */
	unsigned dupacks;
	unsigned retries;
	int64_t rto_at; /* -1: no timer */
	unsigned rto_ms;
};

/* host forwards: where a client's port goes when the child already has a connection from
 * that address and port (the dynamic range), and how many are tried */
#define FWD_PORT_FIRST 49152
#define FWD_PORT_COUNT 16384
#define FWD_PORT_TRIES 64

struct rk_tcpnat {
	struct rk_tcpnat_config cfg;
	struct rk_tcpnat_stats stats;
	struct flow *hash[HASH_SIZE];
	struct flow **flows; /* grown with need, up to max_flows */
	size_t n_flows, cap_flows, max_flows;
	int64_t accept_at; /* listeners are not polled before this (out of descriptors) */
	unsigned pend_buffers;
	uint32_t iss_base; /* random: the initial sequence number at cfg.now_ms */
	uint16_t ip_id;
	uint16_t next_port; /* where the search for a free port of a host forward goes on */
	uint8_t gw_mac[6];
	struct listener *listeners;
	size_t n_listeners;
	uint8_t hdr[ETH_HLEN + 40 + 60];
	uint8_t *buf; /* PEEK_MAX bytes read from a socket */
};

/* Writes one segment to the child: flags, seq, the ACK of rcv_nxt and the window, options
 * (a multiple of 4 bytes) and len bytes of data. Returns false if the tap refused it. */
bool tn_emit(struct rk_tcpnat *t, struct flow *f, uint8_t flags, uint32_t seq, const uint8_t *opt,
	     size_t optlen, const uint8_t *data, size_t len);

/* A reset to a segment of no flow of ours (seq/ack as RFC 793 has it). */
void tn_send_reset(struct rk_tcpnat *t, struct flow *f, uint32_t seq, bool with_ack);

void tn_arm_rto(struct flow *f, int64_t now_ms);

void tn_send_synack(struct rk_tcpnat *t, struct flow *f, int64_t now_ms);

/* A host forward's SYN to the child (MSS, window scale). */
void tn_send_syn(struct rk_tcpnat *t, struct flow *f, int64_t now_ms);

/* Who has the child's address: asked when a host forward's connection arrives before the
 * child sent anything. */
void tn_send_arp_request(struct rk_tcpnat *t, const struct flow *f);

/* Rewinds the data sent to the child to its first unacknowledged byte. */
void tn_rewind_sent(struct rk_tcpnat *t, struct flow *f);

/* Sends what the child's window allows from the socket, then the FIN after the last byte.
 * Returns false if the flow ended (a host error: the child got a reset). */
bool tn_push(struct rk_tcpnat *t, struct flow *f, int64_t now_ms);

/* Writes the pending buffer to the socket; after it, the child's FIN. Returns false if
 * the flow ended. */
bool tn_flush_pend(struct rk_tcpnat *t, struct flow *f);

/* Takes data the child sent at rcv_nxt: written to the socket, the rest kept while the
 * window allows. Returns how much was taken, or -1 if the flow ended. */
ssize_t tn_take(struct rk_tcpnat *t, struct flow *f, const uint8_t *data, size_t len);

/* Accepts what a listener has (a bounded number per pass). Out of descriptors, the
 * listeners rest for a while: the connection stays queued, and polling again at once
 * would find it again. */
void tn_accept_all(struct rk_tcpnat *t, const struct listener *l, int64_t now_ms);

/* The flow of a child's connection, by its addresses and ports, or NULL. */
struct flow *tn_lookup(struct rk_tcpnat *t, bool v6, const uint8_t *caddr, const uint8_t *raddr,
		       uint16_t cport, uint16_t rport);

/* Frees the flow's buffer of the child's data not yet written to the socket. */
void tn_pend_release(struct rk_tcpnat *t, struct flow *f);

/* Ends a flow. reset: the host socket is closed with a reset (SO_LINGER 0). */
void tn_flow_free(struct rk_tcpnat *t, struct flow *f, bool reset);

/* Whether the table is at its share of the descriptor limit. */
bool tn_table_full(const struct rk_tcpnat *t);

/* A new flow on the host socket fd (which gets no Nagle and a peek offset), entered into
 * the table. NULL if the socket refuses the peek offset (the caller closes it). */
struct flow *tn_flow_new(struct rk_tcpnat *t, int fd, bool v6, const uint8_t *caddr,
			 const uint8_t *raddr, uint16_t cport, uint16_t rport, int64_t now_ms);

#endif
