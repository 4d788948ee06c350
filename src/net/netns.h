/* SPDX-License-Identifier: Apache-2.0 */
/* --detach-netns: a network namespace kept at a path instead of entered (see netns.c). */
#ifndef RK_NETNS_H
#define RK_NETNS_H

#include "src/lib/error.h"

/* Creates a network namespace and bind-mounts it on path (created as an empty file), in
 * the current mount namespace, without entering it. Returns 0 or -errno with err set. */
int rk_netns_create(const char *path, struct rk_error *err);

/* Runs fn in the network namespace at path, in a forked process (a process cannot go back
 * to a namespace it has no privilege over), and brings its error back.
 * Returns fn's result, or -errno with err set. */
int rk_netns_run(const char *path, int (*fn)(void *arg, struct rk_error *err), void *arg,
		 struct rk_error *err);

/* Moves the calling thread into the network namespace at path. Returns 0 or -errno. */
int rk_netns_enter(const char *path);

#endif
