/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --net=vpnkit
 *
 * The parent starts VPNKit on an Ethernet socket in the state directory, connects to it,
 * registers a VIF (a virtual NIC) with a random UUID and asks, with a DHCPDISCOVER from
 * the VIF's MAC, which address VPNKit gave it. The child's tap device gets that MAC and
 * address (192.168.65.x/24, gateway and DNS 192.168.65.1) and the child hands an open
 * descriptor of the tap to the parent, whose relay thread copies frames between the tap
 * and the VIF (the vmnet protocol, vmnet.c). No process of ours stays in the child's
 * namespace for it. VPNKit dies with us (parent-death signal).
 *
 * Debian has no VPNKit: this is written against VPNKit's protocol and tested with the
 * tests' own stand-in (tests/integration/tools/fakevpnkit.py), not a real VPNKit.
 */
#include "src/net/vpnkit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "src/lib/helper.h"
#include "src/lib/log.h"
#include "src/lib/sig.h"
#include "src/lib/util.h"
#include "src/net/vmnet.h"

#define VPNKIT_GATEWAY	   "192.168.65.1"
#define CONNECT_TIMEOUT_MS 10000

/* Finds the binary and warns about an MTU other than 1500, as upstream does. */
static int vpnkit_prepare(void *drv, const struct rk_net_config *net, struct rk_error *err)
{
	struct rk_vpnkit *v = drv;

	*v = (struct rk_vpnkit){
		.helper = { .net = net, .pid = -1 }, .sock = -1, .tap = -1, .stop = { -1, -1 }
	};
	v->path = rk_find_in_path(net->binary, getenv("PATH"));
	if (!v->path)
		return rk_error_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH",
				    net->binary);
	if (net->mtu != 0 && net->mtu != 1500)
		rk_warn("vpnkit is known to have issues with non-1500 MTU (current: %u), see "
			"https://github.com/rootless-containers/rootlesskit/issues/"
			"6#issuecomment-403531453",
			net->mtu);
	return 0;
}

char **rk_vpnkit_argv(const char *path, const char *socket, unsigned mtu,
		      bool disable_host_loopback)
{
	char **argv = NULL, num[16];
	size_t n = 0;

	snprintf(num, sizeof(num), "%u", mtu);
	rk_strv_push(&argv, &n, path);
	rk_strv_push(&argv, &n, "--ethernet");
	rk_strv_push(&argv, &n, socket);
	rk_strv_push(&argv, &n, "--mtu");
	rk_strv_push(&argv, &n, num);
	if (disable_host_loopback) {
		rk_strv_push(&argv, &n, "--host-ip");
		rk_strv_push(&argv, &n, "0.0.0.0");
	}
	return argv;
}

static int64_t now_ms(void)
{
	return (int64_t)rk_now_ms();
}

/* Reads exactly len bytes before the deadline. Returns 0, -EINTR (cancelled),
 * -ETIMEDOUT, -ECONNRESET at EOF, or -errno. */
