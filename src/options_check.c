/* SPDX-License-Identifier: Apache-2.0 */
/* Validation of the parsed options: the values upstream checks, the network and port
 * driver matrix with upstream's texts and warnings, and what the network driver is told
 * (see options.h). */
#include "src/options.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "src/lib/gocompat.h"
#include "src/lib/log.h"
#include "src/lib/util.h"
#include "src/lib/version.h"

struct rk_name_value {
	const char *name;
	int value;
};

static const struct rk_name_value net_names[] = {
	{ "host", RK_NET_HOST },
	{ "none", RK_NET_NONE },
	{ "builtin", RK_NET_BUILTIN },
	{ "slirp4netns", RK_NET_SLIRP4NETNS },
	{ "pasta", RK_NET_PASTA },
	{ "vpnkit", RK_NET_VPNKIT },
	{ "lxc-user-nic", RK_NET_LXC_USER_NIC },
	{ "gvisor-tap-vsock", RK_NET_GVISOR_TAP_VSOCK },
	{ NULL, 0 },
};

static const struct rk_name_value port_driver_names[] = {
	{ "none", RK_PORT_NONE },
	{ "implicit", RK_PORT_IMPLICIT },
	{ "builtin", RK_PORT_BUILTIN },
	{ "slirp4netns", RK_PORT_SLIRP4NETNS },
	{ "gvisor-tap-vsock", RK_PORT_GVISOR_TAP_VSOCK },
	{ "netstack", RK_PORT_NETSTACK },
	{ NULL, 0 },
};

static const struct rk_name_value tristate_names[] = {
	{ "auto", RK_AUTO },
	{ "true", RK_TRUE },
	{ "false", RK_FALSE },
	{ NULL, 0 },
};

static const struct rk_name_value propagation_names[] = {
	{ "rprivate", RK_PROP_RPRIVATE },
	{ "private", RK_PROP_PRIVATE },
	{ "rslave", RK_PROP_RSLAVE },
	{ "slave", RK_PROP_SLAVE },
	{ "rshared", RK_PROP_RSHARED },
	{ "shared", RK_PROP_SHARED },
	{ NULL, 0 },
};

static const struct rk_name_value subid_names[] = {
	{ "auto", RK_SUBID_AUTO },
	{ "dynamic", RK_SUBID_DYNAMIC },
	{ "static", RK_SUBID_STATIC },
	{ NULL, 0 },
};

static const struct rk_name_value semver_names[] = {
	{ "major", RK_SEMVER_MAJOR },
	{ "minor", RK_SEMVER_MINOR },
	{ "patch", RK_SEMVER_PATCH },
	{ NULL, 0 },
};

static int lookup_name(const struct rk_name_value *t, const char *name, int *ret)
{
	for (; t->name; t++) {
		if (strcmp(t->name, name) == 0) {
			*ret = t->value;
			return 0;
		}
	}
	return -EINVAL;
}

static int validate_cidr(const char *cidr, struct rk_error *err)
{
	uint32_t addr, mask;
	unsigned prefix;

	if (!*cidr)
		return 0;
	if (rk_parse_ipv4_cidr(cidr, &addr, &prefix) < 0) {
		/* an IPv6 network parses upstream but no driver takes it */
		if (strchr(cidr, ':') && strchr(cidr, '/'))
			return rk_error_set(err, EINVAL, "IPv6 --cidr is not supported: %s", cidr);
		return rk_error_set(err, EINVAL, "invalid CIDR address: %s", cidr);
	}
	mask = prefix == 0 ? 0 : ~(uint32_t)0 << (32 - prefix);
	if (addr & ~mask)
		return rk_error_set(err, EINVAL,
				    "cidr must be like 10.0.2.0/24, not like 10.0.2.100/24");
	return 0;
}

