/* SPDX-License-Identifier: Apache-2.0 */
/* Subordinate id parsing, normalisation and the uid/gid map argument layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/idmap.h"
#include "src/lib/util.h"
#include "src/subid.h"

static const struct rk_subid_user alice = { .uid = 1001, .gid = 1001, .name = "alice" };

static void assert_ranges(const struct rk_subid_list *l, size_t n, const uint32_t *pairs)
{
	assert_int_equal(l->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(l->v[i].start, pairs[2 * i]);
		assert_int_equal(l->v[i].count, pairs[2 * i + 1]);
	}
}

static void test_parse_matches_name_and_uid(void **state)
{
	struct rk_subid_list l = { 0 };
	struct rk_error err = { 0 };
	const char *text = "# comment\n"
			   "\n"
			   "bob:300000:65536\n"
			   "  alice:100000:65536  \n"
			   "1001:200000:1000\n"
			   "alicex:400000:10\n"
			   "10011:500000:10\n";
	const uint32_t want[] = { 100000, 65536, 200000, 1000 };

	(void)state;
	assert_int_equal(rk_subid_parse(text, "/etc/subuid", &alice, &l, &err), 0);
	assert_ranges(&l, 2, want);
	rk_subid_list_free(&l);
}

static void test_parse_other_users_malformed_lines_are_ignored(void **state)
{
	struct rk_subid_list l = { 0 };
	struct rk_error err = { 0 };
	const char *text = "bob:abc\n"
			   "carol:1:2:3\n"
			   "garbage\n"
			   ":::\n"
			   "alice:100000:65536\n";
	const uint32_t want[] = { 100000, 65536 };

	(void)state;
	assert_int_equal(rk_subid_parse(text, "/etc/subuid", &alice, &l, &err), 0);
	assert_ranges(&l, 1, want);
	rk_subid_list_free(&l);
}

static void test_parse_own_malformed_lines_are_errors(void **state)
{
	static const char *const bad[] = {
		"alice:100000\n",	"alice:100000:65536:x\n",
		"alice:1e5:65536\n",	"alice:-1:65536\n",
		"alice:100000:\n",	"alice:4294967296:1\n",
		"alice:4294967295:2\n", "1001:x:1\n",
	};
	struct rk_error err = { 0 };

	(void)state;
	for (size_t i = 0; i < RK_ARRAY_SIZE(bad); i++) {
		struct rk_subid_list l = { 0 };
		if (rk_subid_parse(bad[i], "/etc/subuid", &alice, &l, &err) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(strstr(err.msg, "/etc/subuid:1:"));
		rk_subid_list_free(&l);
	}
}

static void test_parse_zero_count_is_skipped(void **state)
{
	struct rk_subid_list l = { 0 };
	struct rk_error err = { 0 };

	(void)state;
	assert_int_equal(rk_subid_parse("alice:100000:0\n", "f", &alice, &l, &err), 0);
	assert_int_equal(l.n, 0);
	rk_subid_list_free(&l);
}

static void test_normalize(void **state)
{
	struct rk_subid_list l = { 0 };
	struct rk_error err = { 0 };
	/* duplicate, overlap, and a range holding the user's own id 1001 */
	const uint32_t want[] = { 100000, 65536, 165536, 100, 1000, 1, 1002, 998 };

	(void)state;
	rk_subid_list_append(&l, 100000, 65536);
	rk_subid_list_append(&l, 100000, 65536);
	rk_subid_list_append(&l, 165000, 636);
	rk_subid_list_append(&l, 1000, 1000);
	assert_int_equal(rk_subid_normalize(&l, 1001, &err), 0);
	assert_ranges(&l, 4, want);
	rk_subid_list_free(&l);
}

static void test_normalize_extent_limit(void **state)
{
	struct rk_subid_list l = { 0 };
	struct rk_error err = { 0 };

	(void)state;
	for (uint32_t i = 0; i < RK_SUBID_MAX_RANGES; i++)
		rk_subid_list_append(&l, 100000 + 10 * i, 5);
	assert_int_equal(rk_subid_normalize(&l, 1001, &err), 0);
	rk_subid_list_append(&l, 900000, 5);
	assert_int_equal(rk_subid_normalize(&l, 1001, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "at most 339"));
	rk_subid_list_free(&l);
}

