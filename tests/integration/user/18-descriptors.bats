#!/usr/bin/env bats
# Out of descriptors (a low RLIMIT_NOFILE, clients that hold connections open): the API
# server's listener and the builtin port driver's listeners rest and try again instead of
# spinning on accept(), and serve again once descriptors are free. "Spinning" is measured
# as CPU time: a loop that finds the same queued connection again and again takes a whole
# core; a resting one almost nothing. (The engine's listeners: root/09-descriptors.bats.)

load ../helpers
bats_require_minimum_version 1.5.0

ECHO="$BATS_TEST_DIRNAME/../tools/echo.py"

teardown() {
	[ -n "${HOLD:-}" ] && kill "$HOLD" 2>/dev/null || true
	if [ -n "${RK_PID:-}" ] && pid_alive "$RK_PID"; then
		kill -KILL "$RK_PID"
	fi
}

# CPU time of process $1 (user and system, all threads), in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Holds $2 idle connections to $1 (a unix socket path, or HOST:PORT) in the background
# until the test kills HOLD; returns once they are made.
hold_clients() {
	local fifo="$BATS_TEST_TMPDIR/hold" line
	mkfifo "$fifo"
	case $1 in
	/*) timeout 60 python3 "$ECHO" unixidle "$1" "$2" 50 >"$fifo" 3>&- & ;;
	*) timeout 60 python3 "$ECHO" idle "${1%:*}" "${1##*:}" "$2" 50 >"$fifo" 3>&- & ;;
	esac
	HOLD=$!
	line=$(read_fifo "$fifo")
	echo "$line" >"$BATS_TEST_TMPDIR/held"
}

# Asserts that process $1 used less than a third of a core over $2 seconds.
assert_resting() {
	local before after
	before=$(cpu_ticks "$1")
	sleep "$2"
	after=$(cpu_ticks "$1")
	[ $((after - before)) -lt $(($2 * 100 / 3)) ] ||
		fail "process $1 took $((after - before)) ticks in $2 s: it spins"
}

@test "the API server, out of descriptors, rests, and answers again once they are free" {
	RK_STATE="$BATS_TEST_TMPDIR/state"
	prlimit --nofile=48:48 "$RK" --state-dir="$RK_STATE" sleep 60 >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	for _ in $(seq 100); do [ -S "$RK_STATE/api.sock" ] && break; sleep 0.05; done
	run curl -s --max-time 5 --unix-socket "$RK_STATE/api.sock" http://x/v1/info
	assert_output --partial '"apiVersion"'
	# more connections than descriptors: accept() meets EMFILE with more still queued
	hold_clients "$RK_STATE/api.sock" 100
	assert_resting "$RK_PID" 2
	kill "$HOLD"
	HOLD=
	run curl -s --max-time 5 --unix-socket "$RK_STATE/api.sock" http://x/v1/info
	assert_output --partial '"apiVersion"'
}

@test "the builtin port driver, out of descriptors, rests, and serves again once they are free" {
	local fifo="$BATS_TEST_TMPDIR/echo-ready"
	mkfifo "$fifo"
	prlimit --nofile=64:64 "$RK" --pidns --state-dir="$BATS_TEST_TMPDIR/state" --net=none \
		--port-driver=builtin -p 127.0.0.1:18097:80/tcp \
		timeout 60 python3 "$ECHO" serve 80 "$fifo" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$fifo" >/dev/null
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18097 first
	assert_output "first"
	hold_clients 127.0.0.1:18097 100
	assert_resting "$RK_PID" 2
	kill "$HOLD"
	HOLD=
	# the driver learns of the dead clients as it goes (a connection waiting for a socket
	# of the child's is ended when the child has none): served again within 10 s
	local i
	for i in $(seq 20); do
		run timeout 5 python3 "$ECHO" tcp 127.0.0.1 18097 again
		[ "$output" = again ] && break
		sleep 0.5
	done
	assert_output "again"
}
