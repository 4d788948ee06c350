/* SPDX-License-Identifier: Apache-2.0 */
/* rootlesskit: picks the role of this process (parent, or the re-executed child) and
 * reports a fatal error once. */
#include <stdio.h>
#include <stdlib.h>

#include "src/child.h"
#include "src/lib/log.h"
#include "src/lib/version.h"
#include "src/options.h"
#include "src/parent.h"
#include "src/supervisor.h"

int main(int argc, char **argv)
{
	const char *marker = getenv(RK_CHILD_ENV);
	struct rk_options opts;
	struct rk_error err = { 0 };
	int code;

	if (marker)
		return rk_supervisor_main(argc, argv, marker);
	rk_log_init(RK_ROLE_PARENT, false);
	rk_options_init(&opts);
	if (rk_options_parse(&opts, argc, argv, &err) < 0) {
		printf("Incorrect Usage. %s\n\n", err.msg);
		rk_options_print_help(stdout);
		fflush(stdout);
		rk_log_fatal(err.msg);
		rk_options_free(&opts);
		return 1;
	}
	rk_log_init(RK_ROLE_PARENT, opts.debug);
	if (opts.help) {
		rk_options_print_help(stdout);
		code = 0;
	} else if (opts.version) {
		printf("rootlesskit version %s\n", RK_VERSION);
		code = 0;
	} else if (*opts.print_semver) {
		/* checked before anything else, and needs no command (upstream's order) */
		code = rk_options_parse_semver(&opts, &err) < 0 ? 1 : 0;
		if (code)
			rk_log_fatal(err.msg);
		else
			printf("%d\n", opts.semver == RK_SEMVER_MAJOR	? RK_VERSION_MAJOR
				       : opts.semver == RK_SEMVER_MINOR ? RK_VERSION_MINOR
									: RK_VERSION_PATCH);
	} else if (opts.n_command == 0) {
		rk_log_fatal("no command specified");
		code = 1;
	} else if (rk_options_validate(&opts, true, &err) < 0) {
		rk_log_fatal(err.msg);
		code = 1;
	} else {
		code = rk_parent_main(&opts, argv);
	}
	rk_options_free(&opts);
	return code;
}
