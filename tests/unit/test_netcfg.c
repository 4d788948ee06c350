/* SPDX-License-Identifier: Apache-2.0 */
/* Network configuration: slirp-style addresses from --cidr (upstream's iputils table), the
 * message form, and slirp4netns' argument vector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/lib/helper.h"
#include "src/lib/util.h"
#include "src/net/netcfg.h"
#include "src/net/slirp4netns.h"

/* The child's configuration on a slirp4netns-style network of cidr, as rk_net_plan makes it. */
static int slirp_cfg(struct rk_netcfg *c, const char *cidr, const char *dev, unsigned mtu,
		     struct rk_error *err)
{
	struct rk_vnet v = { .mtu = mtu };
	int r = rk_vnet_slirp(&v, cidr, err);

	if (r == 0)
		rk_netcfg_of_vnet(c, &v, dev);
	return r;
}

static void test_vnet_numbers(void **state)
{
	struct rk_vnet v = { .mtu = 1500, .ipv6 = true };
	struct rk_netcfg c;
	char a[INET_ADDRSTRLEN];

	(void)state;
	assert_int_equal(rk_vnet_slirp(&v, "192.168.100.0/20", NULL), 0);
	assert_int_equal(v.prefix, 20);
	inet_ntop(AF_INET, &v.mask, a, sizeof(a));
	assert_string_equal(a, "255.255.240.0");
	inet_ntop(AF_INET, &v.net, a, sizeof(a));
	assert_string_equal(a, "192.168.96.0");
	inet_ntop(AF_INET, &v.dns, a, sizeof(a));
	assert_string_equal(a, "192.168.100.3");
	/* with IPv6, the child is told of fd00::3 too */
	rk_netcfg_of_vnet(&c, &v, "tap0");
	assert_int_equal(c.mtu, 1500);
	assert_int_equal(c.n_dns, 2);
	assert_string_equal(c.dns[1], "fd00::3");
}

/* gvisor-tap-vsock's layout: one address, .1, for the gateway and DNS */
static void test_gvisor_addresses(void **state)
{
	struct rk_vnet v = { .mtu = 65520 };
	struct rk_netcfg c;

	(void)state;
	assert_int_equal(rk_vnet_layout(&v, "10.0.7.0/24", 1, 1, NULL), 0);
	rk_netcfg_of_vnet(&c, &v, "tap0");
	assert_string_equal(c.ip, "10.0.7.100");
	assert_string_equal(c.gateway, "10.0.7.1");
	assert_int_equal(c.n_dns, 1);
	assert_string_equal(c.dns[0], "10.0.7.1");
	assert_true(v.gateway == v.dns);
}

static void test_slirp_addresses(void **state)
{
	struct rk_netcfg c;
	struct rk_error err = { 0 };

	(void)state;
	assert_int_equal(slirp_cfg(&c, "", "tap0", 65520, &err), 0);
	assert_string_equal(c.ip, "10.0.2.100");
	assert_int_equal(c.prefix, 24);
	assert_string_equal(c.gateway, "10.0.2.2");
	assert_int_equal(c.n_dns, 1);
	assert_string_equal(c.dns[0], "10.0.2.3");
	assert_int_equal(slirp_cfg(&c, "192.168.100.0/20", "eth0", 1500, &err), 0);
	assert_string_equal(c.ip, "192.168.100.100");
	assert_int_equal(c.prefix, 20);
	assert_string_equal(c.gateway, "192.168.100.2");
	/* upstream's table: 255.255.255.100 + 155 is .255, + 156 overflows */
	assert_int_equal(slirp_cfg(&c, "255.255.255.0/24", "tap0", 1500, &err), 0);
	assert_string_equal(c.ip, "255.255.255.100");
	assert_int_equal(slirp_cfg(&c, "255.255.255.192/26", "tap0", 1500, &err), -EINVAL);
	assert_string_equal(err.msg, "255.255.255.192 + 100 overflows");
	assert_int_equal(slirp_cfg(&c, "10.0.2.0", "tap0", 1500, &err), -EINVAL);
}

