/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --port-driver=slirp4netns: ports are slirp4netns' own host forwards, managed through its
 * API socket ($STATE/.s4nn.sock): one JSON request per connection, half-closed after
 * writing, one JSON reply. slirp4netns' ids are the API's ids. IPv4 only, and the child
 * side is the child's address (a loopback child IP would not reach the namespace).
 */
#include "port/slirp4netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "port/registry.h"
#include "src/lib/sig.h"
#include "src/lib/util.h"

#define REPLY_MAX 65536
#define TIMEOUT_S 5 /* in all: well inside the API's own deadline for a request */

static const char *const s4nn_protos[] = { "tcp", "tcp4", "udp", "udp4", NULL };

struct s4nn_driver {
	struct rk_port_backend base;
	char *api_socket;
	char child_ip[INET_ADDRSTRLEN];
};

/* Go's %v of a decoded JSON value (map[...] for objects, keys sorted). */
static void go_value(const json_t *v, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	if (json_is_string(v)) {
		snprintf(buf, size, "%s", json_string_value(v));
	} else if (json_is_number(v)) {
		snprintf(buf, size, "%g", json_number_value(v));
	} else if (json_is_object(v)) {
		const char *keys[64];
		size_t k = 0;
		const char *key;
		json_t *val;
		json_object_foreach((json_t *)v, key, val)
		{
			if (k < RK_ARRAY_SIZE(keys))
				keys[k++] = key;
		}
		qsort(keys, k, sizeof(keys[0]), (int (*)(const void *, const void *))strcmp);
		n += (size_t)snprintf(buf + n, size - n, "map[");
		for (size_t i = 0; i < k && n < size; i++) {
			char inner[512];
			go_value(json_object_get(v, keys[i]), inner, sizeof(inner));
			n += (size_t)snprintf(buf + n, size - n, "%s%s:%s", i ? " " : "", keys[i],
					      inner);
		}
		if (n < size)
			snprintf(buf + n, size - n, "]");
	} else {
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		snprintf(buf, size, "%s", s ? s : "");
		free(s);
	}
}

/* One request on the API socket. Returns 0 with *ret (the reply object) set, or a negative
 * errno with err set. */
static int call(const struct s4nn_driver *d, json_t *req, json_t **ret, struct rk_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = TIMEOUT_S };
	char *json = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *text = json ? rk_xasprintf("%s\n", json) : NULL;
	char *buf = NULL;
	size_t len = 0;
	json_error_t jerr;
	int fd, r = 0;

	json_decref(req);
	free(json);
	if (!text)
		return rk_error_set(err, ENOMEM, "encoding the request");
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", d->api_socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = rk_error_errno(err, errno, "socket");
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		r = rk_error_errno(err, errno, "dial unix %s: connect", d->api_socket);
		goto out;
	}
	/* one write, as slirp4netns answers after its first read and closes: a reply may
	 * already be waiting when the half-close fails */
	r = rk_write_all(fd, text, strlen(text));
	if (r < 0 && r != -EPIPE) {
		r = rk_error_errno(err, -r, "writing to %s", d->api_socket);
		goto out;
	}
	shutdown(fd, SHUT_WR);
	r = 0;
	buf = rk_xmalloc(REPLY_MAX);
	/* the whole answer within TIMEOUT_S: a peer that sends a byte now and then does not
	 * hold the API's thread for longer (the command can put its own socket there) */
	for (uint64_t end = rk_now_ms() + TIMEOUT_S * 1000;;) {
		ssize_t n;
		if (rk_wait_fd(fd, POLLIN, end, NULL) == 0) {
			r = rk_error_set(err, ETIMEDOUT, "reading from %s: no answer within %d s",
					 d->api_socket, TIMEOUT_S);
			goto out;
		}
		n = recv(fd, buf + len, REPLY_MAX - 1 - len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			r = rk_error_errno(err, errno, "reading from %s", d->api_socket);
			goto out;
		}
		if (n == 0 || (len += (size_t)n) == REPLY_MAX - 1)
			break;
	}
	*ret = json_loadb(buf, len, 0, &jerr);
	if (!*ret || !json_is_object(*ret)) {
		json_decref(*ret);
		*ret = NULL;
		r = rk_error_set(err, EPROTO, "unexpected reply from slirp4netns: %.*s", (int)len,
				 buf);
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(text);
	return r;
}

