/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How options work
 *
 * Every flag of upstream RootlessKit v3 is one row of flag_table: its name, optional
 * one-letter alias, type, help category, help text and default. The parser walks argv the
 * way Go's flag package does (upstream uses urfave/cli v2 on top of it), so wrappers that
 * were written against upstream get the same results and the same error texts. Parsing only
 * stores raw values; rk_options_validate() then turns them into enums and checks them in
 * one place, in the order upstream's parent does.
 */
#include "src/options.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "port/spec.h"
#include "src/lib/gocompat.h"
#include "src/lib/log.h"
#include "src/lib/util.h"
#include "src/lib/version.h"
#include "src/net/lxcusernic.h"

enum rk_flag_type {
	FLAG_BOOL,
	FLAG_STRING,
	FLAG_INT,
	FLAG_SLICE,
};

/* In the order the help prints them: alphabetical, as upstream sorts them. */
enum rk_flag_category {
	CAT_MISC,
	CAT_MOUNT,
	CAT_NETWORK,
	CAT_NETWORK_BUILTIN,
	CAT_NETWORK_LXC_USER_NIC,
	CAT_NETWORK_PASTA,
	CAT_NETWORK_SLIRP4NETNS,
	CAT_NETWORK_VPNKIT,
	CAT_PORT,
	CAT_PROCESS,
	CAT_STATE,
	CAT_SUBID,
	CAT_COUNT,
};

static const char *const category_names[CAT_COUNT] = {
	[CAT_MISC] = "Misc",
	[CAT_MOUNT] = "Mount",
	[CAT_NETWORK] = "Network",
	[CAT_NETWORK_BUILTIN] = "Network [builtin]",
	[CAT_NETWORK_LXC_USER_NIC] = "Network [lxc-user-nic]",
	[CAT_NETWORK_PASTA] = "Network [pasta]",
	[CAT_NETWORK_SLIRP4NETNS] = "Network [slirp4netns]",
	[CAT_NETWORK_VPNKIT] = "Network [vpnkit]",
	[CAT_PORT] = "Port",
	[CAT_PROCESS] = "Process",
	[CAT_STATE] = "State",
	[CAT_SUBID] = "SubID",
};

enum rk_flag_id {
	OPT_DEBUG,
	OPT_PRINT_SEMVER,
	OPT_HELP,
	OPT_VERSION,
	OPT_STATE_DIR,
	OPT_NET,
	OPT_PASTA_BINARY,
	OPT_SLIRP4NETNS_BINARY,
	OPT_SLIRP4NETNS_SANDBOX,
	OPT_SLIRP4NETNS_SECCOMP,
	OPT_VPNKIT_BINARY,
	OPT_NETSTACK_SANDBOX,
	OPT_NETSTACK_SECCOMP,
	OPT_LXC_USER_NIC_BINARY,
	OPT_LXC_USER_NIC_BRIDGE,
	OPT_MTU,
	OPT_CIDR,
	OPT_IFNAME,
	OPT_DISABLE_HOST_LOOPBACK,
	OPT_IPV6,
	OPT_DETACH_NETNS,
	OPT_COPY_UP,
	OPT_COPY_UP_MODE,
	OPT_PORT_DRIVER,
	OPT_PUBLISH,
	OPT_SOURCE_IP_TRANSPARENT,
	OPT_SOURCE_IP_TRANSPARENT_BACKEND,
	OPT_PIDNS,
	OPT_CGROUPNS,
	OPT_UTSNS,
	OPT_IPCNS,
	OPT_PROPAGATION,
	OPT_REAPER,
	OPT_EVACUATE_CGROUP2,
	OPT_SUBID_SOURCE,
};

struct rk_flag_def {
	enum rk_flag_id id;
	const char *name;
	const char *alias; /* one-letter alias or NULL */
	enum rk_flag_type type;
	enum rk_flag_category category;
	const char *usage;
	const char *def; /* default shown in the help; NULL for none */
};

