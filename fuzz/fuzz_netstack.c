/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: frame sequences from the child into the frame filter and the engine
 * (libslirp), with a fake clock.
 *
 * Input: the first byte's low bit is --disable-host-loopback, its next bit leaves the
 * child's connections to libslirp's TCP instead of tcpnat.c, the third puts a virtio-net
 * header before every frame (as on the real tap), the fourth turns IPv6 off (then, with
 * tcpnat.c, libslirp is not loaded and icmpnat.c and the filter take what it would);
 * then records of
 *   0, u16 length, bytes   a frame from the child (with the third bit: behind the header
 *                          written in the input)
 *   1, u16 milliseconds    the clock moves on
 *   2                      one pass of the loop (sockets, timers)
 *   3, u8 choice, u16 value, u16 length, bytes
 *                          a frame behind a virtio-net header made from its own offsets
 *                          (structure-aware: csum_start at the IP or transport header, or
 *                          anywhere; csum_offset 16, 6, or anything; each GSO type; sizes
 *                          and header lengths that fit or not), whatever the third bit
 *   4, u8 sender, u16 length, bytes
 *                          a datagram from a host peer (the sender picks its address:
 *                          loopback, the DNS stub, outside, IPv6, v4-mapped): the next
 *                          pass sees every UDP socket readable, and the first to read
 *                          gets it (the UDP translation's way back, DNS answers)
 * The harness defines connect(), sendto(), send() and sendmsg(): libslirp and the engine
 * call them through the PLT, so they land here and nothing reaches a network. It also
 * defines poll(), recv() and recvfrom(), to hand the engine the host peers' datagrams. It also
 * defines arc4random_buf() as zeros, so that the engine's initial sequence numbers are
 * 0 (until the clock moves: then 250 a millisecond) and inputs can answer them. The oracle: with
 * --disable-host-loopback no frame may make the engine connect or send to a host loopback
 * or unspecified address (DNS forwarding to the harness's stub resolver, 127.0.0.53:53,
 * is allowed).
 * Frames the engine sends to the child must fit the MTU, or, with virtio-net headers, be
 * TCP segments to be cut at an MSS that fits it; their headers must say what a kernel's
 * would (a partial checksum at the TCP or UDP checksum field, TSO of TCP only).
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include "netstack/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MTU 1500

static bool no_loopback;
static int64_t fake_now;

/* Whether a host address is loopback or unspecified, other than the harness's DNS stub
 * (127.0.0.53:53, which the forwarder may use: anything else on port 53 is caught too). */
static bool loopback_like(const struct sockaddr *sa, socklen_t len)
{
	if (sa && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const void *)sa;
		uint8_t first = (uint8_t)(ntohl(in->sin_addr.s_addr) >> 24);
		if (in->sin_addr.s_addr == htonl(0x7f000035) && ntohs(in->sin_port) == 53)
			return false;
		return first == 127 || first == 0;
	}
	if (sa && sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		const uint8_t *a = in6->sin6_addr.s6_addr;
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		       IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) ||
		       (memcmp(a, mapped, 12) == 0 && (a[12] == 127 || a[12] == 0));
	}
	return false;
}

static void check(const struct sockaddr *sa, socklen_t len)
{
	if (no_loopback && loopback_like(sa, len))
		__builtin_trap();
}

/* As the kernel answers a non-blocking TCP connect: pending. (A synchronous ECONNREFUSED,
 * which Linux never gives for TCP, crashes libslirp 4.7 in its refused-connection path.)
 * A UDP socket (the DNS forwarder's) is connected at once. */
int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int type = 0;
	socklen_t tlen = sizeof(type);

	check(sa, len);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_DGRAM)
		return 0;
	errno = EINPROGRESS;
	return -1;
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
	       socklen_t len)
{
	(void)fd;
	(void)buf;
	(void)flags;
	check(sa, len);
	return (ssize_t)n;
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	(void)fd;
	(void)buf;
	(void)flags;
	return (ssize_t)n;
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	size_t n = 0;

	(void)fd;
	(void)flags;
	check(m->msg_name, m->msg_namelen);
	for (size_t i = 0; i < m->msg_iovlen; i++)
		n += m->msg_iov[i].iov_len;
	return (ssize_t)n;
}

/* The host peer's datagram of record 4, until a UDP socket reads it. */
static uint8_t peer_data[65536];
static size_t peer_len;
static bool peer_pending;
static uint8_t peer_sender;

static bool is_dgram(int fd)
{
	int type = 0;
	socklen_t tlen = sizeof(type);

	return fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 &&
	       type == SOCK_DGRAM;
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	static int (*real)(struct pollfd *, nfds_t, int);
	int r;

	if (!real)
		real = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
	r = real(fds, n, peer_pending ? 0 : timeout);
	if (r < 0 || !peer_pending)
		return r;
	for (nfds_t i = 0; i < n; i++)
		if ((fds[i].events & POLLIN) && is_dgram(fds[i].fd)) {
			r += fds[i].revents == 0;
			fds[i].revents |= POLLIN;
		}
	return r;
}

