/* SPDX-License-Identifier: Apache-2.0 */
#include "port/sockpool.h"

#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int send_request(int chan, const struct rk_sockpool_req *req)
{
	while (send(chan, req, sizeof(*req), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int rk_sockpool_request(int chan, int family, int type, unsigned count)
{
	return send_request(chan,
			    &(struct rk_sockpool_req){ RK_SOCKPOOL_SOCKETS, family, type, count });
}

int rk_sockpool_request_transparent(int chan)
{
	return send_request(chan, &(struct rk_sockpool_req){ .op = RK_SOCKPOOL_TRANSPARENT });
}

static int send_reply(int chan, const struct rk_sockpool_rep *rep, const int *fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * RK_SOCKPOOL_MAX_BATCH)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)rep, sizeof(*rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (rep->count) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * rep->count);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * rep->count);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * rep->count);
	}
	while (sendmsg(chan, &mh, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int rk_sockpool_serve(int chan, int (*transparent)(void))
{
	struct rk_sockpool_req req;
	struct rk_sockpool_rep rep = { 0 };
	int fds[RK_SOCKPOOL_MAX_BATCH];
	uint32_t made;
	ssize_t n;
	int r;

	do
		n = recv(chan, &req, sizeof(req), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 1 : -errno;
	if (n == 0)
		return 0;
	rep.op = RK_SOCKPOOL_SOCKETS;
	if ((size_t)n == sizeof(req) && req.op == RK_SOCKPOOL_TRANSPARENT) {
		rep.op = req.op;
		rep.err = transparent ? transparent() : ENOTSUP;
		r = send_reply(chan, &rep, fds);
		return r < 0 ? r : 1;
	}
	if ((size_t)n != sizeof(req) || req.op != RK_SOCKPOOL_SOCKETS ||
	    (req.family != AF_INET && req.family != AF_INET6) ||
	    (req.type != SOCK_STREAM && req.type != SOCK_DGRAM) || req.count == 0 ||
	    req.count > RK_SOCKPOOL_MAX_BATCH) {
		rep.err = EINVAL;
		send_reply(chan, &rep, fds);
		return -EBADMSG;
	}
	rep.family = req.family;
	rep.type = req.type;
	rep.asked = req.count;
	while (rep.count < req.count) {
		int fd = socket(req.family, req.type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
		if (fd < 0) {
			rep.err = errno;
			break;
		}
		/* done here, off the parent's path: Go's default for TCP connections */
		if (req.type == SOCK_STREAM)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fds[rep.count++] = fd;
	}
	made = rep.count;
	r = send_reply(chan, &rep, fds);
	for (uint32_t i = 0; i < made; i++)
		close(fds[i]);
	/* the kernel would not carry the descriptors (ETOOMANYREFS: too many in flight for
	 * the descriptor limit; ENOBUFS, ENOMEM): the answer says so without them, and the
	 * parent asks again later; the channel itself is fine */
	if ((r == -ETOOMANYREFS || r == -ENOBUFS || r == -ENOMEM) && rep.count) {
		rep.err = -r;
		rep.count = 0;
		r = send_reply(chan, &rep, fds);
	}
	return r < 0 ? r : 1;
}

int rk_sockpool_receive(int chan, struct rk_sockpool_rep *rep, int *fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * RK_SOCKPOOL_MAX_BATCH)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { rep, sizeof(*rep) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	uint32_t got = 0;

	do
		n = recvmsg(chan, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (got < RK_SOCKPOOL_MAX_BATCH)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	if ((size_t)n != sizeof(*rep)) {
		for (uint32_t i = 0; i < got; i++)
			close(fds[i]);
		memset(rep, 0, sizeof(*rep));
		rep->count = got; /* closed: for the caller's count */
		return -EBADMSG;
	}
	/* MSG_CTRUNC (our fd limit): fewer than announced arrived; count what we hold */
	if (got < rep->count && rep->err == 0)
		rep->err = (mh.msg_flags & MSG_CTRUNC) ? EMFILE : EPROTO;
	rep->count = got;
	return 1;
}

int rk_netns_id_of_path(const char *path, struct rk_netns_id *ret)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	ret->dev = st.st_dev;
	ret->ino = st.st_ino;
	return 0;
}

static int sock_opt(int fd, int opt, int *ret)
{
	socklen_t len = sizeof(*ret);

	return getsockopt(fd, SOL_SOCKET, opt, ret, &len) < 0 ? -errno : 0;
}

int rk_sockpool_check(int fd, int family, int type, const struct rk_netns_id *ns)
{
	int v, nsfd, r;
	struct stat st;

	if ((r = sock_opt(fd, SO_DOMAIN, &v)) < 0)
		return r;
	if (v != family)
		return -EAFNOSUPPORT;
	if ((r = sock_opt(fd, SO_TYPE, &v)) < 0)
		return r;
	if (v != type)
		return -EPROTOTYPE;
	if ((r = sock_opt(fd, SO_PROTOCOL, &v)) < 0)
		return r;
	if (v != (type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP))
		return -EPROTONOSUPPORT;
	/* the parent owns the child's user namespace: CAP_NET_ADMIN over its network */
	nsfd = ioctl(fd, SIOCGSKNS);
	if (nsfd < 0)
		return -errno;
	r = fstat(nsfd, &st) < 0 ? -errno : 0;
	close(nsfd);
	if (r == 0 && (st.st_dev != ns->dev || st.st_ino != ns->ino))
		r = -EXDEV;
	return r;
}

unsigned rk_sockpool_admit(const struct rk_sockpool_rep *rep, int *fds, unsigned *outstanding,
			   const struct rk_netns_id *ns, unsigned long *rejected)
{
	unsigned room = *outstanding, kept = 0;

	/* the answer's own count of what it answers may lie: it is bounded by the ledger */
	if (rep->asked < room)
		room = rep->asked;
	*outstanding -= room;
	for (uint32_t i = 0; i < rep->count; i++) {
		if (kept < room && ns &&
		    rk_sockpool_check(fds[i], rep->family, rep->type, ns) == 0) {
			fds[kept++] = fds[i];
			continue;
		}
		close(fds[i]);
		++*rejected;
	}
	return kept;
}
