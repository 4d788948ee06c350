/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --net=pasta
 *
 * pasta joins the child's network namespace, creates and configures the interface itself
 * (--config-net: address, route, MTU), then forks into the background; rootlesskit waits
 * for the foreground process to exit, as upstream does. The child only writes resolv.conf
 * and hosts. With --port-driver=implicit pasta forwards every port that a process of the
 * child listens on (--tcp-ports=auto --udp-ports=auto).
 *
 * pasta has no parent-death signal and older releases do not quit when the namespace goes
 * away, so the parent is its subreaper while it starts: the background pasta becomes our
 * child, and the parent stops it at exit and reports it if it dies earlier.
 */
#include "src/net/pasta.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "src/lib/helper.h"
#include "src/lib/log.h"
#include "src/lib/util.h"

#define PASTA_TIMEOUT_MS 30000

/* Finds the binary and probes it with --version and --host-lo-to-ns-lo --version, with
 * upstream's messages. */
static int pasta_prepare(void *drv, const struct rk_net_config *net, struct rk_error *err)
{
	struct rk_pasta *p = drv;
	const char *bin = net->binary;
	char out[4096], quoted[8192];
	int r;

	*p = (struct rk_pasta){ .helper = { .net = net, .pid = -1 } };
	p->path = rk_find_in_path(bin, getenv("PATH"));
	if (!p->path)
		return rk_error_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH",
				    bin);
	{
		char *argv[] = { p->path, (char *)"--version", NULL };
		r = rk_helper_output(p->path, argv, out, sizeof(out), PROBE_MS, NULL);
	}
	if (r == -ETIMEDOUT)
		return rk_error_set(
			err, ETIMEDOUT,
			"command \"%s --version\" did not finish within %d s, make sure "
			"pasta is installed",
			p->path, PROBE_MS / 1000);
	if (r != 0) {
		rk_go_quote(out, quoted, sizeof(quoted));
		return rk_error_set(
			err, r < 0 ? -r : EIO,
			"command \"%s --version\" failed, make sure pasta is installed: "
			"%s: exit status %d",
			p->path, quoted, r);
	}
	{
		/* introduced in passt 2024_10_30 */
		char *argv[] = { p->path, (char *)"--host-lo-to-ns-lo", (char *)"--version", NULL };
		p->has_host_lo_to_ns_lo =
			rk_helper_output(p->path, argv, out, sizeof(out), PROBE_MS, NULL) == 0;
	}
	rk_debug("pasta %s: --host-lo-to-ns-lo %s", p->path,
		 p->has_host_lo_to_ns_lo ? "supported" : "not supported");
	return 0;
}

char **rk_pasta_argv(const struct rk_pasta *p, const struct rk_net_config *net,
		     const struct rk_netcfg *cfg, pid_t child, const char *netns_path)
{
	char **v = NULL;
	size_t n = 0;

#define PUSHF(...)                                                                                 \
	do {                                                                                       \
		rk_auto_free char *arg_ = rk_xasprintf(__VA_ARGS__);                               \
		rk_strv_push(&v, &n, arg_);                                                        \
	} while (0)
	rk_strv_push(&v, &n, p->path);
	rk_strv_push(&v, &n, "--stderr");
	PUSHF("--ns-ifname=%s", cfg->dev);
	PUSHF("--mtu=%u", cfg->mtu);
	rk_strv_push(&v, &n, "--config-net");
	PUSHF("--address=%s", cfg->ip);
	PUSHF("--netmask=%u", cfg->prefix);
	PUSHF("--gateway=%s", cfg->gateway);
	PUSHF("--dns-forward=%s", cfg->dns[0]);
	/* fixed IPv6 addresses too, as upstream since v3.2 (its #620): without them pasta
	 * copies the host's, and the host's own addresses become local inside */
	if (net->ipv6) {
		rk_strv_push(&v, &n, "--address=fd00::100");
		rk_strv_push(&v, &n, "--gateway=fd00::2");
		rk_strv_push(&v, &n, "--dns-forward=fd00::3");
	}
	/* --no-map-gw closes the gateway's way to the host's loopback; the namespace's own
	 * loopback is spliced to the host's by default (--tcp-ns/--udp-ns auto): closed too,
	 * as upstream since v3.2 (its #612) */
	if (net->disable_host_loopback) {
		rk_strv_push(&v, &n, "--no-map-gw");
		rk_strv_push(&v, &n, "--tcp-ns=none");
		rk_strv_push(&v, &n, "--udp-ns=none");
	}
	if (!net->ipv6)
		rk_strv_push(&v, &n, "--ipv4-only");
	if (net->port_driver == RK_PORT_IMPLICIT) {
		rk_strv_push(&v, &n, "--tcp-ports=auto");
		rk_strv_push(&v, &n, "--udp-ports=auto");
	} else {
		rk_strv_push(&v, &n, "--tcp-ports=none");
		rk_strv_push(&v, &n, "--udp-ports=none");
	}
	/* keeps -p 127.0.0.1:... of Docker working with newer pasta */
	if (p->has_host_lo_to_ns_lo)
		rk_strv_push(&v, &n, "--host-lo-to-ns-lo");
	if (netns_path) {
		PUSHF("--userns=/proc/%d/ns/user", (int)child);
		PUSHF("--netns=/proc/%d/root%s", (int)child, netns_path);
	} else {
		PUSHF("%d", (int)child);
	}
#undef PUSHF
	return v;
}

