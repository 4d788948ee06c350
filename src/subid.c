/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Subordinate ids
 *
 * Three sources, as upstream: "static" parses /etc/subuid and /etc/subgid; "dynamic" asks
 * libsubid, which follows the "subid:" line of nsswitch.conf (SSSD, FreeIPA...) and falls
 * back to the same files; "auto" tries dynamic and falls back to static when it fails or
 * finds nothing. libsubid drags in PAM, audit and SELinux libraries, so it is dlopen()ed
 * only when asked for; with "auto" and no "subid:" NSS database configured, libsubid would
 * only read the very files the static parser reads, so auto goes straight to them.
 */
#include "src/subid.h"

#include <dlfcn.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/lib/log.h"
#include "src/lib/util.h"

#define SUBID_DOC_URL "https://rootlesscontaine.rs/getting-started/common/subuid/"

void rk_subid_list_free(struct rk_subid_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void rk_subid_list_append(struct rk_subid_list *l, uint32_t start, uint32_t count)
{
	l->v = rk_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = (struct rk_subid_range){ start, count };
}

int rk_subid_user_current(struct rk_subid_user *user, struct rk_error *err)
{
	char buf[4096];
	struct passwd pw, *res = NULL;
	const char *env_user;

	user->uid = getuid();
	if (getpwuid_r(user->uid, &pw, buf, sizeof(buf), &res) == 0 && res) {
		snprintf(user->name, sizeof(user->name), "%s", pw.pw_name);
		user->gid = pw.pw_gid;
		return 0;
	}
	env_user = getenv("USER");
	if (!env_user || !*env_user)
		return rk_error_set(
			err, ENOENT,
			"user %u has no entry in the passwd database and $USER is not set",
			(unsigned)user->uid);
	snprintf(user->name, sizeof(user->name), "%s", env_user);
	user->gid = getgid();
	return 0;
}

/* Parses one id field: a decimal number below 2^32. */
static int parse_id(const char *s, uint32_t *ret)
{
	uint64_t v;
	int r = rk_parse_u64(s, &v);

	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

int rk_subid_parse(const char *text, const char *path, const struct rk_subid_user *user,
		   struct rk_subid_list *out, struct rk_error *err)
{
	rk_auto_free char *copy = rk_xstrdup(text);
	char uidstr[16];
	unsigned lineno = 0;

	snprintf(uidstr, sizeof(uidstr), "%u", (unsigned)user->uid);
	for (char *cur = copy; cur; lineno++) {
		char *fields[4] = { NULL }, *line = cur, *s;
		uint32_t start, count;
		int nf = 0;

		cur = strchr(cur, '\n');
		if (cur)
			*cur++ = '\0';
		line = rk_strip(line);
		if (!*line || *line == '#')
			continue;
		/* split on every ':' (empty fields count), remembering at most 4 */
		for (s = line;; nf++) {
			char *colon = strchr(s, ':');
			if (nf < 4)
				fields[nf] = s;
			if (!colon) {
				nf++;
				break;
			}
			*colon = '\0';
			s = colon + 1;
		}
		if (!fields[0] ||
		    (strcmp(fields[0], user->name) != 0 && strcmp(fields[0], uidstr) != 0))
			continue; /* another user's line, well-formed or not */
		if (nf != 3)
			return rk_error_set(
				err, EINVAL,
				"%s:%u: malformed line for user %s: want NAME:START:COUNT", path,
				lineno + 1, user->name);
		if (parse_id(rk_strip(fields[1]), &start) < 0 ||
		    parse_id(rk_strip(fields[2]), &count) < 0)
			return rk_error_set(
				err, EINVAL,
				"%s:%u: START and COUNT of user %s must be decimal numbers "
				"below 4294967296",
				path, lineno + 1, user->name);
		if (count == 0) {
			rk_debug("%s:%u: ignoring a range of 0 ids", path, lineno + 1);
			continue;
		}
		if ((uint64_t)start + count > (uint64_t)UINT32_MAX)
			return rk_error_set(
				err, EINVAL,
				"%s:%u: range %u+%u of user %s goes past the largest id "
				"4294967294",
				path, lineno + 1, start, count, user->name);
		rk_subid_list_append(out, start, count);
	}
	return 0;
}

/* Appends to *out the parts of [s, e) not covered by blocked[0..nb). */
static void subtract(uint64_t s, uint64_t e, const struct rk_subid_range *blocked, size_t nb,
		     struct rk_subid_list *out)
{
	for (size_t i = 0; i < nb && s < e; i++) {
		uint64_t bs = blocked[i].start, be = bs + blocked[i].count;
		if (be <= s || bs >= e)
			continue;
		if (bs > s)
			subtract(s, bs, blocked + i + 1, nb - i - 1, out);
		s = be > s ? be : s;
	}
	if (s < e)
		rk_subid_list_append(out, (uint32_t)s, (uint32_t)(e - s));
}

int rk_subid_normalize(struct rk_subid_list *l, uint32_t own_id, struct rk_error *err)
{
	struct rk_subid_list blocked = { 0 }, out = { 0 };

	rk_subid_list_append(&blocked, own_id, 1);
	for (size_t i = 0; i < l->n; i++) {
		size_t before = out.n;
		subtract(l->v[i].start, (uint64_t)l->v[i].start + l->v[i].count, blocked.v,
			 blocked.n, &out);
		for (size_t k = before; k < out.n; k++)
			rk_subid_list_append(&blocked, out.v[k].start, out.v[k].count);
	}
	rk_subid_list_free(&blocked);
	rk_subid_list_free(l);
	*l = out;
	if (l->n > RK_SUBID_MAX_RANGES)
		return rk_error_set(err, E2BIG,
				    "%zu subordinate id ranges, but the kernel maps at most %d",
				    l->n, RK_SUBID_MAX_RANGES);
	return 0;
}

int rk_subid_nss_configured(const char *nsswitch_path)
{
	rk_auto_free char *text = NULL;
	char *line, *save = NULL;

	if (rk_read_file(nsswitch_path, &text, 1 << 20) < 0)
		return 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line = rk_strip(line);
		if (strncmp(line, "subid", 5) == 0 && rk_strip(line + 5)[0] == ':')
			return 1;
	}
	return 0;
}

bool rk_subid_range_valid(unsigned long start, unsigned long count)
{
	/* start + count computed in no type: it could wrap in any */
	return count > 0 && start <= UINT32_MAX && count <= UINT32_MAX - start;
}

/* libsubid's struct subid_range uses unsigned long fields. */
struct rk_subid_range_lib {
	unsigned long start;
	unsigned long count;
};

static int dynamic_lookup(enum rk_subid_kind kind, const struct rk_subid_user *user,
			  struct rk_subid_list *out, struct rk_error *err)
{
	static void *lib;
	int (*get)(const char *, struct rk_subid_range_lib **);
	const char *owners[2];
	char uidstr[16];
	int failures = 0;

	if (!lib) {
		lib = dlopen("libsubid.so.4", RTLD_NOW | RTLD_LOCAL);
		if (!lib)
			return rk_error_set(err, ENOENT,
					    "subid-source dynamic needs libsubid (Debian package "
					    "libsubid4): %s",
					    dlerror());
		{
			bool (*init)(const char *, FILE *) =
				(bool (*)(const char *, FILE *))dlsym(lib, "subid_init");
			if (init)
				init("rootlesskit", NULL); /* NULL: its messages go to /dev/null */
		}
	}
	get = (int (*)(const char *, struct rk_subid_range_lib **))dlsym(
		lib, kind == RK_SUBID_UID ? "subid_get_uid_ranges" : "subid_get_gid_ranges");
	if (!get)
		return rk_error_set(err, ENOSYS, "libsubid lacks %s",
				    kind == RK_SUBID_UID ? "subid_get_uid_ranges"
							 : "subid_get_gid_ranges");
	snprintf(uidstr, sizeof(uidstr), "%u", (unsigned)user->uid);
	owners[0] = user->name;
	owners[1] = uidstr;
	/* by name, then by uid; an exact duplicate is dropped later by normalisation */
	for (size_t k = 0; k < 2; k++) {
		struct rk_subid_range_lib *r = NULL;
		int n = get(owners[k], &r);
		rk_debug("subid-source:dynamic: libsubid %s(%s) = %d",
			 kind == RK_SUBID_UID ? "uid" : "gid", owners[k], n);
		if (n < 0) {
			failures++;
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (!rk_subid_range_valid(r[i].start, r[i].count)) {
				rk_error_set(err, ERANGE,
					     "libsubid returned an invalid range %lu+%lu for %s",
					     r[i].start, r[i].count, owners[k]);
				free(r);
				return -ERANGE;
			}
			rk_subid_list_append(out, (uint32_t)r[i].start, (uint32_t)r[i].count);
		}
		free(r);
	}
	if (failures == 2)
		return rk_error_set(err, EIO, "libsubid could not look up %s or %s", user->name,
				    uidstr);
	return 0;
}

static int static_lookup(enum rk_subid_kind kind, const struct rk_subid_user *user,
			 const char *path, struct rk_subid_list *out, struct rk_error *err)
{
	rk_auto_free char *text = NULL;
	ssize_t n = rk_read_file(path, &text, 16 << 20);

	(void)kind;
	if (n == -ENOENT)
		return 0; /* reported as "no ranges" with the hint */
	if (n < 0)
		return rk_error_errno(err, (int)-n, "Cannot read %s", path);
	return rk_subid_parse(text, path, user, out, err);
}

int rk_subid_lookup(enum rk_subid_source source, enum rk_subid_kind kind,
		    const struct rk_subid_user *user, const char *static_path,
		    struct rk_subid_list *out, struct rk_error *err)
{
	const char *what = kind == RK_SUBID_UID ? "subuid" : "subgid";
	uint32_t own = kind == RK_SUBID_UID ? (uint32_t)user->uid : (uint32_t)user->gid;
	struct rk_error derr = { 0 };
	int r;

	if (source == RK_SUBID_AUTO && !rk_subid_nss_configured("/etc/nsswitch.conf")) {
		rk_debug("subid-source:auto: no subid NSS database configured, reading %s",
			 static_path);
		source = RK_SUBID_STATIC;
	}
	if (source != RK_SUBID_STATIC) {
		r = dynamic_lookup(kind, user, out, &derr);
		if (r < 0 && source == RK_SUBID_DYNAMIC) {
			memcpy(err, &derr, sizeof(derr));
			return rk_error_prefix(err, "failed to compute uid/gid map");
		}
		if (r == 0 && out->n > 0)
			source = RK_SUBID_DYNAMIC;
		else if (source == RK_SUBID_AUTO) {
			rk_debug("subid-source:auto: dynamic source gave %s, falling back to %s",
				 r < 0 ? derr.msg : "nothing", static_path);
			rk_subid_list_free(out);
			source = RK_SUBID_STATIC;
		}
	}
	if (source == RK_SUBID_STATIC) {
		r = static_lookup(kind, user, static_path, out, err);
		if (r < 0)
			return rk_error_prefix(err, "failed to compute uid/gid map");
	}
	r = rk_subid_normalize(out, own, err);
	if (r < 0)
		return rk_error_prefix(err, "failed to compute uid/gid map: %s of user %s", what,
				       user->name);
	if (out->n == 0)
		return rk_error_set(
			err, ENOENT,
			"failed to compute uid/gid map: No %s ranges found for user %u "
			"(\"%s\"): as root, add a line such as \"%s:100000:65536\" to %s, "
			"e.g. with \"usermod --add-sub%cids 100000-165535 %s\" (see %s)",
			what, (unsigned)user->uid, user->name, user->name,
			source == RK_SUBID_STATIC ? static_path : "the subid database",
			kind == RK_SUBID_UID ? 'u' : 'g', user->name, SUBID_DOC_URL);
	return 0;
}
