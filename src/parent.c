/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parent
 *
 * Runs as the user in the host namespaces. In order: prepare the network driver (its helper
 * must exist before anything starts), open the state directory, block every signal (they
 * are read from a signalfd from now on), clone the child (child.c), start the port driver
 * and the API, write the child's uid/gid maps, and walk it through the handshake
 * (docs/process-model.md):
 *
 *   parent                               child (H)
 *   ── RK_MSG_IDMAP_DONE ──────────────>  mounts, copy-up, /sys, /proc
 *   <──────────────── RK_MSG_SETUP_DONE ─
 *   network driver: start (helper, DHCP)
 *   ── RK_MSG_NET_CONFIG ──────────────>  interface, resolv.conf, hosts
 *   <───── RK_MSG_NET_FD (tap, if any) ─
 *   <────────────────── RK_MSG_NET_DONE ─
 *   socket maker enters the namespaces, -p ports published, child_pid written
 *   ── RK_MSG_EXEC ────────────────────>  execve(command)
 *   <───────── EOF (exec done) or RK_MSG_ERROR
 *
 * Every wait also watches the signalfd, and the channel reaches EOF when the child dies, so
 * no step can hang on a dead child. A SIGHUP/SIGINT/SIGQUIT/SIGTERM during start-up stops
 * the start-up cleanly; other signals are kept and forwarded once the command runs. From
 * then on every signal is forwarded to the child, which forwards it to the command, until
 * the child exits; its status becomes ours.
 */
#include "src/parent.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/server.h"
#include "src/cgroup.h"
#include "src/child.h"
#include "src/copyup.h"
#include "src/idmap.h"
#include "src/lib/log.h"
#include "src/lib/msg.h"
#include "src/lib/sig.h"
#include "src/lib/util.h"
#include "src/mount.h"
#include "src/net/driver.h"
#include "src/net/netcfg.h"
#include "src/ports.h"
#include "src/statedir.h"

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
	struct rk_ports ports; /* the port driver */
	/* the network driver (src/net/driver.h) */
	struct rk_net_config net;
	const struct rk_net_ops *net_ops;
	void *net_drv;			/* its state */
	struct rk_net_child child_link; /* the child, as the driver talks to it */
	struct rk_vnet vnet;		/* the network, computed once from the options */
	struct rk_netcfg netcfg;	/* the child's interface, for drivers that configure one */
	char lost[256];			/* why the network is gone for good, or "" */
};

/* the builtin port driver's drain at exit, with the engine's bounds (netstack/engine.c) */
#define DRAIN_IDLE_MS 500
#define DRAIN_MAX_MS  10000

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

/* A network that is gone while the command runs (the driver said so) fails rootlesskit. */
static void check_network(struct parent_state *st)
{
	/* asked at every SIGCHLD, even once lost: a builtin engine that failed to start again
	 * may be replaced by a later one (its death is a crash like any other) */
	if (st->net_ops->check && !st->net_ops->check(st->net_drv, st->lost, sizeof(st->lost)) &&
	    !st->lost[0])
		snprintf(st->lost, sizeof(st->lost), "network driver %s stopped", st->net.name);
}

/* Forwards signals until the child exits. Returns the exit code. */
static int forward_until_exit(struct parent_state *st)
{
	int status = 0;

	/* the child may already have exited, or signals may wait from the start-up (a helper
	 * that died then was only a SIGCHLD, which the start-up read and let go) */
	check_network(st);
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
			check_network(st);
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
		/* upstream names no driver for the host's network */
		.net_driver = st->net_ops->new_netns ? st->net.name : NULL,
		/* DHCP decides, and may change it */
		.dynamic_child_ip = st->net_ops->dynamic_ip,
		.ipv6 = st->net.ipv6 && st->net_ops->ipv6,
	};

	return rk_api_server_start(st->sd.dir_fd, &info, st->ports.driver, &st->api, err);
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

