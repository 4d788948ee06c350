#!/usr/bin/env bats
# The command is root in its namespaces, and so can stop, trace or rob the supervisor
# (pidfd_getfd, ptrace). The builtin port driver's sockets come from a process of the
# parent's that the command cannot reach (port/maker.c), and the parent stops only with a
# job stopped from the terminal: whatever the command does to the supervisor, the ports
# and the API go on. (tools/inject is the hostile command; what the parent does with
# whatever it is handed is in unit/test_sockpool.c and unit/test_builtin.c.)

load ../helpers
bats_require_minimum_version 1.5.0

ECHO="$BATS_TEST_DIRNAME/../tools/echo.py"
INJECT=${RK_INJECT:?RK_INJECT must name the inject tool}
CTL=${RK_CTL:?RK_CTL must name rootlessctl}

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

# Process $1 is stopped (by a signal or a tracer).
assert_stopped() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat")
	[ "$st" = T ] || [ "$st" = t ] || fail "process $1 is not stopped ($st)"
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

@test "the socket supply is out of the command's reach (pidfd_getfd on every process it sees)" {
	start_hostile steal -p 127.0.0.1:18201:80/tcp
	wait_inject '^stolen'
	run cat "$T/inject"
	# it could take the descriptors of the command's own processes (the echo server's)
	assert_line --regexp '^stolen 0 of [1-9][0-9]* taken$'
	round_trips 3 18201
}

@test "with --pidns, a supervisor stopped through ptrace stops neither the ports nor the API" {
	start_hostile "ptrace-stop 20" --pidns -p 127.0.0.1:18206:80/tcp
	wait_inject '^stopped'
	sleep 0.5 # the parent learns of the stop
	assert_stopped "$(cat "$RK_STATE/child_pid")"
	assert_running "$RK_PID"
	# more connections than the driver keeps sockets at hand for (16): new ones are made
	# while the supervisor stays stopped
	round_trips 40 18206
	run timeout 5 "$CTL" --socket "$RK_STATE/api.sock" list-ports
	assert_success
	assert_output --partial "18206"
	run timeout 5 "$CTL" --socket "$RK_STATE/api.sock" add-ports 127.0.0.1:18207:80/tcp
	assert_success
	round_trips 3 18207
}

@test "a supervisor stopped by the command's own SIGSTOP does not stop rootlesskit" {
	T=$BATS_TEST_TMPDIR
	RK_STATE="$T/state"
	mkfifo "$T/ready"
	"$RK" --state-dir="$RK_STATE" --net=none --port-driver=builtin -p 127.0.0.1:18208:80/tcp \
		sh -c 'timeout 60 python3 "$1" serve 80 "$2"; sleep 60' sh "$ECHO" "$T/ready" \
		>"$T/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$T/ready" >/dev/null
	local sup
	sup=$(cat "$RK_STATE/child_pid")
	# the command's parent is the supervisor: what "kill -STOP $PPID" inside does
	kill -STOP "$sup"
	sleep 0.5
	assert_stopped "$sup"
	assert_running "$RK_PID"
	round_trips 20 18208
	kill -CONT "$sup"
}
