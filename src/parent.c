/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parent
 *
 * Runs as the user in the host namespaces. In order: look up the subordinate ids (so that a
 * missing /etc/subuid entry fails before anything is started), open the state directory,
 * block every signal (they are read from a signalfd from now on), clone the child (child.c),
 * write its uid/gid maps, and walk it through the handshake:
 *
 *   parent                          child (H)
 *   ── RK_MSG_IDMAP_DONE ──────────>  mounts...
 *   <───────── RK_MSG_SETUP_DONE ──
 *   write child_pid
 *   ── RK_MSG_EXEC ────────────────>  execve(command)
 *   <───────────── EOF (exec done) or RK_MSG_ERROR
 *
 * Every wait also watches the signalfd, and the channel reaches EOF when the child dies, so
 * no step can hang on a dead child. A SIGHUP/SIGINT/SIGQUIT/SIGTERM during start-up stops
 * the start-up cleanly; other signals are kept and forwarded once the command runs. From
 * then on every signal is forwarded to the child, which forwards it to the command, until
 * the child exits; its status becomes ours.
 */
#include "src/parent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/server.h"
#include "netstack/engine.h"
#include "netstack/launch.h"
#include "port/builtin.h"
#include "port/maker.h"
#include "port/netstack.h"
#include "port/slirp4netns.h"
#include "src/cgroup.h"
#include "src/child.h"
#include "src/copyup.h"
#include "src/idmap.h"
#include "src/lib/helper.h"
#include "src/lib/log.h"
#include "src/lib/msg.h"
#include "src/lib/sig.h"
#include "src/lib/util.h"
#include "src/mount.h"
#include "src/net/dhcp.h"
#include "src/net/lxcusernic.h"
#include "src/net/netcfg.h"
#include "src/net/pasta.h"
#include "src/net/slirp4netns.h"
#include "src/net/vpnkit.h"
#include "src/statedir.h"
#include "src/subid.h"

extern char **environ;

static const char *const rk_env_names[] = { "ROOTLESSKIT_STATE_DIR", "ROOTLESSKIT_PARENT_EUID",
					    "ROOTLESSKIT_PARENT_EGID", RK_CHILD_ENV };

struct parent_state {
	const struct rk_options *opts;
	struct rk_statedir sd;
	int sfd;		/* signalfd */
	int sock;		/* parent end of the channel */
	pid_t child;		/* -1 until started, and once reaped */
	sigset_t orig_mask;	/* the mask we started with, restored for the command */
	mode_t orig_umask;	/* likewise: ours is private (0077) */
	sigset_t deferred;	/* signals received during start-up, forwarded later */
	int abort_signal;	/* a termination signal that stopped the start-up */
	bool child_error;	/* the error being reported was sent by the child */
	struct rk_job_stop job; /* whether the child's stop is the job's (then ours too) */
	int child_pidfd;	/* the child's pidfd (-1 before Linux 5.3): see signal_child() */
	struct rk_api_server *api;
	struct rk_port_driver *ports;	/* NULL: --port-driver=none */
	struct rk_sockmaker maker;	/* --port-driver=builtin: its socket supply */
	struct rk_slirp4netns s4nn;	/* --net=slirp4netns */
	struct rk_pasta pasta;		/* --net=pasta */
	struct rk_vpnkit vpnkit;	/* --net=vpnkit */
	struct rk_lxcusernic lxc;	/* --net=lxc-user-nic */
	struct rk_dhcp_keeper *dhcp;	/* --net=lxc-user-nic: the lease's renewals */
	struct rk_netcfg netcfg;	/* the child's interface, for drivers that configure one */
	pid_t helper;			/* the network driver's process, or -1 */
	int engine_control;		/* --port-driver=netstack: the engine's end, or -1 */
	int tap;			/* --net=builtin: the child's tap, kept for the engine */
	int engine_ready;		/* the engine's readiness pipe until it answered, or -1 */
	struct rk_engine_config engine; /* --net=builtin: how the engine runs */
	struct rk_engine_crashes crashes; /* --net=builtin: its deaths so far */
	char lost[256];			  /* why the network is gone for good, or "" */
};

static bool env_is_ours(const char *entry)
{
	for (size_t i = 0; i < RK_ARRAY_SIZE(rk_env_names); i++) {
		size_t n = strlen(rk_env_names[i]);
		if (strncmp(entry, rk_env_names[i], n) == 0 && entry[n] == '=')
			return true;
	}
	return false;
}

/* The environment of the command: ours without stale ROOTLESSKIT_* values, plus the three
 * documented variables. With ret_marker, one more entry of RK_CHILD_ENV_SIZE writable bytes
 * is added for the child's marker and its index stored there. */
static char **build_env(const char *state_dir, size_t *ret_marker)
{
	char **env = NULL;
	size_t n = 0;

	for (char **e = environ; e && *e; e++)
		if (!env_is_ours(*e))
			rk_strv_push(&env, &n, *e);
	{
		rk_auto_free char *a = rk_xasprintf("ROOTLESSKIT_STATE_DIR=%s", state_dir);
		rk_auto_free char *b =
			rk_xasprintf("ROOTLESSKIT_PARENT_EUID=%u", (unsigned)geteuid());
		rk_auto_free char *c =
			rk_xasprintf("ROOTLESSKIT_PARENT_EGID=%u", (unsigned)getegid());
		rk_strv_push(&env, &n, a);
		rk_strv_push(&env, &n, b);
		rk_strv_push(&env, &n, c);
	}
	if (ret_marker) {
		rk_strv_push(&env, &n, "");
		env[n - 1] = rk_xrealloc(env[n - 1], RK_CHILD_ENV_SIZE);
		*ret_marker = n - 1;
	}
	return env;
}

