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
	struct rk_net_helper helper; /* first: the driver's configuration, the background
				      * pasta's pid (-1 when it cannot be found) */
	char *path;		     /* the binary, resolved in PATH */
	bool has_host_lo_to_ns_lo;
};

/* The argv upstream uses (see pasta.c). netns_path: the detached namespace as seen in the
 * child's mount namespace, or NULL. Returns a NULL-terminated vector (rk_strv_free). */
char **rk_pasta_argv(const struct rk_pasta *p, const struct rk_net_config *net,
		     const struct rk_netcfg *cfg, pid_t child, const char *netns_path);

#endif
