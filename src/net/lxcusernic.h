/* SPDX-License-Identifier: Apache-2.0 */
/* --net=lxc-user-nic (see lxcusernic.c). */
#ifndef RK_LXCUSERNIC_H
#define RK_LXCUSERNIC_H

#include <sys/types.h>

#include "src/lib/error.h"
#include "src/lib/sig.h"
#include "src/options.h"

struct rk_lxcusernic {
	char *path;   /* the binary, resolved in PATH */
	pid_t holder; /* with --detach-netns: our process sitting in the namespace */
};

/* Finds the binary (--lxc-user-nic-binary, or upstream's default search). Returns 0 or a
 * negative errno with err set. */
int rk_lxcusernic_prepare(struct rk_lxcusernic *l, const struct rk_options *opts,
			  struct rk_error *err);

/* Runs lxc-user-nic create /dev/null dummy PID veth BRIDGE DEV: a veth pair, one end on
 * the bridge, the other moved into the child's namespace as dev. With --detach-netns, PID
 * is a process of ours that entered the detached namespace (netns_path, as seen in the
 * child's mount namespace). Returns 0 or a negative errno with err set. */
int rk_lxcusernic_create(struct rk_lxcusernic *l, const struct rk_options *opts, pid_t child,
			 const char *netns_path, const char *dev, const struct rk_cancel *cancel,
			 struct rk_error *err);

void rk_lxcusernic_free(struct rk_lxcusernic *l);

#endif
