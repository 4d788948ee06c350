/* SPDX-License-Identifier: Apache-2.0 */
/* rootlessctl list-ports [--json], add-ports [--json] SPEC..., remove-ports ID... */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port/spec.h"
#include "src/ctl/ctl.h"
#include "src/lib/util.h"

#define TABLE_COLUMNS 6

/* Go's text/tabwriter with minwidth 4, padding 4, every cell tab-terminated: each column is
 * as wide as its widest cell plus 4, and every cell, the last too, is padded to it. */
static void print_table(char *cells[][TABLE_COLUMNS], size_t rows)
{
	size_t width[TABLE_COLUMNS] = { 0 };

	for (size_t r = 0; r < rows; r++)
		for (int k = 0; k < TABLE_COLUMNS; k++)
			if (strlen(cells[r][k]) + 4 > width[k])
				width[k] = strlen(cells[r][k]) + 4;
	for (size_t r = 0; r < rows; r++) {
		for (int k = 0; k < TABLE_COLUMNS; k++)
			printf("%-*s", (int)width[k], cells[r][k]);
		putchar('\n');
	}
}

static const char *str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

/* A port number as Go prints an int field that may be absent (0). */
static char *num(json_t *o, const char *key)
{
	return rk_xasprintf("%lld", (long long)json_integer_value(json_object_get(o, key)));
}

int rk_ctl_list_ports(const struct rk_ctl *c, struct rk_error *err)
{
	rk_auto_free char *body = NULL;
	char *(*cells)[TABLE_COLUMNS];
	json_t *ports, *p;
	size_t i, n;
	int r = rk_ctl_call(c, "GET", "/v1/ports", NULL, 200, &body, err);

	if (r < 0)
		return r;
	ports = json_loads(body, JSON_DECODE_ANY, NULL);
	rk_ctl_defang(ports);
	if (!ports || (!json_is_array(ports) && !json_is_null(ports))) {
		json_decref(ports);
		return rk_error_set(err, EPROTO, "cannot decode the port list: %s", body);
	}
	n = json_is_array(ports) ? json_array_size(ports) : 0;
	if (c->json) {
		json_array_foreach(ports, i, p)
		{
			char *s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
			puts(s ? s : "{}");
			free(s);
		}
		json_decref(ports);
		return 0;
	}
	cells = rk_xcalloc(n + 1, sizeof(*cells));
	cells[0][0] = rk_xstrdup("ID");
	cells[0][1] = rk_xstrdup("PROTO");
	cells[0][2] = rk_xstrdup("PARENTIP");
	cells[0][3] = rk_xstrdup("PARENTPORT");
	cells[0][4] = rk_xstrdup("CHILDIP");
	cells[0][5] = rk_xstrdup("CHILDPORT");
	json_array_foreach(ports, i, p)
	{
		json_t *spec = json_object_get(p, "spec");
		cells[i + 1][0] = num(p, "id");
		cells[i + 1][1] = rk_xstrdup(str(spec, "proto"));
		cells[i + 1][2] = rk_xstrdup(str(spec, "parentIP"));
		cells[i + 1][3] = num(spec, "parentPort");
		cells[i + 1][4] = rk_xstrdup(str(spec, "childIP"));
		cells[i + 1][5] = num(spec, "childPort");
	}
	print_table(cells, n + 1);
	for (i = 0; i <= n; i++)
		for (int k = 0; k < TABLE_COLUMNS; k++)
			free(cells[i][k]);
	free(cells);
	json_decref(ports);
	return 0;
}

/* The PortSpec JSON, every field omitted when empty, as upstream sends it. */
static char *spec_json(const struct rk_port_spec *s)
{
	json_t *o = json_object();
	char *out;

	if (*s->proto)
		json_object_set_new(o, "proto", json_string(s->proto));
	if (*s->parent_ip)
		json_object_set_new(o, "parentIP", json_string(s->parent_ip));
	if (s->parent_port)
		json_object_set_new(o, "parentPort", json_integer(s->parent_port));
	if (s->child_port)
		json_object_set_new(o, "childPort", json_integer(s->child_port));
	if (*s->child_ip)
		json_object_set_new(o, "childIP", json_string(s->child_ip));
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out ? out : rk_xstrdup("{}");
}

int rk_ctl_add_ports(const struct rk_ctl *c, struct rk_error *err)
{
	struct rk_port_spec *specs;
	int r = 0;

	if (c->n_args == 0)
		return rk_error_set(err, EINVAL, "no port specified");
	/* all are parsed before any is added */
	specs = rk_xcalloc((size_t)c->n_args, sizeof(*specs));
	for (int i = 0; i < c->n_args && r == 0; i++)
		r = rk_port_spec_parse(c->args[i], &specs[i], err);
	for (int i = 0; i < c->n_args && r == 0; i++) {
		rk_auto_free char *req = spec_json(&specs[i]);
		rk_auto_free char *body = NULL;
		json_t *status;
		r = rk_ctl_call(c, "POST", "/v1/ports", req, 201, &body, err);
		if (r < 0)
			break;
		status = json_loads(body, 0, NULL);
		if (!json_is_object(status)) {
			json_decref(status);
			r = rk_error_set(err, EPROTO, "cannot decode the new port: %s", body);
			break;
		}
		if (c->json) {
			char *s = json_dumps(status, JSON_COMPACT | JSON_PRESERVE_ORDER);
			puts(s ? s : "{}");
			free(s);
		} else {
			printf("%lld\n",
			       (long long)json_integer_value(json_object_get(status, "id")));
		}
		json_decref(status);
	}
	free(specs);
	return r;
}

int rk_ctl_remove_ports(const struct rk_ctl *c, struct rk_error *err)
{
	long long *ids;
	int r = 0;

	if (c->n_args == 0)
		return rk_error_set(err, EINVAL, "no ID specified");
	ids = rk_xcalloc((size_t)c->n_args, sizeof(*ids));
	for (int i = 0; i < c->n_args && r == 0; i++) {
		char *end;
		errno = 0;
		ids[i] = strtoll(c->args[i], &end, 10);
		if (!*c->args[i] || *end || errno)
			r = rk_error_set(err, EINVAL, "strconv.Atoi: parsing \"%s\": %s",
					 c->args[i],
					 errno == ERANGE ? "value out of range" : "invalid syntax");
	}
	for (int i = 0; i < c->n_args && r == 0; i++) {
		rk_auto_free char *path = rk_xasprintf("/v1/ports/%lld", ids[i]);
		rk_auto_free char *body = NULL;
		r = rk_ctl_call(c, "DELETE", path, NULL, 200, &body, err);
		if (r == 0)
			printf("%lld\n", ids[i]);
	}
	free(ids);
	return r;
}
