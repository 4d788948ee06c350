#!/usr/bin/env bats
# Exit status: the command's code, 255 for a signal, 1 for our own failures.

load ../helpers

@test "exit status 0 and 42 are the command's" {
	run rk sh -c 'exit 0'
	assert_success
	run rk sh -c 'exit 42'
	assert_failure 42
	assert_output "[rootlesskit:child ] error: command [sh -c exit 42] exited: exit status 42"
}

@test "a command killed by a signal gives 255 and the signal's name" {
	run rk sh -c 'kill -USR1 $$'
	assert_failure 255
	assert_output --partial "user defined signal 1"
	run rk sh -c 'kill -KILL $$'
	assert_failure 255
	assert_output --partial "exited: signal: killed"
}

@test "kill -USR1 \$(cat child_pid) ends with 255 (upstream's exit-code test)" {
	start_sleeper
	kill -USR1 "$(cat "$RK_STATE/child_pid")"
	wait_job "$RK_PID"
	assert_equal "$status" 255
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output --partial "user defined signal 1"
	[ ! -e "$RK_STATE" ] || fail "state dir $RK_STATE was not removed"
}

@test "a missing command gives exit 1 and Go's message" {
	run rk no-such-command-here
	assert_failure 1
	assert_output '[rootlesskit:child ] error: command [no-such-command-here] exited: exec: "no-such-command-here": executable file not found in $PATH'
}

@test "a command that cannot be executed gives exit 1" {
	run rk /
	assert_failure 1
	assert_output --partial "fork/exec /: permission denied"
	printf 'not a program' >"$BATS_TEST_TMPDIR/data"
	chmod +x "$BATS_TEST_TMPDIR/data"
	run rk "$BATS_TEST_TMPDIR/data"
	assert_failure 1
	assert_output --partial "exec format error"
}

@test "a killed child (not the command) gives 255 and 'child exited'" {
	start_sleeper
	kill -KILL "$(cat "$RK_STATE/child_pid")"
	wait_job "$RK_PID"
	assert_equal "$status" 255
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output "[rootlesskit:parent] error: child exited: signal: killed"
}
