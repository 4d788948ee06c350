/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lwIP virtual child (see vchild.h). lwIP's raw API is used without its tcpip thread:
 * lwip_init() once, an Ethernet netif whose link output writes each frame to the socket,
 * and a poll loop that hands received frames to ethernet_input() and runs lwIP's timers.
 * Debian's build only checks core locking once a tcpip thread has been marked, which
 * never happens here.
 */
#include "vendor/lwip/vchild.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lwip/etharp.h>
#include <lwip/inet_chksum.h>
#include <lwip/init.h>
#include <lwip/ip4_addr.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/timeouts.h>
#include <netif/ethernet.h>

struct vchild {
	struct netif netif; /* first: a struct netif * is a struct vchild * */
	int fd;
	unsigned mtu;
	uint8_t mac[6];
	uint64_t out, in;
	unsigned drop_every; /* 0: none */
	bool vnet;	     /* frames behind a struct virtio_net_hdr, as on the engine's tap */
	uint64_t gso;	     /* frames that came as one segment for several */
	uint8_t buf[sizeof(struct virtio_net_hdr) + 14 + 65535];
};

static err_t link_output(struct netif *nif, struct pbuf *p)
{
	struct vchild *c = (struct vchild *)nif;
	size_t hlen = c->vnet ? sizeof(struct virtio_net_hdr) : 0;
	u16_t len = pbuf_copy_partial(p, c->buf + hlen, 0xffff, 0);

	/* a whole frame: no offload asked for */
	memset(c->buf, 0, hlen);
	/* a full socket drops the frame, as a wire would: TCP resends */
	if (write(c->fd, c->buf, hlen + len) == (ssize_t)(hlen + len))
		c->out++;
	return ERR_OK;
}

/* What a kernel does with a frame it takes from a tap with offloads: a partial checksum
 * is completed (lwIP's own inet_chksum, not the engine's code), a segment meant to be cut
 * at gso_size is taken whole. Returns the frame's length, or 0 to drop it. */
static size_t vnet_receive(struct vchild *c, size_t n)
{
	struct virtio_net_hdr vh;
	uint8_t *frame = c->buf + sizeof(vh);
	size_t len;

	if (n < sizeof(vh))
		return 0;
	memcpy(&vh, c->buf, sizeof(vh));
	len = n - sizeof(vh);
	if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		size_t at = (size_t)vh.csum_start + vh.csum_offset;
		u16_t sum;
		if (at + 2 > len)
			return 0;
		sum = inet_chksum(frame + vh.csum_start, (u16_t)(len - vh.csum_start));
		memcpy(frame + at, &sum, 2);
	}
	if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		c->gso++;
	memmove(c->buf, frame, len);
	return len;
}

static err_t vchild_init(struct netif *nif)
{
	struct vchild *c = (struct vchild *)nif;

	nif->name[0] = 'v';
	nif->name[1] = 'c';
	nif->mtu = (u16_t)c->mtu;
	nif->hwaddr_len = 6;
	memcpy(nif->hwaddr, c->mac, 6);
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	nif->output = etharp_output;
	nif->linkoutput = link_output;
	return ERR_OK;
}

struct netif *rk_vchild_new(int fd, const char *ip, const char *gw, unsigned mtu,
			    const uint8_t mac[6])
{
	static bool initialized;
	struct vchild *c = calloc(1, sizeof(*c));
	ip4_addr_t addr, mask, gateway;

	if (!c)
		abort();
	if (!initialized) {
		lwip_init();
		initialized = true;
	}
	c->fd = fd;
	c->mtu = mtu;
	memcpy(c->mac, mac, 6);
	ip4addr_aton(ip, &addr);
	ip4addr_aton("255.255.255.0", &mask);
	ip4addr_aton(gw, &gateway);
	if (!netif_add(&c->netif, &addr, &mask, &gateway, c, vchild_init, ethernet_input))
		abort();
	netif_set_default(&c->netif);
	netif_set_link_up(&c->netif);
	netif_set_up(&c->netif);
	return &c->netif;
}

bool rk_vchild_poll(struct netif *nif, int timeout_ms)
{
	struct vchild *c = (struct vchild *)nif;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	u32_t next = sys_timeouts_sleeptime();

	if (next != SYS_TIMEOUTS_SLEEPTIME_INFINITE && next < (u32_t)timeout_ms)
		timeout_ms = (int)next;
	if (poll(&pfd, 1, timeout_ms) > 0) {
		for (int i = 0; i < 64; i++) {
			ssize_t n = recv(c->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
			struct pbuf *p;

			if (n == 0)
				return false;
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				return false;
			}
			c->in++;
			if (c->drop_every && c->in % c->drop_every == 0)
				continue; /* lost on the way, on purpose */
			if (c->vnet && (n = (ssize_t)vnet_receive(c, (size_t)n)) == 0)
				continue;
			if (n > 0xffff)
				continue; /* longer than lwIP's frames: the MTU is far below */
			p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
			if (!p)
				break;
			pbuf_take(p, c->buf, (u16_t)n);
			if (nif->input(p, nif) != ERR_OK)
				pbuf_free(p);
		}
	}
	sys_check_timeouts();
	return true;
}

void rk_vchild_set_vnet(struct netif *nif, bool on)
{
	((struct vchild *)nif)->vnet = on;
}

uint64_t rk_vchild_gso_frames(const struct netif *nif)
{
	return ((const struct vchild *)nif)->gso;
}

void rk_vchild_drop_every(struct netif *nif, unsigned n)
{
	((struct vchild *)nif)->drop_every = n;
}

void rk_vchild_counts(const struct netif *nif, uint64_t *out, uint64_t *in)
{
	const struct vchild *c = (const struct vchild *)nif;

	*out = c->out;
	*in = c->in;
}

void rk_vchild_free(struct netif *nif)
{
	struct vchild *c = (struct vchild *)nif;

	netif_set_down(nif);
	netif_remove(nif);
	close(c->fd);
	free(c);
}
