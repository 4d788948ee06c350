/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --net=slirp4netns
 *
 * The child creates the tap device in its network namespace (netlink.c) while it sets up;
 * the parent then starts slirp4netns on the child's pid with upstream's arguments and
 * waits for its readiness byte on fd 3, checking every second that it is still alive.
 * slirp4netns dies with rootlesskit (parent-death signal); one that dies later is
 * reported by the parent (parent.c).
 */
#include "src/net/slirp4netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "port/slirp4netns.h"
#include "src/lib/helper.h"
#include "src/lib/log.h"
#include "src/lib/sig.h"
#include "src/lib/util.h"

static bool kernel_supports_seccomp(void)
{
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL)
		return false;
	/* a NULL filter: EFAULT when filters exist, EINVAL when they do not */
	return !(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, 0, 0, 0) < 0 && errno == EINVAL);
}

/* Finds the binary, probes its features and resolves --slirp4netns-sandbox and
 * --slirp4netns-seccomp (auto/true/false) against them, with upstream's messages.
 * Runs before anything is started. */
static int s4nn_prepare(void *drv, const struct rk_net_config *net, struct rk_error *err)
{
	struct rk_slirp4netns *s = drv;
	const char *bin = net->binary;
	char *argv[] = { (char *)bin, (char *)"--help", NULL };
	char out[16384];
	int r;

	*s = (struct rk_slirp4netns){ .helper = { .net = net, .pid = -1 } };
	s->path = rk_find_in_path(bin, getenv("PATH"));
	if (!s->path)
		return rk_error_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH",
				    bin);
	r = rk_helper_output(s->path, argv, out, sizeof(out), PROBE_MS, NULL);
	if (r == -ETIMEDOUT)
		return rk_error_set(err, ETIMEDOUT,
				    "command \"%s --help\" did not finish within %d s, make sure "
				    "slirp4netns v0.4.0+ is installed",
				    s->path, PROBE_MS / 1000);
	if (r != 0)
		return rk_error_set(
			err, r < 0 ? -r : EIO,
			"command \"%s --help\" failed, make sure slirp4netns v0.4.0+ is "
			"installed: \"%s\": exit status %d",
			s->path, out, r);
	if (!strstr(out, "--netns-type"))
		return rk_error_set(err, ENOTSUP, "slirp4netns seems older than v0.4.0");
	s->has_ipv6 = strstr(out, "--enable-ipv6");
	s->has_cidr = strstr(out, "--cidr");
	s->has_disable_host_loopback = strstr(out, "--disable-host-loopback");
	s->has_api_socket = strstr(out, "--api-socket");
	s->has_sandbox = strstr(out, "--enable-sandbox");
	s->has_seccomp = strstr(out, "--enable-seccomp");
	s->kernel_seccomp = kernel_supports_seccomp();

	switch (net->sandbox) {
	case RK_AUTO:
		/* known not to work with --detach-netns (slirp4netns issue 317) */
		s->sandbox = s->has_sandbox && !net->detach_netns;
		break;
	case RK_TRUE:
		if (!s->has_sandbox)
			return rk_error_set(err, ENOTSUP,
					    "unsupported slirp4netns version: lacks "
					    "SupportsEnableSandbox");
		if (net->detach_netns)
			return rk_error_set(
				err, EINVAL,
				"--slirp4netns-sandbox conflicts with --detach-netns "
				"(https://github.com/rootless-containers/slirp4netns/issues/317)");
		s->sandbox = true;
		break;
	case RK_FALSE:
		break;
	}
	switch (net->seccomp) {
	case RK_AUTO:
		s->seccomp = s->has_seccomp && s->kernel_seccomp;
		break;
	case RK_TRUE:
		if (!s->has_seccomp)
			return rk_error_set(err, ENOTSUP,
					    "unsupported slirp4netns version: lacks "
					    "SupportsEnableSeccomp");
		if (!s->kernel_seccomp)
			return rk_error_set(err, ENOTSUP, "kernel doesn't support seccomp");
		s->seccomp = true;
		break;
	case RK_FALSE:
		break;
	}
	if (net->ipv6 && !s->has_ipv6)
		return rk_error_set(err, ENOTSUP,
				    "this version of slirp4netns does not support --enable-ipv6");
	if (*net->cidr && !s->has_cidr)
		return rk_error_set(err, ENOTSUP,
				    "this version of slirp4netns does not support --cidr");
	if (net->disable_host_loopback && !s->has_disable_host_loopback)
		return rk_error_set(err, ENOTSUP,
				    "this version of slirp4netns does not support "
				    "--disable-host-loopback");
	return 0;
}

char **rk_slirp4netns_argv(const struct rk_slirp4netns *s, const struct rk_net_config *net,
			   const struct rk_netcfg *cfg, const char *api_socket, pid_t child,
			   const char *netns_path)
{
	char **v = NULL;
	size_t n = 0;
	char num[32];

	rk_strv_push(&v, &n, s->path);
	rk_strv_push(&v, &n, "--mtu");
	snprintf(num, sizeof(num), "%u", cfg->mtu);
	rk_strv_push(&v, &n, num);
	rk_strv_push(&v, &n, "-r");
	rk_strv_push(&v, &n, "3");
	if (net->disable_host_loopback)
		rk_strv_push(&v, &n, "--disable-host-loopback");
	if (*net->cidr) {
		rk_strv_push(&v, &n, "--cidr");
		rk_strv_push(&v, &n, net->cidr);
	}
	if (api_socket) {
		rk_strv_push(&v, &n, "--api-socket");
		rk_strv_push(&v, &n, api_socket);
	}
	if (s->sandbox)
		rk_strv_push(&v, &n, "--enable-sandbox");
	if (s->seccomp)
		rk_strv_push(&v, &n, "--enable-seccomp");
	if (net->ipv6)
		rk_strv_push(&v, &n, "--enable-ipv6");
	if (netns_path) {
		/* the detached namespace, seen through the child's root */
		rk_auto_free char *user =
			rk_xasprintf("--userns-path=/proc/%d/ns/user", (int)child);
		rk_auto_free char *path = rk_xasprintf("/proc/%d/root%s", (int)child, netns_path);
		rk_strv_push(&v, &n, user);
		rk_strv_push(&v, &n, "--netns-type=path");
		rk_strv_push(&v, &n, path);
	} else {
		snprintf(num, sizeof(num), "%d", (int)child);
		rk_strv_push(&v, &n, num);
	}
	rk_strv_push(&v, &n, cfg->dev);
	return v;
}

