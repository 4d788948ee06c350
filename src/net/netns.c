/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --detach-netns
 *
 * The command stays in the host's network namespace (inside the new user namespace); the
 * network lives in a namespace bind-mounted on $STATE/netns inside the child's mount
 * namespace. Everything that must happen in it (lo, the tap, the interface) runs in a
 * short-lived forked process that enters it, since the set-up process itself must stay
 * where the command will run.
 */
#include "src/net/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/lib/util.h"

int rk_netns_enter(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Forks; the child runs fn and sends its error back through a pipe. */
static int run_forked(int (*fn)(void *arg, struct rk_error *err), void *arg, struct rk_error *err)
{
	struct rk_error got = { 0 };
	int p[2], status = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return rk_error_errno(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return rk_error_errno(err, errno, "fork");
	}
	if (pid == 0) {
		struct rk_error e = { 0 };
		close(p[0]);
		if (fn(arg, &e) < 0)
			(void)!write(p[1], &e, sizeof(e));
		_exit(0);
	}
	close(p[1]);
	do
		n = read(p[0], &got, sizeof(got));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(got)) {
		got.msg[sizeof(got.msg) - 1] = '\0';
		*err = got;
		return -(got.code ? got.code : EIO);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return rk_error_set(err, EIO, "the network namespace helper died");
	return 0;
}

struct create_args {
	const char *path;
};

static int create_in_child(void *arg, struct rk_error *err)
{
	const struct create_args *a = arg;

	if (unshare(CLONE_NEWNET) < 0)
		return rk_error_errno(err, errno,
				      "failed to create a detached netns on %s: unshare", a->path);
	if (mount("/proc/self/ns/net", a->path, NULL, MS_BIND, NULL) < 0)
		return rk_error_errno(
			err, errno, "failed to create a detached netns on %s: bind-mount", a->path);
	return 0;
}

int rk_netns_create(const char *path, struct rk_error *err)
{
	struct create_args a = { path };
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);

	if (fd < 0)
		return rk_error_errno(err, errno, "failed to create a detached netns on %s", path);
	close(fd);
	return run_forked(create_in_child, &a, err);
}

struct run_args {
	const char *path;
	int (*fn)(void *arg, struct rk_error *err);
	void *arg;
};

static int enter_and_run(void *arg, struct rk_error *err)
{
	const struct run_args *a = arg;
	int r = rk_netns_enter(a->path);

	if (r < 0)
		return rk_error_errno(err, -r, "entering the network namespace %s", a->path);
	return a->fn(a->arg, err);
}

int rk_netns_run(const char *path, int (*fn)(void *arg, struct rk_error *err), void *arg,
		 struct rk_error *err)
{
	struct run_args a = { path, fn, arg };

	return run_forked(enter_and_run, &a, err);
}
