/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The socket maker
 *
 * A socket belongs for life to the network namespace it was made in, and the parent cannot
 * enter the child's (setns of a user namespace needs a single-threaded process). So the
 * parent forks, while it still has one thread, a process that waits until the child's
 * namespaces exist, then enters its user and network namespaces and answers the port
 * driver's requests (sockpool.h): fresh sockets, and the routing source-IP transparency
 * needs (transparent.c).
 *
 * It is the parent's, not the command's: the command may stop, trace or rob the
 * supervisor (it is root in the supervisor's namespaces), but this process was forked
 * outside them, is not dumpable, and so its memory and descriptors are not the command's
 * to take (pidfd_getfd, ptrace need CAP_SYS_PTRACE where it was made); with --pidns the
 * command cannot even name it. Every signal stays blocked, as in the parent; it ends with
 * the parent (SIGKILL at its death) or at the end of its channel.
 */
#include "port/maker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port/sockpool.h"
#include "port/transparent.h"
#include "src/lib/helper.h"
#include "src/lib/log.h"
#include "src/lib/msg.h"
#include "src/lib/util.h"

#define ENTER_MS 10000

/* The transparency backend resolved on entering (the maker's own copy), and why there is
 * none, for the first connection that needs one. */
static enum rk_transparent_backend backend;
static char backend_why[160];

/* The routing set-up of source-IP transparency, asked for by the port driver. */
static int transparent_setup(void)
{
	struct rk_error err = { 0 };

	if (rk_transparent_setup(backend, backend_why, &err) < 0) {
		rk_warn("source IP transparent: %s; falling back to non-transparent mode, client "
			"source IPs will not be preserved",
			err.msg);
		return err.code ? err.code : EIO;
	}
	return 0;
}

/* Closes every descriptor from 3 on but the three kept (in any order). */
static void close_all_but(int a, int b, int c)
{
	int keep[3] = { a, b, c }, from = 3;

	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				int t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	for (int i = 0; i < 3; i++) {
		if (keep[i] > from)
			close_range((unsigned)from, (unsigned)keep[i] - 1, 0);
		if (keep[i] >= from)
			from = keep[i] + 1;
	}
	close_range((unsigned)from, ~0U, 0);
}

/* Enters the namespaces the parent names on go ("USERNS\0NETNS\0"). Returns 0 or errno. */
static int enter(int go)
{
	char buf[2 * PATH_MAX + 2];
	size_t len = 0;
	int ufd, nfd, e = 0;

	for (;;) {
		ssize_t n = read(go, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (len == 0 || strlen(buf) + 1 >= len)
		return EPIPE; /* the parent gave up */
	/* both opened before the first setns, which changes what we may open */
	ufd = open(buf, O_RDONLY | O_CLOEXEC);
	nfd = open(buf + strlen(buf) + 1, O_RDONLY | O_CLOEXEC);
	if (ufd < 0 || nfd < 0)
		e = errno;
	else if (setns(ufd, CLONE_NEWUSER) < 0 || setns(nfd, CLONE_NEWNET) < 0)
		e = errno;
	if (ufd >= 0)
		close(ufd);
	if (nfd >= 0)
		close(nfd);
	return e;
}

static __attribute__((noreturn)) void maker_main(pid_t parent, int chan, int go, int answer,
						 enum rk_transparent_backend want)
{
	int32_t reply[2];
	int e;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	prctl(PR_SET_NAME, "rk-socket-maker");
	/* stdio stays (its warnings go to the parent's stderr), nothing else of the parent's */
	close_all_but(chan, go, answer);
	e = enter(go);
	close(go);
	/* entering gave us capabilities, which made us undumpable already: said anyway */
	prctl(PR_SET_DUMPABLE, 0);
	backend = e ? RK_TRANSPARENT_NONE
		    : rk_transparent_resolve(want, backend_why, sizeof(backend_why));
	reply[0] = e;
	reply[1] = (int32_t)backend;
	(void)!write(answer, reply, sizeof(reply));
	close(answer);
	if (e)
		_exit(1);
	for (;;) {
		struct pollfd pfd = { .fd = chan, .events = POLLIN };
		int r;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			_exit(1);
		r = rk_sockpool_serve(chan, transparent_setup);
		if (r == 0)
			_exit(0); /* the port driver closed its end */
		if (r < 0 && r != -EBADMSG)
			_exit(1);
	}
}

int rk_sockmaker_fork(struct rk_sockmaker *m, struct rk_error *err)
{
	int ch[2], go[2] = { -1, -1 }, answer[2] = { -1, -1 }, r;
	pid_t parent = getpid();

	r = rk_msg_pair(ch);
	if (r < 0)
		return rk_error_errno(err, -r, "socketpair");
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(answer, O_CLOEXEC) < 0) {
		r = rk_error_errno(err, errno, "pipe");
		goto fail;
	}
	m->pid = fork();
	if (m->pid < 0) {
		r = rk_error_errno(err, errno, "fork");
		goto fail;
	}
	if (m->pid == 0)
		maker_main(parent, ch[1], go[0], answer[1],
			   (enum rk_transparent_backend)m->backend);
	close(ch[1]);
	close(go[0]);
	close(answer[1]);
	m->chan = ch[0];
	m->go = go[1];
	m->answer = answer[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		close(ch[i]);
		if (go[i] >= 0)
			close(go[i]);
		if (answer[i] >= 0)
			close(answer[i]);
	}
	m->pid = -1;
	return r;
}

int rk_sockmaker_enter(struct rk_sockmaker *m, const char *userns_path, const char *netns_path,
		       const struct rk_cancel *cancel, struct rk_error *err)
{
	int32_t reply[2] = { 0, RK_TRANSPARENT_NONE };
	int e, r;
	ssize_t n;

	/* a few hundred bytes into an empty pipe: they fit */
	if ((r = rk_write_all(m->go, userns_path, strlen(userns_path) + 1)) < 0 ||
	    (r = rk_write_all(m->go, netns_path, strlen(netns_path) + 1)) < 0)
		return rk_error_errno(err, -r, "the socket maker");
	close(m->go);
	m->go = -1;
	r = rk_wait_fd(m->answer, POLLIN, rk_now_ms() + ENTER_MS, cancel);
	if (r == 0)
		return rk_error_set(err, ETIMEDOUT,
				    "the socket maker did not enter the child's namespaces within "
				    "%d s",
				    ENTER_MS / 1000);
	if (r < 0)
		return r == -EINTR ? r : rk_error_errno(err, -r, "poll");
	do
		n = read(m->answer, reply, sizeof(reply));
	while (n < 0 && errno == EINTR);
	close(m->answer);
	m->answer = -1;
	e = reply[0];
	m->backend = reply[1];
	if (n != (ssize_t)sizeof(reply))
		return rk_error_set(err, EPIPE, "the socket maker exited");
	if (e)
		return rk_error_errno(err, e, "the socket maker could not enter %s and %s",
				      userns_path, netns_path);
	return 0;
}

void rk_sockmaker_stop(struct rk_sockmaker *m)
{
	if (m->chan >= 0)
		close(m->chan);
	if (m->go >= 0)
		close(m->go);
	if (m->answer >= 0)
		close(m->answer);
	if (m->pid > 0) {
		kill(m->pid, SIGKILL);
		if (!rk_helper_reap_within(m->pid, 5000, NULL))
			rk_warn("the socket maker (pid %d) did not end", (int)m->pid);
	}
	*m = (struct rk_sockmaker)RK_SOCKMAKER_INIT;
}
