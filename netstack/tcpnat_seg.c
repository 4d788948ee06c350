/* SPDX-License-Identifier: Apache-2.0 */
/* The TCP translation's segments to the child (built once per pass, 64 KiB at a time on a
 * tap with virtio-net offloads) and the child's data to the host socket; see tcpnat.c. */
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

/* The window offered to the child: what the pending buffer can still hold. With no buffer
 * to be had (PEND_BUFFERS in use), a quarter of one: what the socket does not tn_take at once
 * is then not acknowledged, and the child sends it again. */
static uint32_t rcv_window(const struct rk_tcpnat *t, const struct flow *f)
{
	if (f->fin_in)
		return 0;
	if (!f->pend && f->pend_len == 0 && t->pend_buffers >= PEND_BUFFERS)
		return WINDOW / 4; /* the socket takes this much at once, or the rest is resent */
	return WINDOW - (uint32_t)(f->pend_len - f->pend_off);
}

/* Writes one segment to the child: flags, seq, the ACK of rcv_nxt and the window, options
 * (a multiple of 4 bytes) and len bytes of data. Returns false if the tap refused it. */
bool tn_emit(struct rk_tcpnat *t, struct flow *f, uint8_t flags, uint32_t seq, const uint8_t *opt,
	     size_t optlen, const uint8_t *data, size_t len)
{
	uint8_t *h = t->hdr, *ip = h + ETH_HLEN, *tcp;
	size_t iphl = f->v6 ? 40 : 20, thl = 20 + optlen;
	uint32_t wnd = rcv_window(t, f);
	uint64_t sum;
	uint16_t csum;
	struct virtio_net_hdr vh = { 0 };
	struct iovec iov[3] = { { &vh, sizeof(vh) },
				{ h, ETH_HLEN + iphl + thl },
				{ (void *)data, len } };
	bool vnet = t->cfg.vnet_hdr;

	rk_nat_headers(h, f->mac, t->gw_mac, f->v6, f->raddr, f->caddr, PROTO_TCP, thl + len,
		       t->ip_id++, 0x4000 /* DF */);
	tcp = ip + iphl;
	memcpy(tcp, &f->rport, 2);
	memcpy(tcp + 2, &f->cport, 2);
	rk_put32(tcp + 4, seq);
	rk_put32(tcp + 8, flags & F_ACK ? f->rcv_nxt : 0);
	tcp[12] = (uint8_t)(thl / 4 << 4);
	tcp[13] = flags;
	/* a SYN's window is never scaled */
	wnd >>= flags & F_SYN ? 0 : f->rcv_wscale;
	if (wnd > 0xffff)
		wnd = 0xffff;
	rk_put16(tcp + 14, (uint16_t)wnd);
	rk_put16(tcp + 16, 0);
	rk_put16(tcp + 18, 0);
	if (optlen)
		memcpy(tcp + 20, opt, optlen);
	sum = rk_nat_pseudo(f->v6, f->raddr, f->caddr, PROTO_TCP, thl + len);
	if (vnet) {
		/* partial: the pseudo-header's sum, not inverted, as the kernel leaves it */
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.csum_start = (uint16_t)(ETH_HLEN + iphl);
		vh.csum_offset = 16;
		if (len > f->mss) {
			vh.gso_type = f->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
			vh.gso_size = f->mss;
			vh.hdr_len = (uint16_t)(ETH_HLEN + iphl + thl);
		}
		csum = (uint16_t)~rk_nat_fold(sum);
	} else {
		sum = rk_nat_sum(sum, tcp, thl);
		csum = rk_nat_fold(rk_nat_sum(sum, data, len));
	}
	memcpy(tcp + 16, &csum, 2);
	if (flags & F_ACK) {
		f->ack_due = false;
		if (!(flags & F_SYN))
			f->wnd_sent = f->rcv_nxt + (wnd << f->rcv_wscale);
	}
	if (writev(t->cfg.tap, iov + !vnet, (int)vnet + (len ? 2 : 1)) < 0) {
		t->stats.out_dropped++;
		return false;
	}
	return true;
}

