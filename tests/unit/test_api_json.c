/* SPDX-License-Identifier: Apache-2.0 */
/* JSON bodies of the API: upstream's field names and order, omitted members, Go escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "json.h"

static void test_info_host(void **state)
{
	struct rk_api_info info = { .state_dir = "/tmp/rk", .child_pid = 42 };
	char *s = rk_api_json_info(&info);

	(void)state;
	/* no networkDriver for --net=host, no portDriver without a port driver */
	assert_string_equal(s, "{\"apiVersion\":\"1.1.1\",\"version\":\"3.0.1\",\"stateDir\":\"/"
			       "tmp/rk\",\"childPID\":42}");
	free(s);
}

static void test_info_network(void **state)
{
	struct rk_api_info info = { .state_dir = "/s", .child_pid = 7, .net_driver = "none" };
	char *s = rk_api_json_info(&info);

	(void)state;
	assert_string_equal(s,
			    "{\"apiVersion\":\"1.1.1\",\"version\":\"3.0.1\",\"stateDir\":\"/s\","
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info_host),
		cmocka_unit_test(test_info_network),
		cmocka_unit_test(test_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
