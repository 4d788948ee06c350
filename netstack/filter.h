/* SPDX-License-Identifier: Apache-2.0 */
/* The frame filter in front of libslirp (see filter.c). No I/O; its state lives in struct
 * rk_filter_config (zeroed to start), released with rk_filter_release. */
#ifndef RK_FILTER_H
#define RK_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_net.h>

#include "netstack/nat.h"

/* Ethernet header plus the largest IP packet */
#define RK_FRAME_MAX (14 + 65535)

#define RK_FILTER_FRAGS 8

/* An IPv4 datagram being reassembled here, from fragments that arrive in order. */
struct rk_filter_frag {
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	bool used;
	unsigned next;	       /* the offset (8-byte units) the next fragment must have */
	uint64_t stamp;	       /* for evicting the oldest */
	uint8_t head[14 + 60]; /* the first fragment's Ethernet and IPv4 headers */
	size_t head_len;
	uint8_t *data; /* the payload so far: 64 KiB, allocated at the slot's first use */
};

/* The filter's configuration and its (small) state. */
struct rk_filter_config {
	/* the network: libslirp answers ARP for the gateway and DNS addresses itself; with
	 * IPv6, the DNS address fd00::3 is served too */
	const struct rk_vnet *vnet;
	bool tcp_translated; /* TCP goes to tcpnat.c (RK_ROUTE_TCP), not libslirp */
	bool no_slirp; /* libslirp is not loaded: ARP for the gateway and DNS is answered here */
	struct rk_child_mac peer; /* the source of the frames that are not dropped */
	struct rk_filter_frag frags[RK_FILTER_FRAGS];
	uint64_t frag_clock;
	uint8_t *out; /* a reassembled datagram: RK_FRAME_MAX bytes, allocated at the first */
};

enum rk_filter_verdict {
	RK_FILTER_PASS,	 /* hand the frame (struct rk_frame) on, along its route */
	RK_FILTER_DROP,	 /* dropped: rk_frame.reason says why */
	RK_FILTER_REPLY, /* answered here: send rk_frame.reply back to the child */
	RK_FILTER_HELD,	 /* an IPv4 fragment kept for reassembly */
};

/* Why a frame was dropped, for counters and tests. */
enum rk_filter_reason {
	RK_FILTER_OK,
	RK_FILTER_SIZE,	     /* runt, or larger than RK_FRAME_MAX */
	RK_FILTER_ETHERTYPE, /* not ARP, IPv4 or IPv6 */
	RK_FILTER_MALFORMED, /* an IP, TCP or UDP header that does not hold together */
	RK_FILTER_LOOPBACK,  /* to 127/8, 0/8, ::1, ::, or v4-mapped versions of those */
	RK_FILTER_BROADCAST, /* IPv4 broadcast or multicast */
	RK_FILTER_FRAGMENT,  /* a fragment out of order, overlapping, repeated or too short */
	RK_FILTER_VNET,	     /* a virtio-net header that does not match the frame's headers */
	RK_FILTER_REASONS,
};

/* Where a frame that passed goes. */
enum rk_frame_route {
	RK_ROUTE_SLIRP, /* libslirp (its checksums are whole) */
	RK_ROUTE_TCP,	/* the TCP translation (tcpnat.c), when cfg->tcp_translated */
	RK_ROUTE_UDP,	/* the UDP translation (udpnat.c) */
	RK_ROUTE_DNS,	/* the DNS forwarder (dns.c): UDP to the DNS address, port 53 */
};

/* What the filter learnt of a frame: the one parse every later stage uses. */
struct rk_frame {
	uint8_t *data; /* the frame: the caller's, or the reassembled datagram (cfg->out) */
	size_t len;    /* up to the end of its IP packet (Ethernet padding left out) */
	bool v6;
	uint8_t proto;		  /* the transport protocol, behind any IPv6 extension headers */
	size_t l4;		  /* the offset of its header in data */
	const uint8_t *src, *dst; /* the IP addresses in data (16 bytes for IPv6, else 4) */
	uint16_t sport, dport;	  /* TCP and UDP: the ports, network byte order */
	enum rk_frame_route route;
	enum rk_filter_reason reason; /* RK_FILTER_DROP: why */
	uint8_t reply[64];	      /* RK_FILTER_REPLY: the frame to send back */
	size_t reply_len;
};

/* Looks at one frame from the child, behind its virtio-net header vh (NULL: none), and
 * fills *ret. Nothing changes the frame after this: the checksum vh asks for is completed
 * here for the frames that go to libslirp, and only where the filter found the checksum
 * field of the TCP or UDP header it parsed; a header that asks for anything else (another
 * offset, a fragment, a segmentation type or size that does not match) drops the frame.
 * TCP segments lose URG and their urgent pointer, which keeps Debian's libslirp 4.7 out
 * of its urgent-data bug (CVE-2026-9539). IPv4 fragments never reach libslirp, whose
 * reassembly corrupts memory: they are reassembled here, in order only (no gaps, overlaps
 * or repeats), and the whole datagram is passed on. IPv6 fragments never pass. An ARP
 * request for an address of the subnet that libslirp would not answer gets a reply. */
enum rk_filter_verdict rk_filter_frame(struct rk_filter_config *cfg, uint8_t *frame, size_t len,
				       const struct virtio_net_hdr *vh, struct rk_frame *ret);

/* Frees the reassembly buffers (the filter can go on, allocating them again). */
void rk_filter_release(struct rk_filter_config *cfg);

/* The MAC libslirp answers with for an address a (network byte order): 52:55 then a. */
void rk_filter_slirp_mac(uint32_t a, uint8_t mac[6]);

#endif
