/* SPDX-License-Identifier: Apache-2.0 */
/* JSON bodies of the REST API, in upstream's schemas and field order (jansson). */
#ifndef RK_API_JSON_H
#define RK_API_JSON_H

/* What GET /v1/info reports. */
struct rk_api_info {
	const char *state_dir;
	int child_pid;
	const char *net_driver; /* NULL: no networkDriver object (--net=host) */
};

/* The REST API version (upstream's, since v0.14.1). */
#define RK_API_VERSION "1.1.1"

/* Encodes the Info object, compact, no trailing newline. Returns a new string. */
char *rk_api_json_info(const struct rk_api_info *info);

/* Encodes {"message":MSG} followed by a newline, as upstream's error bodies.
 * Returns a new string. */
char *rk_api_json_error(const char *msg);

#endif
