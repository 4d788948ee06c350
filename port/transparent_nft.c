/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The firewall half of source-IP transparency through nftables (see transparent.c): one
 * table of family inet, so IPv4 and IPv6 at once, made in one netlink batch with libnftnl:
 *
 *   table inet rootlesskit {
 *     chain output { type filter hook output priority mangle;
 *       meta l4proto tcp fib saddr type != local ct mark set MARK }
 *     chain prerouting { type filter hook prerouting priority mangle;
 *       meta l4proto tcp ct mark MARK meta mark set MARK }
 *   }
 *
 * which is what iptables' mangle rules say. No nft binary is run.
 */
#include "port/transparent.h"

/* before the kernel's headers, which define what it does otherwise */
#include <netinet/in.h>

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "src/lib/util.h"

#define TABLE	   "rootlesskit"
#define PRIO	   (-150) /* mangle */
#define TIMEOUT_MS 2000

/* A socket of NETLINK_NETFILTER, bound; NULL with errno set. */
static struct mnl_socket *open_nl(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);

	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(nl);
		errno = e;
		return NULL;
	}
	return nl;
}

/* Reads answers until the one to last (an acknowledgement, or a reply of type want, when
 * want is not 0), or the first error. Returns 0 or -errno. */
static int wait_answer(struct mnl_socket *nl, uint32_t last, uint16_t want)
{
	char buf[8192];
	uint64_t deadline = rk_now_ms() + TIMEOUT_MS;

	for (;;) {
		struct pollfd p = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		uint64_t now = rk_now_ms();
		ssize_t n;
		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0)
			return -ETIMEDOUT;
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return errno == EINTR ? 0 : -errno;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		     mnl_nlmsg_ok(h, (int)n); h = mnl_nlmsg_next(h, (int *)&n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
				if (e->error < 0)
					return e->error;
				if (h->nlmsg_seq == last)
					return 0;
			} else if (want && h->nlmsg_type == want && h->nlmsg_seq == last) {
				return 0;
			}
		}
	}
}

int rk_transparent_nft_probe(void)
{
	char buf[256];
	struct mnl_socket *nl = open_nl();
	uint32_t seq = (uint32_t)time(NULL);
	struct nlmsghdr *h;
	int r;

	if (!nl)
		return -errno;
	h = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, 0, seq);
	r = mnl_socket_sendto(nl, h, h->nlmsg_len) < 0
		    ? -errno
		    : wait_answer(nl, seq, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN);
	mnl_socket_close(nl);
	return r;
}

static void add_expr(struct nftnl_rule *r, const char *name, const uint16_t *keys,
		     const uint32_t *values, size_t n)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		rk_oom();
	for (size_t i = 0; i < n; i++)
		nftnl_expr_set_u32(e, keys[i], values[i]);
	nftnl_rule_add_expr(r, e);
}

/* cmp: register 1 OP value (size bytes of it, host order) */
static void add_cmp(struct nftnl_rule *r, enum nft_cmp_ops op, uint32_t value, size_t size)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");
	uint8_t byte = (uint8_t)value;

	if (!e)
		rk_oom();
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, size == 1 ? (const void *)&byte : &value,
		       (uint32_t)size);
	nftnl_rule_add_expr(r, e);
}

/* "meta l4proto tcp": the start of both rules */
static struct nftnl_rule *tcp_rule(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		rk_oom();
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	add_expr(r, "meta", (const uint16_t[]){ NFTNL_EXPR_META_KEY, NFTNL_EXPR_META_DREG },
		 (const uint32_t[]){ NFT_META_L4PROTO, NFT_REG_1 }, 2);
	add_cmp(r, NFT_CMP_EQ, IPPROTO_TCP, 1);
	return r;
}

static void put_chain(struct mnl_nlmsg_batch *b, uint32_t *seq, const char *name, uint32_t hook)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *h;

	if (!c)
		rk_oom();
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, PRIO);
	h = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWCHAIN, NFPROTO_INET,
				  NLM_F_CREATE, (*seq)++);
	nftnl_chain_nlmsg_build_payload(h, c);
	nftnl_chain_free(c);
	mnl_nlmsg_batch_next(b);
}

