/* SPDX-License-Identifier: Apache-2.0 */
/* The state directory: creation or adoption, the "lock" file, clearing stale entries,
 * child_pid, and removal at exit. All work inside it goes through a held directory fd and
 * never follows symlinks. */
#ifndef RK_STATEDIR_H
#define RK_STATEDIR_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct rk_statedir {
	char *path;  /* absolute, clean */
	int dir_fd;  /* O_DIRECTORY, holds LOCK_SH for the whole run */
	int lock_fd; /* "lock", holds LOCK_EX */
};

/* Resolves the --state-dir value: "" gives NULL (use a temporary directory), anything else
 * is made absolute against the current directory and cleaned. Returns a new string. */
char *rk_statedir_resolve(const char *raw, const char *cwd);

/* Creates (path NULL: a fresh mkdtemp under $TMPDIR or /tmp, mode 0700) or adopts (mkdir -p,
 * 0755) the state directory, takes its locks and clears stale entries except "lock".
 * An existing non-empty directory without a "lock" file is refused, so that a mistyped
 * --state-dir cannot wipe a directory that is not ours. Returns 0 or a negative errno with
 * err set; on failure nothing is left locked and a directory created here is removed. */
int rk_statedir_open(struct rk_statedir *sd, const char *path, struct rk_error *err);

/* Writes child_pid: the decimal pid, no newline, mode 0444, appearing atomically.
 * Returns 0 or -errno with err set. */
int rk_statedir_write_child_pid(struct rk_statedir *sd, pid_t pid, struct rk_error *err);

/* Removes the whole directory (as upstream does at exit) and releases the locks. Safe to
 * call on a struct that was never opened. Failures only warn. */
void rk_statedir_remove(struct rk_statedir *sd);

/* Removes every entry of the directory open at dir_fd except one named keep (may be NULL),
 * recursively, without following symlinks. Returns 0 or the first -errno. */
int rk_statedir_clear(int dir_fd, const char *keep);

#endif
