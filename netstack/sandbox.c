/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's confinement
 *
 * The engine is where a child's crafted frames meet libslirp, whose history is memory bugs,
 * and where hostile clients of published ports meet our own translations. A compromised
 * engine must reach nothing of the user's but the network it already serves: no files, no
 * Unix socket (the session bus, systemd's private socket, a rootless docker.sock), no other
 * process, no program to run. The stages, in order, each removing something:
 *
 *   1. namespaces: a user namespace of its own (no capability of the user's outer one, and
 *      its uid is the only one mapped), with new mount, IPC and UTS namespaces. The network
 *      namespace stays: it is the host's, which the engine serves.
 *   2. file system view: a read-only tmpfs root that holds /etc/resolv.conf (the file the
 *      host's resolv.conf resolves to, bound read-only) and nothing else: no /run, no /tmp,
 *      no /proc, so no path reaches a Unix socket or another process.
 *   3. privileges: no capability in any set (the new user namespace gave it all of its
 *      own), no ambient ones, no_new_privs.
 *   4. seccomp: an allow-list of the calls the engine's loop makes (below, grouped by the
 *      code that makes them). socket() only for AF_INET and AF_INET6, so no new Unix socket
 *      can be made; kill() and tgkill() only to itself; mmap() and mprotect() never
 *      executable; openat() read-only. Any other call raises SIGSYS, whose handler says
 *      which call and ends the engine (the parent then restarts it).
 *
 * Each stage runs in mode on (a failure stops the engine with the reason), off, or auto:
 * as on, except that a kernel (or a container's policy) that lacks the stage's feature
 * altogether lets the engine run without that stage, with one warning.
 */
#include "netstack/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "src/lib/log.h"
#include "src/lib/util.h"

/* Errors by which a kernel or a container's policy says it has no such feature at all. */
static bool feature_missing(int e)
{
	return e == ENOSYS || e == EINVAL || e == EPERM || e == ENOSPC || e == EUSERS;
}

/* In auto mode, a stage the kernel lacks is left out with one warning. */
static void warn_left_out(const char *what, int e, const char *flag)
{
	rk_warn("netstack sandbox: %s: %s; this kernel or its policy does not allow it, so the "
		"engine runs without it (--%s=true makes this fatal, =false silent)",
		what, strerror(e), flag);
}

/* Stage 1 (after unshare): only our uid and gid are mapped. */
static int map_ids(unsigned uid, unsigned gid, struct rk_error *err)
{
	char map[64];

	snprintf(map, sizeof(map), "%u %u 1\n", uid, uid);
	if (rk_write_file("/proc/self/setgroups", "deny") < 0 ||
	    rk_write_file("/proc/self/uid_map", map) < 0)
		return rk_error_errno(err, errno, "netstack sandbox: uid_map");
	snprintf(map, sizeof(map), "%u %u 1\n", gid, gid);
	if (rk_write_file("/proc/self/gid_map", map) < 0)
		return rk_error_errno(err, errno, "netstack sandbox: gid_map");
	return 0;
}

/* Stage 2: the new root, on a small tmpfs over /tmp (only in this mount namespace), with
 * resolv (when not NULL) bound read-only at /etc/resolv.conf. The file is held before the
 * tmpfs goes up (it may live below /tmp), and in this mount namespace (a bind mount's
 * source must be). */
static int enter_view(const char *resolv, struct rk_error *err)
{
	const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    keep = ST_NOATIME | ST_NODIRATIME | ST_RELATIME;
	rk_auto_close int src = -1;
	struct statvfs sv;
	char src_path[64];
	int fd;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return rk_error_errno(err, errno, "netstack sandbox: private mounts");
	if (resolv && (src = open(resolv, O_PATH | O_CLOEXEC)) < 0)
		return rk_error_errno(err, errno, "netstack sandbox: %s", resolv);
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=16k,nr_inodes=16,mode=0755") < 0 ||
	    chdir("/tmp") < 0)
		return rk_error_errno(err, errno, "netstack sandbox: the new root");
	if (resolv) {
		snprintf(src_path, sizeof(src_path), "/proc/self/fd/%d", src);
		if (mkdir("etc", 0755) < 0 ||
		    (fd = open("etc/resolv.conf", O_WRONLY | O_CREAT | O_CLOEXEC, 0444)) < 0)
			return rk_error_errno(err, errno, "netstack sandbox: /etc/resolv.conf");
		close(fd);
		/* a mount inherited from a more privileged namespace is locked: its flags may
		 * only be added to (the ST_ values are the MS_ ones) */
		if (mount(src_path, "etc/resolv.conf", NULL, MS_BIND, NULL) < 0 ||
		    statvfs("etc/resolv.conf", &sv) < 0 ||
		    mount(NULL, "etc/resolv.conf", NULL,
			  MS_BIND | MS_REMOUNT | ro | (sv.f_flag & keep), NULL) < 0)
			return rk_error_errno(err, errno, "netstack sandbox: binding %s", resolv);
	}
	if (mkdir("old", 0700) < 0 || syscall(SYS_pivot_root, ".", "old") < 0 || chdir("/") < 0 ||
	    umount2("/old", MNT_DETACH) < 0 || rmdir("/old") < 0)
		return rk_error_errno(err, errno, "netstack sandbox: pivot_root");
	if (mount(NULL, "/", NULL, MS_REMOUNT | ro, NULL) < 0)
		return rk_error_errno(err, errno, "netstack sandbox: a read-only root");
	return 0;
}

/* Stage 3: no capability in any set, none to regain. */
static int drop_privileges(struct rk_error *err)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return rk_error_errno(err, errno,
				      "netstack sandbox: clearing ambient capabilities");
	if (syscall(SYS_capset, &hdr, data) < 0)
		return rk_error_errno(err, errno, "netstack sandbox: dropping capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return rk_error_errno(err, errno, "netstack sandbox: no_new_privs");
	return 0;
}

/*
 * Stage 4: the allow-list. Each group names the code whose calls it allows.
 */
static const char *const allowed[] = {
	/* engine.c: the loop (poll), the tap (readv, writev), the signalfd and the control
	 * socket (read, recvmsg, sendmsg), the clock; launch.c: the tap, received on fd 3
	 * after the confinement, takes that fd's place (dup3) */
	"poll",
	"ppoll",
	"read",
	"readv",
	"write",
	"writev",
	"recvmsg",
	"sendmsg",
	"dup3",
	"clock_gettime",
	"clock_nanosleep",
	"nanosleep",
	"gettimeofday",
	"restart_syscall",
	/* tcpnat.c, udpnat.c, dns.c, port forwards, and libslirp's sockets (socket() has its
	 * own rules below) */
	"connect",
	"bind",
	"listen",
	"accept",
	"accept4",
	"shutdown",
	"close",
	"recvfrom",
	"sendto",
	"recvmmsg",
	"sendmmsg",
	"getsockopt",
	"setsockopt",
	"getsockname",
	"getpeername",
	"fcntl",
	/* dns.c: resolv.conf read again when it changes (openat has its own rule) */
	"newfstatat",
	"fstat",
	"statx",
	"lseek",
	/* nat.c: the descriptor budget (getrlimit; prlimit64 has its own rule) */
	"getrlimit",
	/* libc and libslirp: memory (mmap and mprotect have their own rules), locks, random
	 * numbers (arc4random_buf, GLib), signals returning, the end */
	"brk",
	"munmap",
	"mremap",
	"madvise",
	"futex",
	"getrandom",
	"rt_sigprocmask",
	"rt_sigreturn",
	"sigaltstack",
	"sched_yield",
	"getpid",
	"gettid",
	"exit",
	"exit_group",
};

/* Says which call was refused (async-signal-safe: no stdio), and ends the engine. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char msg[128] = "[rootlesskit:parent] error: netstack engine: system call ";
	size_t n = strlen(msg);
	char digits[12];
	int d = 0, nr = si->si_syscall;

	(void)sig;
	(void)uc;
	do {
		digits[d++] = (char)('0' + nr % 10);
		nr /= 10;
	} while (nr && d < (int)sizeof(digits));
	while (d && n < sizeof(msg) - 40)
		msg[n++] = digits[--d];
	memcpy(msg + n, " refused by its seccomp filter\n", 32);
	(void)!write(STDERR_FILENO, msg, n + 31);
	_exit(RK_ENGINE_SECCOMP_EXIT);
}

static int add_rules(scmp_filter_ctx ctx, pid_t self)
{
	const scmp_datum_t exec = PROT_EXEC,
			   write_flags = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE;
	int r = 0;

	for (size_t i = 0; i < RK_ARRAY_SIZE(allowed) && r == 0; i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr != __NR_SCMP_ERROR) /* not on this architecture */
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	/* calls allowed only with these arguments (one row each; cmp[1] unused when n is 1; an
	 * equality ignores its second datum) */
	const struct {
		int nr;
		unsigned n;
		struct scmp_arg_cmp cmp[2];
	} with_args[] = {
		/* new sockets: the host's network only, never a Unix socket */
		{ SCMP_SYS(socket), 1, { SCMP_A0(SCMP_CMP_EQ, AF_INET, 0) } },
		{ SCMP_SYS(socket), 1, { SCMP_A0(SCMP_CMP_EQ, AF_INET6, 0) } },
		/* signals: abort() and raise() to itself only */
		{ SCMP_SYS(kill), 1, { SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self, 0) } },
		{ SCMP_SYS(tgkill), 1, { SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self, 0) } },
		/* memory, never executable */
		{ SCMP_SYS(mmap), 1, { SCMP_A2(SCMP_CMP_MASKED_EQ, exec, 0) } },
		{ SCMP_SYS(mprotect), 1, { SCMP_A2(SCMP_CMP_MASKED_EQ, exec, 0) } },
		/* dns.c: resolv.conf, read-only (the root is read-only anyway) */
		{ SCMP_SYS(openat), 1, { SCMP_A2(SCMP_CMP_MASKED_EQ, write_flags, 0) } },
		/* nat.c: the limit is read, never set */
		{ SCMP_SYS(prlimit64),
		  2,
		  { SCMP_A0(SCMP_CMP_EQ, 0, 0), SCMP_A2(SCMP_CMP_EQ, 0, 0) } },
		/* libslirp: bytes waiting, non-blocking mode; stdio: is stderr a terminal */
		{ SCMP_SYS(ioctl), 1, { SCMP_A1(SCMP_CMP_EQ, FIONREAD, 0) } },
		{ SCMP_SYS(ioctl), 1, { SCMP_A1(SCMP_CMP_EQ, FIONBIO, 0) } },
		{ SCMP_SYS(ioctl), 1, { SCMP_A1(SCMP_CMP_EQ, TCGETS, 0) } },
	};

	for (size_t i = 0; i < RK_ARRAY_SIZE(with_args) && r == 0; i++)
		r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, with_args[i].nr, with_args[i].n,
					   with_args[i].cmp);
	return r;
}

