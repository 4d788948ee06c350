/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: a port spec string, parsed and validated against one existing port. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "port/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rk_port_entry existing = { .id = 1,
					  .spec = { .proto = "tcp",
						    .parent_ip = "127.0.0.1",
						    .parent_port = 8080,
						    .child_port = 80 } };
	struct rk_port_spec spec;
	struct rk_error err;
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (rk_port_spec_parse(s, &spec, &err) == 0)
		rk_port_spec_validate(&spec, &existing, 1, &err);
	free(s);
	return 0;
}
