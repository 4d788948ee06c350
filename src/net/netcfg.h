/* SPDX-License-Identifier: Apache-2.0 */
/* The child's interface configuration: computed by the parent for its network driver,
 * sent to the child as one message, applied there through rtnetlink (see netcfg.c). */
#ifndef RK_NETCFG_H
#define RK_NETCFG_H

#include <stdbool.h>
#include <stddef.h>

#include "src/lib/error.h"
#include "src/lib/vnet.h"

#define RK_NETCFG_MAX_DNS 2

/* What the child does with a configuration. */
enum rk_netcfg_step {
	RK_NETCFG_FULL,	 /* the interface (MAC, up, MTU, address, route), then the files */
	RK_NETCFG_FILES, /* the driver configured the interface (pasta): only the files */
	RK_NETCFG_LINK,	 /* the interface up with its MTU, then a DHCP socket bound to it is
			  * handed to the parent, which sends the full configuration after */
};

enum rk_netcfg_tap {
	RK_NETCFG_TAP_NONE,
	RK_NETCFG_TAP_PLAIN, /* frames as they are (vpnkit's relay) */
	RK_NETCFG_TAP_VNET,  /* with virtio-net headers, checksum and TSO offload (the engine) */
};

struct rk_netcfg {
	enum rk_netcfg_step step;
	enum rk_netcfg_tap tap_fd; /* whether the child hands an open tap to the parent */
	char mac[18];		   /* "" leaves the device's own */
	char dev[16];
	char ip[16]; /* dotted IPv4 */
	unsigned prefix;
	char gateway[16];
	char ip6[46]; /* a fixed IPv6 address (/64, no duplicate detection), "" for none */
	unsigned mtu;
	char dns[RK_NETCFG_MAX_DNS][46];
	unsigned n_dns;
};

/* The configuration of dev on the virtual network v (rk_vnet_layout): its addresses, MTU
 * and DNS servers (with IPv6: fd00::100 and DNS fd00::3 too), in the form the child gets. */
void rk_netcfg_of_vnet(struct rk_netcfg *cfg, const struct rk_vnet *v, const char *dev);

/* The one-line form sent to the child, and back. rk_netcfg_parse returns 0 or -EBADMSG. */
void rk_netcfg_format(const struct rk_netcfg *cfg, char *buf, size_t size);
int rk_netcfg_parse(const char *text, struct rk_netcfg *ret);

/* In the child: sets cfg->dev's MAC (when given), brings it up, sets its MTU, and unless
 * cfg->step is RK_NETCFG_LINK adds the address, the default route and the IPv6 address,
 * each step named in its error. Returns 0 or a negative errno with err set. */
int rk_netcfg_apply(const struct rk_netcfg *cfg, struct rk_error *err);

/* In the child: writes STATE/hosts (the current /etc/hosts plus 127.0.0.1 and ::1 for the
 * hostname) and STATE/resolv.conf (one nameserver line per DNS address), mode 0644, through
 * dir_fd (the state directory, opened in this mount namespace; state_dir is its path, for
 * messages); with mount, bind-mounts them over /etc/hosts and /etc/resolv.conf. With
 * etc_copied_up the copied-up links are replaced by empty files first; otherwise upstream's
 * warning is printed. Returns 0 or a negative errno with err set. */
int rk_netcfg_etc(const struct rk_netcfg *cfg, int dir_fd, const char *state_dir, bool mount,
		  bool etc_copied_up, struct rk_error *err);

#endif
