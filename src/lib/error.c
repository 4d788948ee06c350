/* SPDX-License-Identifier: Apache-2.0 */
#define RK_ERROR_IMPL /* the definitions below, not error.h's note to the analyzer */
#include "src/lib/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int ret_code(int code)
{
	return code > 0 ? -code : -EINVAL;
}

int rk_error_set(struct rk_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return ret_code(code);
}

int rk_error_errno(struct rk_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (err) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		n = strlen(err->msg);
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(code));
	}
	return ret_code(code);
}

int rk_error_prefix(struct rk_error *err, const char *fmt, ...)
{
	char prefix[RK_ERROR_MSG_MAX], old[RK_ERROR_MSG_MAX];
	va_list ap;

	if (!err)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return ret_code(err->code);
}
