/* SPDX-License-Identifier: Apache-2.0 */
/* JSON bodies of the API: upstream's field names and order, omitted members, Go escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"

static void test_info_host(void **state)
{
	struct rk_api_info info = { .state_dir = "/tmp/rk", .child_pid = 42 };
	char *s = rk_api_json_info(&info);

	(void)state;
	/* no networkDriver for --net=host, no portDriver without a port driver */
	assert_string_equal(s, "{\"apiVersion\":\"1.1.2\",\"version\":\"3.2.0\",\"stateDir\":\"/"
			       "tmp/rk\",\"childPID\":42}");
	free(s);
}

static void test_info_network(void **state)
{
	struct rk_api_info info = { .state_dir = "/s", .child_pid = 7, .net_driver = "none" };
	char *s = rk_api_json_info(&info);

	(void)state;
	assert_string_equal(s,
			    "{\"apiVersion\":\"1.1.2\",\"version\":\"3.2.0\",\"stateDir\":\"/s\","
			    "\"childPID\":7,\"networkDriver\":{\"driver\":\"none\"}}");
	free(s);
}

static void test_error(void **state)
{
	char *s = rk_api_json_error("no PortDriver is available");

	(void)state;
	assert_string_equal(s, "{\"message\":\"no PortDriver is available\"}\n");
	free(s);
	/* Go writes <, > and & as \u escapes; quotes and backslashes as usual */
	s = rk_api_json_error("a<b>&\"c\\");
	assert_string_equal(s, "{\"message\":\"a\\u003cb\\u003e\\u0026\\\"c\\\\\"}\n");
	free(s);
	/* invalid UTF-8 still gives a valid body */
	s = rk_api_json_error("bad \xff byte");
	assert_string_equal(s, "{\"message\":\"(message is not valid UTF-8)\"}\n");
	free(s);
}

static void test_info_port_driver(void **state)
{
	static const char *const protos[] = { "tcp", "udp", NULL };
	struct rk_port_driver_ops ops = { .name = "builtin", .protos = protos };
	struct rk_api_info info = { .state_dir = "/s", .child_pid = 7, .port_driver = &ops };
	char *s = rk_api_json_info(&info);

	(void)state;
	assert_string_equal(
		s, "{\"apiVersion\":\"1.1.2\",\"version\":\"3.2.0\",\"stateDir\":\"/s\","
		   "\"childPID\":7,\"portDriver\":{\"driver\":\"builtin\",\"protos\":[\"tcp\","
		   "\"udp\"]}}");
	free(s);
	ops.disallow_loopback_child_ip = true;
	s = rk_api_json_info(&info);
	assert_non_null(
		strstr(s, "\"protos\":[\"tcp\",\"udp\"],\"disallowLoopbackChildIP\":true}"));
	free(s);
	/* API 1.1.2: the transparency backend in portDriver.extra, last */
	info.source_ip_backend = "nft";
	s = rk_api_json_info(&info);
	assert_non_null(strstr(s, "\"disallowLoopbackChildIP\":true,\"extra\":{"
				  "\"sourceIPTransparentBackend\":\"nft\"}}}"));
	free(s);
}

/* API 1.1.2: networkDriver.ipv6, after dynamicChildIP, only when true */
static void test_info_ipv6(void **state)
{
	struct rk_api_info info = { .state_dir = "/s",
				    .child_pid = 7,
				    .net_driver = "slirp4netns",
				    .child_ip = "10.0.2.100" };
	char *s = rk_api_json_info(&info);

	(void)state;
	assert_null(strstr(s, "ipv6"));
	free(s);
	info.ipv6 = true;
	s = rk_api_json_info(&info);
	assert_non_null(strstr(s, "{\"driver\":\"slirp4netns\",\"childIP\":\"10.0.2.100\","
				  "\"ipv6\":true}"));
	free(s);
}