/* The child as the network driver sees it (rk_net_child). */
static int link_send(struct rk_net_child *c, const struct rk_netcfg *nc, struct rk_error *err)
{
	struct parent_state *st = rk_container_of(c, struct parent_state, child_link);
	char text[RK_ERROR_MSG_MAX];
	int r;

	rk_netcfg_format(nc, text, sizeof(text));
	r = rk_msg_send_text(st->sock, RK_MSG_NET_CONFIG, text);
	if (r < 0 && r != -EPIPE) /* at EPIPE, the child's own error waits to be read */
		return rk_error_errno(err, -r, "sending to the child");
	return 0;
}

static int link_recv_fd(struct rk_net_child *c, int *ret_fd, struct rk_error *err)
{
	return wait_child_fd(rk_container_of(c, struct parent_state, child_link), RK_MSG_NET_FD,
			     ret_fd, err);
}

static void link_kill(struct rk_net_child *c)
{
	signal_child(rk_container_of(c, struct parent_state, child_link), SIGKILL);
}

/* Starts the network driver on the set-up child and has the child configure its side. */
static int configure_network(struct parent_state *st, struct rk_error *err)
{
	const struct rk_net_ops *ops = st->net_ops;
	const struct rk_cancel cancel = STARTUP_CANCEL(st);
	rk_auto_free char *netns =
		st->opts->detach_netns ? rk_xasprintf("%s/netns", st->sd.path) : NULL;
	struct rk_net_ctx ctx = { .child = st->child,
				  .state_dir = st->sd.path,
				  .netns = netns,
				  .cancel = &cancel,
				  .vnet = &st->vnet,
				  .nc = &st->netcfg,
				  .child_link = &st->child_link };
	int r = ops->start ? ops->start(st->net_drv, &ctx, err) : 0;

	if (r < 0)
		return r == -EINTR ? interrupted(st, err)
				   : (st->abort_signal
					      ? r
					      : rk_error_prefix(err, "setting up the network"));
	/* a DHCP lease's address is not announced: the server may change it */
	if (!ops->dynamic_ip) {
		const char *dns[RK_NETCFG_MAX_DNS];
		for (unsigned i = 0; i < st->netcfg.n_dns; i++)
			dns[i] = st->netcfg.dns[i];
		rk_api_server_set_network(st->api, dns, st->netcfg.n_dns, st->netcfg.ip);
	}
	r = link_send(&st->child_link, &st->netcfg, err);
	if (r == 0 && st->netcfg.tap_fd) {
		int tap = -1;
		r = wait_child_fd(st, RK_MSG_NET_FD, &tap, err);
		if (r == 0)
			r = ops->take_tap ? ops->take_tap(st->net_drv, tap, err) : (close(tap), 0);
	}
	if (r == 0)
		r = wait_child(st, RK_MSG_NET_DONE, err);
	if (r == 0 && ops->ready)
		r = ops->ready(st->net_drv, &cancel, err);
	return r == -EINTR ? interrupted(st, err) : r;
}

/* Runs everything from the clone to the running command. Returns 0 or a negative errno
 * with err set (st->child_error tells whether the child sent it). */
