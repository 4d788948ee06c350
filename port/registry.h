/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The books of published ports, kept once for every port driver: the lock that serialises
 * requests, the table of ports, the conflict check, the ids, the list, and a cap on how
 * many there may be. A driver (a backend here) only opens and closes one forward.
 */
#ifndef RK_PORT_REGISTRY_H
#define RK_PORT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "port/driver.h"

/* How many ports one instance publishes at most. */
#define RK_PORT_MAX 4096

struct rk_port_backend;

struct rk_port_backend_ops {
	const char *name;	   /* as in the API's portDriver.driver */
	const char *const *protos; /* NULL-terminated, the API's portDriver.protos */
	bool disallow_loopback_child_ip;
	/* the backend names its forwards (slirp4netns's ids) and decides itself whether an
	 * id it is asked to close exists, as upstream does */
	bool own_ids;
	size_t data_size; /* what the registry keeps per port for the backend (zeroed) */
	/* Opens the forward of spec (validated, and free of conflicts) as port *id, or with
	 * own_ids sets *id. Returns 0 or a negative errno with err set. */
	int (*open)(struct rk_port_backend *b, const struct rk_port_spec *spec, int *id, void *data,
		    struct rk_error *err);
	/* Closes port id (data: NULL for an id the registry does not know, own_ids only): its
	 * listener and live connections are closed on return. */
	int (*close)(struct rk_port_backend *b, int id, void *data, struct rk_error *err);
	/* optional: see struct rk_port_driver_ops */
	void (*drain)(struct rk_port_backend *b, unsigned idle_ms, unsigned max_ms);
	const char *(*source_ip_backend)(struct rk_port_backend *b);
	void (*free)(struct rk_port_backend *b);
};

struct rk_port_backend {
	const struct rk_port_backend_ops *ops;
};

/* The port driver (driver.h) of backend, which it takes. open and close are called one at
 * a time, under the registry's lock. */
struct rk_port_driver *rk_port_registry_new(struct rk_port_backend *backend);

/* The backend of a driver made by rk_port_registry_new. */
struct rk_port_backend *rk_port_registry_backend(struct rk_port_driver *d);

/* Under the registry's lock (so between two requests): calls begin(backend, arg), then fn
 * (which may be NULL) on each port in the order they were added; a port fn fails is
 * dropped from the books with a warning (the netstack driver's new engine). Returns how
 * many were dropped. */
size_t rk_port_registry_replay(struct rk_port_driver *d,
			       void (*begin)(struct rk_port_backend *b, void *arg), void *arg,
			       int (*fn)(struct rk_port_backend *b, const struct rk_port_entry *e,
					 void *data));

#endif
