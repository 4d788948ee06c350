/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine of --net=builtin: the child's tap device, the frame filter, the translations
 * and libslirp, driven by one loop.
 *
 * One loop owns everything (libslirp is not thread-safe): it asks libslirp, the DNS
 * forwarder and the translations which sockets to watch, polls them with the tap, then
 * drains up to a batch of frames from the tap through the filter (filter.c), which judges
 * each once and routes it: TCP to tcpnat.c, UDP to the DNS address to dns.c, other UDP to
 * udpnat.c, the rest (ICMP, ARP and neighbour discovery for the gateway) to
 * slirp_input(). Sockets and timers are serviced in the same pass (slirp4netns skips the
 * sockets in a pass that read a frame, which costs a second poll per frame). Frames for
 * the child go straight to the tap; a full tap queue drops them, as a wire would, and TCP
 * resends. docs/netstack.md says what this boundary defends against.
 *
 * Configuration: DHCP, TFTP and the legacy protocol emulation are off (all CVE sources);
 * the child is configured statically by rootlesskit. On kernels before 6.9 libslirp
 * carries TCP too (tcpnat.c needs SO_PEEK_OFF).
 *
 * libslirp (and GLib with it) is not linked into rootlesskit: the engine loads it when it
 * starts (load_slirp), so the parent and the child never map it, which keeps about 1 MiB of
 * resident memory out of each, and a host without libslirp runs every other network.
 * And the engine loads it only when it needs it: with IPv6 (neighbour discovery, router
 * advertisements, ICMPv6) or for TCP on kernels before 6.9. Otherwise all it would carry
 * is ICMP echo and ARP, which icmpnat.c and the filter answer, and the engine runs without
 * libslirp, GLib and their 900 KiB of resident memory (docs/performance.md).
 */
#include "netstack/engine.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_net.h>
#include <sys/uio.h>

#include <libslirp.h>

#include "netstack/backlog.h"
#include "netstack/icmpnat.h"
#include "netstack/tcpnat.h"
#include "netstack/udpnat.h"
#include "src/lib/log.h"
#include "src/lib/util.h"

#define BATCH	      64  /* frames read from the tap per pass */
#define DRAIN_IDLE_MS 500 /* a stopped engine's drain ends after this long without a frame */

/* The libslirp functions the engine calls, from dlopen (see the top). */
static struct {
	__typeof__(slirp_new) *new_;
	__typeof__(slirp_cleanup) *cleanup;
	__typeof__(slirp_input) *input;
	__typeof__(slirp_pollfds_fill) *pollfds_fill;
	__typeof__(slirp_pollfds_poll) *pollfds_poll;
	__typeof__(slirp_handle_timer) *handle_timer;
	__typeof__(slirp_add_hostxfwd) *add_hostxfwd;
	__typeof__(slirp_remove_hostxfwd) *remove_hostxfwd;
	__typeof__(slirp_version_string) *version_string;
} sl;

/* Loads libslirp once. Returns 0 or a negative errno with err set. */
static int load_slirp(struct rk_error *err)
{
	static const char *const names[] = {
		"slirp_new",	      "slirp_cleanup",	       "slirp_input",
		"slirp_pollfds_fill", "slirp_pollfds_poll",    "slirp_handle_timer",
		"slirp_add_hostxfwd", "slirp_remove_hostxfwd", "slirp_version_string",
	};
	void **slots = (void **)&sl;
	void *lib;

	_Static_assert(sizeof(sl) == sizeof(names) / sizeof(names[0]) * sizeof(void *),
		       "one name per function");
	if (sl.new_)
		return 0;
	lib = dlopen("libslirp.so.0", RTLD_LAZY | RTLD_LOCAL);
	if (!lib)
		return rk_error_set(err, ENOENT,
				    "--net=builtin needs libslirp (Debian's package libslirp0): %s",
				    dlerror());
	for (size_t i = 0; i < RK_ARRAY_SIZE(names); i++) {
		slots[i] = dlsym(lib, names[i]);
		if (!slots[i]) {
			memset(&sl, 0, sizeof(sl));
			return rk_error_set(err, ENOENT, "netstack: libslirp lacks %s", names[i]);
		}
	}
	return 0;
}

