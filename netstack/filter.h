/* SPDX-License-Identifier: Apache-2.0 */
/* The frame filter in front of libslirp (see filter.c). No I/O; its state lives in struct
 * rk_filter_config (zeroed to start), released with rk_filter_release. */
#ifndef RK_FILTER_H
#define RK_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	uint32_t net;	  /* the virtual network, network byte order */
	uint32_t mask;	  /* its netmask, network byte order */
	uint32_t child;	  /* the child's address */
	uint32_t gateway; /* libslirp answers ARP for these two itself */
	uint32_t dns;
	struct rk_filter_frag frags[RK_FILTER_FRAGS];
	uint64_t frag_clock;
	uint8_t *out; /* a reassembled datagram (RK_FILTER_REASSEMBLED): RK_FRAME_MAX bytes,
		       * allocated at the first */
	size_t out_len;
};

enum rk_filter_verdict {
	RK_FILTER_PASS,	       /* hand the (maybe rewritten) frame to libslirp */
	RK_FILTER_DROP,	       /* not for libslirp */
	RK_FILTER_REPLY,       /* answered here: send the reply frame back to the child */
	RK_FILTER_HELD,	       /* an IPv4 fragment kept for reassembly */
	RK_FILTER_REASSEMBLED, /* its datagram is whole: hand cfg->out (out_len) to libslirp */
};

/* Why a frame was dropped, for counters and tests. */
enum rk_filter_reason {
	RK_FILTER_OK,
	RK_FILTER_SIZE,	     /* runt, or larger than RK_FRAME_MAX */
	RK_FILTER_ETHERTYPE, /* not ARP, IPv4 or IPv6 */
	RK_FILTER_MALFORMED, /* an IP header that does not hold together */
	RK_FILTER_LOOPBACK,  /* to 127/8, 0/8, ::1, ::, or v4-mapped versions of those */
	RK_FILTER_BROADCAST, /* IPv4 broadcast or multicast */
	RK_FILTER_FRAGMENT,  /* a fragment out of order, overlapping, repeated or too short */
	RK_FILTER_REASONS,
};

/* Looks at one frame from the child. TCP segments lose URG and their urgent pointer (the
 * checksum is fixed up), which keeps Debian's libslirp 4.7 out of its urgent-data bug
 * (CVE-2026-9539). IPv4 fragments never reach libslirp, whose reassembly
 * corrupts memory: they are reassembled here, in order only (no gaps, overlaps or
 * repeats), and the whole datagram is passed on. IPv6 fragments never pass. An ARP request for an
 * address of the subnet that libslirp would not answer gets a reply written to reply (at least 42
 * bytes), *reply_len set. *reason says why a frame is dropped. */
enum rk_filter_verdict rk_filter_frame(struct rk_filter_config *cfg, uint8_t *frame, size_t len,
				       uint8_t *reply, size_t *reply_len,
				       enum rk_filter_reason *reason);

/* Frees the reassembly buffers (the filter can go on, allocating them again). */
void rk_filter_release(struct rk_filter_config *cfg);

/* The MAC libslirp answers with for an address a (network byte order): 52:55 then a. */
void rk_filter_slirp_mac(uint32_t a, uint8_t mac[6]);

#endif
