/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How the child starts
 *
 *   parent ──clone3(NEWUSER|NEWNS|...)──> C ──fork──> H
 *
 * C, the clone, is the process named by child_pid. It forks H at once and then re-executes
 * /proc/self/exe as the supervisor (supervisor.c): an exec is the only way to get
 * ROOTLESSKIT_STATE_DIR and friends into /proc/C/environ, where nerdctl reads them, and
 * doing it right away lets it overlap with the parent running newuidmap and newgidmap.
 * C gives up its capabilities by exec'ing before the uid map exists; it needs none.
 *
 * H keeps the full capability set of the new user namespace that a clone (not an exec)
 * carries. It waits for the parent's RK_MSG_IDMAP_DONE, does the mount-namespace set-up as
 * uid 0, reports RK_MSG_SETUP_DONE, waits for RK_MSG_EXEC (sent once child_pid exists), and
 * execs the command, which then runs as uid 0 with full capabilities because its uid is now
 * mapped to 0. Both C and H die with SIGKILL when their parent dies.
 *
 * On a failure H sends RK_MSG_ERROR and waits to be killed: the parent prints the error
 * once and kills C, so the supervisor never reports the same failure as an exit status.
 *
 * C and H run on a raw clone's copy of the parent: glibc's idea of the thread id is stale
 * in C, so nothing here may use raise(), abort() or pthread locks.
 */
#include "src/child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "src/copyup.h"
#include "src/lib/gocompat.h"
#include "src/lib/log.h"
#include "src/lib/msg.h"
#include "src/lib/netlink.h"
#include "src/lib/util.h"
#include "src/mount.h"
#include "src/net/dhcp.h"
#include "src/net/netcfg.h"
#include "src/net/netns.h"
#include "src/statedir.h"
#include "src/supervisor.h"
#include "src/userns_hint.h"

extern char **environ;

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Reports err to the parent and waits to be killed by it (or for it to go away). */
static __attribute__((noreturn)) void setup_fail(int sock, const struct rk_error *err)
{
	struct rk_msg m;

	if (rk_msg_send_error(sock, err) == 0) {
		while (rk_msg_recv(sock, &m) > 0)
			;
	}
	_exit(1);
}