static int read_full(int fd, void *buf, size_t len, int64_t deadline,
		     const struct rk_cancel *cancel)
{
	size_t got = 0;

	while (got < len) {
		int r;
		ssize_t n;
		/* also while bytes keep coming: a peer that never stops is no answer */
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		r = rk_wait_fd(fd, POLLIN, (uint64_t)deadline, cancel);
		if (r < 0)
			return r;
		if (r == 0)
			return -ETIMEDOUT;
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

/* Connects to VPNKit's socket, retrying until it listens, and exchanges greetings. */
static int connect_vmnet(struct rk_vpnkit *v, const char *path, int64_t deadline,
			 const struct rk_cancel *cancel, struct rk_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uint8_t hello[RK_VMNET_HELLO_LEN];
	char last[160] = "";
	int r;

	if (strlen(path) >= sizeof(sun.sun_path))
		return rk_error_set(err, ENAMETOOLONG, "connecting to %s: path too long", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	for (unsigned tries = 0;; tries++) {
		int status;
		v->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (v->sock < 0)
			return rk_error_errno(err, errno, "socket");
		if (connect(v->sock, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			break;
		{
			char reason[96];
			rk_go_strerror(errno, reason, sizeof(reason));
			snprintf(last, sizeof(last), "dial unix %s: connect: %s", path, reason);
		}
		close(v->sock);
		v->sock = -1;
		if (waitpid(v->helper.pid, &status, WNOHANG) == v->helper.pid) {
			char text[64];
			v->helper.pid = -1;
			rk_sig_format_status(status, text, sizeof(text));
			return rk_error_set(err, ECHILD, "connecting to %s: vpnkit exited: %s",
					    path, text);
		}
		if (now_ms() >= deadline)
			return rk_error_set(err, ETIMEDOUT,
					    "connecting to %s: last error: %s: context deadline "
					    "exceeded",
					    path, last);
		/* 10 ms, then more: VPNKit takes a moment to listen */
		r = rk_wait_fd(-1, 0, rk_now_ms() + (tries < 100 ? 10 : 50), cancel);
		if (r == -EINTR)
			return r;
	}
	rk_vmnet_hello(hello);
	if (rk_write_all(v->sock, hello, sizeof(hello)) < 0)
		return rk_error_errno(err, errno, "connecting to %s: sending the greeting", path);
	r = read_full(v->sock, hello, sizeof(hello), deadline, cancel);
	if (r == 0 && rk_vmnet_check_hello(hello) < 0)
		r = -EPROTO;
	if (r == -EINTR)
		return r;
	if (r < 0)
		return rk_error_errno(err, -r, "connecting to %s: reading VPNKit's greeting", path);
	return 0;
}

/* Registers the VIF and learns its MAC and address. */
static int connect_vif(struct rk_vpnkit *v, const char *path, int64_t deadline,
		       const struct rk_cancel *cancel, struct rk_netcfg *cfg, struct rk_error *err)
{
	uint8_t req[RK_VMNET_VIF_REQUEST_LEN], body[RK_VMNET_VIF_LEN], type;
	uint8_t frame[1024];
	struct rk_vmnet_vif vif;
	struct rk_vmnet_reader *rd;
	char uuid[37];
	uint32_t xid, ip = 0;
	size_t len;
	int64_t resend = 0;
	int r;

	rk_vmnet_uuid(uuid);
	rk_debug("connecting to VPNKit vmnet at %s as %s", path, uuid);
	rk_vmnet_vif_request(req, uuid);
	if (rk_write_all(v->sock, req, sizeof(req)) < 0)
		return rk_error_errno(err, errno, "connecting to %s with uuid %s", path, uuid);
	r = read_full(v->sock, &type, 1, deadline, cancel);
	if (r == 0 && type != 1) {
		uint8_t n;
		char msg[256] = "";
		r = read_full(v->sock, &n, 1, deadline, cancel);
		if (r == 0)
			r = read_full(v->sock, msg, n, deadline, cancel);
		if (r == 0)
			return rk_error_set(err, EPROTO, "connecting to %s with uuid %s: %s", path,
					    uuid, msg);
	}
	if (r == 0)
		r = read_full(v->sock, body, sizeof(body), deadline, cancel);
	if (r == -EINTR)
		return r;
	if (r < 0)
		return rk_error_errno(err, -r, "connecting to %s with uuid %s", path, uuid);
	rk_vmnet_parse_vif(body, &vif);

	/* which address: DHCP, resent every second until an offer comes */
	memcpy(&xid, uuid, sizeof(xid));
	rd = rk_xcalloc(1, sizeof(*rd));
	while (!ip) {
		const uint8_t *got;
		size_t space, n;
		uint8_t *at;
		if (now_ms() >= deadline) { /* frames that keep coming, none an offer */
			r = -ETIMEDOUT;
			break;
		}
		if (now_ms() >= resend) {
			len = rk_vmnet_dhcp_discover(frame + 2, sizeof(frame) - 2, vif.mac, xid);
			frame[0] = (uint8_t)len;
			frame[1] = (uint8_t)(len >> 8);
			if (rk_write_all(v->sock, frame, len + 2) < 0) {
				r = -errno;
				break;
			}
			resend = now_ms() + 1000;
		}
		at = rk_vmnet_reader_space(rd, &space);
		r = read_full(v->sock, at, space, resend < deadline ? resend : deadline, cancel);
		if (r == -ETIMEDOUT && now_ms() < deadline)
			continue;
		if (r < 0)
			break;
		n = rk_vmnet_reader_commit(rd, space, &got);
		if (n)
			rk_vmnet_dhcp_offer(got, n, vif.mac, xid, &ip);
	}
	free(rd);
	if (r == -EINTR)
		return r;
	if (!ip)
		return rk_error_errno(
			err, -r, "connecting to %s with uuid %s: learning the address", path, uuid);
	inet_ntop(AF_INET, &ip, cfg->ip, sizeof(cfg->ip));
	snprintf(cfg->mac, sizeof(cfg->mac), "%02x:%02x:%02x:%02x:%02x:%02x", vif.mac[0],
		 vif.mac[1], vif.mac[2], vif.mac[3], vif.mac[4], vif.mac[5]);
	rk_debug("connected to VPNKit vmnet: %s, %s", cfg->ip, cfg->mac);
	return 0;
}

/* Starts vpnkit with its Ethernet socket in state_dir, connects within 10 s, registers a
 * VIF with a random UUID and learns its MAC and address. Fills cfg (dev, 192.168.65.x/24,
 * gateway and DNS 192.168.65.1, MTU, MAC). Returns 0, -EINTR when cancelled, or a negative
 * errno with err set. */
static int start_helper(struct rk_vpnkit *v, const struct rk_net_config *net, const char *state_dir,
			const char *dev, unsigned mtu, const struct rk_cancel *cancel,
			struct rk_netcfg *cfg, struct rk_error *err)
{
	rk_auto_free char *path = rk_xasprintf("%s/vpnkit-ethernet.sock", state_dir);
	rk_auto_strv char **argv = rk_vpnkit_argv(v->path, path, mtu, net->disable_host_loopback);
	int64_t deadline = now_ms() + CONNECT_TIMEOUT_MS;
	char ifname[sizeof(cfg->dev)];
	int r;

	snprintf(ifname, sizeof(ifname), "%s", dev); /* dev may be cfg's own */
	*cfg = (struct rk_netcfg){ .step = RK_NETCFG_FULL,
				   .tap_fd = RK_NETCFG_TAP_PLAIN,
				   .prefix = 24,
				   .mtu = mtu,
				   .n_dns = 1 };
	memcpy(cfg->dev, ifname, sizeof(ifname));
	snprintf(cfg->gateway, sizeof(cfg->gateway), VPNKIT_GATEWAY);
	snprintf(cfg->dns[0], sizeof(cfg->dns[0]), VPNKIT_GATEWAY);
	v->helper.pid = rk_helper_spawn(v->path, argv, -1, net->debug);
	if (v->helper.pid < 0) {
		r = (int)v->helper.pid;
		v->helper.pid = -1;
		return rk_error_errno(err, -r, "executing %s", v->path);
	}
	rk_debug("started vpnkit, pid %d", (int)v->helper.pid);
	r = connect_vmnet(v, path, deadline, cancel, err);
	if (r == 0)
		r = connect_vif(v, path, deadline + CONNECT_TIMEOUT_MS, cancel, cfg, err);
	return r;
}

int rk_vpnkit_copy(int tap, int sock, int stop_fd)
{
	struct rk_vmnet_reader *rd = rk_xcalloc(1, sizeof(*rd));
	uint8_t *frame = rk_xmalloc(RK_VMNET_FRAME_MAX);
	int r = 0;

	for (;;) {
		struct pollfd pfd[3] = { { .fd = tap, .events = POLLIN },
					 { .fd = sock, .events = POLLIN },
					 { .fd = stop_fd, .events = POLLIN } };
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (pfd[2].revents)
			break;
		if (pfd[0].revents) {
			ssize_t n = read(tap, frame, RK_VMNET_FRAME_MAX);
			if (n > 0) {
				uint8_t hdr[2] = { (uint8_t)n, (uint8_t)(n >> 8) };
				struct iovec iov[2] = { { hdr, 2 }, { frame, (size_t)n } };
				ssize_t w;
				do
					w = writev(sock, iov, 2);
				while (w < 0 && errno == EINTR);
				/* a short write on a blocking stream only happens at a signal;
				 * finish the frame */
				if (w >= 0 && w < n + 2) {
					size_t done = (size_t)w;
					if (done < 2) {
						if (rk_write_all(sock, hdr + done, 2 - done) < 0)
							w = -1;
						done = 2;
					}
					if (w >= 0 && rk_write_all(sock, frame + done - 2,
								   (size_t)n + 2 - done) < 0)
						w = -1;
				}
				if (w < 0) {
					r = errno == EPIPE ? 0 : -errno;
					break;
				}
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				r = n == 0 ? 0 : -errno;
				break;
			}
		}
		if (pfd[1].revents) {
			const uint8_t *got;
			size_t space, len;
			uint8_t *at = rk_vmnet_reader_space(rd, &space);
			ssize_t n = read(sock, at, space);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				r = n == 0 ? 0 : -errno;
				break;
			}
			len = n > 0 ? rk_vmnet_reader_commit(rd, (size_t)n, &got) : 0;
			/* a full tap queue drops the frame, as a wire would */
			if (len && write(tap, got, len) < 0 && errno != EAGAIN && errno != EINTR &&
			    errno != ENOBUFS) {
				r = -errno;
				break;
			}
		}
	}
	free(frame);
	free(rd);
	return r;
}

static void *relay_main(void *arg)
{
	struct rk_vpnkit *v = arg;
	int r = rk_vpnkit_copy(v->tap, v->sock, v->stop[0]);
	struct pollfd pfd = { .fd = v->stop[0], .events = POLLIN };

	/* unless we are stopping it, the relay ending leaves the child without a network */
	if (poll(&pfd, 1, 0) == 0)
		rk_warn("vpnkit connection ended%s%s; the child has no network connectivity now",
			r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
	return NULL;
}

/* Copies frames between tap (the child's tap device, taken) and the VIF on a thread. */
static int vpnkit_take_tap(void *drv, int tap, struct rk_error *err)
{
	struct rk_vpnkit *v = drv;
	int r;

	v->tap = tap;
	if (pipe2(v->stop, O_CLOEXEC) < 0)
		return rk_error_errno(err, errno, "pipe");
	r = pthread_create(&v->relay, NULL, relay_main, v);
	if (r != 0)
		return rk_error_errno(err, r, "starting the vpnkit relay");
	v->relaying = true;
	return 0;
}

/* ---- the driver (driver.h) ---- */

/* vpnkit learns the addresses: they come from the VIF it registers */
static int vpnkit_start(void *drv, struct rk_net_ctx *ctx, struct rk_error *err)
{
	struct rk_vpnkit *v = drv;

	return start_helper(v, v->helper.net, ctx->state_dir, ctx->nc->dev, ctx->nc->mtu,
			    ctx->cancel, ctx->nc, err);
}

/* The relay first (vpnkit's end is no news then), then vpnkit. */
static void vpnkit_stop(void *drv, bool drain)
{
	struct rk_vpnkit *v = drv;

	if (v->relaying) {
		close(rk_steal_fd(&v->stop[1]));
		/* a relay blocked writing to a VPNKit that stopped reading wakes up too */
		shutdown(v->sock, SHUT_RDWR);
		pthread_join(v->relay, NULL);
		v->relaying = false;
	}
	for (int *fd = &v->stop[0]; fd <= &v->stop[1]; fd++)
		if (*fd >= 0)
			close(rk_steal_fd(fd));
	if (v->sock >= 0)
		close(rk_steal_fd(&v->sock));
	if (v->tap >= 0)
		close(rk_steal_fd(&v->tap));
	rk_net_helper_stop(drv, drain);
}

static void vpnkit_free(void *drv)
{
	free(((struct rk_vpnkit *)drv)->path);
}

const struct rk_net_ops rk_net_vpnkit_ops = {
	.net = RK_NET_VPNKIT,
	.new_netns = true,
	.tap = true,
	.configure = true,
	.tap_fd = RK_NETCFG_TAP_PLAIN,
	.default_mtu = 1500,
	.default_ifname = "tap0",
	.size = sizeof(struct rk_vpnkit),
	.prepare = vpnkit_prepare,
	.start = vpnkit_start,
	.take_tap = vpnkit_take_tap,
	.check = rk_net_helper_check,
	.stop = vpnkit_stop,
	.free = vpnkit_free,
};