struct engine_timer {
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms; /* -1: not armed */
	bool used;
};

struct rk_engine {
	Slirp *slirp;
	int tap;
	struct rk_engine_config cfg;
	struct rk_filter_config filter;
	struct rk_dns *dns;
	struct rk_tcpnat *tcp; /* NULL: libslirp carries the child's connections */
	struct rk_udpnat *udp;
	struct rk_icmpnat *icmp; /* without libslirp (slirp NULL): ICMP echo */
	int64_t now_ms;		 /* the clock at the loop's last wake-up, for what a frame starts */
	struct rk_engine_stats stats;
	struct pollfd *pfd;
	size_t n_pfd, cap_pfd;
	struct engine_timer timers[4];
	struct engine_timer spare; /* handed out when all four are taken: never fires */
	uint8_t *frame;
	bool tap_gone;
	int control; /* forward requests, or -1 */
};

static int64_t clock_ns(void *opaque)
{
	const struct rk_engine *e = opaque;
	struct timespec ts;

	if (e->cfg.clock_ns)
		return e->cfg.clock_ns(e->cfg.clock_arg);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	struct rk_engine *e = opaque;
	struct virtio_net_hdr none = { 0 }; /* a whole frame, checksums done */
	struct iovec iov[2] = { { &none, sizeof(none) }, { (void *)buf, len } };
	ssize_t n = e->cfg.vnet_hdr ? writev(e->tap, iov, 2) : write(e->tap, buf, len);

	if (n < 0) {
		if (errno == EIO || errno == EBADFD)
			e->tap_gone = true;
		e->stats.out_dropped++;
		return (ssize_t)len; /* dropped: TCP resends */
	}
	e->stats.frames_out++;
	return (ssize_t)len;
}

static void send_frame(const uint8_t *frame, size_t len, void *opaque)
{
	send_packet(frame, len, opaque);
}

static void guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	rk_debug("netstack: guest error: %s", msg);
}

static void *timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct rk_engine *e = opaque;

	for (size_t i = 0; i < RK_ARRAY_SIZE(e->timers); i++)
		if (!e->timers[i].used) {
			e->timers[i] = (struct engine_timer){
				.id = id, .cb_opaque = cb_opaque, .expire_ms = -1, .used = true
			};
			return &e->timers[i];
		}
	/* libslirp 4.7 has one timer (IPv6 router advertisements), so this is a libslirp that
	 * wants more than we expected: it gets a timer that never fires (what it times stops,
	 * the engine goes on), and one line says so */
	if (!e->spare.used)
		rk_warn("netstack: out of timers; libslirp's further timers will not fire");
	e->spare = (struct engine_timer){
		.id = id, .cb_opaque = cb_opaque, .expire_ms = -1, .used = true
	};
	return &e->spare;
}

static void timer_free(void *timer, void *opaque)
{
	(void)opaque;
	((struct engine_timer *)timer)->used = false;
}

static void timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	((struct engine_timer *)timer)->expire_ms = expire_ms;
}

static void noop_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void noop(void *opaque)
{
	(void)opaque;
}

static const SlirpCb callbacks = {
	.send_packet = send_packet,
	.guest_error = guest_error,
	.clock_get_ns = clock_ns,
	.timer_free = timer_free,
	.timer_mod = timer_mod,
	.register_poll_fd = noop_fd,
	.unregister_poll_fd = noop_fd,
	.notify = noop,
	.timer_new_opaque = timer_new_opaque,
};

