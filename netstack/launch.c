/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine process
 *
 * The engine runs in a process forked from the parent (no exec: one executable), so that a
 * crash in libslirp or a take-over through it costs only that process, which is confined
 * (sandbox.c) before it reads a frame. It keeps fd 3 (the tap), 4 (the write end of the
 * readiness pipe) and 5 (the control socket, when the netstack port driver is used), and
 * stdio. It says on the readiness pipe whether it runs: one NUL byte once the engine
 * exists, holds the tap, and every stage of confinement asked for is in place, or the
 * reason it will not run, after which it exits. So a confinement that fails stops
 * rootlesskit's start-up with that reason, instead of leaving an unconfined engine.
 *
 * The first engine is launched before the child has made the tap, while the parent waits
 * for newuidmap and newgidmap: fd 3 is then a socket on which the tap comes, and loading
 * libslirp, making the engine and confining itself (about 1 ms) are off the start-up's
 * path. The tap, once received after the confinement, takes fd 3's place.
 */
#include "netstack/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/lib/helper.h"
#include "src/lib/log.h"
#include "src/lib/msg.h"
#include "src/lib/sig.h"
#include "src/lib/util.h"

enum {
	FD_TAP = 3,
	FD_READY = 4,
	FD_CONTROL = 5
};

/* Moves fds[i] to 3 + i (each one first above every target, so that none is overwritten
 * before it moved). Returns 0 or -1. */
static int place_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if ((fds[i] = fcntl(fds[i], F_DUPFD, 3 + n)) < 0)
			return -1;
	for (int i = 0; i < n; i++)
		if (dup2(fds[i], 3 + i) < 0)
			return -1;
	return close_range(3 + (unsigned)n, ~0U, 0);
}

/* The reason the engine will not run, on the readiness pipe, and its end. */
static __attribute__((noreturn)) void fail(const struct rk_error *e)
{
	(void)!write(FD_READY, e->msg, strnlen(e->msg, sizeof(e->msg) - 1));
	_exit(1);
}

/* fd 3 is the socket on which the tap comes: the tap takes its place. Returns 0 or -1. */
static int take_tap(void)
{
	struct rk_msg m;
	int tap = -1;

	if (rk_msg_recv_fd(FD_TAP, &m, &tap) < 0 || m.type != RK_MSG_NET_FD || tap < 0 ||
	    dup3(tap, FD_TAP, 0) < 0) {
		if (tap >= 0)
			close(tap);
		return -1;
	}
	close(tap);
	return 0;
}

static __attribute__((noreturn)) void engine_main(const struct rk_engine_spawn *sp)
{
	struct rk_error e = { 0 };
	struct rk_engine *engine;
	struct rlimit nofile;
	sigset_t term;
	int stop, r;

	signal(SIGPIPE, SIG_IGN);
	/* Ctrl-C is the command's to handle: the network stays until rootlesskit's SIGTERM,
	 * after the command ended */
	rk_sig_leave_terminal();
	/* each connection it carries is a descriptor: the engine may use all the user may
	 * have (its tables are bounded by that limit) */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	/* SIGTERM reaches the loop as a stop: the engine drains, then ends */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_SETMASK, &term, NULL);
	stop = signalfd(-1, &term, SFD_CLOEXEC);
	if (stop < 0) { /* then SIGTERM ends the engine at once: no drain, no wait */
		sigprocmask(SIG_UNBLOCK, &term, NULL);
	}
	engine = rk_engine_new(sp->engine, FD_TAP, &e);
	if (!engine)
		fail(&e);
	if (sp->control >= 0)
		rk_engine_set_control(engine, FD_CONTROL);
	if (rk_engine_confine(&sp->confine, &e) < 0)
		fail(&e);
	if (sp->tap_later && take_tap() < 0)
		_exit(1); /* the parent gave up before the tap existed, or is gone */
	if (write(FD_READY, "", 1) != 1)
		_exit(1); /* the parent is gone */
	close(FD_READY);
	r = rk_engine_run(engine, stop);
	rk_engine_free(engine);
	_exit(r == -EPIPE ? 0 : 1);
}

pid_t rk_engine_spawn(const struct rk_engine_spawn *sp, int *ret_ready, struct rk_error *err)
{
	pid_t parent = getpid(), pid;
	int ready[2];

	if (pipe2(ready, O_CLOEXEC) < 0)
		return rk_error_errno(err, errno, "netstack: pipe");
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(ready[0]);
		close(ready[1]);
		return rk_error_errno(err, e, "netstack: fork");
	}
	if (pid == 0) {
		int fds[3] = { sp->tap, ready[1], sp->control };
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent ||
		    place_fds(fds, sp->control >= 0 ? 3 : 2) < 0)
			_exit(1);
		engine_main(sp);
	}
	close(ready[1]);
	*ret_ready = ready[0];
	return pid;
}

