/* SPDX-License-Identifier: Apache-2.0 */
/* --port-driver=slirp4netns: host forwards through slirp4netns' API socket. */
#ifndef RK_PORT_HOSTFWD_H
#define RK_PORT_HOSTFWD_H

#include "port/driver.h"

/* A driver talking to slirp4netns on api_socket; child_ip is where ports without a child
 * IP go (the child's address). Calls made before slirp4netns listens fail cleanly. */
struct rk_port_driver *rk_port_slirp4netns_new(const char *api_socket, const char *child_ip);

#endif
