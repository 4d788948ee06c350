/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DHCPv4 client of --net=lxc-user-nic.
 *
 * lxc-user-nic plugs a veth of the child into a host bridge, where a DHCP server (lxc-net's
 * dnsmasq) hands out addresses. The child opens a UDP socket on port 68 bound to its
 * interface and passes it to the parent; the socket keeps working in the child's network
 * namespace whoever holds it, so the parent runs the exchange, and later the renewals,
 * with no process of ours left in the child. Requests set the broadcast flag: the
 * interface has no address until the ACK, so the server must broadcast its replies.
 */
#include "src/net/dhcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "src/lib/log.h"
#include "src/lib/util.h"

#define OFF_XID	      4
#define OFF_FLAGS     10
#define OFF_YIADDR    16
#define OFF_CHADDR    28
#define OFF_COOKIE    236
#define OPT_PAD	      0
#define OPT_NETMASK   1
#define OPT_ROUTER    3
#define OPT_DNS	      6
#define OPT_REQUESTED 50
#define OPT_LEASE     51
#define OPT_TYPE      53
#define OPT_SERVER_ID 54
#define OPT_PARAMS    55
#define OPT_END	      255

static const uint8_t cookie[4] = { 99, 130, 83, 99 };

size_t rk_dhcp_build(uint8_t *buf, size_t size, uint8_t type, uint32_t xid, const uint8_t mac[6],
		     uint32_t requested, uint32_t server_id)
{
	static const uint8_t params[] = { OPT_NETMASK, OPT_ROUTER, OPT_DNS, OPT_LEASE,
					  OPT_SERVER_ID };
	size_t n = RK_DHCP_MIN_LEN;

	if (size < RK_DHCP_MIN_LEN + 32)
		return 0;
	memset(buf, 0, RK_DHCP_MIN_LEN);
	buf[0] = 1; /* BOOTREQUEST */
	buf[1] = 1; /* Ethernet */
	buf[2] = 6;
	memcpy(buf + OFF_XID, &xid, 4);
	buf[OFF_FLAGS] = 0x80; /* broadcast */
	memcpy(buf + OFF_CHADDR, mac, 6);
	memcpy(buf + OFF_COOKIE, cookie, 4);
	buf[n++] = OPT_TYPE;
	buf[n++] = 1;
	buf[n++] = type;
	if (requested) {
		buf[n++] = OPT_REQUESTED;
		buf[n++] = 4;
		memcpy(buf + n, &requested, 4);
		n += 4;
	}
	if (server_id) {
		buf[n++] = OPT_SERVER_ID;
		buf[n++] = 4;
		memcpy(buf + n, &server_id, 4);
		n += 4;
	}
	buf[n++] = OPT_PARAMS;
	buf[n++] = sizeof(params);
	memcpy(buf + n, params, sizeof(params));
	n += sizeof(params);
	buf[n++] = OPT_END;
	return n;
}

int rk_dhcp_parse(const uint8_t *buf, size_t len, uint32_t xid, const uint8_t mac[6],
		  struct rk_dhcp_reply *ret)
{
	*ret = (struct rk_dhcp_reply){ 0 };
	if (len < RK_DHCP_MIN_LEN || buf[0] != 2 || buf[1] != 1 || buf[2] != 6 ||
	    memcmp(buf + OFF_XID, &xid, 4) != 0 || memcmp(buf + OFF_CHADDR, mac, 6) != 0 ||
	    memcmp(buf + OFF_COOKIE, cookie, 4) != 0)
		return -EINVAL;
	memcpy(&ret->yiaddr, buf + OFF_YIADDR, 4);
	for (size_t i = RK_DHCP_MIN_LEN; i < len;) {
		uint8_t code = buf[i++], l;
		const uint8_t *v;
		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			break;
		if (i >= len)
			return -EINVAL;
		l = buf[i];
		i++;
		if (l > len - i)
			return -EINVAL;
		v = buf + i;
		i += l;
		switch (code) {
		case OPT_TYPE:
			if (l == 1)
				ret->type = v[0];
			break;
		case OPT_NETMASK:
			if (l == 4)
				memcpy(&ret->netmask, v, 4);
			break;
		case OPT_SERVER_ID:
			if (l == 4)
				memcpy(&ret->server_id, v, 4);
			break;
		case OPT_LEASE:
			if (l == 4)
				ret->lease = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
					     (uint32_t)v[2] << 8 | v[3];
			break;
		case OPT_ROUTER:
		case OPT_DNS:
			/* a list: take the first */
			if (l >= 4 && l % 4 == 0)
				memcpy(code == OPT_ROUTER ? &ret->router : &ret->dns, v, 4);
			break;
		default:
			break;
		}
	}
	return ret->type ? 0 : -EINVAL;
}

