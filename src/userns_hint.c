/* SPDX-License-Identifier: Apache-2.0 */
#include "src/userns_hint.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "src/lib/util.h"

void rk_apparmor_profile_name(const char *path, char *buf, size_t size)
{
	snprintf(buf, size, "%s", path[0] == '/' ? path + 1 : path);
	for (char *p = buf; *p; p++)
		if (*p == '/')
			*p = '.';
}

/* the value of the sysctl proc_sys/name, or -1 when it cannot be read */
static long sysctl_value(const char *proc_sys, const char *name)
{
	char path[4096];
	long v;

	snprintf(path, sizeof(path), "%s/%s", proc_sys, name);
	return rk_read_proc_long(path, &v) == 0 ? v : -1;
}

static void apparmor_hint(const char *apparmor_dir, const char *exe, char *buf, size_t size)
{
	char name[4096], profile[8192];

	rk_apparmor_profile_name(exe, name, sizeof(name));
	snprintf(profile, sizeof(profile), "%s/%s", apparmor_dir, name);
	if (access(profile, F_OK) == 0) {
		snprintf(buf, size,
			 "AppArmor restricts unprivileged user namespaces "
			 "(kernel.apparmor_restrict_unprivileged_userns=1) and the profile %s, "
			 "which allows them for %s, is not loaded: as root, run \"apparmor_parser "
			 "-r %s\" (AppArmor 4.0 or later)",
			 profile, exe, profile);
		return;
	}
	snprintf(buf, size,
		 "AppArmor restricts unprivileged user namespaces "
		 "(kernel.apparmor_restrict_unprivileged_userns=1) and no profile allows them for "
		 "%s: as root, install the profile %s (\"make install\" of rootlesskit-c writes "
		 "it; it holds \"abi <abi/4.0>, include <tunables/global> \"%s\" "
		 "flags=(unconfined) { userns, }\") and run \"apparmor_parser -r %s\"",
		 exe, profile, exe, profile);
}

void rk_userns_hint(int e, const char *proc_sys, const char *apparmor_dir, const char *exe,
		    char *buf, size_t size)
{
	buf[0] = '\0';
	if (sysctl_value(proc_sys, "kernel/apparmor_restrict_unprivileged_userns") == 1) {
		apparmor_hint(apparmor_dir, exe, buf, size);
	} else if (sysctl_value(proc_sys, "kernel/unprivileged_userns_clone") == 0) {
		snprintf(buf, size,
			 "unprivileged user namespaces are disabled: as root, run \"sysctl -w "
			 "kernel.unprivileged_userns_clone=1\"");
	} else if (sysctl_value(proc_sys, "user/max_user_namespaces") == 0) {
		snprintf(buf, size,
			 "user namespaces are disabled: as root, run \"sysctl -w "
			 "user.max_user_namespaces=28633\"");
	} else if (e == ENOSPC || e == EUSERS) {
		snprintf(buf, size,
			 "the limit user.max_user_namespaces (or the nesting depth) is reached: "
			 "raise it with sysctl or end other namespaced processes");
	} else if (e == EINVAL) {
		snprintf(buf, size, "this kernel lacks user namespaces (CONFIG_USER_NS)");
	} else if (e == EPERM || e == EACCES) {
		snprintf(buf, size,
			 "user namespaces are forbidden here: inside a container, its seccomp "
			 "profile or LSM must allow unshare(CLONE_NEWUSER)");
	}
}
