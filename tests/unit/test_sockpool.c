/* SPDX-License-Identifier: Apache-2.0 */
/* The socket supply of the builtin port driver: requests, answers with descriptors, and
 * malformed requests, over a real SOCK_SEQPACKET pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port/sockpool.h"
#include "src/lib/msg.h"

static void test_batch(void **state)
{
	int ch[2], fds[RK_SOCKPOOL_MAX_BATCH];
	struct rk_sockpool_rep rep;

	(void)state;
	assert_int_equal(rk_msg_pair(ch), 0);
	assert_int_equal(rk_sockpool_request(ch[0], AF_INET6, SOCK_DGRAM, 3), 0);
	assert_int_equal(rk_sockpool_serve(ch[1], NULL), 1);
	assert_int_equal(rk_sockpool_receive(ch[0], &rep, fds), 1);
	assert_int_equal(rep.family, AF_INET6);
	assert_int_equal(rep.type, SOCK_DGRAM);
	assert_int_equal(rep.asked, 3);
	assert_int_equal(rep.count, 3);
	assert_int_equal(rep.err, 0);
	for (int i = 0; i < 3; i++) {
		int dom = 0, type = 0;
		socklen_t l = sizeof(int);
		assert_int_equal(getsockopt(fds[i], SOL_SOCKET, SO_DOMAIN, &dom, &l), 0);
		assert_int_equal(getsockopt(fds[i], SOL_SOCKET, SO_TYPE, &type, &l), 0);
		assert_int_equal(dom, AF_INET6);
		assert_int_equal(type, SOCK_DGRAM);
		/* ready for a non-blocking connect, and not leaked into an exec */
		assert_true(fcntl(fds[i], F_GETFL) & O_NONBLOCK);
		assert_true(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
		close(fds[i]);
	}
	/* the largest batch one message can carry */
	assert_int_equal(rk_sockpool_request(ch[0], AF_INET, SOCK_STREAM, RK_SOCKPOOL_MAX_BATCH),
			 0);
	assert_int_equal(rk_sockpool_serve(ch[1], NULL), 1);
	assert_int_equal(rk_sockpool_receive(ch[0], &rep, fds), 1);
	assert_int_equal(rep.count, RK_SOCKPOOL_MAX_BATCH);
	for (unsigned i = 0; i < rep.count; i++)
		close(fds[i]);
	close(ch[0]);
	close(ch[1]);
}

static void test_bad_requests(void **state)
{
	int ch[2], fds[RK_SOCKPOOL_MAX_BATCH];
	struct rk_sockpool_rep rep;
	const int bad[][3] = { { AF_UNIX, SOCK_STREAM, 1 },
			       { AF_INET, SOCK_RAW, 1 },
			       { AF_INET, SOCK_STREAM, 0 },
			       { AF_INET, SOCK_STREAM, RK_SOCKPOOL_MAX_BATCH + 1 } };

	(void)state;
	assert_int_equal(rk_msg_pair(ch), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
			rk_sockpool_request(ch[0], bad[i][0], bad[i][1], (unsigned)bad[i][2]), 0);
		assert_int_equal(rk_sockpool_serve(ch[1], NULL), -EBADMSG);
		assert_int_equal(rk_sockpool_receive(ch[0], &rep, fds), 1);
		assert_int_equal(rep.err, EINVAL);
		assert_int_equal(rep.count, 0);
	}
	/* a short message is malformed too */
	assert_int_equal(send(ch[0], "x", 1, 0), 1);
	assert_int_equal(rk_sockpool_serve(ch[1], NULL), -EBADMSG);
	assert_int_equal(rk_sockpool_receive(ch[0], &rep, fds), 1);
	/* nothing waiting: not an error; the peer gone: end of file */
	assert_int_equal(rk_sockpool_receive(ch[0], &rep, fds), -EAGAIN);
	close(ch[0]);
	assert_int_equal(rk_sockpool_serve(ch[1], NULL), 0);
	close(ch[1]);
}

static int setup_result;

static int fake_setup(void)
{
	return setup_result;
}

static void test_transparent(void **state)
{
	int ch[2], fds[RK_SOCKPOOL_MAX_BATCH];
	struct rk_sockpool_rep rep;

	(void)state;
	assert_int_equal(rk_msg_pair(ch), 0);
	/* the set-up's result travels back; without a set-up function it is ENOTSUP */
	setup_result = 0;
	assert_int_equal(rk_sockpool_request_transparent(ch[0]), 0);
	assert_int_equal(rk_sockpool_serve(ch[1], fake_setup), 1);
	assert_int_equal(rk_sockpool_receive(ch[0], &rep, fds), 1);
	assert_int_equal(rep.op, RK_SOCKPOOL_TRANSPARENT);
	assert_int_equal(rep.err, 0);
	assert_int_equal(rep.count, 0);
	setup_result = ENOENT;
	assert_int_equal(rk_sockpool_request_transparent(ch[0]), 0);
	assert_int_equal(rk_sockpool_serve(ch[1], fake_setup), 1);
	assert_int_equal(rk_sockpool_receive(ch[0], &rep, fds), 1);
	assert_int_equal(rep.err, ENOENT);
	assert_int_equal(rk_sockpool_request_transparent(ch[0]), 0);
	assert_int_equal(rk_sockpool_serve(ch[1], NULL), 1);
	assert_int_equal(rk_sockpool_receive(ch[0], &rep, fds), 1);
	assert_int_equal(rep.err, ENOTSUP);
	close(ch[0]);
	close(ch[1]);
}

