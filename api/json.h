/* SPDX-License-Identifier: Apache-2.0 */
/* JSON bodies of the REST API, in upstream's schemas and field order (jansson). */
#ifndef RK_API_JSON_H
#define RK_API_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "port/driver.h"
#include "port/spec.h"
#include "src/lib/error.h"

/* What GET /v1/info reports. */
struct rk_api_info {
	const char *state_dir;
	int child_pid;
	const char *net_driver; /* NULL: no networkDriver object (--net=host) */
	const char *const *dns; /* networkDriver.dns, omitted when n_dns is 0 */
	size_t n_dns;
	const char *child_ip;  /* networkDriver.childIP, omitted when NULL */
	bool dynamic_child_ip; /* networkDriver.dynamicChildIP, when true */
	bool ipv6;	       /* networkDriver.ipv6, when true */
	/* portDriver.extra.sourceIPTransparentBackend, no extra when NULL */
	const char *source_ip_backend;
	const struct rk_port_driver_ops *port_driver; /* NULL: no portDriver object */
};

/* The REST API version (upstream's, since v3.2.0: networkDriver.ipv6, portDriver.extra). */
#define RK_API_VERSION "1.1.2"

/* Encodes the Info object, compact, no trailing newline. Returns a new string. */
char *rk_api_json_info(const struct rk_api_info *info);

/* Encodes {"message":MSG} followed by a newline, as upstream's error bodies.
 * Returns a new string. */
char *rk_api_json_error(const char *msg);

/* Encodes a PortStatus: {"id":N,"spec":{...}}, empty spec fields omitted. */
char *rk_api_json_port_status(const struct rk_port_entry *e);

/* Encodes a list of PortStatus: an array, or null when n is 0 (as upstream). */
char *rk_api_json_port_list(const struct rk_port_entry *e, size_t n);

/* Decodes a PortSpec the way Go's encoding/json does: the first JSON value only, keys
 * matched case-insensitively, unknown keys and nulls ignored, Go's type-error texts;
 * "EOF" for an empty body. Strings too long to be valid get the validation error they
 * would get. Returns 0 or -EINVAL with err set. */
int rk_api_json_parse_spec(const char *body, size_t len, struct rk_port_spec *spec,
			   struct rk_error *err);

#endif