static int start_child(struct parent_state *st, char **argv, struct rk_error *err)
{
	const struct rk_options *opts = st->opts;
	struct rk_child_config cfg = {
		.opts = opts, .net = st->net_ops, .self_argv = argv, .parent_pid = getpid()
	};
	rk_auto_strv char **child_env = rk_child_env(st->sd.path, &cfg.marker_index);
	rk_auto_strv char **cmd_env = rk_child_env(st->sd.path, NULL);
	int fds[2], r;

	cfg.listen_fds = rk_child_listen_fds(&cfg.listen_pid_ours);
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
	if (st->net_ops->configure)
		r = rk_net_plan(st->net_ops, &st->net, &st->vnet, &st->netcfg, opts->ifname, err);
	if (r == 0 && st->net_ops->launch)
		r = st->net_ops->launch(st->net_drv, &st->vnet, err);
	/* forked while we have one thread: the driver's and the API's come next */
	if (r == 0)
		r = rk_ports_start(&st->ports, opts->port_driver, opts->source_ip_transparent,
				   opts->source_ip_transparent_backend, argv[0] ? argv[0] : "",
				   st->net_ops, st->net_drv, st->sd.path, st->netcfg.ip, err);
	/* the API listens long before the command runs (upstream has a race there), and
	 * starting it here costs nothing while the child re-executes itself */
	if (r == 0)
		r = start_api(st, err);
	/* looked up meanwhile too: a failure just kills the child */
	if (r == 0)
		r = rk_idmap_setup(st->child, opts->subid_source, &STARTUP_CANCEL(st), err);
	/* before the child's set-up, which mounts the evacuated hierarchy */
	if (r == 0 && *opts->evacuate_cgroup2)
		r = rk_cgroup_evacuate(opts->evacuate_cgroup2, err);
	if (r < 0)
		return r;
	/* at EPIPE the child is gone, maybe with its own error waiting: read it */
	r = rk_msg_send(st->sock, RK_MSG_IDMAP_DONE);
	if (r < 0 && r != -EPIPE)
		return rk_error_errno(err, -r, "sending to the child");
	r = wait_child(st, RK_MSG_SETUP_DONE, err);
	if (r == 0 && st->net_ops->configure)
		r = configure_network(st, err);
	if (r == 0)
		r = rk_ports_enter(&st->ports, st->child, opts->detach_netns, st->sd.path,
				   &STARTUP_CANCEL(st), err);
	if (r == -EINTR)
		r = interrupted(st, err);
	/* -p: published once the child is set up, before child_pid is written (as upstream) */
	if (r == 0)
		r = rk_ports_publish(&st->ports, opts->publish, opts->n_publish, err);
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

/* Prepares the network driver: its helper's presence and features are checked before
 * anything starts. */
static int prepare_network(struct parent_state *st, struct rk_error *err)
{
	rk_options_net_config(st->opts, &st->net);
	st->net_ops = rk_net_ops_get(st->opts->net);
	if (!st->net_ops) /* the options refuse such names already */
		return rk_error_set(err, ENOTSUP, "network driver %s is not part of rootlesskit-c",
				    st->net.name);
	st->net_drv = rk_xcalloc(1, st->net_ops->size);
	return st->net_ops->prepare ? st->net_ops->prepare(st->net_drv, &st->net, err) : 0;
}

/* Ends the network driver and the port driver: at once, or (drain) after a command that
 * ended by itself, once what their connections still carry is delivered (both bounded). */
static void stop_network(struct parent_state *st, bool drain)
{
	const struct rk_net_ops *ops = st->net_ops;

	rk_api_server_stop(st->api); /* first: it calls into the port driver */
	if (drain)
		rk_port_driver_drain(st->ports.driver, DRAIN_IDLE_MS, DRAIN_MAX_MS);
	if (ops && ops->stop)
		ops->stop(st->net_drv, drain);
	rk_ports_stop(&st->ports);
	if (ops && ops->free)
		ops->free(st->net_drv);
	free(st->net_drv);
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
		.ports = RK_PORTS_INIT,
		.child_link = { .send = link_send, .recv_fd = link_recv_fd, .kill = link_kill },
	};
	struct rk_error err = { 0 };
	rk_auto_free char *state_path = NULL;
	char cwd[4096];
	sigset_t all;
	int r = 0, code = 1;

	/* what we and the helpers we start create in the state directory is the user's alone;
	 * the child gives the command the umask we were started with */
	st.orig_umask = umask(0077);
	rk_child_preflight();
	rk_mount_warn_propagation(opts->propagation_name);
	for (size_t i = 0; i < opts->n_copy_up && r == 0; i++)
		r = rk_copyup_check(opts->copy_up[i], &err);
	if (r == 0)
		r = prepare_network(&st, &err);
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
	stop_network(&st, r == 0 && st.abort_signal == 0);
	rk_statedir_remove(&st.sd);
	if (st.sock >= 0)
		close(st.sock);
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