struct rk_engine *rk_engine_new(const struct rk_engine_config *cfg, int tap, struct rk_error *err)
{
	const struct rk_vnet *v = &cfg->vnet;
	struct rk_engine *e;
	SlirpConfig sc = {
		/* 4 is the newest libslirp 4.7 knows; it brings disable_dhcp */
		.version = SLIRP_CONFIG_VERSION_MAX < 4 ? SLIRP_CONFIG_VERSION_MAX : 4,
		.in_enabled = true,
		.vnetwork.s_addr = v->net,
		.vnetmask.s_addr = v->mask,
		.vhost.s_addr = v->gateway,
		/* libslirp sends everything for its DNS address to the host's resolver, so
		 * where the gateway serves DNS too (ours is dns.c either way), it gets an
		 * address of its own */
		.vnameserver.s_addr = v->dns != v->gateway ? v->dns : (v->net | htonl(3)),
		.vdhcp_start.s_addr = v->child,
		.in6_enabled = v->ipv6,
		.vprefix_len = 64,
		.if_mtu = v->mtu,
		.if_mru = v->mtu,
		.disable_host_loopback = v->disable_host_loopback,
		.enable_emu = false,
#if SLIRP_CONFIG_VERSION_MAX >= 4
		.disable_dhcp = true,
#endif
	};

	e = rk_xcalloc(1, sizeof(*e));
	inet_pton(AF_INET6, "fd00::", &sc.vprefix_addr6);
	inet_pton(AF_INET6, "fd00::2", &sc.vhost6);
	inet_pton(AF_INET6, "fd00::3", &sc.vnameserver6);
	e->tap = tap;
	e->control = -1;
	e->cfg = *cfg;
	/* every stage reads the one description the engine keeps */
	v = &e->cfg.vnet;
	e->filter = (struct rk_filter_config){ .vnet = v };
	e->frame = rk_xmalloc(RK_FRAME_MAX + 1);
	e->now_ms = clock_ns(e) / 1000000;
	{
		struct rk_dns_config dc = { .vnet = v,
					    .n_servers = cfg->n_dns_servers,
					    .resolv_conf = cfg->resolv_conf };
		memcpy(dc.servers, cfg->dns_servers, sizeof(dc.servers));
		e->dns = rk_dns_new(&dc, send_frame, e);
	}
	struct rk_udpnat_config uc = {
		.tap = tap, .vnet = v, .peer = &e->filter.peer, .vnet_hdr = cfg->vnet_hdr
	};
	e->udp = rk_udpnat_new(&uc);
	if (!cfg->libslirp_tcp) {
		struct rk_tcpnat_config tc = { .tap = tap,
					       .vnet = v,
					       .peer = &e->filter.peer,
					       .vnet_hdr = cfg->vnet_hdr,
					       .resolver = e->dns,
					       .now_ms = e->now_ms };
		e->tcp = rk_tcpnat_new(&tc);
		e->filter.tcp_translated = e->tcp != NULL;
		if (!e->tcp)
			rk_debug("netstack: no SO_PEEK_OFF for TCP (Linux < 6.9): libslirp carries "
				 "every connection");
	}
	if (!v->ipv6 && e->tcp) {
		struct rk_icmpnat_config ic = {
			.tap = tap, .vnet = v, .peer = &e->filter.peer, .vnet_hdr = cfg->vnet_hdr
		};
		e->icmp = rk_icmpnat_new(&ic);
		e->filter.no_slirp = true;
		return e;
	}
	if (load_slirp(err) < 0) {
		rk_engine_free(e);
		return NULL;
	}
	e->slirp = sl.new_(&sc, &callbacks, e);
	if (!e->slirp) {
		rk_error_set(err, EINVAL, "netstack: libslirp %s refused the configuration",
			     sl.version_string());
		rk_engine_free(e);
		return NULL;
	}
	return e;
}

/* One frame from the child; vh: its virtio-net header, or NULL. The filter judges it (and
 * completes a checksum it asks for, for libslirp); nothing changes it afterwards. */
