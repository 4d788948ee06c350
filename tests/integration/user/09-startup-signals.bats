#!/usr/bin/env bats
# Signals that arrive while rootlesskit is still starting: SIGTERM stops the start-up and
# leaves nothing behind; other signals are kept and delivered once the command runs.
# A newuidmap wrapper first in PATH holds the start-up open until the test has signalled.

load ../helpers

setup() {
	local real
	real=$(command -v newuidmap)
	mkdir "$BATS_TEST_TMPDIR/bin"
	mkfifo "$BATS_TEST_TMPDIR/in-idmap" "$BATS_TEST_TMPDIR/go"
	cat >"$BATS_TEST_TMPDIR/bin/newuidmap" <<WRAPPER
#!/bin/sh
echo \$\$ > $BATS_TEST_TMPDIR/in-idmap
read line < $BATS_TEST_TMPDIR/go
exec $real "\$@"
WRAPPER
	chmod +x "$BATS_TEST_TMPDIR/bin/newuidmap"
}

# Starts rootlesskit with the wrapper; returns once it is inside the id-map step, with the
# wrapper's pid in HELPER_PID.
start_held() {
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" env --default-signal "$RK" --state-dir="$BATS_TEST_TMPDIR/state" \
		"$@" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	HELPER_PID=$(read_fifo "$BATS_TEST_TMPDIR/in-idmap")
}

release() {
	timeout 10 sh -c "echo go > $BATS_TEST_TMPDIR/go" || true
}

@test "SIGTERM during start-up ends it, even with a hung id-map helper; nothing is left" {
	local child
	start_held sh -c 'echo command-ran'
	child=$(pgrep -P "$RK_PID" -f -- "--state-dir" | head -n 1)
	[ -n "$child" ] || fail "no child process found"
	# the helper stays blocked: rootlesskit must not wait for it
	kill -TERM "$RK_PID"
	wait_job "$RK_PID"
	assert_equal "$status" 143
	wait_pid_gone "$child" 2
	wait_pid_gone "$HELPER_PID" 2
	[ ! -e "$BATS_TEST_TMPDIR/state" ] || fail "state dir left behind"
	run cat "$BATS_TEST_TMPDIR/out"
	refute_output --partial "command-ran"
}

@test "SIGUSR1 during start-up is not lost: the command gets it once it runs" {
	start_held sh -c 'sleep 10'
	kill -USR1 "$RK_PID"
	release
	wait_job "$RK_PID"
	assert_equal "$status" 255
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output --partial "exited: signal: user defined signal 1"
}
