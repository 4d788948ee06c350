/* SPDX-License-Identifier: Apache-2.0 */
/* Logging on stderr in upstream's shape: every line carries "[rootlesskit:<role>] ";
 * warnings and debug lines use logrus' text layout (key=value with a timestamp when stderr
 * is not a terminal, "WARN[0000] ..." on a terminal); fatal errors are a plain
 * "[rootlesskit:<role>] error: <msg>" line. */
#ifndef RK_LOG_H
#define RK_LOG_H

#include <stdbool.h>

enum rk_log_role {
	RK_ROLE_PARENT,
	RK_ROLE_CHILD,
	RK_ROLE_ACTIVATION_HELPER,
};

enum rk_log_level {
	RK_LOG_DEBUG,
	RK_LOG_INFO,
	RK_LOG_WARN,
	RK_LOG_ERROR,
};

/* Sets the role used in the prefix and whether debug lines are printed. */
void rk_log_init(enum rk_log_role role, bool debug);

/* Prints one log line at level. */
void rk_log(enum rk_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rk_debug(...) rk_log(RK_LOG_DEBUG, __VA_ARGS__)
#define rk_info(...)  rk_log(RK_LOG_INFO, __VA_ARGS__)
#define rk_warn(...)  rk_log(RK_LOG_WARN, __VA_ARGS__)

/* Prints "[rootlesskit:<role>] error: <msg>" on stderr: the one report of a fatal error. */
void rk_log_fatal(const char *msg);

/* Formats s the way logrus quotes a field value (Go %q when it needs quoting) into buf. */
void rk_log_quote(const char *s, char *buf, unsigned long size);

/* Formats s as Go's %q does for text (always quoted) into buf. */
void rk_go_quote(const char *s, char *buf, unsigned long size);

#endif
