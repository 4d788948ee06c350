/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --net=builtin, and --net=gvisor-tap-vsock: the same engine on upstream's addresses for
 * that driver (the gateway and DNS at .1; see the rows at the end)
 *
 * The child creates tap0 with virtio-net headers and hands it over; the engine (netstack/)
 * runs on it in a confined process of its own (netstack/launch.c). We keep the tap, so that
 * when an engine dies another one takes over within a second and the published ports of
 * --port-driver=netstack (or gvisor-tap-vsock) are installed in it again; the connections the dead
 * one carried are lost. After RK_ENGINE_CRASH_LIMIT deaths in a minute, or when no engine starts,
 * the network is gone for good: the command is stopped in the first case, and rootlesskit's exit
 * status says so in both.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "netstack/launch.h"
#include "port/netstack.h"
#include "src/lib/log.h"
#include "src/lib/msg.h"
#include "src/lib/util.h"
#include "src/net/driver.h"

/* How long the engine may go on delivering what a command that has exited left in its
 * connections' buffers (see rk_engine_run), and a second more for it to end. */
#define DRAIN_MS 10000
#define READY_MS 10000 /* an engine's start, confinement included */

struct builtin {
	const struct rk_net_config *net;
	struct rk_engine_proc proc;
	struct rk_port_driver *ports; /* --port-driver=netstack: ours to feed, not to free */
	int control; /* the netstack port driver's end of the engine's control socket */
	struct rk_net_child *child_link;
};

static enum rk_confine confine_mode(enum rk_tristate t)
{
	return t == RK_TRUE ? RK_CONFINE_ON : t == RK_FALSE ? RK_CONFINE_OFF : RK_CONFINE_AUTO;
}

static int builtin_prepare(void *drv, const struct rk_net_config *net, struct rk_error *err)
{
	struct builtin *b = drv;

	(void)err;
	*b = (struct builtin){ .net = net, .proc = RK_ENGINE_PROC_INIT, .control = -1 };
	b->proc.confine = (struct rk_confine_config){ .fs = confine_mode(net->sandbox),
						      .seccomp = confine_mode(net->seccomp) };
	return 0;
}

static bool netstack_ports(const struct builtin *b)
{
	return b->net->port_driver == RK_PORT_NETSTACK ||
	       b->net->port_driver == RK_PORT_GVISOR_TAP_VSOCK;
}

/* The engine runs the network the parent planned, as it is: it starts now, and waits for
 * the tap (--port-driver=netstack gets its control socket here too). */
static int builtin_launch(void *drv, const struct rk_vnet *vnet, struct rk_error *err)
{
	struct builtin *b = drv;
	int ctl[2] = { -1, -1 }, r;

	b->proc.engine =
		(struct rk_engine_config){ .vnet = *vnet, .vnet_hdr = true, .drain_ms = DRAIN_MS };
	if (netstack_ports(b)) {
		r = rk_msg_pair(ctl);
		if (r < 0)
			return rk_error_errno(err, -r, "socketpair");
		b->control = ctl[0];
	}
	return rk_engine_proc_launch(&b->proc, ctl[1], err);
}

/* --port-driver=netstack (gvisor-tap-vsock, by upstream's name): forwards served by the
 * engine, asked for on the control socket */
static int builtin_ports(void *drv, const char *state_dir, const char *child_ip,
			 struct rk_port_driver **ret, struct rk_error *err)
{
	struct builtin *b = drv;

	(void)state_dir;
	(void)err;
	if (!netstack_ports(b))
		return 0;
	b->ports = *ret = rk_port_netstack_new(
		rk_steal_fd(&b->control), child_ip, b->net->ipv6 ? RK_VNET_CHILD6 : NULL,
		b->net->port_driver == RK_PORT_NETSTACK ? "netstack" : "gvisor-tap-vsock");
	return 0;
}

static int builtin_start(void *drv, struct rk_net_ctx *ctx, struct rk_error *err)
{
	struct builtin *b = drv;

	(void)err;
	b->child_link = ctx->child_link;
	return 0;
}

static int builtin_take_tap(void *drv, int tap, struct rk_error *err)
{
	struct builtin *b = drv;

	return rk_engine_proc_give_tap(&b->proc, tap, err);
}

