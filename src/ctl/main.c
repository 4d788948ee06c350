/* SPDX-License-Identifier: Apache-2.0 */
/* rootlessctl: global flags, then a subcommand with its flags, then its arguments
 * (urfave/cli's rules: each stops at the first non-flag). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/ctl/ctl.h"
#include "src/lib/gocompat.h"
#include "src/lib/util.h"
#include "src/lib/version.h"

struct subcommand {
	const char *name;
	int (*run)(const struct rk_ctl *c, struct rk_error *err);
	bool has_json;
	const char *usage;
	const char *args_usage;
	const char *description;
};

static const struct subcommand subcommands[] = {
	{ "list-ports", rk_ctl_list_ports, true, "List ports", "[flags]", NULL },
	{ "add-ports", rk_ctl_add_ports, true, "Add ports",
	  "[flags] PARENTIP:PARENTPORT:CHILDPORT/PROTO [PARENTIP:PARENTPORT:CHILDPORT/PROTO...]",
	  "Add exposed ports. The port spec is similar to `docker run -p`. "
	  "e.g. \"127.0.0.1:8080:80/tcp\"." },
	{ "remove-ports", rk_ctl_remove_ports, false, "Remove ports", "[flags] ID [ID...]", NULL },
	{ "info", rk_ctl_info, true, "Show info", "[flags]", NULL },
};

static const struct subcommand *find_subcommand(const char *name)
{
	for (size_t k = 0; k < RK_ARRAY_SIZE(subcommands); k++)
		if (strcmp(name, subcommands[k].name) == 0)
			return &subcommands[k];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"NAME:\n"
		"   rootlessctl - RootlessKit API client\n\n"
		"USAGE:\n"
		"   rootlessctl [global options] command [command options] [arguments...]\n\n"
		"VERSION:\n"
		"   %s\n\n"
		"COMMANDS:\n",
		RK_VERSION);
	for (size_t i = 0; i < RK_ARRAY_SIZE(subcommands); i++)
		fprintf(f, "   %-14s%s\n", subcommands[i].name, subcommands[i].usage);
	fprintf(f, "   help, h       Shows a list of commands or help for one command\n\n"
		   "GLOBAL OPTIONS:\n"
		   "   --debug         debug mode (default: false)\n"
		   "   --socket value  Path to api.sock (under the \"rootlesskit --state-dir\" "
		   "directory), defaults to $ROOTLESSKIT_STATE_DIR/api.sock\n"
		   "   --help, -h      show help\n"
		   "   --version, -v   print the version\n");
}

/* "rootlessctl SUB --help", "rootlessctl help SUB": urfave/cli's command help */
static void subcommand_usage(const struct subcommand *sub)
{
	printf("NAME:\n"
	       "   rootlessctl %s - %s\n\n"
	       "USAGE:\n"
	       "   rootlessctl %s [command options] %s\n",
	       sub->name, sub->usage, sub->name, sub->args_usage);
	if (sub->description)
		printf("\nDESCRIPTION:\n   %s\n", sub->description);
	printf("\nOPTIONS:\n");
	if (sub->has_json)
		printf("   --json      Prints as JSON (default: false)\n"
		       "   --help, -h  show help\n");
	else
		printf("   --help, -h  show help\n");
}

static int usage_error(const char *msg)
{
	printf("Incorrect Usage. %s\n\n", msg);
	usage(stdout);
	fprintf(stderr, "error: %s\n", msg);
	return 1;
}

/* Reads the flag at argv[*i] as "-name[=value]" or "--name[=value]". Returns false at the
 * first non-flag, or after consuming "--", where the flags end. */
static bool next_flag(char **argv, int argc, int *i, char *name, size_t size, const char **value)
{
	const char *arg, *n, *eq;

	if (*i >= argc)
		return false;
	arg = argv[*i];
	if (strcmp(arg, "--") == 0) {
		(*i)++;
		return false;
	}
	if (strlen(arg) < 2 || arg[0] != '-')
		return false;
	n = arg[1] == '-' ? arg + 2 : arg + 1;
	eq = strchr(n, '=');
	snprintf(name, size, "%.*s", (int)(eq ? (size_t)(eq - n) : strlen(n)), n);
	*value = eq ? eq + 1 : NULL;
	return true;
}

int main(int argc, char **argv)
{
	struct rk_ctl c = { 0 };
	struct rk_error err = { 0 };
	const struct subcommand *sub = NULL;
	rk_auto_free char *default_socket = NULL;
	char name[64], msg[128];
	const char *value;
	int i = 1, r;

	for (; next_flag(argv, argc, &i, name, sizeof(name), &value); i++) {
		bool b = true;
		if (strcmp(name, "debug") == 0 && (!value || rk_parse_go_bool(value, &b) == 0)) {
			c.debug = b;
		} else if (strcmp(name, "socket") == 0) {
			if (!value && i + 1 >= argc)
				return usage_error("flag needs an argument: -socket");
			c.socket = value ? value : argv[++i];
		} else if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(name, "version") == 0 || strcmp(name, "v") == 0) {
			printf("rootlessctl version %s\n", RK_VERSION);
			return 0;
		} else {
			snprintf(msg, sizeof(msg), "flag provided but not defined: -%s", name);
			return usage_error(msg);
		}
	}
	if (i >= argc) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[i], "help") == 0 || strcmp(argv[i], "h") == 0) {
		if (i + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		sub = find_subcommand(argv[i + 1]);
		if (!sub) {
			fprintf(stderr, "No help topic for '%s'\n", argv[i + 1]);
			return 3;
		}
		subcommand_usage(sub);
		return 0;
	}
	sub = find_subcommand(argv[i]);
	if (!sub) {
		fprintf(stderr, "No help topic for '%s'\n", argv[i]);
		return 3;
	}
	for (i++; next_flag(argv, argc, &i, name, sizeof(name), &value); i++) {
		bool b = true;
		if (sub->has_json && strcmp(name, "json") == 0 &&
		    (!value || rk_parse_go_bool(value, &b) == 0)) {
			c.json = b;
		} else if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0) {
			subcommand_usage(sub);
			return 0;
		} else {
			snprintf(msg, sizeof(msg), "flag provided but not defined: -%s", name);
			return usage_error(msg);
		}
	}
	c.args = argv + i;
	c.n_args = argc - i;
	if (!c.socket) {
		const char *dir = getenv("ROOTLESSKIT_STATE_DIR");
		if (dir && *dir) {
			default_socket = rk_xasprintf("%s/api.sock", dir);
			c.socket = default_socket;
		}
	}
	r = c.socket ? sub->run(&c, &err)
		     : rk_error_set(&err, EINVAL,
				    "please specify --socket or set $ROOTLESSKIT_STATE_DIR");
	if (r < 0) {
		char shown[sizeof(err.msg) * 4];
		/* it may quote the server */
		rk_escape_controls(err.msg, shown, sizeof(shown));
		fflush(stdout);
		fprintf(stderr, "error: %s\n", shown);
		return 1;
	}
	return 0;
}
