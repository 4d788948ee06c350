/* SPDX-License-Identifier: Apache-2.0 */
/* --port-driver=netstack (and gvisor-tap-vsock): ports spliced into the engine of
 * --net=builtin and --net=gvisor-tap-vsock (see netstack.c). */
#ifndef RK_PORT_NETSTACK_H
#define RK_PORT_NETSTACK_H

#include "port/driver.h"

/* A driver sending forward requests to the engine on control (a SOCK_SEQPACKET socket,
 * taken), called name in the API; child_ip (and child_ip6, for IPv6 ports, NULL without
 * --ipv6) is where ports without a child IP go. Requests fail with
 * EAGAIN until rk_port_netstack_ready() says the engine runs (the API answers before the network is
 * set up). */
struct rk_port_driver *rk_port_netstack_new(int control, const char *child_ip,
					    const char *child_ip6, const char *name);

void rk_port_netstack_ready(struct rk_port_driver *d);

/* A new engine replaced the one that died: requests go to control (taken) from now on, and
 * every published port is installed in it again. A port that cannot be (its host address
 * was taken meanwhile, say) is dropped from the list with a warning. Returns how many
 * were dropped. */
size_t rk_port_netstack_restart(struct rk_port_driver *d, int control);

#endif
