/* SPDX-License-Identifier: Apache-2.0 */
/* What to tell the user when the kernel refuses rootlesskit a user namespace. */
#ifndef RK_USERNS_HINT_H
#define RK_USERNS_HINT_H

#include <stddef.h>

/* The name AppArmor's tools give the profile of the executable at path, and the one
 * "make install" installs: the path without its leading slash, each '/' a '.'
 * ("/usr/local/bin/rootlesskit" -> "usr.local.bin.rootlesskit"). */
void rk_apparmor_profile_name(const char *path, char *buf, size_t size);

/* Says in buf what on this host forbids unprivileged user namespaces, given clone()'s
 * errno e: the sysctls under proc_sys ("/proc/sys") first, then e. Under AppArmor's
 * restriction it names the profile of exe in apparmor_dir ("/etc/apparmor.d") and how to
 * load it, or install it when it is missing. buf is "" when nothing is known. */
void rk_userns_hint(int e, const char *proc_sys, const char *apparmor_dir, const char *exe,
		    char *buf, size_t size);

#endif