int rk_dhcp_socket(const char *dev, struct rk_error *err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(68) };
	int one = 1, s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (s < 0)
		return rk_error_errno(err, errno, "DHCP on %s: socket", dev);
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev) + 1) < 0 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int e = errno;
		close(s);
		return rk_error_errno(err, e, "DHCP on %s: binding port 68", dev);
	}
	return s;
}

static int64_t now_ms(void)
{
	return (int64_t)rk_now_ms();
}

static unsigned mask_prefix(uint32_t mask_be)
{
	uint32_t m = ntohl(mask_be);
	unsigned n = 0;

	while (n < 32 && (m & (0x80000000u >> n)))
		n++;
	return n;
}

int rk_dhcp_take_replies(int sock, uint32_t xid, const uint8_t mac[6], uint8_t want, bool nak_ends,
			 struct rk_dhcp_reply *reply)
{
	uint8_t in[1500];

	for (int i = 0; i < RK_DHCP_BURST; i++) {
		/* the socket came from the child, which can clear O_NONBLOCK on it */
		ssize_t n = recv(sock, in, sizeof(in), MSG_DONTWAIT);
		if (n < 0)
			break;
		if (rk_dhcp_parse(in, (size_t)n, xid, mac, reply) < 0)
			continue;
		if (reply->type == RK_DHCP_NAK && nak_ends)
			return -EPROTO;
		if (reply->type == want)
			return 1;
	}
	return 0;
}

/* Sends one request of type and waits for a reply of want (or a NAK), resending every 2 s
 * until deadline. Returns 0, -ETIMEDOUT, -ECANCELED, -EPROTO (NAK) or -errno. */
static int transact(int sock, const uint8_t mac[6], uint32_t xid, uint8_t type, uint32_t requested,
		    uint32_t server_id, uint8_t want, int64_t deadline, int stop_fd,
		    struct rk_dhcp_reply *reply)
{
	struct sockaddr_in bcast = { .sin_family = AF_INET,
				     .sin_port = htons(67),
				     .sin_addr.s_addr = INADDR_BROADCAST };
	uint8_t out[300];
	size_t len = rk_dhcp_build(out, sizeof(out), type, xid, mac, requested, server_id);
	int64_t resend = 0;

	for (;;) {
		int64_t now = now_ms(), wait;
		struct pollfd pfd[2] = { { .fd = sock, .events = POLLIN },
					 { .fd = stop_fd, .events = POLLIN } };
		int r;
		if (now >= deadline)
			return -ETIMEDOUT;
		if (now >= resend) {
			/* the socket came from the child, which can clear O_NONBLOCK on it:
			 * every call says MSG_DONTWAIT itself */
			if (sendto(sock, out, len, MSG_DONTWAIT, (struct sockaddr *)&bcast,
				   sizeof(bcast)) < 0 &&
			    errno != EAGAIN && errno != EINTR)
				return -errno;
			resend = now + 2000;
		}
		wait = (resend < deadline ? resend : deadline) - now;
		r = poll(pfd, stop_fd >= 0 ? 2 : 1, (int)wait);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (pfd[1].revents)
			return -ECANCELED;
		r = rk_dhcp_take_replies(sock, xid, mac, want, type == RK_DHCP_REQUEST, reply);
		if (r != 0)
			return r < 0 ? r : 0;
	}
}

int rk_dhcp_exchange(int sock, const char *dev, int timeout_ms, int stop_fd,
		     struct rk_dhcp_lease *lease, struct rk_error *err)
{
	struct ifreq ifr = { 0 };
	/* offer.type tells, on a timeout, which answer did not come */
	struct rk_dhcp_reply offer = { 0 }, ack = { 0 };
	int64_t deadline = now_ms() + timeout_ms;
	uint8_t mac[6];
	uint32_t xid;
	int r;

