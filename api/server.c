/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The REST API on $STATE/api.sock
 *
 * HTTP/1.1 served by libevent's evhttp on its own thread and event loop, so that no client
 * can stall the parent. Routes, status codes and bodies follow upstream (gorilla/mux +
 * encoding/json): unknown paths get 404 "404 page not found", a known path with another
 * method gets an empty 405, errors are {"message":...} plus a newline with a text/plain
 * content type. Every client is bounded: header and body sizes, and a deadline: each request
 * must arrive whole within RK_API_DEADLINE_MS of the connection's accept (or of the answer
 * to its previous request), however it trickles in. At most RK_API_MAX_CONNECTIONS
 * connections count, from their accept on; a new one beyond that takes the place of the
 * oldest that has sent no whole request for a second, or is closed at once, so that stalled
 * clients cannot lock the API out for more than a second.
 *
 * libevent 2.1's evhttp says nothing of a connection until its first request is whole, so
 * the server makes each connection's bufferevent itself (evhttp_set_bevcb) and keeps a
 * reference to it: evhttp's bufferevent_free then clears the callbacks (the sign that
 * evhttp let the connection go) and the last reference, ours, closes the socket. Closing a
 * connection early is a shutdown() of its socket, which evhttp sees as the peer's end.
 *
 * The main thread stops the loop through a pipe watched by the loop itself.
 */
#include "api/server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/json.h"
#include "port/spec.h"
#include "src/lib/gocompat.h"
#include "src/lib/util.h"

#define RK_API_MAX_CONNECTIONS 128
#define RK_API_MAX_HEADERS     (16 * 1024)
#define RK_API_MAX_BODY	       (64 * 1024)
#define RK_API_TIMEOUT_SEC     10    /* idle: nothing read or written */
#define RK_API_DEADLINE_MS     10000 /* a whole request, from accept or the last answer */
#define EVICTABLE_MS	       1000  /* a connection this old without a request may give way */
#define SWEEP_MS	       100   /* deadlines and released connections are looked at */
#define ACCEPT_PAUSE_MS	       100   /* the listener rests this long after EMFILE or ENFILE */

/* An accepted connection, from accept until evhttp lets it go. */
struct api_conn {
	struct bufferevent *bev; /* one reference is ours */
	int64_t start_ms;	 /* accept, or the answer to its last request */
	bool doomed;		 /* being closed: no longer counts */
	bool shut;		 /* shutdown() done */
};

struct rk_api_server {
	struct event_base *base;
	struct evhttp *http;
	struct event *stop_ev;
	int listen_fd;
	int dir_fd; /* the state directory, where api.sock is */
	int stop_pipe[2];
	pthread_t thread;
	bool thread_started;
	bool listen_owned; /* the listening socket belongs to evhttp */
	char *path;
	char *state_dir;
	char *net_driver;
	bool dynamic_child_ip;
	bool ipv6;
	int child_pid;
	struct rk_port_driver *port_driver; /* NULL: none */
	pthread_mutex_t net_lock;	    /* guards what follows */
	char *dns[2];
	size_t n_dns;
	char *child_ip;
	struct api_conn *conns; /* every accepted connection evhttp still holds */
	size_t n_conns, cap_conns;
	struct event *sweep_ev;
};

static int64_t now_ms(void)
{
	return (int64_t)rk_now_ms();
}

/* Ends c: its peer sees the end, evhttp sees the peer's end and lets the connection go. */
static void conn_doom(struct api_conn *c)
{
	int fd = bufferevent_getfd(c->bev);

	c->doomed = true;
	if (!c->shut && fd >= 0) { /* no fd yet: the next sweep */
		shutdown(fd, SHUT_RDWR);
		c->shut = true;
	}
}

static void sweep_schedule(struct rk_api_server *s)
{
	struct timeval tv = { 0, SWEEP_MS * 1000 };

	if (s->n_conns && !evtimer_pending(s->sweep_ev, NULL))
		evtimer_add(s->sweep_ev, &tv);
}

/* Drops the connections evhttp let go: our reference, the last, closes them. */
static void conns_prune(struct rk_api_server *s)
{
	for (size_t i = 0; i < s->n_conns;) {
		bufferevent_event_cb event_cb;
		bufferevent_getcb(s->conns[i].bev, NULL, NULL, &event_cb, NULL);
		if (event_cb) {
			i++;
			continue;
		}
		bufferevent_decref(s->conns[i].bev);
		s->conns[i] = s->conns[--s->n_conns];
	}
}

