/* SPDX-License-Identifier: Apache-2.0 */
/* Helper processes of the network drivers (slirp4netns, ...): started with a parent-death
 * signal, so that none outlives rootlesskit. */
#ifndef RK_HELPER_H
#define RK_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "src/lib/sig.h"

/* Starts path with argv: fd 3 is extra_fd (when >= 0), stdout and stderr are ours when
 * show_output (--debug), else /dev/null; no signal is blocked; SIGKILL when we die.
 * Returns the pid or -errno. */
/* How long a --help or --version probe may take, output and exit. */
#define PROBE_MS 10000

pid_t rk_helper_spawn(const char *path, char *const argv[], int extra_fd, bool show_output);

/* Runs path with argv and collects its combined output (at most size - 1 bytes kept,
 * NUL-terminated). It must have exited within timeout_ms in all (one that dribbles output,
 * or closes its output and goes on, is no exception), else it is killed and -ETIMEDOUT
 * returned. With cancel, a wait that cancel stops kills it and returns -EINTR. Returns its
 * exit status (0..255, 256 + signal when killed) or -errno. */
int rk_helper_output(const char *path, char *const argv[], char *buf, size_t size, int timeout_ms,
		     const struct rk_cancel *cancel);

/* Waits up to ms for pid to exit, and reaps it (*status, when not NULL). Returns true if it
 * did. */
bool rk_helper_reap_within(pid_t pid, int ms, int *status);

#endif
