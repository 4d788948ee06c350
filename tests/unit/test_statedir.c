/* SPDX-License-Identifier: Apache-2.0 */
/* State directory rules: path resolution, adoption, lock, stale entries, the safety refusal,
 * child_pid, removal. Works in a private temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "src/lib/util.h"
#include "src/statedir.h"

static char base[] = "/tmp/rk-test-statedir-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
	int fd = open(base, O_RDONLY | O_DIRECTORY);

	(void)state;
	rk_statedir_clear(fd, NULL);
	close(fd);
	return rmdir(base);
}

static char *sub(const char *name)
{
	return rk_xasprintf("%s/%s", base, name);
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
}

/* The directory whose creation gets company at once (test_filled_meanwhile): mkdir and
 * mkdirat are interposed, so that another process' file lands between our mkdir and our
 * look at the directory's entries, every time. */
static const char *fill_on_mkdir;

static void plant(const char *dir)
{
	rk_auto_free char *file = rk_xasprintf("%s/precious", dir);
	int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0)
		close(fd);
}

int mkdir(const char *path, mode_t mode)
{
	int r = (int)syscall(SYS_mkdirat, AT_FDCWD, path, mode);

	if (r == 0 && fill_on_mkdir && strcmp(path, fill_on_mkdir) == 0)
		plant(path);
	return r;
}

int mkdirat(int dir_fd, const char *name, mode_t mode)
{
	int r = (int)syscall(SYS_mkdirat, dir_fd, name, mode);

	if (r == 0 && fill_on_mkdir) {
		const char *last = strrchr(fill_on_mkdir, '/');
		if (last && strcmp(name, last + 1) == 0)
			plant(fill_on_mkdir);
	}
	return r;
}

static void test_resolve(void **state)
{
	char *p;

	(void)state;
	assert_null(rk_statedir_resolve("", "/cwd"));
	assert_null(rk_statedir_resolve(NULL, "/cwd"));
	p = rk_statedir_resolve("s/./t/", "/cwd");
	assert_string_equal(p, "/cwd/s/t");
	free(p);
}