/* An answer carrying n fresh descriptors made by make(i). */
static void fill(struct rk_sockpool_rep *rep, int *fds, unsigned asked, unsigned n,
		 int (*make)(unsigned i))
{
	*rep = (struct rk_sockpool_rep){ RK_SOCKPOOL_SOCKETS, AF_INET, SOCK_STREAM, asked, n, 0 };
	for (unsigned i = 0; i < n; i++) {
		fds[i] = make(i);
		assert_true(fds[i] >= 0);
	}
}

static int make_tcp(unsigned i)
{
	(void)i;
	return socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static int foreign = -1; /* a TCP socket of another network namespace */

/* What a hostile child sends instead: a pipe, a UDP socket, a TCP one of IPv6, a UNIX
 * one, one of another namespace, and (last) a good one. */
static int make_mixed(unsigned i)
{
	int p[2];

	switch (i % 6) {
	case 0:
		if (pipe(p) < 0)
			return -1;
		close(p[0]);
		return p[1];
	case 1:
		return socket(AF_INET, SOCK_DGRAM, 0);
	case 2:
		return socket(AF_INET6, SOCK_STREAM, 0);
	case 3:
		return socket(AF_UNIX, SOCK_STREAM, 0);
	case 4:
		return dup(foreign);
	default:
		return make_tcp(i);
	}
}

/* The number of open descriptors of this process. */
static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 4096; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* The n descriptors kept in front of fds are good sockets; closes them. */
static void check_kept(int *fds, unsigned n, const struct rk_netns_id *ns)
{
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(rk_sockpool_check(fds[i], AF_INET, SOCK_STREAM, ns), 0);
		close(fds[i]);
	}
}

static void test_admit(void **state)
{
	int fds[RK_SOCKPOOL_MAX_BATCH], self, base;
	struct rk_sockpool_rep rep;
	struct rk_netns_id ns;
	unsigned outstanding;
	unsigned long rejected = 0;

	(void)state;
	/* SIOCGSKNS needs CAP_NET_ADMIN over the namespace: a user gets it in its own */
	if (geteuid() != 0)
		assert_int_equal(unshare(CLONE_NEWUSER | CLONE_NEWNET), 0);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(self >= 0);
	assert_int_equal(rk_netns_id_of_path("/proc/self/ns/net", &ns), 0);
	/* the other namespace's socket, made there; then back */
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	foreign = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(setns(self, CLONE_NEWNET), 0);
	close(self);
	assert_int_equal(rk_sockpool_check(foreign, AF_INET, SOCK_STREAM, &ns), -EXDEV);
	base = open_fds();

	/* what was asked for is kept */
	outstanding = 8;
	fill(&rep, fds, 8, 8, make_tcp);
	assert_int_equal(rk_sockpool_admit(&rep, fds, &outstanding, &ns, &rejected), 8);
	assert_int_equal(outstanding, 0);
	assert_int_equal(rejected, 0);
	check_kept(fds, 8, &ns);

	/* an answer nobody asked for: all closed and counted */
	fill(&rep, fds, 200, 200, make_tcp);
	assert_int_equal(rk_sockpool_admit(&rep, fds, &outstanding, &ns, &rejected), 0);
	assert_int_equal(rejected, 200);
	assert_int_equal(open_fds(), base);

	/* more than asked (the answer's own "asked" lies): only the request's share */
	outstanding = 4;
	fill(&rep, fds, 100, 100, make_tcp);
	assert_int_equal(rk_sockpool_admit(&rep, fds, &outstanding, &ns, &rejected), 4);
	assert_int_equal(outstanding, 0);
	assert_int_equal(rejected, 296);
	check_kept(fds, 4, &ns);
	assert_int_equal(open_fds(), base);

	/* the wrong kinds, whatever the request: only the good ones are kept, in front */
	outstanding = 12;
	fill(&rep, fds, 12, 12, make_mixed);
	assert_int_equal(rk_sockpool_admit(&rep, fds, &outstanding, &ns, &rejected), 2);
	assert_int_equal(rejected, 306);
	check_kept(fds, 2, &ns);
	assert_int_equal(open_fds(), base);

	/* the namespace not known yet: nothing is kept */
	outstanding = 3;
	fill(&rep, fds, 3, 3, make_tcp);
	assert_int_equal(rk_sockpool_admit(&rep, fds, &outstanding, NULL, &rejected), 0);
	assert_int_equal(outstanding, 0);
	assert_int_equal(open_fds(), base);
	close(foreign);
}

/* A malformed answer's descriptors are closed, and their number is told. */
static void test_malformed_answer(void **state)
{
	int ch[2], fds[RK_SOCKPOOL_MAX_BATCH], base;
	struct rk_sockpool_rep rep = { RK_SOCKPOOL_SOCKETS, AF_INET, SOCK_STREAM, 3, 3, 0 };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 3)];
		struct cmsghdr align;
	} u = { 0 };
	struct iovec iov = { &rep, sizeof(rep) - 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	(void)state;
	assert_int_equal(rk_msg_pair(ch), 0);
	base = open_fds();
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * 3);
	for (int i = 0; i < 3; i++) {
		int fd = make_tcp(0);
		memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(int));
	}
	assert_true(sendmsg(ch[1], &mh, 0) > 0);
	for (int i = 0; i < 3; i++) {
		int fd;
		memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		close(fd);
	}
	assert_int_equal(rk_sockpool_receive(ch[0], &rep, fds), -EBADMSG);
	assert_int_equal(rep.count, 3);
	assert_int_equal(open_fds(), base);
	close(ch[0]);
	close(ch[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_transparent),
		cmocka_unit_test(test_admit),
		cmocka_unit_test(test_malformed_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
