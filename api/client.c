/* SPDX-License-Identifier: Apache-2.0 */
#include "api/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "src/lib/util.h"

#define RK_API_MAX_ANSWER (1 << 20)

struct answer {
	char *buf;
	size_t len;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t add = size * n;

	if (a->len + add > RK_API_MAX_ANSWER) {
		a->too_big = true;
		return 0; /* makes curl fail the transfer */
	}
	a->buf = rk_xrealloc(a->buf, a->len + add + 1);
	memcpy(a->buf + a->len, data, add);
	a->len += add;
	a->buf[a->len] = '\0';
	return add;
}

int rk_api_request(const char *socket, const char *method, const char *path, const char *body,
		   long *ret_status, char **ret_body, struct rk_error *err)
{
	rk_auto_free char *url = rk_xasprintf("http://rootlesskit%s", path);
	struct answer a = { .buf = rk_xstrdup("") };
	struct curl_slist *headers = NULL;
	CURL *c = curl_easy_init();
	CURLcode rc;

	if (!c) {
		free(a.buf);
		return rk_error_set(err, ENOMEM, "curl_easy_init failed");
	}
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		free(a.buf);
		return rk_error_set(err, EIO, "%s %s: %s", method, url,
				    a.too_big ? "answer too large" : curl_easy_strerror(rc));
	}
	*ret_body = a.buf;
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