static void test_create_nested_and_remove(void **state)
{
	rk_auto_free char *path = sub("a/b/state");
	struct rk_statedir sd;
	struct rk_error err = { 0 };
	struct stat st;

	(void)state;
	assert_int_equal(rk_statedir_open(&sd, path, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(fstatat(sd.dir_fd, "lock", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	rk_statedir_remove(&sd);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(sd.dir_fd, -1);
}

static void test_tmp_default(void **state)
{
	struct rk_statedir sd;
	struct rk_error err = { 0 };
	struct stat st;
	rk_auto_free char *saved = NULL;
	const char *old = getenv("TMPDIR");

	(void)state;
	saved = old ? rk_xstrdup(old) : NULL;
	setenv("TMPDIR", base, 1);
	assert_int_equal(rk_statedir_open(&sd, NULL, &err), 0);
	assert_int_equal(strncmp(sd.path, base, strlen(base)), 0);
	assert_non_null(strstr(sd.path, "/rootlesskit"));
	assert_int_equal(stat(sd.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	rk_statedir_remove(&sd);
	if (saved)
		setenv("TMPDIR", saved, 1);
	else
		unsetenv("TMPDIR");
}

static void test_stale_entries_cleared(void **state)
{
	rk_auto_free char *path = sub("stale");
	rk_auto_free char *lock = sub("stale/lock");
	rk_auto_free char *pidf = sub("stale/child_pid");
	rk_auto_free char *deep = sub("stale/d/e");
	rk_auto_free char *target = sub("keepme");
	rk_auto_free char *link = sub("stale/link");
	struct rk_statedir sd;
	struct rk_error err = { 0 };
	struct stat st;

	(void)state;
	assert_int_equal(mkdir(path, 0755), 0);
	touch(lock);
	touch(pidf);
	assert_int_equal(mkdir(deep, 0755) == 0 || errno == ENOENT, 1);
	{
		rk_auto_free char *d = sub("stale/d");
		assert_int_equal(mkdir(d, 0755), 0);
		assert_int_equal(mkdir(deep, 0755), 0);
	}
	touch(target);
	/* a symlink in the state dir is removed, never followed */
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(rk_statedir_open(&sd, path, &err), 0);
	assert_int_equal(fstatat(sd.dir_fd, "child_pid", &st, 0), -1);
	assert_int_equal(fstatat(sd.dir_fd, "d", &st, 0), -1);
	assert_int_equal(fstatat(sd.dir_fd, "link", &st, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(fstatat(sd.dir_fd, "lock", &st, 0), 0);
	assert_int_equal(stat(target, &st), 0);
	rk_statedir_remove(&sd);
	assert_int_equal(stat(target, &st), 0);
	unlink(target);
}

static void test_refuses_foreign_directory(void **state)
{
	rk_auto_free char *path = sub("home");
	rk_auto_free char *file = sub("home/precious");
	struct rk_statedir sd;
	struct rk_error err = { 0 };
	struct stat st;

	(void)state;
	assert_int_equal(mkdir(path, 0755), 0);
	touch(file);
	assert_int_equal(rk_statedir_open(&sd, path, &err), -ENOTEMPTY);
	assert_non_null(strstr(err.msg, "refusing to use"));
	assert_non_null(strstr(err.msg, "no \"lock\" file"));
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(stat(path, &st), 0);
	unlink(file);
	rmdir(path);
}

/* The directory was created by this call but filled by someone else before it looked: it
 * is refused, and the failure path removes only what it made (here: nothing, as the
 * directory is no longer empty). */
static void test_filled_meanwhile(void **state)
{
	rk_auto_free char *path = sub("racy");
	rk_auto_free char *file = sub("racy/precious");
	struct rk_statedir sd;
	struct rk_error err = { 0 };
	struct stat st;

	(void)state;
	fill_on_mkdir = path;
	assert_int_equal(rk_statedir_open(&sd, path, &err), -ENOTEMPTY);
	fill_on_mkdir = NULL;
	assert_int_equal(stat(file, &st), 0);
	unlink(file);
	rmdir(path);
}

/* Another user's directory, or one others may write to, is never adopted. */
static void test_refuses_unsafe_owner_and_mode(void **state)
{
	rk_auto_free char *path = sub("foreign");
	rk_auto_free char *lock = sub("foreign/lock");
	struct rk_statedir sd;
	struct rk_error err = { 0 };
	struct stat st;
	char want[512];

	(void)state;
	assert_int_equal(mkdir(path, 0700), 0);
	touch(lock);
	assert_int_equal(chmod(path, 0757), 0);
	assert_int_equal(rk_statedir_open(&sd, path, &err), -EPERM);
	snprintf(want, sizeof(want),
		 "refusing to use %s as the state directory: it is writable by others (mode "
		 "0757); run \"chmod go-w %s\" or give another directory",
		 path, path);
	assert_string_equal(err.msg, want);
	assert_int_equal(stat(lock, &st), 0);
	assert_int_equal(chmod(path, 0700), 0);
	if (geteuid() == 0 && chown(path, 65534, 65534) == 0) {
		assert_int_equal(rk_statedir_open(&sd, path, &err), -EPERM);
		snprintf(want, sizeof(want),
			 "refusing to use %s as the state directory: it belongs to uid 65534, not "
			 "to you (uid 0); give a directory of your own",
			 path);
		assert_string_equal(err.msg, want);
		assert_int_equal(stat(lock, &st), 0);
	}
	unlink(lock);
	rmdir(path);
}

static void test_lock_conflict(void **state)
{
	rk_auto_free char *path = sub("busy");
	struct rk_statedir a, b;
	struct rk_error err = { 0 };
	struct stat st;
	char want[512];

	(void)state;
	assert_int_equal(rk_statedir_open(&a, path, &err), 0);
	/* flock is per open file description: a second open conflicts, even in one process */
	assert_int_equal(rk_statedir_open(&b, path, &err), -EBUSY);
	snprintf(want, sizeof(want),
		 "failed to lock %s/lock, another RootlessKit is running with the same state "
		 "directory?",
		 path);
	assert_string_equal(err.msg, want);
	/* the first instance's directory is untouched */
	assert_int_equal(fstatat(a.dir_fd, "lock", &st, 0), 0);
	/* the shared lock on the directory blocks an exclusive one */
	{
		int fd = open(path, O_RDONLY | O_DIRECTORY);
		assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
		assert_int_equal(errno, EWOULDBLOCK);
		close(fd);
	}
	rk_statedir_remove(&a);
}

static void test_symlink_refused(void **state)
{
	rk_auto_free char *real = sub("real");
	rk_auto_free char *link = sub("link");
	struct rk_statedir sd;
	struct rk_error err = { 0 };

	(void)state;
	assert_int_equal(mkdir(real, 0755), 0);
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(rk_statedir_open(&sd, link, &err), -ELOOP);
	assert_non_null(strstr(err.msg, "symbolic link"));
	unlink(link);
	rmdir(real);
}

static void test_child_pid(void **state)
{
	rk_auto_free char *path = sub("pid");
	rk_auto_free char *text = NULL;
	rk_auto_free char *file = sub("pid/child_pid");
	struct rk_statedir sd;
	struct rk_error err = { 0 };
	struct stat st;
	mode_t old = umask(0077);

	(void)state;
	assert_int_equal(rk_statedir_open(&sd, path, &err), 0);
	assert_int_equal(rk_statedir_write_child_pid(&sd, 12345, &err), 0);
	assert_int_equal(rk_read_file(file, &text, 64), 5);
	assert_string_equal(text, "12345");
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444);
	assert_int_equal(fstatat(sd.dir_fd, ".child_pid.tmp", &st, 0), -1);
	rk_statedir_remove(&sd);
	umask(old);
}

static void test_remove_unopened_is_harmless(void **state)
{
	struct rk_statedir never = { .dir_fd = -1, .lock_fd = -1 };
	struct rk_statedir zeroed = { 0 };

	(void)state;
	rk_statedir_remove(&never);
	/* a zeroed struct has dir_fd 0: it must not touch (or close) stdin */
	rk_statedir_remove(&zeroed);
	assert_true(fcntl(0, F_GETFD) >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_create_nested_and_remove),
		cmocka_unit_test(test_tmp_default),
		cmocka_unit_test(test_stale_entries_cleared),
		cmocka_unit_test(test_refuses_foreign_directory),
		cmocka_unit_test(test_filled_meanwhile),
		cmocka_unit_test(test_refuses_unsafe_owner_and_mode),
		cmocka_unit_test(test_lock_conflict),
		cmocka_unit_test(test_symlink_refused),
		cmocka_unit_test(test_child_pid),
		cmocka_unit_test(test_remove_unopened_is_harmless),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
