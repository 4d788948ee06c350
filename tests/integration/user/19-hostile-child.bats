#!/usr/bin/env bats
# The command is root in its namespaces and can reach the builtin port driver's channel:
# it takes the supervisor's end with pidfd_getfd() (tools/inject), or stops the supervisor.
# Whatever it sends, the parent keeps only the sockets it asked for, of the kind it asked
# for, made in the child's network namespace; no socket the command made blocking stalls
# the parent's loop; and a supervisor the command stopped stops neither the ports nor the
# API. Every check here failed on the build before these defences.

load ../helpers
bats_require_minimum_version 1.5.0

ECHO="$BATS_TEST_DIRNAME/../tools/echo.py"
INJECT=${RK_INJECT:?RK_INJECT must name the inject tool}
CTL=${RK_CTL:?RK_CTL must name rootlessctl}

teardown() {
	[ -n "${BULK:-}" ] && kill "$BULK" 2>/dev/null || true
	if [ -n "${RK_PID:-}" ] && pid_alive "$RK_PID"; then
		kill -KILL "$RK_PID"
	fi
}

# Starts rootlesskit (--net=none, builtin port driver, the flags given after $1) running
# the echo server on port 80 and then "inject $1", whose output goes to $T/inject.
start_hostile() {
	local args=$1
	shift
	T=$BATS_TEST_TMPDIR
	RK_STATE="$T/state"
	"$RK" --state-dir="$RK_STATE" --net=none --port-driver=builtin "$@" sh -c '
		timeout 60 python3 "$1" serve 80 "$2/srv-ready" &
		n=0; while [ ! -s "$2/srv-ready" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done
		"$3" $4 >"$2/inject" 2>&1
		sleep 60' sh "$ECHO" "$T" "$INJECT" "$args" >"$T/out" 2>&1 3>&- &
	RK_PID=$!
}

# Waits (15 s at most) until the inject output has a line matching $1.
wait_inject() {
	for _ in $(seq 300); do
		grep -Eq "$1" "$T/inject" 2>/dev/null && return 0
		pid_alive "$RK_PID" || break
		sleep 0.05
	done
	cat "$T/inject" "$T/out" >&2 2>/dev/null || true
	fail "inject never said '$1'"
}

# Process $1 is neither stopped nor traced.
assert_running() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat")
	[ "$st" != T ] && [ "$st" != t ] || fail "process $1 is stopped ($st)"
}

# $1 TCP round trips to port $2, each within 15 s.
round_trips() {
	for i in $(seq "$1"); do
		run timeout 15 python3 "$ECHO" tcp 127.0.0.1 "$2" "hello$i"
		[ "$output" = "hello$i" ] || fail "round trip $i to port $2: '$output'"
	done
}

@test "answers nobody asked for are closed at once, and counted" {
	start_hostile "flood 100 200" -p 127.0.0.1:18201:80/tcp
	wait_inject '^flooded'
	sleep 1.5 # the tick that reports them
	# 20 000 descriptors arrived; the parent keeps its own few dozen
	fds=$(find "/proc/$RK_PID/fd" -mindepth 1 | wc -l)
	[ "$fds" -lt 200 ] || fail "rootlesskit holds $fds descriptors"
	round_trips 3 18201
	run timeout 10 "$CTL" --socket "$RK_STATE/api.sock" list-ports
	assert_success
	assert_output --partial "18201"
	grep -Eq 'closed [0-9]+ descriptors from the child that were not asked for' "$T/out" ||
		fail "the closed descriptors were not reported: $(cat "$T/out")"
}

@test "pipes, UDP sockets as TCP ones, UNIX sockets and another namespace's sockets are refused" {
	start_hostile "garbage 6" -p 127.0.0.1:18202:80/tcp
	wait_inject '^stopped'
	# the pool's refill, asked for once half of its 16 sockets are taken, goes to inject
	round_trips 12 18202
	wait_inject '^answered'
	# LIFO: the garbage would be the next sockets taken; the good ones come first, then
	# (once inject lets the supervisor go on) fresh ones
	round_trips 8 18202
	assert_running "$RK_PID"
	grep -Eq 'closed [0-9]+ descriptors from the child' "$T/out" ||
		fail "the refused descriptors were not reported: $(cat "$T/out")"
}

@test "a pooled socket the command made blocking stalls neither other ports nor the API" {
	start_hostile "block 8" -p 127.0.0.1:18203:80/tcp -p 127.0.0.1:18204:80/udp
	wait_inject '^stopped'
	round_trips 12 18203
	wait_inject '^answered'
	# a bulk exchange through one of inject's sockets: once its data is read, the next
	# splice from it would sleep until the command sends more
	timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", 18203), timeout=5)
s.sendall(b"x" * 65536)
got = 0
try:
    while got < 65536:
        b = s.recv(65536)
        if not b:
            break
        got += len(b)
except OSError:
    pass
print(got, flush=True)
import time; time.sleep(8)
' >"$T/bulk" 2>&1 3>&- &
	BULK=$!
	sleep 1
	run timeout 5 python3 "$ECHO" udp 127.0.0.1 18204 other
	assert_output "other"
	run timeout 5 "$CTL" --socket "$RK_STATE/api.sock" add-ports 127.0.0.1:18205:80/tcp
	assert_success
	run timeout 5 python3 "$ECHO" udp 127.0.0.1 18204 again
	assert_output "again"
	assert_running "$RK_PID"
}

@test "with --pidns, a supervisor stopped through ptrace freezes neither the ports nor the API" {
	start_hostile "ptrace-stop 6" --pidns -p 127.0.0.1:18206:80/tcp
	wait_inject '^stopped'
	sleep 0.5 # the parent learns of the stop
	assert_running "$RK_PID"
	round_trips 3 18206
	run timeout 5 "$CTL" --socket "$RK_STATE/api.sock" list-ports
	assert_success
	assert_output --partial "18206"
}
