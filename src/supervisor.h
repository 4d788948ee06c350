/* SPDX-License-Identifier: Apache-2.0 */
/* The re-executed child that supervises the command (see supervisor.c). */
#ifndef RK_SUPERVISOR_H
#define RK_SUPERVISOR_H

#include <sys/types.h>

#include <stdbool.h>

/* The value of RK_CHILD_ENV (see child.h): everything the supervisor is told, in one place
 * (its argv is rootlesskit's own, of which it reads only the command). */
struct rk_marker {
	pid_t cmd;     /* the command's pid */
	pid_t ppid;    /* the parent pid we must see */
	bool debug;    /* --debug */
	bool reaper;   /* --reaper resolved: the command gets a process group of its own */
	int cmd_index; /* argv[cmd_index] is the command's first word */
};

#define RK_MARKER_DEBUG	 1u
#define RK_MARKER_REAPER 2u

/* Parses "<pid>,<ppid>,<flags>,<index>" (flags: RK_MARKER_*). Returns 0 or -EINVAL. */
int rk_supervisor_parse_marker(const char *value, struct rk_marker *ret);

/* Runs the supervisor; marker is the value of RK_CHILD_ENV. Returns the exit code. */
int rk_supervisor_main(int argc, char **argv, const char *marker);

#endif
