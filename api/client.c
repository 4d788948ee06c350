/* SPDX-License-Identifier: Apache-2.0 */
#include "api/client.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/lib/util.h"

#define RK_API_MAX_ANSWER (1 << 20) /* the body; the headers get as much again */
#define TIMEOUT_MS	  60000

/* Connects to the unix socket path. Returns the descriptor or -errno. */
static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (e == EINTR)
			continue;
		close(fd);
		return -e;
	}
	return fd;
}

/* Writes all of buf to the socket fd, without SIGPIPE. Returns 0 or -errno. */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until the server closes (the request said "Connection: close"), at most max bytes,
 * by deadline. Returns the answer (NUL-terminated, its length in *ret_len), or NULL with
 * *ret_err set (-EFBIG when the answer is larger). */
static char *read_all(int fd, size_t max, uint64_t deadline, size_t *ret_len, int *ret_err)
{
	size_t len = 0, cap = 4096;
	char *buf = rk_xmalloc(cap + 1);

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = rk_now_ms();
		ssize_t n;
		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0) {
			*ret_err = -ETIMEDOUT;
			break;
		}
		if (len == cap) {
			if (cap >= max) {
				*ret_err = -EFBIG;
				break;
			}
			cap *= 2;
			buf = rk_xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*ret_err = -errno;
			break;
		}
		if (n == 0) {
			buf[len] = '\0';
			*ret_len = len;
			return buf;
		}
		len += (size_t)n;
	}
	free(buf);
	return NULL;
}

/* The value of header name (case-insensitive) in the header block head, as a pointer into
 * it, or NULL. */
static const char *header(const char *head, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n"))
		if (strncasecmp(l + 2, name, n) == 0 && l[2 + n] == ':')
			return l + 3 + n + strspn(l + 3 + n, " \t");
	return NULL;
}

/* Decodes a chunked body in place (p, len), up to its last chunk. Returns the decoded
 * length or -EPROTO. */
static ssize_t unchunk(char *p, size_t len)
{
	size_t in = 0, out = 0;

	for (;;) {
		char *end;
		unsigned long size = strtoul(p + in, &end, 16);
		char *eol = strstr(end, "\r\n");
		if (end == p + in || !eol)
			return -EPROTO;
		in = (size_t)(eol - p) + 2;
		if (size == 0)
			break;
		if (size > len - in || len - in - size < 2)
			return -EPROTO;
		memmove(p + out, p + in, size);
		out += size;
		in += size + 2; /* the chunk's CRLF */
	}
	p[out] = '\0';
	return (ssize_t)out;
}

/* Splits an HTTP/1.x answer (a, len) into its status and its body, moved to the front of
 * a. Returns the body's length or -EPROTO. */
static ssize_t parse_answer(char *a, size_t len, long *ret_status)
{
	char *body = strstr(a, "\r\n\r\n"), *end;
	const char *te, *cl;
	size_t blen;
	ssize_t n;

	if (strncmp(a, "HTTP/1.", 7) != 0 || !body || len < 12)
		return -EPROTO;
	*ret_status = strtol(a + 9, &end, 10);
	if (end != a + 12 || *ret_status < 100)
		return -EPROTO;
	body[2] = '\0'; /* the headers end with their last CRLF */
	te = header(a, "Transfer-Encoding");
	cl = header(a, "Content-Length");
	body += 4;
	blen = len - (size_t)(body - a);
	if (te && strncasecmp(te, "chunked", 7) == 0) {
		n = unchunk(body, blen);
		if (n < 0)
			return n;
		blen = (size_t)n;
	} else if (cl) {
		unsigned long want = strtoul(cl, NULL, 10);
		if (want > blen)
			return -EPROTO; /* cut short */
		blen = want;
	}
	memmove(a, body, blen);
	a[blen] = '\0';
	return (ssize_t)blen;
}

int rk_api_request(const char *socket, const char *method, const char *path, const char *body,
		   long *ret_status, char **ret_body, struct rk_error *err)
{
	uint64_t deadline = rk_now_ms() + TIMEOUT_MS;
	rk_auto_free char *req = NULL;
	char *answer;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	if (body)
		req = rk_xasprintf(
			"%s %s HTTP/1.1\r\nHost: rootlesskit\r\nConnection: close\r\n"
			"Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			method, path, strlen(body), body);
	else
		req = rk_xasprintf(
			"%s %s HTTP/1.1\r\nHost: rootlesskit\r\nConnection: close\r\n\r\n", method,
			path);
	fd = dial(socket);
	if (fd < 0)
		return rk_error_errno(err, -fd, "%s http://rootlesskit%s: connecting to %s", method,
				      path, socket);
	/* the server may answer (and close) before reading a refused body: EPIPE is not the
	 * end, and no SIGPIPE either */
	r = send_all(fd, req, strlen(req));
	if (r < 0 && r != -EPIPE) {
		close(fd);
		return rk_error_errno(err, -r, "%s http://rootlesskit%s", method, path);
	}
	/* no half-close: Go's server takes the end of the request stream for a client that
	 * left, and cancels the request */
	answer = read_all(fd, 2 * RK_API_MAX_ANSWER, deadline, &len, &r);
	close(fd);
	n = answer ? parse_answer(answer, len, ret_status) : r;
	if (n < 0) {
		free(answer);
		return rk_error_set(err, (int)-n, "%s http://rootlesskit%s: %s", method, path,
				    n == -EFBIG	   ? "answer too large"
				    : n == -EPROTO ? "malformed HTTP answer"
						   : strerror((int)-n));
	}
	*ret_body = answer;
	return 0;
}

static const char *status_text(long status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Request Entity Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "";
	}
}

int rk_api_check(long status, const char *body, long want, struct rk_error *err)
{
	json_t *j, *msg;

	if (status == want)
		return 0;
	j = json_loads(body, 0, NULL);
	msg = j ? json_object_get(j, "message") : NULL;
	if (json_is_string(msg))
		rk_error_set(err, EIO, "%s", json_string_value(msg));
	else
		rk_error_set(err, EIO, "unexpected HTTP status %ld %s, body=\"%s\"", status,
			     status_text(status), body);
	json_decref(j);
	return -EIO;
}
