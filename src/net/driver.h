/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The network drivers behind one table (--net). The parent holds a driver's operations and
 * its private state and calls them in this order; every operation may be NULL:
 *
 *   prepare   before anything starts: find the helper, probe it, warn as upstream does
 *   ports     the port driver this network driver serves (slirp4netns, netstack), if any
 *   start     the child is set up: start the helper, learn or set the child's addresses,
 *             talking to the child through ctx->child where the driver needs to (DHCP)
 *   take_tap  the tap the child opened (drivers with tap_fd)
 *   ready     the child configured its side: the driver confirms it runs
 *   check     SIGCHLD while the command runs: is the network still there
 *   stop      the end, after a failed start too (drain: the command ended by itself, so
 *             what is in flight is delivered first)
 *   free      after stop and after the port driver is gone
 *
 * Adding a driver is a file with its operations and one row in driver.c.
 */
#ifndef RK_NET_DRIVER_H
#define RK_NET_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "port/driver.h"
#include "src/lib/error.h"
#include "src/lib/sig.h"
#include "src/lib/util.h"
#include "src/lib/vnet.h"
#include "src/net/netcfg.h"

enum rk_net {
	RK_NET_HOST,
	RK_NET_NONE,
	RK_NET_BUILTIN,
	RK_NET_SLIRP4NETNS,
	RK_NET_PASTA,
	RK_NET_VPNKIT,
	RK_NET_LXC_USER_NIC,
	RK_NET_GVISOR_TAP_VSOCK, /* upstream's name for the engine, with its addresses */
};

/* What a driver is told, built once from the options (src/parent.c). */
struct rk_net_config {
	const char *name;	  /* --net as given, for messages */
	const char *binary;	  /* the helper (--slirp4netns-binary, ...), NULL: the default */
	enum rk_tristate sandbox; /* slirp4netns's, or the engine's file-system confinement */
	enum rk_tristate seccomp; /* slirp4netns's, or the engine's system-call filter */
	const char *bridge;	  /* --lxc-user-nic-bridge */
	const char *cidr;	  /* "" for the default */
	unsigned mtu;		  /* 0: what --mtu says by default (upstream warns on others) */
	enum rk_port port_driver; /* which port driver runs with it */
	bool disable_host_loopback;
	bool ipv6;
	bool detach_netns;
	bool debug; /* helpers get their verbose flag and keep stderr */
};

/* The child, as a driver that talks to it during start sees it (implemented by the
 * parent). Each call returns 0 or a negative errno with err set. */
struct rk_net_child {
	int (*send)(struct rk_net_child *c, const struct rk_netcfg *nc, struct rk_error *err);
	int (*recv_fd)(struct rk_net_child *c, int *ret_fd, struct rk_error *err);
	void (*kill)(struct rk_net_child *c); /* the network is gone: the command ends */
};

/* What start gets once the child is set up. */
struct rk_net_ctx {
	pid_t child;
	const char *state_dir;
	const char *netns; /* --detach-netns: the namespace's path in the child's view, or NULL */
	const struct rk_cancel *cancel; /* the start-up's: a wait it cuts returns -EINTR */
	const struct rk_vnet *vnet;	/* the network rk_net_plan computed */
	struct rk_netcfg *nc;		/* the child's interface: dev and mtu set, the rest the
					 * driver's to fill (or rk_net_plan's) */
	struct rk_net_child *child_link;
};

struct rk_net_ops {
	enum rk_net net;
	bool new_netns; /* the child gets a network namespace (and /sys re-mounted) */
	bool tap;	/* the child creates a tap device (--ifname) */
	bool configure; /* the child gets an interface configuration (netcfg.h) and
			 * writes resolv.conf and hosts */
	/* the addresses come from --cidr (rk_vnet_layout) with the gateway and DNS at these
	 * offsets (slirp4netns's .2 and .3, gvisor-tap-vsock's .1 and .1); 0: the driver
	 * learns them */
	unsigned char gateway_host, dns_host;
	bool ipv6;		   /* --ipv6 takes effect (the API's networkDriver.ipv6) */
	bool ipv6_dns;		   /* with --ipv6, the network has fd00::/64 (DNS fd00::3) */
	bool dynamic_ip;	   /* DHCP decides the child's address (and may change it) */
	enum rk_netcfg_step step;  /* what the child does with the configuration */
	enum rk_netcfg_tap tap_fd; /* whether the child hands its tap over, and how */
	unsigned default_mtu;
	const char *default_ifname;
	size_t size; /* of the private state, zeroed before prepare */

	int (*prepare)(void *drv, const struct rk_net_config *cfg, struct rk_error *err);
	/* once the addresses are planned, while the parent still has one thread and waits for
	 * the id maps: work that needs no child yet (the engine: fork, load, confine) */
	int (*launch)(void *drv, const struct rk_vnet *vnet, struct rk_error *err);
	int (*ports)(void *drv, const char *state_dir, const char *child_ip,
		     struct rk_port_driver **ret, struct rk_error *err);
	int (*start)(void *drv, struct rk_net_ctx *ctx, struct rk_error *err);
	int (*take_tap)(void *drv, int tap, struct rk_error *err);
	int (*ready)(void *drv, const struct rk_cancel *cancel, struct rk_error *err);
	/* false when the network is gone for good: lost says why, and the driver said so */
	bool (*check)(void *drv, char *lost, size_t size);
	void (*stop)(void *drv, bool drain);
	void (*free)(void *drv);
};

/* The driver of net, or NULL when it is not part of this build. */
const struct rk_net_ops *rk_net_ops_get(enum rk_net net);

/* The network before start, computed once: *vnet (for drivers with gateway_host, the
 * addresses --cidr gives; the MTU, IPv6) and the child's interface *nc made of it (dev,
 * mtu, and those addresses). Returns 0 or -EINVAL with err set. */
int rk_net_plan(const struct rk_net_ops *ops, const struct rk_net_config *cfg, struct rk_vnet *vnet,
		struct rk_netcfg *nc, const char *ifname, struct rk_error *err);

/* The first member of a driver whose network is a helper process (slirp4netns, pasta,
 * vpnkit): rk_net_helper_check is then its check, and rk_net_helper_stop its stop. */
struct rk_net_helper {
	const struct rk_net_config *net;
	pid_t pid; /* the helper once started, else -1 */
};

/* Whether the helper still runs. One that exited is reaped: lost says "network driver
 * NAME exited: STATUS", and a warning says the child has no network now. */
bool rk_net_helper_check(void *drv, char *lost, size_t size);

/* Kills and reaps the helper, if any. */
void rk_net_helper_stop(void *drv, bool drain);

/* Each driver's table row (the files of src/net/). */
extern const struct rk_net_ops rk_net_slirp4netns_ops, rk_net_pasta_ops, rk_net_vpnkit_ops,
	rk_net_lxcusernic_ops, rk_net_builtin_ops, rk_net_gvisor_ops;

#endif
