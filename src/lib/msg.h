/* SPDX-License-Identifier: Apache-2.0 */
/* The parent<->child channel: one SOCK_SEQPACKET socketpair carrying small typed messages.
 * An error travels as errno + text, so that the parent can report what failed in the child
 * in the child's own words. */
#ifndef RK_MSG_H
#define RK_MSG_H

#include <stdint.h>

#include "src/lib/error.h"

enum rk_msg_type {
	RK_MSG_IDMAP_DONE = 1, /* parent -> child: uid/gid maps are written */
	RK_MSG_SETUP_DONE,     /* child -> parent: namespaces are set up */
	RK_MSG_EXEC,	       /* parent -> child: state dir is ready, exec the command */
	RK_MSG_ERROR,	       /* child -> parent: a failure, see err and text */
	RK_MSG_NET_CONFIG,     /* parent -> child: configure the interface (netcfg.h, in text) */
	RK_MSG_NET_DONE,       /* child -> parent: the network is configured */
	RK_MSG_NET_FD,	       /* child -> parent: a descriptor of the child's network
				* namespace (the tap, a DHCP socket) attached */
};

struct rk_msg {
	uint32_t type; /* enum rk_msg_type */
	int32_t err;   /* positive errno for RK_MSG_ERROR, 0 otherwise */
	char text[RK_ERROR_MSG_MAX];
};

/* Creates the socketpair (both ends close-on-exec). Returns 0 or -errno. */
int rk_msg_pair(int fds[2]);

/* Sends a message without text. Returns 0 or -errno. */
int rk_msg_send(int fd, enum rk_msg_type type);

/* Sends a message without text, with err set to value. Returns 0 or -errno. */
int rk_msg_send_value(int fd, enum rk_msg_type type, int32_t value);

/* Sends a message with text. Returns 0 or -errno. */
int rk_msg_send_text(int fd, enum rk_msg_type type, const char *text);

/* Sends a message without text with fd attached (SCM_RIGHTS). Returns 0 or -errno. */
int rk_msg_send_fd(int sock, enum rk_msg_type type, int fd);

/* Sends RK_MSG_ERROR carrying err. Returns 0 or -errno. */
int rk_msg_send_error(int fd, const struct rk_error *err);

/* Receives one message. Returns 1 when a message arrived, 0 at end of file (the other side
 * is gone), or -errno (-EBADMSG for a malformed message). */
int rk_msg_recv(int fd, struct rk_msg *msg);

/* rk_msg_recv that also takes a descriptor attached to the message: *ret_fd is it
 * (close-on-exec), or -1. A descriptor attached to a malformed message is closed. */
int rk_msg_recv_fd(int fd, struct rk_msg *msg, int *ret_fd);

/* Receives one message and checks its type. Returns 0 when it is want; otherwise fills err
 * (with the peer's error for RK_MSG_ERROR) and returns a negative errno (-EPIPE at EOF). */
int rk_msg_expect(int fd, enum rk_msg_type want, struct rk_error *err);

#endif