static void preflight_warnings(void)
{
	long v;

	if (geteuid() == 0)
		rk_warn("Running RootlessKit as the root user is unsupported.");
	if (rk_read_proc_long("/proc/sys/kernel/unprivileged_userns_clone", &v) == 0 && v == 0)
		rk_warn("/proc/sys/kernel/unprivileged_userns_clone needs to be set to 1.");
	if (rk_read_proc_long("/proc/sys/user/max_user_namespaces", &v) == 0) {
		if (v == 0)
			rk_warn("/proc/sys/user/max_user_namespaces needs to be set to non-zero.");
		else if (v < 1024)
			rk_warn("/proc/sys/user/max_user_namespaces=%ld may be low. Consider "
				"setting to "
				">= %d.",
				v, 1024);
	}
}

/* Non-private propagation needs the host's "/" to be shared. */
static void warn_propagation(const struct rk_options *opts)
{
	char optional[256];

	if (strstr(opts->propagation_name, "private"))
		return;
	if (rk_mount_root_optional(optional, sizeof(optional)) < 0) {
		rk_warn("Failed to parse mountinfo");
		return;
	}
	if (!strstr(optional, "shared"))
		rk_warn("The host root filesystem is mounted as \"%s\". Setting child propagation "
			"to "
			"\"%s\" is not supported.",
			optional, opts->propagation_name);
}

/* systemd socket activation: with LISTEN_PID and LISTEN_FDS=N set, fds 3..N+2 are passed
 * on to the command. Returns N (0 when not activated); *ret_ours tells whether LISTEN_PID
 * names us, so that the command's LISTEN_PID must become its own pid. */
static int listen_fds(bool *ret_ours)
{
	const char *pid_s = getenv("LISTEN_PID"), *fds_s = getenv("LISTEN_FDS");
	uint64_t pid, n;

	*ret_ours = false;
	if (!pid_s || !fds_s || rk_parse_u64(pid_s, &pid) < 0 || rk_parse_u64(fds_s, &n) < 0 ||
	    n == 0 || n > 1024)
		return 0;
	*ret_ours = pid == (uint64_t)getpid();
	return (int)n;
}

/* How long the engine may go on delivering what a command that has exited left in its
 * connections' buffers (see rk_engine_run). */
#define ENGINE_DRAIN_MS 10000
/* the builtin port driver's drain at exit, with the engine's bounds (netstack/engine.c) */
#define DRAIN_IDLE_MS	500
#define DRAIN_MAX_MS	10000
#define ENGINE_READY_MS 10000 /* the engine's start, confinement included */

/* Ends the network helper: at once, or (drain) for --net=builtin after the command has
 * exited, by asking the engine to deliver what its connections still carry first, waiting
 * ENGINE_DRAIN_MS and a second at most. */
static void stop_helper(struct parent_state *st, bool drain)
{
	if (st->helper <= 0)
		return;
	if (!(drain && st->opts->net == RK_NET_BUILTIN && kill(st->helper, SIGTERM) == 0 &&
	      rk_helper_reap_within(st->helper, ENGINE_DRAIN_MS + 1000, NULL))) {
		kill(st->helper, SIGKILL);
		while (waitpid(st->helper, NULL, 0) < 0 && errno == EINTR)
			;
	}
	st->helper = -1;
}

/* Signals the child through its pidfd, which names that process and no other: the DHCP
 * keeper's thread may call this while the main thread reaps the child, whose pid may then
 * be taken by somebody else. Returns 0 or -1 with errno set (ESRCH once it exited). */
static int signal_child(struct parent_state *st, int sig)
{
	if (st->child_pidfd >= 0)
		return (int)syscall(SYS_pidfd_send_signal, st->child_pidfd, sig, NULL, 0);
	if (st->child <= 0) {
		errno = ESRCH;
		return -1;
	}
	return kill(st->child, sig);
}

/* Kills and reaps the child, if any. */
static void kill_child(struct parent_state *st)
{
	if (st->child <= 0)
		return;
	signal_child(st, SIGKILL);
	while (waitpid(st->child, NULL, __WALL) < 0 && errno == EINTR)
		;
	st->child = -1;
}

/* Reads one signal during start-up: a termination signal stops the start-up (recorded in
 * st->abort_signal, returns true); any other is kept for the command. */
