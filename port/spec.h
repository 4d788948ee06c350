/* SPDX-License-Identifier: Apache-2.0 */
/* Port specs: "[PARENTIP]:PARENTPORT[:CHILDIP]:CHILDPORT/PROTO", one parser and validator
 * for -p, the REST API and rootlessctl, with upstream's grammar and messages. */
#ifndef RK_PORT_SPEC_H
#define RK_PORT_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "src/lib/error.h"

/* Long enough for any IPv6 text address plus a bit: longer input is not an address. */
#define RK_PORT_IP_MAX 64

/* One published port. IPs are kept as given ("" = all addresses), so that a spec is echoed
 * back exactly as it was posted. */
struct rk_port_spec {
	char proto[8]; /* tcp, tcp4, tcp6, udp, udp4, udp6, sctp, sctp4, sctp6 */
	char parent_ip[RK_PORT_IP_MAX];
	long long parent_port;
	char child_ip[RK_PORT_IP_MAX];
	long long child_port;
};

/* An existing port, for the conflict check. */
struct rk_port_entry {
	int id;
	struct rk_port_spec spec;
};

/* True when proto is one of the nine upstream protocols (case-sensitive). */
int rk_port_proto_valid(const char *proto);

/* Parses a spec string. Returns 0 or -EINVAL with err set to upstream's message. */
int rk_port_spec_parse(const char *s, struct rk_port_spec *ret, struct rk_error *err);

/* Validates a spec: protocol, addresses, ports 1..65535, and no existing port with the same
 * protocol, parent IP and parent port (compared as strings, as upstream does).
 * Returns 0 or -EINVAL with err set to upstream's message. */
int rk_port_spec_validate(const struct rk_port_spec *spec, const struct rk_port_entry *existing,
			  size_t n_existing, struct rk_error *err);

#endif
