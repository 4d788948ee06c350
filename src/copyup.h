/* SPDX-License-Identifier: Apache-2.0 */
/* --copy-up with the tmpfs+symlink mode (see copyup.c). */
#ifndef RK_COPYUP_H
#define RK_COPYUP_H

#include "src/lib/error.h"

/* Checks that dir can be copied up: absolute, not / or /tmp, an existing directory.
 * Returns 0 or a negative errno with err set. */
int rk_copyup_check(const char *dir, struct rk_error *err);

/* Copies up every directory of the NULL-terminated list, in order, in the current mount
 * namespace (needs CAP_SYS_ADMIN there). Returns 0 or a negative errno with err set;
 * directories done before a failure stay copied up. */
int rk_copyup_apply(char *const *dirs, struct rk_error *err);

#endif
