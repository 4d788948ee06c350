/* SPDX-License-Identifier: Apache-2.0 */
#include "json.h"

#include <jansson.h>
#include <string.h>

#include "util.h"
#include "version.h"

/* Go's encoding/json writes <, > and & as \u003c, \u003e and \u0026. In JSON text they can
 * only occur inside strings, so replacing every occurrence is exact. */
static char *dump_go(json_t *v, const char *suffix)
{
	char *raw = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t n = 0;
	char *out, *w;

	json_decref(v);
	if (!raw)
		return rk_xstrdup("{}");
	for (const char *p = raw; *p; p++)
		n += (*p == '<' || *p == '>' || *p == '&') ? 6 : 1;
	out = w = rk_xmalloc(n + strlen(suffix) + 1);
	for (const char *p = raw; *p; p++) {
		if (*p == '<' || *p == '>' || *p == '&')
			w += sprintf(w, "\\u%04x", (unsigned char)*p);
		else
			*w++ = *p;
	}
	strcpy(w, suffix);
	free(raw);
	return out;
}

char *rk_api_json_info(const struct rk_api_info *info)
{
	json_t *o = json_object();

	json_object_set_new(o, "apiVersion", json_string(RK_API_VERSION));
	json_object_set_new(o, "version", json_string(RK_VERSION));
	json_object_set_new(o, "stateDir", json_string(info->state_dir));
	json_object_set_new(o, "childPID", json_integer(info->child_pid));
	if (info->net_driver) {
		json_t *nd = json_object();
		json_object_set_new(nd, "driver", json_string(info->net_driver));
		json_object_set_new(o, "networkDriver", nd);
	}
	return dump_go(o, "");
}

char *rk_api_json_error(const char *msg)
{
	json_t *o = json_object();

	/* jansson refuses invalid UTF-8: the text would be lost, so keep a marker instead */
	json_t *s = json_string(msg);
	json_object_set_new(o, "message", s ? s : json_string("(message is not valid UTF-8)"));
	return dump_go(o, "\n");
}
