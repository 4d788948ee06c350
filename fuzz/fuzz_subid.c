/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: /etc/subuid text, parsed for a user and normalised into map ranges. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/idmap.h"
#include "src/lib/util.h"
#include "src/subid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rk_subid_user user = { .uid = 1001, .gid = 1001, .name = "alice" };
	struct rk_subid_list l = { 0 };
	struct rk_error err;
	char *text = malloc(size + 1), **argv = NULL;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (rk_subid_parse(text, "/etc/subuid", &user, &l, &err) == 0 &&
	    rk_subid_normalize(&l, user.uid, &err) == 0 &&
	    rk_idmap_build_argv("newuidmap", 42, user.uid, &l, &argv, &err) == 0)
		rk_strv_free(argv);
	rk_subid_list_free(&l);
	free(text);
	return 0;
}