/* Marks every fd above 2 close-on-exec, so that the command inherits only stdio. */
static void cloexec_from(int first)
{
	if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	/* kernels before 5.11: no bound is known, so walk the fd table */
	for (int fd = first; fd < 65536; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
}

/* Socket activation: LISTEN_PID must name the process that gets the fds, and the exec keeps
 * our pid. cmd_env is this process' own copy, so it may be edited. */
static void set_listen_pid(char **env)
{
	for (; *env; env++) {
		if (strncmp(*env, "LISTEN_PID=", 11) == 0) {
			*env = rk_xasprintf("LISTEN_PID=%d", (int)getpid());
			return;
		}
	}
}

/* With --pidns, /proc must show the new pid namespace. A /proc with masked parts (as in a
 * container) may refuse a read-write mount: fall back to read-only, then to the old one. */
static void mount_proc(void)
{
	const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	if (mount("proc", "/proc", "proc", flags, NULL) == 0)
		return;
	rk_warn("mount proc on /proc: %s, retrying read-only", strerror(errno));
	if (mount("proc", "/proc", "proc", flags | MS_RDONLY, NULL) == 0)
		return;
	rk_warn("mount proc on /proc (read-only): %s; /proc shows the host's pid namespace",
		strerror(errno));
}

static __attribute__((noreturn)) void exec_command(const struct rk_child_config *cfg)
{
	char *const *cmd = cfg->opts->command;
	struct rk_error err = { 0 };
	char argv_text[512], reason[128];
	rk_auto_free char *path = NULL;

	rk_format_argv(cmd, argv_text, sizeof(argv_text));
	if (strchr(cmd[0], '/')) {
		path = rk_xstrdup(cmd[0]);
	} else {
		const char *path_env = NULL;
		for (char **e = cfg->cmd_env; *e; e++)
			if (strncmp(*e, "PATH=", 5) == 0)
				path_env = *e + 5;
		path = rk_find_in_path(cmd[0], path_env);
		if (!path) {
			rk_error_set(&err, ENOENT,
				     "command %s exited: exec: \"%s\": executable file not found "
				     "in $PATH",
				     argv_text, cmd[0]);
			setup_fail(cfg->sock, &err);
		}
	}
	if (cfg->opts->reaper && setsid() < 0) {
		rk_error_errno(&err, errno, "setsid");
		setup_fail(cfg->sock, &err);
	}
	if (cfg->listen_pid_ours)
		set_listen_pid(cfg->cmd_env);
	cloexec_from(3 + cfg->listen_fds);
	sigprocmask(SIG_SETMASK, &cfg->orig_mask, NULL);
	execve(path, cmd, cfg->cmd_env);
	{
		int e = errno;
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		rk_go_strerror(e, reason, sizeof(reason));
		rk_error_set(&err, e, "command %s exited: fork/exec %s: %s", argv_text, path,
			     reason);
	}
	setup_fail(cfg->sock, &err);
}

/* Was /etc copied up? Then its resolv.conf and hosts are links to replace. */
static bool etc_copied_up(const struct rk_options *opts)
{
	for (size_t i = 0; i < opts->n_copy_up; i++) {
		rk_auto_free char *clean = rk_path_clean(opts->copy_up[i]);
		if (strcmp(clean, "/etc") == 0)
			return true;
	}
	return false;
}

struct netcfg_step {
	const struct rk_netcfg *nc;
	int sock; /* to the parent, for the descriptors it wants */
};

/* In the child's (or the detached) network namespace: applies a configuration, and hands
 * the parent what it asked for (the tap, or a DHCP socket on the interface). */
static int apply_netcfg(void *arg, struct rk_error *err)
{
	const struct netcfg_step *step = arg;
	const struct rk_netcfg *nc = step->nc;
	int fd = -1, r = rk_netcfg_apply(nc, err);

	if (r < 0)
		return r;
	if (nc->step == RK_NETCFG_LINK)
		fd = rk_dhcp_socket(nc->dev, err);
	else if (nc->tap_fd)
		fd = rk_tap_open(nc->dev, nc->tap_fd == RK_NETCFG_TAP_VNET, err);
	else
		return 0;
	if (fd < 0)
		return fd;
	r = rk_msg_send_fd(step->sock, RK_MSG_NET_FD, fd);
	close(fd);
	return r < 0 ? rk_error_errno(err, -r, "sending to the parent") : 0;
}

/* Before the driver starts, in the child's (or the detached) network namespace: lo up, and
 * the tap device the driver attaches to. */
static int network_early(void *arg, struct rk_error *err)
{
	const struct rk_child_config *cfg = arg;
	const char *ifname = *cfg->opts->ifname ? cfg->opts->ifname : cfg->net->default_ifname;

	if (cfg->net->new_netns && rk_netlink_link_up("lo", err) < 0)
		return -err->code;
	if (cfg->net->tap && rk_tap_create(ifname, err) < 0)
		return -err->code;
	return 0;
}

/* Once the parent has started the network driver: the interface, resolv.conf, hosts. A
 * DHCP driver configures the link first and the addresses in a second message. */
static void configure_network(const struct rk_child_config *cfg, int state_fd)
{
	struct rk_error err = { 0 };
	struct rk_netcfg nc;
	struct netcfg_step step = { .nc = &nc, .sock = cfg->sock };
	rk_auto_free char *path = rk_xasprintf("/proc/self/fd/%d/netns", state_fd);

	do {
		struct rk_msg m;
		int r = rk_msg_recv(cfg->sock, &m);
		if (r <= 0)
			_exit(1); /* the parent failed or went away; it reports */
		if (m.type != RK_MSG_NET_CONFIG || rk_netcfg_parse(m.text, &nc) < 0) {
			rk_error_set(&err, EPROTO,
				     "unexpected network configuration from the parent");
			setup_fail(cfg->sock, &err);
		}
		if (cfg->opts->detach_netns)
			r = rk_netns_run(path, apply_netcfg, &step, &err);
		else
			r = apply_netcfg(&step, &err);
		if (r < 0)
			setup_fail(cfg->sock, &err);
	} while (nc.step == RK_NETCFG_LINK);
	/* with --detach-netns the files are written for the user (nerdctl reads them), not
	 * mounted */
	if (rk_netcfg_etc(&nc, state_fd, cfg->state_dir, !cfg->opts->detach_netns,
			  etc_copied_up(cfg->opts), &err) < 0)
		setup_fail(cfg->sock, &err);
	if (rk_msg_send(cfg->sock, RK_MSG_NET_DONE) < 0)
		_exit(1);
}

/* H: waits for the maps, sets the namespaces up, then runs the command. */
static __attribute__((noreturn)) void setup_main(const struct rk_child_config *cfg, pid_t c_pid)
{
	const struct rk_options *opts = cfg->opts;
	struct rk_error err = { 0 };
	int state_fd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != c_pid)
		_exit(1);
	/* copy-up makes directories the command will see: with the user's umask */
	umask(cfg->orig_umask);
	if (rk_msg_expect(cfg->sock, RK_MSG_IDMAP_DONE, &err) < 0)
		_exit(1); /* the parent failed or went away; it reports */
	if (getuid() != 0) {
		rk_error_set(&err, EPERM, "uid is %u after the uid map was written, not 0",
			     (unsigned)getuid());
		setup_fail(cfg->sock, &err);
	}
	if (rk_mount_set_propagation(opts->propagation, opts->propagation_name, &err) < 0)
		setup_fail(cfg->sock, &err);
	if (opts->pidns)
		mount_proc();
	if (rk_copyup_apply(opts->copy_up, &err) < 0)
		setup_fail(cfg->sock, &err);
	/* a new network namespace needs its own sysfs; --detach-netns keeps the host's */
	if (rk_mount_sys(cfg->net->new_netns && !opts->detach_netns,
			 *opts->evacuate_cgroup2 != '\0', &err) < 0)
		setup_fail(cfg->sock, &err);
	/* the state directory as this mount namespace sees it (after copy-up, where the
	 * helpers and the user find netns), checked to be the one the parent holds: what is
	 * written there goes through this descriptor */
	state_fd = rk_statedir_reopen(cfg->state_dir, cfg->state_dir_fd, &err);
	if (state_fd < 0)
		setup_fail(cfg->sock, &err);
	if (opts->detach_netns) {
		rk_auto_free char *path = rk_xasprintf("/proc/self/fd/%d/netns", state_fd);
		if (rk_netns_create(path, &err) < 0 ||
		    rk_netns_run(path, network_early, (void *)cfg, &err) < 0)
			setup_fail(cfg->sock, &err);
	} else if (network_early((void *)cfg, &err) < 0) {
		setup_fail(cfg->sock, &err);
	}
	rk_debug("set-up done, waiting for the parent");
	if (rk_msg_send(cfg->sock, RK_MSG_SETUP_DONE) < 0)
		_exit(1);
	if (cfg->net->configure)
		configure_network(cfg, state_fd);
	if (rk_msg_expect(cfg->sock, RK_MSG_EXEC, &err) < 0)
		_exit(1);
	exec_command(cfg);
}

