/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP connections of the builtin port driver
 *
 * accept() on the host, take a socket of the child's namespace from the pool, connect() it
 * to the target (non-blocking), then move bytes both ways. The first bytes of a direction go
 * through a small buffer with recv() and send() (a short exchange costs no pipe); once a
 * direction carries more, it moves through a pipe of its own, splice(source -> pipe) and
 * splice(pipe -> destination), and its bytes no longer enter user space.
 * A FIN is passed on with shutdown(SHUT_WR) once the pipe is empty; the connection ends
 * when both directions have ended, or at the first error.
 *
 * Both sockets are watched edge-triggered for reading and writing, registered once: every
 * event runs both directions until neither makes progress, which needs no epoll_ctl() in
 * the data path. A connection that still makes progress after its budget is queued to run
 * again after the other events, so one busy connection cannot starve the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "port/builtin_int.h"
#include "port/sockpool.h"
#include "src/lib/log.h"
#include "src/lib/util.h"

#define RUN_BUDGET 16	      /* rounds of both directions per turn */
#define SPLICE_MAX (1U << 20) /* the pipe takes what fits */
#define ET_EVENTS  (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)
#define ACCEPT_MAX 64
#define COPY_BUF   16384 /* copy mode's buffer, on the stack */
#define BULK_BYTES (256U << 10)
#define BULK_PIPE  (1 << 20) /* the default maximum for an unprivileged user */
/* A call cut short by a signal, the watchdog's (builtin.c): nothing moved. It sleeps only
 * on a socket made blocking behind our back, but the kernel may also give up a call that
 * merely met the signal (a splice to a socket does). So: the connection runs again after
 * the batch, unless its pooled socket is blocking, or this keeps happening. */
#define INTERRUPTED    2
#define INTERRUPTS_MAX 3

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void bp_tcp_close(struct bp_driver *d, struct bp_conn *c)
{
	if (c->state == BP_CONN_CLOSED)
		return;
	rk_list_del(&c->wait);
	rk_list_del(&c->link);
	/* the pool socket's file may still be open in the child for a moment after it was
	 * sent: take it out of the epoll set explicitly, closing the fd may not */
	if (c->bfd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->bfd, NULL);
	close_fd(&c->cfd);
	close_fd(&c->bfd);
	for (int i = 0; i < 2; i++) {
		close_fd(&c->up.pipe[i]);
		close_fd(&c->down.pipe[i]);
	}
	c->state = BP_CONN_CLOSED;
	rk_list_add_tail(&d->dead_conns, &c->link);
}

/* Whether fd's file is still non-blocking: if not, a call on it can sleep. */
static bool nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK);
}

/* Copy mode: a direction starts without a pipe, moving bytes through a small buffer, which
 * costs no pipe for the short exchanges most connections are. It switches to a pipe for
 * good when the destination cannot take everything at once (the rest goes into the pipe)
 * or a read fills the buffer (a bulk transfer). Returns as pump() does. */
