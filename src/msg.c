/* SPDX-License-Identifier: Apache-2.0 */
#include "msg.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int rk_msg_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	return 0;
}

static int send_msg(int fd, const struct rk_msg *m)
{
	size_t len = offsetof(struct rk_msg, text) + strnlen(m->text, sizeof(m->text) - 1) + 1;

	while (send(fd, m, len, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
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

int rk_msg_recv(int fd, struct rk_msg *msg)
{
	ssize_t n;

	do
		n = recv(fd, msg, sizeof(*msg), MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if ((size_t)n <= offsetof(struct rk_msg, text) || msg->type < RK_MSG_IDMAP_DONE ||
	    msg->type > RK_MSG_NET_DONE)
		return -EBADMSG;
	/* n <= sizeof(*msg): make the text a string whatever the peer sent */
	((char *)msg)[(size_t)n < sizeof(*msg) ? (size_t)n : sizeof(*msg) - 1] = '\0';
	msg->text[sizeof(msg->text) - 1] = '\0';
	return 1;
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
