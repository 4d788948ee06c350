/* SPDX-License-Identifier: Apache-2.0 */
#include "statedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"

#define CLEAR_MAX_DEPTH 128

char *rk_statedir_resolve(const char *raw, const char *cwd)
{
	if (!raw || !*raw)
		return NULL;
	return rk_path_abs(raw, cwd);
}

static int clear_at(int dir_fd, const char *keep, int depth)
{
	DIR *d;
	struct dirent *de;
	int fd, ret = 0;

	if (depth > CLEAR_MAX_DEPTH)
		return -ELOOP;
	fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		ret = -errno;
		close(fd);
		return ret;
	}
	while ((errno = 0, de = readdir(d))) {
		const char *name = de->d_name;
		int sub, r = 0;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (keep && strcmp(name, keep) == 0)
			continue;
		if (unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT)
			continue;
		if (errno != EISDIR) {
			r = -errno;
		} else {
			sub = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				r = -errno;
			} else {
				r = clear_at(sub, NULL, depth + 1);
				close(sub);
				if (r == 0 && unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 &&
				    errno != ENOENT)
					r = -errno;
			}
		}
		if (r < 0 && ret == 0)
			ret = r;
	}
	if (errno && ret == 0)
		ret = -errno;
	closedir(d);
	return ret;
}

int rk_statedir_clear(int dir_fd, const char *keep)
{
	return clear_at(dir_fd, keep, 0);
}

/* mkdir -p with mode for every created component. */
static int mkdir_p(const char *path, mode_t mode)
{
	rk_auto_free char *p = rk_xstrdup(path);

	for (char *s = p + 1;; s++) {
		bool end = *s == '\0';
		if (*s == '/' || end) {
			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST)
				return -errno;
			if (end)
				break;
			*s = '/';
		}
	}
	return 0;
}

/* True when the directory has an entry other than "lock". */
static int has_foreign_entries(int dir_fd, bool *ret_has_lock)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	bool other = false;
	DIR *d;

	*ret_has_lock = false;
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strcmp(de->d_name, "lock") == 0)
			*ret_has_lock = true;
		else
			other = true;
	}
	closedir(d);
	return other;
}

int rk_statedir_open(struct rk_statedir *sd, const char *path, struct rk_error *err)
{
	bool created = false, has_lock;
	int r;

	*sd = (struct rk_statedir){ .dir_fd = -1, .lock_fd = -1 };
	if (!path) {
		const char *tmp = getenv("TMPDIR");
		rk_auto_free char *tmpl =
			rk_xasprintf("%s/rootlesskitXXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(tmpl))
			return rk_error_errno(err, errno, "creating a state directory in %s",
					      tmp && *tmp ? tmp : "/tmp");
		sd->path = rk_steal_ptr(&tmpl);
		created = true;
	} else {
		struct stat st;
		sd->path = rk_xstrdup(path);
		created = lstat(path, &st) < 0;
		r = mkdir_p(path, 0755);
		if (r < 0) {
			rk_error_errno(err, -r, "cannot create state directory %s", path);
			goto fail;
		}
	}
	sd->dir_fd = open(sd->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sd->dir_fd < 0) {
		struct stat lst;
		int e = errno;
		/* O_NOFOLLOW|O_DIRECTORY on a symlink fails with ENOTDIR or ELOOP */
		bool is_link = (e == ELOOP || e == ENOTDIR) && lstat(sd->path, &lst) == 0 &&
			       S_ISLNK(lst.st_mode);
		errno = e;
		r = is_link ? rk_error_set(err, ELOOP,
					   "state directory %s is a symbolic link; give the "
					   "path it points to",
					   sd->path)
			    : rk_error_errno(err, errno, "cannot open state directory %s",
					     sd->path);
		goto fail;
	}
	/* keeps systemd-tmpfiles from cleaning the directory while we run */
	if (flock(sd->dir_fd, LOCK_SH) < 0)
		rk_warn("failed to lock %s (LOCK_SH): %s", sd->path, strerror(errno));
	r = has_foreign_entries(sd->dir_fd, &has_lock);
	if (r < 0) {
		rk_error_errno(err, -r, "cannot read state directory %s", sd->path);
		goto fail;
	}
	if (r > 0 && !has_lock) {
		r = rk_error_set(
			err, ENOTEMPTY,
			"refusing to use %s as the state directory: it is not empty and has "
			"no \"lock\" file, so it is not a previous RootlessKit state "
			"directory (everything in it would be deleted); give an empty or "
			"new directory",
			sd->path);
		goto fail;
	}
	sd->lock_fd = openat(sd->dir_fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (sd->lock_fd < 0) {
		r = rk_error_errno(err, errno, "cannot open %s/lock", sd->path);
		goto fail;
	}
	if (flock(sd->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK
			    ? rk_error_set(err, EBUSY,
					   "failed to lock %s/lock, another RootlessKit is running "
					   "with the same state directory?",
					   sd->path)
			    : rk_error_errno(err, errno, "failed to lock %s/lock", sd->path);
		close(sd->lock_fd);
		sd->lock_fd = -1;
		created = false; /* it belongs to the other instance */
		goto fail;
	}
	/* entries left by an instance that was killed (upstream issue #220) */
	r = rk_statedir_clear(sd->dir_fd, "lock");
	if (r < 0) {
		rk_error_errno(err, -r, "cannot clear stale entries of state directory %s",
			       sd->path);
		goto fail;
	}
	return 0;
fail:
	if (created && sd->dir_fd >= 0) {
		rk_statedir_remove(sd);
	} else {
		if (created)
			rmdir(sd->path);
		if (sd->dir_fd >= 0)
			close(sd->dir_fd);
		free(sd->path);
		*sd = (struct rk_statedir){ .dir_fd = -1, .lock_fd = -1 };
	}
	return r;
}

int rk_statedir_write_child_pid(struct rk_statedir *sd, pid_t pid, struct rk_error *err)
{
	char buf[24];
	int fd, n, r;

	n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	unlinkat(sd->dir_fd, ".child_pid.tmp", 0);
	fd = openat(sd->dir_fd, ".child_pid.tmp",
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0)
		return rk_error_errno(err, errno, "cannot create %s/child_pid", sd->path);
	r = rk_write_all(fd, buf, (size_t)n);
	/* umask may have removed bits of 0444 */
	if (r == 0 && fchmod(fd, 0444) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && renameat(sd->dir_fd, ".child_pid.tmp", sd->dir_fd, "child_pid") < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(sd->dir_fd, ".child_pid.tmp", 0);
		return rk_error_errno(err, -r, "cannot write %s/child_pid", sd->path);
	}
	return 0;
}

void rk_statedir_remove(struct rk_statedir *sd)
{
	int r;

	if (!sd->path)
		return; /* never opened */
	if (sd->dir_fd >= 0) {
		r = rk_statedir_clear(sd->dir_fd, NULL);
		if (r < 0)
			rk_warn("failed to clear state directory %s: %s", sd->path, strerror(-r));
		else if (rmdir(sd->path) < 0 && errno != ENOENT)
			rk_warn("failed to remove state directory %s: %s", sd->path,
				strerror(errno));
		close(sd->dir_fd);
	}
	if (sd->lock_fd >= 0)
		close(sd->lock_fd);
	free(sd->path);
	*sd = (struct rk_statedir){ .dir_fd = -1, .lock_fd = -1 };
}
