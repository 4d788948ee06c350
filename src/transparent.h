/* SPDX-License-Identifier: Apache-2.0 */
/* Routing inside the child for --source-ip-transparent (see transparent.c). */
#ifndef RK_TRANSPARENT_H
#define RK_TRANSPARENT_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Sets up, in the current network namespace, what lets the builtin port driver connect
 * with a client's own address. Needs CAP_NET_ADMIN there and iptables-restore in PATH.
 * Returns 0, or a negative errno with err set when transparent connections cannot work
 * (the caller falls back to plain ones). */
int rk_transparent_setup(struct rk_error *err);

/* The supervisor reaps every child but the helpers rk_transparent_setup() waits for on
 * its own thread: it holds the lock from looking at a child (waitid WNOWAIT) to reaping
 * it, and leaves those rk_transparent_is_helper() names (a SIGCHLD to the process says
 * when they are gone). */
void rk_transparent_lock(void);
void rk_transparent_unlock(void);
bool rk_transparent_is_helper(pid_t pid);

#endif
