/* SPDX-License-Identifier: Apache-2.0 */
/*
 * deny: runs a command under a seccomp filter that fails the named system calls with an
 * errno, as a container's policy or an old kernel would (the integration tests' stand-in
 * for a host that lacks a feature).
 *
 *   deny ERRNO SYSCALL [SYSCALL...] -- COMMAND [ARG...]
 *
 * ERRNO is a number (1 is EPERM). The filter is inherited by everything the command starts.
 * Run as root it loads the filter without no_new_privs, so that setuid helpers (newuidmap)
 * keep working under it.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx;
	int i, e;

	if (argc < 5 || (e = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: deny ERRNO SYSCALL [SYSCALL...] -- COMMAND [ARG...]\n");
		return 2;
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return 2;
	for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
		int nr = seccomp_syscall_resolve_name(argv[i]);
		if (nr == __NR_SCMP_ERROR || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(e), nr, 0) < 0) {
			fprintf(stderr, "deny: unknown system call %s\n", argv[i]);
			return 2;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "deny: no command after --\n");
		return 2;
	}
	if ((geteuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) ||
	    (geteuid() == 0 && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) ||
	    seccomp_load(ctx) < 0) {
		perror("deny: loading the filter");
		return 2;
	}
	execvp(argv[i + 1], argv + i + 1);
	perror(argv[i + 1]);
	return 127;
}
