/* SPDX-License-Identifier: Apache-2.0 */
/* uid/gid maps: the argument layout ("0 <id> 1" then the subordinate ranges, contiguous)
 * and running newuidmap and newgidmap on the child. */
#ifndef RK_IDMAP_H
#define RK_IDMAP_H

#include <stdbool.h>
#include <sys/types.h>

#include "src/lib/error.h"
#include "src/lib/sig.h"
#include "src/subid.h"

/* Builds the argv of a map helper: {helper, "<pid>", "0", "<own>", "1", "1", "<start1>",
 * "<count1>", "<1+count1>", ...}, NULL-terminated, owned by the caller (rk_strv_free).
 * Returns 0 or -EOVERFLOW with err set when the ranges add up to more ids than fit. */
int rk_idmap_build_argv(const char *helper, pid_t pid, uint32_t own_id,
			const struct rk_subid_list *ranges, char ***ret_argv, struct rk_error *err);

/* Writes the uid and gid maps of pid with newuidmap and newgidmap (from PATH), both at once.
 * cancel may be NULL. Returns 0, -EINTR when cancelled, or a negative errno with err set
 * to one message naming the failing helper, its output and what to fix. */
int rk_idmap_write(pid_t pid, const struct rk_subid_user *user, const struct rk_subid_list *uids,
		   const struct rk_subid_list *gids, const struct rk_cancel *cancel,
		   struct rk_error *err);

/* The whole job: looks up the current user and its subordinate uids and gids (source:
 * --subid-source) and writes the maps of pid. Returns 0, -EINTR when cancelled, or a
 * negative errno with err set ("failed to setup UID/GID map: ..."). */
int rk_idmap_setup(pid_t pid, enum rk_subid_source source, const struct rk_cancel *cancel,
		   struct rk_error *err);

#endif
