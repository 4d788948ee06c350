/* SPDX-License-Identifier: Apache-2.0 */
/* The hint after a refused clone(): which sysctl, and under AppArmor's restriction, the
 * profile of the running executable, installed or not. A fake /proc/sys and
 * /etc/apparmor.d in a temporary directory stand for the host's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/userns_hint.h"

#define EXE "/usr/local/bin/rootlesskit"

struct host {
	char top[64], proc_sys[128], aa[128];
};

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int host_setup(void **state)
{
	struct host *h = calloc(1, sizeof(*h));
	char d[256];

	snprintf(h->top, sizeof(h->top), "/tmp/rk-hint.XXXXXX");
	assert_non_null(mkdtemp(h->top));
	snprintf(h->proc_sys, sizeof(h->proc_sys), "%s/sys", h->top);
	snprintf(h->aa, sizeof(h->aa), "%s/apparmor.d", h->top);
	assert_int_equal(mkdir(h->proc_sys, 0755), 0);
	snprintf(d, sizeof(d), "%s/kernel", h->proc_sys);
	assert_int_equal(mkdir(d, 0755), 0);
	snprintf(d, sizeof(d), "%s/user", h->proc_sys);
	assert_int_equal(mkdir(d, 0755), 0);
	assert_int_equal(mkdir(h->aa, 0755), 0);
	*state = h;
	return 0;
}

static int host_teardown(void **state)
{
	struct host *h = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->top);
	assert_int_equal(system(cmd), 0);
	free(h);
	return 0;
}

static void hint(struct host *h, int e, char *buf, size_t size)
{
	rk_userns_hint(e, h->proc_sys, h->aa, EXE, buf, size);
}

static void assert_has(const char *s, const char *part)
{
	if (!strstr(s, part))
		fail_msg("\"%s\" lacks \"%s\"", s, part);
}

static void test_profile_name(void **state)
{
	char name[64];

	(void)state;
	rk_apparmor_profile_name("/usr/local/bin/rootlesskit", name, sizeof(name));
	assert_string_equal(name, "usr.local.bin.rootlesskit");
	rk_apparmor_profile_name("/home/u/bin/rootlesskit", name, sizeof(name));
	assert_string_equal(name, "home.u.bin.rootlesskit");
}

/* restricted, no profile: says where the profile goes, what it holds, how to load it */
static void test_apparmor_missing_profile(void **state)
{
	struct host *h = *state;
	char buf[1024], want[512];

	put(h->proc_sys, "kernel/apparmor_restrict_unprivileged_userns", "1\n");
	hint(h, EACCES, buf, sizeof(buf));
	snprintf(want, sizeof(want), "install the profile %s/usr.local.bin.rootlesskit", h->aa);
	assert_has(buf, want);
	assert_has(buf, "kernel.apparmor_restrict_unprivileged_userns=1");
	assert_has(buf, "\"" EXE "\" flags=(unconfined) { userns, }");
	snprintf(want, sizeof(want), "\"apparmor_parser -r %s/usr.local.bin.rootlesskit\"", h->aa);
	assert_has(buf, want);
}

/* restricted, the profile installed but not loaded: names it and says how to load it */
static void test_apparmor_profile_not_loaded(void **state)
{
	struct host *h = *state;
	char buf[1024], want[512];

	put(h->proc_sys, "kernel/apparmor_restrict_unprivileged_userns", "1\n");
	put(h->aa, "usr.local.bin.rootlesskit", "profile\n");
	hint(h, EACCES, buf, sizeof(buf));
	snprintf(want, sizeof(want),
		 "the profile %s/usr.local.bin.rootlesskit, which allows them for " EXE
		 ", is not loaded: as root, run \"apparmor_parser -r "
		 "%s/usr.local.bin.rootlesskit\"",
		 h->aa, h->aa);
	assert_has(buf, want);
	assert_null(strstr(buf, "install the profile"));
}

/* AppArmor present but not restricting: the other causes, in order */
static void test_other_causes(void **state)
{
	struct host *h = *state;
	char buf[1024];

	put(h->proc_sys, "kernel/apparmor_restrict_unprivileged_userns", "0\n");
	hint(h, EPERM, buf, sizeof(buf));
	assert_has(buf, "user namespaces are forbidden here");
	assert_null(strstr(buf, "AppArmor"));
	put(h->proc_sys, "user/max_user_namespaces", "0\n");
	hint(h, ENOSPC, buf, sizeof(buf));
	assert_has(buf, "sysctl -w user.max_user_namespaces=");
	put(h->proc_sys, "kernel/unprivileged_userns_clone", "0\n");
	hint(h, EPERM, buf, sizeof(buf));
	assert_has(buf, "sysctl -w kernel.unprivileged_userns_clone=1");
	put(h->proc_sys, "kernel/unprivileged_userns_clone", "1\n");
	put(h->proc_sys, "user/max_user_namespaces", "100\n");
	hint(h, ENOSPC, buf, sizeof(buf));
	assert_has(buf, "the limit user.max_user_namespaces");
	hint(h, EINVAL, buf, sizeof(buf));
	assert_string_equal(buf, "this kernel lacks user namespaces (CONFIG_USER_NS)");
	hint(h, ENOMEM, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_name),
		cmocka_unit_test_setup_teardown(test_apparmor_missing_profile, host_setup,
						host_teardown),
		cmocka_unit_test_setup_teardown(test_apparmor_profile_not_loaded, host_setup,
						host_teardown),
		cmocka_unit_test_setup_teardown(test_other_causes, host_setup, host_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