static void input(struct rk_engine *e, uint8_t *frame, size_t len, const struct virtio_net_hdr *vh)
{
	struct rk_frame fr;

	e->stats.frames_in++;
	switch (rk_filter_frame(&e->filter, frame, len, vh, &fr)) {
	case RK_FILTER_PASS:
		if (fr.route == RK_ROUTE_DNS)
			rk_dns_input(e->dns, &fr, e->now_ms);
		else if (fr.route == RK_ROUTE_TCP)
			rk_tcpnat_input(e->tcp, &fr, e->now_ms);
		else if (fr.route == RK_ROUTE_UDP)
			rk_udpnat_input(e->udp, &fr, e->now_ms);
		else if (e->slirp)
			sl.input(e->slirp, fr.data, (int)fr.len);
		else
			rk_icmpnat_input(e->icmp, &fr, e->now_ms);
		break;
	case RK_FILTER_HELD:
		break;
	case RK_FILTER_REPLY:
		e->stats.replies++;
		send_packet(fr.reply, fr.reply_len, e);
		break;
	case RK_FILTER_DROP:
		e->stats.dropped[fr.reason]++;
		break;
	}
}

void rk_engine_input(struct rk_engine *e, uint8_t *frame, size_t len)
{
	struct virtio_net_hdr vh;

	if (!e->cfg.vnet_hdr) {
		input(e, frame, len, NULL);
	} else if (len >= sizeof(vh)) {
		memcpy(&vh, frame, sizeof(vh));
		input(e, frame + sizeof(vh), len - sizeof(vh), &vh);
	}
}

int rk_engine_forward(struct rk_engine *e, const struct rk_engine_fwd *f)
{
	int r;

	/* UDP forwards are udpnat.c's, TCP ones tcpnat.c's when it runs */
	if (f->udp) {
		if (f->op == RK_ENGINE_FWD_ADD)
			return rk_udpnat_listen(e->udp, &f->host, &f->guest);
		if (f->op == RK_ENGINE_FWD_REMOVE)
			return rk_udpnat_unlisten(e->udp, &f->host);
		return -EINVAL;
	}
	if (e->tcp) {
		if (f->op == RK_ENGINE_FWD_ADD)
			return rk_tcpnat_listen(e->tcp, &f->host, &f->guest);
		if (f->op == RK_ENGINE_FWD_REMOVE)
			return rk_tcpnat_unlisten(e->tcp, &f->host);
		return -EINVAL;
	}
	errno = 0;
	if (f->op == RK_ENGINE_FWD_ADD) {
		/* libslirp forwards within one family */
		if (f->host.sa.sa_family != f->guest.sa.sa_family)
			return -EAFNOSUPPORT;
		rk_backlog_widen(true); /* libslirp would listen with a backlog of 1 */
		r = sl.add_hostxfwd(e->slirp, &f->host.sa, rk_sockaddr_len(&f->host), &f->guest.sa,
				    rk_sockaddr_len(&f->guest),
				    f->host.sa.sa_family == AF_INET6 ? SLIRP_HOSTFWD_V6ONLY : 0);
		rk_backlog_widen(false);
	} else if (f->op == RK_ENGINE_FWD_REMOVE)
		r = sl.remove_hostxfwd(e->slirp, &f->host.sa, rk_sockaddr_len(&f->host), 0);
	else
		return -EINVAL;
	if (r < 0)
		return errno ? -errno : (f->op == RK_ENGINE_FWD_ADD ? -EADDRINUSE : -ENOENT);
	return 0;
}

void rk_engine_set_control(struct rk_engine *e, int fd)
{
	e->control = fd;
}

/* One request from the control socket; at its end the engine stops serving it. */
static void serve_control(struct rk_engine *e)
{
	struct rk_engine_fwd f;
	ssize_t n = recv(e->control, &f, sizeof(f), MSG_DONTWAIT);
	struct rk_engine_fwd_reply r = { .seq = f.seq };

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		e->control = -1;
		return;
	}
	r.result = n == (ssize_t)sizeof(f) ? rk_engine_forward(e, &f) : -EBADMSG;
	(void)!send(e->control, &r, sizeof(r), MSG_NOSIGNAL);
}

static short to_poll(int events)
{
	short ev = 0;

	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	return ev;
}