/* Rows within a category are in upstream's order, so the help reads the same. */
static const struct rk_flag_def flag_table[] = {
	{ OPT_DEBUG, "debug", NULL, FLAG_BOOL, CAT_MISC, "print debug messages", "false" },
	{ OPT_PRINT_SEMVER, "print-semver", NULL, FLAG_STRING, CAT_MISC,
	  "print one part of the version as a decimal number and exit [major, minor, patch]",
	  NULL },
	{ OPT_STATE_DIR, "state-dir", NULL, FLAG_STRING, CAT_STATE,
	  "directory for the lock, child_pid and api.sock (default: a new directory in $TMPDIR, "
	  "removed at exit)",
	  NULL },
	{ OPT_NET, "net", NULL, FLAG_STRING, CAT_NETWORK,
	  "network driver [host, none, builtin, pasta(experimental), slirp4netns, vpnkit, "
	  "lxc-user-nic(experimental), gvisor-tap-vsock(experimental; the builtin engine on "
	  "that driver's addresses)]",
	  "\"host\"" },
	{ OPT_PASTA_BINARY, "pasta-binary", NULL, FLAG_STRING, CAT_NETWORK_PASTA,
	  "pasta executable used by --net=pasta", "\"pasta\"" },
	{ OPT_SLIRP4NETNS_BINARY, "slirp4netns-binary", NULL, FLAG_STRING, CAT_NETWORK_SLIRP4NETNS,
	  "slirp4netns executable used by --net=slirp4netns", "\"slirp4netns\"" },
	{ OPT_SLIRP4NETNS_SANDBOX, "slirp4netns-sandbox", NULL, FLAG_STRING,
	  CAT_NETWORK_SLIRP4NETNS,
	  "run slirp4netns in its sandbox (experimental) [auto, true, false]", "\"false\"" },
	{ OPT_SLIRP4NETNS_SECCOMP, "slirp4netns-seccomp", NULL, FLAG_STRING,
	  CAT_NETWORK_SLIRP4NETNS,
	  "run slirp4netns under its seccomp filter (experimental) [auto, true, false]",
	  "\"false\"" },
	{ OPT_VPNKIT_BINARY, "vpnkit-binary", NULL, FLAG_STRING, CAT_NETWORK_VPNKIT,
	  "VPNKit executable used by --net=vpnkit", "\"vpnkit\"" },
	{ OPT_NETSTACK_SANDBOX, "netstack-sandbox", NULL, FLAG_STRING, CAT_NETWORK_BUILTIN,
	  "run the engine of --net=builtin and gvisor-tap-vsock in namespaces of its own that show "
	  "it resolv.conf only, "
	  "without capabilities [auto, true, false] (auto: true, unless the kernel lacks user "
	  "namespaces)",
	  "\"auto\"" },
	{ OPT_NETSTACK_SECCOMP, "netstack-seccomp", NULL, FLAG_STRING, CAT_NETWORK_BUILTIN,
	  "run the engine of --net=builtin and gvisor-tap-vsock under a seccomp allow-list [auto, "
	  "true, false] (auto: "
	  "true, unless the kernel lacks seccomp filters)",
	  "\"auto\"" },
	{ OPT_LXC_USER_NIC_BINARY, "lxc-user-nic-binary", NULL, FLAG_STRING,
	  CAT_NETWORK_LXC_USER_NIC, "lxc-user-nic executable used by --net=lxc-user-nic",
	  NULL /* computed */ },
	{ OPT_LXC_USER_NIC_BRIDGE, "lxc-user-nic-bridge", NULL, FLAG_STRING,
	  CAT_NETWORK_LXC_USER_NIC, "bridge that lxc-user-nic attaches to", "\"lxcbr0\"" },
	{ OPT_MTU, "mtu", NULL, FLAG_INT, CAT_NETWORK,
	  "MTU of the child's interface, 0 for the driver's default (65520 for builtin, pasta, "
	  "slirp4netns and gvisor-tap-vsock, 1500 for the others)",
	  "0" },
	{ OPT_CIDR, "cidr", NULL, FLAG_STRING, CAT_NETWORK,
	  "IPv4 network of the child for builtin, pasta, slirp4netns and gvisor-tap-vsock "
	  "(default: 10.0.2.0/24)",
	  NULL },
	{ OPT_IFNAME, "ifname", NULL, FLAG_STRING, CAT_NETWORK,
	  "name of the child's interface (default: tap0, or eth0 for lxc-user-nic)", NULL },
	{ OPT_DISABLE_HOST_LOOPBACK, "disable-host-loopback", NULL, FLAG_BOOL, CAT_NETWORK,
	  "forbid the child to reach the host's loopback (127.0.0.1, ::1); the host's other "
	  "addresses stay reachable",
	  "false" },
	{ OPT_IPV6, "ipv6", NULL, FLAG_BOOL, CAT_NETWORK,
	  "route IPv6 too (experimental; builtin, pasta and slirp4netns; port forwarding is not "
	  "affected)",
	  "false" },
	{ OPT_DETACH_NETNS, "detach-netns", NULL, FLAG_BOOL, CAT_NETWORK,
	  "keep the command in the host network namespace and put the new one at $STATE/netns",
	  "false" },
	{ OPT_COPY_UP, "copy-up", NULL, FLAG_SLICE, CAT_MOUNT,
	  "make DIR writable: a tmpfs of links to the original, e.g. \"--copy-up=/etc\" (usually "
	  "needed with a non-host network)",
	  NULL },
	{ OPT_COPY_UP_MODE, "copy-up-mode", NULL, FLAG_STRING, CAT_MOUNT,
	  "copy-up mode [tmpfs+symlink]", "\"tmpfs+symlink\"" },
	{ OPT_PROPAGATION, "propagation", NULL, FLAG_STRING, CAT_MOUNT,
	  "mount propagation of / in the child [rprivate, private, rslave, slave, rshared, shared]",
	  "\"rprivate\"" },
	{ OPT_PORT_DRIVER, "port-driver", NULL, FLAG_STRING, CAT_PORT,
	  "port driver for a non-host network [none, implicit (for pasta), builtin, slirp4netns, "
	  "gvisor-tap-vsock(experimental), netstack (for builtin and gvisor-tap-vsock)]",
	  "\"none\"" },
	{ OPT_PUBLISH, "publish", "p", FLAG_SLICE, CAT_PORT,
	  "publish a port of the child on the host, e.g. \"127.0.0.1:8080:80/tcp\"", NULL },
	{ OPT_SOURCE_IP_TRANSPARENT, "source-ip-transparent", NULL, FLAG_BOOL, CAT_PORT,
	  "let the child see the client's real address with IP_TRANSPARENT (builtin driver, TCP)",
	  "true" },
	{ OPT_SOURCE_IP_TRANSPARENT_BACKEND, "source-ip-transparent-backend", NULL, FLAG_STRING,
	  CAT_PORT,
	  "what makes the firewall rules of --source-ip-transparent [auto, nft, iptables] (auto: "
	  "nft when nftables is available, else iptables)",
	  "\"auto\"" },
	{ OPT_PIDNS, "pidns", NULL, FLAG_BOOL, CAT_PROCESS, "create a PID namespace", "false" },
	{ OPT_CGROUPNS, "cgroupns", NULL, FLAG_BOOL, CAT_PROCESS, "create a cgroup namespace",
	  "false" },
	{ OPT_UTSNS, "utsns", NULL, FLAG_BOOL, CAT_PROCESS, "create a UTS namespace", "false" },
	{ OPT_IPCNS, "ipcns", NULL, FLAG_BOOL, CAT_PROCESS, "create an IPC namespace", "false" },
	{ OPT_REAPER, "reaper", NULL, FLAG_STRING, CAT_PROCESS,
	  "reap orphaned processes; true needs --pidns [auto, true, false]", "\"auto\"" },
	{ OPT_EVACUATE_CGROUP2, "evacuate-cgroup2", NULL, FLAG_STRING, CAT_PROCESS,
	  "move the processes of our cgroup into this sub-group; needs --pidns and --cgroupns",
	  NULL },
	{ OPT_SUBID_SOURCE, "subid-source", NULL, FLAG_STRING, CAT_SUBID,
	  "where subordinate ids come from: \"dynamic\" asks libsubid (NSS), \"static\" reads "
	  "/etc/subuid and /etc/subgid [auto, dynamic, static]",
	  "\"auto\"" },
	{ OPT_HELP, "help", "h", FLAG_BOOL, CAT_MISC, "show help", NULL },
	{ OPT_VERSION, "version", "v", FLAG_BOOL, CAT_MISC, "print the version", NULL },
};