static void test_port_status_and_list(void **state)
{
	struct rk_port_entry e[2] = {
		{ 1, { "tcp", "127.0.0.1", 18080, "", 80 } },
		{ 3, { "udp6", "", 53, "::1", 5353 } },
	};
	char *s;

	(void)state;
	/* empty fields are omitted; the order is upstream's */
	s = rk_api_json_port_status(&e[0]);
	assert_string_equal(s, "{\"id\":1,\"spec\":{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\","
			       "\"parentPort\":18080,\"childPort\":80}}");
	free(s);
	s = rk_api_json_port_list(e, 2);
	assert_string_equal(s,
			    "[{\"id\":1,\"spec\":{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\","
			    "\"parentPort\":18080,\"childPort\":80}},{\"id\":3,\"spec\":{\"proto\":"
			    "\"udp6\",\"parentPort\":53,\"childPort\":5353,\"childIP\":\"::1\"}}]");
	free(s);
	s = rk_api_json_port_list(e, 0);
	assert_string_equal(s, "null");
	free(s);
}

static void parse_ok(const char *body, const char *proto, const char *pip, long long pport,
		     const char *cip, long long cport)
{
	struct rk_port_spec spec;
	struct rk_error err = { 0 };

	assert_int_equal(rk_api_json_parse_spec(body, strlen(body), &spec, &err), 0);
	assert_string_equal(spec.proto, proto);
	assert_string_equal(spec.parent_ip, pip);
	assert_int_equal(spec.parent_port, pport);
	assert_string_equal(spec.child_ip, cip);
	assert_int_equal(spec.child_port, cport);
}

static void parse_err(const char *body, const char *msg)
{
	struct rk_port_spec spec;
	struct rk_error err = { 0 };

	assert_int_equal(rk_api_json_parse_spec(body, strlen(body), &spec, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
}

static void test_parse_spec(void **state)
{
	char longip[200];

	(void)state;
	parse_ok("{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":8080,"
		 "\"childIP\":\"::1\",\"childPort\":80}",
		 "tcp", "127.0.0.1", 8080, "::1", 80);
	/* Go: keys case-insensitive, an exact match wins, unknown keys and nulls ignored,
	 * only the first value counts */
	parse_ok("{\"PROTO\":\"udp\",\"ParentPort\":1,\"x\":{},\"childPort\":null}", "udp", "", 1,
		 "", 0);
	parse_ok("{\"proto\":\"tcp\",\"PROTO\":\"udp\"}", "tcp", "", 0, "", 0);
	parse_ok("{\"Proto\":\"udp\",\"proto\":\"tcp\"}", "tcp", "", 0, "", 0);
	parse_ok("{\"proto\":\"tcp\"} trailing", "tcp", "", 0, "", 0);
	parse_ok("null", "", "", 0, "", 0);
	parse_err("", "EOF");
	parse_err(" \n\t", "EOF");
	parse_err("[1]", "json: cannot unmarshal array into Go value of type port.Spec");
	parse_err("\"x\"", "json: cannot unmarshal string into Go value of type port.Spec");
	parse_err("{\"parentPort\":\"80\"}",
		  "json: cannot unmarshal string into Go struct field Spec.parentPort of type int");
	parse_err("{\"childPort\":80.5}",
		  "json: cannot unmarshal number 80.5 into Go struct field Spec.childPort of type "
		  "int");
	parse_err("{\"proto\":1}",
		  "json: cannot unmarshal number 1 into Go struct field Spec.proto of type string");
	parse_err("{\"childIP\":true}",
		  "json: cannot unmarshal bool into Go struct field Spec.childIP of type string");
	/* strings too long for the spec get the error validation would give */
	parse_err("{\"proto\":\"tcptcptcp\"}", "unknown proto: \"tcptcptcp\"");
	{
		const char *head = "{\"proto\":\"tcp\",\"parentIP\":\"";
		char want[200];
		memset(longip, 'a', sizeof(longip));
		memcpy(longip, head, strlen(head));
		memcpy(longip + 150, "\"}", 3);
		snprintf(want, sizeof(want), "invalid ParentIP: \"%.*s\"", 150 - (int)strlen(head),
			 longip + strlen(head));
		parse_err(longip, want);
	}
	/* malformed JSON is an error, whatever jansson's words */
	{
		struct rk_port_spec spec;
		assert_int_equal(rk_api_json_parse_spec("{\"proto\":", 9, &spec, NULL), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info_host),  cmocka_unit_test(test_info_network),
		cmocka_unit_test(test_error),	   cmocka_unit_test(test_info_port_driver),
		cmocka_unit_test(test_info_ipv6),  cmocka_unit_test(test_port_status_and_list),
		cmocka_unit_test(test_parse_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
