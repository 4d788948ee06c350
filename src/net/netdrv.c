/* SPDX-License-Identifier: Apache-2.0 */
#include "src/net/netdrv.h"

#include <stddef.h>

static const struct rk_net_driver drivers[] = {
	{ .net = RK_NET_HOST, .new_netns = false },
	/* only lo, which the child brings up */
	{ .net = RK_NET_NONE, .new_netns = true },
	{ .net = RK_NET_SLIRP4NETNS,
	  .new_netns = true,
	  .tap = true,
	  .configure = true,
	  .default_mtu = 65520,
	  .default_ifname = "tap0" },
	/* the engine in the parent (netstack/) reads the tap the child hands over */
	{ .net = RK_NET_BUILTIN,
	  .new_netns = true,
	  .tap = true,
	  .configure = true,
	  .default_mtu = 65520,
	  .default_ifname = "tap0" },
	/* pasta creates and configures its interface itself */
	{ .net = RK_NET_PASTA,
	  .new_netns = true,
	  .configure = true,
	  .default_mtu = 65520,
	  .default_ifname = "tap0" },
	{ .net = RK_NET_VPNKIT,
	  .new_netns = true,
	  .tap = true,
	  .configure = true,
	  .default_mtu = 1500,
	  .default_ifname = "tap0" },
	/* lxc-user-nic moves a veth in */
	{ .net = RK_NET_LXC_USER_NIC,
	  .new_netns = true,
	  .configure = true,
	  .default_mtu = 1500,
	  .default_ifname = "eth0" },
};

const struct rk_net_driver *rk_net_driver_get(enum rk_net net)
{
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (drivers[i].net == net)
			return &drivers[i];
	return NULL;
}
