/* SPDX-License-Identifier: Apache-2.0 */
/* A DHCPv4 client for --net=lxc-user-nic (see dhcp.c): the child opens the socket on its
 * interface, the parent runs the exchanges with it. */
#ifndef RK_DHCP_H
#define RK_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/lib/error.h"

/* DHCP message types (option 53) */
enum {
	RK_DHCP_DISCOVER = 1,
	RK_DHCP_OFFER = 2,
	RK_DHCP_REQUEST = 3,
	RK_DHCP_ACK = 5,
	RK_DHCP_NAK = 6,
};

/* What a server's reply says; addresses in network byte order, 0 when absent. */
struct rk_dhcp_reply {
	uint8_t type;
	uint32_t yiaddr;
	uint32_t server_id;
	uint32_t netmask;
	uint32_t router; /* the first one */
	uint32_t dns;	 /* the first one */
	uint32_t lease;	 /* seconds; 0 when absent */
};

/* The smallest BOOTP message: up to the magic cookie. */
#define RK_DHCP_MIN_LEN 240

/* Builds a BOOTREQUEST of type (DISCOVER or REQUEST) from mac with the broadcast flag set
 * (the interface has no address yet, so replies must be broadcast); a REQUEST carries
 * requested (option 50) and server_id (option 54). Returns its length (<= size). */
size_t rk_dhcp_build(uint8_t *buf, size_t size, uint8_t type, uint32_t xid, const uint8_t mac[6],
		     uint32_t requested, uint32_t server_id);

/* Parses a BOOTREPLY for xid and mac. Returns 0, or -EINVAL when it is malformed or not
 * an answer to us. */
int rk_dhcp_parse(const uint8_t *buf, size_t len, uint32_t xid, const uint8_t mac[6],
		  struct rk_dhcp_reply *ret);

/* In the child's namespace: a UDP socket on port 68 bound to dev, allowed to broadcast.
 * Returns it (close-on-exec, non-blocking) or a negative errno with err set. */
int rk_dhcp_socket(const char *dev, struct rk_error *err);

/* A lease: what the child's interface gets. */
struct rk_dhcp_lease {
	uint32_t ip, router, dns, server_id; /* network byte order */
	unsigned prefix;
	uint32_t seconds;
};

/* The most datagrams rk_dhcp_take_replies() reads in one call. */
#define RK_DHCP_BURST 64

/* Reads the datagrams queued on sock, RK_DHCP_BURST at most (so that frames that keep
 * coming cannot hold off the caller's deadline), for a reply to xid and mac of type want.
 * Returns 1 with *reply set, -EPROTO for a NAK when nak_ends, or 0 when none was it. */
int rk_dhcp_take_replies(int sock, uint32_t xid, const uint8_t mac[6], uint8_t want, bool nak_ends,
			 struct rk_dhcp_reply *reply);

/* DISCOVER, OFFER, REQUEST, ACK on sock (from rk_dhcp_socket) for dev, retransmitting
 * every 2 s, within timeout_ms. stop_fd (or -1) becoming readable aborts with -ECANCELED.
 * Returns 0 with *lease filled, or a negative errno with err set. */
int rk_dhcp_exchange(int sock, const char *dev, int timeout_ms, int stop_fd,
		     struct rk_dhcp_lease *lease, struct rk_error *err);

/* Keeps a lease: renews it at 0.9 of its time, on a thread of its own, until
 * rk_dhcp_keeper_stop. When the server hands out another address, or the lease runs out
 * without a renewal, it reports the error and calls on_lost(arg) (upstream's child panics
 * there). Takes sock. Returns NULL and sets err on failure. */
struct rk_dhcp_keeper;
struct rk_dhcp_keeper *rk_dhcp_keeper_start(int sock, const char *dev,
					    const struct rk_dhcp_lease *lease,
					    void (*on_lost)(void *arg), void *arg,
					    struct rk_error *err);
void rk_dhcp_keeper_stop(struct rk_dhcp_keeper *k);

#endif
