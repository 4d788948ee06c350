# Shared by every integration test. RK_BIN is the rootlesskit under test.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

RK=${RK_BIN:?RK_BIN must name the rootlesskit binary under test}

# rootlesskit with a time bound: a hang fails the test instead of the whole run
rk() {
	timeout --kill-after=2 20 "$RK" "$@"
}

# Reads one line from a FIFO written by a command started in the background, with a time
# bound: the command writes to it once it is running, which is how tests synchronise.
read_fifo() {
	local fifo=$1 line
	line=$(timeout 20 head -n 1 "$fifo") || fail "nothing was written to $fifo within 20 s"
	echo "$line"
}

# True while process $1 runs. A zombie counts as gone: its parent (maybe a PID 1 that does
# not reap) is not ours to wait for.
pid_alive() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Waits until process $1 has ended, at most $2 seconds (default 5), checking every 50 ms.
wait_pid_gone() {
	local n=$((${2:-5} * 20))
	while pid_alive "$1"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "process $1 still exists after ${2:-5} s"
		sleep 0.05
	done
}

# Runs CMD... every 100 ms until it prints $2, at most $1 seconds. Prints what it printed
# last; returns 1 when that was never $2 (a count that must come back to its baseline).
poll_until() {
	local n=$(($1 * 10)) want=$2 got
	shift 2
	while got=$("$@") && [ "$got" != "$want" ] && [ "$n" -gt 1 ]; do
		n=$((n - 1))
		sleep 0.1
	done
	echo "$got"
	[ "$got" = "$want" ]
}

# The subordinate ranges of the current user in file $1, as "start count" lines.
own_ranges() {
	awk -F: -v n="$(id -un)" -v u="$(id -u)" '($1 == n || $1 == u) && NF == 3 { print $2, $3 }' "$1"
}

# Process $1 and its descendants, one pid per line.
proc_tree() {
	local c
	echo "$1"
	for c in $(pgrep -P "$1"); do
		proc_tree "$c"
	done
}

# Waits (at most 15 s) for background job $1 of this shell; sets $status to its exit code.
# A job that does not end is killed, after its processes (state, kernel wait channel) are
# recorded in the failure.
wait_job() {
	local n=300 procs
	while pid_alive "$1"; do
		n=$((n - 1))
		if [ "$n" -le 0 ]; then
			procs=$(ps -o pid,ppid,stat,wchan:24,args -p "$(proc_tree "$1" | paste -sd,)" 2>&1)
			kill -KILL "$1"
			fail "job $1 did not end within 15 s; its processes were:
$procs"
			return 1
		fi
		sleep 0.05
	done
	wait "$1" && status=0 || status=$?
}

# Starts rootlesskit in the background with --state-dir=$BATS_TEST_TMPDIR/state running a
# command that reports its pid on a FIFO and then sleeps, and returns once it runs.
# Sets RK_PID (rootlesskit itself, not a wrapper), RK_STATE, CMD_PID; output goes to
# $BATS_TEST_TMPDIR/out. Extra arguments are rootlesskit flags.
start_sleeper() {
	local fifo="$BATS_TEST_TMPDIR/ready"
	RK_STATE="$BATS_TEST_TMPDIR/state"
	mkfifo "$fifo"
	# 3>&-: a job holding bats' fd 3 would stall the whole run if the test fails
	"$RK" --state-dir="$RK_STATE" "$@" sh -c "echo \$\$ > $fifo; exec sleep 1000" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	CMD_PID=$(read_fifo "$fifo")
}

# Runs "rootlesskit ARGS... true" in the background (RK_PID, output in
# $BATS_TEST_TMPDIR/out) with a stand-in helper that waits in "sleep" as its child, sends
# SIGTERM once that helper runs, and expects rootlesskit to end with 143 and the helper
# to be gone: a start-up wait that a signal ends.
sigterm_while_helper_waits() {
	local helper=""
	"$RK" "$@" true >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	for _ in $(seq 200); do
		helper=$(pgrep -P "$RK_PID" -x sleep || true)
		[ -n "$helper" ] && break
		sleep 0.05
	done
	[ -n "$helper" ] || fail "the stand-in helper did not start: $(cat "$BATS_TEST_TMPDIR/out")"
	kill -TERM "$RK_PID"
	wait_job "$RK_PID"
	[ "$status" = 143 ] || fail "exit $status: $(cat "$BATS_TEST_TMPDIR/out")"
	wait_pid_gone "$helper"
}

# A test that fails half-way must not leave rootlesskit running: killing it takes the child
# and the command along (parent-death signal).
teardown() {
	if [ -n "${RK_PID:-}" ] && pid_alive "$RK_PID"; then
		kill -KILL "$RK_PID"
	fi
}

# Reads "ARGS|MESSAGE" lines on stdin: each "rootlesskit ARGS true" must exit 1 printing
# exactly "[rootlesskit:parent] error: MESSAGE".
expect_errors() {
	local args msg
	while IFS='|' read -r args msg; do
		# shellcheck disable=SC2086
		run rk $args true
		[ "$status" = 1 ] || fail "$args: exit $status"
		[ "$output" = "[rootlesskit:parent] error: $msg" ] || fail "$args: got '$output', want '$msg'"
	done
}