static void assert_netcfg_equal(const struct rk_netcfg *a, const struct rk_netcfg *b)
{
	assert_int_equal(a->step, b->step);
	assert_int_equal(a->tap_fd, b->tap_fd);
	assert_string_equal(a->mac, b->mac);
	assert_string_equal(a->dev, b->dev);
	assert_string_equal(a->ip, b->ip);
	assert_int_equal(a->prefix, b->prefix);
	assert_string_equal(a->gateway, b->gateway);
	assert_string_equal(a->ip6, b->ip6);
	assert_int_equal(a->mtu, b->mtu);
	assert_int_equal(a->n_dns, b->n_dns);
	for (unsigned i = 0; i < a->n_dns; i++)
		assert_string_equal(a->dns[i], b->dns[i]);
}

static void test_message_round_trip(void **state)
{
	struct rk_netcfg c, back;
	struct rk_error err = { 0 };
	char text[256];

	(void)state;
	assert_int_equal(slirp_cfg(&c, "10.0.5.0/24", "eth7", 1500, &err), 0);
	strcpy(c.dns[c.n_dns++], "fd00::3");
	rk_netcfg_format(&c, text, sizeof(text));
	assert_string_equal(text, "0 0 - eth7 10.0.5.100 24 10.0.5.2 - 1500 10.0.5.3 fd00::3");
	assert_int_equal(rk_netcfg_parse(text, &back), 0);
	assert_netcfg_equal(&c, &back);

	/* with IPv6, the child's fixed address travels too */
	strcpy(c.ip6, "fd00::100");
	rk_netcfg_format(&c, text, sizeof(text));
	assert_string_equal(text,
			    "0 0 - eth7 10.0.5.100 24 10.0.5.2 fd00::100 1500 10.0.5.3 fd00::3");
	assert_int_equal(rk_netcfg_parse(text, &back), 0);
	assert_netcfg_equal(&c, &back);
	c.ip6[0] = '\0';

	/* vpnkit's: a MAC, and the tap wanted back */
	c.tap_fd = RK_NETCFG_TAP_PLAIN;
	strcpy(c.mac, "02:50:00:00:00:0a");
	rk_netcfg_format(&c, text, sizeof(text));
	assert_int_equal(rk_netcfg_parse(text, &back), 0);
	assert_netcfg_equal(&c, &back);

	/* the engine's: the tap with virtio-net headers */
	c.tap_fd = RK_NETCFG_TAP_VNET;
	strcpy(c.mac, "02:50:00:00:00:0a");
	rk_netcfg_format(&c, text, sizeof(text));
	assert_int_equal(rk_netcfg_parse(text, &back), 0);
	assert_netcfg_equal(&c, &back);

	/* lxc-user-nic's first step: no addresses yet */
	c = (struct rk_netcfg){ .step = RK_NETCFG_LINK, .mtu = 1500 };
	strcpy(c.dev, "eth0");
	rk_netcfg_format(&c, text, sizeof(text));
	assert_string_equal(text, "2 0 - eth0 - 0 - - 1500");
	assert_int_equal(rk_netcfg_parse(text, &back), 0);
	assert_netcfg_equal(&c, &back);

	assert_int_equal(rk_netcfg_parse("0 0 - eth0 1.2.3.4 24", &back), -EBADMSG);
	assert_int_equal(rk_netcfg_parse("0 0 - eth0 1.2.3.4 33 1.2.3.1 1500", &back), -EBADMSG);
	assert_int_equal(rk_netcfg_parse("3 0 - eth0 1.2.3.4 24 1.2.3.1 1500", &back), -EBADMSG);
	assert_int_equal(rk_netcfg_parse("0 3 - eth0 1.2.3.4 24 1.2.3.1 1500", &back), -EBADMSG);
	assert_int_equal(rk_netcfg_parse("0 -1 - eth0 1.2.3.4 24 1.2.3.1 1500", &back), -EBADMSG);
	assert_int_equal(rk_netcfg_parse("0 0 - - 1.2.3.4 24 1.2.3.1 1500", &back), -EBADMSG);
	assert_int_equal(rk_netcfg_parse("0 0 - eth0 1.2.3.4 24 1.2.3.1 1500 a b c", &back),
			 -EBADMSG);
}

