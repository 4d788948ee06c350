/* SPDX-License-Identifier: Apache-2.0 */
/* The port driver of an instance, as the parent runs it: which driver, its socket maker,
 * the -p ports (see ports.c). */
#ifndef RK_PORTS_H
#define RK_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "port/driver.h"
#include "port/maker.h"
#include "port/transparent.h"
#include "src/lib/error.h"
#include "src/lib/sig.h"
#include "src/net/driver.h"

struct rk_ports {
	struct rk_port_driver *driver; /* NULL: --port-driver=none (or implicit) */
	struct rk_sockmaker maker;     /* --port-driver=builtin: its socket supply */
};

#define RK_PORTS_INIT                                                                              \
	{                                                                                          \
		.maker = RK_SOCKMAKER_INIT                                                         \
	}

/* Starts the port driver: the builtin one with its socket maker (forked here, so call
 * this while the process has one thread), or the one the network driver serves (ops,
 * drv). Returns 0 or a negative errno with err set. */
int rk_ports_start(struct rk_ports *p, enum rk_port kind, bool source_ip_transparent,
		   enum rk_transparent_backend backend, const char *argv0,
		   const struct rk_net_ops *ops, void *drv, const char *state_dir,
		   const char *child_ip, struct rk_error *err);

/* The builtin driver's sockets: the socket maker enters the child's user and network
 * namespaces (with a detached namespace at state_dir/netns, seen through the child's
 * root), and the driver keeps only sockets of that network namespace. Call it while the
 * child is still rootlesskit's own (before the command). Returns 0, -EINTR when cancel
 * cut the wait, or a negative errno with err set. */
int rk_ports_enter(struct rk_ports *p, pid_t child, bool detach_netns, const char *state_dir,
		   const struct rk_cancel *cancel, struct rk_error *err);

/* Publishes the -p specs, with upstream's message for one that fails. */
int rk_ports_publish(struct rk_ports *p, char *const *specs, size_t n, struct rk_error *err);

/* Ends the driver (after a drain, once it is done) and then the socket maker. */
void rk_ports_stop(struct rk_ports *p);

#endif
