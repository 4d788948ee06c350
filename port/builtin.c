/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The builtin port driver, parent side
 *
 * Each published port is a socket the parent binds on the host. Its connections are moved
 * into the child's network namespace without a helper on the way: the socket maker
 * (maker.c), which entered that namespace, keeps the parent supplied with fresh sockets
 * created there (sockpool.h), the parent connect()s one to the target for each connection (which
 * routes in the child's namespace, as the socket belongs to it), and then moves the bytes between
 * the two kernel sockets with splice() (builtin_tcp.c). UDP keeps one connected socket per client
 * address (builtin_udp.c).
 *
 * One thread owns every socket, connection and pool and runs an epoll loop. The API and
 * the parent's start-up call add/remove from their own threads: the listening socket is
 * bound in the caller's thread (so that bind errors are reported as they happen), then
 * handed to the loop as a command through an eventfd; the caller waits until the loop has
 * carried it out, so a removed port's listener and connections are closed on return.
 *
 * Objects closed while an epoll batch is being handled are only freed once the batch is
 * done, since later events of the same batch may still point at them.
 */
#include "port/builtin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "port/builtin_int.h"
#include "port/registry.h"
#include "port/sockpool.h"
#include "src/lib/log.h"
#include "src/lib/util.h"

#define POOL_START_TARGET 16
#define TICK_MS		  1000
#define POOL_SHRINK_MS	  5000 /* a grown pool halves after this long without a burst */
#define DRAIN_TICK_MS	  50   /* while draining, how often the end is looked for */

static const char *const builtin_protos[] = { "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", NULL };

int bp_watch(struct bp_driver *d, int fd, struct bp_ev *ev, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

/* ---- socket pools ---- */

/* ---- commands from other threads ---- */

static void port_free(struct bp_port *port)
{
	free(port->buckets);
	free(port);
}

/* Closes port's listener; its connections go on. */
static void stop_listening(struct bp_driver *d, struct bp_port *port)
{
	if (port->paused)
		d->n_paused--;
	port->paused = false;
	if (port->fd >= 0)
		close(port->fd);
	port->fd = -1;
}

static void port_close(struct bp_driver *d, struct bp_port *port)
{
	if (port->udp) {
		bp_udp_close_all(d, port);
	} else {
		while (!rk_list_empty(&port->conns))
			bp_tcp_close(d, rk_container_of(port->conns.next, struct bp_conn, link));
	}
	stop_listening(d, port);
	rk_list_del(&port->link);
}

/* The command has ended: no new connection is taken, the open ones deliver what they hold,
 * both ways (UDP's are closed: datagrams are not waited for). */
static void drain_start(struct bp_driver *d)
{
	struct rk_list *l = d->ports.next;

	while (l != &d->ports) {
		struct bp_port *port = rk_container_of(l, struct bp_port, link);
		l = l->next;
		if (port->udp) {
			port_close(d, port); /* freed after this batch */
			rk_list_add_tail(&d->dead_ports, &port->link);
		} else {
			stop_listening(d, port);
		}
	}
	d->draining = true;
	d->drain_start_ms = d->drain_last_ms = rk_now_ms();
}

/* While draining: true once every connection has ended, or none moved a byte for
 * drain_idle_ms, or drain_max_ms have passed. */
static bool drain_done(struct bp_driver *d, uint64_t now)
{
	if (d->progressed) {
		d->progressed = false;
		d->drain_last_ms = now;
	}
	if (now - d->drain_last_ms >= d->drain_idle_ms ||
	    now - d->drain_start_ms >= d->drain_max_ms)
		return true;
	for (struct rk_list *l = d->ports.next; l != &d->ports; l = l->next)
		if (!rk_list_empty(&rk_container_of(l, struct bp_port, link)->conns))
			return false;
	return true;
}

static bool run_command(struct bp_driver *d)
{
	bool stop = false;
	uint64_t v;

	(void)!read(d->wakefd, &v, sizeof(v));
	pthread_mutex_lock(&d->lock);
	switch (d->cmd) {
	case BP_CMD_ADD: {
		struct bp_port *port = d->cmd_port;
		rk_list_add_tail(&d->ports, &port->link);
		if (bp_watch(d, port->fd, &port->ev, EPOLLIN) < 0)
			rk_warn("port driver: epoll: %s", strerror(errno));
		bp_pool_refill(d, port->pool); /* so that the first client finds a socket */
		break;
	}
	case BP_CMD_REMOVE:
		for (struct rk_list *l = d->ports.next; l != &d->ports; l = l->next) {
			struct bp_port *port = rk_container_of(l, struct bp_port, link);
			if (port->id == d->cmd_id) {
				port_close(d, port); /* freed after this batch */
				rk_list_add_tail(&d->dead_ports, &port->link);
				break;
			}
		}
		break;
	case BP_CMD_STOP:
		stop = true;
		break;
	case BP_CMD_DRAIN:
		drain_start(d);
		break;
	case BP_CMD_NONE:
		break;
	}
	if (d->cmd != BP_CMD_NONE) {
		d->cmd = BP_CMD_NONE;
		d->cmd_done = true;
		pthread_cond_broadcast(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
	return stop;
}

/* Hands a command to the loop and waits until it is carried out. Callers hold op_lock. */
static void send_command(struct bp_driver *d, enum bp_cmd_type cmd, struct bp_port *port, int id)
{
	uint64_t one = 1;

	pthread_mutex_lock(&d->lock);
	d->cmd = cmd;
	d->cmd_port = port;
	d->cmd_id = id;
	d->cmd_done = false;
	pthread_mutex_unlock(&d->lock);
	(void)!write(d->wakefd, &one, sizeof(one));
	pthread_mutex_lock(&d->lock);
	while (!d->cmd_done)
		pthread_cond_wait(&d->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
}

/* ---- the loop ---- */

/* Lets paused listeners accept again (descriptors may have been freed meanwhile). */
static void resume_listeners(struct bp_driver *d)
{
	for (struct rk_list *l = d->ports.next; l != &d->ports && d->n_paused; l = l->next) {
		struct bp_port *port = rk_container_of(l, struct bp_port, link);
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = &port->ev };
		if (port->paused && epoll_ctl(d->epfd, EPOLL_CTL_MOD, port->fd, &e) == 0) {
			port->paused = false;
			d->n_paused--;
		}
	}
}

/* After a burst the pool goes back, step by step, to its resting size, so that the
 * descriptors it holds return to where they were. */
static void pool_rest(struct bp_driver *d, struct bp_pool *p, uint64_t now)
{
	if (p->target > POOL_START_TARGET && now - p->grown_ms >= POOL_SHRINK_MS) {
		p->target /= 2;
		p->grown_ms = now;
		while (p->n > p->target)
			close(p->fds[--p->n]);
	}
	/* a pool in use is topped up when idle, so that it rests at exactly its target; one
	 * the child could not fill is asked again */
	if (p->n || p->retry_ms)
		bp_pool_request(d, p);
}

static bool need_tick(struct bp_driver *d)
{
	if (d->n_paused || !rk_list_empty(&d->connecting) || d->rejected != d->rejected_said)
		return true;
	for (int f = 0; f < BP_POOL_FAMILIES; f++)
		for (int t = 0; t < BP_POOL_TYPES; t++)
			if (d->pools[f][t].target > POOL_START_TARGET || d->pools[f][t].retry_ms ||
			    (d->pools[f][t].n &&
			     d->pools[f][t].n + d->pools[f][t].requested < d->pools[f][t].target))
				return true;
	for (struct rk_list *l = d->ports.next; l != &d->ports; l = l->next)
		if (rk_container_of(l, struct bp_port, link)->n_flows)
			return true;
	return false;
}

static void dispatch(struct bp_driver *d, struct bp_ev *ev, uint32_t events, bool *stop)
{
	switch (ev->kind) {
	case BP_WAKE:
		*stop |= run_command(d);
		break;
	case BP_CHAN:
		bp_chan_readable(d);
		break;
	case BP_LISTENER: {
		struct bp_port *port = rk_container_of(ev, struct bp_port, ev);
		if (port->fd < 0)
			break; /* removed earlier in this batch */
		if (port->udp)
			bp_udp_receive(d, port);
		else
			bp_tcp_accept(d, port);
		break;
	}
	case BP_CLIENT:
		bp_tcp_event(d, rk_container_of(ev, struct bp_conn, cev), false, events);
		break;
	case BP_BACKEND:
		bp_tcp_event(d, rk_container_of(ev, struct bp_conn, bev), true, events);
		break;
	case BP_FLOW:
		bp_udp_reply(d, rk_container_of(ev, struct bp_flow, ev));
		break;
	}
}

/* Frees what was closed during the batch. */
static void reap(struct bp_driver *d)
{
	struct rk_list *l, *next;

	rk_list_for_each_safe(l, next, &d->dead_ports)
		port_free(rk_container_of(l, struct bp_port, link));
	rk_list_for_each_safe(l, next, &d->dead_conns)
		free(rk_container_of(l, struct bp_conn, link));
	rk_list_for_each_safe(l, next, &d->dead_flows)
		free(rk_container_of(l, struct bp_flow, link));
	rk_list_init(&d->dead_ports);
	rk_list_init(&d->dead_conns);
	rk_list_init(&d->dead_flows);
}

/* ---- the watchdog ----
 *
 * The file status flags of a socket are shared by every descriptor of it, so a copy kept
 * where the socket was made (the command's namespaces: a maker gone wrong, a channel
 * reached some other way) could clear O_NONBLOCK on a pooled socket whenever it likes.
 * recv() and send() take MSG_DONTWAIT, but connect() and splice() from a socket follow the
 * file's flags, and would then sleep in the loop that serves every port. So while the loop
 * works, a periodic timer signals its thread: a call that sleeps ends within WATCHDOG_MS
 * with EINTR (the handler has no SA_RESTART). The kernel may also give up a call that
 * merely met the signal; builtin_tcp.c tells the two apart by the socket's flags. */

#define WATCHDOG_MS  20
#define WATCHDOG_SIG SIGRTMAX

static void watchdog_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* this thread is the only one that takes the signal: one sent by somebody else is
	 * handed to the main thread, which forwards signals to the command */
	if (si->si_code != SI_TIMER)
		syscall(SYS_tgkill, getpid(), getpid(), sig);
}

static void watchdog_start(struct bp_driver *d)
{
	struct sigaction sa = { .sa_sigaction = watchdog_handler, .sa_flags = SA_SIGINFO };
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = WATCHDOG_SIG };
	sigset_t one;

	sev._sigev_un._tid = gettid(); /* sigev_notify_thread_id, which glibc 2.36 lacks */
	sigemptyset(&sa.sa_mask);
	if (sigaction(WATCHDOG_SIG, &sa, NULL) < 0 ||
	    timer_create(CLOCK_MONOTONIC, &sev, &d->watchdog) < 0) {
		rk_warn("port driver: no watchdog timer (%s): a socket the child made blocking "
			"can stall every port",
			strerror(errno));
		return;
	}
	sigemptyset(&one);
	sigaddset(&one, WATCHDOG_SIG);
	pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	d->watchdog_ok = true;
}

static void watchdog_set(struct bp_driver *d, bool on)
{
	const struct timespec period = { .tv_nsec = WATCHDOG_MS * 1000000L };
	struct itimerspec its = { 0 };

	if (!d->watchdog_ok || d->watchdog_armed == on)
		return;
	if (on)
		its.it_value = its.it_interval = period;
	if (timer_settime(d->watchdog, 0, &its, NULL) == 0)
		d->watchdog_armed = on;
}

static void watchdog_stop(struct bp_driver *d)
{
	if (d->watchdog_ok)
		timer_delete(d->watchdog);
	d->watchdog_ok = false;
}

static void *loop(void *arg)
{
	struct bp_driver *d = arg;
	struct epoll_event evs[128];
	uint64_t last_tick = rk_now_ms();
	bool stop = false;

	watchdog_start(d);
	while (!stop) {
		int timeout = !rk_list_empty(&d->ready) ? 0
			      : d->draining		? DRAIN_TICK_MS
			      : need_tick(d)		? TICK_MS
							: -1;
		int n;
		uint64_t now;

		/* the watchdog stays armed while events keep coming, which costs no call; it
		 * fires in a wait only once the loop has rested WATCHDOG_MS, and is then
		 * stopped until the next event */
		n = epoll_wait(d->epfd, evs, (int)RK_ARRAY_SIZE(evs), timeout);
		if (n < 0 && errno == EINTR && timeout != 0) {
			watchdog_set(d, false);
			continue;
		}
		watchdog_set(d, true);
		if (n < 0 && errno != EINTR) {
			rk_warn("port driver: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++)
			dispatch(d, evs[i].data.ptr, evs[i].events, &stop);
		/* connections that used up their budget get another turn; those that use it
		 * up again queue on d->ready for the next one */
		if (!rk_list_empty(&d->ready)) {
			struct rk_list batch;
			/* move the whole queue to batch: link batch in, then unlink the head */
			rk_list_add_tail(&d->ready, &batch);
			rk_list_del(&d->ready);
			while (!rk_list_empty(&batch)) {
				struct bp_conn *c =
					rk_container_of(batch.next, struct bp_conn, wait);
				rk_list_del(&c->wait);
				bp_tcp_run(d, c);
			}
		}
		now = rk_now_ms();
		if (now - last_tick >= TICK_MS) {
			last_tick = now;
			resume_listeners(d);
			bp_report_rejected(d);
			bp_tcp_expire(d, now);
			for (int f = 0; f < BP_POOL_FAMILIES; f++)
				for (int t = 0; t < BP_POOL_TYPES; t++)
					pool_rest(d, &d->pools[f][t], now);
			for (struct rk_list *l = d->ports.next; l != &d->ports; l = l->next) {
				struct bp_port *port = rk_container_of(l, struct bp_port, link);
				if (port->udp)
					bp_udp_expire(d, port, now);
			}
		}
		reap(d);
		if (d->draining && drain_done(d, rk_now_ms()))
			break;
	}
	watchdog_stop(d);
	return NULL;
}

/* ---- listening sockets ---- */

/* Go's net.JoinHostPort. */
static void join_host_port(const char *ip, long long port, char *buf, size_t size)
{
	snprintf(buf, size, strchr(ip, ':') ? "[%s]:%lld" : "%s:%lld", ip, port);
}

/* Parses a text address as Go's net.ParseIP, v4-mapped addresses counting as IPv4.
 * Returns the family, or 0 when text is not an address. */
static int parse_ip(const char *text, struct in_addr *v4, struct in6_addr *v6)
{
	if (inet_pton(AF_INET, text, v4) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, text, v6) != 1)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED(v6)) {
		memcpy(v4, &v6->s6_addr[12], 4);
		return AF_INET;
	}
	return AF_INET6;
}

/* The privileged-port hint of upstream. */
static void annotate_eperm(struct bp_driver *d, const struct rk_port_spec *s, struct rk_error *err)
{
	long start;
	char msg[RK_ERROR_MSG_MAX];

	if (rk_read_proc_long("/proc/sys/net/ipv4/ip_unprivileged_port_start", &start) < 0 ||
	    s->parent_port >= start)
		return;
	snprintf(msg, sizeof(msg),
		 "cannot expose privileged port %lld, you can add "
		 "'net.ipv4.ip_unprivileged_port_start=%lld' to /etc/sysctl.conf (currently "
		 "%ld)%s, or choose a larger port number (>= %ld): %s",
		 s->parent_port, s->parent_port, start,
		 d->cfg.argv0_is_rootlesskit ? ", or set CAP_NET_BIND_SERVICE on rootlesskit binary"
					     : "",
		 start, err->msg);
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
}

/* Binds the host side of spec with Go's rules: plain tcp/udp on a wildcard (or no)
 * address is one dual-stack socket, the 4 and 6 suffixes restrict the family (6 with
 * IPV6_V6ONLY). Returns the socket or a negative errno with err set. */
static int open_listener(struct bp_driver *d, const struct rk_port_spec *s, bool udp,
			 struct rk_error *err)
{
	char suffix = s->proto[strlen(s->proto) - 1];
	struct sockaddr_storage ss = { 0 };
	struct in_addr v4 = { 0 };
	struct in6_addr v6 = IN6ADDR_ANY_INIT;
	char hp[RK_PORT_IP_MAX + 16], why[128];
	int family = *s->parent_ip ? parse_ip(s->parent_ip, &v4, &v6) : 0;
	bool wildcard = !*s->parent_ip || (family == AF_INET && v4.s_addr == INADDR_ANY) ||
			(family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&v6));
	int v6only = 0, one = 1, fd, e;
	const char *call;
	socklen_t len;

	join_host_port(s->parent_ip, s->parent_port, hp, sizeof(hp));
	if ((suffix == '4' && family == AF_INET6) || (suffix == '6' && family == AF_INET))
		return rk_error_set(err, EINVAL, "listen %s: address %s: no suitable address found",
				    s->proto, s->parent_ip);
	if (suffix == '4') {
		family = AF_INET;
	} else if (suffix == '6') {
		family = AF_INET6;
		v6only = 1;
	} else if (wildcard) {
		family = AF_INET6; /* dual-stack */
		v6 = in6addr_any;
	}
	fd = socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && family == AF_INET6 && errno == EAFNOSUPPORT && suffix != '6') {
		family = AF_INET; /* a host without IPv6 */
		v4.s_addr = INADDR_ANY;
		fd = socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
	}
	if (fd < 0)
		return rk_error_errno(err, errno, "listen %s %s: socket", s->proto, hp);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_addr = v4;
		sin->sin_port = htons((uint16_t)s->parent_port);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = v6;
		sin6->sin6_port = htons((uint16_t)s->parent_port);
		len = sizeof(*sin6);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	}
	if (!udp) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* Go's default for TCP connections; accepted sockets inherit it */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		call = "bind";
	} else if (!udp && listen(fd, 4096) < 0) {
		call = "listen";
	} else {
		return fd;
	}
	e = errno;
	close(fd);
	rk_go_strerror(e, why, sizeof(why));
	rk_error_set(err, e, "listen %s %s: %s: %s", s->proto, hp, call, why);
	if (e == EACCES || e == EPERM)
		annotate_eperm(d, s, err);
	return -e;
}

