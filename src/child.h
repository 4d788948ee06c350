/* SPDX-License-Identifier: Apache-2.0 */
/* Starting the child: the process cloned into the new namespaces, the set-up helper it
 * forks, and the exec of the command. See the comment at the top of child.c. */
#ifndef RK_CHILD_H
#define RK_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "src/lib/error.h"
#include "src/net/driver.h"
#include "src/options.h"

/* Name of the variable that marks the re-executed child. Its value is "<pid>,<ppid>": the
 * pid of the command process (in the child's pid namespace) and the parent pid the child
 * must see, so that a stray copy of the variable is recognised and refused. */
#define RK_CHILD_ENV	  "_ROOTLESSKIT_CHILD_UNDOCUMENTED"
#define RK_CHILD_ENV_SIZE 96

struct rk_child_config {
	const struct rk_options *opts;
	const struct rk_net_ops *net;
	char *const *self_argv; /* argv of rootlesskit, reused for the re-exec */
	char **child_env;	/* environment of the re-executed child */
	size_t marker_index;	/* child_env[marker_index]: RK_CHILD_ENV_SIZE writable bytes */
	char **cmd_env;		/* environment of the command */
	sigset_t orig_mask;	/* signal mask rootlesskit was started with */
	mode_t orig_umask;	/* umask rootlesskit was started with */
	int sock;		/* child end of the parent/child channel */
	int listen_fds;		/* socket activation: fds 3..3+listen_fds-1 go to the command */
	bool listen_pid_ours;	/* LISTEN_PID named the parent: the command gets its own pid */
	pid_t parent_pid;
	const char *state_dir;
	int state_dir_fd; /* the parent's descriptor of it (copied by the clone) */
};

/* Clones the child into new user and mount namespaces (plus the optional ones).
 * Returns 0 with *ret_pid set, or a negative errno with err set to a message that says what
 * to change on this host (sysctl, AppArmor, container seccomp profile). */
int rk_child_start(struct rk_child_config *cfg, pid_t *ret_pid, struct rk_error *err);

/* The environment of the command: ours without stale ROOTLESSKIT_* values, plus the three
 * documented variables. With ret_marker, one more entry of RK_CHILD_ENV_SIZE writable bytes
 * is added for the child's marker (the supervisor's configuration) and its index stored
 * there. Free with rk_strv_free. */
char **rk_child_env(const char *state_dir, size_t *ret_marker);

/* systemd socket activation: with LISTEN_PID and LISTEN_FDS=N set, fds 3..N+2 are passed
 * on to the command. Returns N (0 when not activated); *ret_ours tells whether LISTEN_PID
 * names us, so that the command's LISTEN_PID must become its own pid. */
int rk_child_listen_fds(bool *ret_ours);

/* Upstream's warnings about the host's user-namespace limits (and about running as root). */
void rk_child_preflight(void);

#endif
