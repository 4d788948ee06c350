/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP translation for the connections the child opens under --net=builtin.
 *
 * libslirp terminates each connection in a TCP stack of its own, with no window scaling:
 * never more than 64 KiB in flight, so throughput is bound by the engine's round trip,
 * not by copying. Here the child's connection is mapped onto a host socket instead, and
 * the host kernel's TCP does the real work:
 *
 * - A SYN from the child (to the gateway, which is the host's loopback, or to an address
 *   outside the virtual network) opens a non-blocking socket and connects it. When the
 *   connect completes, the child gets a SYN-ACK (MSS from the MTU, window scaling if it
 *   asked); when it fails, a reset.
 * - Child to host: a segment at the expected sequence number is written to the socket
 *   and acknowledged. What the socket cannot take at once waits in a per-connection buffer
 *   (the window advertised never exceeds what that buffer holds), so nothing acknowledged
 *   is ever lost. Out-of-order segments are dropped with a duplicate ACK; the child's
 *   TCP resends. A FIN becomes shutdown(SHUT_WR) once everything before it is written.
 * - Host to child: the socket's receive queue is the retransmission buffer. Data is read
 *   with MSG_PEEK at SO_PEEK_OFF (the offset of the first byte not yet sent) and written
 *   to the tap in MSS-sized segments as the child's window allows; only what the child
 *   acknowledges is taken off the queue. A retransmission timeout or three duplicate ACKs
 *   rewind the peek offset to the first unacknowledged byte. EOF becomes a FIN after the
 *   last byte.
 * - Acknowledgements and new data are sent once per pass of the engine's loop, after the
 *   batch of frames it read, not once per segment.
 * - On a tap with virtio-net headers (the engine's, see rk_tap_open), a segment to the
 *   child carries up to 64 KiB with its checksum left partial: the child's kernel cuts it
 *   at the MSS if it must, and trusts the checksum, so no byte is summed here. The
 *   child's own segments come the same way, and are taken as they are.
 *
 * - Host forwards (--port-driver=netstack) listen here too: an accepted connection sends
 *   the child a SYN from the client's address (the gateway's for a loopback client), and
 *   once the child answers, the data path is the same. Until the child's MAC is known, an
 *   ARP request asks for it.
 *
 * - TCP to the DNS address (port 53) connects to the DNS forwarder's nameserver (dns.c),
 *   of either family, loopback stubs included.
 *
 * Every TCP segment from the child is ours (the filter routes them here, and libslirp never
 * sees TCP while the translation runs): a SYN to an address that is not to be reached, or
 * one that finds the table full or no descriptor left, gets a reset, and so does a segment
 * of no connection. The table grows with need, up to its share of the descriptor limit
 * (rk_nat_budget); a host client that finds it full is accepted and reset. A listener that meets
 * EMFILE or ENFILE rests ACCEPT_PAUSE_MS before it is polled again, so that a connection
 * left in its queue cannot spin the loop.
 * Checksums of the child's segments are not verified: the tap delivers what the child's
 * kernel wrote, and a forged segment could only disturb the child's own connection.
 */
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

/* Our initial sequence number: 250 a millisecond of the engine's clock (RFC 6528's 4 µs
 * timer) from a random start, counted from the translation's start, without RFC 6528's
 * per-connection hash: the tap joins the engine to the child alone, so there is no third
 * party to guess it. Rising with time, a host forward's SYN comes after what an earlier
 * connection of the same address pair sent, so the child's TIME_WAIT for that pair takes
 * it as a new connection (RFC 1122 4.2.2.13) instead of answering with an ACK; a random
 * number would meet that ACK half the time. One system call less per connection too. */
static uint32_t next_iss(const struct rk_tcpnat *t, int64_t now_ms)
{
	return t->iss_base + (uint32_t)((uint64_t)(now_ms - t->cfg.now_ms) * 250);
}

static size_t hash_key(bool v6, const uint8_t *caddr, const uint8_t *raddr, uint16_t cport,
		       uint16_t rport)
{
	uint32_t h = 2166136261u ^ v6;
	size_t n = v6 ? 16 : 4;

	for (size_t i = 0; i < n; i++)
		h = (h ^ caddr[i] ^ (uint32_t)raddr[i] << 8) * 16777619u;
	h = (h ^ cport ^ (uint32_t)rport << 16) * 16777619u;
	return (h ^ h >> 15) % HASH_SIZE;
}

