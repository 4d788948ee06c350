/* SPDX-License-Identifier: Apache-2.0 */
/* The port-spec grammar and validation: upstream's valid and invalid forms, its messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "port/spec.h"
#include "src/lib/util.h"

struct valid_case {
	const char *in;
	const char *proto, *parent_ip, *child_ip;
	long long parent_port, child_port;
};

static void test_valid(void **state)
{
	static const struct valid_case cases[] = {
		{ "127.0.0.1:8080:80/tcp", "tcp", "127.0.0.1", "", 8080, 80 },
		{ "127.0.0.1:8080:80/tcp4", "tcp4", "127.0.0.1", "", 8080, 80 },
		{ "127.0.0.1:8080:10.0.2.100:80/tcp", "tcp", "127.0.0.1", "10.0.2.100", 8080, 80 },
		{ "[::1]:8080:80/tcp", "tcp", "::1", "", 8080, 80 },
		{ "[::1]:8080:[::2]:80/udp", "udp", "::1", "::2", 8080, 80 },
		{ "[::]:8080:[127.0.0.1]:80/tcp6", "tcp6", "::", "127.0.0.1", 8080, 80 },
		{ "0.0.0.0:8080:[::1]:80/tcp4", "tcp4", "0.0.0.0", "::1", 8080, 80 },
		{ "[127.0.0.1]:8080:80/sctp", "sctp", "127.0.0.1", "", 8080, 80 },
		{ ":8080:80/tcp", "tcp", "", "", 8080, 80 },
		{ ":65535:1/udp6", "udp6", "", "", 65535, 1 },
		{ "[fe80::1]:1:2/tcp", "tcp", "fe80::1", "", 1, 2 },
	};

	(void)state;
	for (size_t i = 0; i < RK_ARRAY_SIZE(cases); i++) {
		const struct valid_case *c = &cases[i];
		struct rk_port_spec s;
		struct rk_error err = { 0 };
		if (rk_port_spec_parse(c->in, &s, &err) < 0)
			fail_msg("%s: %s", c->in, err.msg);
		assert_string_equal(s.proto, c->proto);
		assert_string_equal(s.parent_ip, c->parent_ip);
		assert_string_equal(s.child_ip, c->child_ip);
		assert_int_equal(s.parent_port, c->parent_port);
		assert_int_equal(s.child_port, c->child_port);
		if (rk_port_spec_validate(&s, NULL, 0, &err) < 0)
			fail_msg("%s: %s", c->in, err.msg);
	}
}

static void test_invalid(void **state)
{
	static const char *const cases[][2] = {
		{ "bad", "missing proto in PortSpec string: \"bad\"" },
		{ "8080", "missing proto in PortSpec string: \"8080\"" },
		{ "8080:80/tcp", "unexpected ParentIP in PortSpec string: \"8080:80/tcp\"" },
		{ "localhost:8080:80/tcp",
		  "unexpected ParentIP in PortSpec string: \"localhost:8080:80/tcp\"" },
		{ "127.0.0.1:8080:bogus:80/tcp",
		  "unexpected ParentIP in PortSpec string: \"127.0.0.1:8080:bogus:80/tcp\"" },
		{ "127.0.0.1:8080:80/TCP",
		  "invalid PortSpec string: \"127.0.0.1:8080:80/TCP\": unknown proto: \"TCP\"" },
		{ "127.0.0.1:8080:80/",
		  "invalid PortSpec string: \"127.0.0.1:8080:80/\": unknown proto: \"\"" },
		{ "80/tcp", "unexpected PortSpec string: \"80/tcp\"" },
		{ "1.1.1.1:80:2.2.2.2:90:100/tcp",
		  "unexpected PortSpec string: \"1.1.1.1:80:2.2.2.2:90:100/tcp\"" },
		{ "127.0.0.1:abc:80/tcp",
		  "unexpected ChildPort in PortSpec string: "
		  "\"127.0.0.1:abc:80/tcp\": strconv.Atoi: parsing \"abc\": "
		  "invalid syntax" },
		{ "127.0.0.1:8080:x/tcp", "unexpected ParentPort in PortSpec string: "
					  "\"127.0.0.1:8080:x/tcp\": strconv.Atoi: parsing \"x\": "
					  "invalid syntax" },
		{ "127.0.0.1::80/tcp",
		  "unexpected ChildPort in PortSpec string: \"127.0.0.1::80/tcp\": "
		  "strconv.Atoi: parsing \"\": invalid syntax" },
		{ ":99999999999999999999:80/tcp",
		  "unexpected ChildPort in PortSpec string: \":99999999999999999999:80/tcp\": "
		  "strconv.Atoi: parsing \"99999999999999999999\": value out of range" },
		/* an unclosed bracket takes the rest: "::1:8080" is an address, the port is empty
		 */
		{ "[::1:8080:80/tcp",
		  "unexpected ChildPort in PortSpec string: \"[::1:8080:80/tcp\": "
		  "strconv.Atoi: parsing \"\": invalid syntax" },
	};

	(void)state;
	for (size_t i = 0; i < RK_ARRAY_SIZE(cases); i++) {
		struct rk_port_spec s;
		struct rk_error err = { 0 };
		if (rk_port_spec_parse(cases[i][0], &s, &err) != -EINVAL)
			fail_msg("accepted \"%s\"", cases[i][0]);
		if (strcmp(err.msg, cases[i][1]) != 0)
			fail_msg("%s:\n got  %s\n want %s", cases[i][0], err.msg, cases[i][1]);
	}
}

