/* SPDX-License-Identifier: Apache-2.0 */
#include "mount.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

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

int rk_mount_root_optional(char *buf, size_t size)
{
	rk_auto_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	rk_auto_free char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		char *save = NULL, *tok = strtok_r(line, " \n", &save);
		size_t w = 0;
		int field = 1;

		for (; tok && field < 5; field++)
			tok = strtok_r(NULL, " \n", &save);
		if (!tok || strcmp(tok, "/") != 0)
			continue;
		strtok_r(NULL, " \n", &save); /* mount options */
		buf[0] = '\0';
		while ((tok = strtok_r(NULL, " \n", &save)) && strcmp(tok, "-") != 0)
			w += (size_t)snprintf(buf + w, w < size ? size - w : 0, "%s%s",
					      w ? " " : "", tok);
		return 0;
	}
	return -ENOENT;
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
