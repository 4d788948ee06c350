/* SPDX-License-Identifier: Apache-2.0 */
/* The builtin port driver: the parent listens on the host and moves bytes into the
 * child's network namespace with splice(). See builtin.c. */
#ifndef RK_PORT_BUILTIN_H
#define RK_PORT_BUILTIN_H

#include <stdbool.h>

#include "port/driver.h"
#include "port/sockpool.h"
#include "port/transparent.h"

struct rk_builtin_config {
	int chan; /* parent end of the socket-supply channel (sockpool.h); taken over */
	/* connect non-loopback TCP clients with their own address (IP_TRANSPARENT); the
	 * routing this needs is asked of the child the first time */
	bool source_ip_transparent;
	bool argv0_is_rootlesskit; /* the privileged-port hint names the binary's capability */
};

/* Starts the driver and its thread. Returns 0 with *ret set, or a negative errno with err
 * set (cfg->chan is closed either way). */
int rk_port_builtin_new(const struct rk_builtin_config *cfg, struct rk_port_driver **ret,
			struct rk_error *err);

/* Says which network namespace the child's sockets are made in (its nsfs identity): until
 * then the driver keeps none of the sockets the child sends; and which firewall backend
 * the maker resolved there for source-IP transparency. Called by the parent before the
 * command runs, while the child is still its own. */
void rk_port_builtin_trust_netns(struct rk_port_driver *d, const struct rk_netns_id *ns,
				 enum rk_transparent_backend backend);

#endif
