/* SPDX-License-Identifier: Apache-2.0 */
#include "src/lib/netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/lib/log.h"

/* Sends one request that wants an acknowledgement and waits for it. Returns 0 or -errno. */
/* libmnl's MNL_SOCKET_BUFFER_SIZE depends on the page size, which makes a VLA */
#define NL_BUF_SIZE 8192

static int request_ack(struct nlmsghdr *nlh)
{
	char buf[NL_BUF_SIZE];
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	unsigned portid;
	int r;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (unsigned)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	do {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			r = -errno;
			goto out;
		}
		/* the ack is an NLMSG_ERROR with error 0; libmnl turns a failure into -1/errno */
		r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL);
	} while (r > 0);
	r = r < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return r;
}

/* RTM_NEWLINK on ifname: the MAC (mac != NULL), or the MTU (mtu != 0), or up. what names
 * the step in errors. */
static int link_change(const char *ifname, unsigned mtu, const unsigned char *mac, const char *what,
		       struct rk_error *err)
{
	char buf[NL_BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	unsigned index = if_nametoindex(ifname);
	int r;

	if (!index)
		return rk_error_errno(err, errno, "%s", what);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)index;
	if (mac) {
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	} else if (mtu) {
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	} else {
		ifm->ifi_flags = IFF_UP;
		ifm->ifi_change = IFF_UP;
	}
	r = request_ack(nlh);
	if (r < 0)
		return rk_error_errno(err, -r, "%s", what);
	return 0;
}

int rk_netlink_link_up(const char *ifname, struct rk_error *err)
{
	char what[64];

	snprintf(what, sizeof(what), "ip link set %s up", ifname);
	return link_change(ifname, 0, NULL, what, err);
}

int rk_netlink_local_default_route(int family, unsigned table, const char *ifname,
				   struct rk_error *err)
{
	char buf[NL_BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned index = if_nametoindex(ifname);
	struct rtmsg *rtm;
	int r;

	if (!index)
		return rk_error_errno(err, errno, "ip route add local default dev %s", ifname);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_table = RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_HOST;
	rtm->rtm_type = RTN_LOCAL;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put_u32(nlh, RTA_OIF, index);
	r = request_ack(nlh);
	if (r < 0 && r != -EEXIST)
		return rk_error_errno(err, -r, "ip%s route add local default dev %s table %u",
				      family == AF_INET6 ? " -6" : "", ifname, table);
	return 0;
}

int rk_netlink_fwmark_rule(int family, unsigned mark, unsigned table, unsigned priority,
			   struct rk_error *err)
{
	char buf[NL_BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *frh;
	int r;

	nlh->nlmsg_type = RTM_NEWRULE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (unsigned char)family;
	frh->action = FR_ACT_TO_TBL;
	frh->table = RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, priority);
	r = request_ack(nlh);
	if (r < 0 && r != -EEXIST)
		return rk_error_errno(err, -r, "ip%s rule add fwmark %u lookup %u priority %u",
				      family == AF_INET6 ? " -6" : "", mark, table, priority);
	return 0;
}

int rk_netlink_set_mtu(const char *ifname, unsigned mtu, struct rk_error *err)
{
	char what[64];

	snprintf(what, sizeof(what), "ip link set dev %s mtu %u", ifname, mtu);
	return mtu ? link_change(ifname, mtu, NULL, what, err)
		   : rk_error_set(err, EINVAL, "%s", what);
}

int rk_netlink_set_mac(const char *ifname, const char *mac, struct rk_error *err)
{
	unsigned char bytes[6];
	char what[80];

	snprintf(what, sizeof(what), "ip link set %s address %s", ifname, mac);
	if (rk_parse_mac(mac, bytes) < 0)
		return rk_error_set(err, EINVAL, "%s: invalid MAC address", what);
	return link_change(ifname, 0, bytes, what, err);
}

int rk_parse_mac(const char *text, unsigned char mac[6])
{
	unsigned v[6];
	char end;

	if (strlen(text) != 17 || sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2],
					 &v[3], &v[4], &v[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)v[i];
	return 0;
}

int rk_netlink_addr_add(const char *ifname, const char *ip, unsigned prefix, struct rk_error *err)
{
	char buf[NL_BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	unsigned index = if_nametoindex(ifname);
	unsigned char a[16];
	bool v6 = strchr(ip, ':') != NULL;
	int r;

	if (!index || inet_pton(v6 ? AF_INET6 : AF_INET, ip, a) != 1 || prefix > (v6 ? 128 : 32))
		return rk_error_errno(err, index ? EINVAL : errno, "ip addr add %s/%u dev %s", ip,
				      prefix, ifname);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = v6 ? AF_INET6 : AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = index;
	/* an IPv6 address we choose is usable at once: no duplicate detection */
	ifa->ifa_flags = v6 ? IFA_F_NODAD : 0;
	if (!v6)
		mnl_attr_put(nlh, IFA_LOCAL, 4, a);
	mnl_attr_put(nlh, IFA_ADDRESS, v6 ? 16 : 4, a);
	r = request_ack(nlh);
	if (r < 0)
		return rk_error_errno(err, -r, "ip addr add %s/%u dev %s", ip, prefix, ifname);
	return 0;
}

int rk_netlink_route_default(const char *ifname, const char *gateway, struct rk_error *err)
{
	char buf[NL_BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned index = if_nametoindex(ifname);
	struct rtmsg *rtm;
	struct in_addr gw;
	int r;

	if (!index || inet_pton(AF_INET, gateway, &gw) != 1)
		return rk_error_errno(err, index ? EINVAL : errno,
				      "ip route add default via %s dev %s", gateway, ifname);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gw), &gw);
	mnl_attr_put_u32(nlh, RTA_OIF, index);
	r = request_ack(nlh);
	if (r < 0)
		return rk_error_errno(err, -r, "ip route add default via %s dev %s", gateway,
				      ifname);
	return 0;
}

int rk_tap_create(const char *ifname, struct rk_error *err)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), r = 0;

	if (fd < 0)
		return rk_error_errno(err, errno,
				      "ip tuntap add name %s mode tap: open /dev/net/tun", ifname);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	/* persistent, so that the device outlives this fd until the network driver opens it */
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0)
		r = rk_error_errno(err, errno, "ip tuntap add name %s mode tap", ifname);
	close(fd);
	return r;
}

int rk_tap_open(const char *ifname, bool vnet_hdr, struct rk_error *err)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return rk_error_errno(err, errno, "opening tap %s: open /dev/net/tun", ifname);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return rk_error_errno(err, e, "opening tap %s", ifname);
	}
	/* the child's TCP may then hand over 64 KiB segments with their checksums left to us
	 * (which the engine never needs for its own connections); without, frames stay
	 * MTU-sized and checksummed, and the engine copes with both */
	if (vnet_hdr && ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0)
		rk_debug("TUNSETOFFLOAD on %s: %s", ifname, strerror(errno));
	/* frames written into the child wait in the tap's send buffer until its stack takes
	 * them; the default (wmem_default) holds three 64 KiB frames, and a full buffer drops
	 * the next with EAGAIN */
	{
		int sndbuf = INT_MAX;
		if (ioctl(fd, TUNSETSNDBUF, &sndbuf) < 0)
			rk_debug("TUNSETSNDBUF on %s: %s", ifname, strerror(errno));
	}
	return fd;
}
