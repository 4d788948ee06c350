/* SPDX-License-Identifier: Apache-2.0 */
/* The REST API server on api.sock (see server.c). */
#ifndef RK_API_SERVER_H
#define RK_API_SERVER_H

#include "api/json.h"
#include "port/driver.h"
#include "src/lib/error.h"

struct rk_api_server;

#define RK_API_SOCKET "api.sock"

/* Listens on api.sock in the state directory open at dir_fd (info->state_dir is its path,
 * for messages; mode 0600, a stale socket removed first; bound and removed through dir_fd,
 * which must stay open until the server stops) and serves the API on its own thread. info
 * is copied (its port_driver member is ignored); port_driver (NULL: none) must outlive the
 * server. Returns 0 with *ret set, or a negative errno with err set. */
int rk_api_server_start(int dir_fd, const struct rk_api_info *info,
			struct rk_port_driver *port_driver, struct rk_api_server **ret,
			struct rk_error *err);

/* Fills networkDriver's dns and childIP once the network is configured (strings copied).
 * Safe while serving. */
void rk_api_server_set_network(struct rk_api_server *s, const char *const *dns, size_t n_dns,
			       const char *child_ip);

/* Stops serving, closes every connection and removes the socket. Accepts NULL. */
void rk_api_server_stop(struct rk_api_server *s);

#endif