/* The first non-loopback IPv4 address of the host: upstream's "host gateway IP". */
static void host_gateway_ip(char *buf, size_t size)
{
	struct ifaddrs *ifa, *i;

	buf[0] = '\0';
	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		struct sockaddr_in sin;
		memcpy(&sin, i->ifa_addr, sizeof(sin)); /* a sockaddr is only 2-aligned */
		struct in_addr a = sin.sin_addr;
		if ((ntohl(a.s_addr) >> 24) == 127)
			continue;
		inet_ntop(AF_INET, &a, buf, (socklen_t)size);
		break;
	}
	freeifaddrs(ifa);
}

/* Where the child side connects (upstream's rules): the child IP when given; else
 * 127.0.0.1, unless the parent IP is a specific address other than the host gateway IP,
 * which is then dialled inside too. */
static void child_target(const struct rk_port_spec *s, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *ip = s->child_ip;
	struct in_addr v4;
	struct in6_addr v6;
	char gw[INET_ADDRSTRLEN];

	if (!*ip) {
		ip = "127.0.0.1";
		host_gateway_ip(gw, sizeof(gw));
		if (*s->parent_ip && strcmp(s->parent_ip, gw) != 0 &&
		    strcmp(s->parent_ip, "0.0.0.0") != 0)
			ip = s->parent_ip;
	}
	memset(ss, 0, sizeof(*ss));
	if (parse_ip(ip, &v4, &v6) == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_addr = v4;
		sin->sin_port = htons((uint16_t)s->child_port);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = v6;
		sin6->sin6_port = htons((uint16_t)s->child_port);
		*len = sizeof(*sin6);
	}
}

