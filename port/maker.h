/* SPDX-License-Identifier: Apache-2.0 */
/* The socket maker: the builtin port driver's supply of sockets made in the child's network
 * namespace (the sockpool.h protocol), a process of the parent's that the command cannot
 * reach. See maker.c. */
#ifndef RK_PORT_MAKER_H
#define RK_PORT_MAKER_H

#include <sys/types.h>

#include "src/lib/error.h"
#include "src/lib/sig.h"

struct rk_sockmaker {
	pid_t pid;  /* -1 when there is none */
	int chan;   /* the parent's end of the socket supply, until the port driver takes it */
	int go;	    /* the parent's end of the namespaces' pipe */
	int answer; /* the maker's answer to them */
	/* enum rk_transparent_backend: the one asked for, before the fork; the one resolved
	 * in the child's namespace, once rk_sockmaker_enter() returned */
	int backend;
};

#define RK_SOCKMAKER_INIT                                                                          \
	{                                                                                          \
		.pid = -1, .chan = -1, .go = -1, .answer = -1, .backend = 0                        \
	}

/* Forks the maker, which waits for rk_sockmaker_enter(). Call it while the parent has a
 * single thread (the maker goes on running our code). Returns 0 or -errno with err set. */
int rk_sockmaker_fork(struct rk_sockmaker *m, struct rk_error *err);

/* Sends the maker into the user namespace userns_path and the network namespace
 * netns_path (files of /proc/PID, seen from the parent), and waits up to 10 s (cut short
 * by cancel: -EINTR) for it to say it is there, with the transparency backend it resolved
 * there (m->backend). Returns 0 or -errno with err set. */
int rk_sockmaker_enter(struct rk_sockmaker *m, const char *userns_path, const char *netns_path,
		       const struct rk_cancel *cancel, struct rk_error *err);

/* Ends the maker (its channel is the port driver's to close) and reaps it. */
void rk_sockmaker_stop(struct rk_sockmaker *m);

#endif
