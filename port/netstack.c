/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --port-driver=netstack (with --net=builtin): a published port is a host forward inside
 * the engine process (tcpnat.c and udpnat.c). The engine listens on the host and carries each
 * connection or datagram into the child through the NAT itself, so the service sees the
 * client's real address (a loopback client shows as the gateway). Requests go to the
 * engine over a socketpair; ids are ours, from 1, never reused. IPv4 only, and the child
 * side must not be a loopback address (it would not leave the namespace's stack), as with
 * slirp4netns' port driver.
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

static const char *const netstack_protos[] = { "tcp", "tcp4", "udp", "udp4", NULL };

struct netstack_backend {
	struct rk_port_backend base;
	struct rk_port_backend_ops ops; /* netstack_ops under the name the user chose */
	int control;
	struct in_addr child_ip;
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

static int netstack_open(struct rk_port_backend *b, const struct rk_port_spec *spec, int *id,
			 void *data, struct rk_error *err)
{
	struct netstack_backend *d = (struct netstack_backend *)b;
	struct rk_engine_fwd *f = data;
	int r;

	(void)id;
	*f = (struct rk_engine_fwd){ .op = RK_ENGINE_FWD_ADD,
				     .host = { .sin_family = AF_INET },
				     .guest = { .sin_family = AF_INET } };
	if (spec->proto[strlen(spec->proto) - 1] == '6')
		return rk_error_set(err, EPROTONOSUPPORT, "unsupported protocol \"%s\"",
				    spec->proto);
	f->udp = strncmp(spec->proto, "udp", 3) == 0;
	if (*spec->parent_ip && inet_pton(AF_INET, spec->parent_ip, &f->host.sin_addr) != 1)
		return rk_error_set(err, EINVAL, "unsupported IP (v6?): %s", spec->parent_ip);
	f->host.sin_port = htons((uint16_t)spec->parent_port);
	f->guest.sin_addr = d->child_ip;
	if (*spec->child_ip && inet_pton(AF_INET, spec->child_ip, &f->guest.sin_addr) != 1)
		return rk_error_set(err, EINVAL, "unsupported IP (v6?): %s", spec->child_ip);
	f->guest.sin_port = htons((uint16_t)spec->child_port);
	r = call(d, f);
	if (r == -EAGAIN)
		return rk_error_set(err, EAGAIN, "the network is not set up yet, try again");
	if (r < 0) {
		char reason[96];
		rk_go_strerror(-r, reason, sizeof(reason));
		return rk_error_set(err, -r, "listen %s %s:%lld: %s", f->udp ? "udp" : "tcp",
				    spec->parent_ip, spec->parent_port, reason);
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

struct rk_port_driver *rk_port_netstack_new(int control, const char *child_ip, const char *name)
{
	struct netstack_backend *d = rk_xcalloc(1, sizeof(*d));

	d->ops = netstack_ops;
	d->ops.name = name;
	d->base.ops = &d->ops;
	set_control(d, control);
	inet_pton(AF_INET, child_ip, &d->child_ip);
	return rk_port_registry_new(&d->base);
}