static bool startup_signal(void *arg)
{
	struct parent_state *st = arg;
	struct signalfd_siginfo si;
	int sig;

	if (read(st->sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return false;
	sig = (int)si.ssi_signo;
	if (rk_sig_is_termination(sig)) {
		st->abort_signal = sig;
		return true;
	}
	if (sig != SIGCHLD)
		sigaddset(&st->deferred, sig);
	return false;
}

/* What cuts a start-up wait short: a termination signal on the signalfd. */
#define STARTUP_CANCEL(st) ((struct rk_cancel){ (st)->sfd, startup_signal, (st) })

/* The error of a start-up stopped by a signal (st->abort_signal). */
static int interrupted(struct parent_state *st, struct rk_error *err)
{
	return rk_error_set(err, EINTR, "interrupted by signal %d", st->abort_signal);
}

/* Waits for a message of type want from the child. want == 0 waits for EOF instead.
 * Watches the signalfd meanwhile. With ret_fd, the message must carry a descriptor, which
 * is stored there. Returns 0, or a negative errno with err set (-EINTR when a termination
 * signal arrived, see st->abort_signal). */
static int wait_child_fd(struct parent_state *st, enum rk_msg_type want, int *ret_fd,
			 struct rk_error *err)
{
	for (;;) {
		struct pollfd pfd[2] = { { .fd = st->sock, .events = POLLIN },
					 { .fd = st->sfd, .events = POLLIN } };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return rk_error_errno(err, errno, "poll");
		}
		/* the child's answer first: a signal that comes with the EOF of the exec is
		 * the running command's (it is forwarded), not the start-up's */
		if (pfd[0].revents) {
			struct rk_msg m;
			int fd, r = rk_msg_recv_fd(st->sock, &m, &fd);
			if (r == 1 && want && m.type == want && ret_fd && fd >= 0) {
				*ret_fd = fd;
				return 0;
			}
			if (fd >= 0)
				close(fd);
			if (r < 0)
				return rk_error_errno(err, -r, "reading from the child");
			if (r == 0) {
				if (!want)
					return 0;
				return rk_error_set(err, EPIPE,
						    "child exited before finishing its set-up");
			}
			if (m.type == RK_MSG_ERROR) {
				st->child_error = true;
				return rk_error_set(err, m.err > 0 ? m.err : EIO, "%s", m.text);
			}
			if (want && m.type == want && !ret_fd)
				return 0;
			return rk_error_set(err, EPROTO, "unexpected message %u from the child",
					    m.type);
		}
		if ((pfd[1].revents & POLLIN) && startup_signal(st))
			return interrupted(st, err);
	}
}

static int wait_child(struct parent_state *st, enum rk_msg_type want, struct rk_error *err)
{
	return wait_child_fd(st, want, NULL, err);
}

static void restart_engine(struct parent_state *st, const char *text);

/* A network helper that dies while the command runs leaves it without a network: say so
 * (the builtin engine is started again instead). */
static void check_helper(struct parent_state *st)
{
	int status;
	char text[64];

	if (st->helper <= 0 || waitpid(st->helper, &status, WNOHANG) != st->helper)
		return;
	st->helper = -1;
	rk_sig_format_status(status, text, sizeof(text));
	if (st->opts->net == RK_NET_BUILTIN) {
		restart_engine(st, text);
		return;
	}
	snprintf(st->lost, sizeof(st->lost), "network driver %s exited: %s", st->opts->net_name,
		 text);
	rk_warn("%s; the child has no network connectivity now", st->lost);
}

/* Forwards signals until the child exits. Returns the exit code. */
static int forward_until_exit(struct parent_state *st)
{
	int status = 0;

	/* the child may already have exited, or signals may wait from the start-up (a helper
	 * that died then was only a SIGCHLD, which the start-up read and let go) */
	check_helper(st);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&st->deferred, sig) == 1 && sig != SIGCHLD && sig != SIGPIPE &&
		    sig != SIGURG)
			signal_child(st, sig);
	for (;;) {
		struct signalfd_siginfo si;
		pid_t p = waitpid(st->child, &status, WNOHANG | __WALL | WUNTRACED);
		bool stop_now;
		ssize_t n;

		if (p == st->child && WIFSTOPPED(status)) {
			/* a stopped job: stop too, so that the shell sees it. Only then: the
			 * command can stop the supervisor by other means (SIGSTOP, ptrace), and
			 * the ports and the API must not stop with it */
			if (rk_job_stop_child(&st->job, WSTOPSIG(status), false))
				kill(getpid(), SIGSTOP);
			else
				rk_debug("the child stopped (%s), no job-control signal so far",
					 strsignal(WSTOPSIG(status)));
			continue;
		}
		if (p == st->child)
			break;
		n = read(st->sfd, &si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si)) {
			rk_warn("reading signals: %s", n < 0 ? strerror(errno) : "short read");
			while (waitpid(st->child, &status, __WALL) < 0 && errno == EINTR)
				;
			break;
		}
		if (si.ssi_signo == SIGCHLD)
			check_helper(st);
		/* forwarded first (below), so that the child stops too */
		stop_now = rk_job_stop_signal(&st->job, (int)si.ssi_signo);
		if (si.ssi_signo != SIGCHLD && rk_sig_should_forward(&si, true)) {
			rk_debug("forwarding signal %u to the child", si.ssi_signo);
			if (signal_child(st, (int)si.ssi_signo) < 0 && errno != ESRCH)
				rk_warn("forwarding signal %u: %s", si.ssi_signo, strerror(errno));
		}
		if (stop_now)
			kill(getpid(), SIGSTOP);
	}
	st->child = -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status); /* the child reported a failing command itself */
	{
		char text[64], msg[96];
		rk_sig_format_status(status, text, sizeof(text));
		snprintf(msg, sizeof(msg), "child exited: %s", text);
		rk_log_fatal(msg);
	}
	return 255;
}

