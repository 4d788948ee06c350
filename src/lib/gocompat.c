/* SPDX-License-Identifier: Apache-2.0 */
#include "src/lib/gocompat.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "src/lib/util.h"

int rk_parse_go_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < RK_ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

int rk_parse_go_int(const char *s, long long *ret)
{
	bool neg = false, prefixed = false, any = false, range = false;
	unsigned long long v = 0, limit;
	unsigned base = 10;
	char prev;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		prefixed = true;
	} else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		base = 8;
		s += 2;
		prefixed = true;
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
		prefixed = true;
	} else if (s[0] == '0' && s[1] != '\0') {
		base = 8;
		s += 1;
		any = true; /* the leading 0 is a digit */
	}
	limit = neg ? (unsigned long long)1 << 63 : ((unsigned long long)1 << 63) - 1;
	/* an underscore must sit between digits (a base prefix counts as one on its left) */
	prev = prefixed || any ? '0' : '\0';
	for (; *s; s++) {
		int d;
		if (*s == '_') {
			if (prev == '_' || prev == '\0' || s[1] == '\0' || s[1] == '_')
				return -EINVAL;
			prev = '_';
			continue;
		}
		d = digit_value(*s);
		if ((unsigned)d >= base)
			return -EINVAL;
		if (v > (limit - (unsigned)d) / base)
			range = true;
		else
			v = v * base + (unsigned)d;
		any = true;
		prev = *s;
	}
	if (!any)
		return -EINVAL;
	if (range)
		return -ERANGE;
	*ret = neg ? (long long)(0 - v) : (long long)v;
	return 0;
}

/* Parses "a.b.c.d/n" into a network address and prefix length. */
int rk_parse_ipv4_cidr(const char *s, uint32_t *ret_addr, unsigned *ret_prefix)
{
	unsigned parts[4], prefix;
	const char *p = s;

	for (int k = 0; k < 4; k++) {
		unsigned v = 0;
		int digits = 0;
		while (*p >= '0' && *p <= '9') {
			/* Go's net.ParseIP rejects leading zeros ("010") */
			if (digits == 1 && v == 0)
				return -EINVAL;
			v = v * 10 + (unsigned)(*p++ - '0');
			if (++digits > 3 || v > 255)
				return -EINVAL;
		}
		if (digits == 0)
			return -EINVAL;
		parts[k] = v;
		if (*p++ != (k == 3 ? '/' : '.'))
			return -EINVAL;
	}
	prefix = 0;
	if (!(*p >= '0' && *p <= '9'))
		return -EINVAL;
	for (int digits = 0; *p; p++) {
		if (*p < '0' || *p > '9' || ++digits > 2)
			return -EINVAL;
		prefix = prefix * 10 + (unsigned)(*p - '0');
	}
	if (prefix > 32)
		return -EINVAL;
	*ret_addr = parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3];
	*ret_prefix = prefix;
	return 0;
}

int rk_go_atoi(const char *s, long long *ret, const char **ret_why)
{
	bool neg = false;
	unsigned long long v = 0;
	const char *p = s;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!*p) {
		*ret_why = "invalid syntax";
		return -EINVAL;
	}
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			*ret_why = "invalid syntax";
			return -EINVAL;
		}
		if (v > ((unsigned long long)LLONG_MAX + neg - (unsigned)(*p - '0')) / 10) {
			*ret_why = "value out of range";
			return -ERANGE;
		}
		v = v * 10 + (unsigned)(*p - '0');
	}
	*ret = neg ? (long long)(0 - v) : (long long)v;
	return 0;
}

void rk_format_argv(char *const *argv, char *buf, size_t size)
{
	size_t w = 0;

	w += (size_t)snprintf(buf, size, "[");
	for (size_t i = 0; argv[i] && w < size; i++)
		w += (size_t)snprintf(buf + w, size - w, "%s%s", i ? " " : "", argv[i]);
	if (w < size)
		snprintf(buf + w, size - w, "]");
}
