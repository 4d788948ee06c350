/* SPDX-License-Identifier: Apache-2.0 */
#include "src/statedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "src/lib/log.h"
#include "src/lib/util.h"

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

/* Closes what sd holds and forgets it. */
static void statedir_close(struct rk_statedir *sd)
{
	if (sd->dir_fd >= 0)
		close(sd->dir_fd);
	if (sd->lock_fd >= 0)
		close(sd->lock_fd);
	if (sd->parent_fd >= 0)
		close(sd->parent_fd);
	free(sd->path);
	free(sd->base);
	*sd = (struct rk_statedir){ .dir_fd = -1, .lock_fd = -1, .parent_fd = -1 };
}

/* Removes the (emptied) directory through its parent's descriptor, and only while the name
 * there is still the directory held since the start. */
static void remove_dir(const struct rk_statedir *sd)
{
	struct stat held, now;

	if (fstat(sd->dir_fd, &held) < 0 ||
	    fstatat(sd->parent_fd, sd->base, &now, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			rk_warn("failed to remove state directory %s: %s", sd->path,
				strerror(errno));
		return;
	}
	if (held.st_dev != now.st_dev || held.st_ino != now.st_ino) {
		rk_warn("state directory %s was replaced while rootlesskit ran; leaving it",
			sd->path);
		return;
	}
	if (unlinkat(sd->parent_fd, sd->base, AT_REMOVEDIR) < 0 && errno != ENOENT &&
	    errno != ENOTEMPTY)
		rk_warn("failed to remove state directory %s: %s", sd->path, strerror(errno));
}

/* mkdir -p of path's ancestors; each one created is 0700 (the umask may take more). */
static int mkdir_parents(const char *path)
{
	rk_auto_free char *p = rk_xstrdup(path);
	char *last = strrchr(p, '/');

	if (!last || last == p)
		return 0;
	*last = '\0';
	for (char *s = p + 1;; s++) {
		bool end = *s == '\0';
		if (*s == '/' || end) {
			*s = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
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

/* Opens the directory that holds path (its parent, as given: the user's own path may pass
 * through symbolic links) and sets sd->base to path's last component. */
static int open_parent(struct rk_statedir *sd, struct rk_error *err)
{
	rk_auto_free char *dir = rk_xstrdup(sd->path);
	char *slash = strrchr(dir, '/');

	sd->base = rk_xstrdup(slash && slash[1] ? slash + 1 : ".");
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	sd->parent_fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sd->parent_fd < 0)
		return rk_error_errno(err, errno, "cannot open the directory of %s", sd->path);
	return 0;
}

/* Opens sd->base in sd->parent_fd without following a symbolic link. */
static int open_dir(struct rk_statedir *sd, struct rk_error *err)
{
	struct stat lst;
	int e;

	sd->dir_fd =
		openat(sd->parent_fd, sd->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sd->dir_fd >= 0)
		return 0;
	e = errno;
	/* O_NOFOLLOW|O_DIRECTORY on a symlink fails with ENOTDIR or ELOOP */
	if ((e == ELOOP || e == ENOTDIR) &&
	    fstatat(sd->parent_fd, sd->base, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(lst.st_mode))
		return rk_error_set(err, ELOOP,
				    "state directory %s is a symbolic link; give the path it "
				    "points to",
				    sd->path);
	return rk_error_errno(err, e, "cannot open state directory %s", sd->path);
}

/* Anyone else who may write into the directory could replace api.sock or child_pid, or
 * plant a symbolic link where we write: it must be the user's and writable by no one else. */
static int check_owner(const struct rk_statedir *sd, struct rk_error *err)
{
	struct stat st;

	if (fstat(sd->dir_fd, &st) < 0)
		return rk_error_errno(err, errno, "cannot read state directory %s", sd->path);
	if (st.st_uid != geteuid())
		return rk_error_set(err, EPERM,
				    "refusing to use %s as the state directory: it belongs to "
				    "uid %u, not to you (uid %u); give a directory of your own",
				    sd->path, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return rk_error_set(err, EPERM,
				    "refusing to use %s as the state directory: it is writable "
				    "by others (mode %04o); run \"chmod go-w %s\" or give "
				    "another directory",
				    sd->path, (unsigned)(st.st_mode & 07777), sd->path);
	return 0;
}

int rk_statedir_open(struct rk_statedir *sd, const char *path, struct rk_error *err)
{
	bool has_lock;
	int r;

	*sd = (struct rk_statedir){ .dir_fd = -1, .lock_fd = -1, .parent_fd = -1 };
	if (!path) {
		const char *tmp = getenv("TMPDIR");
		rk_auto_free char *tmpl =
			rk_xasprintf("%s/rootlesskitXXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(tmpl))
			return rk_error_errno(err, errno, "creating a state directory in %s",
					      tmp && *tmp ? tmp : "/tmp");
		sd->path = rk_steal_ptr(&tmpl);
		sd->created_dir = true;
		r = open_parent(sd, err);
	} else {
		sd->path = rk_xstrdup(path);
		r = mkdir_parents(path);
		if (r < 0) {
			rk_error_errno(err, -r, "cannot create state directory %s", path);
			goto fail;
		}
		r = open_parent(sd, err);
		/* whether this run created it is mkdir's answer, not an earlier look */
		if (r == 0 && mkdirat(sd->parent_fd, sd->base, 0700) == 0)
			sd->created_dir = true;
		else if (r == 0 && errno != EEXIST)
			r = rk_error_errno(err, errno, "cannot create state directory %s", path);
	}
	if (r == 0)
		r = open_dir(sd, err);
	if (r == 0)
		r = check_owner(sd, err);
	if (r < 0)
		goto fail;
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
	sd->lock_fd = openat(sd->dir_fd, "lock", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     0600);
	if (sd->lock_fd >= 0)
		sd->created_lock = true;
	else if (errno == EEXIST)
		sd->lock_fd = openat(sd->dir_fd, "lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
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
	/* only what this run made goes: never what was found there */
	if (sd->created_lock)
		unlinkat(sd->dir_fd, "lock", 0);
	if (sd->created_dir && sd->dir_fd >= 0)
		remove_dir(sd);
	statedir_close(sd);
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
		else
			remove_dir(sd);
	}
	statedir_close(sd);
}

char *rk_statedir_fd_path(const struct rk_statedir *sd, const char *name)
{
	return rk_xasprintf("/proc/self/fd/%d/%s", sd->dir_fd, name);
}

int rk_statedir_reopen(const char *path, int held_fd, struct rk_error *err)
{
	struct stat a, b;
	/* the last component may be a link of a copy-up now: the identity check decides */
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return rk_error_errno(err, errno, "cannot open state directory %s", path);
	if (fstat(fd, &a) < 0 || fstat(held_fd, &b) < 0) {
		int e = errno;
		close(fd);
		return rk_error_errno(err, e, "cannot read state directory %s", path);
	}
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(fd);
		return rk_error_set(err, EXDEV,
				    "state directory %s was replaced while rootlesskit ran; "
				    "refusing to write there",
				    path);
	}
	return fd;
}
