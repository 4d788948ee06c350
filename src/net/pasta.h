/* SPDX-License-Identifier: Apache-2.0 */
/* --net=pasta (see pasta.c). */
#ifndef RK_PASTA_H
#define RK_PASTA_H

#include <stdbool.h>
#include <sys/types.h>

#include "src/lib/error.h"
#include "src/lib/sig.h"
#include "src/net/driver.h"
#include "src/net/netcfg.h"

struct rk_pasta {
	char *path; /* the binary, resolved in PATH */
	bool has_host_lo_to_ns_lo;
	/* as a driver (driver.h) */
	const struct rk_net_config *net;
	pid_t pid; /* the background pasta, or -1 */
};

/* Finds the binary and probes it with --version and --host-lo-to-ns-lo --version, with
 * upstream's messages. Returns 0 or a negative errno with err set. */
int rk_pasta_prepare(struct rk_pasta *p, const struct rk_net_config *net, struct rk_error *err);

void rk_pasta_free(struct rk_pasta *p);

/* The argv upstream uses (see pasta.c). netns_path: the detached namespace as seen in the
 * child's mount namespace, or NULL. Returns a NULL-terminated vector (rk_strv_free). */
char **rk_pasta_argv(const struct rk_pasta *p, const struct rk_net_config *net,
		     const struct rk_netcfg *cfg, pid_t child, const char *netns_path);

/* Runs pasta, which configures the interface and then goes to the background, and waits
 * for its foreground process. The background pasta becomes our child (we are its
 * subreaper meanwhile): *ret_pid is it, for stopping it at exit, or -1 when it cannot be
 * found. Returns 0 or a negative errno with err set ("pasta failed with exit code N:"
 * and its output). */
int rk_pasta_start(const struct rk_pasta *p, const struct rk_net_config *net,
		   const struct rk_netcfg *cfg, pid_t child, const char *netns_path,
		   const struct rk_cancel *cancel, pid_t *ret_pid, struct rk_error *err);

#endif
