/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/client.h"
#include "src/ctl/ctl.h"
#include "src/lib/util.h"

int rk_ctl_call(const struct rk_ctl *c, const char *method, const char *path, const char *body,
		long want, char **ret_body, struct rk_error *err)
{
	struct stat st;
	long status = 0;
	char *answer = NULL;
	int r;

	/* upstream stats the socket first, with Go's wording */
	if (stat(c->socket, &st) < 0) {
		int e = errno;
		return rk_error_set(err, e, "stat %s: %s", c->socket,
				    e == ENOENT ? "no such file or directory" : strerror(e));
	}
	if (c->debug)
		fprintf(stderr, "DEBU %s %s%s%s\n", method, path, body ? " " : "",
			body ? body : "");
	r = rk_api_request(c->socket, method, path, body, &status, &answer, err);
	if (r < 0)
		return r;
	r = rk_api_check(status, answer, want, err);
	if (r < 0) {
		free(answer);
		return r;
	}
	*ret_body = answer;
	return 0;
}

void rk_ctl_defang(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_string(v)) {
		size_t len = json_string_length(v);
		rk_auto_free char *out = rk_xmalloc(len * 8 + 1);
		/* a NUL inside the string ends it here: what follows is not printed either */
		if (rk_escape_controls(json_string_value(v), out, len * 8 + 1))
			json_string_set(v, out);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			rk_ctl_defang(item);
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, item)
		{
			rk_ctl_defang(item);
		}
	}
}
