/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rootlesskit-docker-proxy: what Docker 20.10 to 27 run, inside rootlesskit's namespaces,
 * instead of docker-proxy for each published port (dockerd finds it in PATH, or is given
 * it with --userland-proxy-path). Upstream's command line and protocol:
 *
 *   rootlesskit-docker-proxy -proto tcp -host-ip IP -host-port N -container-ip IP
 *                            -container-port N
 *
 * 1. GET /v1/info on $ROOTLESSKIT_STATE_DIR/api.sock. Without a port driver (none,
 *    implicit), the real docker-proxy takes over (exec, same arguments).
 * 2. The port is published on the host (POST /v1/ports): the host's IP and port, to the
 *    same port on the child's loopback (127.0.0.1, or ::1 for an IPv6 host IP), or on the
 *    child's address where the port driver cannot reach its loopback. A proto without 4 or
 *    6 gets the host IP's family; one the port driver does not take is skipped with a
 *    warning and "0\n" on fd 3 (what dockerd reads as started).
 * 3. The real docker-proxy runs inside, from the child's side of that port to the
 *    container, and tells dockerd on fd 3 ("0\n", or "1\n" and the error) itself.
 * 4. At SIGINT (dockerd's stop) or SIGTERM, docker-proxy is killed and the port removed;
 *    when docker-proxy ends by itself, the port is removed too and its status is ours
 *    (upstream's would wait for a signal with the port still published).
 *
 * Errors are written to fd 3 as "1\n<error>" and to stderr, exit status 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/client.h"
#include "src/lib/error.h"
#include "src/lib/gocompat.h"
#include "src/lib/log.h"
#include "src/lib/util.h"

#define REAL_PROXY "docker-proxy"

extern char **environ;

struct args {
	const char *container_ip, *host_ip, *proto;
	long long container_port, host_port;
};

/* Go's log.Fatal: the date and time, then the message. */
static void log_fatal(const char *msg)
{
	char when[32];
	time_t now = time(NULL);

	strftime(when, sizeof(when), "%Y/%m/%d %H:%M:%S", localtime(&now));
	fprintf(stderr, "%s %s\n", when, msg);
}

/* logrus' warning line, as upstream's proxy prints it. */
static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...)
{
	char when[40], msg[512], quoted[1100];
	time_t now = time(NULL);
	va_list ap;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", localtime(&now));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rk_log_quote(msg, quoted, sizeof(quoted));
	fprintf(stderr, "time=\"%s\" level=warning msg=%s\n", when, quoted);
}

/* A string member of o, or dflt. */
static const char *jstr(json_t *o, const char *key, const char *dflt)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : dflt;
}

/* dockerd's status pipe (fd 3), if it gave one. */
static void signal_parent(const char *text)
{
	(void)!rk_write_all(3, text, strlen(text));
}

static int usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "%s\n", msg);
	fprintf(stderr, "Usage of rootlesskit-docker-proxy:\n"
			"  -container-ip string\n    \tcontainer ip\n"
			"  -container-port int\n    \tcontainer port (default -1)\n"
			"  -host-ip string\n    \thost ip\n"
			"  -host-port int\n    \thost port (default -1)\n"
			"  -proto string\n    \tproxy protocol (default \"tcp\")\n");
	return 2;
}

/* Go's flag package: -name value, -name=value, one or two dashes, up to "--" or the first
 * argument that is not a flag. Returns 0, or 2 (usage printed). */
static int parse_args(int argc, char **argv, struct args *a)
{
	*a = (struct args){ .container_ip = "",
			    .host_ip = "",
			    .proto = "tcp",
			    .container_port = -1,
			    .host_port = -1 };
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *value, *eq;
		char msg[256];
		size_t len;
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (strcmp(arg, "--") == 0)
			break;
		name = arg + (arg[1] == '-' ? 2 : 1);
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		if (!eq && (strcmp(name, "h") == 0 || strcmp(name, "help") == 0)) {
			usage(NULL);
			exit(0);
		}
#define IS(n) (len == strlen(n) && strncmp(name, n, len) == 0)
		bool known = IS("container-ip") || IS("host-ip") || IS("proto") ||
			     IS("container-port") || IS("host-port");
		if (!known) {
			snprintf(msg, sizeof(msg), "flag provided but not defined: -%.*s", (int)len,
				 name);
			return usage(msg);
		}
		value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!value) {
			snprintf(msg, sizeof(msg), "flag needs an argument: -%.*s", (int)len, name);
			return usage(msg);
		}
		if (IS("container-ip")) {
			a->container_ip = value;
		} else if (IS("host-ip")) {
			a->host_ip = value;
		} else if (IS("proto")) {
			a->proto = value;
		} else {
			long long *p = IS("host-port") ? &a->host_port : &a->container_port;
			if (rk_parse_go_int(value, p) < 0) {
				snprintf(msg, sizeof(msg),
					 "invalid value \"%s\" for flag -%.*s: parse error", value,
					 (int)len, name);
				return usage(msg);
			}
		}
