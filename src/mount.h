/* SPDX-License-Identifier: Apache-2.0 */
/* Mount-namespace work done by the child before the command runs. */
#ifndef RK_MOUNT_H
#define RK_MOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "src/lib/error.h"

/* --propagation */
enum rk_propagation {
	RK_PROP_RPRIVATE,
	RK_PROP_PRIVATE,
	RK_PROP_RSLAVE,
	RK_PROP_SLAVE,
	RK_PROP_RSHARED,
	RK_PROP_SHARED,
};

/* The mount(2) flags that set propagation p. */
unsigned long rk_mount_propagation_flags(enum rk_propagation p);

/* Applies propagation p to "/" of the current mount namespace. Returns 0 or -errno with
 * err set. */
int rk_mount_set_propagation(enum rk_propagation p, const char *name, struct rk_error *err);

/* Clones the mount tree at path, recursively, as a detached mount (open_tree, Linux 5.2).
 * Returns its fd or a negative errno (-ENOSYS on older kernels). */
int rk_mount_clone_tree(const char *path);

/* Attaches a detached tree (from rk_mount_clone_tree) at path relative to dir_fd, or at
 * dir_fd itself when path is "". Returns 0 or a negative errno. */
int rk_mount_attach_tree(int tree_fd, int dir_fd, const char *path);

/* Re-mounts /sys for the child: with fresh_sysfs (a new network namespace) a new sysfs on
 * /sys, keeping /sys/fs/cgroup; with cgroup2 (--evacuate-cgroup2) a new cgroup2 on
 * /sys/fs/cgroup, which then shows the child's cgroup namespace. A sysfs that cannot be
 * mounted read-write is retried read-only, then kept as it was, with a warning (as
 * upstream). Returns 0 or a negative errno with err set. */
int rk_mount_sys(bool fresh_sysfs, bool cgroup2, struct rk_error *err);

/* One line of /proc/PID/mountinfo, split in place. */
struct rk_mountinfo_entry {
	const char *mountpoint;
	const char *optional; /* optional fields ("shared:1 master:2"), "" when none */
	const char *fstype;
};

/* Splits one mountinfo line in place. Returns 0 or -EINVAL for a malformed line. */
int rk_mountinfo_split(char *line, struct rk_mountinfo_entry *e);

/* Calls fn for each entry of a mountinfo file until it returns non-zero, and returns that
 * value: 0 when fn never stopped, or -errno when the file cannot be read. */
int rk_mountinfo_foreach(const char *path, int (*fn)(const struct rk_mountinfo_entry *e, void *arg),
			 void *arg);

/* Writes the optional fields of the "/" line of /proc/self/mountinfo ("shared:1",
 * "master:363", "" when private) into buf. Returns 0 or -errno. */
int rk_mount_root_optional(char *buf, size_t size);

/* Warns, as upstream, when propagation name is not private but the host's "/" is not
 * shared. */
void rk_mount_warn_propagation(const char *name);

#endif
