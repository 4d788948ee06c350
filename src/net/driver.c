/* SPDX-License-Identifier: Apache-2.0 */
/* The table of network drivers, and what they share. */
#include "src/net/driver.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "src/lib/log.h"

/* the host's network: nothing to do */
static const struct rk_net_ops host_ops = { .net = RK_NET_HOST };

/* only lo, which the child brings up */
static const struct rk_net_ops none_ops = { .net = RK_NET_NONE, .new_netns = true };

static const struct rk_net_ops *const drivers[] = {
	&host_ops,	   &none_ops,	       &rk_net_slirp4netns_ops, &rk_net_builtin_ops,
	&rk_net_pasta_ops, &rk_net_vpnkit_ops, &rk_net_lxcusernic_ops,	&rk_net_gvisor_ops,
};

const struct rk_net_ops *rk_net_ops_get(enum rk_net net)
{
	for (size_t i = 0; i < RK_ARRAY_SIZE(drivers); i++)
		if (drivers[i]->net == net)
			return drivers[i];
	return NULL;
}

int rk_net_plan(const struct rk_net_ops *ops, const struct rk_net_config *cfg, struct rk_vnet *vnet,
		struct rk_netcfg *nc, const char *ifname, struct rk_error *err)
{
	const char *dev = *ifname ? ifname : ops->default_ifname;

	*vnet = (struct rk_vnet){ .mtu = cfg->mtu ? cfg->mtu : ops->default_mtu,
				  .ipv6 = cfg->ipv6 && ops->ipv6_dns,
				  .disable_host_loopback = cfg->disable_host_loopback };
	if (ops->gateway_host) {
		if (rk_vnet_layout(vnet, cfg->cidr, ops->gateway_host, ops->dns_host, err) < 0)
			return -EINVAL;
		rk_netcfg_of_vnet(nc, vnet, dev);
	} else {
		/* the driver learns the addresses */
		*nc = (struct rk_netcfg){ .mtu = vnet->mtu };
		snprintf(nc->dev, sizeof(nc->dev), "%s", dev);
	}
	nc->step = ops->step;
	nc->tap_fd = ops->tap_fd;
	return 0;
}

bool rk_net_helper_check(void *drv, char *lost, size_t size)
{
	struct rk_net_helper *h = drv;
	int status;
	char text[64];

	if (h->pid <= 0 || waitpid(h->pid, &status, WNOHANG) != h->pid)
		return true;
	h->pid = -1;
	rk_sig_format_status(status, text, sizeof(text));
	snprintf(lost, size, "network driver %s exited: %s", h->net->name, text);
	rk_warn("%s; the child has no network connectivity now", lost);
	return false;
}

void rk_net_helper_stop(void *drv, bool drain)
{
	struct rk_net_helper *h = drv;

	(void)drain;
	if (h->pid <= 0)
		return;
	kill(h->pid, SIGKILL);
	while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
		;
	h->pid = -1;
}
