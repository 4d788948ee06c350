/* SPDX-License-Identifier: Apache-2.0 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sig.h"

extern char **environ;

/* In the forked child: only async-signal-safe calls until the exec (threads exist). */
static __attribute__((noreturn)) void exec_child(pid_t parent, const char *path, char *const argv[],
						 int fd3, int out)
{
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	if (fd3 >= 0) {
		if (fd3 == 3)
			fcntl(3, F_SETFD, 0);
		else if (dup2(fd3, 3) < 0)
			_exit(127);
	}
	if (out >= 0 && (dup2(out, 1) < 0 || dup2(out, 2) < 0))
		_exit(127);
	/* the helper gets stdio and fd 3, nothing the caller (or we) left open */
	close_range(fd3 >= 0 ? 4 : 3, ~0U, 0);
	rk_sig_leave_terminal();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, argv, environ);
	_exit(127);
}

pid_t rk_helper_spawn(const char *path, char *const argv[], int extra_fd, bool show_output)
{
	pid_t parent = getpid(), pid;
	int null = show_output ? -1 : open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (!show_output && null < 0)
		return -errno;
	pid = fork();
	if (pid == 0)
		exec_child(parent, path, argv, extra_fd, null);
	if (null >= 0)
		close(null);
	return pid < 0 ? -errno : pid;
}

int rk_helper_output(const char *path, char *const argv[], char *buf, size_t size, int timeout_ms)
{
	pid_t parent = getpid(), pid;
	size_t len = 0;
	int p[2], status = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0)
		exec_child(parent, path, argv, -1, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -errno;
	}
	for (int waited = 0;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		char tmp[4096];
		ssize_t n;
		int r = poll(&pfd, 1, 100);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0) {
			/* a helper that stays silent too long is killed */
			if ((waited += 100) >= timeout_ms) {
				kill(pid, SIGKILL);
				break;
			}
			continue;
		}
		n = read(p[0], tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n && len + 1 < size; i++)
			buf[len++] = tmp[i];
	}
	if (size)
		buf[len] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 256 + WTERMSIG(status);
}