int rk_engine_spawn_result(int ready, struct rk_error *err)
{
	char msg[sizeof(err->msg)];
	ssize_t n;

	do
		n = read(ready, msg, sizeof(msg) - 1);
	while (n < 0 && errno == EINTR);
	close(ready);
	if (n == 1 && msg[0] == '\0')
		return 0;
	if (n <= 0)
		return rk_error_set(err, ECHILD, "netstack engine exited before it was ready");
	msg[n] = '\0';
	return rk_error_set(err, EPERM, "%s", msg);
}

bool rk_engine_crash_record(struct rk_engine_crashes *c, int64_t now_ms)
{
	int64_t oldest;

	c->at_ms[c->n++ % RK_ENGINE_CRASH_LIMIT] = now_ms;
	if (c->n < RK_ENGINE_CRASH_LIMIT)
		return true;
	/* the ring holds the last RK_ENGINE_CRASH_LIMIT: the next slot is the oldest */
	oldest = c->at_ms[c->n % RK_ENGINE_CRASH_LIMIT];
	return now_ms - oldest >= RK_ENGINE_CRASH_WINDOW_MS;
}

int rk_engine_proc_start(struct rk_engine_proc *p, int control, struct rk_error *err)
{
	struct rk_engine_spawn sp = {
		.engine = &p->engine, .confine = p->confine, .tap = p->tap, .control = control
	};
	pid_t pid = rk_engine_spawn(&sp, &p->ready, err);

	if (control >= 0)
		close(control);
	if (pid < 0)
		return (int)pid;
	p->pid = pid;
	rk_debug("netstack engine runs as pid %d", (int)pid);
	return 0;
}

int rk_engine_proc_launch(struct rk_engine_proc *p, int control, struct rk_error *err)
{
	struct rk_engine_spawn sp = {
		.engine = &p->engine, .confine = p->confine, .control = control, .tap_later = true
	};
	int pair[2], r = rk_msg_pair(pair);
	pid_t pid;

	if (r < 0) {
		if (control >= 0)
			close(control);
		return rk_error_errno(err, -r, "netstack: socketpair");
	}
	sp.tap = pair[1];
	pid = rk_engine_spawn(&sp, &p->ready, err);
	close(pair[1]);
	if (control >= 0)
		close(control);
	if (pid < 0) {
		close(pair[0]);
		return (int)pid;
	}
	p->pid = pid;
	p->tap_send = pair[0];
	rk_debug("netstack engine runs as pid %d, before the tap exists", (int)pid);
	return 0;
}

int rk_engine_proc_give_tap(struct rk_engine_proc *p, int tap, struct rk_error *err)
{
	int r;

	p->tap = tap;
	r = rk_msg_send_fd(p->tap_send, RK_MSG_NET_FD, tap);
	close(rk_steal_fd(&p->tap_send));
	/* at EPIPE the engine is gone: its readiness pipe says why */
	if (r < 0 && r != -EPIPE)
		return rk_error_errno(err, -r, "netstack: handing the tap over");
	return 0;
}

int rk_engine_proc_ready(struct rk_engine_proc *p, uint64_t end_ms, const struct rk_cancel *cancel,
			 struct rk_error *err)
{
	int r = rk_wait_fd(p->ready, POLLIN, end_ms, cancel);

	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return r == -EINTR ? r : rk_error_errno(err, -r, "poll");
	return rk_engine_spawn_result(rk_steal_fd(&p->ready), err);
}

int rk_engine_proc_exited(struct rk_engine_proc *p, int *ret_status)
{
	if (p->pid <= 0 || waitpid(p->pid, ret_status, WNOHANG) != p->pid)
		return 0;
	p->pid = -1;
	return 1;
}

int rk_engine_proc_restart(struct rk_engine_proc *p, int control, uint64_t ready_ms,
			   struct rk_error *err)
{
	int r;

	if (!rk_engine_crash_record(&p->crashes, (int64_t)rk_now_ms())) {
		if (control >= 0)
			close(control);
		return -EMLINK;
	}
	if (p->ready >= 0) /* the dead one's, if it never answered */
		close(rk_steal_fd(&p->ready));
	r = rk_engine_proc_start(p, control, err);
	/* signals wait in the caller's signalfd meanwhile: a start takes milliseconds */
	if (r == 0)
		r = rk_engine_proc_ready(p, rk_now_ms() + ready_ms, NULL, err);
	if (r == -ETIMEDOUT)
		r = rk_error_set(err, ETIMEDOUT, "netstack engine did not start within %u s",
				 (unsigned)(ready_ms / 1000));
	return r;
}

void rk_engine_proc_stop(struct rk_engine_proc *p, bool drain, unsigned drain_ms)
{
	if (p->pid > 0 && !(drain && kill(p->pid, SIGTERM) == 0 &&
			    rk_helper_reap_within(p->pid, drain_ms, NULL))) {
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	p->pid = -1;
	if (p->ready >= 0)
		close(rk_steal_fd(&p->ready));
	if (p->tap_send >= 0)
		close(rk_steal_fd(&p->tap_send));
	if (p->tap >= 0)
		close(rk_steal_fd(&p->tap));
}
