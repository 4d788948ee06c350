/* SPDX-License-Identifier: Apache-2.0 */
/* Flag parsing and validation: upstream's Go flag rules and error texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "src/lib/gocompat.h"
#include "src/lib/util.h"
#include "src/options.h"

/* Parses a NULL-terminated list of arguments (argv[0] is added). */
static int parse(struct rk_options *o, struct rk_error *err, ...)
{
	static char *argv[64]; /* o->command points into it after we return */
	int argc = 1;
	va_list ap;

	argv[0] = "rootlesskit";
	va_start(ap, err);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	rk_options_init(o);
	return rk_options_parse(o, argc, argv, err);
}

static void test_defaults(void **state)
{
	struct rk_options o;
	struct rk_error err = { 0 };

	(void)state;
	assert_int_equal(parse(&o, &err, "true", NULL), 0);
	assert_int_equal(rk_options_validate(&o, false, &err), 0);
	assert_int_equal(o.net, RK_NET_HOST);
	assert_int_equal(o.port_driver, RK_PORT_NONE);
	assert_int_equal(o.propagation, RK_PROP_RPRIVATE);
	assert_int_equal(o.subid_source, RK_SUBID_AUTO);
	assert_true(o.source_ip_transparent);
	assert_false(o.reaper);
	assert_int_equal(o.mtu, 0);
	assert_string_equal(o.copy_up_mode, "tmpfs+symlink");
	assert_string_equal(o.lxc_user_nic_bridge, "lxcbr0");
	assert_int_equal(o.n_command, 1);
	assert_string_equal(o.command[0], "true");
	rk_options_free(&o);
}

static void test_dash_forms(void **state)
{
	struct rk_options o;
	struct rk_error err = { 0 };

	(void)state;
	assert_int_equal(parse(&o, &err, "-debug", "--state-dir", "/s", "-net=host", "--mtu=1500",
			       "cmd", NULL),
			 0);
	assert_true(o.debug);
	assert_string_equal(o.state_dir, "/s");
	assert_string_equal(o.net_name, "host");
	assert_int_equal(o.mtu, 1500);
	assert_string_equal(o.command[0], "cmd");
	rk_options_free(&o);
}

static void test_stops_at_first_non_flag(void **state)
{
	struct rk_options o;
	struct rk_error err = { 0 };

	(void)state;
	assert_int_equal(parse(&o, &err, "--debug", "echo", "--pidns", "-x", NULL), 0);
	assert_false(o.pidns);
	assert_int_equal(o.n_command, 3);
	assert_string_equal(o.command[1], "--pidns");
	rk_options_free(&o);

	/* "--" is consumed and ends the flags */
	assert_int_equal(parse(&o, &err, "--", "--version", NULL), 0);
	assert_false(o.version);
	assert_int_equal(o.n_command, 1);
	assert_string_equal(o.command[0], "--version");
	rk_options_free(&o);

	/* a lone "-" is an argument, not a flag */
	assert_int_equal(parse(&o, &err, "-", "x", NULL), 0);
	assert_int_equal(o.n_command, 2);
	assert_string_equal(o.command[0], "-");
	rk_options_free(&o);
}

static void test_bool_forms(void **state)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
	struct rk_options o;
	struct rk_error err = { 0 };
	char arg[64];

	(void)state;
	for (size_t i = 0; i < RK_ARRAY_SIZE(yes); i++) {
		snprintf(arg, sizeof(arg), "--pidns=%s", yes[i]);
		assert_int_equal(parse(&o, &err, arg, "x", NULL), 0);
		assert_true(o.pidns);
		rk_options_free(&o);
		snprintf(arg, sizeof(arg), "--source-ip-transparent=%s", no[i]);
		assert_int_equal(parse(&o, &err, arg, "x", NULL), 0);
		assert_false(o.source_ip_transparent);
		rk_options_free(&o);
	}
	/* "--flag false" does not work: "false" becomes the command */
	assert_int_equal(parse(&o, &err, "--debug", "false", NULL), 0);
	assert_true(o.debug);
	assert_string_equal(o.command[0], "false");
	rk_options_free(&o);

	assert_int_equal(parse(&o, &err, "--debug=yes", "x", NULL), -EINVAL);
	assert_string_equal(err.msg, "invalid boolean value \"yes\" for -debug: parse error");
	rk_options_free(&o);
}