static int start_api(struct parent_state *st, struct rk_error *err)
{
	struct rk_api_info info = {
		.state_dir = st->sd.path,
		.child_pid = (int)st->child,
		.net_driver = st->opts->net == RK_NET_HOST ? NULL : st->opts->net_name,
		/* DHCP decides, and may change it */
		.dynamic_child_ip = st->opts->net == RK_NET_LXC_USER_NIC,
	};

	return rk_api_server_start(st->sd.dir_fd, &info, st->ports, &st->api, err);
}

/* Starts the port driver. chan is the parent end of the builtin driver's socket supply. */
static int start_port_driver(struct parent_state *st, int chan, const char *argv0,
			     struct rk_error *err)
{
	const char *base = strrchr(argv0, '/');
	struct rk_builtin_config cfg = {
		.chan = chan,
		.source_ip_transparent = st->opts->source_ip_transparent,
		.argv0_is_rootlesskit = strcmp(base ? base + 1 : argv0, "rootlesskit") == 0,
	};

	return rk_port_builtin_new(&cfg, &st->ports, err);
}

/* The builtin port driver's sockets: the socket maker enters the child's namespaces (with
 * --detach-netns, the detached network namespace, seen through the child's root), and the
 * driver keeps only sockets of that network namespace. Done now, while the child is still
 * rootlesskit's own (before the command). */
static int enter_child_netns(struct parent_state *st, struct rk_error *err)
{
	rk_auto_free char *userns = rk_xasprintf("/proc/%d/ns/user", (int)st->child);
	rk_auto_free char *netns =
		st->opts->detach_netns
			? rk_xasprintf("/proc/%d/root%s/netns", (int)st->child, st->sd.path)
			: rk_xasprintf("/proc/%d/ns/net", (int)st->child);
	struct rk_netns_id ns;
	int r;

	if (st->maker.pid <= 0 || !st->ports)
		return 0;
	r = rk_netns_id_of_path(netns, &ns);
	if (r < 0)
		return rk_error_errno(err, -r, "identifying the child's network namespace (%s)",
				      netns);
	r = rk_sockmaker_enter(&st->maker, userns, netns, &STARTUP_CANCEL(st), err);
	if (r < 0)
		return r == -EINTR ? interrupted(st, err) : r;
	rk_port_builtin_trust_netns(st->ports, &ns);
	return 0;
}

/* -p: published once the child is set up, before child_pid is written (as upstream). */
static int publish_ports(struct parent_state *st, struct rk_error *err)
{
	for (size_t i = 0; st->ports && i < st->opts->n_publish; i++) {
		struct rk_port_spec spec;
		int id, r = rk_port_spec_parse(st->opts->publish[i], &spec, err);
		if (r == 0)
			r = st->ports->ops->add(st->ports, &spec, &id, err);
		if (r < 0)
			/* upstream prints the spec as a Go struct value */
			return rk_error_prefix(err, "failed to expose port {%s %s %lld %lld %s}",
					       spec.proto, spec.parent_ip, spec.parent_port,
					       spec.child_port, spec.child_ip);
		rk_debug("published port %d: %s", id, st->opts->publish[i]);
	}
	return 0;
}

/* Thousands of connections need thousands of descriptors: take the hard limit (upstream
 * issue #536). Done after the child started, so that the command keeps the limit it was
 * given. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			rk_debug("raising RLIMIT_NOFILE: %s", strerror(errno));
	}
}

/* Sends the child a configuration to apply. */
static int send_netcfg(struct parent_state *st, const struct rk_netcfg *nc, struct rk_error *err)
{
	char text[RK_ERROR_MSG_MAX];
	int r;

	rk_netcfg_format(nc, text, sizeof(text));
	r = rk_msg_send_text(st->sock, RK_MSG_NET_CONFIG, text);
	if (r < 0 && r != -EPIPE)
		return rk_error_errno(err, -r, "sending to the child");
	return 0;
}

/* The lease's renewals failed: as upstream's child panics there, the command ends. */
static void dhcp_lost(void *arg)
{
	struct parent_state *st = arg;

	signal_child(st, SIGKILL);
}

/* lxc-user-nic: the veth, then the child brings it up and hands over a DHCP socket; the
 * address comes from the DHCP server. */