static void put_rule(struct mnl_nlmsg_batch *b, uint32_t *seq, struct nftnl_rule *r, bool ack)
{
	struct nlmsghdr *h = nftnl_nlmsg_build_hdr(
		mnl_nlmsg_batch_current(b), NFT_MSG_NEWRULE, NFPROTO_INET,
		NLM_F_CREATE | NLM_F_APPEND | (ack ? NLM_F_ACK : 0), (*seq)++);

	nftnl_rule_nlmsg_build_payload(h, r);
	nftnl_rule_free(r);
	mnl_nlmsg_batch_next(b);
}

int rk_transparent_nft_rules(uint32_t mark)
{
	static char buf[8192];
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, sizeof(buf));
	struct nftnl_table *t = nftnl_table_alloc();
	uint32_t seq = (uint32_t)time(NULL), last;
	struct nftnl_rule *r;
	struct nlmsghdr *h;
	struct mnl_socket *nl;
	int ret;

	if (!b || !t)
		rk_oom();
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE);
	h = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWTABLE, NFPROTO_INET,
				  NLM_F_CREATE, seq++);
	nftnl_table_nlmsg_build_payload(h, t);
	nftnl_table_free(t);
	mnl_nlmsg_batch_next(b);
	put_chain(b, &seq, "output", NF_INET_LOCAL_OUT);
	put_chain(b, &seq, "prerouting", NF_INET_PRE_ROUTING);

	/* output: a TCP packet whose source is not an address of ours marks its connection */
	r = tcp_rule("output");
	add_expr(r, "fib",
		 (const uint16_t[]){ NFTNL_EXPR_FIB_RESULT, NFTNL_EXPR_FIB_FLAGS,
				     NFTNL_EXPR_FIB_DREG },
		 (const uint32_t[]){ NFT_FIB_RESULT_ADDRTYPE, NFTA_FIB_F_SADDR, NFT_REG_1 }, 3);
	add_cmp(r, NFT_CMP_NEQ, RTN_LOCAL, 4);
	add_expr(r, "immediate", (const uint16_t[]){ NFTNL_EXPR_IMM_DREG, NFTNL_EXPR_IMM_DATA },
		 (const uint32_t[]){ NFT_REG_1, mark }, 2);
	add_expr(r, "ct", (const uint16_t[]){ NFTNL_EXPR_CT_KEY, NFTNL_EXPR_CT_SREG },
		 (const uint32_t[]){ NFT_CT_MARK, NFT_REG_1 }, 2);
	put_rule(b, &seq, r, false);

	/* prerouting: a packet of a marked connection carries the mark, for the routing */
	r = tcp_rule("prerouting");
	add_expr(r, "ct", (const uint16_t[]){ NFTNL_EXPR_CT_KEY, NFTNL_EXPR_CT_DREG },
		 (const uint32_t[]){ NFT_CT_MARK, NFT_REG_1 }, 2);
	add_cmp(r, NFT_CMP_EQ, mark, 4);
	add_expr(r, "immediate", (const uint16_t[]){ NFTNL_EXPR_IMM_DREG, NFTNL_EXPR_IMM_DATA },
		 (const uint32_t[]){ NFT_REG_1, mark }, 2);
	add_expr(r, "meta", (const uint16_t[]){ NFTNL_EXPR_META_KEY, NFTNL_EXPR_META_SREG },
		 (const uint32_t[]){ NFT_META_MARK, NFT_REG_1 }, 2);
	last = seq;
	put_rule(b, &seq, r, true);
	nftnl_batch_end(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);

	nl = open_nl();
	if (!nl)
		return -errno;
	ret = mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0
		      ? -errno
		      : wait_answer(nl, last, 0);
	mnl_socket_close(nl);
	mnl_nlmsg_batch_stop(b);
	return ret;
}