/* ---- the driver interface ---- */

static int builtin_open(struct rk_port_backend *base, const struct rk_port_spec *spec, int *id,
			void *data, struct rk_error *err)
{
	struct bp_driver *d = (struct bp_driver *)base;
	struct bp_port *port;
	bool udp;
	int fd, r;

	(void)data;
	pthread_mutex_lock(&d->op_lock);
	if (strncmp(spec->proto, "tcp", 3) != 0 && strncmp(spec->proto, "udp", 3) != 0) {
		r = rk_error_set(err, EPROTONOSUPPORT, "unsupported port protocol %s", spec->proto);
		goto out;
	}
	udp = spec->proto[0] == 'u';
	fd = open_listener(d, spec, udp, err);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	port = rk_xcalloc(1, sizeof(*port));
	port->ev.kind = BP_LISTENER;
	port->fd = fd;
	port->udp = udp;
	port->id = *id;
	rk_list_init(&port->conns);
	rk_list_init(&port->link);
	child_target(spec, &port->target, &port->target_len);
	port->pool = bp_pool_for(d, port->target.ss_family, udp ? SOCK_DGRAM : SOCK_STREAM);
	send_command(d, BP_CMD_ADD, port, 0);
	r = 0;
out:
	pthread_mutex_unlock(&d->op_lock);
	return r;
}

