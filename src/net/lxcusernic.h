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
	const struct rk_net_config *net;
	char *path;			 /* the binary, resolved in PATH */
	pid_t holder;			 /* with --detach-netns: our process in the namespace */
	struct rk_dhcp_keeper *dhcp;	 /* the lease's renewals */
	struct rk_net_child *child_link; /* for ending the command when the lease is lost */
};

/* The default --lxc-user-nic-binary: the first of upstream's candidate paths that exists,
 * or "" when none does. */
const char *rk_lxcusernic_default(void);

#endif
