/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor: the child after its re-exec (see child.c), the process named by
 * child_pid. It forwards every signal it gets to the command, reaps the command and every
 * orphan re-parented to it, and exits with the command's status: the exit code, or 255 and
 * "signal: <name>" when a signal killed it.
 */
#include "src/supervisor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/child.h"
#include "src/lib/gocompat.h"
#include "src/lib/log.h"
#include "src/lib/sig.h"
#include "src/lib/util.h"

int rk_supervisor_parse_marker(const char *value, struct rk_marker *ret)
{
	uint64_t v[4];
	int n = 0;

	for (const char *p = value;; n++) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char field[24];
		if (n == 4 || len >= sizeof(field))
			return -EINVAL;
		snprintf(field, sizeof(field), "%.*s", (int)len, p);
		if (rk_parse_u64(field, &v[n]) < 0 || v[n] > INT32_MAX)
			return -EINVAL;
		if (!comma) {
			n++;
			break;
		}
		p = comma + 1;
	}
	if (n != 4 || v[0] == 0 || v[2] > (RK_MARKER_DEBUG | RK_MARKER_REAPER) || v[3] == 0)
		return -EINVAL;
	*ret = (struct rk_marker){ .cmd = (pid_t)v[0],
				   .ppid = (pid_t)v[1],
				   .debug = v[2] & RK_MARKER_DEBUG,
				   .reaper = v[2] & RK_MARKER_REAPER,
				   .cmd_index = (int)v[3] };
	return 0;
}

static int report_exit(char *const *cmd, int status)
{
	char argv_text[512], st[64];

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	rk_format_argv(cmd, argv_text, sizeof(argv_text));
	rk_sig_format_status(status, st, sizeof(st));
	{
		char msg[700];
		snprintf(msg, sizeof(msg), "command %s exited: %s", argv_text, st);
		rk_log_fatal(msg);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

int rk_supervisor_main(int argc, char **argv, const char *marker)
{
	struct rk_error err = { 0 };
	char *const *command;
	sigset_t all;
	struct rk_marker mk;
	pid_t cmd;
	int sfd, status = 0;
	pid_t done = -1;
	struct rk_job_stop job = { 0 };
	bool same_pgrp;

	if (rk_supervisor_parse_marker(marker, &mk) < 0 || mk.cmd_index >= argc ||
	    (done = waitpid(mk.cmd, &status, WNOHANG | __WALL)) < 0) {
		/* not started by a rootlesskit parent: someone exported the variable */
		fprintf(stderr,
			"[rootlesskit:child ] error: %s is an internal variable; unset it\n",
			RK_CHILD_ENV);
		return 1;
	}
	/* all signals stay blocked (as inherited), so even as PID 1 of a pid namespace none
	 * from outside is discarded: the kernel never ignores a blocked signal */
	rk_sig_block_all(&all, NULL);
	/* the death signal survives the exec, but re-arm it to be sure and catch a parent
	 * that died in between */
	cmd = mk.cmd;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != mk.ppid) {
		if (done != cmd) /* a reaped pid may be somebody else's now */
			kill(cmd, SIGKILL);
		return 1;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	command = argv + mk.cmd_index;
	rk_log_init(RK_ROLE_CHILD, mk.debug);
	if (done == cmd)
		return report_exit(command, status);
	same_pgrp = !mk.reaper;
	sfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sfd < 0) {
		rk_error_errno(&err, errno, "signalfd");
		rk_log_fatal(err.msg);
		kill(cmd, SIGKILL);
		return 1;
	}
	for (;;) {
		struct signalfd_siginfo si;
		ssize_t n;
		pid_t p;

		n = read(sfd, &si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si)) {
			rk_error_errno(&err, n < 0 ? errno : EIO, "reading signals");
			rk_log_fatal(err.msg);
			kill(cmd, SIGKILL);
			return 1;
		}
		if (si.ssi_signo != SIGCHLD) {
			if (rk_sig_should_forward(&si, same_pgrp) &&
			    kill(cmd, (int)si.ssi_signo) < 0 && errno != ESRCH)
				rk_warn("forwarding signal %u: %s", si.ssi_signo, strerror(errno));
			/* a job-control stop for us (from the terminal, or the parent's
			 * forward), before or after the command's stop */
			if (same_pgrp && rk_job_stop_signal(&job, (int)si.ssi_signo))
				kill(getpid(), SIGSTOP);
			continue;
		}
		/* reap the command and every orphan that was re-parented to us */
		while ((p = waitpid(-1, &status, WNOHANG | __WALL | (same_pgrp ? WUNTRACED : 0))) >
		       0) {
			if (WIFSTOPPED(status)) {
				/* Ctrl-Z stopped the command: stop too, so that the parent and then
				 * the shell see the job stopped; SIGCONT to the group resumes us
				 * all */
				if (p == cmd && rk_job_stop_child(&job, WSTOPSIG(status), true))
					kill(getpid(), SIGSTOP);
				continue;
			}
			if (p == cmd)
				return report_exit(command, status);
		}
	}
}