/* The sender of the pending datagram, in the family of fd's socket. */
static socklen_t peer_address(int fd, struct sockaddr_storage *ss)
{
	static const char *const v4[] = { "127.0.0.1", "127.0.0.53", "192.0.2.1", "0.0.0.0" };
	static const char *const v6[] = { "::1", "2001:db8::1", "::ffff:127.0.0.1",
					  "::ffff:192.0.2.1" };
	socklen_t len = sizeof(*ss);
	uint16_t port = (uint16_t)(peer_sender & 0x40 ? 53 : 40000 + (peer_sender & 0x3f));

	memset(ss, 0, sizeof(*ss));
	if (getsockname(fd, (struct sockaddr *)ss, &len) < 0)
		ss->ss_family = AF_INET;
	if (ss->ss_family == AF_INET6 && !(peer_sender & 0x80)) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		memset(in6, 0, sizeof(*in6));
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		inet_pton(AF_INET6, v6[peer_sender & 3], &in6->sin6_addr);
		return sizeof(*in6);
	}
	/* an IPv4 sender, also for an IPv6 socket (with bit 7: a family that does not fit) */
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	memset(in, 0, sizeof(*in));
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	inet_pton(AF_INET, v4[peer_sender & 3], &in->sin_addr);
	return sizeof(*in);
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len)
{
	static ssize_t (*real)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	struct sockaddr_storage from;
	socklen_t flen;

	if (!real)
		real = (ssize_t(*)(int, void *, size_t, int, struct sockaddr *, socklen_t *))dlsym(
			RTLD_NEXT, "recvfrom");
	if (!peer_pending || !is_dgram(fd))
		return real(fd, buf, n, flags, sa, len);
	peer_pending = false;
	flen = peer_address(fd, &from);
	if (sa && len) {
		memcpy(sa, &from, *len < flen ? *len : flen);
		*len = flen;
	}
	if (n > peer_len)
		n = peer_len;
	memcpy(buf, peer_data, n);
	return (ssize_t)n;
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	return recvfrom(fd, buf, n, flags, NULL, NULL);
}

void arc4random_buf(void *buf, size_t n)
{
	memset(buf, 0, n);
}

/* A virtio-net header for frame, from its own header offsets as choice and value pick. */
static struct virtio_net_hdr derive_vnet(const uint8_t *frame, size_t len, uint8_t choice,
					 uint16_t value)
{
	struct virtio_net_hdr vh = { 0 };
	size_t l3 = 14, l4 = 14 + 20, thl = 20;
	static const uint8_t gso[4] = { VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_TCPV4,
					VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP };

	if (len > 14 && (frame[14] >> 4) == 4)
		l4 = 14 + (size_t)(frame[14] & 15) * 4;
	else if (len > 14 && (frame[14] >> 4) == 6)
		l4 = 14 + 40 + (value & 0x100 ? 8 : 0); /* behind an extension header, or not */
	if (l4 + 13 < len)
		thl = (size_t)(frame[l4 + 12] >> 4) * 4;
	switch (choice & 3) {
	case 0:
		vh.csum_start = (uint16_t)l4;
		break;
	case 1:
		vh.csum_start = (uint16_t)l3;
		break;
	case 2:
		vh.csum_start = (uint16_t)(len ? value % len : value);
		break;
	default:
		vh.csum_start = (uint16_t)(l4 + (value & 0x1f));
		break;
	}
	switch (choice >> 2 & 3) {
	case 0:
		vh.csum_offset = 16;
		break;
	case 1:
		vh.csum_offset = 6;
		break;
	case 2:
		vh.csum_offset = value & 0x3f;
		break;
	default:
		vh.csum_offset = 0;
		break;
	}
	if (choice & 0x10)
		vh.flags |= VIRTIO_NET_HDR_F_NEEDS_CSUM;
	if (choice & 0x20)
		vh.flags |= value & 0x200 ? VIRTIO_NET_HDR_F_DATA_VALID : (uint8_t)(value >> 12);
	vh.gso_type = gso[choice >> 6];
	if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		vh.gso_size = value & 0x400 ? (uint16_t)(value >> 4) : 1448;
		vh.hdr_len = value & 0x800 ? value : (uint16_t)(l4 + thl);
	}
	return vh;
}

static int64_t clock_fake(void *arg)
{
	(void)arg;
	return fake_now;
}

/* Whether the virtio-net header of a frame the engine wrote (len bytes at f) says what a
 * kernel would: a partial checksum at the checksum field of the frame's TCP or UDP
 * header, segmentation only of TCP of the frame's IP version with the headers' length. */
