/* SPDX-License-Identifier: Apache-2.0 */
/* --net=vpnkit (see vpnkit.c). */
#ifndef RK_VPNKIT_H
#define RK_VPNKIT_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "src/lib/error.h"
#include "src/lib/sig.h"
#include "src/net/driver.h"
#include "src/net/netcfg.h"

struct rk_vpnkit {
	struct rk_net_helper helper; /* first: the driver's configuration, vpnkit's pid */
	char *path;		     /* the binary, resolved in PATH */
	int sock;		     /* the VIF's connection */
	int tap;
	int stop[2];
	bool relaying;
	pthread_t relay;
};

/* The argv upstream uses: vpnkit --ethernet SOCKET --mtu M [--host-ip 0.0.0.0].
 * Returns a NULL-terminated vector to free with rk_strv_free. */
char **rk_vpnkit_argv(const char *path, const char *socket, unsigned mtu,
		      bool disable_host_loopback);

/* Copies frames between a tap descriptor and a vmnet connection until either ends or
 * stop_fd becomes readable. Returns 0 at a clean end, -errno otherwise. (The relay's
 * loop, exposed for the tests.) */
int rk_vpnkit_copy(int tap, int sock, int stop_fd);

#endif
