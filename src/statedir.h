/* SPDX-License-Identifier: Apache-2.0 */
/* The state directory: creation or adoption, the "lock" file, clearing stale entries,
 * child_pid, and removal at exit. An adopted directory must be the user's and writable by
 * no one else. All work inside it goes through the directory descriptor held since the
 * lock (or a /proc/self/fd path through it), never through the path again, and never
 * follows symlinks. */
#ifndef RK_STATEDIR_H
#define RK_STATEDIR_H

#include <stdbool.h>
#include <sys/types.h>

#include "src/lib/error.h"

struct rk_statedir {
	char *path;	   /* absolute, clean */
	char *base;	   /* its last component */
	int parent_fd;	   /* the directory that holds it, for the final rmdir */
	int dir_fd;	   /* O_DIRECTORY, holds LOCK_SH for the whole run */
	int lock_fd;	   /* "lock", holds LOCK_EX */
	bool created_dir;  /* this run made the directory (mkdir said so) */
	bool created_lock; /* and the "lock" file */
};

/* Resolves the --state-dir value: "" gives NULL (use a temporary directory), anything else
 * is made absolute against the current directory and cleaned. Returns a new string. */
char *rk_statedir_resolve(const char *raw, const char *cwd);

/* Creates (path NULL: a fresh mkdtemp under $TMPDIR or /tmp) or adopts (mkdir -p) the state
 * directory, takes its locks and clears stale entries except "lock". Directories created
 * here are 0700. An existing directory is refused when another user owns it or group or
 * others may write to it (they could replace what we write), or when it is not empty and
 * has no "lock" file, so that a mistyped --state-dir cannot wipe a directory that is not
 * ours. Returns 0 or a negative errno with err set; on failure nothing is left locked and
 * only what this call created is removed (the directory only while empty). */
int rk_statedir_open(struct rk_statedir *sd, const char *path, struct rk_error *err);

/* Writes child_pid: the decimal pid, no newline, mode 0444, appearing atomically.
 * Returns 0 or -errno with err set. */
int rk_statedir_write_child_pid(struct rk_statedir *sd, pid_t pid, struct rk_error *err);

/* Removes the whole directory (as upstream does at exit) and releases the locks; the final
 * rmdir goes through the parent's descriptor, and only while the name still is the
 * directory held. Safe to call on a struct that was never opened. Failures only warn. */
void rk_statedir_remove(struct rk_statedir *sd);

/* Removes every entry of the directory open at dir_fd except one named keep (may be NULL),
 * recursively, without following symlinks. Returns 0 or the first -errno. */
int rk_statedir_clear(int dir_fd, const char *keep);

/* "/proc/self/fd/N/name": a path through the held descriptor, for calls that take a path
 * (bind). Valid in this process and in processes that share or copied its descriptors.
 * Returns a new string. */
char *rk_statedir_fd_path(const struct rk_statedir *sd, const char *name);

/* For a process in another mount namespace, where held_fd (the state directory as opened
 * in the parent's namespace) cannot be a mount source or target: opens path there and
 * checks that it is the same directory. Returns the new descriptor, or a negative errno
 * with err set (EXDEV when the path now names another directory). */
int rk_statedir_reopen(const char *path, int held_fd, struct rk_error *err);

#endif
