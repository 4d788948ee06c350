/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line options: one table of every upstream v3 flag, a parser with upstream's rules
 * (Go "flag" package as driven by urfave/cli v2), one validation pass, and the categorised
 * help text. Parsing is pure; validation only prints warnings. */
#ifndef RK_OPTIONS_H
#define RK_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "port/driver.h"
#include "port/transparent.h"
#include "src/lib/error.h"
#include "src/lib/util.h"
#include "src/mount.h"
#include "src/net/driver.h"
#include "src/subid.h"

enum rk_semver_part {
	RK_SEMVER_NONE,
	RK_SEMVER_MAJOR,
	RK_SEMVER_MINOR,
	RK_SEMVER_PATCH,
};

/* Parsed and validated options. String members point into argv or at static defaults;
 * the two slices are owned (rk_options_free). */
struct rk_options {
	bool debug;
	bool help;
	bool version;
	const char *print_semver; /* raw value; see semver */
	enum rk_semver_part semver;

	const char *state_dir; /* raw value, "" when not given */

	const char *net_name; /* raw value of --net */
	enum rk_net net;
	const char *pasta_binary;
	const char *slirp4netns_binary;
	const char *slirp4netns_sandbox_name;
	enum rk_tristate slirp4netns_sandbox;
	const char *slirp4netns_seccomp_name;
	enum rk_tristate slirp4netns_seccomp;
	const char *vpnkit_binary;
	const char *netstack_sandbox_name; /* the --net=builtin engine's confinement */
	enum rk_tristate netstack_sandbox;
	const char *netstack_seccomp_name;
	enum rk_tristate netstack_seccomp;
	const char *lxc_user_nic_binary; /* NULL: the default search (see help) */
	const char *lxc_user_nic_bridge;
	long long mtu;
	const char *cidr;
	const char *ifname;
	bool disable_host_loopback;
	bool ipv6;
	bool detach_netns;

	char **copy_up; /* NULL-terminated, owned */
	size_t n_copy_up;
	const char *copy_up_mode;

	const char *port_driver_name;
	enum rk_port port_driver;
	char **publish; /* NULL-terminated, owned */
	size_t n_publish;
	bool source_ip_transparent;
	const char *source_ip_transparent_backend_name;
	enum rk_transparent_backend source_ip_transparent_backend;

	bool pidns;
	bool cgroupns;
	bool utsns;
	bool ipcns;
	const char *propagation_name;
	enum rk_propagation propagation;
	const char *reaper_name;
	bool reaper; /* resolved: --reaper=auto means --pidns */
	const char *evacuate_cgroup2;

	const char *subid_source_name;
	enum rk_subid_source subid_source;

	char **command; /* points into argv; NULL-terminated */
	int n_command;
};

/* Sets every option to its default. */
void rk_options_init(struct rk_options *opts);

/* Releases what rk_options_parse allocated. Accepts an initialised, unparsed struct. */
void rk_options_free(struct rk_options *opts);

/* Parses argv[1..argc) with upstream's rules: "-f" == "--f", "=value" or a separate value,
 * Go booleans, repeated and comma-split slice flags, stop at the first non-flag or after
 * "--". On a syntax error returns -EINVAL with err set to upstream's text (the caller
 * prints "Incorrect Usage." and the help). Does not validate values. */
int rk_options_parse(struct rk_options *opts, int argc, char **argv, struct rk_error *err);

/* Checks --print-semver and sets opts->semver. Returns 0 or -EINVAL with err set. */
int rk_options_parse_semver(struct rk_options *opts, struct rk_error *err);

/* Validates the values upstream checks (enums, --mtu, --cidr, --ifname, the network and
 * port driver matrix, --reaper and --evacuate-cgroup2 prerequisites) and prints upstream's
 * warnings when warn is true. Returns 0 or -EINVAL with err set. */
int rk_options_validate(struct rk_options *opts, bool warn, struct rk_error *err);

/* The network driver's configuration (src/net/driver.h): which flags feed it. */
void rk_options_net_config(const struct rk_options *opts, struct rk_net_config *ret);

/* Writes the categorised help text (upstream's layout) to f. */
void rk_options_print_help(FILE *f);

#endif
