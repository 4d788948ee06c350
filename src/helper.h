/* SPDX-License-Identifier: Apache-2.0 */
/* Helper processes of the network drivers (slirp4netns, ...): started with a parent-death
 * signal, so that none outlives rootlesskit. */
#ifndef RK_HELPER_H
#define RK_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Starts path with argv: fd 3 is extra_fd (when >= 0), stdout and stderr are ours when
 * show_output (--debug), else /dev/null; no signal is blocked; SIGKILL when we die.
 * Returns the pid or -errno. */
pid_t rk_helper_spawn(const char *path, char *const argv[], int extra_fd, bool show_output);

/* Runs path with argv and collects its combined output (at most size - 1 bytes kept,
 * NUL-terminated); one silent for timeout_ms is killed. Returns its exit status (0..255,
 * 256 + signal when killed) or -errno. */
int rk_helper_output(const char *path, char *const argv[], char *buf, size_t size, int timeout_ms);

#endif
