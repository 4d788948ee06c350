/* SPDX-License-Identifier: Apache-2.0 */
#include "src/lib/sig.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/lib/util.h"

/* Go's text for each Linux signal number (syscall's signal table). */
static const char *const go_names[32] = {
	[SIGHUP] = "hangup",
	[SIGINT] = "interrupt",
	[SIGQUIT] = "quit",
	[SIGILL] = "illegal instruction",
	[SIGTRAP] = "trace/breakpoint trap",
	[SIGABRT] = "aborted",
	[SIGBUS] = "bus error",
	[SIGFPE] = "floating point exception",
	[SIGKILL] = "killed",
	[SIGUSR1] = "user defined signal 1",
	[SIGSEGV] = "segmentation fault",
	[SIGUSR2] = "user defined signal 2",
	[SIGPIPE] = "broken pipe",
	[SIGALRM] = "alarm clock",
	[SIGTERM] = "terminated",
	[SIGSTKFLT] = "stack fault",
	[SIGCHLD] = "child exited",
	[SIGCONT] = "continued",
	[SIGSTOP] = "stopped (signal)",
	[SIGTSTP] = "stopped",
	[SIGTTIN] = "stopped (tty input)",
	[SIGTTOU] = "stopped (tty output)",
	[SIGURG] = "urgent I/O condition",
	[SIGXCPU] = "CPU time limit exceeded",
	[SIGXFSZ] = "file size limit exceeded",
	[SIGVTALRM] = "virtual timer expired",
	[SIGPROF] = "profiling timer expired",
	[SIGWINCH] = "window changed",
	[SIGIO] = "I/O possible",
	[SIGPWR] = "power failure",
	[SIGSYS] = "bad system call",
};

const char *rk_sig_name(int sig, char *buf, unsigned long size)
{
	if (sig > 0 && sig < 32 && go_names[sig])
		return go_names[sig];
	snprintf(buf, size, "signal %d", sig);
	return buf;
}

void rk_sig_format_status(int status, char *buf, unsigned long size)
{
	char tmp[32];

	if (WIFEXITED(status))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "signal: %s", rk_sig_name(WTERMSIG(status), tmp, sizeof(tmp)));
	else
		snprintf(buf, size, "wait status %#x", (unsigned)status);
}

int rk_sig_block_all(sigset_t *set, sigset_t *ret_old)
{
	sigfillset(set);
	if (sigprocmask(SIG_BLOCK, set, ret_old) < 0)
		return -errno;
	return 0;
}

bool rk_sig_should_forward(const struct signalfd_siginfo *si, bool same_pgrp)
{
	int sig = (int)si->ssi_signo;

	if (sig == SIGCHLD || sig == SIGPIPE || sig == SIGURG)
		return false;
	if (same_pgrp && si->ssi_code == SI_KERNEL) {
		switch (sig) {
		case SIGINT:
		case SIGQUIT:
		case SIGTSTP:
		case SIGTTIN:
		case SIGTTOU:
		case SIGWINCH:
		case SIGHUP:
		case SIGCONT:
			return false; /* the terminal sent it to the whole group */
		default:
			break;
		}
	}
	return true;
}

bool rk_sig_is_job_stop(int sig)
{
	return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

bool rk_sig_is_termination(int sig)
{
	return sig == SIGHUP || sig == SIGINT || sig == SIGQUIT || sig == SIGTERM;
}

void rk_sig_leave_terminal(void)
{
	static const int terminal[] = { SIGINT, SIGQUIT, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU };
	struct sigaction ign = { .sa_handler = SIG_IGN };

	/* the terminal signals its foreground group; this is not it any more */
	setpgid(0, 0);
	for (size_t i = 0; i < sizeof(terminal) / sizeof(terminal[0]); i++)
		sigaction(terminal[i], &ign, NULL);
}

bool rk_job_stop_signal(struct rk_job_stop *j, int sig)
{
	if (rk_sig_is_job_stop(sig)) {
		if (j->child_stopped) {
			*j = (struct rk_job_stop){ 0 };
			return true;
		}
		j->asked = true;
	} else if (sig == SIGCONT) {
		*j = (struct rk_job_stop){ 0 };
	}
	return false;
}

bool rk_job_stop_child(struct rk_job_stop *j, int stopsig, bool job_only)
{
	if (job_only && !rk_sig_is_job_stop(stopsig))
		return false;
	if (j->asked) {
		*j = (struct rk_job_stop){ 0 };
		return true;
	}
	j->child_stopped = true;
	return false;
}

int rk_wait_fd(int fd, short events, uint64_t end_ms, const struct rk_cancel *cancel)
{
	for (;;) {
		struct pollfd pfd[2] = { { .fd = fd, .events = events },
					 { .fd = cancel ? cancel->fd : -1, .events = POLLIN } };
		uint64_t now = rk_now_ms();
		int r;

		if (now >= end_ms)
			return 0;
		r = poll(pfd, 2, end_ms - now > INT_MAX ? INT_MAX : (int)(end_ms - now));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (pfd[0].revents)
			return 1;
		if (cancel && (pfd[1].revents & POLLIN) && cancel->stop(cancel->arg))
			return -EINTR;
	}
}
