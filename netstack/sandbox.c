/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's confinement. The engine is where a child's crafted frames meet libslirp,
 * whose history is memory bugs (and this project's fuzzer found more), so a compromised
 * engine must not be able to run programs, debug or signal-steal other processes of the
 * user, change namespaces or mounts, load anything into the kernel, or reach the
 * keyring. A deny list, as slirp4netns', because libslirp and glibc need a broad, version
 * dependent set of calls for sockets, timers and resolv.conf; the action kills the whole
 * process, which the parent reports.
 */
#include "sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/prctl.h>

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