#undef IS
	}
	return 0;
}

static bool is_ipv6(const char *ip)
{
	unsigned char buf[16];
	return inet_pton(AF_INET6, ip, buf) == 1 &&
	       !(memcmp(buf, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0);
}

/* execs docker-proxy with our arguments (no port driver to publish through) */
static int exec_real(char **argv, struct rk_error *err)
{
	char *path = rk_find_in_path(REAL_PROXY, getenv("PATH"));

	if (!path)
		return rk_error_set(err, ENOENT,
				    "exec: \"" REAL_PROXY "\": executable file not found in $PATH");
	argv[0] = (char *)REAL_PROXY;
	execve(path, argv, environ);
	return rk_error_errno(err, errno, "exec %s", path);
}

static bool has_proto(json_t *protos, const char *proto)
{
	size_t i;
	json_t *p;

	json_array_foreach(protos, i, p) if (json_is_string(p) &&
					     strcmp(json_string_value(p), proto) == 0) return true;
	return false;
}

/* POST /v1/ports: returns the id (> 0) or a negative errno with err set. */
static int add_port(const char *sock, const char *proto, const struct args *a, const char *child_ip,
		    struct rk_error *err)
{
	json_t *spec = json_pack("{s:s, s:s, s:I, s:s, s:I}", "proto", proto, "parentIP",
				 a->host_ip, "parentPort", (json_int_t)a->host_port, "childIP",
				 child_ip, "childPort", (json_int_t)a->host_port);
	rk_auto_free char *body = json_dumps(spec, JSON_COMPACT);
	rk_auto_free char *answer = NULL;
	long status = 0;
	json_t *st;
	int r, id;

	json_decref(spec);
	r = rk_api_request(sock, "POST", "/v1/ports", body, &status, &answer, err);
	if (r == 0)
		r = rk_api_check(status, answer, 201, err);
	if (r < 0)
		return rk_error_prefix(err, "error while calling PortManager.AddPort()");
	st = json_loads(answer, 0, NULL);
	id = (int)json_integer_value(json_object_get(st, "id"));
	json_decref(st);
	if (id <= 0)
		return rk_error_set(err, EPROTO,
				    "error while calling PortManager.AddPort(): no id in %s",
				    answer);
	return id;
}

static void remove_port(const char *sock, int id)
{
	rk_auto_free char *path = rk_xasprintf("/v1/ports/%d", id);
	rk_auto_free char *answer = NULL;
	struct rk_error err = { 0 };
	long status = 0;

	if (rk_api_request(sock, "DELETE", path, NULL, &status, &answer, &err) < 0 ||
	    rk_api_check(status, answer, 200, &err) < 0)
		warn("error while calling PortManager.RemovePort(): %s", err.msg);
}

/* docker-proxy from the child's side of the port to the container, fd 3 passed on;
 * it dies with us. */
static pid_t start_real(const struct args *a, const char *child_ip, struct rk_error *err)
{
	char cport[24], hport[24];
	char *argv[] = { (char *)REAL_PROXY,
			 (char *)"-container-ip",
			 (char *)a->container_ip,
			 (char *)"-container-port",
			 cport,
			 (char *)"-host-ip",
			 (char *)child_ip,
			 (char *)"-host-port",
			 hport,
			 (char *)"-proto",
			 (char *)a->proto,
			 NULL };
	rk_auto_free char *path = rk_find_in_path(REAL_PROXY, getenv("PATH"));
	sigset_t none;
	pid_t parent;
	pid_t pid;

	if (!path) {
		rk_error_set(err, ENOENT,
			     "error while starting " REAL_PROXY ": exec: \"" REAL_PROXY
			     "\": executable file not found in $PATH");
		return -1;
	}
	snprintf(cport, sizeof(cport), "%lld", a->container_port);
	snprintf(hport, sizeof(hport), "%lld", a->host_port);
	parent = getpid();
	pid = fork();
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* dies with us, also when we died before the death signal was set */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		execve(path, argv, environ);
		_exit(127);
	}
	if (pid < 0)
		rk_error_errno(err, errno, "error while starting " REAL_PROXY);
	return pid;
}