struct flow *tn_lookup(struct rk_tcpnat *t, bool v6, const uint8_t *caddr, const uint8_t *raddr,
		       uint16_t cport, uint16_t rport)
{
	size_t n = v6 ? 16 : 4;

	for (struct flow *f = t->hash[hash_key(v6, caddr, raddr, cport, rport)]; f; f = f->hnext)
		if (f->v6 == v6 && f->cport == cport && f->rport == rport &&
		    memcmp(f->caddr, caddr, n) == 0 && memcmp(f->raddr, raddr, n) == 0)
			return f;
	return NULL;
}

void tn_pend_release(struct rk_tcpnat *t, struct flow *f)
{
	if (f->pend) {
		free(f->pend);
		f->pend = NULL;
		t->pend_buffers--;
	}
	f->pend_off = f->pend_len = 0;
}

/* Ends a flow. reset: the host socket is closed with a reset (SO_LINGER 0). */
void tn_flow_free(struct rk_tcpnat *t, struct flow *f, bool reset)
{
	struct flow **pp = &t->hash[hash_key(f->v6, f->caddr, f->raddr, f->cport, f->rport)];

	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	if (reset) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(f->fd);
	tn_pend_release(t, f);
	t->flows[f->idx] = t->flows[--t->n_flows];
	t->flows[f->idx]->idx = f->idx;
	t->stats.active = t->n_flows;
	free(f);
}

/* The child acknowledged up to ack: that much leaves the socket's queue. */
static void acked(struct rk_tcpnat *t, struct flow *f, uint32_t ack, uint32_t wnd, bool pure_ack,
		  int64_t now_ms)
{
	/* up to the highest byte ever sent: after a rewind, the child may acknowledge what
	 * was sent before it (ignoring that could leave the window short of it for good) */
	if (SEQ_LT(f->snd_una, ack) && SEQ_LE(ack, f->snd_max)) {
		uint32_t n = ack - f->snd_una;
		bool fin = f->fin_max && ack == f->snd_max;
		if (fin)
			n--; /* the FIN is not in the queue */
		if (n)
			(void)!recv(f->fd, NULL, n, MSG_TRUNC | MSG_DONTWAIT);
		if (SEQ_LT(f->snd_nxt, ack)) {
			/* the peek offset went down to 0 with the discard: sending goes on from
			 * the acknowledged byte */
			int zero = 0;
			setsockopt(f->fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero));
			f->snd_nxt = ack;
			f->fin_sent = fin;
		}
		f->snd_una = ack;
		f->cwnd = f->cwnd > UINT32_MAX / 2 ? UINT32_MAX : f->cwnd * 2;
		f->dupacks = 0;
		f->retries = 0;
		f->rto_ms = RTO_MIN_MS;
		f->rto_at = -1;
		if (f->snd_nxt != f->snd_una)
			tn_arm_rto(f, now_ms);
		f->push_due = true;
	} else if (ack == f->snd_una && pure_ack && wnd == f->snd_wnd && f->snd_nxt != f->snd_una &&
		   ++f->dupacks == 3) {
		tn_rewind_sent(t, f);
	}
	if (wnd > f->snd_wnd)
		f->push_due = true;
	f->snd_wnd = wnd;
}

/* Whether a SYN to this address is to be connected, and where the host socket connects. */
static bool destination(const struct rk_tcpnat *t, bool v6, const uint8_t *dst, uint16_t port,
			int64_t now_ms, struct sockaddr_storage *ss)
{
	static const uint8_t dns6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 };
	bool dns = v6 ? t->cfg.vnet->ipv6 && memcmp(dst, dns6, 16) == 0
		      : memcmp(dst, &t->cfg.vnet->dns, 4) == 0;

	/* DNS over TCP goes where the forwarder sends UDP queries (either family); where the
	 * gateway is the DNS server too (gvisor-tap-vsock's layout), its other ports are the
	 * gateway's */
	if (dns && (port == htons(53) || v6 || t->cfg.vnet->dns != t->cfg.vnet->gateway)) {
		memset(ss, 0, sizeof(*ss));
		return port == htons(53) && t->cfg.resolver &&
		       rk_dns_server(t->cfg.resolver, now_ms, ss);
	}
	return rk_nat_outbound(t->cfg.vnet, v6, dst, port, ss);
}

/* Enters a new flow (its fd open, its addresses set) into the table, which has room
 * (tn_table_full said no). */
