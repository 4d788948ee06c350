/* SPDX-License-Identifier: Apache-2.0 */
/* The API client's HTTP (api/client.c, included: it is not part of rootlesskit): answers
 * with a length, chunked, or up to the end; requests as sent; and the answers a server
 * under the command's control could send instead: cut short, malformed, too large, none. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api/client.c"

struct server {
	int fd;		    /* listening */
	const char *answer; /* sent after the request was read */
	size_t len;	    /* of answer; 0: strlen */
	char request[4096]; /* what came */
};

static void *serve(void *arg)
{
	struct server *s = arg;
	int c = accept(s->fd, NULL, NULL);
	size_t got = 0;
	ssize_t n;

	if (c < 0)
		return NULL;
	/* the request: its headers, then as much body as they announce */
	while (got < sizeof(s->request) - 1 &&
	       (n = read(c, s->request + got, sizeof(s->request) - 1 - got)) > 0) {
		const char *end, *cl;
		got += (size_t)n;
		s->request[got] = '\0';
		end = strstr(s->request, "\r\n\r\n");
		cl = strstr(s->request, "Content-Length: ");
		if (end &&
		    (!cl || got >= (size_t)(end + 4 - s->request) + strtoul(cl + 16, NULL, 10)))
			break;
	}
	s->request[got] = '\0';
	/* the client may stop reading (too large): the rest is not sent */
	if (s->answer)
		(void)!send_all(c, s->answer, s->len ? s->len : strlen(s->answer));
	close(c);
	return NULL;
}

/* One request to a server that answers with answer; returns rk_api_request's result. */
static int ask(struct server *s, const char *method, const char *body, long *status, char **ret,
	       struct rk_error *err)
{
	char path[] = "/tmp/rk-test-client.XXXXXX";
	char sock[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pthread_t t;
	int r;

	assert_non_null(mkdtemp(path));
	snprintf(sock, sizeof(sock), "%s/s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	s->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->fd, 1), 0);
	assert_int_equal(pthread_create(&t, NULL, serve, s), 0);
	*ret = NULL;
	r = rk_api_request(sock, method, "/v1/ports", body, status, ret, err);
	pthread_join(t, NULL);
	close(s->fd);
	unlink(sock);
	rmdir(path);
	return r;
}

static void test_content_length(void **state)
{
	struct server s = { .answer = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
				      "content-length: 8\r\n\r\n{\"id\":1}trailing" };
	struct rk_error err = { 0 };
	long status = 0;
	char *body;

	(void)state;
	assert_int_equal(ask(&s, "POST", "{\"proto\":\"tcp\"}", &status, &body, &err), 0);
	assert_int_equal(status, 201);
	assert_string_equal(body, "{\"id\":1}");
	free(body);
	/* the request: one per connection, the body with its length */
	assert_non_null(strstr(s.request, "POST /v1/ports HTTP/1.1\r\n"));
	assert_non_null(strstr(s.request, "\r\nConnection: close\r\n"));
	assert_non_null(strstr(s.request, "\r\nContent-Length: 15\r\n\r\n{\"proto\":\"tcp\"}"));
}

static void test_chunked_and_eof(void **state)
{
	struct server s = {
		.answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "5\r\n[{\"id\r\nA;ext=1\r\n\":1},{\"id\"\r\n3\r\n:2}\r\n1\r\n]\r\n"
			  "0\r\n\r\n"
	};
	struct rk_error err = { 0 };
	long status = 0;
	char *body;

	(void)state;
	assert_int_equal(ask(&s, "GET", NULL, &status, &body, &err), 0);
	assert_int_equal(status, 200);
	assert_string_equal(body, "[{\"id\":1},{\"id\":2}]");
	free(body);
	assert_null(strstr(s.request, "Content-Length"));
	/* no length: the body is what comes before the end */
	s = (struct server){ .answer = "HTTP/1.0 404 Not Found\r\n\r\n404 page not found\n" };
	assert_int_equal(ask(&s, "DELETE", NULL, &status, &body, &err), 0);
	assert_int_equal(status, 404);
	assert_string_equal(body, "404 page not found\n");
	free(body);
}

/* what a hostile or broken server sends gives an error, never a crash or a wrong body */
static void test_bad_answers(void **state)
{
	static const char *const bad[] = {
		"",						      /* closed at once */
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", /* cut short */
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",	      /* no end of headers */
		"HTTP/1.1 2x0 OK\r\n\r\n",			      /* no status */
		"SSH-2.0-OpenSSH\r\n\r\n",			      /* not HTTP */
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", /* bad chunk */
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nab\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" /* no last chunk */
		"2\r\nab\r\n",
	};
	struct rk_error err = { 0 };
	long status = 0;
	char *body;

	(void)state;
	for (size_t i = 0; i < RK_ARRAY_SIZE(bad); i++) {
		struct server s = { .answer = bad[i], .len = strlen(bad[i]) };
		err = (struct rk_error){ 0 };
		assert_int_not_equal(ask(&s, "GET", NULL, &status, &body, &err), 0);
		assert_null(body);
		assert_non_null(strstr(err.msg, "GET http://rootlesskit/v1/ports: "));
	}
}

static void test_too_large_and_no_server(void **state)
{
	size_t len = 3 * RK_API_MAX_ANSWER;
	char *big = malloc(len);
	struct rk_error err = { 0 };
	long status = 0;
	char *body = NULL;

	(void)state;
	memset(big, 'a', len);
	memcpy(big, "HTTP/1.1 200 OK\r\n\r\n", 19);
	struct server s = { .answer = big, .len = len };
	assert_int_equal(ask(&s, "GET", NULL, &status, &body, &err), -EFBIG);
	assert_string_equal(err.msg, "GET http://rootlesskit/v1/ports: answer too large");
	free(big);
	assert_int_equal(rk_api_request("/nonexistent/api.sock", "GET", "/v1/info", NULL, &status,
					&body, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "connecting to /nonexistent/api.sock"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_chunked_and_eof),
		cmocka_unit_test(test_bad_answers),
		cmocka_unit_test(test_too_large_and_no_server),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
