/* SPDX-License-Identifier: Apache-2.0 */
/* The error object of the error contract (docs/errors.md): a failing function returns a
 * negative errno and, where context matters, fills a struct rk_error; callers add context
 * with rk_error_prefix() while unwinding, and only the top level prints it. */
#ifndef RK_ERROR_H
#define RK_ERROR_H

#include <stddef.h>

#define RK_ERROR_MSG_MAX 1024

struct rk_error {
	int code;		    /* positive errno, or 0 when the cause is not a syscall */
	char msg[RK_ERROR_MSG_MAX]; /* human-readable, no trailing newline */
};

/* Fills err (which may be NULL) with code and a formatted message.
 * Returns -code, or -EINVAL when code is 0, so that it can end a function. */
int rk_error_set(struct rk_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like rk_error_set, appending ": strerror(code)" to the message. */
int rk_error_errno(struct rk_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "<formatted>: " to an existing message (context added while unwinding).
 * Returns -err->code (or -EINVAL). */
int rk_error_prefix(struct rk_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#if defined(__clang_analyzer__) && !defined(RK_ERROR_IMPL)
/* The static analyzer (make analyze) reads one file at a time: this tells it what error.c
 * guarantees, that the three functions above return a negative value. */
static inline int rk_error_negative_(int r)
{
	return r < 0 ? r : -1;
}
#define rk_error_set(...)    rk_error_negative_(rk_error_set(__VA_ARGS__))
#define rk_error_errno(...)  rk_error_negative_(rk_error_errno(__VA_ARGS__))
#define rk_error_prefix(...) rk_error_negative_(rk_error_prefix(__VA_ARGS__))
#endif

#endif
