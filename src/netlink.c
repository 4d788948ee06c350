/* SPDX-License-Identifier: Apache-2.0 */
#include "netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int rk_netlink_link_up(const char *ifname, struct rk_error *err)
{
	char buf[NL_BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	unsigned index = if_nametoindex(ifname);
	int r;

	if (!index)
		return rk_error_errno(err, errno, "ip link set %s up", ifname);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)index;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	r = request_ack(nlh);
	if (r < 0)
		return rk_error_errno(err, -r, "ip link set %s up", ifname);
	return 0;
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