/* A reset to a segment of no flow of ours (seq/ack as RFC 793 has it). */
void tn_send_reset(struct rk_tcpnat *t, struct flow *f, uint32_t seq, bool with_ack)
{
	tn_emit(t, f, with_ack ? F_RST | F_ACK : F_RST, seq, NULL, 0, NULL, 0);
}

void tn_arm_rto(struct flow *f, int64_t now_ms)
{
	if (f->rto_at < 0)
		f->rto_at = now_ms + f->rto_ms;
}

void tn_send_synack(struct rk_tcpnat *t, struct flow *f, int64_t now_ms)
{
	uint8_t opt[8] = { 2, 4, 0, 0, 1, 3, 3, 0 }; /* MSS; NOP, window scale */
	unsigned mss = t->cfg.vnet->mtu - (f->v6 ? 60 : 40);

	rk_put16(opt + 2, (uint16_t)(mss > 0xffff ? 0xffff : mss));
	opt[7] = f->rcv_wscale;
	tn_emit(t, f, F_SYN | F_ACK, f->iss, opt, f->rcv_wscale || f->snd_wscale ? 8 : 4, NULL, 0);
	f->state = SYN_SENT;
	tn_arm_rto(f, now_ms);
}

/* A host forward's SYN to the child (MSS, window scale). */
void tn_send_syn(struct rk_tcpnat *t, struct flow *f, int64_t now_ms)
{
	uint8_t opt[8] = { 2, 4, 0, 0, 1, 3, 3, WSCALE };
	unsigned mss = t->cfg.vnet->mtu - 40;

	rk_put16(opt + 2, (uint16_t)(mss > 0xffff ? 0xffff : mss));
	memcpy(f->mac, t->cfg.peer->mac, 6);
	tn_emit(t, f, F_SYN, f->iss, opt, sizeof(opt), NULL, 0);
	f->state = SYN_OUT;
	tn_arm_rto(f, now_ms);
}

/* Who has the child's address: asked when a host forward's connection arrives before the
 * child sent anything (the IPv4 one for an IPv6 flow: the MAC is the same). */
void tn_send_arp_request(struct rk_tcpnat *t, const struct flow *f)
{
	const uint8_t *child_addr = f->v6 ? (const uint8_t *)&t->cfg.vnet->child : f->caddr;
	uint8_t a[ETH_HLEN + 28];
	struct virtio_net_hdr vh = { 0 };
	struct iovec iov[2] = { { &vh, sizeof(vh) }, { a, sizeof(a) } };
	bool vnet = t->cfg.vnet_hdr;

	rk_nat_arp_request(a, t->gw_mac, t->cfg.vnet->gateway, child_addr);
	if (writev(t->cfg.tap, iov + !vnet, 1 + (int)vnet) < 0)
		t->stats.out_dropped++;
}

/* Rewinds the data sent to the child to its first unacknowledged byte. */
void tn_rewind_sent(struct rk_tcpnat *t, struct flow *f)
{
	int zero = 0;

	if (f->snd_nxt == f->snd_una)
		return;
	t->stats.retransmits++;
	setsockopt(f->fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero));
	/* one segment first, as TCP does after a loss: a whole window again could meet the
	 * same losses again */
	f->cwnd = f->mss;
	f->snd_nxt = f->snd_una;
	f->fin_sent = false;
	f->push_due = true;
}

/* Sends what the child's window allows from the socket, then the FIN after the last byte.
 * Returns false if the flow ended (a host error: the child got a reset). */
