/* SPDX-License-Identifier: Apache-2.0 */
/* The engine's confinement (netstack/sandbox.c), each case in a forked process: what the
 * seccomp allow-list lets through and what it stops (SIGSYS: the engine's exit status
 * RK_ENGINE_SECCOMP_EXIT), and the file system view (resolv.conf and nothing else). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "netstack/backlog.h"
#include "netstack/launch.h"
#include "netstack/sandbox.h"

enum action {
	INET_SOCKET,
	INET6_SOCKET,
	UNIX_SOCKET,
	KILL_SELF,
	KILL_PARENT,
	OPEN_READ,
	OPEN_WRITE,
	MMAP_EXEC,
	EXEC,
	PTRACE,
};

/* Runs action in a child confined as asked; returns its exit status (0: the call was
 * allowed and behaved, RK_ENGINE_SECCOMP_EXIT: refused, 1: confinement failed). */
static int run_confined(enum rk_confine fs, enum action a)
{
	struct rk_confine_config cfg = { .fs = fs, .seccomp = RK_CONFINE_ON };
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rk_error err = { 0 };
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		void *p;
		/* the refusals are expected: their messages would only clutter the output */
		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(1);
		close(fd);
		fd = -1;
		if (rk_engine_confine(&cfg, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(1);
		}
		switch (a) {
		case INET_SOCKET:
			fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			break;
		case INET6_SOCKET:
			fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
			break;
		case UNIX_SOCKET:
			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			break;
		case KILL_SELF:
			fd = kill(getpid(), 0) == 0 ? 3 : -1;
			break;
		case KILL_PARENT:
			fd = kill(getppid(), 0) == 0 ? 3 : -1;
			break;
		case OPEN_READ:
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (fd < 0 && errno == ENOENT) /* the view has no /dev */
				fd = 3;
			break;
		case OPEN_WRITE:
			fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
			break;
		case MMAP_EXEC:
			p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
				 0);
			fd = p == MAP_FAILED ? -1 : 3;
			break;
		case EXEC:
			execl("/bin/true", "true", (char *)NULL);
			break;
		case PTRACE:
			fd = (int)syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0) == 0 ? 3
											    : -1;
			break;
		}
		_exit(fd >= 0 ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_allowed(void **state)
{
	(void)state;
	assert_int_equal(run_confined(RK_CONFINE_OFF, INET_SOCKET), 0);
	assert_int_equal(run_confined(RK_CONFINE_OFF, INET6_SOCKET), 0);
	assert_int_equal(run_confined(RK_CONFINE_OFF, KILL_SELF), 0);
	assert_int_equal(run_confined(RK_CONFINE_OFF, OPEN_READ), 0);
}

static void test_refused(void **state)
{
	(void)state;
	/* no Unix socket can be made: nothing of the user's reachable through one */
	assert_int_equal(run_confined(RK_CONFINE_OFF, UNIX_SOCKET), RK_ENGINE_SECCOMP_EXIT);
	/* signals to itself only */
	assert_int_equal(run_confined(RK_CONFINE_OFF, KILL_PARENT), RK_ENGINE_SECCOMP_EXIT);
	assert_int_equal(run_confined(RK_CONFINE_OFF, OPEN_WRITE), RK_ENGINE_SECCOMP_EXIT);
	assert_int_equal(run_confined(RK_CONFINE_OFF, MMAP_EXEC), RK_ENGINE_SECCOMP_EXIT);
	assert_int_equal(run_confined(RK_CONFINE_OFF, EXEC), RK_ENGINE_SECCOMP_EXIT);
	assert_int_equal(run_confined(RK_CONFINE_OFF, PTRACE), RK_ENGINE_SECCOMP_EXIT);
}

/* The view: resolv.conf (here a file of the test's, as the engine's resolv_conf) and
 * nothing else, read-only. */
static void test_view(void **state)
{
	char path[] = "/tmp/rk-test-resolv-XXXXXX";
	int fd = mkstemp(path), status;
	pid_t pid;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "nameserver 192.0.2.1\n", 21), 21);
	close(fd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rk_confine_config cfg = { .fs = RK_CONFINE_ON,
						 .seccomp = RK_CONFINE_OFF,
						 .resolv_conf = path };
		struct rk_error err = { 0 };
		char buf[64] = "";
		struct stat st;
		if (rk_engine_confine(&cfg, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(1);
		}
		fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, buf, sizeof(buf) - 1) != 21 ||
		    strcmp(buf, "nameserver 192.0.2.1\n") != 0)
			_exit(2);
		close(fd);
		if (stat("/run", &st) == 0 || stat("/tmp", &st) == 0 || stat("/proc", &st) == 0 ||
		    stat("/etc/passwd", &st) == 0 || stat("/usr", &st) == 0)
			_exit(3);
		if (open("/etc/resolv.conf", O_WRONLY | O_CLOEXEC) >= 0 || errno != EROFS)
			_exit(4);
		if (mkdir("/x", 0700) == 0 || errno != EROFS)
			_exit(5);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(path);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The restart policy: 4 deaths in a minute are survived, the 5th is not; deaths spread
 * over more than a minute never add up. */
static void test_crash_policy(void **state)
{
	struct rk_engine_crashes c = { 0 };
	int64_t t = 1000000;

	(void)state;
	for (int i = 0; i < RK_ENGINE_CRASH_LIMIT - 1; i++)
		assert_true(rk_engine_crash_record(&c, t + i * 1000));
	assert_false(rk_engine_crash_record(&c, t + 59000));
	c = (struct rk_engine_crashes){ 0 };
	for (int i = 0; i < 50; i++)
		assert_true(
			rk_engine_crash_record(&c, t + i * (RK_ENGINE_CRASH_WINDOW_MS / 4 + 1)));
}

/* The backlog a listening TCP socket got (TCP_INFO reports it in tcpi_sacked). */
static unsigned listen_backlog(bool widen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct tcp_info ti = { 0 };
	socklen_t len = sizeof(ti);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	rk_backlog_widen(widen);
	assert_int_equal(listen(fd, 1), 0);
	rk_backlog_widen(false);
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	close(fd);
	return ti.tcpi_sacked;
}

/* libslirp's listeners get a wide backlog; nobody else's is changed */
static void test_backlog(void **state)
{
	(void)state;
	assert_int_equal(listen_backlog(false), 1);
	assert_true(listen_backlog(true) > 1);
	assert_int_equal(listen_backlog(false), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),	     cmocka_unit_test(test_backlog),
		cmocka_unit_test(test_refused),	     cmocka_unit_test(test_view),
		cmocka_unit_test(test_crash_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