static void add_flow(struct rk_tcpnat *t, struct flow *f)
{
	size_t h = hash_key(f->v6, f->caddr, f->raddr, f->cport, f->rport);

	if (t->n_flows == t->cap_flows) {
		t->cap_flows = t->cap_flows ? t->cap_flows * 2 : 64;
		t->flows = rk_xrealloc(t->flows, t->cap_flows * sizeof(*t->flows));
	}
	f->idx = t->n_flows;
	t->flows[t->n_flows++] = f;
	f->hnext = t->hash[h];
	t->hash[h] = f;
	t->stats.flows++;
	t->stats.active = t->n_flows;
}

bool tn_table_full(const struct rk_tcpnat *t)
{
	return t->n_flows >= t->max_flows;
}

/* Reads the options of a SYN: MSS and window scale. */
static void syn_options(struct flow *f, const uint8_t *opt, size_t len)
{
	f->mss = 536;
	while (len > 0) {
		size_t olen;
		if (opt[0] == 0)
			break;
		if (opt[0] == 1) {
			opt++;
			len--;
			continue;
		}
		if (len < 2 || opt[1] < 2 || opt[1] > len)
			break;
		olen = opt[1];
		if (opt[0] == 2 && olen == 4 && rk_get16(opt + 2) >= 64)
			f->mss = rk_get16(opt + 2);
		else if (opt[0] == 3 && olen == 3) {
			f->snd_wscale = opt[2] > 14 ? 14 : opt[2];
			f->rcv_wscale = WSCALE;
		}
		opt += olen;
		len -= olen;
	}
}

/* A new flow on the host socket fd (which gets no Nagle and a peek offset), entered into
 * the table. NULL if the socket refuses the peek offset (the caller closes it). */
struct flow *tn_flow_new(struct rk_tcpnat *t, int fd, bool v6, const uint8_t *caddr,
			 const uint8_t *raddr, uint16_t cport, uint16_t rport, int64_t now_ms)
{
	int zero = 0, one = 1;
	size_t alen = v6 ? 16 : 4;
	struct flow *f;

	/* the child's segments are already coalesced; the peek offset is the send point */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0)
		return NULL;
	f = rk_xcalloc(1, sizeof(*f));
	f->fd = fd;
	f->v6 = v6;
	memcpy(f->caddr, caddr, alen);
	memcpy(f->raddr, raddr, alen);
	f->cport = cport;
	f->rport = rport;
	f->mss = 536;
	f->iss = next_iss(t, now_ms);
	f->snd_una = f->snd_nxt = f->snd_max = f->iss + 1;
	f->cwnd = UINT32_MAX; /* a tap loses nothing until it does */
	f->rto_at = -1;
	f->rto_ms = RTO_MIN_MS;
	f->poll_idx = -1;
	add_flow(t, f);
	return f;
}

/* A reset for a segment of no connection of ours (RFC 793: the sequence number is its ACK
 * if it has one, else it is acknowledged), from a flow that only lives for it. */
static void refuse(struct rk_tcpnat *t, const struct rk_frame *fr, size_t seglen)
{
	const uint8_t *tcp = fr->data + fr->l4;
	struct flow tmp = { .v6 = fr->v6, .cport = fr->sport, .rport = fr->dport };
	uint8_t flags = tcp[13];

	if (flags & F_RST)
		return;
	memcpy(tmp.mac, fr->data + 6, 6);
	memcpy(tmp.caddr, fr->src, fr->v6 ? 16 : 4);
	memcpy(tmp.raddr, fr->dst, fr->v6 ? 16 : 4);
	tmp.fin_in = true; /* no window */
	t->stats.refused++;
	if (flags & F_ACK) {
		tn_send_reset(t, &tmp, rk_get32(tcp + 8), false);
		return;
	}
	tmp.rcv_nxt = rk_get32(tcp + 4) + (uint32_t)seglen + !!(flags & F_SYN) + !!(flags & F_FIN);
	tn_send_reset(t, &tmp, 0, true);
}

/* A SYN from the child for a new connection: a host socket connects, or (a destination
 * that is not to be reached, a full table, no descriptor) the child gets a reset. */
