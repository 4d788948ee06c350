/* SPDX-License-Identifier: Apache-2.0 */
#include "src/lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void rk_freep(void *p)
{
	free(*(void **)p);
}

void rk_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

void rk_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

void rk_strv_freep(char ***v)
{
	rk_strv_free(*v);
}

/* Ends the process: _exit(), not abort(), because the child runs on a raw clone where
 * glibc's raise() is not safe (src/child.c). */
_Noreturn void rk_oom(void)
{
	static const char msg[] = "rootlesskit: out of memory\n";
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

void *rk_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		rk_oom();
	return p;
}

void *rk_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		rk_oom();
	return p;
}

void *rk_xrealloc(void *p, size_t n)
{
	void *r = realloc(p, n ? n : 1);

	if (!r)
		rk_oom();
	return r;
}

char *rk_xstrdup(const char *s)
{
	char *r = strdup(s);

	if (!r)
		rk_oom();
	return r;
}

char *rk_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *r;

	va_start(ap, fmt);
	if (vasprintf(&r, fmt, ap) < 0)
		rk_oom();
	va_end(ap);
	return r;
}

void rk_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void rk_strv_push(char ***v, size_t *len, const char *s)
{
	*v = rk_xrealloc(*v, (*len + 2) * sizeof(char *));
	(*v)[(*len)++] = rk_xstrdup(s);
	(*v)[*len] = NULL;
}

int rk_parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char *rk_strip(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

char *rk_path_clean(const char *path)
{
	size_t n = strlen(path);
	bool rooted = path[0] == '/';
	char *out = rk_xmalloc(n + 2);
	size_t w = 0, dotdot = 0; /* dotdot: where ".." may no longer backtrack */
	size_t r = 0;

	if (n == 0) {
		memcpy(out, ".", 2);
		return out;
	}
	if (rooted) {
		out[w++] = '/';
		r = 1;
		dotdot = 1;
	}
	while (r < n) {
		if (path[r] == '/') {
			r++;
		} else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
			r++;
		} else if (path[r] == '.' && path[r + 1] == '.' &&
			   (r + 2 == n || path[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				/* back up to the previous separator */
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && path[r] != '/'; r++)
				out[w++] = path[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

char *rk_path_abs(const char *path, const char *cwd)
{
	rk_auto_free char *joined = NULL;

	if (path[0] == '/')
		return rk_path_clean(path);
	joined = rk_xasprintf("%s/%s", cwd, path);
	return rk_path_clean(joined);
}

int rk_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t rk_read_file(const char *path, char **ret, size_t max)
{
	rk_auto_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	rk_auto_free char *buf = NULL;
	size_t len = 0, cap = 256;

	if (fd < 0)
		return -errno;
	buf = rk_xmalloc(cap);
	for (;;) {
		ssize_t n;
		if (len + 1 >= cap) {
			if (cap > max + 1)
				return -EFBIG;
			cap *= 2;
			buf = rk_xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			return -EFBIG;
	}
	buf[len] = '\0';
	*ret = rk_steal_ptr(&buf);
	return (ssize_t)len;
}

int rk_read_proc_long(const char *path, long *ret)
{
	rk_auto_free char *buf = NULL;
	char *end;
	ssize_t n = rk_read_file(path, &buf, 64);

	if (n < 0 || !buf) /* rk_read_file sets buf whenever it returns a length */
		return n < 0 ? (int)n : -EIO;
	errno = 0;
	*ret = strtol(rk_strip(buf), &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

char *rk_find_in_path(const char *name, const char *path_env)
{
	const char *p;
	int saved = ENOENT;

	if (!*name) {
		errno = ENOENT;
		return NULL;
	}
	if (strchr(name, '/')) {
		if (access(name, X_OK) < 0)
			return NULL;
		return rk_xstrdup(name);
	}
	p = path_env && *path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
	while (*p) {
		const char *colon = strchrnul(p, ':');
		size_t dlen = (size_t)(colon - p);
		rk_auto_free char *cand = NULL;
		struct stat st;

		cand = dlen ? rk_xasprintf("%.*s/%s", (int)dlen, p, name)
			    : rk_xasprintf("./%s", name);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand, X_OK) == 0)
				return rk_steal_ptr(&cand);
			saved = EACCES;
		}
		p = *colon ? colon + 1 : colon;
	}
	errno = saved;
	return NULL;
}

void rk_go_strerror(int e, char *buf, size_t size)
{
	snprintf(buf, size, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
}

int rk_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = rk_write_all(fd, text, strlen(text));
	close(fd);
	errno = -r;
	return r;
}

uint16_t rk_inet_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint64_t rk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool rk_escape_controls(const char *in, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)in;
	bool escaped = false;
	size_t n = 0;

	if (!size)
		return false;
	for (; *p; p++) {
		char esc[9];
		int len = 0;
		if (*p < 0x20 || *p == 0x7f) {
			len = snprintf(esc, sizeof(esc), "\\x%02x", *p);
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			len = snprintf(esc, sizeof(esc), "\\xc2\\x%02x", p[1]);
			p++;
		}
		if (len) {
			escaped = true;
			if (n + (size_t)len >= size)
				break;
			memcpy(out + n, esc, (size_t)len);
			n += (size_t)len;
		} else {
			if (n + 1 >= size)
				break;
			out[n++] = (char)*p;
		}
	}
	out[n] = '\0';
	return escaped;
}
