/* SPDX-License-Identifier: Apache-2.0 */
/* Go's rules, where clients see them: the values upstream parses with Go's strconv and net
 * packages, and the way Go prints what we print the same. */
#ifndef RK_GOCOMPAT_H
#define RK_GOCOMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses a Go strconv.ParseBool value. Returns 0 or -EINVAL. */
int rk_parse_go_bool(const char *s, bool *ret);

/* Parses a Go strconv.ParseInt(s, 0, 64) value (sign, 0x/0o/0b/0 prefixes, underscores).
 * Returns 0, -EINVAL (syntax) or -ERANGE. */
int rk_parse_go_int(const char *s, long long *ret);

/* Parses "A.B.C.D/N" as Go's net.ParseCIDR does for IPv4 (no leading zeros). The address
 * is in host byte order. Returns 0 or -EINVAL. */
int rk_parse_ipv4_cidr(const char *s, uint32_t *ret_addr, unsigned *ret_prefix);

/* Go's strconv.Atoi: optional sign, decimal digits, the whole string. Returns 0, or
 * -EINVAL / -ERANGE with Go's reason ("invalid syntax", "value out of range") in *ret_why. */
int rk_go_atoi(const char *s, long long *ret, const char **ret_why);

/* Formats argv the way Go prints a []string: "[a b c]". */
void rk_format_argv(char *const *argv, char *buf, size_t size);

#endif
