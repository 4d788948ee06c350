/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inject: the hostile command of the integration tests. Run inside rootlesskit (root in
 * its namespaces), it does what such a command can do to the builtin port driver: take the
 * supervisor's end of the socket-supply channel with pidfd_getfd() and talk to the parent
 * on it, or stop the supervisor.
 *
 *   inject flood N K      N answers nobody asked for, K fresh TCP sockets each
 *   inject garbage SECS   stops the supervisor and answers every request for SECS seconds
 *                         with what was not asked for: pipes, UDP sockets as TCP ones,
 *                         UNIX sockets, TCP sockets of another network namespace
 *   inject block SECS     stops the supervisor and answers the IPv4 TCP requests for SECS
 *                         seconds with sockets of its own, blocking, whose O_NONBLOCK it
 *                         keeps clearing (other requests get proper sockets)
 *   inject ptrace-stop SECS
 *                         stops the supervisor through ptrace (which a pid namespace's
 *                         init cannot ignore), holds it SECS seconds
 *
 * Each prints one line when it has done its harm ("flooded", "stopped", "answered N"), and
 * lets the supervisor go on (SIGCONT) before it exits. Every wait is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <netinet/in.h>

#include "sockpool.h"

#define MARKER "_ROOTLESSKIT_CHILD_UNDOCUMENTED="

static void die(const char *what)
{
	fprintf(stderr, "inject: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The supervisor: the process whose environment holds the marker (cmd,ppid,port_fd,...). */
static pid_t find_supervisor(int *port_fd)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;

	if (!dir)
		die("/proc");
	while ((e = readdir(dir))) {
		char path[64], buf[65536];
		ssize_t n;
		int fd;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/environ", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		for (ssize_t i = 0; n > 0 && i < n;) {
			const char *var = buf + i;
			buf[n] = '\0';
			if (strncmp(var, MARKER, strlen(MARKER)) == 0) {
				long cmd, ppid;
				if (sscanf(var + strlen(MARKER), "%ld,%ld,%d", &cmd, &ppid,
					   port_fd) == 3) {
					closedir(dir);
					return (pid_t)atol(e->d_name);
				}
			}
			i += (ssize_t)strlen(var) + 1;
		}
	}
	closedir(dir);
	errno = ESRCH;
	die("no supervisor with a port channel");
	return -1;
}

static int take_channel(pid_t sup, int fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, sup, 0), chan;

	if (pidfd < 0)
		die("pidfd_open");
	chan = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (chan < 0)
		die("pidfd_getfd");
	close(pidfd);
	return chan;
}