/* The engine confined itself meanwhile, or says why not. */
static int builtin_ready(void *drv, const struct rk_cancel *cancel, struct rk_error *err)
{
	struct builtin *b = drv;
	int r = rk_engine_proc_ready(&b->proc, rk_now_ms() + READY_MS, cancel, err);

	if (r == -ETIMEDOUT)
		return rk_error_set(err, ETIMEDOUT, "netstack engine did not start within %d s",
				    READY_MS / 1000);
	if (r == 0 && b->ports)
		rk_port_netstack_ready(b->ports);
	return r;
}

/* The engine died (how: text) while the command runs: another one takes over. */
static bool restart(struct builtin *b, const char *text, char *lost, size_t size)
{
	struct rk_error err = { 0 };
	int ctl[2] = { -1, -1 }, r = 0;

	if (b->ports && (r = rk_msg_pair(ctl)) < 0)
		rk_error_errno(&err, -r, "socketpair");
	if (r == 0)
		r = rk_engine_proc_restart(&b->proc, ctl[1], READY_MS, &err);
	if (r == -EMLINK) {
		snprintf(lost, size,
			 "netstack engine exited %d times within %d s (the last: %s); stopping "
			 "the command",
			 RK_ENGINE_CRASH_LIMIT, RK_ENGINE_CRASH_WINDOW_MS / 1000, text);
		rk_log_fatal(lost);
		b->child_link->kill(b->child_link);
	} else if (r < 0) {
		snprintf(lost, size,
			 "network driver %s exited: %s, and no engine could start again: %s",
			 b->net->name, text, err.msg);
		rk_warn("%s; the child has no network connectivity now", lost);
	}
	if (r < 0) {
		if (ctl[0] >= 0)
			close(ctl[0]);
		return false;
	}
	if (ctl[0] >= 0)
		rk_port_netstack_restart(b->ports, ctl[0]);
	rk_warn("network driver %s exited: %s; a new engine took over (%u of %d allowed "
		"within %d s), the connections it carried are lost",
		b->net->name, text,
		b->proc.crashes.n < RK_ENGINE_CRASH_LIMIT ? b->proc.crashes.n
							  : RK_ENGINE_CRASH_LIMIT,
		RK_ENGINE_CRASH_LIMIT - 1, RK_ENGINE_CRASH_WINDOW_MS / 1000);
	return true;
}

static bool builtin_check(void *drv, char *lost, size_t size)
{
	struct builtin *b = drv;
	char text[64];
	int status;

	if (!rk_engine_proc_exited(&b->proc, &status))
		return true;
	rk_sig_format_status(status, text, sizeof(text));
	return restart(b, text, lost, size);
}

static void builtin_stop(void *drv, bool drain)
{
	struct builtin *b = drv;

	rk_engine_proc_stop(&b->proc, drain, DRAIN_MS + 1000);
}

static void builtin_free(void *drv)
{
	struct builtin *b = drv;

	rk_engine_proc_stop(&b->proc, false, 0);
	if (b->control >= 0)
		close(rk_steal_fd(&b->control));
}

#define ENGINE_OPS                                                                                 \
	.new_netns = true, .tap = true, .configure = true, .tap_fd = RK_NETCFG_TAP_VNET,           \
	.default_mtu = 65520, .default_ifname = "tap0", .size = sizeof(struct builtin),            \
	.prepare = builtin_prepare, .launch = builtin_launch, .ports = builtin_ports,              \
	.start = builtin_start, .take_tap = builtin_take_tap, .ready = builtin_ready,              \
	.check = builtin_check, .stop = builtin_stop, .free = builtin_free

/* slirp4netns's addresses, IPv6 with --ipv6 */
const struct rk_net_ops rk_net_builtin_ops = {
	.net = RK_NET_BUILTIN,
	.gateway_host = 2,
	.dns_host = 3,
	.ipv6 = true,
	.ipv6_dns = true,
	ENGINE_OPS,
};

/* upstream's gvisor-tap-vsock network: the gateway, which is also the DNS server and the
 * host's loopback, at .1; IPv4 only (its --ipv6 is refused) */
const struct rk_net_ops rk_net_gvisor_ops = {
	.net = RK_NET_GVISOR_TAP_VSOCK,
	.gateway_host = 1,
	.dns_host = 1,
	ENGINE_OPS,
};
