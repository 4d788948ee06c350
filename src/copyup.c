/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --copy-up=DIR with the tmpfs+symlink mode
 *
 * DIR becomes a writable tmpfs whose entries are symbolic links into a hidden mount of the
 * original, DIR/.roNNNN, so that deleting or replacing an entry only changes this mount
 * namespace while writing through a link still reaches the original. Symbolic links of DIR
 * are copied verbatim; every other entry becomes a relative link into .roNNNN.
 *
 * Upstream mounts the original at DIR/.roNNNN itself, one level deeper than it was, so a
 * relative link inside a copied sub-directory that climbs out of DIR resolves one level
 * too deep (upstream issue #225: /etc/ssl/cert.pem -> ../../var/lib/... ends in
 * /etc/var/lib). Here .roNNNN mirrors the path from / instead: the original DIR is mounted
 * at DIR/.roNNNN/<DIR without its leading slash>, and every other entry of each ancestor
 * of DIR is an absolute link to the real one, so climbing out of DIR lands where it did on
 * the host. Those links are never followed by tools that walk DIR.
 *
 * The original is grabbed with open_tree(OPEN_TREE_CLONE|AT_RECURSIVE) before the tmpfs
 * covers it; kernels before 5.2 get upstream's temporary bind directory in /tmp instead.
 */
#include "src/copyup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/lib/util.h"
#include "src/mount.h"

int rk_copyup_check(const char *dir, struct rk_error *err)
{
	rk_auto_free char *clean = NULL;
	struct stat st;

	if (dir[0] != '/')
		return rk_error_set(err, EINVAL, "copy-up: %s is not an absolute path", dir);
	clean = rk_path_clean(dir);
	if (strcmp(clean, "/tmp") == 0)
		return rk_error_set(err, EINVAL, "/tmp cannot be copied up");
	if (strcmp(clean, "/") == 0)
		return rk_error_set(err, EINVAL, "/ cannot be copied up");
	if (stat(clean, &st) < 0)
		return rk_error_errno(err, errno, "copy-up: %s", clean);
	if (!S_ISDIR(st.st_mode))
		return rk_error_set(err, ENOTDIR, "copy-up: %s is not a directory", clean);
	return 0;
}

/* Creates DIR/.ro<digits> (upstream's name shape) and returns its name. */
static int make_ro_dir(int dir_fd, char *name, size_t size)
{
	for (int tries = 0; tries < 100; tries++) {
		uint32_t r = 0;
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint32_t)getpid() * 2654435761u + (uint32_t)tries;
		snprintf(name, size, ".ro%u", r);
		if (mkdirat(dir_fd, name, 0755) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Links every entry of the real directory `real` except `skip` from dir_fd: NAME -> real/NAME. */
static int link_siblings(int dir_fd, const char *real, const char *skip)
{
	rk_auto_close int fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d)
		return -errno;
	rk_steal_fd(&fd); /* owned by d now */
	while ((de = readdir(d))) {
		rk_auto_free char *target = NULL;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, skip) == 0)
			continue;
		target = rk_xasprintf("%s/%s", strcmp(real, "/") == 0 ? "" : real, de->d_name);
		if (symlinkat(target, dir_fd, de->d_name) < 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
	}
	closedir(d);
	return r;
}

/* Builds ro/<components of dir> inside the tmpfs, with the siblings of each component as
 * links to the real ones, and returns an fd of the last (empty) directory, the mount point
 * for the original. */
static int build_mirror(int ro_fd, const char *dir, struct rk_error *err)
{
	rk_auto_free char *copy = rk_xstrdup(dir + 1);
	rk_auto_free char *real = rk_xstrdup("/");
	int cur = dup(ro_fd);
	char *save = NULL;

	if (cur < 0)
		return rk_error_errno(err, errno, "copy-up %s: dup", dir);
	for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		int next, r;
		char *up;

		r = link_siblings(cur, real, comp);
		if (r < 0) {
			close(cur);
			return rk_error_errno(err, -r, "copy-up %s: mirroring %s", dir, real);
		}
		if (mkdirat(cur, comp, 0755) < 0 ||
		    (next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			r = errno;
			close(cur);
			return rk_error_errno(err, r, "copy-up %s: creating %s", dir, comp);
		}
		close(cur);
		cur = next;
		up = rk_xasprintf("%s%s%s", real, strcmp(real, "/") == 0 ? "" : "/", comp);
		free(real);
		real = up;
	}
	return cur;
}

/* Creates the links of dir (the tmpfs at dir_fd) to the entries of the original. */
static int link_entries(int dir_fd, int orig_fd, const char *ro_path, const char *dir,
			struct rk_error *err)
{
	struct dirent **list = NULL;
	rk_auto_free char *proc = rk_xasprintf("/proc/self/fd/%d", orig_fd);
	int n = scandir(proc, &list, NULL, alphasort), r = 0;

