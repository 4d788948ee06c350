/* SPDX-License-Identifier: Apache-2.0 */
/* --net=slirp4netns: the external usermode network helper (see slirp4netns.c). */
#ifndef RK_SLIRP4NETNS_H
#define RK_SLIRP4NETNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "src/lib/error.h"
#include "src/lib/sig.h"
#include "src/net/driver.h"
#include "src/net/netcfg.h"

struct rk_slirp4netns {
	struct rk_net_helper helper; /* first: the driver's configuration, slirp4netns's pid */
	char *path;		     /* the binary, resolved in PATH */
	/* what its --help mentions */
	bool has_ipv6, has_cidr, has_disable_host_loopback, has_api_socket, has_sandbox,
		has_seccomp;
	bool kernel_seccomp;
	/* resolved from the options */
	bool sandbox, seccomp;
	char *api_socket; /* with --port-driver=slirp4netns */
};

/* The argv upstream uses: --mtu M -r 3 [--disable-host-loopback] [--cidr C]
 * [--api-socket P] [--enable-sandbox] [--enable-seccomp] [--enable-ipv6] PID TAP, or with
 * a detached namespace at netns_path (as seen in the child's mount namespace)
 * --userns-path=/proc/PID/ns/user --netns-type=path /proc/PID/root/NETNS_PATH TAP.
 * Returns a NULL-terminated vector to free with rk_strv_free. */
char **rk_slirp4netns_argv(const struct rk_slirp4netns *s, const struct rk_net_config *net,
			   const struct rk_netcfg *cfg, const char *api_socket, pid_t child,
			   const char *netns_path);

#endif
