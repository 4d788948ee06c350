#!/usr/bin/env bats
# rootlesskit-docker-proxy, as dockerd 20.10 to 27 runs it inside rootlesskit: upstream's
# flags, the port published through api.sock, fd 3 ("0\n" from the real docker-proxy, or
# "1\n<error>"), the port removed at SIGINT or SIGTERM, the real docker-proxy exec'd without
# a port driver. A stand-in docker-proxy records its arguments; the last test runs Debian's
# real one. Traffic goes only to 127.0.0.1 and to addresses inside the namespace.

load ../helpers
bats_require_minimum_version 1.5.0

PROXY=${RK_PROXY:?RK_PROXY must name rootlesskit-docker-proxy}
ECHO="$BATS_TEST_DIRNAME/../tools/echo.py"

setup() {
	BIN="$BATS_TEST_TMPDIR/bin"
	mkdir -p "$BIN"
	# the stand-in: records its arguments, says "started" on fd 3 as docker-proxy does, waits
	cat >"$BIN/docker-proxy" <<-EOF
		#!/bin/sh
		echo "\$@" > "$BATS_TEST_TMPDIR/args"
		echo \$\$ > "$BATS_TEST_TMPDIR/stand-in.pid"
		printf '0\n' >&3
		exec sleep 30
	EOF
	chmod +x "$BIN/docker-proxy"
}

# in_rk FLAGS... -- SCRIPT: SCRIPT in rootlesskit with FLAGS, $BIN first in PATH,
# PROXY, CTL and T (the test's directory) set
in_rk() {
	local flags=()
	while [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	shift
	rk "${flags[@]}" env PATH="$BIN:$PATH" PROXY="$PROXY" CTL="$RK_CTL" T="$BATS_TEST_TMPDIR" \
		sh -c "$1"
}

# waits (5 s at most) for fd 3's file to be written, then prints it
WAIT_FD3='for i in $(seq 50); do [ -s $T/fd3 ] && break; sleep 0.1; done; cat $T/fd3; echo'

@test "docker-proxy: publishes host-port to the child's 127.0.0.1:host-port, runs docker-proxy there, removes the port at SIGINT" {
	run --separate-stderr in_rk --net=none --port-driver=builtin -- '
		$PROXY -proto tcp -host-ip 127.0.0.1 -host-port 18086 -container-ip 172.17.0.2 -container-port 80 3>$T/fd3 &
		p=$!
		'"$WAIT_FD3"'
		$CTL --socket $ROOTLESSKIT_STATE_DIR/api.sock list-ports --json
		cat $T/args
		kill -INT $p; wait $p; echo rc=$?
		$CTL --socket $ROOTLESSKIT_STATE_DIR/api.sock list-ports --json; echo listed
		kill -0 $(cat $T/stand-in.pid) 2>/dev/null || echo no-stand-in'
	assert_success
	assert_line --index 0 "0"
	assert_line --index 1 '{"id":1,"spec":{"proto":"tcp4","parentIP":"127.0.0.1","parentPort":18086,"childPort":18086,"childIP":"127.0.0.1"}}'
	assert_line --index 2 "-container-ip 172.17.0.2 -container-port 80 -host-ip 127.0.0.1 -host-port 18086 -proto tcp"
	assert_line --index 3 "rc=0"
	assert_line --index 4 "listed"
	assert_line --index 5 "no-stand-in"
}

@test "docker-proxy: an IPv6 host IP gets tcp6 and the child's ::1; SIGTERM removes the port too" {
	run --separate-stderr in_rk --net=none --port-driver=builtin -- '
		$PROXY -container-ip=172.17.0.2 -container-port=80 -host-ip=:: -host-port=18087 3>$T/fd3 &
		p=$!
		'"$WAIT_FD3"'
		$CTL --socket $ROOTLESSKIT_STATE_DIR/api.sock list-ports --json
		kill -TERM $p; wait $p; echo rc=$?
		$CTL --socket $ROOTLESSKIT_STATE_DIR/api.sock list-ports --json; echo listed'
	assert_success
	assert_line --index 1 '{"id":1,"spec":{"proto":"tcp6","parentIP":"::","parentPort":18087,"childPort":18087,"childIP":"::1"}}'
	assert_line --index 2 "rc=0"
	assert_line --index 3 "listed"
}

@test "docker-proxy: a port driver that cannot reach the child's loopback gets the child's address" {
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
	run --separate-stderr in_rk --net=gvisor-tap-vsock --port-driver=gvisor-tap-vsock -- '
		$PROXY -proto udp -host-ip 127.0.0.1 -host-port 18088 -container-ip 172.17.0.2 -container-port 53 3>$T/fd3 &
		p=$!
		'"$WAIT_FD3"'
		$CTL --socket $ROOTLESSKIT_STATE_DIR/api.sock list-ports --json
		kill -INT $p; wait $p'
	assert_success
	assert_line --index 1 '{"id":1,"spec":{"proto":"udp4","parentIP":"127.0.0.1","parentPort":18088,"childPort":18088,"childIP":"10.0.2.100"}}'
}

@test "docker-proxy: a proto the port driver does not take: a warning, \"0\" on fd 3, exit 0, nothing published" {
	run --separate-stderr in_rk --net=none --port-driver=builtin -- '
		$PROXY -proto sctp -host-ip 0.0.0.0 -host-port 18089 -container-ip 172.17.0.2 -container-port 80 3>$T/fd3
		echo rc=$?
		cat $T/fd3
		$CTL --socket $ROOTLESSKIT_STATE_DIR/api.sock list-ports --json; echo listed
		[ -e $T/args ] || echo no-docker-proxy'
	assert_success
	assert_line --index 0 "rc=0"
	assert_line --index 1 "0"
	assert_line --index 2 "listed"
	assert_line --index 3 "no-docker-proxy"
	[[ "$stderr" == *'level=warning msg="protocol \"sctp4\" is not supported by the RootlessKit port driver \"builtin\", discarding request for \"0.0.0.0:18089\""'* ]]
}

@test "docker-proxy: without a port driver the real docker-proxy is exec'd with the same arguments" {
	run --separate-stderr in_rk --net=none -- '
		exec $PROXY -proto tcp -host-ip 127.0.0.1 -host-port 18090 -container-ip 172.17.0.2 -container-port 80 3>$T/fd3 &
		'"$WAIT_FD3"'
		cat $T/args'
	assert_success
	assert_line --index 0 "0"
	assert_line --index 1 "-proto tcp -host-ip 127.0.0.1 -host-port 18090 -container-ip 172.17.0.2 -container-port 80"
}

@test "docker-proxy: errors go to fd 3 as \"1\\n<error>\", exit 1; a conflicting port is refused" {
	run env -u ROOTLESSKIT_STATE_DIR "$PROXY" -host-port 1 3>"$BATS_TEST_TMPDIR/fd3"
	assert_failure 1
	assert_output --regexp '^[0-9/]+ [0-9:]+ \$ROOTLESSKIT_STATE_DIR needs to be set$'
	run cat "$BATS_TEST_TMPDIR/fd3"
	assert_output "1
\$ROOTLESSKIT_STATE_DIR needs to be set"
	run --separate-stderr in_rk --net=none --port-driver=builtin -p 127.0.0.1:18091:80/tcp4 -- '
		$PROXY -proto tcp -host-ip 127.0.0.1 -host-port 18091 -container-ip 172.17.0.2 -container-port 80 3>$T/fd3
		echo rc=$?; cat $T/fd3'
	assert_line --index 0 "rc=1"
	assert_line --index 1 "1"
	assert_line --index 2 "error while calling PortManager.AddPort(): conflict with ID 1"
	run "$PROXY" -bogus 1
	assert_failure 2
	assert_line --index 0 "flag provided but not defined: -bogus"
}

@test "docker-proxy: an info answer that is not JSON is an error, not a reason to run docker-proxy" {
	local d="$BATS_TEST_TMPDIR/fake"
	mkdir "$d"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); s.settimeout(20)
open(sys.argv[2], "w").write("ready")
c, _ = s.accept(); c.recv(4096)
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nnot json"); c.close()' \
		"$d/api.sock" "$d/ready" &
	for _ in $(seq 50); do [ -s "$d/ready" ] && break; sleep 0.1; done
	run env ROOTLESSKIT_STATE_DIR="$d" PATH="$BIN:$PATH" timeout 10 "$PROXY" -proto tcp \
		-host-ip 127.0.0.1 -host-port 18093 -container-ip 172.17.0.2 -container-port 80 \
		3>"$BATS_TEST_TMPDIR/fd3"
	assert_failure 1
	[ ! -e "$BATS_TEST_TMPDIR/args" ] || fail "docker-proxy was run"
	run cat "$BATS_TEST_TMPDIR/fd3"
	assert_output "1
cannot decode the info API's answer: not json"
}