void rk_options_init(struct rk_options *opts)
{
	*opts = (struct rk_options){
		.print_semver = "",
		.state_dir = "",
		.net_name = "host",
		.pasta_binary = "pasta",
		.slirp4netns_binary = "slirp4netns",
		.slirp4netns_sandbox_name = "false",
		.slirp4netns_seccomp_name = "false",
		.netstack_sandbox_name = "auto",
		.netstack_seccomp_name = "auto",
		.vpnkit_binary = "vpnkit",
		.lxc_user_nic_bridge = "lxcbr0",
		.cidr = "",
		.ifname = "",
		.copy_up_mode = "tmpfs+symlink",
		.port_driver_name = "none",
		.source_ip_transparent = true,
		.source_ip_transparent_backend_name = "auto",
		.propagation_name = "rprivate",
		.reaper_name = "auto",
		.evacuate_cgroup2 = "",
		.subid_source_name = "auto",
	};
}

void rk_options_free(struct rk_options *opts)
{
	rk_strv_free(opts->copy_up);
	rk_strv_free(opts->publish);
	opts->copy_up = opts->publish = NULL;
	opts->n_copy_up = opts->n_publish = 0;
}

static const struct rk_flag_def *find_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < RK_ARRAY_SIZE(flag_table); i++) {
		const struct rk_flag_def *f = &flag_table[i];
		if ((strlen(f->name) == len && strncmp(f->name, name, len) == 0) ||
		    (f->alias && strlen(f->alias) == len && strncmp(f->alias, name, len) == 0))
			return f;
	}
	return NULL;
}

