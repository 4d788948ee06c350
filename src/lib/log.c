/* SPDX-License-Identifier: Apache-2.0 */
#include "src/lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum rk_log_role log_role = RK_ROLE_PARENT;
static bool log_debug;
static time_t log_start;

static const char *const role_names[] = {
	[RK_ROLE_PARENT] = "parent",
	[RK_ROLE_CHILD] = "child ", /* padded to the width of "parent", as upstream */
	[RK_ROLE_ACTIVATION_HELPER] = "activation_helper",
};

void rk_log_init(enum rk_log_role role, bool debug)
{
	log_role = role;
	log_debug = debug;
	log_start = time(NULL);
}

static bool needs_quoting(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-._/@^+", c)))
			return true;
	}
	return false;
}

void rk_go_quote(const char *s, char *buf, unsigned long size)
{
	unsigned long w = 0;

	if (size == 0)
		return;
#define PUT(c)                                                                                     \
	do {                                                                                       \
		if (w + 1 < size)                                                                  \
			buf[w++] = (c);                                                            \
	} while (0)
	PUT('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			PUT('\\');
			PUT((char)c);
		} else if (c == '\n') {
			PUT('\\');
			PUT('n');
		} else if (c == '\t') {
			PUT('\\');
			PUT('t');
		} else if (c < 0x20 || c == 0x7f) {
			char hex[5];
			snprintf(hex, sizeof(hex), "\\x%02x", c);
			for (int i = 0; hex[i]; i++)
				PUT(hex[i]);
		} else {
			PUT((char)c);
		}
	}
	PUT('"');
#undef PUT
	buf[w] = '\0';
}

void rk_log_quote(const char *s, char *buf, unsigned long size)
{
	if (needs_quoting(s))
		rk_go_quote(s, buf, size);
	else if (size)
		snprintf(buf, size, "%s", s);
}

void rk_log(enum rk_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warning", "error" };
	static const char *const tty_names[] = { "DEBU", "INFO", "WARN", "ERRO" };
	static const int colors[] = { 37, 36, 33, 31 };
	char msg[2048], line[4096];
	va_list ap;
	int n;

	if (level == RK_LOG_DEBUG && !log_debug)
		return;
	n = snprintf(msg, sizeof(msg), "[rootlesskit:%s] ", role_names[log_role]);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);

	if (isatty(STDERR_FILENO)) {
		snprintf(line, sizeof(line), "\x1b[%dm%s\x1b[0m[%04ld] %-44s \n", colors[level],
			 tty_names[level], (long)(time(NULL) - log_start), msg);
	} else {
		char ts[40], quoted[3072];
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S%z", &tm);
		/* RFC 3339 wants "+01:00" and "Z" for UTC, strftime gives "+0100" */
		n = (int)strlen(ts);
		if (strcmp(ts + n - 5, "+0000") == 0) {
			ts[n - 5] = 'Z';
			ts[n - 4] = '\0';
		} else {
			memmove(ts + n - 1, ts + n - 2, 3);
			ts[n - 2] = ':';
		}
		rk_log_quote(msg, quoted, sizeof(quoted));
		snprintf(line, sizeof(line), "time=\"%s\" level=%s msg=%s\n", ts, names[level],
			 quoted);
	}
	(void)!write(STDERR_FILENO, line, strlen(line));
}

void rk_log_fatal(const char *msg)
{
	char line[4096];
	int n = snprintf(line, sizeof(line), "[rootlesskit:%s] error: %s\n", role_names[log_role],
			 msg);
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