static struct rk_port_spec spec(const char *proto, const char *pip, long long pport,
				const char *cip, long long cport)
{
	struct rk_port_spec s = { .parent_port = pport, .child_port = cport };

	strcpy(s.proto, proto);
	strcpy(s.parent_ip, pip);
	strcpy(s.child_ip, cip);
	return s;
}

static void expect(const struct rk_port_spec *s, const struct rk_port_entry *ex, size_t n,
		   const char *msg)
{
	struct rk_error err = { 0 };

	if (!msg) {
		if (rk_port_spec_validate(s, ex, n, &err) < 0)
			fail_msg("refused: %s", err.msg);
		return;
	}
	assert_int_equal(rk_port_spec_validate(s, ex, n, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
}

static void test_validate(void **state)
{
	struct rk_port_entry existing[] = {
		{ 1, spec("tcp", "127.0.0.1", 8080, "", 80) },
		{ 7, spec("udp", "", 53, "", 53) },
	};
	struct rk_port_spec s;

	(void)state;
	s = spec("", "", 1, "", 1);
	expect(&s, NULL, 0, "unknown proto: \"\"");
	s = spec("NaN", "", 1, "", 1);
	expect(&s, NULL, 0, "unknown proto: \"NaN\"");
	s = spec("TCP", "", 1, "", 1);
	expect(&s, NULL, 0, "unknown proto: \"TCP\"");
	s = spec("tcp", "10.0.0.256", 1, "", 1);
	expect(&s, NULL, 0, "invalid ParentIP: \"10.0.0.256\"");
	s = spec("tcp", "", 1, "[::1]", 1);
	expect(&s, NULL, 0, "invalid ChildIP: \"[::1]\"");
	/* Go prints the port with %q, as a character literal */
	s = spec("tcp", "", 0, "", 1);
	expect(&s, NULL, 0, "invalid ParentPort: '\\x00'");
	s = spec("tcp", "", -200, "", 1);
	expect(&s, NULL, 0, "invalid ParentPort: '\xef\xbf\xbd'");
	s = spec("tcp", "", 70000, "", 1);
	expect(&s, NULL, 0, "invalid ParentPort: '\xf0\x91\x85\xb0'");
	s = spec("tcp", "", 80, "", 1000000);
	expect(&s, NULL, 0, "invalid ChildPort: '\xf3\xb4\x89\x80'");
	s = spec("tcp", "", 80, "", 65536);
	expect(&s, NULL, 0, "invalid ChildPort: '\xf0\x90\x80\x80'");
	/* conflicts: same proto, parent IP and port, compared as given */
	s = spec("tcp", "127.0.0.1", 8080, "", 9090);
	expect(&s, existing, 2, "conflict with ID 1");
	s = spec("udp", "", 53, "127.0.0.1", 5353);
	expect(&s, existing, 2, "conflict with ID 7");
	s = spec("tcp4", "127.0.0.1", 8080, "", 80);
	expect(&s, existing, 2, NULL);
	s = spec("udp", "0.0.0.0", 53, "", 53);
	expect(&s, existing, 2, NULL);
	s = spec("tcp", "127.0.0.1", 8081, "", 80);
	expect(&s, existing, 2, NULL);
}

static void test_table(void **state)
{
	struct rk_port_table t = { 0 };
	struct rk_port_spec a = { "tcp", "", 1, "", 2 }, b = { "udp", "", 3, "", 4 };
	struct rk_port_entry *copy;

	(void)state;
	assert_int_equal(rk_port_table_copy(&t, &copy), 0);
	free(copy);
	rk_port_table_add(&t, 7, &a);
	rk_port_table_add(&t, 3, &b);
	rk_port_table_add(&t, 9, &a);
	assert_true(rk_port_table_has(&t, 3));
	assert_false(rk_port_table_remove(&t, 4));
	assert_true(rk_port_table_remove(&t, 7));
	assert_false(rk_port_table_has(&t, 7));
	/* copies come in id order */
	assert_int_equal(rk_port_table_copy(&t, &copy), 2);
	assert_int_equal(copy[0].id, 3);
	assert_string_equal(copy[0].spec.proto, "udp");
	assert_int_equal(copy[1].id, 9);
	free(copy);
	rk_port_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