static void send_answer(int chan, const struct rk_sockpool_rep *rep, const int *fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * RK_SOCKPOOL_MAX_BATCH)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)rep, sizeof(*rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (rep->count) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * rep->count);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * rep->count);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * rep->count);
	}
	/* ETOOMANYREFS: more in flight than our descriptor limit; the parent reads on */
	for (int tries = 0; sendmsg(chan, &mh, MSG_NOSIGNAL) < 0; tries++)
		if (errno != ETOOMANYREFS || tries == 500 || usleep(10 * 1000) < 0)
			die("sendmsg");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void flood(int chan, int n, int k)
{
	int fds[RK_SOCKPOOL_MAX_BATCH];

	if (k < 1 || k > RK_SOCKPOOL_MAX_BATCH)
		k = 200;
	for (int i = 0; i < n; i++) {
		struct rk_sockpool_rep rep = { RK_SOCKPOOL_SOCKETS, AF_INET,	 SOCK_STREAM,
					       (uint32_t)k,	    (uint32_t)k, 0 };
		for (int j = 0; j < k; j++)
			if ((fds[j] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
				die("socket");
		send_answer(chan, &rep, fds);
		for (int j = 0; j < k; j++)
			close(fds[j]);
	}
	printf("flooded\n");
}

static int held[4096], n_held; /* copies of the blocking sockets handed out */

enum kind {
	PIPE,
	UDP_AS_TCP,
	UNIX,
	FOREIGN,
	KINDS
};

/* Answers requests until the deadline; make fills fds with what a request gets. */
static int serve(int chan, double secs, int (*make)(const struct rk_sockpool_req *, int *))
{
	double end = now() + secs;
	int answered = 0;

	while (now() < end) {
		struct pollfd p = { .fd = chan, .events = POLLIN };
		struct rk_sockpool_req req;
		struct rk_sockpool_rep rep = { 0 };
		int fds[RK_SOCKPOOL_MAX_BATCH];

		/* the sockets handed out stay blocking, whatever the parent sets */
		for (int i = 0; i < n_held; i++)
			fcntl(held[i], F_SETFL, fcntl(held[i], F_GETFL) & ~O_NONBLOCK);
		if (poll(&p, 1, 100) <= 0)
			continue;
		if (recv(chan, &req, sizeof(req), MSG_DONTWAIT) != (ssize_t)sizeof(req) ||
		    req.op != RK_SOCKPOOL_SOCKETS || req.count > RK_SOCKPOOL_MAX_BATCH)
			continue;
		rep.op = req.op;
		rep.family = req.family;
		rep.type = req.type;
		rep.asked = req.count;
		rep.count = (uint32_t)make(&req, fds);
		send_answer(chan, &rep, fds);
		answered++;
		printf("answered %d\n", answered);
		fflush(stdout);
	}
	return answered;
}

static int foreign_tcp = -1; /* a TCP socket of another network namespace */

static int make_garbage(const struct rk_sockpool_req *req, int *fds)
{
	for (uint32_t i = 0; i < req->count; i++) {
		int p[2];
		switch (i % KINDS) {
		case PIPE:
			if (pipe2(p, O_NONBLOCK) < 0)
				die("pipe");
			close(p[0]);
			fds[i] = p[1];
			break;
		case UDP_AS_TCP:
			fds[i] = socket(req->family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
			break;
		case UNIX:
			fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
			break;
		default:
			fds[i] = dup(foreign_tcp);
			break;
		}
		if (fds[i] < 0)
			die("making garbage");
	}
	return (int)req->count;
}

static int make_blocking(const struct rk_sockpool_req *req, int *fds)
{
	bool bad = req->family == AF_INET && req->type == SOCK_STREAM;

	for (uint32_t i = 0; i < req->count; i++) {
		fds[i] = socket(req->family, req->type | (bad ? 0 : SOCK_NONBLOCK), 0);
		if (fds[i] < 0)
			die("socket");
		if (bad && n_held < (int)(sizeof(held) / sizeof(held[0])))
			held[n_held++] = dup(fds[i]); /* ours too: the flag can change any time */
	}
	return (int)req->count;
}

static void stop(pid_t sup)
{
	if (kill(sup, SIGSTOP) < 0)
		die("SIGSTOP");
	printf("stopped\n");
	fflush(stdout);
}

static void ptrace_stop(pid_t sup, double secs)
{
	int status;

	if (ptrace(PTRACE_SEIZE, sup, 0, 0) < 0)
		die("PTRACE_SEIZE");
	if (kill(sup, SIGSTOP) < 0)
		die("SIGSTOP");
	/* the signal-delivery stop: let the SIGSTOP through, into a group stop */
	if (waitpid(sup, &status, __WALL) < 0)
		die("waitpid");
	if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP)
		ptrace(PTRACE_CONT, sup, 0, SIGSTOP);
	printf("stopped\n");
	fflush(stdout);
	for (double end = now() + secs; now() < end;)
		usleep(100 * 1000);
	ptrace(PTRACE_DETACH, sup, 0, 0);
}

int main(int argc, char **argv)
{
	int port_fd = -1, chan, n;
	pid_t sup;
	double secs;
	struct rlimit nofile;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	if (argc < 3) {
		fprintf(stderr, "usage: inject flood N K | garbage SECS | block SECS | "
				"ptrace-stop SECS\n");
		return 2;
	}
	sup = find_supervisor(&port_fd);
	secs = atof(argv[2]);
	if (secs > 60)
		secs = 60;
	if (strcmp(argv[1], "ptrace-stop") == 0) {
		ptrace_stop(sup, secs);
		kill(sup, SIGCONT);
		return 0;
	}
	chan = take_channel(sup, port_fd);
	if (strcmp(argv[1], "flood") == 0) {
		flood(chan, atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 200);
		return 0;
	}
	if (strcmp(argv[1], "garbage") == 0) {
		/* a namespace of our own for the foreign sockets (root here: allowed) */
		if (unshare(CLONE_NEWNET) < 0)
			die("unshare");
		foreign_tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (foreign_tcp < 0)
			die("socket");
		stop(sup);
		n = serve(chan, secs, make_garbage);
	} else if (strcmp(argv[1], "block") == 0) {
		stop(sup);
		n = serve(chan, secs, make_blocking);
	} else {
		fprintf(stderr, "inject: unknown mode %s\n", argv[1]);
		return 2;
	}
	kill(sup, SIGCONT);
	printf("done %d\n", n);
	return 0;
}