/* Splits a slice value on "," and trims each item, as urfave/cli v2 does. */
static void push_slice(char ***v, size_t *n, const char *value)
{
	rk_auto_free char *copy = rk_xstrdup(value);
	char *p = copy;

	for (;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		rk_strv_push(v, n, rk_strip(p));
		if (!comma)
			break;
		p = comma + 1;
	}
}

static void set_bool(struct rk_options *opts, enum rk_flag_id id, bool b)
{
	switch (id) {
	case OPT_DEBUG:
		opts->debug = b;
		break;
	case OPT_HELP:
		opts->help = b;
		break;
	case OPT_VERSION:
		opts->version = b;
		break;
	case OPT_DISABLE_HOST_LOOPBACK:
		opts->disable_host_loopback = b;
		break;
	case OPT_IPV6:
		opts->ipv6 = b;
		break;
	case OPT_DETACH_NETNS:
		opts->detach_netns = b;
		break;
	case OPT_SOURCE_IP_TRANSPARENT:
		opts->source_ip_transparent = b;
		break;
	case OPT_PIDNS:
		opts->pidns = b;
		break;
	case OPT_CGROUPNS:
		opts->cgroupns = b;
		break;
	case OPT_UTSNS:
		opts->utsns = b;
		break;
	case OPT_IPCNS:
		opts->ipcns = b;
		break;
	default:
		abort(); /* the table and this switch disagree */
	}
}

