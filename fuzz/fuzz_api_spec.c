/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: a POST /v1/ports body, decoded as Go would, then validated and echoed back
 * as the API does; a valid spec must survive the round trip unchanged. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rk_port_entry e = { .id = 1 }, back;
	struct rk_error err;
	char *out;

	/* only a valid spec is ever echoed */
	if (rk_api_json_parse_spec((const char *)data, size, &e.spec, &err) < 0 ||
	    rk_port_spec_validate(&e.spec, NULL, 0, &err) < 0)
		return 0;
	out = rk_api_json_port_status(&e);
	/* the echoed spec decodes to the same spec */
	{
		const char *spec = strstr(out, "\"spec\":");
		if (!spec ||
		    rk_api_json_parse_spec(spec + 7, strlen(spec + 7) - 1, &back.spec, &err) < 0 ||
		    memcmp(&back.spec, &e.spec, sizeof(e.spec)) != 0)
			abort();
	}
	free(out);
	return 0;
}