/* Drops the connections evhttp let go, ends those past their deadline. */
static void sweep(evutil_socket_t fd, short what, void *arg)
{
	struct rk_api_server *s = arg;
	int64_t now = now_ms();

	(void)fd;
	(void)what;
	conns_prune(s);
	for (size_t i = 0; i < s->n_conns; i++)
		if (s->conns[i].doomed || now - s->conns[i].start_ms >= RK_API_DEADLINE_MS)
			conn_doom(&s->conns[i]);
	sweep_schedule(s);
}

/* evhttp's accept: the new connection's bufferevent, counted from now on. */
static struct bufferevent *conn_new(struct event_base *base, void *arg)
{
	struct rk_api_server *s = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	int64_t now = now_ms();
	size_t active = 0, oldest = SIZE_MAX;

	if (!bev)
		return NULL; /* evhttp makes its own, uncounted: out of memory anyway */
	bufferevent_incref(bev);
	/* only the connections still open count: clients that came and went since the last
	 * sweep do not */
	conns_prune(s);
	for (size_t i = 0; i < s->n_conns; i++) {
		const struct api_conn *c = &s->conns[i];
		if (c->doomed)
			continue;
		active++;
		if (now - c->start_ms >= EVICTABLE_MS &&
		    (oldest == SIZE_MAX || c->start_ms < s->conns[oldest].start_ms))
			oldest = i;
	}
	if (s->n_conns == s->cap_conns) {
		s->cap_conns = s->cap_conns ? 2 * s->cap_conns : RK_API_MAX_CONNECTIONS;
		s->conns = rk_xrealloc(s->conns, s->cap_conns * sizeof(*s->conns));
	}
	/* over the limit: the oldest stalled one gives way, or the new one goes (it has no
	 * socket yet: the next sweep ends it) */
	s->conns[s->n_conns++] = (struct api_conn){
		.bev = bev,
		.start_ms = now,
		.doomed = active >= RK_API_MAX_CONNECTIONS && oldest == SIZE_MAX,
	};
	if (active >= RK_API_MAX_CONNECTIONS && oldest != SIZE_MAX)
		conn_doom(&s->conns[oldest]);
	else if (active >= RK_API_MAX_CONNECTIONS)
		event_active(s->sweep_ev, EV_TIMEOUT, 0); /* once evhttp gave it the socket */
	sweep_schedule(s);
	return bev;
}

/* The request on conn was answered: its next one has a deadline of its own. */
static void conn_answered(struct rk_api_server *s, struct evhttp_connection *conn)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);

	for (size_t i = 0; i < s->n_conns; i++)
		if (s->conns[i].bev == bev)
			s->conns[i].start_ms = now_ms();
}

static void reply(struct evhttp_request *req, int code, const char *type, const char *body)
{
	struct evbuffer *buf = evbuffer_new();

	if (type)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	if (buf && body)
		evbuffer_add(buf, body, strlen(body));
	evhttp_send_reply(req, code, NULL, buf);
	if (buf)
		evbuffer_free(buf);
}

/* upstream's error shape: a JSON body with a text/plain type */
static void reply_error(struct evhttp_request *req, int code, const char *msg)
{
	rk_auto_free char *body = rk_api_json_error(msg);
	reply(req, code, "text/plain; charset=utf-8", body);
}

/* "/v1/ports/{id}": one non-empty path segment after the prefix. */
static bool is_port_id_path(const char *path)
{
	const char *id = path + strlen("/v1/ports/");

	return strncmp(path, "/v1/ports/", strlen("/v1/ports/")) == 0 && *id && !strchr(id, '/');
}

static void list_ports(struct rk_api_server *s, struct evhttp_request *req)
{
	rk_auto_free struct rk_port_entry *ports = NULL;
	size_t n = s->port_driver->ops->list(s->port_driver, &ports);
	rk_auto_free char *body = rk_api_json_port_list(ports, n);

	reply(req, 200, "application/json", body);
}

static void add_port(struct rk_api_server *s, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "";
	struct rk_error err = { 0 };
	struct rk_port_entry e;

	if (rk_api_json_parse_spec(body, len, &e.spec, &err) < 0 ||
	    s->port_driver->ops->add(s->port_driver, &e.spec, &e.id, &err) < 0) {
		reply_error(req, 400, err.msg);
	} else {
		rk_auto_free char *out = rk_api_json_port_status(&e);
		reply(req, 201, "application/json", out);
	}
}

