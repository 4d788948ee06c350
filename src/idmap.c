/* SPDX-License-Identifier: Apache-2.0 */
#include "src/idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "src/lib/log.h"
#include "src/lib/util.h"

#define HELPER_OUTPUT_MAX 4096

extern char **environ;

int rk_idmap_build_argv(const char *helper, pid_t pid, uint32_t own_id,
			const struct rk_subid_list *ranges, char ***ret_argv, struct rk_error *err)
{
	char **argv = NULL, buf[32];
	size_t n = 0;
	uint64_t next = 1;

	rk_strv_push(&argv, &n, helper);
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	rk_strv_push(&argv, &n, buf);
	rk_strv_push(&argv, &n, "0");
	snprintf(buf, sizeof(buf), "%u", own_id);
	rk_strv_push(&argv, &n, buf);
	rk_strv_push(&argv, &n, "1");
	for (size_t i = 0; i < ranges->n; i++) {
		/* the last valid id is 4294967294: (uid_t)-1 means "no id" */
		if (next + ranges->v[i].count > UINT32_MAX) {
			rk_strv_free(argv);
			return rk_error_set(
				err, EOVERFLOW,
				"subordinate id ranges add up to more than 4294967294 ids");
		}
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)next);
		rk_strv_push(&argv, &n, buf);
		snprintf(buf, sizeof(buf), "%u", ranges->v[i].start);
		rk_strv_push(&argv, &n, buf);
		snprintf(buf, sizeof(buf), "%u", ranges->v[i].count);
		rk_strv_push(&argv, &n, buf);
		next += ranges->v[i].count;
	}
	*ret_argv = argv;
	return 0;
}

struct helper_run {
	char **argv;
	char *path; /* argv[0] found in PATH */
	pid_t pid;
	int out_fd; /* read end of the helper's stdout+stderr, -1 once at EOF */
	char out[HELPER_OUTPUT_MAX];
	size_t out_len;
	int spawn_err;
	int status;
};

static void helper_start(struct helper_run *h)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	int p[2];

	h->pid = -1;
	h->out_fd = -1;
	if (pipe2(p, O_CLOEXEC) < 0) {
		h->spawn_err = errno;
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO);
	/* nothing the caller left open reaches a setuid helper */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	/* resolved once here: posix_spawnp would try execve in every PATH entry */
	h->path = rk_find_in_path(h->argv[0], getenv("PATH"));
	h->spawn_err =
		h->path ? posix_spawn(&h->pid, h->path, &fa, &attr, h->argv, environ) : errno;
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (h->spawn_err) {
		h->pid = -1;
		close(p[0]);
		return;
	}
	h->out_fd = p[0];
}

/* Reads from a helper's pipe; closes it at EOF. */
static void helper_read(struct helper_run *x)
{
	char tmp[512];
	ssize_t r = read(x->out_fd, tmp, sizeof(tmp));

	if (r < 0 && errno == EINTR)
		return;
	if (r <= 0) {
		close(x->out_fd);
		x->out_fd = -1;
		return;
	}
	if (x->out_len + (size_t)r >= sizeof(x->out))
		r = (ssize_t)(sizeof(x->out) - 1 - x->out_len);
	memcpy(x->out + x->out_len, tmp, (size_t)r);
	x->out_len += (size_t)r;
}

/* Collects the output of every helper until EOF (or until cancelled, which kills them),
 * then reaps them. Returns 0 or -EINTR when cancelled. */
