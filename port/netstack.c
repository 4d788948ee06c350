/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --port-driver=netstack (with --net=builtin): a published port is a host forward inside
 * the engine process (tcpnat.c and udpnat.c). The engine listens on the host and carries each
 * connection or datagram into the child through the NAT itself, so the service sees the
 * client's real address (a loopback client shows as the gateway). Requests go to the
 * engine over a socketpair; ids are ours, from 1, never reused. The child side must not be
 * a loopback address (it would not leave the namespace's stack), as with slirp4netns' port
 * driver. tcp6 and udp6 (or an IPv6 parent IP) listen to IPv6 only, and reach the child's
 * fd00::100 with --ipv6, its IPv4 address otherwise (an IPv6 client then shows as the
 * gateway).
 */
#include "port/netstack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "netstack/engine.h"
#include "port/registry.h"
#include "src/lib/log.h"
#include "src/lib/util.h"

#define TIMEOUT_S 10

static const char *const netstack_protos[] = { "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", NULL };

struct netstack_backend {
	struct rk_port_backend base;
	struct rk_port_backend_ops ops; /* netstack_ops under the name the user chose */
	int control;
	struct in_addr child_ip;
	struct in6_addr child_ip6;
	bool ipv6;    /* the child has child_ip6 */
	uint32_t seq; /* of the last request */
	bool ready;   /* the engine runs: requests are answered */
};

/* One request to the engine. Returns its answer (0 or -errno). */
static int call(struct netstack_backend *d, struct rk_engine_fwd *f)
{
	struct rk_engine_fwd_reply r;
	ssize_t n;

	if (!d->ready)
		return -EAGAIN; /* the network is still being set up */
	f->seq = ++d->seq;
	if (send(d->control, f, sizeof(*f), MSG_NOSIGNAL) != (ssize_t)sizeof(*f))
		return -errno;
	for (;;) {
		n = recv(d->control, &r, sizeof(r), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n != (ssize_t)sizeof(r))
			return -EPIPE;
		if (r.seq == f->seq)
			return r.result;
		/* the answer to a request that timed out earlier: skip it */
	}
}

/* Answers the registry's replay: the port again, in the new engine. */
static int reinstall(struct rk_port_backend *b, const struct rk_port_entry *e, void *data)
{
	struct rk_engine_fwd *f = data;

	(void)e;
	f->op = RK_ENGINE_FWD_ADD;
	return call((struct netstack_backend *)b, f);
}

static void set_control(struct netstack_backend *d, int control)
{
	struct timeval tv = { .tv_sec = TIMEOUT_S };

	d->control = control;
	setsockopt(control, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* The engine runs (arg: NULL), or a new one does on the socket *arg: requests may go to it.
 * Called between two requests (rk_port_registry_replay). */
static void engine_runs(struct rk_port_backend *b, void *arg)
{
	struct netstack_backend *d = (struct netstack_backend *)b;

	if (arg) {
		close(d->control);
		set_control(d, *(int *)arg);
	}
	d->ready = true;
}

void rk_port_netstack_ready(struct rk_port_driver *base)
{
	rk_port_registry_replay(base, engine_runs, NULL, NULL);
}

size_t rk_port_netstack_restart(struct rk_port_driver *base, int control)
{
	return rk_port_registry_replay(base, engine_runs, &control, reinstall);
}

/* addr (text, "" for any) of family into *ret with port. Returns 0, or -EINVAL when it is
 * not an address of that family. */
static int set_addr(union rk_sockaddr *ret, int family, const char *addr, long long port)
{
	*ret = (union rk_sockaddr){ .sa.sa_family = (sa_family_t)family };
	if (family == AF_INET6) {
		ret->v6.sin6_port = htons((uint16_t)port);
		return *addr && inet_pton(AF_INET6, addr, &ret->v6.sin6_addr) != 1 ? -EINVAL : 0;
	}
	ret->v4.sin_port = htons((uint16_t)port);
	return *addr && inet_pton(AF_INET, addr, &ret->v4.sin_addr) != 1 ? -EINVAL : 0;
}

static int netstack_open(struct rk_port_backend *b, const struct rk_port_spec *spec, int *id,
			 void *data, struct rk_error *err)
{
	struct netstack_backend *d = (struct netstack_backend *)b;
	struct rk_engine_fwd *f = data;
	char last = spec->proto[strlen(spec->proto) - 1];
	/* the listener's family: the proto's, else the parent IP's */
	int host =
		last == '6' || (last != '4' && strchr(spec->parent_ip, ':')) ? AF_INET6 : AF_INET;
	int guest = *spec->child_ip ? (strchr(spec->child_ip, ':') ? AF_INET6 : AF_INET)
				    : (host == AF_INET6 && d->ipv6 ? AF_INET6 : AF_INET);
	int r;

	(void)id;
	*f = (struct rk_engine_fwd){ .op = RK_ENGINE_FWD_ADD };
	f->udp = strncmp(spec->proto, "udp", 3) == 0;
	if (set_addr(&f->host, host, spec->parent_ip, spec->parent_port) < 0)
		return rk_error_set(err, EINVAL, "listen %s %s: address %s: non-IPv%c address",
				    spec->proto, spec->parent_ip, spec->parent_ip,
				    host == AF_INET6 ? '6' : '4');
	if (guest == AF_INET6 && !d->ipv6)
		return rk_error_set(err, EINVAL, "child IP %s: the child has no IPv6 (--ipv6)",
				    spec->child_ip);
	if (guest == AF_INET6 && host == AF_INET)
		return rk_error_set(err, EINVAL,
				    "child IP %s: an IPv4 port cannot lead to an IPv6 address",
				    spec->child_ip);
	if (set_addr(&f->guest, guest, spec->child_ip, spec->child_port) < 0)
		return rk_error_set(err, EINVAL, "invalid child IP %s", spec->child_ip);
	if (!*spec->child_ip && guest == AF_INET6)
		f->guest.v6.sin6_addr = d->child_ip6;
	else if (!*spec->child_ip)
		f->guest.v4.sin_addr = d->child_ip;
	r = call(d, f);
	if (r == -EAGAIN)
		return rk_error_set(err, EAGAIN, "the network is not set up yet, try again");
	if (r < 0) {
		char reason[96];
		bool v6 = host == AF_INET6;
		rk_go_strerror(-r, reason, sizeof(reason));
		return rk_error_set(err, -r, "listen %s %s%s%s:%lld: %s", f->udp ? "udp" : "tcp",
				    v6 ? "[" : "", spec->parent_ip, v6 ? "]" : "",
				    spec->parent_port, reason);
	}
	return 0;
}

static int netstack_close(struct rk_port_backend *b, int id, void *data, struct rk_error *err)
{
	struct rk_engine_fwd *f = data;
	int r;

	f->op = RK_ENGINE_FWD_REMOVE;
	r = call((struct netstack_backend *)b, f);
	f->op = RK_ENGINE_FWD_ADD; /* as it was, for a later replay */
	/* (cannot be EAGAIN: the port was added, so the engine runs) */
	return r < 0 ? rk_error_errno(err, -r, "removing port %d", id) : 0;
}

static void netstack_free(struct rk_port_backend *b)
{
	struct netstack_backend *d = (struct netstack_backend *)b;

	close(d->control);
	free(d);
}

static const struct rk_port_backend_ops netstack_ops = {
	.name = "netstack",
	.protos = netstack_protos,
	.disallow_loopback_child_ip = true,
	.data_size = sizeof(struct rk_engine_fwd),
	.open = netstack_open,
	.close = netstack_close,
	.free = netstack_free,
};

struct rk_port_driver *rk_port_netstack_new(int control, const char *child_ip,
					    const char *child_ip6, const char *name)
{
	struct netstack_backend *d = rk_xcalloc(1, sizeof(*d));

	d->ops = netstack_ops;
	d->ops.name = name;
	d->base.ops = &d->ops;
	set_control(d, control);
	inet_pton(AF_INET, child_ip, &d->child_ip);
	d->ipv6 = child_ip6 && inet_pton(AF_INET6, child_ip6, &d->child_ip6) == 1;
	return rk_port_registry_new(&d->base);
}