static int validate_enums(struct rk_options *opts, struct rk_error *err)
{
	int v;

	if (lookup_name(net_names, opts->net_name, &v) < 0)
		return rk_error_set(err, EINVAL, "unknown network mode: %s", opts->net_name);
	opts->net = (enum rk_net)v;
	if (lookup_name(port_driver_names, opts->port_driver_name, &v) < 0)
		return rk_error_set(err, EINVAL, "unknown port driver: %s", opts->port_driver_name);
	opts->port_driver = (enum rk_port)v;
	/* upstream accepts "" for the two slirp4netns modes, meaning false */
	if (!*opts->slirp4netns_sandbox_name)
		v = RK_FALSE;
	else if (lookup_name(tristate_names, opts->slirp4netns_sandbox_name, &v) < 0)
		return rk_error_set(err, EINVAL, "unsupported slirp4netns-sandbox mode: \"%s\"",
				    opts->slirp4netns_sandbox_name);
	opts->slirp4netns_sandbox = (enum rk_tristate)v;
	if (!*opts->slirp4netns_seccomp_name)
		v = RK_FALSE;
	else if (lookup_name(tristate_names, opts->slirp4netns_seccomp_name, &v) < 0)
		return rk_error_set(err, EINVAL, "unsupported slirp4netns-seccomp mode: \"%s\"",
				    opts->slirp4netns_seccomp_name);
	opts->slirp4netns_seccomp = (enum rk_tristate)v;
	if (lookup_name(tristate_names, opts->netstack_sandbox_name, &v) < 0)
		return rk_error_set(err, EINVAL, "unsupported netstack-sandbox mode: \"%s\"",
				    opts->netstack_sandbox_name);
	opts->netstack_sandbox = (enum rk_tristate)v;
	if (lookup_name(tristate_names, opts->netstack_seccomp_name, &v) < 0)
		return rk_error_set(err, EINVAL, "unsupported netstack-seccomp mode: \"%s\"",
				    opts->netstack_seccomp_name);
	opts->netstack_seccomp = (enum rk_tristate)v;
	if ((v = rk_transparent_backend_parse(opts->source_ip_transparent_backend_name)) < 0)
		return rk_error_set(err, EINVAL,
				    "unknown source-ip-transparent-backend: \"%s\" (expected auto, "
				    "nft or iptables)",
				    opts->source_ip_transparent_backend_name);
	opts->source_ip_transparent_backend = (enum rk_transparent_backend)v;
	if (strcmp(opts->copy_up_mode, "tmpfs+symlink") != 0)
		return rk_error_set(err, EINVAL, "unknown copy-up mode: %s", opts->copy_up_mode);
	if (lookup_name(propagation_names, opts->propagation_name, &v) < 0)
		return rk_error_set(err, EINVAL,
				    "unknown propagation mode: %s (expected rprivate, private, "
				    "rslave, slave, rshared or shared)",
				    opts->propagation_name);
	opts->propagation = (enum rk_propagation)v;
	if (opts->n_copy_up &&
	    (opts->propagation == RK_PROP_SHARED || opts->propagation == RK_PROP_RSHARED))
		return rk_error_set(err, EINVAL,
				    "propagation %s does not support copy-up driver tmpfs+symlink",
				    opts->propagation_name);
	if (lookup_name(tristate_names, opts->reaper_name, &v) < 0)
		return rk_error_set(err, EINVAL, "unknown reaper mode: %s", opts->reaper_name);
	if (v == RK_TRUE && !opts->pidns)
		return rk_error_set(err, EINVAL, "reaper requires --pidns");
	opts->reaper = v == RK_TRUE || (v == RK_AUTO && opts->pidns);
	if (lookup_name(subid_names, opts->subid_source_name, &v) < 0)
		return rk_error_set(err, EINVAL,
				    "failed to setup UID/GID map: failed to compute uid/gid map: "
				    "unknown subid source \"%s\"",
				    opts->subid_source_name);
	opts->subid_source = (enum rk_subid_source)v;
	return 0;
}

