/* SPDX-License-Identifier: Apache-2.0 */
/* What each --net driver needs from the child; the parent's part of each driver is in
 * parent.c's configure_network and the driver's own file. */
#ifndef RK_NETDRV_H
#define RK_NETDRV_H

#include <stdbool.h>

#include "src/options.h"

struct rk_net_driver {
	enum rk_net net;
	bool new_netns; /* the child gets a network namespace, so /sys is re-mounted for it */
	bool tap;	/* the child creates a tap device (--ifname) for the driver */
	bool configure; /* the parent sends an interface configuration (netcfg.h); the child
			 * applies it and writes resolv.conf and hosts */
	unsigned default_mtu;
	const char *default_ifname;
};

/* The driver of net, or NULL when it is not built in. */
const struct rk_net_driver *rk_net_driver_get(enum rk_net net);

#endif
