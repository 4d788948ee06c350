/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: an HTTP answer as rootlessctl and rootlesskit-docker-proxy read it from
 * api.sock (api/client.c, included: it is not part of rootlesskit), from a server the
 * command may have put there: any status line, headers, length or chunks. The body must
 * stay inside the answer, NUL-terminated, no longer than what came. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/client.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a = malloc(size + 1);
	long status = 0;
	ssize_t n;

	memcpy(a, data, size);
	a[size] = '\0'; /* as read_all leaves it */
	n = parse_answer(a, size, &status);
	if (n >= 0 && ((size_t)n > size || a[n] != '\0' || status < 100))
		abort();
	free(a);
	return 0;
}