/*
 * C: forks H, then becomes the supervisor, at once: its exec overlaps newuidmap. It needs
 * no capability: the builtin port driver's sockets and routing come from the parent's
 * socket maker (port/maker.c), not from here, where the command could reach them.
 */
static __attribute__((noreturn)) void child_main(struct rk_child_config *cfg)
{
	pid_t expected_ppid = cfg->opts->pidns ? 0 : cfg->parent_pid;
	struct rk_error err = { 0 };
	pid_t self, h;

	rk_log_init(RK_ROLE_CHILD, cfg->opts->debug);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != expected_ppid)
		_exit(1);
	/* orphans of the command are re-parented to us, not to the host's init */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	self = getpid();
	h = fork();
	if (h < 0) {
		rk_error_errno(&err, errno, "fork in the child");
		rk_msg_send_error(cfg->sock, &err);
		_exit(1);
	}
	if (h == 0)
		setup_main(cfg, self);
	snprintf(cfg->child_env[cfg->marker_index], RK_CHILD_ENV_SIZE, "%s=%d,%d,%u,%d",
		 RK_CHILD_ENV, (int)h, (int)expected_ppid,
		 (cfg->opts->debug ? RK_MARKER_DEBUG : 0) |
			 (cfg->opts->reaper ? RK_MARKER_REAPER : 0),
		 (int)(cfg->opts->command - cfg->self_argv));
	/* the supervisor, like the command, keeps only stdio (and activation fds) */
	cloexec_from(3 + cfg->listen_fds);
	umask(cfg->orig_umask);
	execve("/proc/self/exe", cfg->self_argv, cfg->child_env);
	rk_error_errno(&err, errno, "failed to re-execute /proc/self/exe in the child");
	rk_msg_send_error(cfg->sock, &err);
	kill(h, SIGKILL);
	_exit(1);
}