static void test_idmap_argv(void **state)
{
	struct rk_subid_list l = { 0 };
	struct rk_error err = { 0 };
	char **argv = NULL;
	const char *want[] = { "newuidmap", "4242",  "0",     "1001",	"1",	 "1",
			       "100000",    "65536", "65537", "200000", "65536", NULL };

	(void)state;
	rk_subid_list_append(&l, 100000, 65536);
	rk_subid_list_append(&l, 200000, 65536);
	assert_int_equal(rk_idmap_build_argv("newuidmap", 4242, 1001, &l, &argv, &err), 0);
	for (size_t i = 0; want[i]; i++)
		assert_string_equal(argv[i], want[i]);
	assert_null(argv[RK_ARRAY_SIZE(want) - 1]);
	rk_strv_free(argv);
	rk_subid_list_free(&l);
}

static void test_idmap_argv_overflow(void **state)
{
	struct rk_subid_list l = { 0 };
	struct rk_error err = { 0 };
	char **argv = NULL;

	(void)state;
	rk_subid_list_append(&l, 0, 4000000000u);
	rk_subid_list_append(&l, 4000000000u, 294967295u);
	assert_int_equal(rk_idmap_build_argv("newuidmap", 1, 1001, &l, &argv, &err), -EOVERFLOW);
	assert_null(argv);
	rk_subid_list_free(&l);
}

static void test_static_lookup_messages(void **state)
{
	char path[] = "/tmp/rk-test-subuid-XXXXXX";
	struct rk_subid_list l = { 0 };
	struct rk_error err = { 0 };
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(rk_write_all(fd, "bob:100000:65536\n", 17), 0);
	close(fd);
	assert_int_equal(rk_subid_lookup(RK_SUBID_STATIC, RK_SUBID_UID, &alice, path, &l, &err),
			 -ENOENT);
	/* upstream's text, then what to add where */
	assert_non_null(strstr(err.msg, "No subuid ranges found for user 1001 (\"alice\")"));
	assert_non_null(strstr(err.msg, "alice:100000:65536"));
	assert_non_null(strstr(err.msg, path));
	rk_subid_list_free(&l);
	unlink(path);

	/* a missing file says the same */
	assert_int_equal(rk_subid_lookup(RK_SUBID_STATIC, RK_SUBID_GID, &alice, path, &l, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "No subgid ranges found"));
	assert_non_null(strstr(err.msg, "--add-subgids"));
	rk_subid_list_free(&l);
}

static void test_nss_configured(void **state)
{
	char path[] = "/tmp/rk-test-nss-XXXXXX";
	int fd = mkstemp(path);
	const char *with = "passwd: files\nsubid:   sss\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(rk_write_all(fd, "passwd: files\n#subid: sss\n", 26), 0);
	close(fd);
	assert_int_equal(rk_subid_nss_configured(path), 0);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(rk_write_all(fd, with, strlen(with)), 0);
	close(fd);
	assert_int_equal(rk_subid_nss_configured(path), 1);
	unlink(path);
	assert_int_equal(rk_subid_nss_configured(path), 0);
}

/* libsubid's ranges are unsigned long: a sum that wraps must not pass for a small one */
static void test_lib_range(void **state)
{
	(void)state;
	assert_true(rk_subid_range_valid(100000, 65536));
	assert_true(rk_subid_range_valid(0, UINT32_MAX));
	assert_true(rk_subid_range_valid(UINT32_MAX - 1, 1));
	assert_false(rk_subid_range_valid(100000, 0));
	assert_false(rk_subid_range_valid(1, UINT32_MAX));
	assert_false(rk_subid_range_valid((unsigned long)UINT32_MAX + 1, 1));
	/* 1 + ULONG_MAX is 0 in unsigned long */
	assert_false(rk_subid_range_valid(1, ULONG_MAX));
	assert_false(rk_subid_range_valid(ULONG_MAX, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_matches_name_and_uid),
		cmocka_unit_test(test_parse_other_users_malformed_lines_are_ignored),
		cmocka_unit_test(test_parse_own_malformed_lines_are_errors),
		cmocka_unit_test(test_parse_zero_count_is_skipped),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_normalize_extent_limit),
		cmocka_unit_test(test_idmap_argv),
		cmocka_unit_test(test_idmap_argv_overflow),
		cmocka_unit_test(test_static_lookup_messages),
		cmocka_unit_test(test_nss_configured),
		cmocka_unit_test(test_lib_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
