#!/usr/bin/env bats
# Signals reach the command; the command dies with rootlesskit; a terminal keeps working.

load ../helpers

# Starts rootlesskit in the background with default signal dispositions (bash gives
# background jobs an ignored SIGINT), running a shell that traps $1 and exits 7 on it.
start_trapping() {
	local sig=$1 fifo="$BATS_TEST_TMPDIR/ready"
	mkfifo "$fifo"
	# the trap ends the background sleep too, so that no process outlives the test
	env --default-signal "$RK" sh -c "trap 'echo got-$sig; kill \$!; exit 7' $sig; echo up > $fifo; sleep 1000 & wait" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$fifo" >/dev/null
}

@test "TERM, HUP, INT, QUIT, USR1, USR2, WINCH and ALRM sent to rootlesskit reach the command" {
	for sig in TERM HUP INT QUIT USR1 USR2 WINCH ALRM; do
		rm -f "$BATS_TEST_TMPDIR/ready"
		start_trapping "$sig"
		kill -s "$sig" "$RK_PID"
		wait_job "$RK_PID"
		assert_equal "$status" 7
		run cat "$BATS_TEST_TMPDIR/out"
		assert_line "got-$sig"
	done
}

@test "a real-time signal is forwarded too" {
	start_trapping RTMIN+3
	kill -s RTMIN+3 "$RK_PID"
	wait_job "$RK_PID"
	assert_equal "$status" 7
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line "got-RTMIN+3"
}

@test "kill -9 of rootlesskit takes the child and the command with it" {
	local child
	start_sleeper
	child=$(cat "$RK_STATE/child_pid")
	pid_alive "$CMD_PID" || fail "the command is gone"
	pid_alive "$child" || fail "the child is gone"
	kill -KILL "$RK_PID"
	wait_pid_gone "$child" 1
	wait_pid_gone "$CMD_PID" 1
}

@test "under a terminal the command keeps job control (no setsid)" {
	run timeout 20 script -qec "$RK sh -c 'tty; echo DONE'" /dev/null
	assert_success
	assert_output --partial "DONE"
	refute_output --partial "not a tty"
	refute_output --partial "cannot set terminal process group"
	run timeout 20 script -qec "$RK bash -ic 'echo \$-; jobs; echo JOBS-OK'" /dev/null
	assert_success
	assert_output --partial "JOBS-OK"
	refute_output --partial "no job control"
}

@test "a job-control stop of the command stops rootlesskit too, and SIGCONT resumes all" {
	# a shell with job control gives the job its own, non-orphaned process group, as a
	# terminal's shell does (the kernel ignores SIGTSTP in an orphaned group)
	cat >"$BATS_TEST_TMPDIR/job.sh" <<'JOB'
#!/bin/bash
set -m
d=$1
"$RK" --state-dir="$d/state" sh -c "echo \$\$ > $d/cmd.fifo; exec sleep 2" &
p=$!
m=$(timeout 20 head -n 1 "$d/cmd.fifo")
c=$(cat "$d/state/child_pid")
# as the terminal's Ctrl-Z does: to the whole foreground group
kill -TSTP -- -"$p"
# wait (bounded) until the stop has climbed up to rootlesskit itself
for _ in $(seq 200); do
	[ "$(awk '{ print $3 }' /proc/$p/stat)" = T ] && break
	sleep 0.05
done
for x in $p $c $m; do awk '{ print $3 }' /proc/$x/stat; done
jobs -l | grep -o Stopped
kill -CONT -- -"$p"
wait "$p"
echo "rc=$?"
JOB
	chmod +x "$BATS_TEST_TMPDIR/job.sh"
	mkfifo "$BATS_TEST_TMPDIR/cmd.fifo"
	run env RK="$RK" timeout 30 setsid -w "$BATS_TEST_TMPDIR/job.sh" "$BATS_TEST_TMPDIR"
	assert_success
	assert_output $'T\nT\nT\nStopped\nrc=0'
}