static void remove_port(struct rk_api_server *s, struct evhttp_request *req, const char *id_text)
{
	rk_auto_free char *decoded = evhttp_uridecode(id_text, 0, NULL);
	struct rk_error err = { 0 };
	const char *why;
	long long id;

	if (!decoded || rk_go_atoi(decoded, &id, &why) < 0) {
		rk_error_set(&err, EINVAL, "bad id %s: strconv.Atoi: parsing \"%s\": %s",
			     decoded ? decoded : id_text, decoded ? decoded : id_text,
			     decoded ? why : "invalid syntax");
		reply_error(req, 400, err.msg);
	} else if (id < INT32_MIN || id > INT32_MAX) {
		rk_error_set(&err, ENOENT, "unknown id: %lld", id);
		reply_error(req, 400, err.msg);
	} else if (s->port_driver->ops->remove(s->port_driver, (int)id, &err) < 0) {
		reply_error(req, 400, err.msg);
	} else {
		reply(req, 200, NULL, NULL);
	}
}

static void handle(struct evhttp_request *req, void *arg)
{
	struct rk_api_server *s = arg;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

	conn_answered(s, evhttp_request_get_connection(req));
	if (!path) {
		reply(req, 404, "text/plain; charset=utf-8", "404 page not found\n");
	} else if (strcmp(path, "/v1/info") == 0) {
		if (method != EVHTTP_REQ_GET) {
			reply(req, 405, NULL, NULL);
		} else {
			struct rk_api_info info = {
				.state_dir = s->state_dir,
				.child_pid = s->child_pid,
				.net_driver = s->net_driver,
				.dynamic_child_ip = s->dynamic_child_ip,
				.ipv6 = s->ipv6,
				.port_driver = s->port_driver ? s->port_driver->ops : NULL,
			};
			if (s->port_driver && s->port_driver->ops->source_ip_backend)
				info.source_ip_backend =
					s->port_driver->ops->source_ip_backend(s->port_driver);
			rk_auto_free char *body = NULL;
			pthread_mutex_lock(&s->net_lock);
			info.dns = (const char *const *)s->dns;
			info.n_dns = s->n_dns;
			info.child_ip = s->child_ip;
			body = rk_api_json_info(&info);
			pthread_mutex_unlock(&s->net_lock);
			reply(req, 200, "application/json", body);
		}
	} else if (strcmp(path, "/v1/ports") == 0) {
		if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_POST)
			reply(req, 405, NULL, NULL);
		else if (!s->port_driver)
			reply_error(req, 400, "no PortDriver is available");
		else if (method == EVHTTP_REQ_GET)
			list_ports(s, req);
		else
			add_port(s, req);
	} else if (is_port_id_path(path)) {
		if (method != EVHTTP_REQ_DELETE)
			reply(req, 405, NULL, NULL);
		else if (!s->port_driver)
			reply_error(req, 400, "no PortDriver is available");
		else
			remove_port(s, req, path + strlen("/v1/ports/"));
	} else {
		reply(req, 404, "text/plain; charset=utf-8", "404 page not found\n");
	}
}

static void on_resume(evutil_socket_t fd, short what, void *listener)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(listener);
}

/* accept() out of descriptors leaves the connection queued, and libevent's listener would
 * find it again at once, for ever: it rests instead, and tries again a little later. (arg
 * is evhttp's: the listener's callbacks share it.) */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval pause = { 0, ACCEPT_PAUSE_MS * 1000 };

	(void)arg;
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		evconnlistener_disable(l);
		if (event_base_once(evconnlistener_get_base(l), -1, EV_TIMEOUT, on_resume, l,
				    &pause) < 0)
			evconnlistener_enable(l); /* no timer: as before, rather than never again */
	}
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void *loop(void *arg)
{
	struct rk_api_server *s = arg;

	event_base_dispatch(s->base);
	return NULL;
}

/* Creates the listening socket api.sock in the directory dir_fd, mode 0600 whatever the
 * umask: bound through the descriptor, never through the directory's path (path is for
 * messages). */
static int listen_unix(int dir_fd, const char *path, struct rk_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, r;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "/proc/self/fd/%d/" RK_API_SOCKET, dir_fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return rk_error_errno(err, errno, "socket");
	unlinkat(dir_fd, RK_API_SOCKET, 0); /* a stale one (upstream issue #30) */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	/* a burst of clients waits in the queue: the server counts and sheds them from accept */
	if (r < 0 || listen(fd, SOMAXCONN) < 0) {
		r = errno;
		close(fd);
		return rk_error_errno(err, r, "listening on %s", path);
	}
	return fd;
}