	if (n < 0)
		return rk_error_errno(err, errno, "copy-up %s: reading the original", dir);
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		char target[4096];
		ssize_t len;

		if (r < 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		/* e.g. an /etc/mtab that something created on the new tmpfs (upstream #45) */
		if (unlinkat(dir_fd, name, 0) < 0 && errno == EISDIR)
			unlinkat(dir_fd, name, AT_REMOVEDIR);
		len = readlinkat(orig_fd, name, target, sizeof(target) - 1);
		if (len >= 0) {
			target[len] = '\0';
		} else if (errno == EINVAL) {
			snprintf(target, sizeof(target), "%s/%s", ro_path, name);
		} else {
			r = rk_error_errno(err, errno, "copy-up %s: reading %s", dir, name);
			continue;
		}
		if (symlinkat(target, dir_fd, name) < 0)
			r = rk_error_errno(err, errno, "copy-up %s: linking %s", dir, name);
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return r;
}

/* Grabs the original tree of dir as a detached mount (*ret_fd), or on kernels without
 * open_tree binds it to a temporary directory (*ret_tmp; *ret_fd is -1 then). Returns 0 or
 * a negative errno with err set. */
static int grab_original(const char *dir, int *ret_fd, char **ret_tmp, struct rk_error *err)
{
	int fd = rk_mount_clone_tree(dir);
	char tmpl[] = "/tmp/rootlesskit-bXXXXXX";

	*ret_fd = -1;
	*ret_tmp = NULL;
	if (fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	if (fd != -ENOSYS)
		return rk_error_errno(err, -fd, "copy-up %s: open_tree", dir);
	if (!mkdtemp(tmpl))
		return rk_error_errno(err, errno, "copy-up %s: mkdtemp %s", dir, tmpl);
	if (mount(dir, tmpl, NULL, MS_BIND | MS_REC, NULL) < 0) {
		int e = errno;
		rmdir(tmpl);
		return rk_error_errno(err, e, "copy-up %s: bind to %s", dir, tmpl);
	}
	*ret_tmp = rk_xstrdup(tmpl);
	return 0;
}

/* Puts the grabbed original at the mount point `where` (an fd of a directory). */
static int place_original(int tree_fd, const char *tmp, int where, const char *dir,
			  struct rk_error *err)
{
	rk_auto_free char *target = rk_xasprintf("/proc/self/fd/%d", where);
	int r;

	if (tmp) {
		if (mount(tmp, target, NULL, MS_MOVE, NULL) < 0)
			return rk_error_errno(err, errno, "copy-up %s: moving %s", dir, tmp);
		rmdir(tmp);
		return 0;
	}
	r = rk_mount_attach_tree(tree_fd, where, "");
	if (r < 0)
		return rk_error_errno(err, -r, "copy-up %s: move_mount", dir);
	return 0;
}

static int copy_up_one(const char *raw, struct rk_error *err)
{
	rk_auto_free char *dir = rk_path_clean(raw);
	rk_auto_free char *tmp = NULL;
	rk_auto_free char *ro_path = NULL;
	rk_auto_close int tree = -1;
	rk_auto_close int dir_fd = -1;
	rk_auto_close int ro_fd = -1;
	rk_auto_close int where = -1;
	rk_auto_close int orig = -1;
	char ro[32];
	int r;

	r = rk_copyup_check(dir, err);
	if (r < 0)
		return r;
	r = grab_original(dir, &tree, &tmp, err);
	if (r < 0)
		return r;
	if (mount("tmpfs", dir, "tmpfs", 0, NULL) < 0)
		return rk_error_errno(err, errno, "copy-up %s: mount tmpfs", dir);
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return rk_error_errno(err, errno, "copy-up %s: open", dir);
	r = make_ro_dir(dir_fd, ro, sizeof(ro));
	if (r < 0)
		return rk_error_errno(err, -r, "copy-up %s: creating .ro directory", dir);
	ro_fd = openat(dir_fd, ro, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ro_fd < 0)
		return rk_error_errno(err, errno, "copy-up %s: open %s", dir, ro);
	where = build_mirror(ro_fd, dir, err);
	if (where < 0)
		return where;
	r = place_original(tree, tmp, where, dir, err);
	if (r < 0)
		return r;
	/* `where` is the directory under the new mount; reopen to see the original */
	ro_path = rk_xasprintf("%s%s", ro, dir);
	orig = openat(dir_fd, ro_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (orig < 0)
		return rk_error_errno(err, errno, "copy-up %s: open %s", dir, ro_path);
	return link_entries(dir_fd, orig, ro_path, dir, err);
}

int rk_copyup_apply(char *const *dirs, struct rk_error *err)
{
	for (size_t i = 0; dirs && dirs[i]; i++) {
		int r = copy_up_one(dirs[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}