static void test_slirp4netns_argv(void **state)
{
	struct rk_slirp4netns s = { .path = "/usr/bin/slirp4netns",
				    .sandbox = true,
				    .seccomp = true };
	struct rk_net_config net = { .disable_host_loopback = true,
				     .cidr = "10.0.5.0/24",
				     .ipv6 = true };
	struct rk_netcfg c;
	struct rk_error err = { 0 };
	char **v;
	char line[512] = "";

	(void)state;
	assert_int_equal(slirp_cfg(&c, net.cidr, "tap0", 65520, &err), 0);
	v = rk_slirp4netns_argv(&s, &net, &c, "/run/s/.s4nn.sock", 4242, NULL);
	for (char **p = v; *p; p++) {
		strcat(line, *p);
		strcat(line, p[1] ? " " : "");
	}
	assert_string_equal(line, "/usr/bin/slirp4netns --mtu 65520 -r 3 --disable-host-loopback "
				  "--cidr 10.0.5.0/24 --api-socket /run/s/.s4nn.sock "
				  "--enable-sandbox --enable-seccomp --enable-ipv6 4242 tap0");
	rk_strv_free(v);
	/* a detached namespace is named through the child's root */
	v = rk_slirp4netns_argv(&s, &net, &c, NULL, 4242, "/run/s/netns");
	line[0] = '\0';
	for (char **p = v; *p; p++) {
		strcat(line, *p);
		strcat(line, p[1] ? " " : "");
	}
	assert_string_equal(line,
			    "/usr/bin/slirp4netns --mtu 65520 -r 3 --disable-host-loopback "
			    "--cidr 10.0.5.0/24 --enable-sandbox --enable-seccomp "
			    "--enable-ipv6 --userns-path=/proc/4242/ns/user --netns-type=path "
			    "/proc/4242/root/run/s/netns tap0");
	rk_strv_free(v);
}

static bool stop_yes(void *arg)
{
	(void)arg;
	return true;
}

static void test_helper_output(void **state)
{
	char *ok[] = { "/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	char *silent[] = { "/bin/sh", "-c", "exec sleep 30", NULL };
	char *dribble[] = { "/bin/sh", "-c", "while :; do printf x; sleep 0.05; done", NULL };
	char *closes[] = { "/bin/sh", "-c", "exec >&- 2>&-; exec sleep 30", NULL };
	char buf[64];
	int p[2];

	(void)state;
	assert_int_equal(rk_helper_output(ok[0], ok, buf, sizeof(buf), 5000, NULL), 3);
	assert_string_equal(buf, "out\nerr\n");
	/* a helper that hangs is killed, not waited for: silent, dribbling output (the
	 * deadline is the whole run's), or with its output closed and running on */
	assert_int_equal(rk_helper_output(silent[0], silent, buf, sizeof(buf), 300, NULL),
			 -ETIMEDOUT);
	assert_int_equal(rk_helper_output(dribble[0], dribble, buf, sizeof(buf), 500, NULL),
			 -ETIMEDOUT);
	assert_true(strlen(buf) > 0);
	assert_int_equal(rk_helper_output(closes[0], closes, buf, sizeof(buf), 300, NULL),
			 -ETIMEDOUT);
	assert_int_equal(rk_helper_output("/nonexistent", ok, buf, sizeof(buf), 300, NULL), 127);
	/* a cancel that says stop ends the wait at once, long before the deadline */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(rk_helper_output(silent[0], silent, buf, sizeof(buf), 60000,
					  &(struct rk_cancel){ p[0], stop_yes, NULL }),
			 -EINTR);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vnet_numbers),	 cmocka_unit_test(test_slirp_addresses),
		cmocka_unit_test(test_gvisor_addresses), cmocka_unit_test(test_message_round_trip),
		cmocka_unit_test(test_slirp4netns_argv), cmocka_unit_test(test_helper_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