static void test_errors(void **state)
{
	struct rk_options o;
	struct rk_error err = { 0 };

	(void)state;
	assert_int_equal(parse(&o, &err, "--bogus", "x", NULL), -EINVAL);
	assert_string_equal(err.msg, "flag provided but not defined: -bogus");
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "-bogus=1", NULL), -EINVAL);
	assert_string_equal(err.msg, "flag provided but not defined: -bogus");
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "---debug", NULL), -EINVAL);
	assert_string_equal(err.msg, "bad flag syntax: ---debug");
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "--=x", NULL), -EINVAL);
	assert_string_equal(err.msg, "bad flag syntax: --=x");
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "--state-dir", NULL), -EINVAL);
	assert_string_equal(err.msg, "flag needs an argument: -state-dir");
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "-p", NULL), -EINVAL);
	assert_string_equal(err.msg, "flag needs an argument: -p");
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "--mtu=abc", "x", NULL), -EINVAL);
	assert_string_equal(err.msg, "invalid value \"abc\" for flag -mtu: parse error");
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "--mtu=99999999999999999999", "x", NULL), -EINVAL);
	assert_string_equal(
		err.msg,
		"invalid value \"99999999999999999999\" for flag -mtu: value out of range");
	rk_options_free(&o);
}

static void test_slices(void **state)
{
	struct rk_options o;
	struct rk_error err = { 0 };

	(void)state;
	assert_int_equal(parse(&o, &err, "--copy-up=/etc, /run", "--copy-up", "/var/lib", "-p",
			       "a,b", "--publish=c", "x", NULL),
			 0);
	assert_int_equal(o.n_copy_up, 3);
	assert_string_equal(o.copy_up[0], "/etc");
	assert_string_equal(o.copy_up[1], "/run");
	assert_string_equal(o.copy_up[2], "/var/lib");
	assert_null(o.copy_up[3]);
	assert_int_equal(o.n_publish, 3);
	assert_string_equal(o.publish[0], "a");
	assert_string_equal(o.publish[1], "b");
	assert_string_equal(o.publish[2], "c");
	rk_options_free(&o);
}