static void open_flow(struct rk_tcpnat *t, const struct rk_frame *fr, size_t thl, int64_t now_ms)
{
	const uint8_t *tcp = fr->data + fr->l4;
	struct sockaddr_storage ss;
	struct flow *f;
	int fd = -1;
	unsigned max_mss = t->cfg.vnet->mtu - (fr->v6 ? 60 : 40);

	if (!tn_table_full(t) && destination(t, fr->v6, fr->dst, fr->dport, now_ms, &ss))
		/* the host side's family is the destination's (DNS may cross families) */
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	f = fd >= 0 ? tn_flow_new(t, fd, fr->v6, fr->src, fr->dst, fr->sport, fr->dport, now_ms)
		    : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		refuse(t, fr, 0);
		return;
	}
	memcpy(f->mac, fr->data + 6, 6);
	f->rcv_nxt = rk_get32(tcp + 4) + 1;
	f->wnd_sent = f->rcv_nxt;
	syn_options(f, tcp + 20, thl - 20);
	if (f->mss > max_mss)
		f->mss = (uint16_t)max_mss;
	f->snd_wnd = rk_get16(tcp + 14);
	if (connect(fd, (struct sockaddr *)&ss,
		    ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					     : sizeof(struct sockaddr_in)) == 0) {
		tn_send_synack(t, f, now_ms);
	} else if (errno == EINPROGRESS) {
		f->state = CONNECTING;
	} else {
		tn_send_reset(t, f, 0, true);
		tn_flow_free(t, f, false);
	}
}

/* The child's answer to a host forward's SYN: a SYN-ACK opens the connection, a reset
 * (nothing listens there) resets the host's client too. */
static void syn_answer(struct rk_tcpnat *t, struct flow *f, uint8_t flags, uint32_t seq,
		       uint32_t ack, const uint8_t *tcp, size_t thl, int64_t now_ms)
{
	if (f->state != SYN_OUT || !(flags & F_ACK))
		return;
	if (ack != f->iss + 1) {
		/* the answer of an old connection's TIME_WAIT, which took our SYN for a stale
		 * one (it came before what that connection sent: a long one, not long ago).
		 * A reset at its ACK ends the TIME_WAIT (RFC 793, SYN-SENT; Linux without
		 * tcp_rfc1337), and the SYN goes again at once, the first time; after that,
		 * on the timer. */
		if (flags & F_RST)
			return;
		tn_send_reset(t, f, ack, false);
		if (!f->syn_again) {
			f->syn_again = true;
			tn_send_syn(t, f, now_ms);
		}
		return;
	}
	if (flags & F_RST) {
		t->stats.resets++;
		tn_flow_free(t, f, true);
		return;
	}
	if (!(flags & F_SYN))
		return;
	f->rcv_nxt = seq + 1;
	f->wnd_sent = f->rcv_nxt;
	syn_options(f, tcp + 20, thl - 20);
	if (f->mss > t->cfg.vnet->mtu - 40)
		f->mss = (uint16_t)(t->cfg.vnet->mtu - 40);
	f->snd_wnd = rk_get16(tcp + 14);
	f->state = OPEN;
	f->rto_at = -1;
	f->retries = 0;
	f->rto_ms = RTO_MIN_MS;
	f->push_due = true;
	f->ack_due = true;
}

/* Both directions closed: the flow ends (the child keeps its TIME_WAIT, the host socket
 * its own). Returns true if it did. */
static bool maybe_close(struct rk_tcpnat *t, struct flow *f)
{
	if (!(f->fin_in && f->shut && f->fin_sent && f->snd_una == f->snd_nxt))
		return false;
	if (f->ack_due)
		tn_emit(t, f, F_ACK, f->snd_nxt, NULL, 0, NULL, 0);
	tn_flow_free(t, f, false);
	return true;
}

