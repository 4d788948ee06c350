#!/usr/bin/env bats
# Rootless Docker on our binaries: Debian's docker.io (dockerd 20.10) started by its own
# dockerd-rootless.sh, which finds our rootlesskit first in PATH, as dockerd finds our
# rootlesskit-docker-proxy (Debian's Go one stays unused). A busybox image is imported from
# a root file system the test makes (no registry); a container runs, a published port is
# fetched from the host's 127.0.0.1, `docker rm` removes the port, and SIGTERM stops it all.
# For slirp4netns + builtin, builtin + netstack, and gvisor-tap-vsock + builtin.

load ../helpers
bats_require_minimum_version 1.5.0

PROXY=${RK_PROXY:?RK_PROXY must name rootlesskit-docker-proxy}
SCRIPT=/usr/share/docker.io/contrib/dockerd-rootless.sh

setup() {
	command -v dockerd >/dev/null && [ -x "$SCRIPT" ] || skip "docker.io is not installed"
	command -v busybox >/dev/null || skip "busybox is not installed"
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
	# short paths: containerd's sockets live under the exec root
	X=$(mktemp -d /tmp/rk-dk.XXXXXX)
	BIN="$X/bin"
	mkdir -p "$BIN" "$X/home" "$X/rootfs/bin" "$X/rootfs/www"
	ln -s "$RK" "$BIN/rootlesskit"
	ln -s "$PROXY" "$BIN/rootlesskit-docker-proxy"
	export XDG_RUNTIME_DIR=$X HOME=$X/home PATH="$BIN:$PATH:/usr/sbin:/sbin"
	export DOCKER_HOST=unix://$X/docker.sock
}

teardown() {
	if [ -n "${DK_PID:-}" ] && pid_alive "$DK_PID"; then
		kill -KILL "$DK_PID"
		wait_pid_gone "$DK_PID" 10 || true
	fi
	# files of the namespace's ids are removed inside it
	[ -n "${X:-}" ] && timeout 60 "$RK" rm -rf "$X"
	rm -rf "${X:-/nonexistent}"
}

# dockerd_up NET PORT_DRIVER: dockerd-rootless.sh with those drivers, our state directory
dockerd_up() {
	DOCKERD_ROOTLESS_ROOTLESSKIT_NET=$1 DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=$2 \
		DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS="--state-dir=$X/rk" \
		timeout --kill-after=5 170 "$SCRIPT" --data-root "$X/data" --exec-root "$X/exec" \
		-H "$DOCKER_HOST" -p "$X/docker.pid" >"$X/dockerd.log" 2>&1 3>&- &
	DK_PID=$!
	for _ in $(seq 150); do
		timeout 5 docker version >/dev/null 2>&1 && return 0
		pid_alive "$DK_PID" || break
		sleep 0.2
	done
	cat "$X/dockerd.log"
	fail "dockerd did not answer within 30 s"
}

# the image: busybox as sh, httpd and friends, and a page, owned by root inside
import_image() {
	cp "$(command -v busybox)" "$X/rootfs/bin/busybox"
	for a in sh echo cat httpd sleep; do ln -s busybox "$X/rootfs/bin/$a"; done
	echo "hello from the container" >"$X/rootfs/www/index.html"
	tar -C "$X/rootfs" --owner=0 --group=0 -cf "$X/rootfs.tar" .
	run timeout 60 docker import "$X/rootfs.tar" rk-busybox:test
	assert_success
}

# run_docker NET PORT_DRIVER CHILD_IP: the whole check for one pair of drivers
run_docker() {
	dockerd_up "$1" "$2"
	# ours, not Debian's: our version, our drivers
	run timeout 10 "$RK_CTL" --socket "$X/rk/api.sock" info
	assert_line "- Implementation version: 3.2.0"
	assert_line "- Network Driver: $1"
	assert_line "- Port Driver: $2"
	import_image
	run timeout 60 docker run --rm rk-busybox:test echo hello from docker run
	assert_success
	assert_output "hello from docker run"
	run timeout 60 docker run -d --name web -p 127.0.0.1:18180:80 rk-busybox:test \
		httpd -f -p 80 -h /www
	assert_success
	local page=
	for _ in $(seq 50); do
		page=$(curl -s --max-time 2 http://127.0.0.1:18180/) && break
		sleep 0.2
	done
	[ "$page" = "hello from the container" ] || fail "the published port gave '$page'"
	# our proxy publishes it (to the child's loopback, or its address for netstack)
	run pgrep -u "$(id -u)" -a -f "^$BIN/rootlesskit-docker-proxy .*-host-port 18180"
	assert_success
	run timeout 10 "$RK_CTL" --socket "$X/rk/api.sock" list-ports --json
	assert_output '{"id":1,"spec":{"proto":"tcp4","parentIP":"127.0.0.1","parentPort":18180,"childPort":18180,"childIP":"'"$3"'"}}'
	run timeout 60 docker rm -f web
	assert_success
	run timeout 10 "$RK_CTL" --socket "$X/rk/api.sock" list-ports --json
	assert_success
	assert_output ""
	run curl -s --max-time 2 http://127.0.0.1:18180/
	assert_failure
	# a clean stop: SIGTERM to rootlesskit, which dockerd-rootless.sh became
	kill -TERM "$DK_PID"
	wait_pid_gone "$DK_PID" 30
	run pgrep -u "$(id -u)" -f "$X/(data|exec)"
	assert_failure
}

@test "docker: --net=slirp4netns --port-driver=builtin (dockerd-rootless.sh's defaults)" {
	command -v slirp4netns >/dev/null || skip "slirp4netns is not installed"
	run_docker slirp4netns builtin 127.0.0.1
}

@test "docker: --net=builtin --port-driver=netstack" {
	run_docker builtin netstack 10.0.2.100
}

@test "docker: --net=gvisor-tap-vsock --port-driver=builtin" {
	run_docker gvisor-tap-vsock builtin 127.0.0.1
}