static void test_go_int(void **state)
{
	long long v;

	(void)state;
	assert_int_equal(rk_parse_go_int("0x10", &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(rk_parse_go_int("010", &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(rk_parse_go_int("0o17", &v), 0);
	assert_int_equal(v, 15);
	assert_int_equal(rk_parse_go_int("0b101", &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(rk_parse_go_int("-5", &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(rk_parse_go_int("+7", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(rk_parse_go_int("1_500", &v), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(rk_parse_go_int("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rk_parse_go_int("9223372036854775807", &v), 0);
	assert_int_equal(rk_parse_go_int("-9223372036854775808", &v), 0);
	assert_int_equal(rk_parse_go_int("9223372036854775808", &v), -ERANGE);
	assert_int_equal(rk_parse_go_int("", &v), -EINVAL);
	assert_int_equal(rk_parse_go_int("08", &v), -EINVAL);
	assert_int_equal(rk_parse_go_int("0x", &v), -EINVAL);
	assert_int_equal(rk_parse_go_int("1__0", &v), -EINVAL);
	assert_int_equal(rk_parse_go_int("_1", &v), -EINVAL);
	assert_int_equal(rk_parse_go_int("1_", &v), -EINVAL);
	assert_int_equal(rk_parse_go_int(" 1", &v), -EINVAL);
	assert_int_equal(rk_parse_go_int("1.5", &v), -EINVAL);
}

/* Parses args and validates; returns the validation result. */
static int validate(struct rk_error *err, ...)
{
	char *argv[64] = { "rootlesskit" };
	struct rk_options o;
	int argc = 1, r;
	va_list ap;

	va_start(ap, err);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc++] = "cmd";
	rk_options_init(&o);
	r = rk_options_parse(&o, argc, argv, err);
	if (r == 0)
		r = rk_options_validate(&o, false, err);
	rk_options_free(&o);
	return r;
}

static void expect_invalid(const char *msg, const char *a, const char *b)
{
	struct rk_error err = { 0 };

	assert_true(validate(&err, a, b, NULL) < 0);
	assert_string_equal(err.msg, msg);
}

static void test_validation(void **state)
{
	struct rk_error err = { 0 };

	(void)state;
	expect_invalid("mtu must be <= 65521, got 65522", "--mtu=65522", NULL);
	expect_invalid("mtu must be <= 65521, got -5", "--mtu=-5", NULL);
	assert_int_equal(validate(&err, "--mtu=65521", "--net=slirp4netns", NULL), 0);
	expect_invalid("unknown network mode: foo", "--net=foo", NULL);
	expect_invalid("unknown port driver: foo", "--port-driver=foo", NULL);
	expect_invalid("custom cidr is not supported for --net=host", "--cidr=10.0.3.0/24", NULL);
	expect_invalid("custom cidr is not supported for --net=none", "--net=none",
		       "--cidr=10.0.3.0/24");
	expect_invalid("custom cidr is not supported for --net=vpnkit", "--net=vpnkit",
		       "--cidr=10.0.3.0/24");
	expect_invalid("cidr must be like 10.0.2.0/24, not like 10.0.2.100/24", "--net=slirp4netns",
		       "--cidr=10.0.2.100/24");
	expect_invalid("invalid CIDR address: 10.0.2.0", "--net=slirp4netns", "--cidr=10.0.2.0");
	expect_invalid("invalid CIDR address: 10.0.2.0/33", "--net=slirp4netns",
		       "--cidr=10.0.2.0/33");
	expect_invalid("invalid CIDR address: 256.0.2.0/24", "--net=slirp4netns",
		       "--cidr=256.0.2.0/24");
	assert_int_equal(validate(&err, "--net=slirp4netns", "--cidr=10.0.3.0/24", NULL), 0);
	assert_int_equal(validate(&err, "--net=pasta", "--cidr=0.0.0.0/0", NULL), 0);
	expect_invalid("ifname cannot be specified for --net=host", "--ifname=eth0", NULL);
	expect_invalid("ifname must not contain \"/\"", "--net=slirp4netns", "--ifname=a/b");
	expect_invalid("port driver requires non-host network", "--port-driver=builtin", NULL);
	expect_invalid("port driver requires slirp4netns network", "--port-driver=slirp4netns",
		       NULL);
	expect_invalid("port driver requires pasta network", "--port-driver=implicit", NULL);
	expect_invalid("network \"none\" requires either port driver \"none\" or \"builtin\"",
		       "--net=none", "--port-driver=slirp4netns");
	expect_invalid("network \"pasta\" requires port driver \"none\" or \"implicit\"",
		       "--net=pasta", "--port-driver=builtin");
	expect_invalid("port driver \"none\" does not support publishing ports", "-p",
		       "127.0.0.1:8080:80/tcp");
	expect_invalid("reaper requires --pidns", "--reaper=true", NULL);
	expect_invalid("unknown reaper mode: foo", "--reaper=foo", NULL);
	assert_int_equal(validate(&err, "--reaper=true", "--pidns", NULL), 0);
	expect_invalid("evacuate-cgroup2 requires --cgroupns", "--evacuate-cgroup2=evac", NULL);
	expect_invalid("evacuate-cgroup2 requires --pidns", "--evacuate-cgroup2=evac",
		       "--cgroupns");
	expect_invalid("unknown copy-up mode: overlay", "--copy-up-mode=overlay", NULL);
	expect_invalid("unsupported slirp4netns-sandbox mode: \"maybe\"",
		       "--slirp4netns-sandbox=maybe", NULL);
	expect_invalid("failed to setup UID/GID map: failed to compute uid/gid map: unknown subid "
		       "source \"foo\"",
		       "--subid-source=foo", NULL);
	expect_invalid("expected --print-semver=(major|minor|patch), got \"x\"", "--print-semver=x",
		       NULL);
	assert_int_equal(validate(&err, "--slirp4netns-sandbox=", NULL), 0);
}

static void test_reaper_resolution(void **state)
{
	struct rk_options o;
	struct rk_error err = { 0 };

	(void)state;
	assert_int_equal(parse(&o, &err, "--pidns", "x", NULL), 0);
	assert_int_equal(rk_options_validate(&o, false, &err), 0);
	assert_true(o.reaper);
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "--pidns", "--reaper=false", "x", NULL), 0);
	assert_int_equal(rk_options_validate(&o, false, &err), 0);
	assert_false(o.reaper);
	rk_options_free(&o);
}

static void test_every_driver_validates(void **state)
{
	struct rk_options o;
	struct rk_error err = { 0 };

	(void)state;
	assert_int_equal(parse(&o, &err, "x", NULL), 0);
	assert_int_equal(rk_options_validate(&o, false, &err), 0);
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "--net=slirp4netns", "x", NULL), 0);
	assert_int_equal(rk_options_validate(&o, false, &err), 0);
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "--net=pasta", "--port-driver=implicit", "x", NULL), 0);
	assert_int_equal(rk_options_validate(&o, false, &err), 0);
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "--net=vpnkit", "x", NULL), 0);
	assert_int_equal(rk_options_validate(&o, false, &err), 0);
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "--net=lxc-user-nic", "x", NULL), 0);
	assert_int_equal(rk_options_validate(&o, false, &err), 0);
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "--net=builtin", "x", NULL), 0);
	assert_int_equal(rk_options_validate(&o, false, &err), 0);
	rk_options_free(&o);
	/* small MTUs are where libslirp 4.7 overflows */
	assert_int_equal(parse(&o, &err, "--net=builtin", "--mtu=1279", "x", NULL), 0);
	assert_int_equal(rk_options_validate(&o, false, &err), -EINVAL);
	assert_string_equal(err.msg, "mtu must be >= 1280 for --net=builtin, got 1279");
	rk_options_free(&o);
	assert_int_equal(parse(&o, &err, "--net=builtin", "--mtu=1280", "x", NULL), 0);
	assert_int_equal(rk_options_validate(&o, false, &err), 0);
	rk_options_free(&o);
}

