/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the command line. Input: NUL-separated arguments, parsed and validated. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/lib/log.h"
#include "src/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char name[] = "rootlesskit";
	char *buf = malloc(size + 1), *argv[64] = { name };
	struct rk_options opts;
	struct rk_error err;
	int argc = 1;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *p = buf; p < buf + size && argc < 63; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	rk_log_init(RK_ROLE_PARENT, false);
	rk_options_init(&opts);
	if (rk_options_parse(&opts, argc, argv, &err) == 0) {
		rk_options_parse_semver(&opts, &err);
		/* no warnings: they would only fill the fuzzer's output */
		rk_options_validate(&opts, false, &err);
	}
	rk_options_free(&opts);
	free(buf);
	return 0;
}
