/* SPDX-License-Identifier: Apache-2.0 */
/* rtnetlink configuration of the child's interfaces (libmnl), never the ip binary. */
#ifndef RK_NETLINK_H
#define RK_NETLINK_H

#include "error.h"

/* Brings interface ifname up in the current network namespace, like
 * "ip link set IFNAME up". Returns 0 or a negative errno with err set. */
int rk_netlink_link_up(const char *ifname, struct rk_error *err);

#endif
