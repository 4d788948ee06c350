/* SPDX-License-Identifier: Apache-2.0 */
#include "src/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/lib/log.h"
#include "src/lib/util.h"
#include "src/mount.h"

struct find_v2 {
	char *buf;
	size_t size;
};

static int find_v2_fn(const struct rk_mountinfo_entry *e, void *arg)
{
	struct find_v2 *f = arg;

	if (strcmp(e->fstype, "cgroup2") != 0)
		return 0;
	snprintf(f->buf, f->size, "%s", e->mountpoint);
	return 1;
}

int rk_cgroup_find_v2(const char *mountinfo_path, char *buf, size_t size)
{
	struct find_v2 f = { buf, size };
	int r = rk_mountinfo_foreach(mountinfo_path, find_v2_fn, &f);

	return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

int rk_cgroup_own_group(const char *cgroup_path, char *buf, size_t size)
{
	rk_auto_fclose FILE *f = fopen(cgroup_path, "re");
	rk_auto_free char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "0::", 3) == 0) {
			snprintf(buf, size, "%s", rk_strip(line + 3));
			return 0;
		}
	}
	return -ENOENT;
}

static int write_str(const char *path, const char *s)
{
	rk_auto_close int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return rk_write_all(fd, s, strlen(s));
}

/* Moves every process listed in from/cgroup.procs into to/cgroup.procs; failures warn. */
static int move_procs(const char *from, const char *to, const char *to_name, struct rk_error *err)
{
	rk_auto_free char *src = rk_xasprintf("%s/cgroup.procs", from);
	rk_auto_free char *dst = rk_xasprintf("%s/cgroup.procs", to);
	rk_auto_free char *procs = NULL;
	ssize_t n = rk_read_file(src, &procs, 1 << 20);
	char *save = NULL;

	if (n < 0)
		return rk_error_errno(err, (int)-n, "evacuate-cgroup2: reading %s", src);
	for (char *pid = strtok_r(procs, "\n", &save); pid; pid = strtok_r(NULL, "\n", &save)) {
		int r;
		if (strcmp(pid, "0") == 0)
			continue;
		r = write_str(dst, pid);
		if (r < 0)
			rk_warn("failed to move process %s to cgroup %s: %s", pid, to_name,
				strerror(-r));
	}
	return 0;
}

/* Enables every controller of group for its children; failures warn. */
static int enable_controllers(const char *group, struct rk_error *err)
{
	rk_auto_free char *src = rk_xasprintf("%s/cgroup.controllers", group);
	rk_auto_free char *dst = rk_xasprintf("%s/cgroup.subtree_control", group);
	rk_auto_free char *controllers = NULL;
	ssize_t n = rk_read_file(src, &controllers, 1 << 16);
	char *save = NULL;

	if (n < 0)
		return rk_error_errno(err, (int)-n, "evacuate-cgroup2: reading %s", src);
	for (char *c = strtok_r(controllers, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
		rk_auto_free char *plus = rk_xasprintf("+%s", c);
		int r = write_str(dst, plus);
		rk_debug("enabling controller %s", c);
		if (r < 0)
			rk_warn("failed to enable controller %s: %s", c, strerror(-r));
	}
	return 0;
}

int rk_cgroup_evacuate(const char *name, struct rk_error *err)
{
	char mnt[4096], group[4096];
	rk_auto_free char *joined = NULL;
	rk_auto_free char *old_path = NULL;
	rk_auto_free char *new_path = NULL;
	rk_auto_free char *new_name = NULL;
	int r;

	if (rk_cgroup_find_v2("/proc/self/mountinfo", mnt, sizeof(mnt)) < 0) {
		rk_warn("cgroup2 is not mounted. cgroup2 evacuation is discarded.");
		return 0;
	}
	if (rk_cgroup_own_group("/proc/self/cgroup", group, sizeof(group)) < 0) {
		rk_warn("process is not running with cgroup2. cgroup2 evacuation is discarded.");
		return 0;
	}
	joined = rk_xasprintf("%s/%s", mnt, group);
	old_path = rk_path_clean(joined);
	new_path = rk_xasprintf("%s/%s", old_path, name);
	new_name = rk_xasprintf("%s/%s", strcmp(group, "/") == 0 ? "" : group, name);
	if (mkdir(new_path, 0755) < 0 && errno != EEXIST)
		return rk_error_errno(
			err, errno,
			"evacuate-cgroup2: mkdir %s (the cgroup %s must be delegated to "
			"this user, e.g. systemd's Delegate=yes)",
			new_path, group);
	r = move_procs(old_path, new_path, new_name, err);
	if (r == 0)
		r = enable_controllers(old_path, err);
	return r;
}
