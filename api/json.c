/* SPDX-License-Identifier: Apache-2.0 */
#include "api/json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "src/lib/util.h"
#include "src/lib/version.h"

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
	memcpy(w, suffix, strlen(suffix) + 1);
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
		if (info->n_dns) {
			json_t *dns = json_array();
			for (size_t i = 0; i < info->n_dns; i++)
				json_array_append_new(dns, json_string(info->dns[i]));
			json_object_set_new(nd, "dns", dns);
		}
		if (info->child_ip)
			json_object_set_new(nd, "childIP", json_string(info->child_ip));
		if (info->dynamic_child_ip)
			json_object_set_new(nd, "dynamicChildIP", json_true());
		if (info->ipv6)
			json_object_set_new(nd, "ipv6", json_true());
		json_object_set_new(o, "networkDriver", nd);
	}
	if (info->port_driver) {
		json_t *pd = json_object(), *protos = json_array();
		json_object_set_new(pd, "driver", json_string(info->port_driver->name));
		for (const char *const *p = info->port_driver->protos; p && *p; p++)
			json_array_append_new(protos, json_string(*p));
		json_object_set_new(pd, "protos", protos);
		if (info->port_driver->disallow_loopback_child_ip)
			json_object_set_new(pd, "disallowLoopbackChildIP", json_true());
		if (info->source_ip_backend) {
			json_t *extra = json_object();
			json_object_set_new(extra, "sourceIPTransparentBackend",
					    json_string(info->source_ip_backend));
			json_object_set_new(pd, "extra", extra);
		}
		json_object_set_new(o, "portDriver", pd);
	}
	return dump_go(o, "");
}

static json_t *status_object(const struct rk_port_entry *e)
{
	const struct rk_port_spec *s = &e->spec;
	json_t *o = json_object(), *spec = json_object();

	if (*s->proto)
		json_object_set_new(spec, "proto", json_string(s->proto));
	if (*s->parent_ip)
		json_object_set_new(spec, "parentIP", json_string(s->parent_ip));
	if (s->parent_port)
		json_object_set_new(spec, "parentPort", json_integer(s->parent_port));
	if (s->child_port)
		json_object_set_new(spec, "childPort", json_integer(s->child_port));
	if (*s->child_ip)
		json_object_set_new(spec, "childIP", json_string(s->child_ip));
	json_object_set_new(o, "id", json_integer(e->id));
	json_object_set_new(o, "spec", spec);
	return o;
}

char *rk_api_json_port_status(const struct rk_port_entry *e)
{
	return dump_go(status_object(e), "");
}

char *rk_api_json_port_list(const struct rk_port_entry *e, size_t n)
{
	json_t *a;

	if (n == 0)
		return rk_xstrdup("null");
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, status_object(&e[i]));
	return dump_go(a, "");
}

/* Go's name of a JSON value's kind in an UnmarshalTypeError. */
static const char *json_kind(const json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	case JSON_INTEGER:
		snprintf(buf, size, "number %lld", (long long)json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, size, "number %.17g", json_real_value(v));
		return buf;
	case JSON_NULL:
		break;
	}
	return "null";
}

static bool ip_valid(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

enum spec_field {
	F_PROTO,
	F_PARENT_IP,
	F_PARENT_PORT,
	F_CHILD_PORT,
	F_CHILD_IP,
	F_COUNT
};

static const char *const field_names[F_COUNT] = { "proto", "parentIP", "parentPort", "childPort",
						  "childIP" };

int rk_api_json_parse_spec(const char *body, size_t len, struct rk_port_spec *spec,
			   struct rk_error *err)
{
	const json_t *val[F_COUNT] = { 0 };
	json_error_t jerr;
	json_t *root, *v;
	const char *key;
	char kind[64];
	size_t i;
	int r = 0;

	*spec = (struct rk_port_spec){ 0 };
	for (i = 0; i < len && body[i] && strchr(" \t\r\n", body[i]); i++)
		;
	if (i == len)
		return rk_error_set(err, EINVAL, "EOF");
	root = json_loadb(body, len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &jerr);
	if (!root)
		return rk_error_set(err, EINVAL, "%s", jerr.text);
	if (json_is_null(root))
		goto out;
	if (!json_is_object(root)) {
		r = rk_error_set(err, EINVAL,
				 "json: cannot unmarshal %s into Go value of type port.Spec",
				 json_kind(root, kind, sizeof(kind)));
		goto out;
	}
	/* an exact match wins over a case-insensitive one, as in Go */
	json_object_foreach(root, key, v)
	{
		for (int f = 0; f < F_COUNT; f++)
			if (strcasecmp(key, field_names[f]) == 0 &&
			    (!val[f] || strcmp(key, field_names[f]) == 0))
				val[f] = v;
	}
	for (int f = 0; f < F_COUNT && r == 0; f++) {
		bool is_port = f == F_PARENT_PORT || f == F_CHILD_PORT;
		if (!val[f] || json_is_null(val[f]))
			continue;
		if (is_port ? !json_is_integer(val[f]) : !json_is_string(val[f]))
			r = rk_error_set(err, EINVAL,
					 "json: cannot unmarshal %s into Go struct field "
					 "Spec.%s of type %s",
					 json_kind(val[f], kind, sizeof(kind)), field_names[f],
					 is_port ? "int" : "string");
	}
	if (r < 0)
		goto out;
	/* strings too long for the spec cannot be valid: report what validation would */
	{
		const char *proto = json_string_value(val[F_PROTO]);
		const char *pip = json_string_value(val[F_PARENT_IP]);
		const char *cip = json_string_value(val[F_CHILD_IP]);
		if (proto && strlen(proto) >= sizeof(spec->proto))
			r = rk_error_set(err, EINVAL, "unknown proto: \"%s\"", proto);
		else if (pip && strlen(pip) >= sizeof(spec->parent_ip) && proto &&
			 rk_port_proto_valid(proto))
			r = rk_error_set(err, EINVAL, "invalid ParentIP: \"%s\"", pip);
		else if (cip && strlen(cip) >= sizeof(spec->child_ip) && proto &&
			 rk_port_proto_valid(proto) && (!pip || !*pip || ip_valid(pip)))
			r = rk_error_set(err, EINVAL, "invalid ChildIP: \"%s\"", cip);
		if (r < 0)
			goto out;
		snprintf(spec->proto, sizeof(spec->proto), "%s", proto ? proto : "");
		snprintf(spec->parent_ip, sizeof(spec->parent_ip), "%s", pip ? pip : "");
		snprintf(spec->child_ip, sizeof(spec->child_ip), "%s", cip ? cip : "");
	}
	if (val[F_PARENT_PORT])
		spec->parent_port = json_integer_value(val[F_PARENT_PORT]);
	if (val[F_CHILD_PORT])
		spec->child_port = json_integer_value(val[F_CHILD_PORT]);
out:
	json_decref(root);
	return r;
}

char *rk_api_json_error(const char *msg)
{
	json_t *o = json_object();

	/* jansson refuses invalid UTF-8: the text would be lost, so keep a marker instead */
	json_t *s = json_string(msg);
	json_object_set_new(o, "message", s ? s : json_string("(message is not valid UTF-8)"));
	return dump_go(o, "\n");
}
