/* SPDX-License-Identifier: Apache-2.0 */
/* The port-driver interface: what the REST API and the parent need from a port driver.
 * Every operation is safe to call from any thread. */
#ifndef RK_PORT_DRIVER_H
#define RK_PORT_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "port/spec.h"
#include "src/lib/error.h"

/* --port-driver */
enum rk_port {
	RK_PORT_NONE,
	RK_PORT_IMPLICIT,
	RK_PORT_BUILTIN,
	RK_PORT_SLIRP4NETNS,
	RK_PORT_GVISOR_TAP_VSOCK, /* upstream's name for netstack's forwards */
	RK_PORT_NETSTACK,	  /* ours: host forwards inside --net=builtin's engine */
};

struct rk_port_driver;

struct rk_port_driver_ops {
	const char *name;	   /* "builtin", ... as in the API's portDriver.driver */
	const char *const *protos; /* NULL-terminated, the API's portDriver.protos */
	bool disallow_loopback_child_ip;
	/* Publishes spec. Returns 0 with *ret_id set, or a negative errno with err set. */
	int (*add)(struct rk_port_driver *d, const struct rk_port_spec *spec, int *ret_id,
		   struct rk_error *err);
	/* Unpublishes id: its listener and live connections are closed on return. */
	int (*remove)(struct rk_port_driver *d, int id, struct rk_error *err);
	/* The published ports in id order, as a new array (free()). Returns the count. */
	size_t (*list)(struct rk_port_driver *d, struct rk_port_entry **ret);
	/* Optional: the command has ended. No new connection is taken; the open ones go on
	 * delivering what they hold until all have ended, none moved a byte for idle_ms, or
	 * max_ms passed; free() then waits for that. Returns at once. No add or remove may
	 * follow. */
	void (*drain)(struct rk_port_driver *d, unsigned idle_ms, unsigned max_ms);
	/* Optional: what makes the firewall rules of source-IP transparency (the API's
	 * portDriver.extra.sourceIPTransparentBackend): "nft", "iptables" or "none". */
	const char *(*source_ip_backend)(struct rk_port_driver *d);
	void (*free)(struct rk_port_driver *d);
};

struct rk_port_driver {
	const struct rk_port_driver_ops *ops;
};

/* See drain above. Accepts NULL, and drivers without it. */
static inline void rk_port_driver_drain(struct rk_port_driver *d, unsigned idle_ms, unsigned max_ms)
{
	if (d && d->ops->drain)
		d->ops->drain(d, idle_ms, max_ms);
}

/* Stops the driver: every listener and connection is closed (after a drain, once it is
 * done). Accepts NULL. */
static inline void rk_port_driver_free(struct rk_port_driver *d)
{
	if (d)
		d->ops->free(d);
}

#endif
