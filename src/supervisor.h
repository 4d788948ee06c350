/* SPDX-License-Identifier: Apache-2.0 */
/* The re-executed child that supervises the command (see supervisor.c). */
#ifndef RK_SUPERVISOR_H
#define RK_SUPERVISOR_H

#include <sys/types.h>

/* The value of RK_CHILD_ENV (see child.h). */
struct rk_marker {
	pid_t cmd;  /* the command's pid */
	pid_t ppid; /* the parent pid we must see */
};

/* Parses "<pid>,<ppid>". Returns 0 or -EINVAL. */
int rk_supervisor_parse_marker(const char *value, struct rk_marker *ret);

/* Runs the supervisor; marker is the value of RK_CHILD_ENV. Returns the exit code. */
int rk_supervisor_main(int argc, char **argv, const char *marker);

#endif
