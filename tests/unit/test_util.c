/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers: paths, numbers, signals, log quoting, the parent/child channel, the marker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/child.h"
#include "src/lib/gocompat.h"
#include "src/lib/log.h"
#include "src/lib/msg.h"
#include "src/lib/sig.h"
#include "src/lib/util.h"
#include "src/supervisor.h"

static void check_clean(const char *in, const char *want)
{
	char *got = rk_path_clean(in);
	if (strcmp(got, want) != 0)
		fail_msg("clean(\"%s\") = \"%s\", want \"%s\"", in, got, want);
	free(got);
}

static void test_path_clean(void **state)
{
	(void)state;
	check_clean("", ".");
	check_clean("/", "/");
	check_clean("//a//b/", "/a/b");
	check_clean("/a/./b/.", "/a/b");
	check_clean("/a/b/../c", "/a/c");
	check_clean("/../a", "/a");
	check_clean("/a/../../b", "/b");
	check_clean("a/../..", "..");
	check_clean("../../x/", "../../x");
	check_clean("a/b/../../..", "..");
	check_clean("./a", "a");
	check_clean("abc/def/..", "abc");
}

static void test_path_abs(void **state)
{
	char *p;

	(void)state;
	p = rk_path_abs("state", "/home/u");
	assert_string_equal(p, "/home/u/state");
	free(p);
	p = rk_path_abs("../x/./y/", "/home/u");
	assert_string_equal(p, "/home/x/y");
	free(p);
	p = rk_path_abs("/abs//d/", "/home/u");
	assert_string_equal(p, "/abs/d");
	free(p);
}

