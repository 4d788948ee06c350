/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup v2: finding the hierarchy and our group, and --evacuate-cgroup2. */
#ifndef RK_CGROUP_H
#define RK_CGROUP_H

#include <stddef.h>

#include "src/lib/error.h"

/* Finds the mount point of the cgroup2 hierarchy in a mountinfo file. Returns 0, -ENOENT
 * when none is mounted, or another negative errno. */
int rk_cgroup_find_v2(const char *mountinfo_path, char *buf, size_t size);

/* Reads the cgroup v2 group ("0::" line) of a /proc/PID/cgroup file. Returns 0, -ENOENT
 * when there is no such line, or another negative errno. */
int rk_cgroup_own_group(const char *cgroup_path, char *buf, size_t size);

/* --evacuate-cgroup2=name: creates <group>/<name>, moves every process of our group into it
 * and enables the group's controllers for its children. Without cgroup2 it warns and does
 * nothing. Failing moves and controllers only warn (as upstream). Returns 0 or a negative
 * errno with err set. */
int rk_cgroup_evacuate(const char *name, struct rk_error *err);

#endif