/* The network and port driver checks, in upstream's order and with its texts. */
static int validate_drivers(struct rk_options *opts, bool warn, struct rk_error *err)
{
	const char *net = opts->net_name;
	bool host_like = opts->net == RK_NET_HOST || opts->net == RK_NET_NONE;

	if (opts->ipv6 && warn) {
		rk_warn("ipv6 is experimental");
		const struct rk_net_ops *ops = rk_net_ops_get(opts->net);
		if (!ops || !ops->ipv6)
			rk_warn("--ipv6 is discarded for --net=%s", net);
	}
	if (warn && !opts->disable_host_loopback && !host_like)
		rk_warn("specifying --disable-host-loopback is highly recommended to prohibit "
			"connecting to 127.0.0.1:* on the host namespace (requires builtin, pasta, "
			"slirp4netns, or VPNKit)");
	if (host_like) {
		if (opts->mtu != 0 && warn)
			rk_warn("unsupported mtu for --net=%s: %lld", net, opts->mtu);
		if (*opts->cidr)
			return rk_error_set(err, EINVAL,
					    "custom cidr is not supported for --net=%s", net);
		if (*opts->ifname)
			return rk_error_set(err, EINVAL, "ifname cannot be specified for --net=%s",
					    net);
	}
	if (opts->net == RK_NET_PASTA && warn)
		rk_warn("\"pasta\" network driver is experimental. Needs very recent version of "
			"pasta (see docs/network.md).");
	if (opts->net == RK_NET_LXC_USER_NIC && warn)
		rk_warn("\"lxc-user-nic\" network driver is experimental");
	if ((opts->net == RK_NET_VPNKIT || opts->net == RK_NET_LXC_USER_NIC) && *opts->cidr)
		return rk_error_set(err, EINVAL, "custom cidr is not supported for --net=%s", net);
	if (opts->net == RK_NET_LXC_USER_NIC && warn && !opts->disable_host_loopback)
		rk_warn("--disable-host-loopback is implicitly set for lxc-user-nic");
	/* upstream also warns that --disable-host-loopback is not supported yet, though its
	 * driver honours it; ours does too, so that warning would be wrong here */
	if (opts->net == RK_NET_GVISOR_TAP_VSOCK && warn)
		rk_warn("\"gvisor-tap-vsock\" network driver is experimental");
	if (opts->net == RK_NET_GVISOR_TAP_VSOCK && opts->ipv6)
		return rk_error_set(err, ENOTSUP, "--ipv6 is not supported for gvisor-tap-vsock");
	if (opts->net == RK_NET_NONE && opts->port_driver != RK_PORT_NONE &&
	    opts->port_driver != RK_PORT_BUILTIN)
		return rk_error_set(
			err, EINVAL,
			"network \"none\" requires either port driver \"none\" or \"builtin\"");
	if (opts->net == RK_NET_PASTA && opts->port_driver != RK_PORT_NONE &&
	    opts->port_driver != RK_PORT_IMPLICIT)
		return rk_error_set(
			err, EINVAL,
			"network \"pasta\" requires port driver \"none\" or \"implicit\"");
	if (opts->net == RK_NET_LXC_USER_NIC && !*opts->lxc_user_nic_bridge)
		return rk_error_set(err, EINVAL, "--lxc-user-nic-bridge must not be empty");

	switch (opts->port_driver) {
	case RK_PORT_NONE:
		if (opts->n_publish)
			return rk_error_set(
				err, EINVAL,
				"port driver \"none\" does not support publishing ports");
		break;
	case RK_PORT_IMPLICIT:
		if (opts->net != RK_NET_PASTA)
			return rk_error_set(err, EINVAL, "port driver requires pasta network");
		break;
	case RK_PORT_SLIRP4NETNS:
		if (opts->net != RK_NET_SLIRP4NETNS)
			return rk_error_set(err, EINVAL,
					    "port driver requires slirp4netns network");
		break;
	case RK_PORT_BUILTIN:
		if (opts->net == RK_NET_HOST)
			return rk_error_set(err, EINVAL, "port driver requires non-host network");
		break;
	case RK_PORT_GVISOR_TAP_VSOCK:
		if (warn)
			rk_warn("\"gvisor-tap-vsock\" port driver is experimental");
		if (opts->net == RK_NET_HOST)
			return rk_error_set(err, EINVAL, "port driver requires non-host network");
		/* upstream's needs its own network too, but says so only once running */
		if (opts->net != RK_NET_GVISOR_TAP_VSOCK && opts->net != RK_NET_BUILTIN)
			return rk_error_set(err, EINVAL,
					    "port driver requires gvisor-tap-vsock network");
		break;
	case RK_PORT_NETSTACK:
		if (opts->net != RK_NET_BUILTIN && opts->net != RK_NET_GVISOR_TAP_VSOCK)
			return rk_error_set(err, EINVAL, "port driver requires builtin network");
		break;
	}
	/* each spec on its own; conflicts between them are found when they are added */
	for (size_t i = 0; i < opts->n_publish; i++) {
		struct rk_port_spec spec;
		int r = rk_port_spec_parse(opts->publish[i], &spec, err);
		if (r == 0)
			r = rk_port_spec_validate(&spec, NULL, 0, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int rk_options_parse_semver(struct rk_options *opts, struct rk_error *err)
{
	int v;

	if (!*opts->print_semver) {
		opts->semver = RK_SEMVER_NONE;
		return 0;
	}
	if (lookup_name(semver_names, opts->print_semver, &v) < 0)
		return rk_error_set(err, EINVAL,
				    "expected --print-semver=(major|minor|patch), got \"%s\"",
				    opts->print_semver);
	opts->semver = (enum rk_semver_part)v;
	return 0;
}

int rk_options_validate(struct rk_options *opts, bool warn, struct rk_error *err)
{
	int r = rk_options_parse_semver(opts, err);

	if (r == 0)
		r = validate_enums(opts, err);
	if (r < 0)
		return r;
	if (*opts->evacuate_cgroup2) {
		if (!opts->cgroupns)
			return rk_error_set(err, EINVAL, "evacuate-cgroup2 requires --cgroupns");
		if (!opts->pidns)
			return rk_error_set(err, EINVAL, "evacuate-cgroup2 requires --pidns");
		if (strchr(opts->evacuate_cgroup2, '/') ||
		    strcmp(opts->evacuate_cgroup2, ".") == 0 ||
		    strcmp(opts->evacuate_cgroup2, "..") == 0)
			return rk_error_set(
				err, EINVAL,
				"--evacuate-cgroup2 must be a plain group name, got \"%s\"",
				opts->evacuate_cgroup2);
	}
	if (opts->mtu < 0 || opts->mtu > 65521)
		return rk_error_set(err, EINVAL, "mtu must be <= 65521, got %lld", opts->mtu);
	/* libslirp 4.7 overflows building replies at small MTUs (CVE-2026-95508); IPv6
	 * needs 1280 anyway */
	if ((opts->net == RK_NET_BUILTIN || opts->net == RK_NET_GVISOR_TAP_VSOCK) &&
	    opts->mtu != 0 && opts->mtu < 1280)
		return rk_error_set(err, EINVAL, "mtu must be >= 1280 for --net=%s, got %lld",
				    opts->net_name, opts->mtu);
	r = validate_cidr(opts->cidr, err);
	if (r < 0)
		return r;
	if (strchr(opts->ifname, '/'))
		return rk_error_set(err, EINVAL, "ifname must not contain \"/\"");
	if (strlen(opts->ifname) >= 16)
		return rk_error_set(err, EINVAL, "ifname must be shorter than 16 bytes, got \"%s\"",
				    opts->ifname);
	return validate_drivers(opts, warn, err);
}

void rk_options_net_config(const struct rk_options *opts, struct rk_net_config *ret)
{
	struct rk_net_config c = {
		.name = opts->net_name,
		.cidr = opts->cidr,
		.mtu = (unsigned)opts->mtu,
		.port_driver = opts->port_driver,
		.disable_host_loopback = opts->disable_host_loopback,
		.ipv6 = opts->ipv6,
		.detach_netns = opts->detach_netns,
		.debug = opts->debug,
		.bridge = opts->lxc_user_nic_bridge,
	};

	switch (opts->net) {
	case RK_NET_SLIRP4NETNS:
		c.binary = opts->slirp4netns_binary;
		c.sandbox = opts->slirp4netns_sandbox;
		c.seccomp = opts->slirp4netns_seccomp;
		break;
	case RK_NET_BUILTIN:
	case RK_NET_GVISOR_TAP_VSOCK:
		c.sandbox = opts->netstack_sandbox;
		c.seccomp = opts->netstack_seccomp;
		break;
	case RK_NET_PASTA:
		c.binary = opts->pasta_binary;
		break;
	case RK_NET_VPNKIT:
		c.binary = opts->vpnkit_binary;
		break;
	case RK_NET_LXC_USER_NIC:
		c.binary = opts->lxc_user_nic_binary;
		break;
	default:
		break;
	}
	*ret = c;
}