/* How long slirp4netns may take to say it is ready, and to exit once it closed fd 3
 * without a byte. */
#define READY_MS     30000
#define READY_EOF_MS 1000

/* Waits for a byte on ready. Returns 0, -EINTR when cancelled, -ECHILD when it exited
 * (reaped), or -errno with err set. */
static int wait_ready(int ready, pid_t pid, const struct rk_cancel *cancel, struct rk_error *err)
{
	uint64_t end = rk_now_ms() + READY_MS;
	bool eof = false;
	int status;

	for (;;) {
		uint64_t now = rk_now_ms();
		ssize_t n;
		int r;
		char b;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			char text[64];
			rk_sig_format_status(status, text, sizeof(text));
			return rk_error_set(err, ECHILD,
					    "waiting for ready fd: slirp4netns exited: %s", text);
		}
		if (now >= end && eof)
			return rk_error_set(err, ETIMEDOUT,
					    "waiting for ready fd: slirp4netns closed it without a "
					    "byte and did not exit");
		if (now >= end)
			return rk_error_set(
				err, ETIMEDOUT,
				"waiting for ready fd: slirp4netns was not ready within "
				"%d s",
				READY_MS / 1000);
		/* its exit is looked for every 100 ms */
		r = rk_wait_fd(eof ? -1 : ready, POLLIN, now + 100 < end ? now + 100 : end, cancel);
		if (r < 0)
			return r == -EINTR ? r : rk_error_errno(err, -r, "poll");
		if (r == 0)
			continue;
		n = read(ready, &b, 1);
		if (n == 1)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		/* EOF without a byte: it is exiting, or never says it is ready */
		eof = true;
		if (end > now + READY_EOF_MS)
			end = now + READY_EOF_MS;
	}
}

/* Starts it on the child's namespaces and waits until it reports ready on fd 3, watching
 * for its death (and for cancel). Returns 0 with *ret_pid set, -EINTR when cancelled, or
 * a negative errno with err set (the helper is then killed and reaped). */
static int start_helper(const struct rk_slirp4netns *s, const struct rk_net_config *net,
			const struct rk_netcfg *cfg, const char *api_socket, pid_t child,
			const char *netns_path, const struct rk_cancel *cancel, pid_t *ret_pid,
			struct rk_error *err)
{
	rk_auto_strv char **argv = rk_slirp4netns_argv(s, net, cfg, api_socket, child, netns_path);
	int ready[2], r;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return rk_error_errno(err, errno, "pipe");
	pid = rk_helper_spawn(s->path, argv, ready[1], net->debug);
	close(ready[1]);
	if (pid < 0) {
		close(ready[0]);
		return rk_error_errno(err, (int)-pid, "executing %s", s->path);
	}
	rk_debug("started slirp4netns, pid %d", (int)pid);
	r = wait_ready(ready[0], pid, cancel, err);
	close(ready[0]);
	if (r < 0) {
		if (r != -ECHILD) { /* still running (ECHILD: it exited and was reaped) */
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		return r;
	}
	*ret_pid = pid;
	return 0;
}

/* ---- the driver (driver.h) ---- */

/* --port-driver=slirp4netns: slirp4netns's API socket in the state directory */
static int s4nn_ports(void *drv, const char *state_dir, const char *child_ip,
		      struct rk_port_driver **ret, struct rk_error *err)
{
	struct rk_slirp4netns *s = drv;

	(void)err;
	if (s->helper.net->port_driver != RK_PORT_SLIRP4NETNS)
		return 0;
	s->api_socket = rk_xasprintf("%s/.s4nn.sock", state_dir);
	*ret = rk_port_slirp4netns_new(s->api_socket, child_ip);
	return 0;
}

static int s4nn_start(void *drv, struct rk_net_ctx *ctx, struct rk_error *err)
{
	struct rk_slirp4netns *s = drv;

	return start_helper(s, s->helper.net, ctx->nc, s->api_socket, ctx->child, ctx->netns,
			    ctx->cancel, &s->helper.pid, err);
}

static void s4nn_free(void *drv)
{
	struct rk_slirp4netns *s = drv;

	free(s->path);
	free(s->api_socket);
}

const struct rk_net_ops rk_net_slirp4netns_ops = {
	.net = RK_NET_SLIRP4NETNS,
	.new_netns = true,
	.tap = true,
	.configure = true,
	.gateway_host = 2,
	.dns_host = 3,
	.ipv6 = true,
	.ipv6_dns = true,
	.default_mtu = 65520,
	.default_ifname = "tap0",
	.size = sizeof(struct rk_slirp4netns),
	.prepare = s4nn_prepare,
	.ports = s4nn_ports,
	.start = s4nn_start,
	.check = rk_net_helper_check,
	.stop = rk_net_helper_stop,
	.free = s4nn_free,
};
