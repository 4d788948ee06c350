/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup and mountinfo parsing on fixtures; the /sys step for real, in a throwaway user,
 * mount and network (or cgroup) namespace of a forked child. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/cgroup.h"
#include "src/lib/netlink.h"
#include "src/lib/util.h"
#include "src/mount.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static char *fixture(const char *text)
{
	char *path = rk_xstrdup("/tmp/rk-test-fixture-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(rk_write_all(fd, text, strlen(text)), 0);
	close(fd);
	return path;
}

static void test_find_v2(void **state)
{
	const char *hybrid =
		"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		"30 22 0:26 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
		"31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw\n"
		"32 30 0:28 / /sys/fs/cgroup/cpu rw,nosuid shared:11 - cgroup cgroup rw,cpu\n";
	const char *none = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
			   "32 22 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
	rk_auto_free char *a = fixture(hybrid);
	rk_auto_free char *b = fixture(none);
	char buf[256];

	(void)state;
	assert_int_equal(rk_cgroup_find_v2(a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/cgroup/unified");
	assert_int_equal(rk_cgroup_find_v2(b, buf, sizeof(buf)), -ENOENT);
	unlink(a);
	unlink(b);
	assert_int_equal(rk_cgroup_find_v2(a, buf, sizeof(buf)), -ENOENT);
}

static void test_mountinfo_split(void **state)
{
	char a[] = "22 1 8:1 / / rw,relatime shared:1 master:7 - ext4 /dev/sda1 rw\n";
	char b[] = "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n";
	char c[] = "36 35 98:0 /mnt1 /with\\040space rw - ext3 /dev/root rw\n";
	char bad[] = "22 1 8:1 / / rw shared:1 ext4 /dev/sda1 rw\n";
	struct rk_mountinfo_entry e;

	(void)state;
	assert_int_equal(rk_mountinfo_split(a, &e), 0);
	assert_string_equal(e.mountpoint, "/");
	assert_string_equal(e.optional, "shared:1 master:7");
	assert_string_equal(e.fstype, "ext4");
	assert_int_equal(rk_mountinfo_split(b, &e), 0);
	assert_string_equal(e.mountpoint, "/sys/fs/cgroup/unified");
	assert_string_equal(e.optional, "");
	assert_string_equal(e.fstype, "cgroup2");
	assert_int_equal(rk_mountinfo_split(c, &e), 0);
	assert_string_equal(e.mountpoint, "/with\\040space");
	assert_int_equal(rk_mountinfo_split(bad, &e), -EINVAL);
}

static void test_own_group(void **state)
{
	rk_auto_free char *a =
		fixture("12:pids:/user.slice\n0::/user.slice/user-1000.slice/x.scope\n");
	rk_auto_free char *b = fixture("12:pids:/\n1:cpu:/\n");
	char buf[256];

	(void)state;
	assert_int_equal(rk_cgroup_own_group(a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/user.slice/user-1000.slice/x.scope");
	assert_int_equal(rk_cgroup_own_group(b, buf, sizeof(buf)), -ENOENT);
	unlink(a);
	unlink(b);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0 || rk_write_all(fd, text, strlen(text)) < 0)
		_exit(90);
	close(fd);
}

/* In a forked child: new user namespace (mapping us to root) plus `extra`, private mounts. */
static void enter_namespaces(int extra)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | extra) < 0)
		_exit(91);
	write_file("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	write_file("/proc/self/uid_map", map);
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	write_file("/proc/self/gid_map", map);
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		_exit(92);
}

/* Runs fn in a forked child and returns its exit code. */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static size_t count_entries(const char *dir)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, NULL);

	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return n < 0 ? 0 : (size_t)n;
}

static int fresh_sysfs_child(void)
{
	struct rk_error err = { 0 };
	size_t cgroup_before = count_entries("/sys/fs/cgroup");

	enter_namespaces(CLONE_NEWNET);
	if (rk_mount_sys(true, false, &err) < 0)
		return 1;
	/* the new network namespace has only lo ("." and ".." and "lo") */
	if (count_entries("/sys/class/net") != 3)
		return 2;
	if (access("/sys/class/net/lo", F_OK) < 0)
		return 3;
	/* and /sys/fs/cgroup was put back */
	if (cgroup_before < 3 || count_entries("/sys/fs/cgroup") != cgroup_before)
		return 4;
	return 0;
}

static void test_fresh_sysfs_keeps_cgroup(void **state)
{
	(void)state;
	assert_int_equal(in_child(fresh_sysfs_child), 0);
}

static int cgroup2_child(void)
{
	struct rk_error err = { 0 };
	struct statfs sf;

	enter_namespaces(CLONE_NEWCGROUP);
	if (rk_mount_sys(false, true, &err) < 0)
		return 1;
	if (statfs("/sys/fs/cgroup", &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC)
		return 2;
	if (access("/sys/fs/cgroup/cgroup.procs", F_OK) < 0)
		return 3;
	return 0;
}

static void test_cgroup2_on_sys_fs_cgroup(void **state)
{
	char mnt[256];

	(void)state;
	if (rk_cgroup_find_v2("/proc/self/mountinfo", mnt, sizeof(mnt)) < 0)
		skip(); /* no cgroup2 on this host */
	assert_int_equal(in_child(cgroup2_child), 0);
}

static int link_up_child(void)
{
	struct rk_error err = { 0 };
	struct ifreq ifr = { 0 };
	int fd;

	enter_namespaces(CLONE_NEWNET);
	if (rk_netlink_link_up("lo", &err) < 0)
		return 1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP))
		return 2;
	if (rk_netlink_link_up("rk-nothere0", &err) != -ENODEV ||
	    strcmp(err.msg, "ip link set rk-nothere0 up: No such device") != 0)
		return 3;
	return 0;
}

static void test_link_up(void **state)
{
	(void)state;
	assert_int_equal(in_child(link_up_child), 0);
}

static void test_nothing_to_do(void **state)
{
	struct rk_error err = { 0 };

	(void)state;
	assert_int_equal(rk_mount_sys(false, false, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_v2),
		cmocka_unit_test(test_mountinfo_split),
		cmocka_unit_test(test_own_group),
		cmocka_unit_test(test_fresh_sysfs_keeps_cgroup),
		cmocka_unit_test(test_cgroup2_on_sys_fs_cgroup),
		cmocka_unit_test(test_link_up),
		cmocka_unit_test(test_nothing_to_do),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
