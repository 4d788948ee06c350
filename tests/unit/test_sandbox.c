/* SPDX-License-Identifier: Apache-2.0 */
/* The engine's confinement: in a sandboxed process an exec, an unshare or a ptrace kills
 * it with SIGSYS, while sockets and files still work. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sched.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_denied_kills),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
