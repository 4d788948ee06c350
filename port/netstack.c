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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "netstack/engine.h"
#include "src/lib/log.h"
#include "src/lib/util.h"

#define TIMEOUT_S 10

static const char *const netstack_protos[] = { "tcp", "tcp4", "udp", "udp4", NULL };

struct netstack_driver {
	struct rk_port_driver base;
	int control;
	struct in_addr child_ip;
	pthread_mutex_t lock; /* guards ports and next_id, and serialises the requests */
	struct rk_port_table ports;
	struct rk_engine_fwd *fwds; /* parallel to ports.e: how to remove each */
	int next_id;
	uint32_t seq; /* of the last request */
	bool ready;   /* the engine runs: requests are answered */
};

/* One request to the engine. Returns its answer (0 or -errno). */
static int call(struct netstack_driver *d, struct rk_engine_fwd *f)
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

void rk_port_netstack_ready(struct rk_port_driver *base)
{
	struct netstack_driver *d = (struct netstack_driver *)base;

	pthread_mutex_lock(&d->lock);
	d->ready = true;
	pthread_mutex_unlock(&d->lock);
}

static void set_control(struct netstack_driver *d, int control)
{
	struct timeval tv = { .tv_sec = TIMEOUT_S };

	d->control = control;
	setsockopt(control, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

size_t rk_port_netstack_restart(struct rk_port_driver *base, int control)
{
	struct netstack_driver *d = (struct netstack_driver *)base;
	size_t dropped = 0;

	pthread_mutex_lock(&d->lock);
	close(d->control);
	set_control(d, control);
	d->ready = true;
	for (size_t i = 0; i < d->ports.n;) {
		int r;
		d->fwds[i].op = RK_ENGINE_FWD_ADD;
		r = call(d, &d->fwds[i]);
		if (r == 0) {
			i++;
			continue;
		}
		rk_warn("port %d (%s:%lld) could not be published again: %s", d->ports.e[i].id,
			*d->ports.e[i].spec.parent_ip ? d->ports.e[i].spec.parent_ip : "0.0.0.0",
			d->ports.e[i].spec.parent_port, strerror(-r));
		memmove(&d->fwds[i], &d->fwds[i + 1], (d->ports.n - i - 1) * sizeof(*d->fwds));
		rk_port_table_remove(&d->ports, d->ports.e[i].id);
		dropped++;
	}
	pthread_mutex_unlock(&d->lock);
	return dropped;
}

static int netstack_add(struct rk_port_driver *base, const struct rk_port_spec *spec, int *ret_id,
			struct rk_error *err)
{
	struct netstack_driver *d = (struct netstack_driver *)base;
	struct rk_engine_fwd f = { .op = RK_ENGINE_FWD_ADD,
				   .host = { .sin_family = AF_INET },
				   .guest = { .sin_family = AF_INET } };
	int r;

	pthread_mutex_lock(&d->lock);
	r = rk_port_spec_validate(spec, d->ports.e, d->ports.n, err);
	if (r < 0)
		goto out;
	if (spec->proto[strlen(spec->proto) - 1] == '6') {
		r = rk_error_set(err, EPROTONOSUPPORT, "unsupported protocol \"%s\"", spec->proto);
		goto out;
	}
	f.udp = strncmp(spec->proto, "udp", 3) == 0;
	if (*spec->parent_ip && inet_pton(AF_INET, spec->parent_ip, &f.host.sin_addr) != 1) {
		r = rk_error_set(err, EINVAL, "unsupported IP (v6?): %s", spec->parent_ip);
		goto out;
	}
	f.host.sin_port = htons((uint16_t)spec->parent_port);
	f.guest.sin_addr = d->child_ip;
	if (*spec->child_ip && inet_pton(AF_INET, spec->child_ip, &f.guest.sin_addr) != 1) {
		r = rk_error_set(err, EINVAL, "unsupported IP (v6?): %s", spec->child_ip);
		goto out;
	}
	f.guest.sin_port = htons((uint16_t)spec->child_port);
	r = call(d, &f);
	if (r == -EAGAIN) {
		r = rk_error_set(err, EAGAIN, "the network is not set up yet, try again");
		goto out;
	}
	if (r < 0) {
		char reason[96];
		rk_go_strerror(-r, reason, sizeof(reason));
		r = rk_error_set(err, -r, "listen %s %s:%lld: %s", f.udp ? "udp" : "tcp",
				 spec->parent_ip, spec->parent_port, reason);
		goto out;
	}
	*ret_id = ++d->next_id;
	rk_port_table_add(&d->ports, *ret_id, spec);
	d->fwds = rk_xrealloc(d->fwds, d->ports.n * sizeof(*d->fwds));
	d->fwds[d->ports.n - 1] = f;
out:
	pthread_mutex_unlock(&d->lock);
	return r;
}

static int netstack_remove(struct rk_port_driver *base, int id, struct rk_error *err)
{
	struct netstack_driver *d = (struct netstack_driver *)base;
	int r = 0;
	size_t i;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->ports.n && d->ports.e[i].id != id; i++)
		;
	if (i == d->ports.n) {
		r = rk_error_set(err, ENOENT, "unknown id: %d", id);
		goto out;
	}
	d->fwds[i].op = RK_ENGINE_FWD_REMOVE;
	r = call(d, &d->fwds[i]);
	if (r < 0) {
		/* (cannot be EAGAIN: the port was added, so the engine runs) */
		d->fwds[i].op = RK_ENGINE_FWD_ADD;
		r = rk_error_errno(err, -r, "removing port %d", id);
		goto out;
	}
	/* keep fwds parallel to the table: the table removes by moving entries down */
	memmove(&d->fwds[i], &d->fwds[i + 1], (d->ports.n - i - 1) * sizeof(*d->fwds));
	rk_port_table_remove(&d->ports, id);
out:
	pthread_mutex_unlock(&d->lock);
	return r;
}

static size_t netstack_list(struct rk_port_driver *base, struct rk_port_entry **ret)
{
	struct netstack_driver *d = (struct netstack_driver *)base;
	size_t n;

	pthread_mutex_lock(&d->lock);
	n = rk_port_table_copy(&d->ports, ret);
	pthread_mutex_unlock(&d->lock);
	return n;
}

static void netstack_free(struct rk_port_driver *base)
{
	struct netstack_driver *d = (struct netstack_driver *)base;

	close(d->control);
	pthread_mutex_destroy(&d->lock);
	rk_port_table_free(&d->ports);
	free(d->fwds);
	free(d);
}

static const struct rk_port_driver_ops netstack_ops = {
	.name = "netstack",
	.protos = netstack_protos,
	.disallow_loopback_child_ip = true,
	.add = netstack_add,
	.remove = netstack_remove,
	.list = netstack_list,
	.free = netstack_free,
};

struct rk_port_driver *rk_port_netstack_new(int control, const char *child_ip)
{
	struct netstack_driver *d = rk_xcalloc(1, sizeof(*d));

	d->base.ops = &netstack_ops;
	set_control(d, control);
	inet_pton(AF_INET, child_ip, &d->child_ip);
	pthread_mutex_init(&d->lock, NULL);
	return &d->base;
}
