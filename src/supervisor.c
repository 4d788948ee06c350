/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor: the child after its re-exec (see child.c), the process named by
 * child_pid. It forwards every signal it gets to the command, reaps the command and every
 * orphan re-parented to it, and exits with the command's status: the exit code, or 255 and
 * "signal: <name>" when a signal killed it.
 */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "netns.h"
#include "options.h"
#include "sig.h"
#include "sockpool.h"
#include "transparent.h"
#include "util.h"

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
	/* fds 0-2 are stdio: never ours */
	if (n < 2 || v[0] == 0 || (n >= 3 && v[2] < 3) || (n == 4 && (v[3] < 3 || v[3] == v[2])))
		return -EINVAL;
	ret->cmd = (pid_t)v[0];
	ret->ppid = (pid_t)v[1];
	ret->port_fd = n >= 3 ? (int)v[2] : -1;
	ret->ready_fd = n == 4 ? (int)v[3] : -1;
	return 0;
}

/* With --detach-netns the port driver's sockets must come from the detached namespace:
 * this thread enters it (setns is per thread; the process stays in the command's) and
 * serves the channel there. */
struct detached_server {
	int fd;
	char *path;
};

static int transparent_setup(void);

static void *serve_detached(void *arg)
{
	struct detached_server *ds = arg;
	int r = rk_netns_enter(ds->path);

	if (r < 0) {
		rk_warn("port driver: entering %s: %s", ds->path, strerror(-r));
		close(ds->fd); /* the parent sees the channel close */
		return NULL;
	}
	for (;;) {
		struct pollfd pfd = { .fd = ds->fd, .events = POLLIN };
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		r = rk_sockpool_serve(ds->fd, transparent_setup);
		if (r <= 0) {
			if (r < 0)
				rk_warn("port driver channel: %s", strerror(-r));
			break;
		}
	}
	close(ds->fd);
	return NULL;
}

/* The routing set-up of source-IP transparency, asked for by the port driver. */
static int transparent_setup(void)
{
	struct rk_error err = { 0 };

	if (rk_transparent_setup(&err) < 0) {
		rk_warn("source IP transparent: %s; falling back to non-transparent mode, client "
			"source IPs will not be preserved",
			err.msg);
		return err.code ? err.code : EIO;
	}
	return 0;
}

/* Reaps one child that is ours to reap (with stop reports when stops): every child but the
 * helpers the port channel's thread is waiting for (transparent.c), which waitpid(-1) would
 * steal from it. Returns the pid, or 0 when there is none. */
static pid_t reap_one(bool stops, int *status)
{
	siginfo_t si = { 0 };
	pid_t p = 0;

	rk_transparent_lock();
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL | (stops ? WSTOPPED : 0)) ==
		    0 &&
	    si.si_pid > 0 && !rk_transparent_is_helper(si.si_pid))
		p = waitpid(si.si_pid, status, WNOHANG | __WALL | (stops ? WUNTRACED : 0));
	rk_transparent_unlock();
	return p > 0 ? p : 0;
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
	struct rk_options opts;
	struct rk_error err = { 0 };
	sigset_t all;
	struct rk_marker mk;
	pid_t cmd;
	int sfd, port_fd, status = 0, ret;
	pid_t done = -1;
	bool same_pgrp, job_stop = false;

	rk_options_init(&opts);
	if (rk_supervisor_parse_marker(marker, &mk) < 0 ||
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
	port_fd = mk.port_fd;
	/* inherited across our exec on purpose; nothing we start gets it (iptables-restore) */
	if (port_fd >= 0)
		fcntl(port_fd, F_SETFD, FD_CLOEXEC);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != mk.ppid) {
		if (done != cmd) /* a reaped pid may be somebody else's now */
			kill(cmd, SIGKILL);
		return 1;
	}
	/* H waits for this before child_pid is written: the exec is done, so
	 * /proc/PID/environ shows the ROOTLESSKIT_* variables (see child.c) */
	if (mk.ready_fd >= 0)
		close(mk.ready_fd);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* the parent validated argv already: parse only for the command and the modes */
	if (rk_options_parse(&opts, argc, argv, &err) < 0 ||
	    rk_options_validate(&opts, false, &err) < 0) {
		rk_log_fatal(err.msg);
		if (done != cmd)
			kill(cmd, SIGKILL);
		return 1;
	}
	rk_log_init(RK_ROLE_CHILD, opts.debug);
	if (done == cmd) {
		ret = report_exit(opts.command, status);
		rk_options_free(&opts);
		return ret;
	}
	same_pgrp = !opts.reaper;
	if (opts.detach_netns && port_fd >= 0) {
		static struct detached_server ds;
		const char *state = getenv("ROOTLESSKIT_STATE_DIR");
		pthread_t t;
		ds.fd = port_fd;
		ds.path = rk_xasprintf("%s/netns", state ? state : "");
		if (pthread_create(&t, NULL, serve_detached, &ds) != 0)
			close(port_fd);
		port_fd = -1; /* the thread's now */
	}
	sfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sfd < 0) {
		rk_error_errno(&err, errno, "signalfd");
		rk_log_fatal(err.msg);
		kill(cmd, SIGKILL);
		return 1;
	}
	for (;;) {
		struct pollfd pfd[2] = { { .fd = sfd, .events = POLLIN },
					 { .fd = port_fd, .events = POLLIN } };
		struct signalfd_siginfo si;
		ssize_t n;
		pid_t p;

		if (poll(pfd, port_fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			rk_error_errno(&err, errno, "poll");
			rk_log_fatal(err.msg);
			kill(cmd, SIGKILL);
			return 1;
		}
		/* the builtin port driver's supply of sockets made in our namespace */
		if (port_fd >= 0 && pfd[1].revents) {
			int r = rk_sockpool_serve(port_fd, transparent_setup);
			if (r <= 0) {
				if (r < 0)
					rk_warn("port driver channel: %s", strerror(-r));
				close(port_fd);
				port_fd = -1;
			}
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		n = read(sfd, &si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si)) {
			rk_error_errno(&err, n < 0 ? errno : EIO, "reading signals");
			rk_log_fatal(err.msg);
			kill(cmd, SIGKILL);
			return 1;
		}
		/* a job-control stop for us (from the terminal, or the parent's forward): the
		 * command's stop that follows is the job's */
		if (rk_sig_is_job_stop((int)si.ssi_signo))
			job_stop = true;
		else if (si.ssi_signo == SIGCONT)
			job_stop = false;
		if (si.ssi_signo != SIGCHLD) {
			if (rk_sig_should_forward(&si, same_pgrp) &&
			    kill(cmd, (int)si.ssi_signo) < 0 && errno != ESRCH)
				rk_warn("forwarding signal %u: %s", si.ssi_signo, strerror(errno));
			continue;
		}
		/* reap the command and every orphan that was re-parented to us */
		while ((p = reap_one(same_pgrp, &status)) > 0) {
			if (WIFSTOPPED(status)) {
				/* Ctrl-Z stopped the command: stop too, so that the parent and then
				 * the shell see the job stopped; SIGCONT to the group resumes us
				 * all */
				if (p == cmd && job_stop && rk_sig_is_job_stop(WSTOPSIG(status))) {
					job_stop = false;
					kill(getpid(), SIGSTOP);
				}
				continue;
			}
			if (p == cmd) {
				ret = report_exit(opts.command, status);
				rk_options_free(&opts);
				return ret;
			}
		}
	}
}
