/* SPDX-License-Identifier: Apache-2.0 */
/* rootlessctl info [--json] */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "src/ctl/ctl.h"
#include "src/lib/util.h"

/* Go prints a missing string as "" */
static const char *str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

/* Prints a JSON array of strings the way Go prints a []string: [a b c]. */
static void print_list(json_t *a)
{
	size_t i;
	json_t *v;

	putchar('[');
	json_array_foreach(a, i, v)
	{
		const char *t = json_string_value(v);
		printf("%s%s", i ? " " : "", t ? t : "");
	}
	putchar(']');
}

int rk_ctl_info(const struct rk_ctl *c, struct rk_error *err)
{
	rk_auto_free char *body = NULL;
	json_t *info, *nd, *pd;
	int r = rk_ctl_call(c, "GET", "/v1/info", NULL, 200, &body, err);

	if (r < 0)
		return r;
	info = json_loads(body, 0, NULL);
	rk_ctl_defang(info);
	if (!json_is_object(info)) {
		json_decref(info);
		return rk_error_set(err, EPROTO, "cannot decode the info: %s", body);
	}
	if (c->json) {
		char *s = json_dumps(info, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		puts(s ? s : "{}");
		free(s);
		json_decref(info);
		return 0;
	}
	printf("- REST API version: %s\n", str(info, "apiVersion"));
	printf("- Implementation version: %s\n", str(info, "version"));
	printf("- State Directory: %s\n", str(info, "stateDir"));
	printf("- Child PID: %lld\n",
	       (long long)json_integer_value(json_object_get(info, "childPID")));
	nd = json_object_get(info, "networkDriver");
	if (json_is_object(nd)) {
		json_t *ip = json_object_get(nd, "childIP");
		printf("- Network Driver: %s\n", str(nd, "driver"));
		printf("  - DNS: ");
		print_list(json_object_get(nd, "dns"));
		putchar('\n');
		if (json_is_string(ip))
			printf("  - IP: %s\n", json_string_value(ip));
	}
	pd = json_object_get(info, "portDriver");
	if (json_is_object(pd)) {
		printf("- Port Driver: %s\n", str(pd, "driver"));
		printf("  - Supported protocols: ");
		print_list(json_object_get(pd, "protos"));
		putchar('\n');
	}
	json_decref(info);
	return 0;
}
