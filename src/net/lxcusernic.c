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
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/lib/helper.h"
#include "src/lib/log.h"
#include "src/lib/sig.h"
#include "src/lib/util.h"

const char *rk_lxcusernic_default(void)
{
	static char found[256];
	struct utsname u;
	struct stat st;
	char arch_path[200];
	const char *cands[3] = { "/usr/libexec/lxc/lxc-user-nic", arch_path,
				 "/usr/lib/lxc/lxc-user-nic" };

	if (uname(&u) < 0)
		u.machine[0] = '\0';
	snprintf(arch_path, sizeof(arch_path), "/usr/lib/%s-linux-gnu/lxc/lxc-user-nic", u.machine);
	for (size_t i = 0; i < RK_ARRAY_SIZE(cands); i++) {
		if (stat(cands[i], &st) == 0) {
			snprintf(found, sizeof(found), "%s", cands[i]);
			return found;
		}
	}
	return "";
}

/* Finds the binary (--lxc-user-nic-binary, or upstream's default search). */
static int lxc_prepare(void *drv, const struct rk_net_config *net, struct rk_error *err)
{
	struct rk_lxcusernic *l = drv;
	const char *bin = net->binary ? net->binary : rk_lxcusernic_default();

	*l = (struct rk_lxcusernic){ .net = net, .holder = -1 };
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

/* Runs lxc-user-nic create /dev/null dummy PID veth BRIDGE DEV: a veth pair, one end on
 * the bridge, the other moved into the child's namespace as dev. With --detach-netns, PID
 * is a process of ours that entered the detached namespace (netns_path, as seen in the
 * child's mount namespace). */
static int create_veth(struct rk_lxcusernic *l, const struct rk_net_config *net, pid_t child,
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
		char *argv[] = { l->path,  (char *)"create", (char *)"/dev/null", (char *)"dummy",
				 pid_text, (char *)"veth",   (char *)net->bridge, (char *)dev,
				 NULL };
		rk_debug("executing [%s create /dev/null dummy %s veth %s %s]", l->path, pid_text,
			 net->bridge, dev);
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

/* ---- the driver (driver.h) ---- */

#define DHCP_MS 30000 /* the first exchange, as upstream's */

/* The lease's renewals failed: as upstream's child panics there, the command ends. */
static void dhcp_lost(void *arg)
{
	struct rk_lxcusernic *l = arg;

	l->child_link->kill(l->child_link);
}

/* Exchanges DHCP on sock until a lease comes, for DHCP_MS in all; a signal on the start-up's
 * cancel that does not stop it resumes the exchange. Returns 0, -EINTR, or a negative errno
 * with err set. */
static int first_lease(int sock, const char *dev, const struct rk_cancel *cancel,
		       struct rk_dhcp_lease *lease, struct rk_error *err)
{
	uint64_t end = rk_now_ms() + DHCP_MS;

	rk_debug("exchanging DHCP messages using %s, may take a few seconds", dev);
	for (;;) {
		uint64_t now = rk_now_ms();
		int r;
		if (now >= end)
			return rk_error_set(err, ETIMEDOUT, "could not exchange DHCP with %s", dev);
		r = rk_dhcp_exchange(sock, dev, (int)(end - now), cancel->fd, lease, err);
		if (r != -ECANCELED)
			return r;
		if (cancel->stop(cancel->arg))
			return -EINTR;
	}
}

/* The veth, then the child brings it up and hands over a DHCP socket; the address comes
 * from the DHCP server, and a thread keeps the lease. */
static int lxc_start(void *drv, struct rk_net_ctx *ctx, struct rk_error *err)
{
	struct rk_lxcusernic *l = drv;
	struct rk_netcfg *nc = ctx->nc;
	struct rk_dhcp_lease lease = { 0 };
	rk_auto_close int sock = -1;
	int r;

	l->child_link = ctx->child_link;
	r = create_veth(l, l->net, ctx->child, ctx->netns, nc->dev, ctx->cancel, err);
	if (r < 0)
		return r;
	nc->step = RK_NETCFG_LINK;
	r = ctx->child_link->send(ctx->child_link, nc, err);
	if (r == 0)
		r = ctx->child_link->recv_fd(ctx->child_link, &sock, err);
	if (r == 0)
		r = first_lease(sock, nc->dev, ctx->cancel, &lease, err);
	if (r < 0)
		return r;
	inet_ntop(AF_INET, &lease.ip, nc->ip, sizeof(nc->ip));
	inet_ntop(AF_INET, &lease.router, nc->gateway, sizeof(nc->gateway));
	inet_ntop(AF_INET, &lease.dns, nc->dns[0], sizeof(nc->dns[0]));
	nc->n_dns = 1;
	nc->prefix = lease.prefix;
	nc->step = RK_NETCFG_FULL;
	rk_debug("DHCP: %s/%u, router %s, DNS %s, lease %u s", nc->ip, nc->prefix, nc->gateway,
		 nc->dns[0], lease.seconds);
	l->dhcp = rk_dhcp_keeper_start(rk_steal_fd(&sock), nc->dev, &lease, dhcp_lost, l, err);
	return l->dhcp ? 0 : -err->code;
}

static void lxc_stop(void *drv, bool drain)
{
	struct rk_lxcusernic *l = drv;

	(void)drain;
	rk_dhcp_keeper_stop(l->dhcp);
	l->dhcp = NULL;
}

static void lxc_free(void *drv)
{
	struct rk_lxcusernic *l = drv;

	if (l->holder > 0) {
		kill(l->holder, SIGKILL);
		while (waitpid(l->holder, NULL, 0) < 0 && errno == EINTR)
			;
	}
	free(l->path);
}

/* lxc-user-nic moves a veth in; its address is the DHCP server's to give and to change */
const struct rk_net_ops rk_net_lxcusernic_ops = {
	.net = RK_NET_LXC_USER_NIC,
	.new_netns = true,
	.configure = true,
	.dynamic_ip = true,
	.default_mtu = 1500,
	.default_ifname = "eth0",
	.size = sizeof(struct rk_lxcusernic),
	.prepare = lxc_prepare,
	.start = lxc_start,
	.stop = lxc_stop,
	.free = lxc_free,
};
