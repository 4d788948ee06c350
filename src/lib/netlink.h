/* SPDX-License-Identifier: Apache-2.0 */
/* rtnetlink configuration of the child's interfaces (libmnl), never the ip binary. */
#ifndef RK_NETLINK_H
#define RK_NETLINK_H

#include <stdbool.h>

#include "src/lib/error.h"

/* Brings interface ifname up in the current network namespace, like
 * "ip link set IFNAME up". Returns 0 or a negative errno with err set. */
int rk_netlink_link_up(const char *ifname, struct rk_error *err);

/* "ip [-6] route add local default dev IFNAME table TABLE": every address counts as
 * local in that table. An existing route is not an error. Returns 0 or -errno, err set. */
int rk_netlink_local_default_route(int family, unsigned table, const char *ifname,
				   struct rk_error *err);

/* "ip [-6] rule add fwmark MARK lookup TABLE priority PRIORITY". An existing rule is not
 * an error. Returns 0 or a negative errno with err set. */
int rk_netlink_fwmark_rule(int family, unsigned mark, unsigned table, unsigned priority,
			   struct rk_error *err);

/* "ip link set dev IFNAME mtu MTU". Returns 0 or a negative errno with err set. */
int rk_netlink_set_mtu(const char *ifname, unsigned mtu, struct rk_error *err);

/* "ip link set IFNAME address MAC" (aa:bb:cc:dd:ee:ff). Returns 0 or -errno, err set. */
int rk_netlink_set_mac(const char *ifname, const char *mac, struct rk_error *err);

/* Parses aa:bb:cc:dd:ee:ff. Returns 0 or -EINVAL. */
int rk_parse_mac(const char *text, unsigned char mac[6]);

/* "ip addr add IP/PREFIX dev IFNAME" (IPv4, or IPv6 without duplicate detection). Returns 0 or a
 * negative errno with err set. */
int rk_netlink_addr_add(const char *ifname, const char *ip, unsigned prefix, struct rk_error *err);

/* "ip route add default via GATEWAY dev IFNAME" (IPv4). Returns 0 or -errno, err set. */
int rk_netlink_route_default(const char *ifname, const char *gateway, struct rk_error *err);

/* "ip tuntap add name IFNAME mode tap": a persistent tap device in the current network
 * namespace. Returns 0 or a negative errno with err set. */
int rk_tap_create(const char *ifname, struct rk_error *err);

/* Attaches to the tap device ifname of the current network namespace: a non-blocking,
 * close-on-exec descriptor that reads and writes its Ethernet frames. vnet_hdr: each frame
 * comes and goes behind a struct virtio_net_hdr, and the device offers checksum and TCP
 * segmentation offload. Returns it or a negative errno with err set. */
int rk_tap_open(const char *ifname, bool vnet_hdr, struct rk_error *err);

#endif