static int load_filter(struct rk_error *err)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int r;

	if (!ctx)
		return rk_error_set(err, ENOMEM, "netstack sandbox: seccomp_init");
	r = add_rules(ctx, getpid());
	if (r < 0) {
		seccomp_release(ctx);
		return rk_error_errno(err, -r, "netstack sandbox: building the seccomp filter");
	}
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		seccomp_release(ctx);
		return rk_error_errno(err, errno, "netstack sandbox: SIGSYS handler");
	}
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return rk_error_errno(err, -r, "netstack sandbox: loading the seccomp filter");
	return 0;
}

int rk_engine_confine(const struct rk_confine_config *cfg, struct rk_error *err)
{
	const unsigned uid = (unsigned)geteuid(), gid = (unsigned)getegid();
	int r = 0;

	if (cfg->fs != RK_CONFINE_OFF) {
		/* the file itself: a link (to /run/systemd/resolve/, say) would lead out */
		char *resolv =
			realpath(cfg->resolv_conf ? cfg->resolv_conf : "/etc/resolv.conf", NULL);
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) == 0) {
			r = map_ids(uid, gid, err);
			if (r == 0)
				r = enter_view(resolv, err);
		} else if (cfg->fs == RK_CONFINE_AUTO && feature_missing(errno)) {
			warn_left_out("a user namespace of its own", errno, "netstack-sandbox");
		} else {
			r = rk_error_errno(err, errno, "netstack sandbox: unshare");
		}
		free(resolv);
		if (r < 0)
			return r;
	}
	r = drop_privileges(err);
	if (r < 0 || cfg->seccomp == RK_CONFINE_OFF)
		return r;
	r = load_filter(err);
	if (r < 0 && cfg->seccomp == RK_CONFINE_AUTO &&
	    (err->code == EINVAL || err->code == ENOSYS)) {
		warn_left_out("a seccomp filter", err->code, "netstack-seccomp");
		*err = (struct rk_error){ 0 };
		r = 0;
	}
	return r;
}