static void set_string(struct rk_options *opts, enum rk_flag_id id, const char *s)
{
	switch (id) {
	case OPT_PRINT_SEMVER:
		opts->print_semver = s;
		break;
	case OPT_STATE_DIR:
		opts->state_dir = s;
		break;
	case OPT_NET:
		opts->net_name = s;
		break;
	case OPT_PASTA_BINARY:
		opts->pasta_binary = s;
		break;
	case OPT_SLIRP4NETNS_BINARY:
		opts->slirp4netns_binary = s;
		break;
	case OPT_SLIRP4NETNS_SANDBOX:
		opts->slirp4netns_sandbox_name = s;
		break;
	case OPT_SLIRP4NETNS_SECCOMP:
		opts->slirp4netns_seccomp_name = s;
		break;
	case OPT_VPNKIT_BINARY:
		opts->vpnkit_binary = s;
		break;
	case OPT_NETSTACK_SANDBOX:
		opts->netstack_sandbox_name = s;
		break;
	case OPT_NETSTACK_SECCOMP:
		opts->netstack_seccomp_name = s;
		break;
	case OPT_SOURCE_IP_TRANSPARENT_BACKEND:
		opts->source_ip_transparent_backend_name = s;
		break;
	case OPT_LXC_USER_NIC_BINARY:
		opts->lxc_user_nic_binary = s;
		break;
	case OPT_LXC_USER_NIC_BRIDGE:
		opts->lxc_user_nic_bridge = s;
		break;
	case OPT_CIDR:
		opts->cidr = s;
		break;
	case OPT_IFNAME:
		opts->ifname = s;
		break;
	case OPT_COPY_UP_MODE:
		opts->copy_up_mode = s;
		break;
	case OPT_PORT_DRIVER:
		opts->port_driver_name = s;
		break;
	case OPT_PROPAGATION:
		opts->propagation_name = s;
		break;
	case OPT_REAPER:
		opts->reaper_name = s;
		break;
	case OPT_EVACUATE_CGROUP2:
		opts->evacuate_cgroup2 = s;
		break;
	case OPT_SUBID_SOURCE:
		opts->subid_source_name = s;
		break;
	default:
		abort(); /* the table and this switch disagree */
	}
}

/* Applies one flag occurrence. Returns 0 or -EINVAL with err set. */
static int apply_flag(struct rk_options *opts, const struct rk_flag_def *f, const char *name,
		      const char *value, struct rk_error *err)
{
	switch (f->type) {
	case FLAG_BOOL: {
		bool b;
		if (rk_parse_go_bool(value, &b) < 0)
			return rk_error_set(err, EINVAL,
					    "invalid boolean value \"%s\" for -%s: parse error",
					    value, name);
		set_bool(opts, f->id, b);
		return 0;
	}
	case FLAG_INT: {
		long long v;
		int r = rk_parse_go_int(value, &v);
		if (r < 0)
			return rk_error_set(err, EINVAL, "invalid value \"%s\" for flag -%s: %s",
					    value, name,
					    r == -ERANGE ? "value out of range" : "parse error");
		opts->mtu = v; /* --mtu is the only int flag */
		return 0;
	}
	case FLAG_STRING:
		set_string(opts, f->id, value);
		return 0;
	case FLAG_SLICE:
		if (f->id == OPT_COPY_UP)
			push_slice(&opts->copy_up, &opts->n_copy_up, value);
		else
			push_slice(&opts->publish, &opts->n_publish, value);
		return 0;
	}
	return -EINVAL;
}

int rk_options_parse(struct rk_options *opts, int argc, char **argv, struct rk_error *err)
{
	int i = 1;

	while (i < argc) {
		const char *s = argv[i], *name, *eq;
		const struct rk_flag_def *f;
		size_t name_len;
		char namebuf[128];
		int r;

		if (strlen(s) < 2 || s[0] != '-')
			break;
		name = s + 1;
		if (s[1] == '-') {
			if (s[2] == '\0') {
				i++; /* "--" ends the flags and is consumed */
				break;
			}
			name = s + 2;
		}
		if (name[0] == '\0' || name[0] == '-' || name[0] == '=')
			return rk_error_set(err, EINVAL, "bad flag syntax: %s", s);
		eq = strchr(name, '=');
		name_len = eq ? (size_t)(eq - name) : strlen(name);
		snprintf(namebuf, sizeof(namebuf), "%.*s", (int)name_len, name);
		f = find_flag(name, name_len);
		if (!f)
			return rk_error_set(err, EINVAL, "flag provided but not defined: -%s",
					    namebuf);
		i++;
		if (eq) {
			r = apply_flag(opts, f, namebuf, eq + 1, err);
		} else if (f->type == FLAG_BOOL) {
			r = apply_flag(opts, f, namebuf, "true", err);
		} else {
			if (i >= argc)
				return rk_error_set(err, EINVAL, "flag needs an argument: -%s",
						    namebuf);
			r = apply_flag(opts, f, namebuf, argv[i++], err);
		}
		if (r < 0)
			return r;
	}
	opts->command = argv + i;
	opts->n_command = argc - i;
	return 0;
}