/* Checks the reply's "error". Returns 0 or -EIO with err set as upstream words it. */
static int reply_error(json_t *rep, struct rk_error *err)
{
	json_t *e = json_object_get(rep, "error");
	char text[RK_ERROR_MSG_MAX - 32];

	if (!e || (json_is_object(e) && json_object_size(e) == 0))
		return 0;
	go_value(e, text, sizeof(text));
	return rk_error_set(err, EIO, "reply.Error: %s", text);
}

static int s4nn_open(struct rk_port_backend *base, const struct rk_port_spec *spec, int *ret_id,
		     void *data, struct rk_error *err)
{
	struct s4nn_driver *d = (struct s4nn_driver *)base;
	char proto[8], ip[INET_ADDRSTRLEN];
	json_t *rep = NULL, *id;
	int r;

	(void)data;
	if (spec->proto[strlen(spec->proto) - 1] == '6') {
		r = rk_error_set(err, EPROTONOSUPPORT, "unsupported protocol \"%s\"", spec->proto);
		goto out;
	}
	snprintf(proto, sizeof(proto), "%.3s", spec->proto);
	snprintf(ip, sizeof(ip), "%s", d->child_ip);
	if (*spec->child_ip) {
		struct in_addr a4;
		struct in6_addr a6;
		if (inet_pton(AF_INET, spec->child_ip, &a4) == 1) {
			inet_ntop(AF_INET, &a4, ip, sizeof(ip));
		} else if (inet_pton(AF_INET6, spec->child_ip, &a6) == 1 &&
			   IN6_IS_ADDR_V4MAPPED(&a6)) {
			inet_ntop(AF_INET, &a6.s6_addr[12], ip, sizeof(ip));
		} else {
			r = rk_error_set(err, EINVAL, "unsupported IP (v6?): %s", spec->child_ip);
			goto out;
		}
	}
	r = call(d,
		 json_pack("{s:s, s:{s:s, s:s, s:I, s:s, s:I}}", "execute", "add_hostfwd",
			   "arguments", "proto", proto, "host_addr", spec->parent_ip, "host_port",
			   (json_int_t)spec->parent_port, "guest_addr", ip, "guest_port",
			   (json_int_t)spec->child_port),
		 &rep, err);
	if (r == 0)
		r = reply_error(rep, err);
	if (r < 0)
		goto out;
	id = json_object_get(json_object_get(rep, "return"), "id");
	/* a port id: a whole number an int holds (converting another is undefined) */
	if (!json_is_number(id) || !(json_number_value(id) >= 0) ||
	    json_number_value(id) > INT_MAX ||
	    json_number_value(id) != (int)json_number_value(id)) {
		char *s = json_dumps(rep, JSON_COMPACT);
		r = rk_error_set(err, EPROTO, "unexpected reply: %s", s ? s : "");
		free(s);
		goto out;
	}
	*ret_id = (int)json_number_value(id);
out:
	json_decref(rep);
	return r;
}

static int s4nn_close(struct rk_port_backend *base, int id, void *data, struct rk_error *err)
{
	struct s4nn_driver *d = (struct s4nn_driver *)base;
	json_t *rep = NULL;
	int r;

	(void)data;
	/* as upstream: slirp4netns itself decides whether the id exists */
	r = call(d, json_pack("{s:s, s:{s:i}}", "execute", "remove_hostfwd", "arguments", "id", id),
		 &rep, err);
	if (r == 0)
		r = reply_error(rep, err);
	json_decref(rep);
	return r;
}

static void s4nn_free(struct rk_port_backend *base)
{
	struct s4nn_driver *d = (struct s4nn_driver *)base;

	free(d->api_socket);
	free(d);
}

static const struct rk_port_backend_ops s4nn_ops = {
	.name = "slirp4netns",
	.protos = s4nn_protos,
	.disallow_loopback_child_ip = true,
	.own_ids = true,
	.open = s4nn_open,
	.close = s4nn_close,
	.free = s4nn_free,
};

struct rk_port_driver *rk_port_slirp4netns_new(const char *api_socket, const char *child_ip)
{
	struct s4nn_driver *d = rk_xcalloc(1, sizeof(*d));

	d->base.ops = &s4nn_ops;
	d->api_socket = rk_xstrdup(api_socket);
	snprintf(d->child_ip, sizeof(d->child_ip), "%s", child_ip);
	return rk_port_registry_new(&d->base);
}