/* Adds fd to the poll set with poll(2) events; returns its index. */
static int add_pollfd(int fd, int events, void *opaque)
{
	struct rk_engine *e = opaque;

	if (e->n_pfd == e->cap_pfd) {
		e->cap_pfd = e->cap_pfd ? e->cap_pfd * 2 : 64;
		e->pfd = rk_xrealloc(e->pfd, e->cap_pfd * sizeof(*e->pfd));
	}
	e->pfd[e->n_pfd] = (struct pollfd){ .fd = fd, .events = (short)events };
	return (int)e->n_pfd++;
}

/* The same with libslirp's events. */
static int add_poll(int fd, int events, void *opaque)
{
	return add_pollfd(fd, to_poll(events), opaque);
}

static int add_poll_in(int fd, void *opaque)
{
	return add_poll(fd, SLIRP_POLL_IN, opaque);
}

static int get_revents(int idx, void *opaque)
{
	struct rk_engine *e = opaque;
	short r;
	int ev = 0;

	if (idx < 0 || (size_t)idx >= e->n_pfd)
		return 0;
	r = e->pfd[idx].revents;
	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & (POLLERR | POLLNVAL))
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

/* An index's poll(2) revents. */
static int get_pollfd_revents(int idx, void *opaque)
{
	const struct rk_engine *e = opaque;

	return idx >= 0 && (size_t)idx < e->n_pfd ? e->pfd[idx].revents : 0;
}

/* Reads up to a batch of frames from the tap into libslirp. */
static void drain_tap(struct rk_engine *e)
{
	struct virtio_net_hdr vh;
	/* one byte more than the largest frame: a longer one shows as too long */
	struct iovec iov[2] = { { &vh, sizeof(vh) }, { e->frame, RK_FRAME_MAX + 1 } };

	for (int i = 0; i < BATCH; i++) {
		ssize_t n = e->cfg.vnet_hdr ? readv(e->tap, iov, 2)
					    : read(e->tap, e->frame, RK_FRAME_MAX + 1);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				e->tap_gone = true;
			return;
		}
		if (n == 0) {
			e->tap_gone = true;
			return;
		}
		if (!e->cfg.vnet_hdr)
			input(e, e->frame, (size_t)n, NULL);
		else if ((size_t)n >= sizeof(vh))
			input(e, e->frame, (size_t)n - sizeof(vh), &vh);
	}
}

static int pass(struct rk_engine *e, int stop_fd, int timeout_ms, bool *stopped)
{
	uint32_t timeout = (uint32_t)timeout_ms;
	int r;

	e->n_pfd = 0;
	add_poll(e->tap, SLIRP_POLL_IN, e);
	add_poll(stop_fd, SLIRP_POLL_IN, e);
	add_poll(e->control, SLIRP_POLL_IN, e);
	if (e->slirp)
		sl.pollfds_fill(e->slirp, &timeout, add_poll, e);
	e->now_ms = clock_ns(e) / 1000000;
	rk_dns_fill(e->dns, e->now_ms, add_poll_in, e, &timeout);
	rk_tcpnat_fill(e->tcp, e->now_ms, add_pollfd, e, &timeout);
	rk_udpnat_fill(e->udp, e->now_ms, add_pollfd, e, &timeout);
	rk_icmpnat_fill(e->icmp, e->now_ms, add_pollfd, e, &timeout);
	for (size_t i = 0; i < RK_ARRAY_SIZE(e->timers); i++) {
		const struct engine_timer *t = &e->timers[i];
		if (t->used && t->expire_ms >= 0) {
			int64_t left = t->expire_ms - e->now_ms;
			if (left < 0)
				left = 0;
			if ((uint64_t)left < timeout)
				timeout = (uint32_t)left;
		}
	}
	r = poll(e->pfd, e->n_pfd, (int)timeout);
	if (r < 0 && errno != EINTR)
		return -errno;
	e->now_ms = clock_ns(e) / 1000000;
	if (r > 0 && e->pfd[1].fd >= 0 && e->pfd[1].revents) {
		*stopped = true;
		return 0;
	}
	if (r > 0 && e->pfd[0].revents)
		drain_tap(e);
	if (r > 0 && e->pfd[2].fd >= 0 && e->pfd[2].revents)
		serve_control(e);
	if (e->slirp)
		sl.pollfds_poll(e->slirp, r < 0, get_revents, e);
	if (r > 0) {
		rk_dns_poll(e->dns, get_revents, e);
		rk_icmpnat_poll(e->icmp, e->now_ms, get_pollfd_revents, e);
	}
	/* after the frames: acknowledgements and data for the whole batch at once */
	rk_tcpnat_poll(e->tcp, e->now_ms, get_pollfd_revents, e);
	if (r > 0)
		rk_udpnat_poll(e->udp, e->now_ms, get_pollfd_revents, e);
	for (size_t i = 0; i < RK_ARRAY_SIZE(e->timers); i++) {
		struct engine_timer *t = &e->timers[i];
		if (t->used && t->expire_ms >= 0 && t->expire_ms <= e->now_ms) {
			t->expire_ms = -1;
			sl.handle_timer(e->slirp, t->id, t->cb_opaque);
		}
	}
	return e->tap_gone ? -EPIPE : 0;
}