void rk_tcpnat_input(struct rk_tcpnat *t, const struct rk_frame *fr, int64_t now_ms)
{
	const uint8_t *frame = fr->data, *tcp = frame + fr->l4, *data;
	size_t thl = (size_t)(tcp[12] >> 4) * 4, dlen = fr->len - fr->l4 - thl;
	uint8_t flags;
	uint32_t seq, ack, wnd;
	struct flow *f;

	flags = tcp[13];
	seq = rk_get32(tcp + 4);
	ack = rk_get32(tcp + 8);
	data = tcp + thl;

	f = tn_lookup(t, fr->v6, fr->src, fr->dst, fr->sport, fr->dport);
	if (!f) {
		if ((flags & (F_SYN | F_ACK | F_RST | F_FIN)) == F_SYN)
			open_flow(t, fr, thl, now_ms);
		else
			refuse(t, fr, dlen);
		return;
	}
	memcpy(f->mac, frame + 6, 6);
	if (f->state == SYN_OUT || f->state == WAIT_MAC) {
		syn_answer(t, f, flags, seq, ack, tcp, thl, now_ms);
		return;
	}
	if (flags & F_RST) {
		/* only at the expected sequence number (RFC 5961): a stale one is ignored */
		if (seq == f->rcv_nxt || (f->state != OPEN && seq + 1 == f->rcv_nxt)) {
			t->stats.resets++;
			tn_flow_free(t, f, true);
		}
		return;
	}
	if (flags & F_SYN) {
		/* a SYN again: our SYN-ACK was lost, or the connect is still under way. On an
		 * open connection, a challenge ACK (RFC 5961): a child that lost the connection
		 * answers it with a reset, and its next SYN opens a new one. */
		if (f->state == SYN_SENT && seq + 1 == f->rcv_nxt)
			tn_send_synack(t, f, now_ms);
		else if (f->state == OPEN)
			tn_emit(t, f, F_ACK, f->snd_nxt, NULL, 0, NULL, 0);
		return;
	}
	if (f->state == CONNECTING || !(flags & F_ACK))
		return;
	if (f->state == SYN_SENT) {
		if (ack != f->iss + 1) {
			tn_send_reset(t, f, ack, false);
			return;
		}
		f->state = OPEN;
		f->rto_at = -1;
		f->retries = 0;
		f->push_due = true;
	}
	wnd = (uint32_t)rk_get16(tcp + 14) << f->snd_wscale;
	/* an answer while nothing is in flight (a probe of a closed window): the child is
	 * there, however long its window stays closed */
	if (f->snd_nxt == f->snd_una)
		f->retries = 0;
	acked(t, f, ack, wnd, dlen == 0 && !(flags & F_FIN), now_ms);

	/* data: what starts before rcv_nxt is trimmed; what starts after it is early */
	if (dlen || (flags & F_FIN)) {
		uint32_t skip = f->rcv_nxt - seq;
		f->ack_due = true;
		if (SEQ_LT(f->rcv_nxt, seq) || f->fin_in)
			return; /* a gap (the child resends), or after its FIN */
		if (skip > dlen)
			return; /* all of it seen before */
		data += skip;
		dlen -= skip;
		if (dlen) {
			ssize_t n = tn_take(t, f, data, dlen);
			if (n < 0)
				return;
			f->rcv_nxt += (uint32_t)n;
			if ((size_t)n < dlen)
				return; /* the FIN, if any, comes again */
		}
		if (flags & F_FIN) {
			f->rcv_nxt++;
			f->fin_in = true;
			if (!tn_flush_pend(t, f))
				return;
		}
	}
	maybe_close(t, f);
}

bool rk_tcpnat_busy(const struct rk_tcpnat *t)
{
	for (size_t i = 0; t && i < t->n_flows; i++) {
		const struct flow *f = t->flows[i];
		if (f->pend_len > f->pend_off || f->snd_nxt != f->snd_una)
			return true;
	}
	return false;
}

void rk_tcpnat_fill(struct rk_tcpnat *t, int64_t now_ms,
		    int (*add)(int fd, int events, void *opaque), void *opaque,
		    uint32_t *timeout_ms)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_listeners; i++)
		t->listeners[i].poll_idx =
			now_ms >= t->accept_at ? add(t->listeners[i].fd, POLLIN, opaque) : -1;
	if (t->n_listeners && now_ms < t->accept_at &&
	    (uint64_t)(t->accept_at - now_ms) < *timeout_ms)
		*timeout_ms = (uint32_t)(t->accept_at - now_ms);
	for (size_t i = 0; i < t->n_flows; i++) {
		struct flow *f = t->flows[i];
		int events = 0;

		if (f->state == CONNECTING)
			events = POLLOUT;
		else if (f->state == OPEN) {
			/* in flight data is still in the queue: readable means more only when
			 * nothing is in flight (otherwise the child's ACKs drive the sending) */
			if (!f->eof && f->snd_nxt == f->snd_una && f->snd_wnd)
				events |= POLLIN;
			if (f->pend_len > f->pend_off)
				events |= POLLOUT;
		}
		f->poll_idx = events ? add(f->fd, events, opaque) : -1;
		if (f->rto_at >= 0) {
			int64_t left = f->rto_at - now_ms;
			if (left < 0)
				left = 0;
			if ((uint64_t)left < *timeout_ms)
				*timeout_ms = (uint32_t)left;
		}
	}
}