static void test_parse_u64_and_strip(void **state)
{
	uint64_t v;
	char buf[] = "  \t x y \n";

	(void)state;
	assert_int_equal(rk_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(rk_parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(rk_parse_u64("", &v), -EINVAL);
	assert_int_equal(rk_parse_u64("+1", &v), -EINVAL);
	assert_int_equal(rk_parse_u64("1 ", &v), -EINVAL);
	assert_string_equal(rk_strip(buf), "x y");
}

static void test_find_in_path(void **state)
{
	char *p;

	(void)state;
	p = rk_find_in_path("sh", "/nonexistent:/bin");
	assert_non_null(p);
	assert_string_equal(p, "/bin/sh");
	free(p);
	errno = 0;
	assert_null(rk_find_in_path("rk-no-such-command", "/bin:/usr/bin"));
	assert_int_equal(errno, ENOENT);
	assert_null(rk_find_in_path("", "/bin"));
	p = rk_find_in_path("/bin/sh", "");
	assert_string_equal(p, "/bin/sh");
	free(p);
}

static void test_sig_names(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(rk_sig_name(SIGUSR1, buf, sizeof(buf)), "user defined signal 1");
	assert_string_equal(rk_sig_name(SIGKILL, buf, sizeof(buf)), "killed");
	assert_string_equal(rk_sig_name(SIGTERM, buf, sizeof(buf)), "terminated");
	assert_string_equal(rk_sig_name(40, buf, sizeof(buf)), "signal 40");
}

static void test_sig_format_status(void **state)
{
	char buf[64];
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	if (pid == 0)
		_exit(42);
	waitpid(pid, &status, 0);
	rk_sig_format_status(status, buf, sizeof(buf));
	assert_string_equal(buf, "exit status 42");
	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	kill(pid, SIGUSR1);
	waitpid(pid, &status, 0);
	rk_sig_format_status(status, buf, sizeof(buf));
	assert_string_equal(buf, "signal: user defined signal 1");
}

static void test_sig_should_forward(void **state)
{
	struct signalfd_siginfo si = { 0 };

	(void)state;
	si.ssi_code = SI_USER;
	si.ssi_signo = SIGTERM;
	assert_true(rk_sig_should_forward(&si, true));
	si.ssi_signo = SIGCHLD;
	assert_false(rk_sig_should_forward(&si, false));
	si.ssi_signo = SIGPIPE;
	assert_false(rk_sig_should_forward(&si, false));
	si.ssi_signo = SIGURG;
	assert_false(rk_sig_should_forward(&si, false));
	si.ssi_signo = SIGRTMIN + 3;
	assert_true(rk_sig_should_forward(&si, false));
	/* Ctrl-C from the terminal already reached everyone in the process group */
	si.ssi_signo = SIGINT;
	si.ssi_code = SI_KERNEL;
	assert_false(rk_sig_should_forward(&si, true));
	assert_true(rk_sig_should_forward(&si, false));
	si.ssi_code = SI_USER;
	assert_true(rk_sig_should_forward(&si, true));
}

static void test_log_quote(void **state)
{
	char buf[128];

	(void)state;
	rk_log_quote("plain-word_1.2/x", buf, sizeof(buf));
	assert_string_equal(buf, "plain-word_1.2/x");
	rk_log_quote("two words", buf, sizeof(buf));
	assert_string_equal(buf, "\"two words\"");
	rk_log_quote("a\"b\\c\nd", buf, sizeof(buf));
	assert_string_equal(buf, "\"a\\\"b\\\\c\\nd\"");
	rk_log_quote("", buf, sizeof(buf));
	assert_string_equal(buf, "\"\"");
	rk_log_quote("truncated text", buf, 6);
	assert_int_equal(strlen(buf), 5);
}

static void test_msg_roundtrip(void **state)
{
	struct rk_error err = { 0 }, got = { 0 };
	struct rk_msg m;
	int fds[2];

	(void)state;
	assert_int_equal(rk_msg_pair(fds), 0);
	assert_int_equal(rk_msg_send(fds[0], RK_MSG_IDMAP_DONE), 0);
	assert_int_equal(rk_msg_expect(fds[1], RK_MSG_IDMAP_DONE, &got), 0);
	rk_error_set(&err, EACCES, "mount /proc: denied");
	assert_int_equal(rk_msg_send_error(fds[1], &err), 0);
	assert_int_equal(rk_msg_expect(fds[0], RK_MSG_SETUP_DONE, &got), -EACCES);
	assert_string_equal(got.msg, "mount /proc: denied");
	assert_int_equal(rk_msg_send(fds[0], RK_MSG_EXEC), 0);
	assert_int_equal(rk_msg_expect(fds[1], RK_MSG_SETUP_DONE, &got), -EPROTO);
	/* garbage is refused, and EOF is reported as such */
	assert_int_equal(send(fds[0], "xy", 2, 0), 2);
	assert_int_equal(rk_msg_recv(fds[1], &m), -EBADMSG);
	close(fds[0]);
	assert_int_equal(rk_msg_recv(fds[1], &m), 0);
	assert_int_equal(rk_msg_expect(fds[1], RK_MSG_EXEC, &got), -EPIPE);
	close(fds[1]);
}

static void test_marker(void **state)
{
	struct rk_marker m;

	(void)state;
	assert_int_equal(rk_supervisor_parse_marker("12,0,0,1", &m), 0);
	assert_int_equal(m.cmd, 12);
	assert_int_equal(m.ppid, 0);
	assert_false(m.debug);
	assert_false(m.reaper);
	assert_int_equal(m.cmd_index, 1);
	assert_int_equal(rk_supervisor_parse_marker("12,345,3,7", &m), 0);
	assert_int_equal(m.ppid, 345);
	assert_true(m.debug);
	assert_true(m.reaper);
	assert_int_equal(m.cmd_index, 7);
	assert_int_equal(rk_supervisor_parse_marker("12,345,2,7", &m), 0);
	assert_false(m.debug);
	assert_true(m.reaper);
	assert_int_equal(rk_supervisor_parse_marker("", &m), -EINVAL);
	assert_int_equal(rk_supervisor_parse_marker("1", &m), -EINVAL);
	assert_int_equal(rk_supervisor_parse_marker("1,2", &m), -EINVAL);
	assert_int_equal(rk_supervisor_parse_marker("0,1,0,1", &m), -EINVAL);
	assert_int_equal(rk_supervisor_parse_marker("a,1,0,1", &m), -EINVAL);
	assert_int_equal(rk_supervisor_parse_marker("1,-1,0,1", &m), -EINVAL);
	assert_int_equal(rk_supervisor_parse_marker("1,2,0,1,", &m), -EINVAL);
	assert_int_equal(rk_supervisor_parse_marker("1,2,0,1,5", &m), -EINVAL);
	assert_int_equal(rk_supervisor_parse_marker("1,,0,1", &m), -EINVAL);
	/* unknown flags, and a command at argv[0] (rootlesskit's own name) */
	assert_int_equal(rk_supervisor_parse_marker("1,2,4,1", &m), -EINVAL);
	assert_int_equal(rk_supervisor_parse_marker("1,2,0,0", &m), -EINVAL);
}

static void test_format_argv(void **state)
{
	char *argv[] = { "sh", "-c", "exit 42", NULL };
	char buf[64];

	(void)state;
	rk_format_argv(argv, buf, sizeof(buf));
	assert_string_equal(buf, "[sh -c exit 42]");
}

static void test_error_prefix(void **state)
{
	struct rk_error err = { 0 };

	(void)state;
	assert_int_equal(rk_error_set(&err, ENOENT, "no %s", "file"), -ENOENT);
	assert_int_equal(rk_error_prefix(&err, "step %d", 2), -ENOENT);
	assert_string_equal(err.msg, "step 2: no file");
	assert_int_equal(rk_error_errno(&err, EACCES, "open x"), -EACCES);
	assert_string_equal(err.msg, "open x: Permission denied");
	assert_int_equal(rk_error_set(&err, 0, "plain"), -EINVAL);
}

/* A stop of the child is the job's only with a job-control signal, in either order. */
static void test_job_stop(void **state)
{
	struct rk_job_stop j = { 0 };

	(void)state;
	/* the signal first, then the child's stop */
	assert_false(rk_job_stop_signal(&j, SIGTSTP));
	assert_true(rk_job_stop_child(&j, SIGSTOP, false));
	/* the child's stop first (a signalfd yields SIGCHLD before SIGTSTP) */
	assert_false(rk_job_stop_child(&j, SIGTTIN, true));
	assert_true(rk_job_stop_signal(&j, SIGTTIN));
	/* a stop without a job-control signal (SIGSTOP, ptrace): never ours */
	assert_false(rk_job_stop_child(&j, SIGSTOP, false));
	assert_false(rk_job_stop_signal(&j, SIGUSR1));
	/* SIGCONT ends both; a later signal then waits for a new stop */
	assert_false(rk_job_stop_signal(&j, SIGCONT));
	assert_false(rk_job_stop_signal(&j, SIGTSTP));
	assert_false(rk_job_stop_signal(&j, SIGCONT));
	assert_false(rk_job_stop_child(&j, SIGSTOP, false));
	/* job_only: a stop by SIGSTOP is not a job's, even after SIGTSTP */
	j = (struct rk_job_stop){ 0 };
	assert_false(rk_job_stop_signal(&j, SIGTSTP));
	assert_false(rk_job_stop_child(&j, SIGSTOP, true));
	assert_true(rk_job_stop_child(&j, SIGTSTP, true));
}

static void test_escape_controls(void **state)
{
	char out[64];

	(void)state;
	assert_false(rk_escape_controls("plain text: caf\xc3\xa9", out, sizeof(out)));
	assert_string_equal(out, "plain text: caf\xc3\xa9");
	/* ESC, newline, tab, DEL, and CSI as a C1 control in UTF-8 */
	assert_true(rk_escape_controls("a\x1b[31mb\nc\td\x7f e\xc2\x9b"
				       "2J",
				       out, sizeof(out)));
	assert_string_equal(out, "a\\x1b[31mb\\x0ac\\x09d\\x7f e\\xc2\\x9b2J");
	/* cut short rather than overflow, never in the middle of an escape */
	assert_true(rk_escape_controls("\x1b\x1b\x1b", out, 9));
	assert_string_equal(out, "\\x1b\\x1b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_clean),
		cmocka_unit_test(test_path_abs),
		cmocka_unit_test(test_parse_u64_and_strip),
		cmocka_unit_test(test_find_in_path),
		cmocka_unit_test(test_sig_names),
		cmocka_unit_test(test_sig_format_status),
		cmocka_unit_test(test_sig_should_forward),
		cmocka_unit_test(test_log_quote),
		cmocka_unit_test(test_msg_roundtrip),
		cmocka_unit_test(test_marker),
		cmocka_unit_test(test_format_argv),
		cmocka_unit_test(test_error_prefix),
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_job_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