static int builtin_close(struct rk_port_backend *base, int id, void *data, struct rk_error *err)
{
	struct bp_driver *d = (struct bp_driver *)base;

	(void)data;
	(void)err;
	pthread_mutex_lock(&d->op_lock);
	send_command(d, BP_CMD_REMOVE, NULL, id);
	pthread_mutex_unlock(&d->op_lock);
	return 0;
}

static void builtin_drain(struct rk_port_backend *base, unsigned idle_ms, unsigned max_ms)
{
	struct bp_driver *d = (struct bp_driver *)base;

	pthread_mutex_lock(&d->op_lock);
	if (d->thread_started && !d->drain_asked) {
		d->drain_idle_ms = idle_ms;
		d->drain_max_ms = max_ms;
		send_command(d, BP_CMD_DRAIN, NULL, 0);
		d->drain_asked = true;
	}
	pthread_mutex_unlock(&d->op_lock);
}

static void builtin_free(struct rk_port_backend *base)
{
	struct bp_driver *d = (struct bp_driver *)base;
	struct rk_list *l, *next;

	if (d->thread_started) {
		pthread_mutex_lock(&d->op_lock);
		if (!d->drain_asked) /* a draining loop ends by itself */
			send_command(d, BP_CMD_STOP, NULL, 0);
		pthread_mutex_unlock(&d->op_lock);
		pthread_join(d->thread, NULL);
	}
	rk_list_for_each_safe(l, next, &d->ports)
	{
		struct bp_port *port = rk_container_of(l, struct bp_port, link);
		port_close(d, port);
		port_free(port);
	}
	reap(d);
	for (int f = 0; f < BP_POOL_FAMILIES; f++) {
		for (int t = 0; t < BP_POOL_TYPES; t++) {
			struct bp_pool *p = &d->pools[f][t];
			for (unsigned i = 0; i < p->n; i++)
				close(p->fds[i]);
			free(p->fds);
		}
	}
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->wakefd >= 0)
		close(d->wakefd);
	if (d->cfg.chan >= 0)
		close(d->cfg.chan);
	pthread_mutex_destroy(&d->op_lock);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d->udp_buf);
	free(d);
}