/* A connect finished: a SYN-ACK to the child, or a reset. */
static void connected(struct rk_tcpnat *t, struct flow *f, int64_t now_ms)
{
	int err = 0;
	socklen_t elen = sizeof(err);

	if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		err = errno;
	if (err == EINPROGRESS)
		return;
	if (err) {
		tn_send_reset(t, f, 0, true);
		tn_flow_free(t, f, false);
		return;
	}
	tn_send_synack(t, f, now_ms);
}

/* A retransmission timeout: the SYN-ACK, the data or the FIN goes again; a window of
 * zero is probed; after RETRIES without progress the connection is reset. Returns false
 * if the flow ended. */
static bool timeout(struct rk_tcpnat *t, struct flow *f, int64_t now_ms)
{
	f->rto_at = -1;
	if (++f->retries > RETRIES) {
		tn_send_reset(t, f, f->snd_nxt, true);
		t->stats.resets++;
		tn_flow_free(t, f, true);
		return false;
	}
	f->rto_ms = f->rto_ms * 2 > RTO_MAX_MS ? RTO_MAX_MS : f->rto_ms * 2;
	if (f->state == SYN_SENT) {
		tn_send_synack(t, f, now_ms);
		return true;
	}
	if (f->state == SYN_OUT) {
		tn_send_syn(t, f, now_ms);
		return true;
	}
	if (f->state == WAIT_MAC) {
		tn_send_arp_request(t, f);
		tn_arm_rto(f, now_ms);
		return true;
	}
	if (f->snd_nxt != f->snd_una) {
		tn_rewind_sent(t, f);
	} else if (f->snd_wnd == 0) {
		/* a probe (one byte before the window): the child answers with its window */
		tn_emit(t, f, F_ACK, f->snd_una - 1, NULL, 0, NULL, 0);
		tn_arm_rto(f, now_ms);
	}
	return true;
}

void rk_tcpnat_poll(struct rk_tcpnat *t, int64_t now_ms, int (*revents)(int idx, void *opaque),
		    void *opaque)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_listeners; i++) {
		const struct listener *l = &t->listeners[i];
		if (l->poll_idx >= 0 && revents(l->poll_idx, opaque))
			tn_accept_all(t, l, now_ms);
	}
	/* backwards: a flow that ends is replaced by the last one */
	for (size_t i = t->n_flows; i-- > 0;) {
		struct flow *f = t->flows[i];
		int ev = f->poll_idx >= 0 ? revents(f->poll_idx, opaque) : 0;

		f->poll_idx = -1;
		if (f->state == CONNECTING) {
			if (ev)
				connected(t, f, now_ms);
			continue;
		}
		if (f->state == WAIT_MAC && t->cfg.peer->known)
			tn_send_syn(t, f, now_ms);
		if (ev & POLLOUT && !tn_flush_pend(t, f))
			continue;
		if (ev & (POLLIN | POLLERR | POLLHUP))
			f->push_due = true;
		if (f->rto_at >= 0 && f->rto_at <= now_ms && !timeout(t, f, now_ms))
			continue;
		if (f->state == OPEN && f->push_due && !tn_push(t, f, now_ms))
			continue;
		if (f->ack_due)
			tn_emit(t, f, F_ACK, f->snd_nxt, NULL, 0, NULL, 0);
		maybe_close(t, f);
	}
}

const struct rk_tcpnat_stats *rk_tcpnat_stats(const struct rk_tcpnat *t)
{
	static const struct rk_tcpnat_stats none;
	return t ? &t->stats : &none;
}

struct rk_tcpnat *rk_tcpnat_new(const struct rk_tcpnat_config *cfg)
{
	struct rk_tcpnat *t;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), zero = 0;

	/* SO_PEEK_OFF on TCP came with Linux 6.9 */
	if (fd < 0)
		return NULL;
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0) {
		close(fd);
		return NULL;
	}
	close(fd);
	t = rk_xcalloc(1, sizeof(*t));
	t->cfg = *cfg;
	size_t udp;

	rk_nat_budget(&t->max_flows, &udp);
	t->buf = rk_xmalloc(PEEK_MAX);
	rk_filter_slirp_mac(cfg->vnet->gateway, t->gw_mac);
	arc4random_buf(&t->iss_base, sizeof(t->iss_base));
	return t;
}

void rk_tcpnat_free(struct rk_tcpnat *t)
{
	if (!t)
		return;
	while (t->n_flows)
		tn_flow_free(t, t->flows[t->n_flows - 1], true);
	rk_tcpnat_unlisten_all(t);
	free(t->listeners);
	free(t->flows);
	free(t->buf);
	free(t);
}
