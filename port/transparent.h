/* SPDX-License-Identifier: Apache-2.0 */
/* Routing inside the child for --source-ip-transparent (see transparent.c). */
#ifndef RK_TRANSPARENT_H
#define RK_TRANSPARENT_H

#include "src/lib/error.h"

/* Sets up, in the current network namespace, what lets the builtin port driver connect
 * with a client's own address. Needs CAP_NET_ADMIN there and iptables-restore in PATH.
 * Returns 0, or a negative errno with err set when transparent connections cannot work
 * (the caller falls back to plain ones). */
int rk_transparent_setup(struct rk_error *err);

#endif
