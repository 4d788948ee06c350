/* SPDX-License-Identifier: Apache-2.0 */
#include "src/lib/vnet.h"

#include <arpa/inet.h>
#include <errno.h>

#include "src/lib/gocompat.h"

/* Go's iputils.AddIPInt, in network byte order. */
static int add_ip(uint32_t base, unsigned n, uint32_t *ret, struct rk_error *err)
{
	if ((uint64_t)base + n > UINT32_MAX) {
		struct in_addr a = { .s_addr = htonl(base) };
		char text[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a, text, sizeof(text));
		return rk_error_set(err, EINVAL, "%s + %u overflows", text, n);
	}
	*ret = htonl(base + n);
	return 0;
}

int rk_vnet_layout(struct rk_vnet *v, const char *cidr, unsigned gateway, unsigned dns,
		   struct rk_error *err)
{
	uint32_t base = 0x0a000200; /* 10.0.2.0 */
	unsigned prefix = 24;
	int r;

	if (*cidr && rk_parse_ipv4_cidr(cidr, &base, &prefix) < 0)
		return rk_error_set(err, EINVAL, "invalid CIDR address: %s", cidr);
	if ((r = add_ip(base, 100, &v->child, err)) < 0 ||
	    (r = add_ip(base, gateway, &v->gateway, err)) < 0 ||
	    (r = add_ip(base, dns, &v->dns, err)) < 0)
		return r;
	v->prefix = prefix;
	v->mask = prefix ? htonl(0xffffffffu << (32 - prefix)) : 0;
	v->net = v->child & v->mask;
	return 0;
}

int rk_vnet_slirp(struct rk_vnet *v, const char *cidr, struct rk_error *err)
{
	return rk_vnet_layout(v, cidr, 2, 3, err);
}