static bool vnet_consistent(const struct virtio_net_hdr *vh, const uint8_t *f, size_t len)
{
	size_t l4, thl = 0;
	uint8_t proto;
	bool v6;

	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return vh->gso_type == VIRTIO_NET_HDR_GSO_NONE;
	if (len < 14 + 20)
		return false;
	v6 = f[12] == 0x86 && f[13] == 0xdd;
	l4 = v6 ? 14 + 40 : 14 + (size_t)(f[14] & 15) * 4;
	proto = v6 ? f[14 + 6] : f[14 + 9];
	/* the transport header whole: 20 bytes for TCP, 8 for UDP */
	if (proto != 6 && proto != 17)
		return false;
	if (vh->csum_start != l4 || l4 + (proto == 6 ? 20u : 8u) > len ||
	    vh->csum_offset != (proto == 6 ? 16 : 6))
		return false;
	if (vh->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return true;
	thl = (size_t)(f[l4 + 12] >> 4) * 4;
	return proto == 6 &&
	       vh->gso_type == (v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) &&
	       vh->hdr_len == l4 + thl;
}

/* What the engine sent to the child: drained and checked. */
static void drain(int fd, bool vnet)
{
	static uint8_t buf[sizeof(struct virtio_net_hdr) + RK_FRAME_MAX + 1];
	struct virtio_net_hdr vh;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (!vnet) {
			if ((size_t)n > MTU + 14)
				__builtin_trap();
			continue;
		}
		if ((size_t)n < sizeof(vh))
			__builtin_trap();
		memcpy(&vh, buf, sizeof(vh));
		n -= (ssize_t)sizeof(vh);
		if ((size_t)n > MTU + 14 &&
		    (vh.gso_type == VIRTIO_NET_HDR_GSO_NONE || vh.gso_size == 0 ||
		     vh.gso_size > MTU - 40 || (size_t)n > RK_FRAME_MAX))
			__builtin_trap();
		if (!vnet_consistent(&vh, buf + sizeof(vh), (size_t)n))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[RK_FRAME_MAX + sizeof(struct virtio_net_hdr)];
	struct rk_engine_config cfg = { .vnet = { .mtu = MTU, .ipv6 = true },
					.clock_ns = clock_fake };
	struct rk_error err;
	struct rk_engine *e;
	int sp[2];
	size_t i = 1;

	if (size < 1 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sp) < 0)
		return 0;
	no_loopback = data[0] & 1;
	cfg.vnet.disable_host_loopback = no_loopback;
	cfg.libslirp_tcp = data[0] & 2;
	cfg.vnet_hdr = data[0] & 4;
	cfg.vnet.ipv6 = !(data[0] & 8);
	rk_vnet_slirp(&cfg.vnet, "", NULL);
	/* DNS goes to a loopback stub (sends are interposed: nothing leaves) */
	cfg.dns_servers[0].ss_family = AF_INET;
	((struct sockaddr_in *)&cfg.dns_servers[0])->sin_port = htons(53);
	((struct sockaddr_in *)&cfg.dns_servers[0])->sin_addr.s_addr = htonl(0x7f000035);
	cfg.n_dns_servers = 1;
	fake_now = 1000000000;
	e = rk_engine_new(&cfg, sp[0], &err);
	if (!e) {
		close(sp[0]);
		close(sp[1]);
		return 0;
	}
	while (i < size) {
		uint8_t kind = data[i++], choice;
		uint16_t value;
		size_t len;
		switch (kind % 5) {
		case 0:
			if (size - i < 2)
				goto out;
			len = (size_t)data[i] | (size_t)data[i + 1] << 8;
			i += 2;
			if (len > size - i)
				len = size - i;
			/* the engine may rewrite it (URG): give it a copy */
			memcpy(frame, data + i, len);
			rk_engine_input(e, frame, len);
			i += len;
			break;
		case 3:
			if (size - i < 5)
				goto out;
			choice = data[i];
			value = (uint16_t)(data[i + 1] | data[i + 2] << 8);
			len = (size_t)data[i + 3] | (size_t)data[i + 4] << 8;
			i += 5;
			if (len > size - i)
				len = size - i;
			if (len > RK_FRAME_MAX - sizeof(struct virtio_net_hdr))
				len = RK_FRAME_MAX - sizeof(struct virtio_net_hdr);
			{
				struct virtio_net_hdr vh =
					derive_vnet(data + i, len, choice, value);
				memcpy(frame, &vh, sizeof(vh));
				memcpy(frame + sizeof(vh), data + i, len);
				if (cfg.vnet_hdr)
					rk_engine_input(e, frame, sizeof(vh) + len);
				else
					rk_engine_input(e, frame + sizeof(vh), len);
			}
			i += len;
			break;
		case 4:
			if (size - i < 3)
				goto out;
			peer_sender = data[i];
			len = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;
			i += 3;
			if (len > size - i)
				len = size - i;
			memcpy(peer_data, data + i, len);
			peer_len = len;
			peer_pending = true;
			i += len;
			break;
		case 1:
			if (size - i < 2)
				goto out;
			fake_now += ((int64_t)data[i] | (int64_t)data[i + 1] << 8) * 1000000;
			i += 2;
			break;
		default:
			rk_engine_step(e, 0);
			break;
		}
		drain(sp[1], cfg.vnet_hdr);
	}
out:
	peer_pending = false;
	rk_engine_free(e);
	close(sp[1]);
	return 0;
}
