/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by every module: cleanup attributes, hand-over helpers, checked
 * string and number utilities. See docs/errors.md for the error contract. */
#ifndef RK_UTIL_H
#define RK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define RK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Cleanup attributes. Each destructor accepts the "empty" value (NULL or -1). */
void rk_freep(void *p);
void rk_closep(int *fd);
void rk_fclosep(FILE **f);
void rk_strv_freep(char ***v);

#define rk_auto_free __attribute__((cleanup(rk_freep)))
/* The object that holds member, from a pointer to it. */
#define rk_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define rk_auto_close  __attribute__((cleanup(rk_closep)))
#define rk_auto_fclose __attribute__((cleanup(rk_fclosep)))
#define rk_auto_strv   __attribute__((cleanup(rk_strv_freep)))

/* Hands an owned pointer over to someone else: returns it and leaves the variable empty,
 * so the cleanup attribute does nothing. */
static inline void *rk_steal_ptr(void *pp)
{
	void **p = pp;
	void *r = *p;
	*p = NULL;
	return r;
}

/* The same for a descriptor: returns it and leaves -1 behind, so that rk_auto_close on the
 * variable closes nothing once somebody else owns it. */
static inline int rk_steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

/* A Go-style "auto", "true" or "false" option value. */
enum rk_tristate {
	RK_AUTO,
	RK_TRUE,
	RK_FALSE,
};

/* Allocation that cannot fail: on out-of-memory the process ends with a message and exit
 * status 1 (_exit, safe in the raw clone too), which is the
 * only sane reaction in a program of this size. */
void *rk_xmalloc(size_t n);
void *rk_xcalloc(size_t n, size_t size);
void *rk_xrealloc(void *p, size_t n);
char *rk_xstrdup(const char *s);
char *rk_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* NULL-terminated string vectors. */
void rk_strv_free(char **v);
/* Appends a copy of s to *v (which may be NULL); *len tracks the length. */
void rk_strv_push(char ***v, size_t *len, const char *s);

/* Parses a decimal unsigned 64-bit number that must fill the whole string (no sign, no
 * spaces, no empty string). Returns 0, or -EINVAL / -ERANGE. */
int rk_parse_u64(const char *s, uint64_t *ret);

/* Trims ASCII whitespace from both ends, in place; returns s. */
char *rk_strip(char *s);

/* Lexically cleans an absolute or relative path like Go's filepath.Clean: collapses
 * "//", removes "." and resolves ".." against earlier elements. Returns a new string. */
char *rk_path_clean(const char *path);

/* Makes path absolute against cwd (which must be absolute) and cleans it.
 * Returns a new string. */
char *rk_path_abs(const char *path, const char *cwd);

/* Writes all of buf, retrying on EINTR and short writes. Returns 0 or -errno. */
int rk_write_all(int fd, const void *buf, size_t len);

/* Writes text to an existing file (a /proc or /sys knob). Returns 0, or -errno with
 * errno set. */
int rk_write_file(const char *path, const char *text);

/* Reads a whole small file (up to max bytes) into a NUL-terminated buffer. Returns the
 * length, or -errno (-EFBIG when the file is larger than max). */
ssize_t rk_read_file(const char *path, char **ret, size_t max);

/* Reads an integer from a one-line /proc file; returns 0 or -errno. */
int rk_read_proc_long(const char *path, long *ret);

/* Looks up an executable named name in PATH the way execvp does (a name with a slash is
 * used as is). Returns a new string, or NULL with errno set (ENOENT, EACCES). */
/* Copies in to out (size bytes, NUL-terminated, cut short when full) with the characters
 * that steer a terminal written as \xNN: C0 controls (tab and newline too), DEL, and C1
 * controls (U+0080 to U+009F, as UTF-8). For text from a peer that is printed. Returns
 * true when something was escaped. */
bool rk_escape_controls(const char *in, char *out, size_t size);

/* Says "out of memory" and ends the process (_exit: safe in a raw clone); what the rk_x
 * allocators do, for a library's allocation that failed. */
_Noreturn void rk_oom(void);

/* Milliseconds of the monotonic clock. */
uint64_t rk_now_ms(void);

char *rk_find_in_path(const char *name, const char *path_env);

/* strerror() the way Go prints a syscall error: lowercase ("permission denied"). */
void rk_go_strerror(int e, char *buf, size_t size);

/* The Internet checksum (RFC 1071) of len bytes: the one's complement of their one's
 * complement sum, in host order. A header whose checksum field is right gives 0. */
uint16_t rk_inet_checksum(const void *p, size_t len);

#endif
