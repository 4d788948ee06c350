/* SPDX-License-Identifier: Apache-2.0 */
/* Subordinate id ranges: the static /etc/subuid and /etc/subgid parser, the dynamic source
 * (libsubid, which also consults NSS), and the "auto" choice between them. */
#ifndef RK_SUBID_H
#define RK_SUBID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "src/lib/error.h"

/* --subid-source */
enum rk_subid_source {
	RK_SUBID_AUTO,
	RK_SUBID_DYNAMIC,
	RK_SUBID_STATIC,
};

/* The kernel takes at most 340 extents per map; one of them is "0 <own id> 1". */
#define RK_SUBID_MAX_RANGES 339

struct rk_subid_range {
	uint32_t start;
	uint32_t count;
};

struct rk_subid_list {
	struct rk_subid_range *v;
	size_t n;
};

/* Who is asking: the real uid, its name and the primary gid from the passwd entry. */
struct rk_subid_user {
	uid_t uid;
	gid_t gid;
	char name[256];
};

enum rk_subid_kind {
	RK_SUBID_UID,
	RK_SUBID_GID,
};

void rk_subid_list_free(struct rk_subid_list *l);
void rk_subid_list_append(struct rk_subid_list *l, uint32_t start, uint32_t count);

/* Fills *user for the real uid: name and primary gid from the passwd database, falling back
 * to $USER and getgid() as upstream does. Returns 0 or -ENOENT with err set. */
int rk_subid_user_current(struct rk_subid_user *user, struct rk_error *err);

/* Parses the text of a subuid/subgid file (path is only used in messages) and appends the
 * ranges of user to *out, in file order. Lines are trimmed; blank and '#' lines are skipped;
 * a line matches when its first field is the user's name or decimal uid. A malformed line
 * of another user is skipped; a malformed line of this user is an error.
 * Returns 0 or -EINVAL with err set. */
int rk_subid_parse(const char *text, const char *path, const struct rk_subid_user *user,
		   struct rk_subid_list *out, struct rk_error *err);

/* Cleans a list of ranges in place: drops exact and partial overlaps with earlier ranges
 * and removes own_id (which is mapped at 0) by splitting its range. Order is kept.
 * Returns 0, or -E2BIG with err set when more than RK_SUBID_MAX_RANGES remain. */
int rk_subid_normalize(struct rk_subid_list *l, uint32_t own_id, struct rk_error *err);

/* Looks up the ranges of user from source (with file paths for the static source).
 * Returns 0 with at least one range in *out, or a negative errno with err set to a message
 * that tells the user what to add where. */
int rk_subid_lookup(enum rk_subid_source source, enum rk_subid_kind kind,
		    const struct rk_subid_user *user, const char *static_path,
		    struct rk_subid_list *out, struct rk_error *err);

/* True when /etc/nsswitch.conf (at path) configures a "subid:" database. */
int rk_subid_nss_configured(const char *nsswitch_path);

/* Whether a range libsubid returned is one of 32-bit ids: not empty, and start + count does
 * not pass 2^32 - 1. */
bool rk_subid_range_valid(unsigned long start, unsigned long count);

#endif
