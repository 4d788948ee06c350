/* SPDX-License-Identifier: Apache-2.0 */
/* Mount-namespace work done by the child before the command runs. */
#ifndef RK_MOUNT_H
#define RK_MOUNT_H

#include <stddef.h>

#include "error.h"
#include "options.h"

/* The mount(2) flags that set propagation p. */
unsigned long rk_mount_propagation_flags(enum rk_propagation p);

/* Applies propagation p to "/" of the current mount namespace. Returns 0 or -errno with
 * err set. */
int rk_mount_set_propagation(enum rk_propagation p, const char *name, struct rk_error *err);

/* Writes the optional fields of the "/" line of /proc/self/mountinfo ("shared:1",
 * "master:363", "" when private) into buf. Returns 0 or -errno. */
int rk_mount_root_optional(char *buf, size_t size);

#endif
