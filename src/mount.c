/* SPDX-License-Identifier: Apache-2.0 */
#include "src/mount.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "src/lib/log.h"
#include "src/lib/util.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

int rk_mount_clone_tree(const char *path)
{
	long fd =
		syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | AT_RECURSIVE | O_CLOEXEC);
	return fd < 0 ? -errno : (int)fd;
}

int rk_mount_attach_tree(int tree_fd, int dir_fd, const char *path)
{
	unsigned flags = MOVE_MOUNT_F_EMPTY_PATH | (*path ? 0 : MOVE_MOUNT_T_EMPTY_PATH);

	if (syscall(SYS_move_mount, tree_fd, "", dir_fd, path, flags) < 0)
		return -errno;
	return 0;
}

unsigned long rk_mount_propagation_flags(enum rk_propagation p)
{
	switch (p) {
	case RK_PROP_PRIVATE:
		return MS_PRIVATE;
	case RK_PROP_RSLAVE:
		return MS_REC | MS_SLAVE;
	case RK_PROP_SLAVE:
		return MS_SLAVE;
	case RK_PROP_RSHARED:
		return MS_REC | MS_SHARED;
	case RK_PROP_SHARED:
		return MS_SHARED;
	case RK_PROP_RPRIVATE:
		break;
	}
	return MS_REC | MS_PRIVATE;
}

int rk_mount_set_propagation(enum rk_propagation p, const char *name, struct rk_error *err)
{
	if (mount("none", "/", NULL, rk_mount_propagation_flags(p), NULL) < 0)
		return rk_error_errno(err, errno, "failed to share mount point: / (propagation %s)",
				      name);
	return 0;
}

int rk_mountinfo_split(char *line, struct rk_mountinfo_entry *e)
{
	/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER; paths
	 * have their spaces escaped as \040, so a space always separates fields */
	char *field[6], *p = line, *dash, *end;

	for (int i = 0; i < 6; i++) {
		field[i] = p;
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		*p++ = '\0';
	}
	if (strncmp(p, "- ", 2) == 0) {
		e->optional = "";
		dash = p;
	} else {
		dash = strstr(p, " - ");
		if (!dash)
			return -EINVAL;
		*dash++ = '\0';
		e->optional = p;
	}
	e->fstype = dash + 2;
	end = strpbrk(dash + 2, " \n");
	if (end)
		*end = '\0';
	e->mountpoint = field[4];
	return 0;
}

int rk_mountinfo_foreach(const char *path, int (*fn)(const struct rk_mountinfo_entry *e, void *arg),
			 void *arg)
{
	rk_auto_fclose FILE *f = fopen(path, "re");
	rk_auto_free char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		struct rk_mountinfo_entry e;
		int r;
		if (rk_mountinfo_split(line, &e) < 0)
			continue;
		r = fn(&e, arg);
		if (r)
			return r;
	}
	return 0;
}

struct root_optional {
	char *buf;
	size_t size;
};

static int root_optional_fn(const struct rk_mountinfo_entry *e, void *arg)
{
	struct root_optional *ro = arg;

	if (strcmp(e->mountpoint, "/") != 0)
		return 0;
	snprintf(ro->buf, ro->size, "%s", e->optional);
	return 1;
}

int rk_mount_root_optional(char *buf, size_t size)
{
	struct root_optional ro = { buf, size };
	int r = rk_mountinfo_foreach("/proc/self/mountinfo", root_optional_fn, &ro);

	return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

/* A fresh sysfs on /sys; on failure retry read-only, then warn and keep the old one. */
static void mount_sysfs(void)
{
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
		return;
	rk_warn("failed to mount sysfs: %s, retrying read-only", strerror(errno));
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) ==
	    0)
		return;
	rk_warn("failed to mount sysfs (read-only): %s; /sys shows the host's network",
		strerror(errno));
}

int rk_mount_sys(bool fresh_sysfs, bool cgroup2, struct rk_error *err)
{
	const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	rk_auto_close int saved = -1;
	int r;

	if (!fresh_sysfs && !cgroup2)
		return 0;
	if (fresh_sysfs && !cgroup2) {
		/* the new sysfs hides /sys/fs/cgroup: keep the old tree to put back */
		saved = rk_mount_clone_tree("/sys/fs/cgroup");
		if (saved < 0)
			return rk_error_errno(err, -saved, "open_tree /sys/fs/cgroup");
	}
	if (fresh_sysfs) {
		mount_sysfs();
	} else if (mount("tmpfs", "/sys/fs/cgroup", "tmpfs", flags, "mode=0755") < 0) {
		/* over the old hierarchies, so that mounting cgroup2 cannot hit EBUSY */
		return rk_error_errno(err, errno, "mount tmpfs on /sys/fs/cgroup");
	}
	if (cgroup2) {
		if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", flags, NULL) < 0)
			return rk_error_errno(err, errno, "mount cgroup2 on /sys/fs/cgroup");
		return 0;
	}
	r = rk_mount_attach_tree(saved, AT_FDCWD, "/sys/fs/cgroup");
	if (r < 0)
		return rk_error_errno(err, -r, "putting /sys/fs/cgroup back");
	return 0;
}

/* Non-private propagation needs the host's "/" to be shared. */
void rk_mount_warn_propagation(const char *name)
{
	char optional[256];

	if (strstr(name, "private"))
		return;
	if (rk_mount_root_optional(optional, sizeof(optional)) < 0) {
		rk_warn("Failed to parse mountinfo");
		return;
	}
	if (!strstr(optional, "shared"))
		rk_warn("The host root filesystem is mounted as \"%s\". Setting child propagation "
			"to "
			"\"%s\" is not supported.",
			optional, name);
}