static int copy(struct bp_dir *x, int src, int dst, bool *src_in, bool *dst_out)
{
	char buf[COPY_BUF];
	ssize_t n, m = 0;

	if (!*src_in)
		return 0;
	n = recv(src, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN)
			*src_in = false;
		return errno == EAGAIN ? 0 : errno == EINTR ? INTERRUPTED : -errno;
	}
	if (n == 0) {
		x->eof = true;
		return 1;
	}
	if (*dst_out) {
		m = send(dst, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (m < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (m < 0) {
			/* EINTR: nothing sent; the rest goes into the pipe, as for EAGAIN,
			 * but the destination may take more at once */
			*dst_out = errno == EINTR;
			m = 0;
		}
	}
	if (m < n || n == (ssize_t)sizeof(buf)) {
		if (pipe2(x->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
			return -errno;
		/* at most COPY_BUF bytes into an empty pipe: one write takes them */
		if (m < n && write(x->pipe[1], buf + m, (size_t)(n - m)) != n - m)
			return -EIO;
		x->pending = (size_t)(n - m);
	}
	return 1;
}

/* One read and one write attempt in direction x, each only while the edge-triggered
 * hints say it may succeed: *src_in (readable) and *dst_out (writable) are set by epoll
 * events and cleared by EAGAIN, so an idle direction costs no system call. Returns 1 when
 * bytes moved or an EOF was seen, 0 when both would block, INTERRUPTED, or -errno. */
static int pump(struct bp_dir *x, int src, int dst, bool *src_in, bool *dst_out)
{
	int progress = 0;
	ssize_t n;

	if (x->pipe[0] < 0) {
		progress = x->eof ? 0 : copy(x, src, dst, src_in, dst_out);
		if (progress < 0)
			return progress;
		goto out;
	}
	if (*src_in && !x->eof && x->pending < SPLICE_MAX) {
		n = splice(src, NULL, x->pipe[1], NULL, SPLICE_MAX,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0)
			x->pending += (size_t)n;
		else if (n == 0)
			x->eof = true;
		else if (errno == EINTR)
			return INTERRUPTED;
		else if (errno != EAGAIN)
			return -errno;
		/* with bytes in the pipe, EAGAIN may mean a full pipe, not an empty source:
		 * the read is tried again once the pipe drains */
		else if (errno == EAGAIN && x->pending == 0)
			*src_in = false;
		progress = n >= 0;
	}
	if (x->pending > 0 && *dst_out) {
		n = splice(x->pipe[0], NULL, dst, NULL, x->pending,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			x->pending -= (size_t)n;
			x->moved += (size_t)n;
			progress = 1;
		} else if (n < 0 && errno == EINTR) {
			return INTERRUPTED;
		} else if (n < 0 && errno != EAGAIN) {
			return -errno;
		} else if (n < 0 && errno == EAGAIN) {
			*dst_out = false;
		}
	}
	/* a bulk transfer gets a larger pipe: fewer, larger splices (best effort: the
	 * per-user pipe allowance may say no) */
	if (!x->grown && x->moved >= BULK_BYTES) {
		x->grown = true;
		fcntl(x->pipe[1], F_SETPIPE_SZ, BULK_PIPE);
	}
out:
	if (x->eof && x->pending == 0 && !x->shut) {
		shutdown(dst, SHUT_WR);
		x->shut = true;
	}
	return progress;
}

void bp_tcp_run(struct bp_driver *d, struct bp_conn *c)
{
	if (c->state != BP_CONN_RELAYING)
		return;
	for (int round = 0;; round++) {
		int up = pump(&c->up, c->cfd, c->bfd, &c->c_in, &c->b_out);
		int down = pump(&c->down, c->bfd, c->cfd, &c->b_in, &c->c_out);
		bool moved;

		if (up < 0 || down < 0) {
			bp_tcp_close(d, c);
			return;
		}
		if (c->up.shut && c->down.shut) {
			bp_tcp_close(d, c);
			return;
		}
		moved = up == 1 || down == 1;
		if (moved) {
			c->interrupts = 0;
			d->progressed = true;
		}
		if (up == INTERRUPTED || down == INTERRUPTED) {
			if (!nonblocking(c->bfd) || (!moved && ++c->interrupts > INTERRUPTS_MAX)) {
				rk_debug("port driver: a call on a connection's socket slept");
				bp_tcp_close(d, c);
			} else if (rk_list_empty(&c->wait)) {
				rk_list_add_tail(&d->ready, &c->wait);
			}
			return;
		}
		if (!moved)
			return;
		if (round == RUN_BUDGET) {
			if (rk_list_empty(&c->wait))
				rk_list_add_tail(&d->ready, &c->wait);
			return;
		}
	}
}

static void relay_start(struct bp_driver *d, struct bp_conn *c)
{
	if (bp_watch(d, c->cfd, &c->cev, ET_EVENTS) < 0) {
		rk_debug("port driver: %s", strerror(errno));
		bp_tcp_close(d, c);
		return;
	}
	c->state = BP_CONN_RELAYING;
	c->c_in = c->c_out = c->b_in = c->b_out = true;
	bp_tcp_run(d, c);
}

/* The client's address in the target's family, for a transparent connect. False for a
 * loopback client (the service could not answer it) or when the families differ. */
static bool transparent_source(const struct bp_conn *c, const struct bp_port *port,
			       struct sockaddr_storage *src, socklen_t *len)
{
	const struct sockaddr_in6 *p6 = (const struct sockaddr_in6 *)&c->peer;
	struct sockaddr_in *s4 = (struct sockaddr_in *)src;

	memset(src, 0, sizeof(*src));
	if (c->peer.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&p6->sin6_addr)) {
		s4->sin_family = AF_INET;
		s4->sin_port = p6->sin6_port;
		memcpy(&s4->sin_addr, &p6->sin6_addr.s6_addr[12], 4);
		*len = sizeof(*s4);
	} else if (c->peer.ss_family == AF_INET || c->peer.ss_family == AF_INET6) {
		memcpy(src, &c->peer, c->peer_len);
		*len = c->peer_len;
	} else {
		return false;
	}
	if (src->ss_family != port->target.ss_family)
		return false;
	if (src->ss_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) != 127;
	return !IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)src)->sin6_addr);
}

