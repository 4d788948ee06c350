/* SPDX-License-Identifier: Apache-2.0 */
/* The socket supply of the builtin port driver.
 *
 * A socket belongs to the network namespace of the process that created it, for life.
 * So the parent, which cannot enter the child's network namespace, asks the socket maker
 * (maker.c, which entered it) for batches of fresh TCP and UDP sockets over a
 * SOCK_SEQPACKET channel; they come back with SCM_RIGHTS, and the parent connects them itself. A
 * connection then costs no round trip to the child. */
#ifndef RK_SOCKPOOL_H
#define RK_SOCKPOOL_H

#include <stdint.h>
#include <sys/types.h>

/* The most descriptors one SCM_RIGHTS message may carry (the kernel's SCM_MAX_FD). */
#define RK_SOCKPOOL_MAX_BATCH 253

enum rk_sockpool_op {
	RK_SOCKPOOL_SOCKETS = 1, /* make count sockets of family and type */
	RK_SOCKPOOL_TRANSPARENT, /* set up the routing transparent sockets need */
};

struct rk_sockpool_req {
	uint32_t op;	/* enum rk_sockpool_op */
	int32_t family; /* AF_INET or AF_INET6 */
	int32_t type;	/* SOCK_STREAM or SOCK_DGRAM */
	uint32_t count; /* 1..RK_SOCKPOOL_MAX_BATCH */
};

struct rk_sockpool_rep {
	uint32_t op;
	int32_t family;
	int32_t type;
	uint32_t asked; /* the request's count */
	uint32_t count; /* descriptors attached */
	int32_t err;	/* positive errno: fewer sockets than asked, or the set-up failed */
};

/* Parent: asks for count sockets. Returns 0 or -errno. */
int rk_sockpool_request(int chan, int family, int type, unsigned count);

/* Parent: asks for the routing of transparent sockets. Returns 0 or -errno. */
int rk_sockpool_request_transparent(int chan);

/* Maker: reads one request and answers it; transparent (which may be NULL) does the
 * routing set-up and returns 0 or a positive errno. Returns 1 when one was handled, 0 at
 * end of file, or -errno (-EBADMSG for a malformed request, answered with EINVAL). */
int rk_sockpool_serve(int chan, int (*transparent)(void));

/* Parent: reads one answer; fds must hold RK_SOCKPOOL_MAX_BATCH entries, and receive
 * rep->count descriptors (close-on-exec). Returns 1, 0 at end of file, or -errno;
 * -EBADMSG for a malformed answer, whose rep->count descriptors were closed. */
int rk_sockpool_receive(int chan, struct rk_sockpool_rep *rep, int *fds);

/* A network namespace, as the kernel names it: the device and inode of its nsfs file. */
struct rk_netns_id {
	dev_t dev;
	ino_t ino;
};

/* Reads the identity of the namespace file at path (/proc/PID/ns/net, or a bind mount of
 * one). Returns 0 or -errno. */
int rk_netns_id_of_path(const char *path, struct rk_netns_id *ret);

/* Parent: whether fd, received from the maker, is what was asked for: a socket of family
 * and type with the protocol that type means (TCP, UDP), made in the network namespace
 * ns. Whatever lives in the child's namespaces may send anything: a pipe, a socket of the host's
 * namespace (which connect() would route on the host), a UNIX socket. Returns 0 or -errno:
 * ENOTSOCK, EAFNOSUPPORT, EPROTOTYPE, EPROTONOSUPPORT, EXDEV (another namespace), or what the
 * kernel said. */
int rk_sockpool_check(int fd, int family, int type, const struct rk_netns_id *ns);

/* Parent: takes from an answer (rep with its rep->count descriptors in fds) what was asked
 * for: at most *outstanding descriptors (the pool's sockets asked for and not yet
 * answered), and only those rk_sockpool_check() accepts, moved to the front of fds. The
 * answer settles its request: *outstanding goes down by rep->asked. Everything else is
 * closed at once and added to *rejected. ns NULL (not known yet) accepts none. Returns
 * how many were kept. */
unsigned rk_sockpool_admit(const struct rk_sockpool_rep *rep, int *fds, unsigned *outstanding,
			   const struct rk_netns_id *ns, unsigned long *rejected);

#endif