	/* the socket lives in the child's namespace: so does the interface this names */
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0)
		return rk_error_errno(err, errno, "could not exchange DHCP with %s", dev);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (getrandom(&xid, sizeof(xid), 0) != sizeof(xid))
		xid = (uint32_t)now_ms() ^ (uint32_t)getpid();
	r = transact(sock, mac, xid, RK_DHCP_DISCOVER, 0, 0, RK_DHCP_OFFER, deadline, stop_fd,
		     &offer);
	if (r == 0)
		r = transact(sock, mac, xid, RK_DHCP_REQUEST, offer.yiaddr, offer.server_id,
			     RK_DHCP_ACK, deadline, stop_fd, &ack);
	if (r == -EPROTO)
		return rk_error_set(err, EPROTO, "could not exchange DHCP with %s: got DHCPNAK",
				    dev);
	if (r == -ETIMEDOUT)
		return rk_error_set(err, ETIMEDOUT,
				    "could not exchange DHCP with %s: no %s within %d s", dev,
				    offer.type ? "DHCPACK" : "DHCPOFFER", timeout_ms / 1000);
	if (r < 0)
		return rk_error_errno(err, -r, "could not exchange DHCP with %s", dev);
	/* upstream's checks */
	if (ack.yiaddr == 0)
		return rk_error_set(err, EPROTO, "got zero YourIPAddr");
	if (ack.router == 0)
		return rk_error_set(err, EPROTO, "got no Router");
	if (ack.dns == 0)
		return rk_error_set(err, EPROTO, "got no DNS");
	*lease = (struct rk_dhcp_lease){
		.ip = ack.yiaddr,
		.router = ack.router,
		.dns = ack.dns,
		.server_id = ack.server_id,
		/* Go's SubnetMask() of an absent option is the zero mask */
		.prefix = mask_prefix(ack.netmask),
		/* upstream's default lease is an hour */
		.seconds = ack.lease ? ack.lease : 3600,
	};
	return 0;
}

struct rk_dhcp_keeper {
	pthread_t thread;
	int sock;
	int stop[2];
	char dev[IFNAMSIZ];
	struct rk_dhcp_lease lease;
	void (*on_lost)(void *arg);
	void *arg;
};

static void *keeper_main(void *arg)
{
	struct rk_dhcp_keeper *k = arg;
	int64_t expiry = now_ms() + (int64_t)k->lease.seconds * 1000;
	int64_t next = now_ms() + (int64_t)k->lease.seconds * 900;

	for (;;) {
		struct pollfd pfd = { .fd = k->stop[0], .events = POLLIN };
		struct rk_error err = { 0 };
		struct rk_dhcp_lease fresh;
		char want[INET_ADDRSTRLEN], got[INET_ADDRSTRLEN];
		int64_t wait = next - now_ms();
		int r;

		if (wait > 0) {
			r = poll(&pfd, 1, wait > INT32_MAX ? INT32_MAX : (int)wait);
			if (r > 0)
				return NULL;
			continue;
		}
		r = rk_dhcp_exchange(k->sock, k->dev, 30000, k->stop[0], &fresh, &err);
		if (r == -ECANCELED)
			return NULL;
		if (r < 0) {
			if (now_ms() + 30000 < expiry) {
				rk_warn("renewing the DHCP lease of %s: %s; trying again", k->dev,
					err.msg);
				next = now_ms() + 10000;
				continue;
			}
			rk_log(RK_LOG_ERROR, "the DHCP lease of %s ran out: %s", k->dev, err.msg);
			k->on_lost(k->arg);
			return NULL;
		}
		if (fresh.ip != k->lease.ip) {
			inet_ntop(AF_INET, &k->lease.ip, want, sizeof(want));
			inet_ntop(AF_INET, &fresh.ip, got, sizeof(got));
			rk_log(RK_LOG_ERROR,
			       "renewing the DHCP lease of %s: expected to retain %s, got %s",
			       k->dev, want, got);
			k->on_lost(k->arg);
			return NULL;
		}
		rk_debug("DHCP lease of %s renewed for %u s", k->dev, fresh.seconds);
		expiry = now_ms() + (int64_t)fresh.seconds * 1000;
		next = now_ms() + (int64_t)fresh.seconds * 900;
	}
}

struct rk_dhcp_keeper *rk_dhcp_keeper_start(int sock, const char *dev,
					    const struct rk_dhcp_lease *lease,
					    void (*on_lost)(void *arg), void *arg,
					    struct rk_error *err)
{
	struct rk_dhcp_keeper *k = rk_xcalloc(1, sizeof(*k));
	int r;

	k->sock = sock;
	k->lease = *lease;
	k->on_lost = on_lost;
	k->arg = arg;
	snprintf(k->dev, sizeof(k->dev), "%s", dev);
	if (pipe2(k->stop, O_CLOEXEC) < 0) {
		rk_error_errno(err, errno, "pipe");
		goto fail;
	}
	r = pthread_create(&k->thread, NULL, keeper_main, k);
	if (r != 0) {
		rk_error_errno(err, r, "starting the DHCP renewals");
		close(k->stop[0]);
		close(k->stop[1]);
		goto fail;
	}
	return k;
fail:
	close(sock);
	free(k);
	return NULL;
}

void rk_dhcp_keeper_stop(struct rk_dhcp_keeper *k)
{
	if (!k)
		return;
	close(k->stop[1]);
	pthread_join(k->thread, NULL);
	close(k->stop[0]);
	close(k->sock);
	free(k);
}
