/* SPDX-License-Identifier: Apache-2.0 */
/* The virtual network a usermode network puts the child in, described once: computed from
 * the options by the parent (rk_vnet_layout), sent to the child as its interface
 * configuration, and read as it is by the engine and each of its stages. */
#ifndef RK_VNET_H
#define RK_VNET_H

#include <stdbool.h>
#include <stdint.h>

#include "src/lib/error.h"

/* the child's fixed IPv6 address, where published ports lead */
#define RK_VNET_CHILD6 "fd00::100"

struct rk_vnet {
	uint32_t net, mask;	      /* the network and its netmask, network byte order */
	uint32_t child, gateway, dns; /* IPv4 addresses, network byte order */
	unsigned prefix;	      /* of mask */
	unsigned mtu;		      /* the child's interface's */
	bool ipv6;		      /* fd00::/64 too: the host is fd00::2, DNS fd00::3, the
				       * child fd00::100 (RK_VNET_CHILD6) besides its SLAAC one */
	bool disable_host_loopback;   /* the gateway does not lead to the host's loopback */
};

/* A network of NET+100/prefix for the child, NET+gateway for the gateway and NET+dns for
 * DNS; NET is cidr, or 10.0.2.0/24 when cidr is empty. Adding past 255.255.255.255 is an
 * error, as upstream's. Sets the addresses and the prefix only. Returns 0 or -EINVAL with
 * err set. */
int rk_vnet_layout(struct rk_vnet *v, const char *cidr, unsigned gateway, unsigned dns,
		   struct rk_error *err);

/* slirp4netns's layout: the gateway at NET+2, DNS at NET+3. */
int rk_vnet_slirp(struct rk_vnet *v, const char *cidr, struct rk_error *err);

#endif