@test "docker-proxy: with Debian's real docker-proxy, a host client reaches the service through both" {
	local real
	real=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v docker-proxy) || skip "docker-proxy (docker.io) is not installed"
	rm "$BIN/docker-proxy"
	ln -s "$real" "$BIN/docker-proxy"
	local fifo="$BATS_TEST_TMPDIR/ready"
	mkfifo "$fifo"
	# --pidns: the service and both proxies end with the namespace
	"$RK" --pidns --state-dir="$BATS_TEST_TMPDIR/state" --net=none --port-driver=builtin \
		env PATH="$BIN:$PATH" sh -c "
		python3 $ECHO serve 80 $BATS_TEST_TMPDIR/echo-ready 127.0.0.1 3>&- &
		for i in \$(seq 50); do [ -s $BATS_TEST_TMPDIR/echo-ready ] && break; sleep 0.1; done
		$PROXY -proto tcp -host-ip 127.0.0.1 -host-port 18092 -container-ip 127.0.0.1 -container-port 80 3>$BATS_TEST_TMPDIR/fd3 &
		for i in \$(seq 50); do [ -s $BATS_TEST_TMPDIR/fd3 ] && break; sleep 0.1; done
		echo ready > $fifo
		sleep 30" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$fifo" >/dev/null
	run cat "$BATS_TEST_TMPDIR/fd3"
	assert_output "0"
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18092 through-docker-proxy
	assert_output "through-docker-proxy"
	kill -TERM "$RK_PID"
	wait "$RK_PID" || true
}

teardown() {
	if [ -n "${RK_PID:-}" ] && pid_alive "$RK_PID"; then
		kill -KILL "$RK_PID"
	fi
}