static int helpers_finish(struct helper_run *h, size_t n, const struct rk_cancel *cancel)
{
	bool cancelled = false;

	while (!cancelled) {
		struct pollfd pfd[3];
		size_t map[3], np = 0;

		for (size_t i = 0; i < n; i++) {
			if (h[i].out_fd >= 0) {
				pfd[np] = (struct pollfd){ .fd = h[i].out_fd, .events = POLLIN };
				map[np++] = i;
			}
		}
		if (np == 0)
			break;
		if (cancel)
			pfd[np] = (struct pollfd){ .fd = cancel->fd, .events = POLLIN };
		if (poll(pfd, np + (cancel ? 1 : 0), -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (size_t k = 0; k < np; k++)
			if (pfd[k].revents)
				helper_read(&h[map[k]]);
		if (cancel && (pfd[np].revents & POLLIN) && cancel->stop(cancel->arg))
			cancelled = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (h[i].out_fd >= 0)
			close(h[i].out_fd);
		h[i].out[h[i].out_len] = '\0';
		if (h[i].pid > 0) {
			if (cancelled)
				kill(h[i].pid, SIGKILL);
			while (waitpid(h[i].pid, &h[i].status, 0) < 0 && errno == EINTR)
				;
		}
	}
	return cancelled ? -EINTR : 0;
}

static bool has_privilege(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false;
	if ((st.st_mode & S_ISUID) && st.st_uid == 0)
		return true;
	return getxattr(path, "security.capability", NULL, 0) > 0;
}

/* Turns a failed helper run into one message with a hint. */
static int helper_error(struct helper_run *h, struct rk_error *err)
{
	const char *name = h->argv[0], *path = h->path;
	char args[1024] = "", status[64], hint[600] = "";
	size_t w = 0;

	if (h->spawn_err == ENOENT)
		return rk_error_set(
			err, ENOENT,
			"failed to setup UID/GID map: %s not found in $PATH: install the "
			"\"uidmap\" package (Debian, Ubuntu) or \"shadow-utils\" (Fedora, "
			"Arch: \"shadow\")",
			name);
	if (h->spawn_err)
		return rk_error_errno(err, h->spawn_err,
				      "failed to setup UID/GID map: cannot run %s", name);
	for (size_t i = 1; h->argv[i]; i++)
		w += (size_t)snprintf(args + w, w < sizeof(args) ? sizeof(args) - w : 0, "%s%s",
				      i > 1 ? " " : "", h->argv[i]);
	if (WIFEXITED(h->status))
		snprintf(status, sizeof(status), "exit status %d", WEXITSTATUS(h->status));
	else
		snprintf(status, sizeof(status), "killed by signal %d", WTERMSIG(h->status));
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
		snprintf(hint, sizeof(hint),
			 ": no_new_privs is set on this process, so the setuid helper %s cannot "
			 "gain privileges (do not start rootlesskit under systemd's "
			 "NoNewPrivileges=yes or a container's no-new-privileges option)",
			 name);
	else if (path && !has_privilege(path))
		snprintf(
			hint, sizeof(hint),
			": %s is neither setuid root nor has the cap_setuid/cap_setgid file "
			"capability; as root, run \"chmod u+s %s\" or reinstall the uidmap package",
			path, path);
	return rk_error_set(err, EPERM, "failed to setup UID/GID map: %s %s failed: %s: %s%s", name,
			    args, rk_strip(h->out), status, hint);
}

int rk_idmap_write(pid_t pid, const struct rk_subid_user *user, const struct rk_subid_list *uids,
		   const struct rk_subid_list *gids, const struct rk_cancel *cancel,
		   struct rk_error *err)
{
	struct helper_run h[2] = { 0 };
	int r;

	r = rk_idmap_build_argv("newuidmap", pid, (uint32_t)user->uid, uids, &h[0].argv, err);
	if (r == 0)
		r = rk_idmap_build_argv("newgidmap", pid, (uint32_t)user->gid, gids, &h[1].argv,
					err);
	if (r < 0) {
		rk_strv_free(h[0].argv);
		return rk_error_prefix(err, "failed to setup UID/GID map");
	}
	/* both run at once; each is a setuid exec of a few milliseconds */
	helper_start(&h[0]);
	helper_start(&h[1]);
	r = helpers_finish(h, 2, cancel);
	if (r < 0)
		rk_error_set(err, EINTR, "interrupted while writing the id maps");
	for (size_t i = 0; i < 2 && r == 0; i++) {
		rk_debug("%s %d: %s", h[i].argv[0], (int)pid,
			 h[i].spawn_err ? "not started" : h[i].out);
		if (h[i].spawn_err || !WIFEXITED(h[i].status) || WEXITSTATUS(h[i].status) != 0)
			r = helper_error(&h[i], err);
	}
	for (size_t i = 0; i < 2; i++) {
		rk_strv_free(h[i].argv);
		free(h[i].path);
	}
	return r;
}

int rk_idmap_setup(pid_t pid, enum rk_subid_source source, const struct rk_cancel *cancel,
		   struct rk_error *err)
{
	struct rk_subid_list uids = { 0 }, gids = { 0 };
	struct rk_subid_user user;
	int r = rk_subid_user_current(&user, err);

	if (r == 0)
		r = rk_subid_lookup(source, RK_SUBID_UID, &user, "/etc/subuid", &uids, err);
	if (r == 0)
		r = rk_subid_lookup(source, RK_SUBID_GID, &user, "/etc/subgid", &gids, err);
	if (r < 0)
		r = rk_error_prefix(err, "failed to setup UID/GID map");
	else
		r = rk_idmap_write(pid, &user, &uids, &gids, cancel, err);
	rk_subid_list_free(&uids);
	rk_subid_list_free(&gids);
	return r;
}
