/* SPDX-License-Identifier: Apache-2.0 */
#include "port/spec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/lib/gocompat.h"
#include "src/lib/util.h"

static const char *const protos[] = { "tcp",  "tcp4", "tcp6",  "udp",  "udp4",
				      "udp6", "sctp", "sctp4", "sctp6" };

int rk_port_proto_valid(const char *proto)
{
	for (size_t i = 0; i < RK_ARRAY_SIZE(protos); i++)
		if (strcmp(proto, protos[i]) == 0)
			return 1;
	return 0;
}

/* Go's net.ParseIP: dotted IPv4 or IPv6 text, no zone, no brackets. */
static bool ip_valid(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Copies [b, e) to dst without surrounding whitespace (Go's scanner skips it). Returns
 * false when it does not fit. */
static bool copy_field(char *dst, size_t size, const char *b, const char *e)
{
	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if ((size_t)(e - b) >= size)
		return false;
	memcpy(dst, b, (size_t)(e - b));
	dst[e - b] = '\0';
	return true;
}

int rk_port_spec_parse(const char *s, struct rk_port_spec *ret, struct rk_error *err)
{
	const char *slash = strrchr(s, '/'), *colon, *p;
	char fields[3][RK_PORT_IP_MAX] = { "", "", "" };
	char child_port[RK_PORT_IP_MAX];
	const char *why;
	int n = 0;

	*ret = (struct rk_port_spec){ 0 };
	if (!slash)
		return rk_error_set(err, EINVAL, "missing proto in PortSpec string: \"%s\"", s);
	if (!rk_port_proto_valid(slash + 1))
		return rk_error_set(err, EINVAL,
				    "invalid PortSpec string: \"%s\": unknown proto: \"%s\"", s,
				    slash + 1);
	snprintf(ret->proto, sizeof(ret->proto), "%s", slash + 1);
	/* the child port sits between the last ':' and the '/' */
	colon = NULL;
	for (p = s; p < slash; p++)
		if (*p == ':')
			colon = p;
	if (!colon)
		return rk_error_set(err, EINVAL, "unexpected PortSpec string: \"%s\"", s);
	if (!copy_field(child_port, sizeof(child_port), colon + 1, slash))
		return rk_error_set(err, EINVAL, "unexpected ParentPort in PortSpec string: \"%s\"",
				    s);
	/* the rest: PARENTIP ':' PARENTPORT [':' CHILDIP], an address may be in brackets */
	for (p = s; p < colon;) {
		const char *end;
		if (n >= 3)
			return rk_error_set(err, EINVAL, "unexpected PortSpec string: \"%s\"", s);
		if (*p == '[') {
			const char *close = memchr(p, ']', (size_t)(colon - p));
			if (!close)
				close = colon;
			if (!copy_field(fields[n], sizeof(fields[n]), p + 1, close))
				return rk_error_set(err, EINVAL,
						    "unexpected PortSpec string: \"%s\"", s);
			end = close < colon ? close + 1 : colon;
			/* after the bracket only the ':' separator may follow */
			if (end < colon && *end != ':')
				return rk_error_set(err, EINVAL,
						    "unexpected PortSpec string: \"%s\"", s);
		} else {
			end = memchr(p, ':', (size_t)(colon - p));
			if (!end)
				end = colon;
			if (!copy_field(fields[n], sizeof(fields[n]), p, end))
				return rk_error_set(err, EINVAL,
						    "unexpected PortSpec string: \"%s\"", s);
		}
		n++;
		p = end < colon ? end + 1 : colon;
	}
	snprintf(ret->parent_ip, sizeof(ret->parent_ip), "%s", fields[0]);
	snprintf(ret->child_ip, sizeof(ret->child_ip), "%s", fields[2]);
	/* upstream's texts: a bad child IP also says ParentIP, and the port labels are swapped */
	if ((*ret->parent_ip && !ip_valid(ret->parent_ip)) ||
	    (*ret->child_ip && !ip_valid(ret->child_ip)))
		return rk_error_set(err, EINVAL, "unexpected ParentIP in PortSpec string: \"%s\"",
				    s);
	if (rk_go_atoi(fields[1], &ret->parent_port, &why) < 0)
		return rk_error_set(
			err, EINVAL,
			"unexpected ChildPort in PortSpec string: \"%s\": strconv.Atoi: "
			"parsing \"%s\": %s",
			s, fields[1], why);
	if (rk_go_atoi(child_port, &ret->child_port, &why) < 0)
		return rk_error_set(
			err, EINVAL,
			"unexpected ParentPort in PortSpec string: \"%s\": strconv.Atoi: "
			"parsing \"%s\": %s",
			s, child_port, why);
	return 0;
}

/* Go's %q of an int: the rune as a quoted character literal ('P', '\x00', '𑅰', '�'). */
static void go_quote_rune(long long v, char *buf, size_t size)
{
	static const char named[] = { 'a', 'b', 't', 'n', 'v', 'f', 'r' };

	if (v < 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
		snprintf(buf, size, "'\xef\xbf\xbd'"); /* U+FFFD */
	} else if (v >= 7 && v <= 13) {
		snprintf(buf, size, "'\\%c'", named[v - 7]);
	} else if (v == '\'' || v == '\\') {
		snprintf(buf, size, "'\\%c'", (char)v);
	} else if (v < 0x20 || v == 0x7f) {
		snprintf(buf, size, "'\\x%02llx'", v);
	} else if (v < 0x7f) {
		snprintf(buf, size, "'%c'", (char)v);
	} else if (v < 0xa0) {
		snprintf(buf, size, "'\\u%04llx'", v);
	} else if (v < 0x800) {
		snprintf(buf, size, "'%c%c'", (char)(0xc0 | (v >> 6)), (char)(0x80 | (v & 0x3f)));
	} else if (v < 0x10000) {
		snprintf(buf, size, "'%c%c%c'", (char)(0xe0 | (v >> 12)),
			 (char)(0x80 | ((v >> 6) & 0x3f)), (char)(0x80 | (v & 0x3f)));
	} else {
		snprintf(buf, size, "'%c%c%c%c'", (char)(0xf0 | (v >> 18)),
			 (char)(0x80 | ((v >> 12) & 0x3f)), (char)(0x80 | ((v >> 6) & 0x3f)),
			 (char)(0x80 | (v & 0x3f)));
	}
}

int rk_port_spec_validate(const struct rk_port_spec *spec, const struct rk_port_entry *existing,
			  size_t n_existing, struct rk_error *err)
{
	char q[16];

	if (!rk_port_proto_valid(spec->proto))
		return rk_error_set(err, EINVAL, "unknown proto: \"%s\"", spec->proto);
	if (*spec->parent_ip && !ip_valid(spec->parent_ip))
		return rk_error_set(err, EINVAL, "invalid ParentIP: \"%s\"", spec->parent_ip);
	if (*spec->child_ip && !ip_valid(spec->child_ip))
		return rk_error_set(err, EINVAL, "invalid ChildIP: \"%s\"", spec->child_ip);
	if (spec->parent_port <= 0 || spec->parent_port > 65535) {
		go_quote_rune(spec->parent_port, q, sizeof(q));
		return rk_error_set(err, EINVAL, "invalid ParentPort: %s", q);
	}
	if (spec->child_port <= 0 || spec->child_port > 65535) {
		go_quote_rune(spec->child_port, q, sizeof(q));
		return rk_error_set(err, EINVAL, "invalid ChildPort: %s", q);
	}
	for (size_t i = 0; i < n_existing; i++) {
		const struct rk_port_spec *o = &existing[i].spec;
		if (strcmp(o->proto, spec->proto) == 0 &&
		    strcmp(o->parent_ip, spec->parent_ip) == 0 &&
		    o->parent_port == spec->parent_port)
			return rk_error_set(err, EINVAL, "conflict with ID %d", existing[i].id);
	}
	return 0;
}