int rk_engine_step(struct rk_engine *e, int timeout_ms)
{
	bool stopped = false;
	return pass(e, -1, timeout_ms, &stopped);
}

int rk_engine_run(struct rk_engine *e, int stop_fd)
{
	int64_t drain_until = -1, heard_ms = 0;
	uint64_t frames = 0;

	for (;;) {
		bool stopped = false;
		int r = pass(e, stop_fd, drain_until < 0 ? 1000 : 50, &stopped);
		if (r < 0)
			return r;
		if (stopped) {
			/* the command ended: what its connections still carry is delivered, for
			 * drain_ms at most; no new connection is taken */
			if (e->cfg.drain_ms == 0)
				return 0;
			drain_until = e->now_ms + e->cfg.drain_ms;
			stop_fd = -1;
			rk_tcpnat_unlisten_all(e->tcp);
		}
		if (drain_until < 0)
			continue;
		/* done when every connection has ended, or nothing came from the child for
		 * DRAIN_IDLE_MS and nothing is on its way (what is left is idle: a process that
		 * outlived the command) */
		if (e->stats.frames_in != frames) {
			frames = e->stats.frames_in;
			heard_ms = e->now_ms;
		}
		if (rk_tcpnat_stats(e->tcp)->active == 0 || e->now_ms >= drain_until ||
		    (e->now_ms - heard_ms >= DRAIN_IDLE_MS && !rk_tcpnat_busy(e->tcp)))
			return 0;
	}
}

void rk_engine_stats(const struct rk_engine *e, struct rk_engine_stats *ret)
{
	const struct rk_tcpnat_stats *t = rk_tcpnat_stats(e->tcp);
	const struct rk_icmpnat_stats *ic = rk_icmpnat_stats(e->icmp);

	*ret = e->stats;
	ret->tcp_flows = t->flows;
	ret->tcp_active = t->active;
	ret->tcp_retransmits = t->retransmits;
	ret->tcp_resets = t->resets;
	ret->tcp_held = t->held;
	ret->tcp_refused = t->refused;
	ret->out_dropped += t->out_dropped + rk_udpnat_stats(e->udp)->out_dropped + ic->out_dropped;
	ret->icmp_answered = ic->answered;
	ret->icmp_sent = ic->sent;
	ret->icmp_replies = ic->replies;
	ret->icmp_dropped = ic->dropped;
	ret->udp_flows = rk_udpnat_stats(e->udp)->flows;
	ret->udp_active = rk_udpnat_stats(e->udp)->active;
	ret->udp_evicted = rk_udpnat_stats(e->udp)->evicted;
}

void rk_engine_free(struct rk_engine *e)
{
	if (!e)
		return;
	rk_tcpnat_free(e->tcp);
	rk_udpnat_free(e->udp);
	rk_icmpnat_free(e->icmp);
	if (e->slirp)
		sl.cleanup(e->slirp);
	rk_dns_free(e->dns);
	if (e->tap >= 0)
		close(e->tap);
	rk_filter_release(&e->filter);
	free(e->pfd);
	free(e->frame);
	free(e);
}
