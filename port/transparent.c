/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Source-IP transparency, the routing in the child's network namespace
 *
 * The parent connects a socket of the child's namespace with IP_TRANSPARENT, bound to the
 * client's own address, so the service inside sees who connected. Its answers are
 * addressed to a foreign address, which the child's main routing table sends out of the
 * namespace (or nowhere, with --net=none). So, as upstream does:
 *   - table 100 holds "local default dev lo": everything is local there;
 *   - "fwmark 100 lookup 100" sends marked packets through it (IPv4 and IPv6);
 *   - net.ipv4.tcp_fwmark_accept=1 makes an accepted socket take its SYN's mark;
 *   - mangle rules mark connections whose source is not local (OUTPUT, CONNMARK 100) and
 *     restore the mark on their packets (PREROUTING), so replies find table 100.
 * Routes and rules go through rtnetlink; the firewall rules through nftables (one netlink
 * batch, transparent_nft.c), or iptables-restore and ip6tables-restore from PATH (one exec
 * each, run in parallel), which must exist and have a working mangle table
 * (--source-ip-transparent-backend: auto takes nft when nftables answers). The backend is
 * resolved when the socket maker enters the namespace, so the API reports it from the
 * start; the rules are made later. The socket maker (port/maker.c), in the child's user and network
 * namespaces, does it once, when the port driver asks on the first connection that needs
 * it, as upstream does (the mangle rules turn connection tracking
 * on, which costs every connection something). Failing individual steps are logged.
 */
#include "port/transparent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/lib/log.h"
#include "src/lib/netlink.h"
#include "src/lib/util.h"

extern char **environ;

#define MARK  100
#define TABLE 100

static const char rules[] = "*mangle\n"
			    "-A OUTPUT -p tcp -m addrtype ! --src-type LOCAL -j CONNMARK "
			    "--set-mark 100\n"
			    "-A PREROUTING -p tcp -m connmark --mark 100 -j MARK --set-mark 100\n"
			    "COMMIT\n";

/* Starts "NAME --noflush" reading the rules on its stdin, output discarded, with stdio
 * only. Returns its pid, or -1. */
static pid_t spawn_restore(const char *name)
{
	static char noflush[] = "--noflush";
	char *argv[] = { (char *)name, noflush, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int in[2], r;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	/* nothing of ours: the port channel, the signalfd, the caller's leftovers */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	/* we run with every signal blocked: the helper must not */
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawnp(&pid, name, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(in[0]);
	/* a few hundred bytes: the pipe takes them at once */
	if (r == 0)
		(void)!rk_write_all(in[1], rules, sizeof(rules) - 1);
	close(in[1]);
	return r ? -1 : pid;
}

static int wait_status(pid_t pid)
{
	int status = -1;

	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *const backend_names[] = {
	[RK_TRANSPARENT_NONE] = "none",
	[RK_TRANSPARENT_NFT] = "nft",
	[RK_TRANSPARENT_IPTABLES] = "iptables",
	[RK_TRANSPARENT_AUTO] = "auto",
};

const char *rk_transparent_backend_name(enum rk_transparent_backend b)
{
	return (size_t)b < RK_ARRAY_SIZE(backend_names) ? backend_names[b] : "none";
}

int rk_transparent_backend_parse(const char *name)
{
	/* "none" is a state, not a choice (--source-ip-transparent=false is) */
	for (int b = RK_TRANSPARENT_NFT; b <= RK_TRANSPARENT_AUTO; b++)
		if (strcmp(name, backend_names[b]) == 0)
			return b;
	return -1;
}

enum rk_transparent_backend rk_transparent_resolve(enum rk_transparent_backend want, char *why,
						   size_t size)
{
	char *path;
	int r = 0;

	snprintf(why, size, "off");
	if (want == RK_TRANSPARENT_NONE)
		return RK_TRANSPARENT_NONE;
	if (want != RK_TRANSPARENT_IPTABLES) {
		r = rk_transparent_nft_probe();
		if (r == 0)
			return RK_TRANSPARENT_NFT;
		rk_debug("source IP transparent: nftables: %s", strerror(-r));
		if (want == RK_TRANSPARENT_NFT) {
			snprintf(why, size, "nftables is not available (%s)", strerror(-r));
			return RK_TRANSPARENT_NONE;
		}
	}
	path = rk_find_in_path("iptables-restore", getenv("PATH"));
	if (path) {
		free(path);
		return RK_TRANSPARENT_IPTABLES;
	}
	snprintf(why, size, "%s",
		 want == RK_TRANSPARENT_AUTO ? "neither nftables nor iptables-restore is available"
					     : "iptables-restore not found in PATH");
	return RK_TRANSPARENT_NONE;
}

/* iptables-restore and ip6tables-restore, started before the routes are made and waited
 * for after. Returns 0 or -errno with err set. */
static int iptables_rules(pid_t v4, pid_t v6, struct rk_error *err)
{
	int r4 = wait_status(v4), r6 = wait_status(v6);

	if (v4 < 0)
		return rk_error_set(err, ENOENT, "iptables-restore not found in PATH");
	if (r4 != 0)
		return rk_error_set(err, ENOTSUP,
				    "iptables mangle table not available (iptables-restore: exit "
				    "status %d)",
				    r4);
	if (r6 != 0)
		rk_warn("source IP transparent routing setup: ip6tables-restore: %s",
			v6 < 0 ? "not found in PATH" : "failed");
	return 0;
}

int rk_transparent_setup(enum rk_transparent_backend backend, const char *why, struct rk_error *err)
{
	struct rk_error e = { 0 };
	pid_t v4 = -1, v6 = -1;
	int r;

	if (backend != RK_TRANSPARENT_NFT && backend != RK_TRANSPARENT_IPTABLES)
		return rk_error_set(err, ENOTSUP, "%s", why);
	if (backend == RK_TRANSPARENT_IPTABLES) {
		/* the two helpers run while the routes are made */
		v4 = spawn_restore("iptables-restore");
		v6 = spawn_restore("ip6tables-restore");
	}
	for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
		if (rk_netlink_local_default_route(family, TABLE, "lo", &e) < 0 ||
		    rk_netlink_fwmark_rule(family, MARK, TABLE, 100, &e) < 0)
			rk_warn("source IP transparent routing setup: %s", e.msg);
	}
	r = rk_write_file("/proc/sys/net/ipv4/tcp_fwmark_accept", "1");
	if (r < 0)
		rk_warn("source IP transparent routing setup: sysctl -w "
			"net.ipv4.tcp_fwmark_accept=1: %s",
			strerror(-r));
	if (backend == RK_TRANSPARENT_IPTABLES)
		return iptables_rules(v4, v6, err);
	r = rk_transparent_nft_rules(MARK);
	return r < 0 ? rk_error_errno(err, -r, "nftables") : 0;
}
