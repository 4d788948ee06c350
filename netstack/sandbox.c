/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's confinement. The engine is where a child's crafted frames meet libslirp,
 * whose history is memory bugs (and this project's fuzzer found more), so a compromised
 * engine must not be able to run programs, debug or signal-steal other processes of the
 * user, change namespaces or mounts, load anything into the kernel, or reach the
 * keyring. A deny list, as slirp4netns', because libslirp and glibc need a broad, version
 * dependent set of calls for sockets, timers and resolv.conf; the action kills the whole
 * process, which the parent reports.
 *
 * Before the filter, the engine's file system view shrinks (rk_engine_confine_fs): in a
 * user and mount namespace of its own it sees an empty read-only root holding only /etc
 * and /run, read-only (resolv.conf, and where resolvers keep it).
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* Binds src read-only at dst (created), keeping the flags the mount must keep. Returns 0,
 * 1 when src does not exist, or -1. */
static int bind_ro(const char *src, const char *dst)
{
	const unsigned long keep =
		ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME;
	struct statvfs sv;

	if (access(src, F_OK) < 0)
		return 1;
	if (mkdir(dst, 0755) < 0 || mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    statvfs(dst, &sv) < 0)
		return -1;
	/* a mount inherited from a more privileged namespace is locked: its flags may only
	 * be added to (the ST_ values are the MS_ ones) */
	return mount(NULL, dst, NULL,
		     MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
			     (sv.f_flag & keep),
		     NULL);
}

int rk_engine_confine_fs(struct rk_error *err)
{
	const unsigned uid = (unsigned)geteuid(),
		       gid = (unsigned)getegid(); /* before: unmapped after */
	char map[64];
	const char *root = "/tmp";

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return rk_error_errno(err, errno, "netstack sandbox: unshare");
	snprintf(map, sizeof(map), "%u %u 1\n", uid, uid);
	if (rk_write_file("/proc/self/setgroups", "deny") < 0 ||
	    rk_write_file("/proc/self/uid_map", map) < 0)
		return rk_error_errno(err, errno, "netstack sandbox: uid_map");
	snprintf(map, sizeof(map), "%u %u 1\n", gid, gid);
	if (rk_write_file("/proc/self/gid_map", map) < 0)
		return rk_error_errno(err, errno, "netstack sandbox: gid_map");
	/* the new root: a small tmpfs over /tmp (only in this mount namespace) */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,mode=0755") <
		    0 ||
	    chdir(root) < 0)
		return rk_error_errno(err, errno, "netstack sandbox: the new root");
	if (bind_ro("/etc", "etc") < 0 || bind_ro("/run", "run") < 0)
		return rk_error_errno(err, errno, "netstack sandbox: binding /etc and /run");
	if (mkdir("old", 0700) < 0 || syscall(SYS_pivot_root, ".", "old") < 0 || chdir("/") < 0 ||
	    umount2("/old", MNT_DETACH) < 0 || rmdir("/old") < 0)
		return rk_error_errno(err, errno, "netstack sandbox: pivot_root");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return rk_error_errno(err, errno, "netstack sandbox: a read-only root");
	return 0;
}

static const char *const denied[] = {
	"execve",
	"execveat",
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"pidfd_getfd",
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	"mount",
	"umount2",
	"pivot_root",
	"chroot",
	"setns",
	"unshare",
	"open_by_handle_at",
	"name_to_handle_at",
	"bpf",
	"keyctl",
	"add_key",
	"request_key",
	"reboot",
	"swapon",
	"swapoff",
	"fsopen",
	"fsmount",
	"fsconfig",
	"fspick",
	"move_mount",
	"open_tree",
	"userfaultfd",
	"perf_event_open",
	"acct",
	"quotactl",
	"settimeofday",
	"clock_settime",
	"personality",
	"mount_setattr",
};

int rk_engine_sandbox(struct rk_error *err)
{
	scmp_filter_ctx ctx;
	int r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return rk_error_errno(err, errno, "netstack sandbox: no_new_privs");
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return rk_error_set(err, ENOMEM, "netstack sandbox: seccomp_init");
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0);
		if (r < 0) {
			seccomp_release(ctx);
			return rk_error_errno(err, -r, "netstack sandbox: denying %s", denied[i]);
		}
	}
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return rk_error_errno(err, -r, "netstack sandbox: loading the seccomp filter");
	return 0;
}
