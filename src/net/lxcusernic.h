/* SPDX-License-Identifier: Apache-2.0 */
/* --net=lxc-user-nic (see lxcusernic.c). */
#ifndef RK_LXCUSERNIC_H
#define RK_LXCUSERNIC_H

#include <sys/types.h>

#include "src/lib/error.h"
#include "src/lib/sig.h"
#include "src/net/dhcp.h"
#include "src/net/driver.h"

struct rk_lxcusernic {
	char *path;   /* the binary, resolved in PATH */
	pid_t holder; /* with --detach-netns: our process sitting in the namespace */
	/* as a driver (driver.h) */
	const struct rk_net_config *net;
	struct rk_dhcp_keeper *dhcp;	 /* the lease's renewals */
	struct rk_net_child *child_link; /* for ending the command when the lease is lost */
};

/* The default --lxc-user-nic-binary: the first of upstream's candidate paths that exists,
 * or "" when none does. */
const char *rk_lxcusernic_default(void);

/* Finds the binary (--lxc-user-nic-binary, or upstream's default search). Returns 0 or a
 * negative errno with err set. */
int rk_lxcusernic_prepare(struct rk_lxcusernic *l, const struct rk_net_config *net,
			  struct rk_error *err);

/* Runs lxc-user-nic create /dev/null dummy PID veth BRIDGE DEV: a veth pair, one end on
 * the bridge, the other moved into the child's namespace as dev. With --detach-netns, PID
 * is a process of ours that entered the detached namespace (netns_path, as seen in the
 * child's mount namespace). Returns 0 or a negative errno with err set. */
int rk_lxcusernic_create(struct rk_lxcusernic *l, const struct rk_net_config *net, pid_t child,
			 const char *netns_path, const char *dev, const struct rk_cancel *cancel,
			 struct rk_error *err);

void rk_lxcusernic_free(struct rk_lxcusernic *l);

#endif
