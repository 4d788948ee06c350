/* SPDX-License-Identifier: Apache-2.0 */
/* The re-executed child that supervises the command (see supervisor.c). */
#ifndef RK_SUPERVISOR_H
#define RK_SUPERVISOR_H

#include <sys/types.h>

/* Parses the value of RK_CHILD_ENV, "<pid>,<ppid>[,<fd>]": fd is the socket-supply channel
 * of the builtin port driver (-1 in *ret_fd when absent). Returns 0 or -EINVAL. */
int rk_supervisor_parse_marker(const char *value, pid_t *ret_cmd, pid_t *ret_ppid, int *ret_fd);

/* Runs the supervisor; marker is the value of RK_CHILD_ENV. Returns the exit code. */
int rk_supervisor_main(int argc, char **argv, const char *marker);

#endif
