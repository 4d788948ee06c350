/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: bytes from the network for the lxc-user-nic and vpnkit drivers: a DHCP reply
 * (the xid and MAC are taken from the input itself, so that parsing goes past the header),
 * the same bytes as an Ethernet frame carrying a DHCP offer, and as a vmnet frame stream
 * cut into pieces whose sizes come from the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "src/net/dhcp.h"
#include "src/net/vmnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rk_vmnet_reader rd;
	struct rk_dhcp_reply reply;
	uint8_t mac[6] = { 0 };
	uint32_t xid = 0, ip;
	size_t off = 0;

	if (size >= RK_DHCP_MIN_LEN) {
		memcpy(&xid, data + 4, 4);
		memcpy(mac, data + 28, 6);
	}
	rk_dhcp_parse(data, size, xid, mac, &reply);
	if (size >= 14 + 20 + 8 + RK_DHCP_MIN_LEN) {
		memcpy(&xid, data + 42 + 4, 4);
		memcpy(mac, data, 6);
	}
	rk_vmnet_dhcp_offer(data, size, mac, xid, &ip);

	rd.have = 0;
	while (off < size) {
		const uint8_t *frame;
		size_t space, n;
		uint8_t *at = rk_vmnet_reader_space(&rd, &space);
		n = (size_t)data[off] % 7 + 1; /* piece sizes from the input */
		if (n > space)
			n = space;
		if (n > size - off)
			n = size - off;
		memcpy(at, data + off, n);
		off += n;
		n = rk_vmnet_reader_commit(&rd, n, &frame);
		/* a frame handed out lies inside the reader's buffer */
		if (n &&
		    (frame < rd.buf + RK_VMNET_FRAME_HDR || frame + n > rd.buf + sizeof(rd.buf)))
			__builtin_trap();
	}
	return 0;
}
