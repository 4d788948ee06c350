/* SPDX-License-Identifier: Apache-2.0 */
#include "src/lib/helper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "src/lib/log.h"
#include "src/lib/sig.h"
#include "src/lib/util.h"

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

bool rk_helper_reap_within(pid_t pid, int ms, int *status)
{
	uint64_t end = rk_now_ms() + (uint64_t)(ms > 0 ? ms : 0);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int st = 0;
	pid_t r;

	for (;;) {
		uint64_t now = rk_now_ms();
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR) || now >= end)
			break;
		if (pidfd >= 0) {
			/* woken by the exit itself */
			struct pollfd p = { .fd = pidfd, .events = POLLIN };
			poll(&p, 1, (int)(end - now));
		} else {
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	if (r != pid)
		return false;
	if (status)
		*status = st;
	return true;
}

/* Kills pid and reaps it: SIGKILL takes effect at once, but a process in the kernel
 * (uninterruptible) may take a moment; it is left as a zombie of ours after 5 s rather
 * than waited for without end. */
static void kill_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	if (!rk_helper_reap_within(pid, 5000, NULL))
		rk_warn("helper %d did not end after SIGKILL", (int)pid);
}

int rk_helper_output(const char *path, char *const argv[], char *buf, size_t size, int timeout_ms,
		     const struct rk_cancel *cancel)
{
	pid_t parent = getpid(), pid;
	uint64_t end = rk_now_ms() + (uint64_t)timeout_ms;
	size_t len = 0;
	int p[2], status = 0, r = 0;

	if (size)
		buf[0] = '\0';
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
	/* its output until EOF, then its exit: both within the deadline */
	for (bool eof = false;;) {
		uint64_t now = rk_now_ms();
		char tmp[4096];
		ssize_t n;

		if (eof && waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (now >= end) {
			r = -ETIMEDOUT;
			break;
		}
		/* after EOF the exit is looked for every 10 ms */
		r = rk_wait_fd(eof ? -1 : p[0], POLLIN, eof && now + 10 < end ? now + 10 : end,
			       cancel);
		if (r < 0)
			break;
		if (r == 0)
			continue;
		n = read(p[0], tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			eof = true;
			continue;
		}
		for (ssize_t i = 0; i < n && len + 1 < size; i++)
			buf[len++] = tmp[i];
		if (size)
			buf[len] = '\0';
	}
	close(p[0]);
	if (r < 0) {
		kill_reap(pid);
		return r;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 256 + WTERMSIG(status);
}