static const char *builtin_source_ip_backend(struct rk_port_backend *b)
{
	struct bp_driver *d = (struct bp_driver *)b;
	enum rk_transparent_backend backend;

	pthread_mutex_lock(&d->lock);
	backend = d->backend;
	pthread_mutex_unlock(&d->lock);
	return rk_transparent_backend_name(backend);
}

static const struct rk_port_backend_ops builtin_ops = {
	.name = "builtin",
	.protos = builtin_protos,
	.disallow_loopback_child_ip = false,
	.open = builtin_open,
	.close = builtin_close,
	.drain = builtin_drain,
	.source_ip_backend = builtin_source_ip_backend,
	.free = builtin_free,
};

int rk_port_builtin_new(const struct rk_builtin_config *cfg, struct rk_port_driver **ret,
			struct rk_error *err)
{
	struct bp_driver *d = rk_xcalloc(1, sizeof(*d));
	int r;

	d->base.ops = &builtin_ops;
	d->cfg = *cfg;
	d->wake_ev.kind = BP_WAKE;
	d->chan_ev.kind = BP_CHAN;
	rk_list_init(&d->ports);
	rk_list_init(&d->ready);
	rk_list_init(&d->dead_conns);
	rk_list_init(&d->dead_flows);
	rk_list_init(&d->dead_ports);
	rk_list_init(&d->connecting);
	rk_list_init(&d->transparent_waiters);
	d->transparent = cfg->source_ip_transparent ? BP_TRANSPARENT_UNKNOWN : BP_TRANSPARENT_OFF;
	pthread_mutex_init(&d->op_lock, NULL);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	/* the four pools together keep at most a quarter of the descriptor limit */
	struct rlimit nofile = { .rlim_cur = RLIM_INFINITY };
	getrlimit(RLIMIT_NOFILE, &nofile);
	d->pool_max = nofile.rlim_cur / 16 < BP_POOL_MAX_TARGET ? (unsigned)(nofile.rlim_cur / 16)
								: BP_POOL_MAX_TARGET;
	if (d->pool_max < 2)
		d->pool_max = 2;
	for (int f = 0; f < BP_POOL_FAMILIES; f++) {
		for (int t = 0; t < BP_POOL_TYPES; t++) {
			struct bp_pool *p = &d->pools[f][t];
			p->family = f ? AF_INET6 : AF_INET;
			p->type = t ? SOCK_DGRAM : SOCK_STREAM;
			p->target =
				POOL_START_TARGET < d->pool_max ? POOL_START_TARGET : d->pool_max;
			rk_list_init(&p->waiters);
		}
	}
	d->udp_buf = rk_xmalloc(BP_UDP_BUF_SIZE);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->epfd < 0 || d->wakefd < 0) {
		r = rk_error_errno(err, errno, "port driver: epoll");
		goto fail;
	}
	fcntl(d->cfg.chan, F_SETFL, fcntl(d->cfg.chan, F_GETFL) | O_NONBLOCK);
	if ((r = bp_watch(d, d->wakefd, &d->wake_ev, EPOLLIN)) < 0 ||
	    (r = bp_watch(d, d->cfg.chan, &d->chan_ev, EPOLLIN)) < 0) {
		r = rk_error_errno(err, -r, "port driver: epoll");
		goto fail;
	}
	r = pthread_create(&d->thread, NULL, loop, d);
	if (r) {
		r = rk_error_errno(err, r, "port driver: starting its thread");
		goto fail;
	}
	d->thread_started = true;
	*ret = rk_port_registry_new(&d->base);
	return 0;
fail:
	builtin_free(&d->base);
	return r;
}