static int configure_lxc_user_nic(struct parent_state *st, const char *netns, struct rk_error *err)
{
	struct rk_netcfg *nc = &st->netcfg;
	struct rk_dhcp_lease lease;
	int sock = -1, r;

	r = rk_lxcusernic_create(&st->lxc, st->opts, st->child, netns, nc->dev, &STARTUP_CANCEL(st),
				 err);
	if (r < 0)
		return r;
	nc->step = RK_NETCFG_LINK;
	r = send_netcfg(st, nc, err);
	if (r == 0)
		r = wait_child_fd(st, RK_MSG_NET_FD, &sock, err);
	if (r == 0)
		rk_debug("exchanging DHCP messages using %s, may take a few seconds", nc->dev);
	for (int64_t left = 30000; r == 0;) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		/* the signalfd aborts the exchange; a signal that is not a termination one
		 * resumes it */
		r = rk_dhcp_exchange(sock, nc->dev, (int)left, st->sfd, &lease, err);
		if (r != -ECANCELED)
			break;
		if (startup_signal(st)) {
			r = interrupted(st, err);
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left -= (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		r = left > 0 ? 0
			     : rk_error_set(err, ETIMEDOUT, "could not exchange DHCP with %s",
					    nc->dev);
	}
	if (r < 0) {
		if (sock >= 0)
			close(sock);
		return r;
	}
	inet_ntop(AF_INET, &lease.ip, nc->ip, sizeof(nc->ip));
	inet_ntop(AF_INET, &lease.router, nc->gateway, sizeof(nc->gateway));
	inet_ntop(AF_INET, &lease.dns, nc->dns[0], sizeof(nc->dns[0]));
	nc->n_dns = 1;
	nc->prefix = lease.prefix;
	nc->step = RK_NETCFG_FULL;
	rk_debug("DHCP: %s/%u, router %s, DNS %s, lease %u s", nc->ip, nc->prefix, nc->gateway,
		 nc->dns[0], lease.seconds);
	st->dhcp = rk_dhcp_keeper_start(sock, nc->dev, &lease, dhcp_lost, st, err);
	return st->dhcp ? 0 : -err->code;
}

static enum rk_confine confine_mode(enum rk_tristate t)
{
	return t == RK_TRUE ? RK_CONFINE_ON : t == RK_FALSE ? RK_CONFINE_OFF : RK_CONFINE_AUTO;
}

/* --net=builtin: the engine (netstack/) runs in a process forked from us and confined
 * (netstack/launch.c), on the tap the child handed over, which we keep so that another
 * engine can take over when one dies. control is the engine's end of the netstack port
 * driver's socket (taken), or -1. */
static int spawn_engine(struct parent_state *st, int control, struct rk_error *err)
{
	struct rk_engine_spawn sp = {
		.engine = &st->engine,
		.confine = { .fs = confine_mode(st->opts->netstack_sandbox),
			     .seccomp = confine_mode(st->opts->netstack_seccomp) },
		.tap = st->tap,
		.control = control,
	};
	pid_t pid = rk_engine_spawn(&sp, &st->engine_ready, err);

	if (control >= 0)
		close(control);
	if (pid < 0)
		return (int)pid;
	st->helper = pid;
	rk_debug("netstack engine runs as pid %d", (int)pid);
	return 0;
}

static int start_engine(struct parent_state *st, struct rk_error *err)
{
	const struct rk_netcfg *nc = &st->netcfg;
	struct rk_engine_config *ec = &st->engine;
	int control = st->engine_control;

	*ec = (struct rk_engine_config){ .mtu = nc->mtu,
					 .vnet_hdr = true,
					 .drain_ms = ENGINE_DRAIN_MS,
					 .ipv6 = st->opts->ipv6,
					 .disable_host_loopback = st->opts->disable_host_loopback };
	if (inet_pton(AF_INET, nc->ip, &ec->child) != 1 ||
	    inet_pton(AF_INET, nc->gateway, &ec->gateway) != 1 ||
	    inet_pton(AF_INET, nc->dns[0], &ec->dns) != 1 || nc->prefix == 0)
		return rk_error_set(err, EINVAL, "netstack: invalid configuration");
	ec->mask = htonl(0xffffffffu << (32 - nc->prefix));
	ec->net = ec->child & ec->mask;
	st->engine_control = -1;
	return spawn_engine(st, control, err);
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The engine died (how: text) while the command runs. Another one takes over the same tap
 * within a second, the published ports are installed in it again, and one line says so;
 * the connections the dead one carried are lost. After RK_ENGINE_CRASH_LIMIT deaths in a
 * minute, or when no engine starts, the network is gone for good: the command is stopped
 * in the first case, and rootlesskit's exit status says so in both. */
static void restart_engine(struct parent_state *st, const char *text)
{
	struct rk_error err = { 0 };
	struct pollfd pfd = { .events = POLLIN };
	int ctl[2] = { -1, -1 }, r = 0;

	if (!rk_engine_crash_record(&st->crashes, monotonic_ms())) {
		snprintf(st->lost, sizeof(st->lost),
			 "netstack engine exited %d times within %d s (the last: %s); stopping "
			 "the command",
			 RK_ENGINE_CRASH_LIMIT, RK_ENGINE_CRASH_WINDOW_MS / 1000, text);
		rk_log_fatal(st->lost);
		signal_child(st, SIGKILL);
		return;
	}
	if (st->opts->port_driver == RK_PORT_NETSTACK && (r = rk_msg_pair(ctl)) < 0)
		rk_error_errno(&err, -r, "socketpair");
	if (r == 0)
		r = spawn_engine(st, ctl[1], &err);
	if (r == 0) {
		/* signals wait in the signalfd meanwhile: a start takes milliseconds */
		pfd.fd = st->engine_ready;
		while ((r = poll(&pfd, 1, ENGINE_READY_MS)) < 0 && errno == EINTR)
			;
		st->engine_ready = -1;
		if (r <= 0) {
			close(pfd.fd);
			r = rk_error_set(&err, ETIMEDOUT,
					 "netstack engine did not start within %d s",
					 ENGINE_READY_MS / 1000);
		} else {
			r = rk_engine_spawn_result(pfd.fd, &err);
		}
	}
	if (r < 0) {
		if (ctl[0] >= 0)
			close(ctl[0]);
		snprintf(st->lost, sizeof(st->lost),
			 "network driver builtin exited: %s, and no engine could start again: %s",
			 text, err.msg);
		rk_warn("%s; the child has no network connectivity now", st->lost);
		return;
	}
	if (ctl[0] >= 0)
		rk_port_netstack_restart(st->ports, ctl[0]);
	rk_warn("network driver builtin exited: %s; a new engine took over (%u of %d allowed "
		"within %d s), the connections it carried are lost",
		text, st->crashes.n < RK_ENGINE_CRASH_LIMIT ? st->crashes.n : RK_ENGINE_CRASH_LIMIT,
		RK_ENGINE_CRASH_LIMIT - 1, RK_ENGINE_CRASH_WINDOW_MS / 1000);
}

/* Waits (10 s at most, and for a start-up signal) for the engine to say it runs confined,
 * or why it does not. */
static int engine_ready(struct parent_state *st, struct rk_error *err)
{
	int fd, r = rk_wait_fd(st->engine_ready, POLLIN, rk_now_ms() + ENGINE_READY_MS,
			       &STARTUP_CANCEL(st));

	if (r == 0)
		return rk_error_set(err, ETIMEDOUT, "netstack engine did not start within %d s",
				    ENGINE_READY_MS / 1000);
	if (r < 0)
		return r == -EINTR ? interrupted(st, err) : rk_error_errno(err, -r, "poll");
	fd = st->engine_ready;
	st->engine_ready = -1;
	r = rk_engine_spawn_result(fd, err);
	if (r == 0 && st->opts->port_driver == RK_PORT_NETSTACK)
		rk_port_netstack_ready(st->ports);
	return r;
}

/* Starts the network driver on the set-up child and has the child configure its side. */
static int configure_network(struct parent_state *st, struct rk_error *err)
{
	const struct rk_options *opts = st->opts;
	const struct rk_cancel cancel = STARTUP_CANCEL(st);
	rk_auto_free char *api_socket = NULL;
	rk_auto_free char *netns = NULL;
	int r = 0;

	if (opts->port_driver == RK_PORT_SLIRP4NETNS)
		api_socket = rk_xasprintf("%s/.s4nn.sock", st->sd.path);
	if (opts->detach_netns)
		netns = rk_xasprintf("%s/netns", st->sd.path);
	switch (opts->net) {
	case RK_NET_SLIRP4NETNS:
		r = rk_slirp4netns_start(&st->s4nn, opts, &st->netcfg, api_socket, st->child, netns,
					 &cancel, &st->helper, err);
		break;
	case RK_NET_PASTA:
		r = rk_pasta_start(&st->pasta, opts, &st->netcfg, st->child, netns, &cancel,
				   &st->helper, err);
		break;
	case RK_NET_VPNKIT:
		r = rk_vpnkit_start(&st->vpnkit, opts, st->sd.path, st->netcfg.dev, st->netcfg.mtu,
				    &cancel, &st->netcfg, err);
		/* watched and stopped as the driver's helper from now on */
		st->helper = st->vpnkit.pid;
		st->vpnkit.pid = -1;
		break;
	case RK_NET_LXC_USER_NIC:
		r = configure_lxc_user_nic(st, netns, err);
		break;
	default:
		break;
	}
	if (r < 0)
		return r == -EINTR ? interrupted(st, err)
				   : (st->abort_signal
					      ? r
					      : rk_error_prefix(err, "setting up the network"));
	/* lxc-user-nic's info has neither: the address is the DHCP server's to change */
	if (opts->net != RK_NET_LXC_USER_NIC) {
		const char *dns[RK_NETCFG_MAX_DNS];
		for (unsigned i = 0; i < st->netcfg.n_dns; i++)
			dns[i] = st->netcfg.dns[i];
		rk_api_server_set_network(st->api, dns, st->netcfg.n_dns, st->netcfg.ip);
	}
	r = send_netcfg(st, &st->netcfg, err);
	if (r == 0 && st->netcfg.tap_fd) {
		int tap = -1;
		r = wait_child_fd(st, RK_MSG_NET_FD, &tap, err);
		if (r == 0 && opts->net == RK_NET_BUILTIN) {
			st->tap = tap;
			r = start_engine(st, err);
		} else if (r == 0) {
			r = rk_vpnkit_relay(&st->vpnkit, tap, err);
		}
	}
	if (r == 0)
		r = wait_child(st, RK_MSG_NET_DONE, err);
	/* the engine confined itself meanwhile, or says why not */
	if (r == 0 && st->engine_ready >= 0)
		r = engine_ready(st, err);
	return r;
}

/* Runs everything from the clone to the running command. Returns 0 or a negative errno
 * with err set; *ret_from_child tells whether the message came from the child. */
/* Looks up the user and the subordinate ids of both kinds. */
static int lookup_ids(const struct rk_options *opts, struct rk_subid_user *user,
		      struct rk_subid_list *uids, struct rk_subid_list *gids, struct rk_error *err)
{
	int r = rk_subid_user_current(user, err);

	if (r == 0)
		r = rk_subid_lookup(opts->subid_source, RK_SUBID_UID, user, "/etc/subuid", uids,
				    err);
	if (r == 0)
		r = rk_subid_lookup(opts->subid_source, RK_SUBID_GID, user, "/etc/subgid", gids,
				    err);
	if (r < 0)
		return rk_error_prefix(err, "failed to setup UID/GID map");
	return 0;
}

static int start_child(struct parent_state *st, char **argv, struct rk_error *err)
{
	const struct rk_options *opts = st->opts;
	struct rk_child_config cfg = { .opts = opts, .self_argv = argv, .parent_pid = getpid() };
	struct rk_subid_list uids = { 0 }, gids = { 0 };
	struct rk_subid_user user;
	rk_auto_strv char **child_env = NULL;
	rk_auto_strv char **cmd_env = NULL;
	int fds[2], r;

	cfg.listen_fds = listen_fds(&cfg.listen_pid_ours);
	cfg.net = rk_net_driver_get(opts->net); /* rk_options_check_supported() checked it */
	child_env = build_env(st->sd.path, &cfg.marker_index);
	cmd_env = build_env(st->sd.path, NULL);
	cfg.child_env = child_env;
	cfg.cmd_env = cmd_env;
	r = rk_msg_pair(fds);
	if (r < 0)
		return rk_error_errno(err, -r, "socketpair");
	st->sock = fds[0];
	cfg.sock = fds[1];
	cfg.state_dir = st->sd.path;
	/* the child restores the mask we started with before it execs the command */
	cfg.orig_mask = st->orig_mask;
	cfg.orig_umask = st->orig_umask;
	cfg.state_dir_fd = st->sd.dir_fd;
	r = rk_child_start(&cfg, &st->child, err);
	close(fds[1]);
	if (r < 0)
		return r;
	rk_debug("child pid %d", (int)st->child);
	st->child_pidfd = (int)syscall(SYS_pidfd_open, st->child, 0);
	raise_nofile();
	if (cfg.net->configure) {
		const char *dev = *opts->ifname ? opts->ifname : cfg.net->default_ifname;
		unsigned mtu = opts->mtu ? (unsigned)opts->mtu : cfg.net->default_mtu;
		if (opts->net == RK_NET_SLIRP4NETNS || opts->net == RK_NET_PASTA ||
		    opts->net == RK_NET_BUILTIN) {
			r = rk_netcfg_slirp(&st->netcfg, opts->cidr, dev, mtu, err);
			if (r < 0)
				return r;
		} else {
			/* the driver learns the addresses */
			snprintf(st->netcfg.dev, sizeof(st->netcfg.dev), "%s", dev);
			st->netcfg.mtu = mtu;
		}
		if (opts->net == RK_NET_PASTA)
			st->netcfg.step = RK_NETCFG_FILES; /* pasta configures the interface */
		if (opts->net == RK_NET_BUILTIN)	   /* for the engine */
			st->netcfg.tap_fd = RK_NETCFG_TAP_VNET;
		if (opts->ipv6 && (opts->net == RK_NET_SLIRP4NETNS || opts->net == RK_NET_BUILTIN))
			snprintf(st->netcfg.dns[st->netcfg.n_dns++], sizeof(st->netcfg.dns[0]),
				 "fd00::3");
	}
	if (opts->port_driver == RK_PORT_BUILTIN) {
		/* forked while we have one thread: the driver's and the API's come next */
		r = rk_sockmaker_fork(&st->maker, err);
		if (r == 0)
			r = start_port_driver(st, st->maker.chan, argv[0] ? argv[0] : "", err);
		st->maker.chan = -1; /* the driver's, even when it failed */
		if (r < 0)
			return r;
	} else if (opts->port_driver == RK_PORT_SLIRP4NETNS) {
		rk_auto_free char *sock = rk_xasprintf("%s/.s4nn.sock", st->sd.path);
		st->ports = rk_port_slirp4netns_new(sock, st->netcfg.ip);
	} else if (opts->port_driver == RK_PORT_NETSTACK) {
		int ctl[2];
		r = rk_msg_pair(ctl);
		if (r < 0)
			return rk_error_errno(err, -r, "socketpair");
		st->engine_control = ctl[1];
		st->ports = rk_port_netstack_new(ctl[0], st->netcfg.ip);
	}
	/* the API listens long before the command runs (upstream has a race there), and
	 * starting it here costs nothing while the child re-executes itself */
	r = start_api(st, err);
	/* looked up meanwhile too: a failure just kills the child */
	if (r == 0)
		r = lookup_ids(opts, &user, &uids, &gids, err);
	if (r == 0)
		r = rk_idmap_write(st->child, &user, &uids, &gids, &STARTUP_CANCEL(st), err);
	/* before the child's set-up, which mounts the evacuated hierarchy */
	if (r == 0 && *opts->evacuate_cgroup2)
		r = rk_cgroup_evacuate(opts->evacuate_cgroup2, err);
	rk_subid_list_free(&uids);
	rk_subid_list_free(&gids);
	if (r < 0)
		return r;
	/* at EPIPE the child is gone, maybe with its own error waiting: read it */
	r = rk_msg_send(st->sock, RK_MSG_IDMAP_DONE);
	if (r < 0 && r != -EPIPE)
		return rk_error_errno(err, -r, "sending to the child");
	r = wait_child(st, RK_MSG_SETUP_DONE, err);
	if (r == 0 && cfg.net->configure)
		r = configure_network(st, err);
	if (r == 0)
		r = enter_child_netns(st, err);
	if (r == 0)
		r = publish_ports(st, err);
	if (r == 0)
		r = rk_statedir_write_child_pid(&st->sd, st->child, err);
	if (r < 0)
		return r;
	r = rk_msg_send(st->sock, RK_MSG_EXEC);
	if (r < 0 && r != -EPIPE)
		return rk_error_errno(err, -r, "sending to the child");
	/* EOF: the command was exec'd (or the child died, which the child reports) */
	return wait_child(st, 0, err);
}

int rk_parent_main(const struct rk_options *opts, char **argv)
{
	struct parent_state st = {
		.opts = opts,
		.sd = { .dir_fd = -1, .lock_fd = -1 },
		.sfd = -1,
		.sock = -1,
		.child = -1,
		.child_pidfd = -1,
		.helper = -1,
		.vpnkit = { .pid = -1, .sock = -1, .tap = -1, .stop = { -1, -1 } },
		.lxc = { .holder = -1 },
		.maker = RK_SOCKMAKER_INIT,
		.engine_control = -1,
		.tap = -1,
		.engine_ready = -1,
	};
	struct rk_error err = { 0 };
	rk_auto_free char *state_path = NULL;
	char cwd[4096];
	sigset_t all;
	int r = 0, code = 1;

	/* what we and the helpers we start create in the state directory is the user's alone;
	 * the child gives the command the umask we were started with */
	st.orig_umask = umask(0077);
	preflight_warnings();
	warn_propagation(opts);
	for (size_t i = 0; i < opts->n_copy_up; i++) {
		r = rk_copyup_check(opts->copy_up[i], &err);
		if (r < 0)
			goto out;
	}
	/* the helper's presence and features are checked before anything starts */
	if (opts->net == RK_NET_SLIRP4NETNS)
		r = rk_slirp4netns_prepare(&st.s4nn, opts, &err);
	else if (opts->net == RK_NET_PASTA)
		r = rk_pasta_prepare(&st.pasta, opts, &err);
	else if (opts->net == RK_NET_VPNKIT)
		r = rk_vpnkit_prepare(&st.vpnkit, opts, &err);
	else if (opts->net == RK_NET_LXC_USER_NIC)
		r = rk_lxcusernic_prepare(&st.lxc, opts, &err);
	if (r < 0)
		goto out;
	if (*opts->state_dir && !getcwd(cwd, sizeof(cwd))) {
		r = rk_error_errno(&err, errno, "getcwd");
		goto out;
	}
	state_path = rk_statedir_resolve(opts->state_dir, cwd);
	r = rk_statedir_open(&st.sd, state_path, &err);
	if (r < 0)
		goto out;
	rk_debug("state directory %s", st.sd.path);

	sigemptyset(&st.deferred);
	r = rk_sig_block_all(&all, &st.orig_mask);
	if (r == 0) {
		st.sfd = signalfd(-1, &all, SFD_CLOEXEC);
		if (st.sfd < 0)
			r = -errno;
	}
	if (r < 0) {
		rk_error_errno(&err, -r, "setting up signal handling");
		goto out;
	}
	r = start_child(&st, argv, &err);
	if (r < 0)
		goto out;
	code = forward_until_exit(&st);
	/* a command that lost its network and went on as if nothing happened did not succeed */
	if (st.lost[0] && code == 0) {
		rk_auto_free char *msg =
			rk_xasprintf("the network was lost while the command ran (%s)", st.lost);
		rk_log_fatal(msg);
		code = 1;
	}
out:
	if (r < 0 && st.abort_signal == 0) {
		if (st.child_error)
			rk_log_init(RK_ROLE_CHILD, opts->debug);
		rk_log_fatal(err.msg);
	}
	kill_child(&st);
	rk_api_server_stop(st.api); /* first: it calls into the port driver */
	/* the command ended: what the published ports' connections and the engine still
	 * carry is delivered (both at once, each bounded) before rootlesskit ends */
	if (r == 0 && st.abort_signal == 0)
		rk_port_driver_drain(st.ports, DRAIN_IDLE_MS, DRAIN_MAX_MS);
	rk_vpnkit_free(&st.vpnkit); /* the relay first: vpnkit's end is no news now */
	rk_dhcp_keeper_stop(st.dhcp);
	stop_helper(&st, r == 0 && st.abort_signal == 0);
	rk_slirp4netns_free(&st.s4nn);
	rk_pasta_free(&st.pasta);
	rk_lxcusernic_free(&st.lxc);
	rk_port_driver_free(st.ports);
	rk_sockmaker_stop(&st.maker); /* after the driver closed the channel */
	rk_statedir_remove(&st.sd);
	if (st.sock >= 0)
		close(st.sock);
	if (st.engine_control >= 0)
		close(st.engine_control);
	if (st.engine_ready >= 0)
		close(st.engine_ready);
	if (st.tap >= 0)
		close(st.tap);
	if (st.sfd >= 0)
		close(st.sfd);
	if (st.child_pidfd >= 0)
		close(st.child_pidfd);
	if (st.abort_signal) {
		sigset_t one;
		signal(st.abort_signal, SIG_DFL);
		sigemptyset(&one);
		sigaddset(&one, st.abort_signal);
		raise(st.abort_signal);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		return 128 + st.abort_signal;
	}
	return code;
}