/* Binds fd to the client's address with IP_TRANSPARENT. Returns 0 or -errno. */
static int bind_transparent(int fd, const struct sockaddr_storage *src, socklen_t len)
{
	int one = 1;
	int r = src->ss_family == AF_INET
			? setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one))
			: setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one));

	if (r < 0 || bind(fd, (const struct sockaddr *)src, len) < 0)
		return -errno;
	return 0;
}

/* A transparent connect failed or took too long: connect again as usual. */
static void fallback(struct bp_driver *d, struct bp_conn *c, int e)
{
	rk_debug("port driver: transparent connect failed, falling back: %s",
		 e ? strerror(e) : "timed out");
	rk_list_del(&c->wait);
	if (c->bfd >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->bfd, NULL);
		close_fd(&c->bfd);
	}
	c->transparent = false;
	c->transparent_failed = true;
	bp_tcp_start(d, c);
}

void bp_tcp_expire(struct bp_driver *d, uint64_t now)
{
	while (!rk_list_empty(&d->connecting)) {
		struct bp_conn *c = rk_container_of(d->connecting.next, struct bp_conn, wait);
		if (c->deadline_ms > now)
			break;
		fallback(d, c, 0);
	}
}

void bp_tcp_transparent_answer(struct bp_driver *d, int err)
{
	if (d->transparent != BP_TRANSPARENT_ASKED)
		return;
	/* the child said why when it failed */
	d->transparent = err ? BP_TRANSPARENT_OFF : BP_TRANSPARENT_READY;
	if (err) {
		pthread_mutex_lock(&d->lock);
		d->backend = RK_TRANSPARENT_NONE;
		pthread_mutex_unlock(&d->lock);
	}
	while (!rk_list_empty(&d->transparent_waiters)) {
		struct bp_conn *c =
			rk_container_of(d->transparent_waiters.next, struct bp_conn, wait);
		rk_list_del(&c->wait);
		bp_tcp_start(d, c);
	}
}

/* Whether c connects with the client's address (into src). The first connection that
 * would asks the child for the routing; until it answers, such connections wait
 * (*parked). */
static bool use_transparent(struct bp_driver *d, struct bp_conn *c, struct sockaddr_storage *src,
			    socklen_t *src_len, bool *parked)
{
	*parked = false;
	if (c->transparent_failed || d->transparent == BP_TRANSPARENT_OFF ||
	    !transparent_source(c, c->port, src, src_len))
		return false;
	/* asked even without a backend: the maker then says why there is none, once */
	if (d->transparent == BP_TRANSPARENT_UNKNOWN) {
		if (rk_sockpool_request_transparent(d->cfg.chan) < 0) {
			d->transparent = BP_TRANSPARENT_OFF;
			return false;
		}
		d->transparent = BP_TRANSPARENT_ASKED;
	}
	if (d->transparent == BP_TRANSPARENT_ASKED) {
		c->state = BP_CONN_WAITING;
		rk_list_add_tail(&d->transparent_waiters, &c->wait);
		*parked = true;
		return false;
	}
	return true;
}

