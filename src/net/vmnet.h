/* SPDX-License-Identifier: Apache-2.0 */
/* VPNKit's "vmnet" protocol on its --ethernet socket (see vmnet.c): the pure encoding and
 * decoding, with no I/O, so that it is tested without a vpnkit. */
#ifndef RK_VMNET_H
#define RK_VMNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The greeting both sides send first: "VMN3T", a version, a 40-byte commit. */
#define RK_VMNET_HELLO_LEN 49
/* The VIF request: a type byte, a 36-character UUID, an IPv4 address (0: any). */
#define RK_VMNET_VIF_REQUEST_LEN 41
/* The body of a successful VIF answer after its type byte: MTU, max packet size, MAC,
 * padding. */
#define RK_VMNET_VIF_LEN 257
/* Frames travel as a 2-byte little-endian length and the frame. */
#define RK_VMNET_FRAME_HDR 2
#define RK_VMNET_FRAME_MAX 65535

void rk_vmnet_hello(uint8_t out[RK_VMNET_HELLO_LEN]);

/* Returns 0 when in is a vmnet greeting, -EPROTO otherwise. */
int rk_vmnet_check_hello(const uint8_t in[RK_VMNET_HELLO_LEN]);

/* A random version-4 UUID in its 36-character text form. */
void rk_vmnet_uuid(char out[37]);

void rk_vmnet_vif_request(uint8_t out[RK_VMNET_VIF_REQUEST_LEN], const char uuid[37]);

struct rk_vmnet_vif {
	unsigned mtu;
	unsigned max_packet;
	uint8_t mac[6];
};

/* Decodes the body of a successful VIF answer. */
void rk_vmnet_parse_vif(const uint8_t in[RK_VMNET_VIF_LEN], struct rk_vmnet_vif *ret);

/* An Ethernet frame carrying a DHCPDISCOVER from mac with xid, broadcast, as VPNKit wants
 * it to learn which address it gives mac. Returns its length (0 when size is too small). */
size_t rk_vmnet_dhcp_discover(uint8_t *buf, size_t size, const uint8_t mac[6], uint32_t xid);

/* Reads the address a DHCPOFFER in frame gives: Ethernet to mac or broadcast, IPv4, UDP
 * 67 to 68, our xid. Returns 0 with *ret_ip (network byte order) or -EINVAL. */
int rk_vmnet_dhcp_offer(const uint8_t *frame, size_t len, const uint8_t mac[6], uint32_t xid,
			uint32_t *ret_ip);

/* A stream of length-prefixed frames being reassembled. */
struct rk_vmnet_reader {
	uint8_t buf[RK_VMNET_FRAME_HDR + RK_VMNET_FRAME_MAX];
	size_t have;
};

/* Space to read into: at most the rest of the current frame. */
uint8_t *rk_vmnet_reader_space(struct rk_vmnet_reader *r, size_t *ret_size);

/* Accounts n bytes read into the space. When a frame is complete, returns its length
 * with *ret_frame pointing at it (valid until the next call) and starts the next one;
 * returns 0 otherwise. */
size_t rk_vmnet_reader_commit(struct rk_vmnet_reader *r, size_t n, const uint8_t **ret_frame);

#endif
