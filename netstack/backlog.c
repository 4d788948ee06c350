/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libslirp's host forwards (--port-driver=netstack) listen with a backlog of 1, so a burst
 * of connections to a published port is refused. libslirp calls listen() through the PLT,
 * so this definition in the executable is the one it gets: small backlogs become
 * SOMAXCONN. Everything else in rootlesskit asks for large backlogs already.
 */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int listen(int fd, int backlog)
{
	return (int)syscall(SYS_listen, fd,
			    backlog >= 0 && backlog < SOMAXCONN ? SOMAXCONN : backlog);
}
