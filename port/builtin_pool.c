/* SPDX-License-Identifier: Apache-2.0 */
/* The builtin port driver's socket supply: pools of sockets of the child's network
 * namespace, asked for in batches from the socket maker (maker.c) and checked as they come
 * (sockpool.c); see builtin.c. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port/builtin_int.h"
#include "port/registry.h"
#include "port/sockpool.h"
#include "src/lib/log.h"
#include "src/lib/util.h"

#define POOL_RETRY_MS 100 /* after the child made no socket, the next request waits */

struct bp_pool *bp_pool_for(struct bp_driver *d, int family, int type)
{
	return &d->pools[family == AF_INET6][type == SOCK_DGRAM];
}
/* Asks the child for what p lacks to reach its target. */
void bp_pool_request(struct bp_driver *d, struct bp_pool *p)
{
	unsigned want;
	int r;

	if (d->chan_dead || p->n + p->requested >= p->target || rk_now_ms() < p->retry_ms)
		return;
	want = p->target - p->n - p->requested;
	if (want > RK_SOCKPOOL_MAX_BATCH)
		want = RK_SOCKPOOL_MAX_BATCH;
	r = rk_sockpool_request(d->cfg.chan, p->family, p->type, want);
	if (r == -EAGAIN)
		return; /* the channel is full of requests: the answers will call again */
	if (r < 0) {
		rk_warn("port driver: asking the child for sockets: %s", strerror(-r));
		return;
	}
	p->requested += want;
}
/* Refills in batches: only once half of the target is gone. */
void bp_pool_refill(struct bp_driver *d, struct bp_pool *p)
{
	if (p->n + p->requested <= p->target / 2)
		bp_pool_request(d, p);
}
int bp_pool_take(struct bp_driver *d, struct bp_pool *p)
{
	int fd = -1;

	if (p->n > 0)
		fd = p->fds[--p->n];
	bp_pool_refill(d, p);
	return fd;
}
static void pool_add(struct bp_pool *p, const int *fds, unsigned n)
{
	if (p->n + n > p->cap) {
		p->cap = (p->n + n) * 2;
		p->fds = rk_xrealloc(p->fds, p->cap * sizeof(int));
	}
	memcpy(p->fds + p->n, fds, n * sizeof(int));
	p->n += n;
}
/* Starts the connections waiting for a socket; closes them when none can come. */
static void pool_serve_waiters(struct bp_driver *d, struct bp_pool *p, bool failed)
{
	while (!rk_list_empty(&p->waiters)) {
		struct bp_conn *c = rk_container_of(p->waiters.next, struct bp_conn, wait);
		if (p->n == 0 && !failed)
			break;
		rk_list_del(&c->wait);
		if (p->n == 0)
			bp_tcp_close(d, c);
		else
			bp_tcp_start(d, c);
	}
}
static void chan_gone(struct bp_driver *d)
{
	d->chan_dead = true;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->cfg.chan, NULL);
	for (int f = 0; f < BP_POOL_FAMILIES; f++)
		for (int t = 0; t < BP_POOL_TYPES; t++)
			pool_serve_waiters(d, &d->pools[f][t], true);
	if (d->transparent == BP_TRANSPARENT_ASKED)
		bp_tcp_transparent_answer(d, EPIPE);
}
/* Descriptors of an answer nobody will use. */
static void reject(struct bp_driver *d, const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
	d->rejected += n;
}
/* Answers from the channel. The maker is out of the command's reach, but it lives in the
 * command's namespaces, and what it hands over decides where the parent connects: nothing
 * is trusted. Only what was asked for is kept, and only sockets of the asked kind made in
 * the child's network namespace. */
void bp_chan_readable(struct bp_driver *d)
{
	int fds[RK_SOCKPOOL_MAX_BATCH];
	struct rk_netns_id ns;
	bool ns_known;

	pthread_mutex_lock(&d->lock);
	ns = d->netns;
	ns_known = d->netns_known;
	pthread_mutex_unlock(&d->lock);
	for (;;) {
		struct rk_sockpool_rep rep;
		struct bp_pool *p;
		unsigned long before;
		bool forged;
		int r = rk_sockpool_receive(d->cfg.chan, &rep, fds);

		if (r == -EAGAIN || r == -EINTR)
			return;
		if (r == -EBADMSG) {
			d->rejected += rep.count; /* closed already */
			continue;
		}
		if (r <= 0) {
			if (r < 0)
				rk_debug("port driver: socket channel: %s", strerror(-r));
			chan_gone(d);
			return;
		}
		if (rep.op == RK_SOCKPOOL_TRANSPARENT) {
			reject(d, fds, rep.count);
			bp_tcp_transparent_answer(d, rep.err); /* only when asked */
			continue;
		}
		if (rep.op != RK_SOCKPOOL_SOCKETS ||
		    (rep.family != AF_INET && rep.family != AF_INET6) ||
		    (rep.type != SOCK_STREAM && rep.type != SOCK_DGRAM)) {
			reject(d, fds, rep.count);
			continue;
		}
		p = bp_pool_for(d, rep.family, rep.type);
		before = d->rejected;
		rep.count = rk_sockpool_admit(&rep, fds, &p->requested, ns_known ? &ns : NULL,
					      &d->rejected);
		pool_add(p, fds, rep.count);
		/* none at all (the child is out of descriptors): asking again at once would
		 * get the same answer, for ever; the tick asks again later. Said once. */
		if (rep.err && (rep.count || !p->retry_ms))
			rk_warn("port driver: the child made %u of %u sockets: %s", rep.count,
				rep.asked, strerror(rep.err));
		/* nothing usable but something sent: not the child's last word (the
		 * command's answer came first): the waiters wait for the next one */
		forged = rep.count == 0 && d->rejected != before;
		p->retry_ms =
			rep.count == 0 && (rep.err || forged) ? rk_now_ms() + POOL_RETRY_MS : 0;
		pool_serve_waiters(d, p, rep.count == 0 && !forged);
		bp_pool_refill(d, p);
	}
}
/* Said at the tick, not per message: the command decides how often this happens. */
void bp_report_rejected(struct bp_driver *d)
{
	if (d->rejected == d->rejected_said)
		return;
	rk_warn("port driver: closed %lu descriptors from the socket maker that were not asked "
		"for or not sockets of the child's network namespace (%lu in all)",
		d->rejected - d->rejected_said, d->rejected);
	d->rejected_said = d->rejected;
}
void rk_port_builtin_trust_netns(struct rk_port_driver *drv, const struct rk_netns_id *ns,
				 enum rk_transparent_backend backend)
{
	struct bp_driver *d = (struct bp_driver *)rk_port_registry_backend(drv);

	pthread_mutex_lock(&d->lock);
	d->netns = *ns;
	d->netns_known = true;
	d->backend = d->cfg.source_ip_transparent ? backend : RK_TRANSPARENT_NONE;
	pthread_mutex_unlock(&d->lock);
}