/* Waits for SIGINT or SIGTERM (killing docker-proxy then), or for docker-proxy to end.
 * Returns the exit status to give. */
static int wait_end(pid_t child, const sigset_t *set)
{
	for (;;) {
		int sig = 0, status;
		sigwait(set, &sig);
		if (sig == SIGINT || sig == SIGTERM) {
			kill(child, SIGKILL);
			while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
				;
			return 0;
		}
		if (sig == SIGCHLD && waitpid(child, &status, WNOHANG) == child)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
}

static int run(int argc, char **argv, struct rk_error *err)
{
	const char *dir = getenv("ROOTLESSKIT_STATE_DIR");
	rk_auto_free char *sock = NULL, *body = NULL;
	char proto[16];
	const char *child_ip;
	char child[INET6_ADDRSTRLEN];
	unsigned char buf[16];
	json_t *info, *pd, *nd;
	struct args a;
	long status = 0;
	sigset_t set;
	pid_t pid;
	int r, id;

	r = parse_args(argc, argv, &a);
	if (r)
		exit(r);
	if (!dir || !*dir)
		return rk_error_set(err, EINVAL, "$ROOTLESSKIT_STATE_DIR needs to be set");
	sock = rk_xasprintf("%s/api.sock", dir);
	r = rk_api_request(sock, "GET", "/v1/info", NULL, &status, &body, err);
	if (r == 0)
		r = rk_api_check(status, body, 200, err);
	if (r < 0)
		return rk_error_prefix(err, "failed to call info API, probably RootlessKit binary "
					    "is too old (needs to be v0.14.0 or later)");
	info = json_loads(body, 0, NULL);
	if (!json_is_object(info)) {
		json_decref(info);
		return rk_error_set(err, EPROTO, "cannot decode the info API's answer: %s", body);
	}
	pd = json_object_get(info, "portDriver");
	nd = json_object_get(info, "networkDriver");
	/* upstream's API has no portDriver for none and implicit; a future one might */
	if (!json_is_object(pd) || strcmp(jstr(pd, "driver", "none"), "none") == 0 ||
	    strcmp(jstr(pd, "driver", ""), "implicit") == 0) {
		json_decref(info);
		return exec_real(argv, err);
	}
	child_ip = is_ipv6(a.host_ip) ? "::1" : "127.0.0.1";
	if (json_is_true(json_object_get(pd, "disallowLoopbackChildIP"))) {
		child_ip = json_string_value(json_object_get(nd, "childIP"));
		/* an address, and one that fits: it outlives the answer (child below) */
		if (!child_ip || (inet_pton(AF_INET, child_ip, buf) != 1 &&
				  inet_pton(AF_INET6, child_ip, buf) != 1)) {
			r = rk_error_set(
				err, EINVAL,
				"port driver (\"%s\") does not allow loopback child IP, but "
				"network driver (\"%s\") has no non-loopback IP",
				jstr(pd, "driver", ""), jstr(nd, "driver", ""));
			json_decref(info);
			return r;
		}
	}
	/* libnetwork >= 20201216 asks for "tcp": the API wants its family */
	snprintf(proto, sizeof(proto), "%s", a.proto);
	if (*proto && proto[strlen(proto) - 1] != '4' && proto[strlen(proto) - 1] != '6')
		snprintf(proto, sizeof(proto), "%s%s", a.proto, is_ipv6(a.host_ip) ? "6" : "4");
	if (!has_proto(json_object_get(pd, "protos"), proto)) {
		bool v6 = strchr(a.host_ip, ':') != NULL;
		warn("protocol \"%s\" is not supported by the RootlessKit port driver \"%s\", "
		     "discarding request for \"%s%s%s:%lld\"",
		     proto, jstr(pd, "driver", ""), v6 ? "[" : "", a.host_ip, v6 ? "]" : "",
		     a.host_port);
		json_decref(info);
		signal_parent("0\n");
		return 0;
	}
	snprintf(child, sizeof(child), "%s", child_ip);
	json_decref(info);

	/* SIGINT and SIGTERM from now on end us cleanly, the port removed */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	id = add_port(sock, proto, &a, child, err);
	if (id < 0)
		return id;
	pid = start_real(&a, child, err);
	if (pid < 0) {
		remove_port(sock, id);
		return -EIO;
	}
	r = wait_end(pid, &set);
	remove_port(sock, id);
	exit(r);
}

int main(int argc, char **argv)
{
	struct rk_error err = { 0 };

	if (run(argc, argv, &err) < 0) {
		dprintf(3, "1\n%s", err.msg);
		log_fatal(err.msg);
		return 1;
	}
	return 0;
}
