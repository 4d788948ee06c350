/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inject: the hostile command of the integration tests. Run inside rootlesskit (root in
 * its namespaces), it does what such a command can do to reach the builtin port driver's
 * socket supply, or to stop the supervisor.
 *
 *   inject steal          tries pidfd_getfd() on descriptors 0..1023 of every other process
 *                         it can see, and counts the SOCK_SEQPACKET UNIX sockets it got (the
 *                         socket supply is one); prints "stolen N of M taken" (M: all it
 *                         could take, which shows that it could take some)
 *   inject ptrace-stop SECS
 *                         stops the supervisor (the process whose environment holds
 *                         rootlesskit's marker) through ptrace, which a pid namespace's init
 *                         cannot ignore, holds it SECS seconds (60 at most), then lets it go
 *                         on; prints "stopped" once it is stopped
 *
 * Every wait is bounded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MARKER "_ROOTLESSKIT_CHILD_UNDOCUMENTED="

static void die(const char *what)
{
	fprintf(stderr, "inject: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Calls fn(pid) for every process in /proc but ourselves; stops at the first that returns
 * true, and returns its pid (or -1). */
static pid_t each_process(int (*fn)(pid_t pid, void *arg), void *arg)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	pid_t found = -1;

	if (!dir)
		die("/proc");
	while ((e = readdir(dir))) {
		pid_t pid = (pid_t)atol(e->d_name);
		if (pid <= 0 || pid == getpid())
			continue;
		if (fn(pid, arg)) {
			found = pid;
			break;
		}
	}
	closedir(dir);
	return found;
}

struct loot {
	int stolen, taken;
};

static int steal_from(pid_t pid, void *arg)
{
	struct loot *loot = arg;
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (pidfd < 0)
		return 0;
	for (int fd = 0; fd < 1024; fd++) {
		int got = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0), type = 0, dom = 0;
		socklen_t len = sizeof(int);
		if (got < 0) {
			if (errno == EPERM)
				break; /* not ours to take: none of them */
			continue;
		}
		loot->taken++;
		if (getsockopt(got, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
		    getsockopt(got, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 &&
		    type == SOCK_SEQPACKET && dom == AF_UNIX) {
			loot->stolen++;
			fprintf(stderr, "inject: a SEQPACKET socket from pid %d, fd %d\n", (int)pid,
				fd);
		}
		close(got);
	}
	close(pidfd);
	return 0;
}

static int has_marker(pid_t pid, void *arg)
{
	char path[64], buf[65536];
	ssize_t n;
	int fd;

	(void)arg;
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(buf + i) + 1) {
		buf[n] = '\0';
		if (strncmp(buf + i, MARKER, strlen(MARKER)) == 0)
			return 1;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
	kill(sup, SIGCONT);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "steal") == 0) {
		struct loot loot = { 0 };
		each_process(steal_from, &loot);
		printf("stolen %d of %d taken\n", loot.stolen, loot.taken);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "ptrace-stop") == 0) {
		double secs = atof(argv[2]);
		pid_t sup = each_process(has_marker, NULL);
		if (sup < 0) {
			errno = ESRCH;
			die("no supervisor");
		}
		ptrace_stop(sup, secs > 60 ? 60 : secs);
		return 0;
	}
	fprintf(stderr, "usage: inject steal | ptrace-stop SECS\n");
	return 2;
}
