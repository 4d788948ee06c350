/* SPDX-License-Identifier: Apache-2.0 */
/* rootlessctl: the client of the REST API, one file per subcommand. */
#ifndef RK_CTL_H
#define RK_CTL_H

#include <jansson.h>
#include <stdbool.h>

#include "src/lib/error.h"

struct rk_ctl {
	const char *socket; /* --socket, or $ROOTLESSKIT_STATE_DIR/api.sock */
	bool debug;
	bool json;   /* the subcommand's --json */
	char **args; /* the subcommand's positional arguments */
	int n_args;
};

/* Each returns 0 or a negative errno with err set (main prints "error: <msg>", exit 1). */
int rk_ctl_info(const struct rk_ctl *c, struct rk_error *err);
int rk_ctl_list_ports(const struct rk_ctl *c, struct rk_error *err);
int rk_ctl_add_ports(const struct rk_ctl *c, struct rk_error *err);
int rk_ctl_remove_ports(const struct rk_ctl *c, struct rk_error *err);

/* Rewrites every string in v (recursively) that holds terminal controls with them escaped
 * (rk_escape_controls): what a server sends is printed, and must not steer the terminal. */
void rk_ctl_defang(json_t *v);

/* GET/POST/DELETE on the API, expecting status want; stores the body. */
int rk_ctl_call(const struct rk_ctl *c, const char *method, const char *path, const char *body,
		long want, char **ret_body, struct rk_error *err);

#endif
