/* SPDX-License-Identifier: Apache-2.0 */
/* A virtual child for the netstack datapath tests: Debian's lwIP (liblwip-dev) as the
 * child's TCP/IP stack, on one end of a frame socket whose other end is the engine's
 * "tap". Single-threaded: everything lwIP runs in the thread that calls rk_vchild_poll. */
#ifndef RK_VCHILD_H
#define RK_VCHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netif;

/* Brings lwIP up (once per process) with an Ethernet interface on fd (a datagram socket
 * carrying one frame per message): address ip/24, default gateway gw, the given MTU and
 * MAC. Returns the interface. */
struct netif *rk_vchild_new(int fd, const char *ip, const char *gw, unsigned mtu,
			    const uint8_t mac[6]);

/* Waits up to timeout_ms for frames, feeds them to lwIP and runs its timers. Returns
 * false when the engine's end is gone. */
bool rk_vchild_poll(struct netif *nif, int timeout_ms);

/* Frames come and go behind a struct virtio_net_hdr, as on the engine's tap: partial
 * checksums are completed, as a kernel does, and segments longer than the MSS taken. */
void rk_vchild_set_vnet(struct netif *nif, bool on);

/* Frames that came as one segment for several (GSO). */
uint64_t rk_vchild_gso_frames(const struct netif *nif);

/* From now on every nth frame from the engine is lost (0: none), so that the engine's
 * retransmission is exercised. */
void rk_vchild_drop_every(struct netif *nif, unsigned n);

/* Frames the interface sent and received so far. */
void rk_vchild_counts(const struct netif *nif, uint64_t *out, uint64_t *in);

/* Takes the interface down and closes its socket. */
void rk_vchild_free(struct netif *nif);

#endif
