/* SPDX-License-Identifier: Apache-2.0 */
/* The REST API client of rootlessctl and rootlesskit-docker-proxy: HTTP/1.1 over the unix
 * socket, one request per connection ("Connection: close"), written here rather than
 * through libcurl: libcurl and the 33 libraries it loads cost 2.5 ms at each start
 * (hyperfine), more than the rest of either program, and the proxy starts once per port. */
#ifndef RK_API_CLIENT_H
#define RK_API_CLIENT_H

#include "src/lib/error.h"

/* Sends METHOD path (with an optional JSON body) to the API at socket and stores the status
 * and the body (NUL-terminated, owned by the caller). Returns 0 or a negative errno with err
 * set when no answer came. */
int rk_api_request(const char *socket, const char *method, const char *path, const char *body,
		   long *ret_status, char **ret_body, struct rk_error *err);

/* Turns an answer with a status other than want into upstream's error text: the "message"
 * of a {"message": ...} body, else "unexpected HTTP status ..., body=...". Returns 0 when
 * status is want, else -EIO with err set. */
int rk_api_check(long status, const char *body, long want, struct rk_error *err);

#endif