/* what forbids the user namespace, with the AppArmor profile of this executable */
static void clone_hint(int e, char *buf, size_t size)
{
	char exe[4096] = "/usr/local/bin/rootlesskit";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0)
		exe[n] = '\0';
	rk_userns_hint(e, "/proc/sys", "/etc/apparmor.d", exe, buf, size);
}

int rk_child_start(struct rk_child_config *cfg, pid_t *ret_pid, struct rk_error *err)
{
	const struct rk_options *opts = cfg->opts;
	struct clone_args args = { .exit_signal = SIGCHLD };
	char hint[1024];
	long pid;

	args.flags = CLONE_NEWUSER | CLONE_NEWNS;
	if (opts->pidns)
		args.flags |= CLONE_NEWPID;
	if (opts->utsns)
		args.flags |= CLONE_NEWUTS;
	if (opts->ipcns)
		args.flags |= CLONE_NEWIPC;
	if (opts->cgroupns)
		args.flags |= CLONE_NEWCGROUP;
	if (cfg->net->new_netns && !opts->detach_netns)
		args.flags |= CLONE_NEWNET;
	fflush(NULL); /* nothing buffered may be written twice */
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0 && errno == ENOSYS) /* kernels before 5.3 */
		pid = syscall(SYS_clone, (unsigned long)args.flags | SIGCHLD, NULL, NULL, NULL,
			      NULL);
	if (pid < 0) {
		int e = errno;
		clone_hint(e, hint, sizeof(hint));
		rk_error_errno(err, e, "failed to start the child: clone");
		if (hint[0]) {
			size_t n = strlen(err->msg);
			snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", hint);
		}
		return -e;
	}
	if (pid == 0)
		child_main(cfg);
	*ret_pid = (pid_t)pid;
	return 0;
}

static const char *const rk_env_names[] = { "ROOTLESSKIT_STATE_DIR", "ROOTLESSKIT_PARENT_EUID",
					    "ROOTLESSKIT_PARENT_EGID", RK_CHILD_ENV };

static bool env_is_ours(const char *entry)
{
	for (size_t i = 0; i < RK_ARRAY_SIZE(rk_env_names); i++) {
		size_t n = strlen(rk_env_names[i]);
		if (strncmp(entry, rk_env_names[i], n) == 0 && entry[n] == '=')
			return true;
	}
	return false;
}

char **rk_child_env(const char *state_dir, size_t *ret_marker)
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

int rk_child_listen_fds(bool *ret_ours)
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

void rk_child_preflight(void)
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
