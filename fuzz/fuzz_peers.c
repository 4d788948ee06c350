/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: what peers that the command can impersonate send, through the real loops and
 * real sockets, with their deadlines in play. The first byte chooses:
 *   even: an answer on slirp4netns' API socket (the command can put its own there), to
 *         the port driver's add_hostfwd and, when that succeeds, remove_hostfwd: served by
 *         a thread on a UNIX socket of this process;
 *   odd:  DHCP replies on the child's socket, as datagrams (a length byte each) on
 *         127.0.0.1, taken in bounded bursts until the one wanted or none is left.
 * Every call must return, within libFuzzer's -timeout. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "port/driver.h"
#include "port/slirp4netns.h"
#include "port/spec.h"
#include "src/net/dhcp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rk_port_driver *s4nn;
static int api_listener = -1;
static int dhcp_in = -1, dhcp_out = -1;
static pthread_mutex_t answer_lock = PTHREAD_MUTEX_INITIALIZER;
static const uint8_t *answer;
static size_t answer_len;

/* The API socket's peer: reads the request (the client half-closes), sends the answer. */
static void *serve_api(void *arg)
{
	(void)arg;
	for (;;) {
		char req[4096];
		int c = accept(api_listener, NULL, NULL);
		if (c < 0)
			continue;
		while (recv(c, req, sizeof(req), 0) > 0)
			;
		pthread_mutex_lock(&answer_lock);
		if (answer_len)
			(void)!send(c, answer, answer_len, MSG_NOSIGNAL);
		pthread_mutex_unlock(&answer_lock);
		close(c);
	}
	return NULL;
}

static char dir[] = "/tmp/rk-fuzz-peers.XXXXXX";
static struct sockaddr_un sun = { .sun_family = AF_UNIX };

/* The socket and its directory go with the process. */
static void cleanup(void)
{
	unlink(sun.sun_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int big = 1 << 20;
	pthread_t t;

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/.s4nn.sock", dir);
	atexit(cleanup);
	api_listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (api_listener < 0 || bind(api_listener, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(api_listener, 16) < 0 || pthread_create(&t, NULL, serve_api, NULL) != 0)
		abort();
	s4nn = rk_port_slirp4netns_new(sun.sun_path, "10.0.2.100");
	/* the child's DHCP socket and the server behind it, on loopback only */
	dhcp_in = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	dhcp_out = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	setsockopt(dhcp_in, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (dhcp_in < 0 || dhcp_out < 0 || bind(dhcp_in, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(dhcp_in, (struct sockaddr *)&a, &alen) < 0 ||
	    connect(dhcp_out, (struct sockaddr *)&a, sizeof(a)) < 0)
		abort();
	return 0;
}

static void set_answer(const uint8_t *data, size_t size)
{
	pthread_mutex_lock(&answer_lock);
	answer = data;
	answer_len = size;
	pthread_mutex_unlock(&answer_lock);
}

static void fuzz_api(const uint8_t *data, size_t size)
{
	static const char ok[] = "{\"return\": {}}\n";
	struct rk_port_spec spec;
	struct rk_port_entry *list = NULL;
	struct rk_error err;
	int id;

	if (rk_port_spec_parse("127.0.0.1:18080:80/tcp", &spec, &err) < 0)
		abort();
	set_answer(data, size);
	if (s4nn->ops->add(s4nn, &spec, &id, &err) < 0)
		return;
	/* an id that was taken is one an int holds, and listed */
	if (id < 0 || s4nn->ops->list(s4nn, &list) != 1 || list[0].id != id)
		__builtin_trap();
	free(list);
	s4nn->ops->remove(s4nn, id, &err);
	/* the answer may have refused the removal: the next input starts empty */
	set_answer((const uint8_t *)ok, sizeof(ok) - 1);
	s4nn->ops->remove(s4nn, id, &err);
	if (s4nn->ops->list(s4nn, &list) != 0)
		__builtin_trap();
	free(list);
}

static void fuzz_dhcp(const uint8_t *data, size_t size)
{
	struct rk_dhcp_reply reply;
	uint8_t mac[6] = { 0 }, sink[2048];
	uint32_t xid = 0;
	unsigned sent = 0;

	if (size >= 7) {
		memcpy(&xid, data, 4);
		memcpy(mac, data + 4, 2); /* the rest zero: datagrams can match */
		data += 7;
		size -= 7;
	}
	while (size > 0) {
		size_t n = data[0];
		data++;
		size--;
		if (n > size)
			n = size;
		if (send(dhcp_out, data, n, 0) == (ssize_t)n)
			sent++;
		data += n;
		size -= n;
	}
	/* bursts until the wanted reply or an empty queue: never more calls than bursts */
	for (unsigned calls = 0;; calls++) {
		int r = rk_dhcp_take_replies(dhcp_in, xid, mac, RK_DHCP_OFFER, true, &reply);
		if (r != 0)
			break;
		if (calls > sent / RK_DHCP_BURST + 1)
			__builtin_trap();
		if (recv(dhcp_in, sink, 0, MSG_DONTWAIT | MSG_PEEK) < 0)
			break;
	}
	while (recv(dhcp_in, sink, sizeof(sink), MSG_DONTWAIT) >= 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_api(data + 1, size - 1);
	else
		fuzz_dhcp(data + 1, size - 1);
	return 0;
}
