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

#include "port/registry.h"
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

/* A backend that records what the registry asks of it. */
struct fake {
	struct rk_port_backend base;
	int opened, closed, fail_open, next_own;
	bool freed;
};

static int fake_open(struct rk_port_backend *b, const struct rk_port_spec *spec, int *id,
		     void *data, struct rk_error *err)
{
	struct fake *f = (struct fake *)b;

	(void)spec;
	if (f->fail_open)
		return rk_error_set(err, EADDRINUSE, "busy");
	if (f->base.ops->own_ids)
		*id = f->next_own += 10;
	*(int *)data = *id * 100;
	f->opened++;
	return 0;
}

static int fake_close(struct rk_port_backend *b, int id, void *data, struct rk_error *err)
{
	struct fake *f = (struct fake *)b;

	if (data && *(int *)data != id * 100)
		return rk_error_set(err, EIO, "lost its data");
	f->closed++;
	return 0;
}

static void fake_free(struct rk_port_backend *b)
{
	((struct fake *)b)->freed = true;
}

static const struct rk_port_backend_ops fake_ops = { .name = "fake",
						     .data_size = sizeof(int),
						     .open = fake_open,
						     .close = fake_close,
						     .free = fake_free };
static const struct rk_port_backend_ops fake_own_ops = { .name = "fake",
							 .own_ids = true,
							 .data_size = sizeof(int),
							 .open = fake_open,
							 .close = fake_close,
							 .free = fake_free };

static struct rk_port_spec spec_on(long long port)
{
	struct rk_port_spec s = { "tcp", "127.0.0.1", port, "", 80 };

	return s;
}

static void test_registry(void **state)
{
	struct fake f = { .base.ops = &fake_ops };
	struct rk_port_driver *d = rk_port_registry_new(&f.base);
	struct rk_port_spec a = spec_on(8080), b = spec_on(8081);
	struct rk_error err = { 0 };
	struct rk_port_entry *list;
	int id;

	(void)state;
	assert_string_equal(d->ops->name, "fake");
	/* an empty list, before there is any table (the API's GET /v1/ports at start) */
	assert_int_equal(d->ops->list(d, &list), 0);
	free(list);
	assert_int_equal(d->ops->add(d, &a, &id, &err), 0);
	assert_int_equal(id, 1);
	assert_int_equal(d->ops->add(d, &b, &id, &err), 0);
	assert_int_equal(id, 2);
	/* a conflict is refused before the backend hears of it, with upstream's text */
	assert_int_equal(d->ops->add(d, &a, &id, &err), -EINVAL);
	assert_int_equal(f.opened, 2);
	/* a failed open takes no id */
	f.fail_open = 1;
	assert_int_equal(
		d->ops->add(d, &(struct rk_port_spec){ "tcp", "", 9000, "", 1 }, &id, &err),
		-EADDRINUSE);
	f.fail_open = 0;
	assert_int_equal(d->ops->remove(d, 1, &err), 0);
	assert_int_equal(d->ops->remove(d, 1, &err), -ENOENT);
	assert_string_equal(err.msg, "unknown id: 1");
	assert_int_equal(f.closed, 1);
	/* ids are never reused */
	assert_int_equal(d->ops->add(d, &a, &id, &err), 0);
	assert_int_equal(id, 3);
	assert_int_equal(d->ops->list(d, &list), 2);
	assert_int_equal(list[0].id, 2);
	assert_int_equal(list[0].spec.parent_port, 8081);
	assert_int_equal(list[1].id, 3);
	free(list);
	rk_port_driver_free(d);
	assert_true(f.freed);
}

static void test_registry_cap(void **state)
{
	struct fake f = { .base.ops = &fake_ops };
	struct rk_port_driver *d = rk_port_registry_new(&f.base);
	struct rk_error err = { 0 };
	struct rk_port_spec s;
	int id;

	(void)state;
	for (int i = 0; i < RK_PORT_MAX; i++) {
		s = spec_on(1 + i);
		assert_int_equal(d->ops->add(d, &s, &id, &err), 0);
	}
	s = spec_on(60000);
	assert_int_equal(d->ops->add(d, &s, &id, &err), -ENOSPC);
	assert_int_equal(f.opened, RK_PORT_MAX);
	rk_port_driver_free(d);
}

static int fail_even(struct rk_port_backend *b, const struct rk_port_entry *e, void *data)
{
	(void)b;
	(void)data;
	return e->id % 2 ? 0 : -EADDRINUSE;
}

static void note_begin(struct rk_port_backend *b, void *arg)
{
	(void)b;
	*(bool *)arg = true;
}

/* the backend's own ids; a replay drops the ports it cannot put back */
static void test_registry_own_ids_and_replay(void **state)
{
	struct fake f = { .base.ops = &fake_own_ops };
	struct rk_port_driver *d = rk_port_registry_new(&f.base);
	struct rk_error err = { 0 };
	struct rk_port_entry *list;
	struct rk_port_spec s;
	bool begun = false;
	int id;

	(void)state;
	for (int i = 0; i < 3; i++) {
		s = spec_on(7000 + i);
		assert_int_equal(d->ops->add(d, &s, &id, &err), 0);
		assert_int_equal(id, 10 * (i + 1));
	}
	/* the backend decides about ids it names itself */
	assert_int_equal(d->ops->remove(d, 99, &err), 0);
	assert_int_equal(f.closed, 1);
	assert_int_equal(d->ops->list(d, &list), 3);
	free(list);
	/* 10, 20, 30: all even */
	assert_int_equal(rk_port_registry_replay(d, note_begin, &begun, fail_even), 3);
	assert_true(begun);
	assert_int_equal(d->ops->list(d, &list), 0);
	free(list);
	rk_port_driver_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_registry_cap),
		cmocka_unit_test(test_registry_own_ids_and_replay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