static void flag_left(const struct rk_flag_def *f, char *buf, size_t size)
{
	const char *val = f->type == FLAG_BOOL ? "" : " value";

	if (f->type == FLAG_SLICE && f->alias)
		snprintf(buf, size, "--%s%s, -%s%s [ --%s%s, -%s%s ]", f->name, val, f->alias, val,
			 f->name, val, f->alias, val);
	else if (f->type == FLAG_SLICE)
		snprintf(buf, size, "--%s%s [ --%s%s ]", f->name, val, f->name, val);
	else if (f->alias)
		snprintf(buf, size, "--%s%s, -%s%s", f->name, val, f->alias, val);
	else
		snprintf(buf, size, "--%s%s", f->name, val);
}

void rk_options_print_help(FILE *f)
{
	char left[128];
	size_t width = 0;

	for (size_t i = 0; i < RK_ARRAY_SIZE(flag_table); i++) {
		flag_left(&flag_table[i], left, sizeof(left));
		if (strlen(left) + 4 > width)
			width = strlen(left) + 4;
	}
	width += 2;
	fprintf(f,
		"NAME:\n"
		"   rootlesskit - Linux-native fakeroot using user namespaces\n"
		"\n"
		"USAGE:\n"
		"   rootlesskit [global options] [arguments...]\n"
		"\n"
		"VERSION:\n"
		"   %s\n"
		"\n"
		"DESCRIPTION:\n"
		"   rootlesskit-c %s runs a command as root inside a new user namespace\n"
		"   (user_namespaces(7)) and mount namespace, with the subordinate ids of\n"
		"   /etc/subuid and /etc/subgid mapped in by newuidmap(1) and newgidmap(1).\n"
		"   It is a drop-in replacement for RootlessKit.\n"
		"\n"
		"   Examples:\n"
		"     # a shell that is root in a user namespace and has its own mounts\n"
		"     rootlesskit bash\n"
		"\n"
		"     # the same, with a writable /etc\n"
		"     rootlesskit --copy-up=/etc bash\n"
		"\n"
		"     # an in-process NAT network; port 80 inside is published as 8080 on the "
		"host\n"
		"     rootlesskit --copy-up=/etc --net=builtin --disable-host-loopback \\\n"
		"       --port-driver=builtin -p 127.0.0.1:8080:80/tcp bash\n"
		"\n"
		"   The real root user must give your user a range in /etc/subuid and\n"
		"   /etc/subgid first, e.g. \"usermod --add-subuids 100000-165535\n"
		"   --add-subgids 100000-165535 $USER\".\n"
		"\n"
		"OPTIONS:\n",
		RK_VERSION, RK_IMPL_VERSION);
	for (int cat = 0; cat < CAT_COUNT; cat++) {
		fprintf(f, "  %s:\n", category_names[cat]);
		for (size_t i = 0; i < RK_ARRAY_SIZE(flag_table); i++) {
			const struct rk_flag_def *fl = &flag_table[i];
			const char *def = fl->def;
			char defbuf[300];
			if ((int)fl->category != cat)
				continue;
			if (fl->id == OPT_LXC_USER_NIC_BINARY && *rk_lxcusernic_default()) {
				snprintf(defbuf, sizeof(defbuf), "\"%s\"", rk_lxcusernic_default());
				def = defbuf;
			}
			flag_left(fl, left, sizeof(left));
			fprintf(f, "    %-*s%s", (int)(width - 4), left, fl->usage);
			if (def)
				fprintf(f, " (default: %s)", def);
			fputc('\n', f);
		}
		fputc('\n', f);
	}
}
