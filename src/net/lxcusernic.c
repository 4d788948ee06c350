/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --net=lxc-user-nic
 *
 * LXC's setuid helper creates a veth pair, attaches the host end to a bridge the
 * administrator allowed in /etc/lxc/lxc-usernet, and moves the other end into the
 * namespace of a pid we name. The host's kernel routes and NATs; a DHCP server on the
 * bridge (lxc-net's dnsmasq) gives the address. The child brings the interface up and
 * hands a DHCP socket to the parent, which runs the exchange (dhcp.c) and sends the
 * child its address, and later renews the lease.
 */
#include "src/net/lxcusernic.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/lib/helper.h"
#include "src/lib/log.h"
#include "src/lib/sig.h"
#include "src/lib/util.h"

int rk_lxcusernic_prepare(struct rk_lxcusernic *l, const struct rk_options *opts,
			  struct rk_error *err)
{
	const char *bin = opts->lxc_user_nic_binary ? opts->lxc_user_nic_binary
						    : rk_options_lxc_user_nic_default();

	*l = (struct rk_lxcusernic){ .holder = -1 };
	l->path = *bin ? rk_find_in_path(bin, getenv("PATH")) : NULL;
	if (!l->path)
		return rk_error_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH",
				    bin);
	return 0;
}

/* A process of ours in the detached namespace, for lxc-user-nic to name: forked, it joins
 * the child's user namespace (we own it) and then the network namespace at the path, and
 * waits for our death. */
static pid_t start_holder(pid_t child, const char *netns_path, struct rk_error *err)
{
	char user[64], net[4096];
	int ready[2];
	pid_t parent = getpid(), pid;
	char status = 1;

	snprintf(user, sizeof(user), "/proc/%d/ns/user", (int)child);
	snprintf(net, sizeof(net), "/proc/%d/root%s", (int)child, netns_path);
	if (pipe2(ready, O_CLOEXEC) < 0)
		return rk_error_errno(err, errno, "pipe");
	pid = fork();
	if (pid == 0) {
		/* only async-signal-safe calls: the parent has threads */
		int ufd = open(user, O_RDONLY | O_CLOEXEC), nfd = open(net, O_RDONLY | O_CLOEXEC);
		sigset_t none;
		char ok = 0;
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent || ufd < 0 ||
		    nfd < 0 || setns(ufd, CLONE_NEWUSER) < 0 || setns(nfd, CLONE_NEWNET) < 0)
			_exit(1);
		close(ufd);
		close(nfd);
		rk_sig_leave_terminal();
		(void)!write(ready[1], &ok, 1);
		/* it only waits: nothing of ours stays open in it, nothing to gain */
		close_range(3, ~0U, 0);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (pid < 0) {
		close(ready[0]);
		return rk_error_errno(err, errno, "fork");
	}
	while (read(ready[0], &status, 1) < 0 && errno == EINTR)
		;
	close(ready[0]);
	if (status != 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return rk_error_set(err, EPERM, "entering the network namespace %s", net);
	}
	return pid;
}

int rk_lxcusernic_create(struct rk_lxcusernic *l, const struct rk_options *opts, pid_t child,
			 const char *netns_path, const char *dev, const struct rk_cancel *cancel,
			 struct rk_error *err)
{
	char pid_text[16], out[8192];
	pid_t target = child;
	int r;

	if (netns_path) {
		target = start_holder(child, netns_path, err);
		if (target < 0)
			return (int)target;
		l->holder = target;
	}
	snprintf(pid_text, sizeof(pid_text), "%d", (int)target);
	{
		char *argv[] = { l->path,
				 (char *)"create",
				 (char *)"/dev/null",
				 (char *)"dummy",
				 pid_text,
				 (char *)"veth",
				 (char *)opts->lxc_user_nic_bridge,
				 (char *)dev,
				 NULL };
		rk_debug("executing [%s create /dev/null dummy %s veth %s %s]", l->path, pid_text,
			 opts->lxc_user_nic_bridge, dev);
		r = rk_helper_output(l->path, argv, out, sizeof(out), 30000, cancel);
	}
	if (r == -EINTR)
		return r;
	if (r == -ETIMEDOUT)
		return rk_error_set(err, ETIMEDOUT, "%s did not finish within 30 s", l->path);
	if (r < 0)
		return rk_error_errno(err, -r, "executing %s", l->path);
	if (r > 255)
		return rk_error_set(err, EIO, "%s failed: %s: signal: %s", l->path, out,
				    strsignal(r - 256));
	if (r != 0)
		return rk_error_set(err, EIO, "%s failed: %s: exit status %d", l->path, out, r);
	rk_debug("lxc-user-nic: %s", out);
	return 0;
}

void rk_lxcusernic_free(struct rk_lxcusernic *l)
{
	if (l->holder > 0) {
		kill(l->holder, SIGKILL);
		while (waitpid(l->holder, NULL, 0) < 0 && errno == EINTR)
			;
	}
	free(l->path);
	*l = (struct rk_lxcusernic){ .holder = -1 };
}