bool tn_push(struct rk_tcpnat *t, struct flow *f, int64_t now_ms)
{
	bool at_end = false;
	/* with offload, as much as a 64 KiB frame holds */
	size_t max_seg = t->cfg.vnet_hdr ? 65535 - ETH_HLEN - (f->v6 ? 40 : 20) - 20 : f->mss;

	f->push_due = false;
	while (!f->fin_sent) {
		uint32_t inflight = f->snd_nxt - f->snd_una, room;
		uint32_t wnd = f->snd_wnd < f->cwnd ? f->snd_wnd : f->cwnd;
		ssize_t n;

		if (inflight >= wnd) {
			/* a closed window is probed from the timer */
			tn_arm_rto(f, now_ms);
			break;
		}
		room = wnd - inflight;
		n = recv(f->fd, t->buf, room < PEEK_MAX ? room : PEEK_MAX, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			tn_send_reset(t, f, f->snd_nxt, true);
			t->stats.resets++;
			tn_flow_free(t, f, false);
			return false;
		}
		if (n == 0) {
			f->eof = at_end = true;
			break;
		}
		for (ssize_t off = 0; off < n;) {
			size_t seg = (size_t)(n - off) < max_seg ? (size_t)(n - off) : max_seg;
			uint8_t flags = off + (ssize_t)seg == n ? F_ACK | F_PSH : F_ACK;
			if (!tn_emit(t, f, flags, f->snd_nxt, NULL, 0, t->buf + off, seg)) {
				/* the rest is read again from here */
				int peek = (int)(f->snd_nxt - f->snd_una);
				setsockopt(f->fd, SOL_SOCKET, SO_PEEK_OFF, &peek, sizeof(peek));
				tn_arm_rto(f, now_ms);
				return true;
			}
			f->snd_nxt += (uint32_t)seg;
			if (SEQ_LT(f->snd_max, f->snd_nxt))
				f->snd_max = f->snd_nxt;
			off += (ssize_t)seg;
		}
		tn_arm_rto(f, now_ms);
	}
	if (at_end) {
		if (tn_emit(t, f, F_FIN | F_ACK, f->snd_nxt, NULL, 0, NULL, 0)) {
			f->snd_nxt++;
			f->fin_sent = true;
			f->snd_max = f->snd_nxt;
			f->fin_max = true;
		}
		tn_arm_rto(f, now_ms);
	}
	return true;
}

/* Writes the pending buffer to the socket; after it, the child's FIN. Returns false if
 * the flow ended. */
bool tn_flush_pend(struct rk_tcpnat *t, struct flow *f)
{
	uint32_t before = rcv_window(t, f);

	if (f->pend_len > f->pend_off) {
		ssize_t n = send(f->fd, f->pend + f->pend_off, f->pend_len - f->pend_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			tn_send_reset(t, f, f->snd_nxt, true);
			t->stats.resets++;
			tn_flow_free(t, f, false);
			return false;
		}
		if (n > 0)
			f->pend_off += (size_t)n;
		if (f->pend_off == f->pend_len)
			tn_pend_release(t, f);
	}
	if (f->fin_in && !f->shut && f->pend_len == 0) {
		shutdown(f->fd, SHUT_WR);
		f->shut = true;
	}
	/* a window that opened by a quarter is announced */
	if (rcv_window(t, f) - before >= WINDOW / 4 || SEQ_LT(f->wnd_sent, f->rcv_nxt + 1))
		f->ack_due = true;
	return true;
}

/* Takes data the child sent at rcv_nxt: written to the socket, the rest kept while the
 * window allows. Returns how much was taken, or -1 if the flow ended. */
ssize_t tn_take(struct rk_tcpnat *t, struct flow *f, const uint8_t *data, size_t len)
{
	size_t done = 0, room;

	if (f->pend_len == 0) {
		ssize_t n = send(f->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			tn_send_reset(t, f, f->snd_nxt, true);
			t->stats.resets++;
			tn_flow_free(t, f, false);
			return -1;
		}
		done = n > 0 ? (size_t)n : 0;
	}
	if (done == len)
		return (ssize_t)done;
	if (!f->pend) {
		if (t->pend_buffers >= PEND_BUFFERS)
			return (ssize_t)done;
		f->pend = rk_xmalloc(WINDOW);
		t->pend_buffers++;
	}
	if (f->pend_off) {
		memmove(f->pend, f->pend + f->pend_off, f->pend_len - f->pend_off);
		f->pend_len -= f->pend_off;
		f->pend_off = 0;
	}
	room = WINDOW - f->pend_len;
	if (room > len - done)
		room = len - done;
	memcpy(f->pend + f->pend_len, data + done, room);
	f->pend_len += room;
	t->stats.held += room;
	return (ssize_t)(done + room);
}
