/* SPDX-License-Identifier: Apache-2.0 */
/* The socket supply of the builtin port driver: requests, answers with descriptors, and
 * malformed requests, over a real SOCK_SEQPACKET pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msg.h"
#include "sockpool.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_transparent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
