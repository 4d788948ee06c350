/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libslirp's host forwards (--port-driver=netstack on kernels where the engine's own TCP
 * translation cannot run) listen with a backlog of 1, so a burst of connections to a
 * published port would be refused. libslirp calls listen() through the PLT, so this
 * definition in the executable is the one it gets. It widens small backlogs to SOMAXCONN
 * only while the engine asks libslirp for a forward (rk_backlog_widen), on that thread:
 * every other caller gets the backlog it asked for.
 */
#include "netstack/backlog.h"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread bool widen;

void rk_backlog_widen(bool on)
{
	widen = on;
}

int listen(int fd, int backlog)
{
	if (widen && backlog >= 0 && backlog < SOMAXCONN)
		backlog = SOMAXCONN;
	return (int)syscall(SYS_listen, fd, backlog);
}