int rk_api_server_start(int dir_fd, const struct rk_api_info *info,
			struct rk_port_driver *port_driver, struct rk_api_server **ret,
			struct rk_error *err)
{
	struct rk_api_server *s = rk_xcalloc(1, sizeof(*s));
	struct evhttp_bound_socket *bound;
	int r;

	s->listen_fd = s->stop_pipe[0] = s->stop_pipe[1] = -1;
	s->dir_fd = dir_fd;
	pthread_mutex_init(&s->net_lock, NULL);
	s->path = rk_xasprintf("%s/" RK_API_SOCKET, info->state_dir);
	s->state_dir = rk_xstrdup(info->state_dir);
	s->net_driver = info->net_driver ? rk_xstrdup(info->net_driver) : NULL;
	s->child_pid = info->child_pid;
	s->dynamic_child_ip = info->dynamic_child_ip;
	s->ipv6 = info->ipv6;
	s->port_driver = port_driver;
	r = listen_unix(dir_fd, s->path, err);
	if (r < 0)
		goto fail;
	s->listen_fd = r;
	if (pipe2(s->stop_pipe, O_CLOEXEC) < 0) {
		r = rk_error_errno(err, errno, "pipe");
		goto fail;
	}
	s->base = event_base_new();
	s->http = s->base ? evhttp_new(s->base) : NULL;
	s->stop_ev =
		s->base ? event_new(s->base, s->stop_pipe[0], EV_READ, on_stop, s->base) : NULL;
	s->sweep_ev = s->base ? evtimer_new(s->base, sweep, s) : NULL;
	bound = s->http ? evhttp_accept_socket_with_handle(s->http, s->listen_fd) : NULL;
	if (!s->http || !s->stop_ev || !s->sweep_ev || event_add(s->stop_ev, NULL) < 0 || !bound) {
		r = rk_error_set(err, ENOMEM, "starting the API server");
		goto fail;
	}
	s->listen_owned = true; /* evhttp closes it now */
	evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(bound), on_accept_error);
	evhttp_set_max_headers_size(s->http, RK_API_MAX_HEADERS);
	evhttp_set_max_body_size(s->http, RK_API_MAX_BODY);
	evhttp_set_timeout(s->http, RK_API_TIMEOUT_SEC);
	evhttp_set_default_content_type(s->http, "text/plain; charset=utf-8");
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_HEAD |
						    EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(s->http, handle, s);
	evhttp_set_bevcb(s->http, conn_new, s);
	r = pthread_create(&s->thread, NULL, loop, s);
	if (r) {
		r = rk_error_errno(err, r, "starting the API thread");
		goto fail;
	}
	s->thread_started = true;
	*ret = s;
	return 0;
fail:
	rk_api_server_stop(s);
	return r;
}

void rk_api_server_stop(struct rk_api_server *s)
{
	if (!s)
		return;
	if (s->thread_started) {
		(void)!write(s->stop_pipe[1], "x", 1);
		pthread_join(s->thread, NULL);
	}
	if (s->http)
		evhttp_free(s->http); /* closes every connection, and the listening socket */
	for (size_t i = 0; i < s->n_conns; i++)
		bufferevent_decref(s->conns[i].bev); /* after evhttp's: this closes them */
	free(s->conns);
	if (s->sweep_ev)
		event_free(s->sweep_ev);
	if (!s->listen_owned && s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->stop_ev)
		event_free(s->stop_ev);
	if (s->base)
		event_base_free(s->base);
	for (int i = 0; i < 2; i++)
		if (s->stop_pipe[i] >= 0)
			close(s->stop_pipe[i]);
	if (s->listen_fd >= 0)
		unlinkat(s->dir_fd, RK_API_SOCKET, 0);
	free(s->path);
	free(s->state_dir);
	free(s->net_driver);
	for (size_t i = 0; i < s->n_dns; i++)
		free(s->dns[i]);
	free(s->child_ip);
	pthread_mutex_destroy(&s->net_lock);
	free(s);
}

void rk_api_server_set_network(struct rk_api_server *s, const char *const *dns, size_t n_dns,
			       const char *child_ip)
{
	pthread_mutex_lock(&s->net_lock);
	for (size_t i = 0; i < n_dns && s->n_dns < RK_ARRAY_SIZE(s->dns); i++)
		s->dns[s->n_dns++] = rk_xstrdup(dns[i]);
	free(s->child_ip);
	s->child_ip = child_ip ? rk_xstrdup(child_ip) : NULL;
	pthread_mutex_unlock(&s->net_lock);
}
