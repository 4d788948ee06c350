/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection-rate benchmark tool (bench/ports.sh), loopback only.
 *
 *   connrate serve PORT                  accept, read the request, answer "ok", close
 *   connrate run HOST PORT SECONDS N     N connections in flight at a time, each: connect,
 *                                        send, read the answer to EOF, close; prints the
 *                                        completed connections per second, how many
 *                                        completed and failed, and its own CPU time
 *
 * Single-threaded and epoll-driven, so that the tool itself costs little next to what it
 * measures. Every loop is bounded: run stops after SECONDS, serve when its stdin closes
 * or after an hour.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_INFLIGHT 1024

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int serve(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct epoll_event ev, evs[256];
	int one = 1, ep, l;
	double end = now() + 3600;

	a.sin_addr.s_addr = htonl(INADDR_ANY);
	l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4096) < 0) {
		perror("connrate serve");
		return 1;
	}
	ep = epoll_create1(0);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = l };
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = 0 };
	epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	printf("ready\n");
	fflush(stdout);
	while (now() < end) {
		int n = epoll_wait(ep, evs, 256, 1000);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			char buf[64];
			if (fd == 0)
				return 0; /* stdin closed: the benchmark is over */
			if (fd == l) {
				int c;
				while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			if (read(fd, buf, sizeof(buf)) != 0)
				(void)!write(fd, "ok", 2);
			close(fd);
		}
	}
	return 0;
}

struct slot {
	int fd;
	int state; /* 0 connecting, 1 waiting for the answer */
};

static int start(struct slot *s, int ep, const struct sockaddr_storage *ss, socklen_t len,
		 int idx)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = (uint32_t)idx };
	int one = 1;

	s->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (s->fd < 0)
		return -1;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s->fd, (const struct sockaddr *)ss, len) < 0 && errno != EINPROGRESS)
		return -1;
	s->state = 0;
	return epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
}

static int run(const char *host, int port, double seconds, int n)
{
	static struct slot slots[MAX_INFLIGHT];
	struct sockaddr_storage ss = { 0 };
	struct epoll_event evs[256];
	socklen_t len;
	long done = 0, failed = 0;
	struct rusage ru;
	double t0, end;
	int ep = epoll_create1(0);

	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		len = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "connrate: %s is not an address\n", host);
		return 1;
	}
	if (n < 1 || n > MAX_INFLIGHT) {
		fprintf(stderr, "connrate: 1..%d connections in flight\n", MAX_INFLIGHT);
		return 1;
	}
	t0 = now();
	end = t0 + seconds;
	for (int i = 0; i < n; i++)
		if (start(&slots[i], ep, &ss, len, i) < 0) {
			perror("connrate");
			return 1;
		}
	while (now() < end) {
		int k = epoll_wait(ep, evs, 256, 1000);
		for (int i = 0; i < k; i++) {
			int idx = (int)evs[i].data.u32;
			struct slot *s = &slots[idx];
			char buf[64];
			if (s->state == 0) {
				int e = 0;
				socklen_t l = sizeof(e);
				getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &l);
				if (e || write(s->fd, "hi", 2) != 2) {
					failed++;
					close(s->fd);
					start(s, ep, &ss, len, idx);
					continue;
				}
				struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)idx };
				epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
				s->state = 1;
				continue;
			}
			ssize_t r = read(s->fd, buf, sizeof(buf));
			if (r > 0)
				continue; /* the answer; EOF follows */
			if (r < 0 && errno == EAGAIN)
				continue;
			if (r == 0)
				done++;
			else
				failed++;
			close(s->fd);
			if (start(s, ep, &ss, len, idx) < 0) {
				perror("connrate");
				return 1;
			}
		}
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("%.0f conn/s (%ld done, %ld failed, %.0f ms cpu)\n", (double)done / (now() - t0),
	       done, failed,
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
	return failed > done / 100 ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(atoi(argv[2]));
	if (argc == 6 && strcmp(argv[1], "run") == 0)
		return run(argv[2], atoi(argv[3]), atof(argv[4]), atoi(argv[5]));
	fprintf(stderr, "usage: connrate serve PORT | connrate run HOST PORT SECONDS N\n");
	return 2;
}
