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
	char *path; /* the binary, resolved in PATH */
	/* what its --help mentions */
	bool has_ipv6, has_cidr, has_disable_host_loopback, has_api_socket, has_sandbox,
		has_seccomp;
	bool kernel_seccomp;
	/* resolved from the options */
	bool sandbox, seccomp;
	/* as a driver (driver.h) */
	const struct rk_net_config *net;
	char *api_socket; /* with --port-driver=slirp4netns */
	pid_t pid;	  /* once started */
};

/* Finds the binary, probes its features and resolves --slirp4netns-sandbox and
 * --slirp4netns-seccomp (auto/true/false) against them, with upstream's messages.
 * Runs before anything is started. Returns 0 or a negative errno with err set. */
int rk_slirp4netns_prepare(struct rk_slirp4netns *s, const struct rk_net_config *net,
			   struct rk_error *err);

void rk_slirp4netns_free(struct rk_slirp4netns *s);

/* The argv upstream uses: --mtu M -r 3 [--disable-host-loopback] [--cidr C]
 * [--api-socket P] [--enable-sandbox] [--enable-seccomp] [--enable-ipv6] PID TAP, or with
 * a detached namespace at netns_path (as seen in the child's mount namespace)
 * --userns-path=/proc/PID/ns/user --netns-type=path /proc/PID/root/NETNS_PATH TAP.
 * Returns a NULL-terminated vector to free with rk_strv_free. */
char **rk_slirp4netns_argv(const struct rk_slirp4netns *s, const struct rk_net_config *net,
			   const struct rk_netcfg *cfg, const char *api_socket, pid_t child,
			   const char *netns_path);

/* Starts it on the child's namespaces and waits until it reports ready on fd 3, watching
 * for its death (and for cancel). Returns 0 with *ret_pid set, -EINTR when cancelled, or
 * a negative errno with err set (the helper is then killed and reaped). */
int rk_slirp4netns_start(const struct rk_slirp4netns *s, const struct rk_net_config *net,
			 const struct rk_netcfg *cfg, const char *api_socket, pid_t child,
			 const char *netns_path, const struct rk_cancel *cancel, pid_t *ret_pid,
			 struct rk_error *err);

#endif
