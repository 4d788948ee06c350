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
	char *path; /* the binary, resolved in PATH */
	pid_t pid;  /* vpnkit, once started */
	int sock;   /* the VIF's connection */
	int tap;
	int stop[2];
	bool relaying;
	pthread_t relay;
	const struct rk_net_config *net; /* as a driver (driver.h) */
};

/* Finds the binary and warns about an MTU other than 1500, as upstream does. Returns 0 or
 * a negative errno with err set. */
int rk_vpnkit_prepare(struct rk_vpnkit *v, const struct rk_net_config *net, struct rk_error *err);

/* The argv upstream uses: vpnkit --ethernet SOCKET --mtu M [--host-ip 0.0.0.0].
 * Returns a NULL-terminated vector to free with rk_strv_free. */
char **rk_vpnkit_argv(const char *path, const char *socket, unsigned mtu,
		      bool disable_host_loopback);

/* Starts vpnkit with its Ethernet socket in state_dir, connects within 10 s, registers a
 * VIF with a random UUID and learns its MAC and address. Fills cfg (dev, 192.168.65.x/24,
 * gateway and DNS 192.168.65.1, MTU, MAC). Returns 0, -EINTR when cancelled, or a negative
 * errno with err set. */
int rk_vpnkit_start(struct rk_vpnkit *v, const struct rk_net_config *net, const char *state_dir,
		    const char *dev, unsigned mtu, const struct rk_cancel *cancel,
		    struct rk_netcfg *cfg, struct rk_error *err);

/* Copies frames between tap (the child's tap device, taken) and the VIF on a thread.
 * Returns 0 or a negative errno with err set. */
int rk_vpnkit_relay(struct rk_vpnkit *v, int tap, struct rk_error *err);

/* Copies frames between a tap descriptor and a vmnet connection until either ends or
 * stop_fd becomes readable. Returns 0 at a clean end, -errno otherwise. (The relay's
 * loop, exposed for the tests.) */
int rk_vpnkit_copy(int tap, int sock, int stop_fd);

/* Stops the relay, closes everything and kills vpnkit. Accepts a never-started v. */
void rk_vpnkit_free(struct rk_vpnkit *v);

#endif