void bp_tcp_start(struct bp_driver *d, struct bp_conn *c)
{
	struct bp_port *port = c->port;
	struct bp_pool *pool = port->pool;
	struct sockaddr_storage src;
	socklen_t src_len;
	bool parked, transparent = use_transparent(d, c, &src, &src_len, &parked);
	int fd;

	if (parked)
		return;
	fd = bp_pool_take(d, pool);

	if (fd < 0) {
		if (d->chan_dead) {
			bp_tcp_close(d, c);
			return;
		}
		/* a burst: keep more sockets at hand from now on */
		if (pool->target < d->pool_max) {
			pool->target =
				pool->target * 2 > d->pool_max ? d->pool_max : pool->target * 2;
			bp_pool_refill(d, pool);
		}
		pool->grown_ms = rk_now_ms();
		c->state = BP_CONN_WAITING;
		rk_list_add_tail(&pool->waiters, &c->wait);
		return;
	}
	c->bfd = fd; /* TCP_NODELAY already: see sockpool.c */
	if (bp_watch(d, fd, &c->bev, ET_EVENTS) < 0) {
		bp_tcp_close(d, c);
		return;
	}
	c->transparent = transparent;
	if (c->transparent) {
		int r = bind_transparent(fd, &src, src_len);
		if (r < 0) {
			fallback(d, c, -r);
			return;
		}
	}
	if (connect(fd, (struct sockaddr *)&port->target, port->target_len) == 0) {
		relay_start(d, c);
	} else if (errno == EINPROGRESS) {
		c->state = BP_CONN_CONNECTING;
		if (c->transparent) {
			/* upstream gives a transparent connect a second, then falls back */
			c->deadline_ms = rk_now_ms() + 1000;
			rk_list_add_tail(&d->connecting, &c->wait);
		}
	} else if (c->transparent) {
		fallback(d, c, errno);
	} else {
		/* EINTR: the socket was made blocking, and the watchdog cut the connect short
		 * (a non-blocking connect does not wait, and so is never interrupted) */
		rk_debug("port driver: connecting in the child: %s", strerror(errno));
		bp_tcp_close(d, c);
	}
}

void bp_tcp_event(struct bp_driver *d, struct bp_conn *c, bool backend, uint32_t events)
{
	int e = 0;
	socklen_t len = sizeof(e);

	switch (c->state) {
	case BP_CONN_CONNECTING:
		if (!backend)
			return;
		/* a failed connect reports EPOLLERR; only then is SO_ERROR worth a call */
		if ((events & (EPOLLERR | EPOLLHUP)) &&
		    getsockopt(c->bfd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
			e = errno;
		if ((events & (EPOLLERR | EPOLLHUP)) && !e)
			e = ECONNREFUSED;
		if (e && c->transparent) {
			fallback(d, c, e);
			return;
		}
		if (e || (events & EPOLLOUT))
			rk_list_del(&c->wait); /* off d->connecting */
		if (e) {
			rk_debug("port driver: connecting in the child: %s", strerror(e));
			bp_tcp_close(d, c);
		} else if (events & EPOLLOUT) {
			relay_start(d, c);
		}
		return;
	case BP_CONN_RELAYING:
		/* an error or hang-up shows on the next read or write: let both be tried */
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			*(backend ? &c->b_in : &c->c_in) = true;
		if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			*(backend ? &c->b_out : &c->c_out) = true;
		bp_tcp_run(d, c);
		return;
	case BP_CONN_WAITING:
	case BP_CONN_CLOSED:
		return;
	}
}

static void pause_listener(struct bp_driver *d, struct bp_port *port)
{
	struct epoll_event e = { .events = 0, .data.ptr = &port->ev };

	if (!port->paused && epoll_ctl(d->epfd, EPOLL_CTL_MOD, port->fd, &e) == 0) {
		port->paused = true;
		d->n_paused++;
		rk_warn("port driver: out of file descriptors; port %d stops accepting for a "
			"moment",
			port->id);
	}
}

void bp_tcp_accept(struct bp_driver *d, struct bp_port *port)
{
	for (int i = 0; i < ACCEPT_MAX; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		int fd = accept4(port->fd, (struct sockaddr *)&peer, &peer_len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct bp_conn *c;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				pause_listener(d, port);
			if (errno == ECONNABORTED || errno == EPERM || errno == EPROTO)
				continue;
			return;
		}
		/* TCP_NODELAY is inherited from the listening socket */
		c = rk_xcalloc(1, sizeof(*c));
		c->cev.kind = BP_CLIENT;
		c->bev.kind = BP_BACKEND;
		c->cfd = fd;
		c->bfd = -1;
		c->up.pipe[0] = c->up.pipe[1] = c->down.pipe[0] = c->down.pipe[1] = -1;
		c->port = port;
		c->peer = peer;
		c->peer_len = peer_len;
		rk_list_init(&c->wait);
		rk_list_add_tail(&port->conns, &c->link);
		bp_tcp_start(d, c);
	}
}
