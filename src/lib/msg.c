/* SPDX-License-Identifier: Apache-2.0 */
#include "src/lib/msg.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int rk_msg_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	return 0;
}

/* Sends m, with attach (when >= 0) as SCM_RIGHTS. */
static int send_msg_fd(int fd, const struct rk_msg *m, int attach)
{
	struct iovec iov = { .iov_base = (void *)m,
			     .iov_len = offsetof(struct rk_msg, text) +
					strnlen(m->text, sizeof(m->text) - 1) + 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (attach >= 0) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &attach, sizeof(int));
	}
	while (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int send_msg(int fd, const struct rk_msg *m)
{
	return send_msg_fd(fd, m, -1);
}

int rk_msg_send_fd(int sock, enum rk_msg_type type, int fd)
{
	struct rk_msg m = { .type = type };
	return send_msg_fd(sock, &m, fd);
}

int rk_msg_send_value(int fd, enum rk_msg_type type, int32_t value)
{
	struct rk_msg m = { .type = type, .err = value };
	return send_msg(fd, &m);
}

int rk_msg_send(int fd, enum rk_msg_type type)
{
	return rk_msg_send_value(fd, type, 0);
}

int rk_msg_send_text(int fd, enum rk_msg_type type, const char *text)
{
	struct rk_msg m = { .type = type };
	snprintf(m.text, sizeof(m.text), "%s", text);
	return send_msg(fd, &m);
}

int rk_msg_send_error(int fd, const struct rk_error *err)
{
	struct rk_msg m = { .type = RK_MSG_ERROR, .err = err->code };
	memcpy(m.text, err->msg, sizeof(m.text));
	m.text[sizeof(m.text) - 1] = '\0';
	return send_msg(fd, &m);
}

int rk_msg_recv_fd(int fd, struct rk_msg *msg, int *ret_fd)
{
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(*msg) };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	int got = -1;

	*ret_fd = -1;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* keep the first descriptor, close any other the peer sent */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int one;
			memcpy(&one, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (got < 0)
				got = one;
			else
				close(one);
		}
	}
	if (n == 0) {
		if (got >= 0)
			close(got);
		return 0;
	}
	if ((size_t)n <= offsetof(struct rk_msg, text) || msg->type < RK_MSG_IDMAP_DONE ||
	    msg->type > RK_MSG_NET_FD) {
		if (got >= 0)
			close(got);
		return -EBADMSG;
	}
	*ret_fd = got;
	/* n <= sizeof(*msg): make the text a string whatever the peer sent */
	((char *)msg)[(size_t)n < sizeof(*msg) ? (size_t)n : sizeof(*msg) - 1] = '\0';
	msg->text[sizeof(msg->text) - 1] = '\0';
	return 1;
}

int rk_msg_recv(int fd, struct rk_msg *msg)
{
	int attached, r = rk_msg_recv_fd(fd, msg, &attached);

	if (attached >= 0)
		close(attached); /* nobody asked for one */
	return r;
}

int rk_msg_expect(int fd, enum rk_msg_type want, struct rk_error *err)
{
	struct rk_msg m;
	int r = rk_msg_recv(fd, &m);

	if (r < 0)
		return rk_error_errno(err, -r, "reading from the parent/child channel");
	if (r == 0)
		return rk_error_set(err, EPIPE,
				    "the other side of the parent/child channel is gone");
	if (m.type == RK_MSG_ERROR)
		return rk_error_set(err, m.err > 0 ? m.err : EIO, "%s", m.text);
	if (m.type != want)
		return rk_error_set(err, EPROTO, "unexpected message %u (want %u)", m.type, want);
	return 0;
}