static void test_help_lists_every_flag(void **state)
{
	static const char *const flags[] = {
		"--debug",
		"--print-semver",
		"--help, -h",
		"--version, -v",
		"--state-dir",
		"--net",
		"--pasta-binary",
		"--slirp4netns-binary",
		"--slirp4netns-sandbox",
		"--slirp4netns-seccomp",
		"--vpnkit-binary",
		"--netstack-sandbox",
		"--netstack-seccomp",
		"--lxc-user-nic-binary",
		"--lxc-user-nic-bridge",
		"--mtu",
		"--cidr",
		"--ifname",
		"--disable-host-loopback",
		"--ipv6",
		"--detach-netns",
		"--copy-up value [ --copy-up value ]",
		"--copy-up-mode",
		"--port-driver",
		"--publish value, -p value [ --publish value, -p value ]",
		"--source-ip-transparent",
		"--pidns",
		"--cgroupns",
		"--utsns",
		"--ipcns",
		"--propagation",
		"--reaper",
		"--evacuate-cgroup2",
		"--subid-source"
	};
	static const char *const cats[] = { "  Misc:\n",
					    "  Mount:\n",
					    "  Network:\n",
					    "  Network [lxc-user-nic]:\n",
					    "  Network [pasta]:\n",
					    "  Network [slirp4netns]:\n",
					    "  Network [vpnkit]:\n",
					    "  Port:\n",
					    "  Process:\n",
					    "  State:\n",
					    "  SubID:\n" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *prev = NULL;

	(void)state;
	assert_non_null(f);
	rk_options_print_help(f);
	fclose(f);
	for (size_t i = 0; i < RK_ARRAY_SIZE(flags); i++) {
		char needle[128];
		snprintf(needle, sizeof(needle), "    %s ", flags[i]);
		if (!strstr(buf, needle))
			fail_msg("help lacks \"%s\"", needle);
	}
	/* categories appear in alphabetical order */
	for (size_t i = 0; i < RK_ARRAY_SIZE(cats); i++) {
		const char *at = strstr(buf, cats[i]);
		if (!at)
			fail_msg("help lacks category \"%s\"", cats[i]);
		assert_true(!prev || at > prev);
		prev = at;
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_dash_forms),
		cmocka_unit_test(test_stops_at_first_non_flag),
		cmocka_unit_test(test_bool_forms),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_slices),
		cmocka_unit_test(test_go_int),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_reaper_resolution),
		cmocka_unit_test(test_every_driver_validates),
		cmocka_unit_test(test_help_lists_every_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