/* Our one child other than not: the background pasta, re-parented to us. */
static pid_t find_adopted(pid_t not )
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	pid_t found = -1;

	if (!d)
		return -1;
	while (found < 0 && (e = readdir(d))) {
		rk_auto_fclose FILE *f = NULL;
		char path[64];
		long pid;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
		f = fopen(path, "re");
		while (f && fscanf(f, "%ld", &pid) == 1)
			if (pid != not ) {
				found = (pid_t)pid;
				break;
			}
	}
	closedir(d);
	return found;
}

/* Runs pasta, which configures the interface and then goes to the background, and waits
 * for its foreground process. The background pasta becomes our child (we are its
 * subreaper meanwhile): *ret_pid is it, for stopping it at exit, or -1 when it cannot be
 * found. Returns 0 or a negative errno with err set ("pasta failed with exit code N:"
 * and its output). */
static int start_helper(const struct rk_pasta *p, const struct rk_net_config *net,
			const struct rk_netcfg *cfg, pid_t child, const char *netns_path,
			const struct rk_cancel *cancel, pid_t *ret_pid, struct rk_error *err)
{
	rk_auto_strv char **argv = rk_pasta_argv(p, net, cfg, child, netns_path);
	char out[8192];
	int r;

	*ret_pid = -1;
	if (net->debug) {
		rk_auto_free char *line = NULL;
		for (char **a = argv; *a; a++) {
			char *next = rk_xasprintf("%s%s%s", line ? line : "", line ? " " : "", *a);
			free(line);
			line = next;
		}
		rk_debug("executing [%s]", line);
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		rk_debug("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	r = rk_helper_output(p->path, argv, out, sizeof(out), PASTA_TIMEOUT_MS, cancel);
	if (r == 0)
		*ret_pid = find_adopted(child);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	if (r == -EINTR)
		return r;
	if (r == -ETIMEDOUT)
		return rk_error_set(err, ETIMEDOUT, "pasta did not finish its start within %d s",
				    PASTA_TIMEOUT_MS / 1000);
	if (r < 0)
		return rk_error_errno(err, -r, "executing %s", p->path);
	if (r != 0)
		/* Go's ExitCode() is -1 for a process killed by a signal */
		return rk_error_set(err, EIO, "pasta failed with exit code %d:\n%s",
				    r > 255 ? -1 : r, out);
	if (*out)
		rk_debug("pasta: %s", out);
	if (*ret_pid < 0)
		rk_warn("cannot find the background pasta; it will not be stopped at exit");
	else
		rk_debug("pasta runs in the background as pid %d", (int)*ret_pid);
	return 0;
}

/* ---- the driver (driver.h) ---- */

static int pasta_start(void *drv, struct rk_net_ctx *ctx, struct rk_error *err)
{
	struct rk_pasta *p = drv;

	return start_helper(p, p->helper.net, ctx->nc, ctx->child, ctx->netns, ctx->cancel,
			    &p->helper.pid, err);
}

static void pasta_free(void *drv)
{
	free(((struct rk_pasta *)drv)->path);
}

/* pasta creates and configures the interface itself: the child writes only the files */
const struct rk_net_ops rk_net_pasta_ops = {
	.net = RK_NET_PASTA,
	.new_netns = true,
	.configure = true,
	.gateway_host = 2,
	.dns_host = 3,
	.ipv6 = true,
	.ipv6_dns = true,
	.step = RK_NETCFG_FILES,
	.default_mtu = 65520,
	.default_ifname = "tap0",
	.size = sizeof(struct rk_pasta),
	.prepare = pasta_prepare,
	.start = pasta_start,
	.check = rk_net_helper_check,
	.stop = rk_net_helper_stop,
	.free = pasta_free,
};
