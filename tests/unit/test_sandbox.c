/* SPDX-License-Identifier: Apache-2.0 */
/* The engine's confinement: in a sandboxed process an exec, an unshare or a ptrace kills
 * it with SIGSYS, while sockets and files still work; the confined file system view holds
 * only /etc and /run, read-only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "sandbox.h"

/* Runs what in a sandboxed child; returns its wait status. */
static int in_sandbox(int what)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rk_error err;
		if (rk_engine_sandbox(&err) < 0)
			_exit(100);
		switch (what) {
		case 0: { /* allowed: a socket and a file */
			int s = socket(AF_INET, SOCK_DGRAM, 0);
			int f = open("/etc/hosts", O_RDONLY);
			_exit(s >= 0 && f >= 0 ? 0 : 101);
		}
		case 1:
			execl("/bin/true", "true", (char *)NULL);
			_exit(102);
		case 2:
			unshare(CLONE_NEWNS);
			_exit(103);
		default:
			ptrace(PTRACE_TRACEME, 0, NULL, NULL);
			_exit(104);
		}
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_allowed(void **state)
{
	int st = in_sandbox(0);

	(void)state;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_denied_kills(void **state)
{
	(void)state;
	for (int what = 1; what <= 3; what++) {
		int st = in_sandbox(what);
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
}

/* In a confined child: what it can still see and do. Exit status bits say what failed. */
static int confined_view(void)
{
	struct rk_error err;
	int bad = 0, fd;
	DIR *d;
	struct dirent *de;
	bool saw_etc = false;

	if (rk_engine_confine_fs(&err) < 0)
		return 1;
	fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC); /* resolv.conf's neighbour: readable */
	if (fd < 0)
		bad |= 2;
	else
		close(fd);
	fd = open("/etc/rk-sandbox-test", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 || errno != EROFS)
		bad |= 4; /* /etc is read-only */
	if (mkdir("/new", 0700) == 0 || errno != EROFS)
		bad |= 8; /* so is the root */
	if (access("/usr/bin", F_OK) == 0 || access("/tmp", F_OK) == 0 ||
	    access("/proc", F_OK) == 0)
		bad |= 16; /* nothing else is there */
	d = opendir("/");
	while (d && (de = readdir(d)))
		if (!strcmp(de->d_name, "etc"))
			saw_etc = true;
		else if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
			 strcmp(de->d_name, "run"))
			bad |= 32;
	if (d)
		closedir(d);
	if (!saw_etc)
		bad |= 64;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); /* the network is untouched */
	if (fd < 0)
		bad |= 128;
	else
		close(fd);
	return bad;
}

static void test_confined_fs(void **state)
{
	pid_t pid = fork();
	int st;

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(confined_view());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_denied_kills),
		cmocka_unit_test(test_confined_fs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
