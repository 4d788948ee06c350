#!/usr/bin/env bats
# The state directory: where it is, what is in it, locking, stale entries, removal.

load ../helpers

@test "default: a new 0700 directory in \$TMPDIR, removed at exit" {
	local tmp="$BATS_TEST_TMPDIR/tmp"
	mkdir "$tmp"
	run env TMPDIR="$tmp" "$RK" sh -c 'd=$ROOTLESSKIT_STATE_DIR; echo "$d"; stat -c %a "$d"; ls -A "$d" | tr "\n" " "'
	assert_success
	assert_line --index 0 --regexp "^$tmp/rootlesskit[^/]+\$"
	assert_line --index 1 "700"
	assert_line --index 2 "api.sock child_pid lock "
	run ls -A "$tmp"
	assert_output ""
}

@test "--state-dir: relative path made absolute, created 0700 with parents, removed at exit" {
	cd "$BATS_TEST_TMPDIR"
	run rk --state-dir=a/b/../st sh -c 'echo "$ROOTLESSKIT_STATE_DIR"; stat -c %a "$ROOTLESSKIT_STATE_DIR" "$ROOTLESSKIT_STATE_DIR/.."'
	assert_success
	assert_line --index 0 "$BATS_TEST_TMPDIR/a/st"
	assert_line --index 1 "700"
	assert_line --index 2 "700"
	[ ! -e "$BATS_TEST_TMPDIR/a/st" ] || fail "state dir left behind"
	[ -d "$BATS_TEST_TMPDIR/a" ]
}

@test "an existing state dir that group or others may write to is refused, untouched" {
	local d="$BATS_TEST_TMPDIR/open"
	mkdir "$d"
	touch "$d/lock"
	chmod 0777 "$d"
	run rk --state-dir="$d" true
	assert_failure 1
	assert_output "[rootlesskit:parent] error: refusing to use $d as the state directory: it is writable by others (mode 0777); run \"chmod go-w $d\" or give another directory"
	[ -e "$d/lock" ] || fail "the refused directory was changed"
	chmod 0775 "$d"
	run rk --state-dir="$d" true
	assert_failure 1
	assert_output --partial "writable by others (mode 0775)"
	chmod 0755 "$d"
	run rk --state-dir="$d" true
	assert_success
}

@test "files and sockets in the state dir are the user's alone, whatever the umask; the command keeps its umask" {
	run sh -c "umask 000; exec timeout 20 \"$RK\" --state-dir=\"$BATS_TEST_TMPDIR/st\" sh -c 'umask; cd \$ROOTLESSKIT_STATE_DIR; stat -c \"%n %a\" . lock api.sock child_pid'"
	assert_success
	assert_line --index 0 "0000"
	assert_line --index 1 ". 700"
	assert_line --index 2 "lock 600"
	assert_line --index 3 "api.sock 600"
	assert_line --index 4 "child_pid 444"
}

@test "a state dir swapped for a symbolic link meanwhile: nothing is written through the link" {
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
	local st="$BATS_TEST_TMPDIR/st" victim="$BATS_TEST_TMPDIR/victim"
	mkdir "$victim"
	echo precious >"$victim/hosts"
	# started by the parent once api.sock exists, before the child writes hosts and
	# resolv.conf: swaps the state dir's path for a link to another directory of the user's
	cat >"$BATS_TEST_TMPDIR/vpnkit" <<-EOF
		#!/bin/sh
		mv "$st" "$st.real" && ln -s "$victim" "$st"
		exec "$BATS_TEST_DIRNAME/../tools/fakevpnkit.py" "\$@"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/vpnkit"
	run rk --state-dir="$st" --net=vpnkit --vpnkit-binary="$BATS_TEST_TMPDIR/vpnkit" true
	assert_success
	[ "$(cat "$victim/hosts")" = precious ] || fail "hosts of another directory was overwritten"
	[ ! -e "$victim/resolv.conf" ] || fail "resolv.conf was written into another directory"
	[ -L "$st" ] || fail "the link was removed"
	assert_line --partial "state directory $st was replaced while rootlesskit ran"
}

@test "the state dir is removed when the command fails too" {
	run rk --state-dir="$BATS_TEST_TMPDIR/st" sh -c 'exit 3'
	assert_failure 3
	[ ! -e "$BATS_TEST_TMPDIR/st" ]
}

@test "child_pid: decimal, no newline, 0444, a process nsenter can join" {
	local st cpid
	exec 7</dev/null
	start_sleeper
	exec 7<&-
	st=$RK_STATE
	run stat -c %a "$st/child_pid"
	assert_output "444"
	run cat "$st/child_pid"
	assert_output --regexp '^[1-9][0-9]*$'
	[ "$(tail -c 1 "$st/child_pid" | od -An -c | tr -d ' ')" != '\n' ] || fail "trailing newline"
	cpid=$(cat "$st/child_pid")
	# an fd leaked into rootlesskit does not reach the child either
	run ls "/proc/$cpid/fd"
	assert_success
	refute_line "7"
	# nerdctl reads the three variables from there
	run sh -c "tr '\\0' '\\n' < /proc/$cpid/environ"
	assert_line "ROOTLESSKIT_STATE_DIR=$st"
	assert_line "ROOTLESSKIT_PARENT_EUID=$(id -u)"
	assert_line "ROOTLESSKIT_PARENT_EGID=$(id -g)"
	# and enters its namespaces with nsenter, as the user
	run timeout 10 nsenter -U -m -t "$cpid" --preserve-credentials sh -c 'id -u; readlink /proc/self/ns/mnt'
	assert_success
	assert_line --index 0 "0"
	assert_line --index 1 "$(readlink "/proc/$cpid/ns/mnt")"
	kill -TERM "$RK_PID"
	wait_job "$RK_PID"
	[ ! -e "$st" ]
}

@test "a second instance on the same state dir fails with upstream's message" {
	local st
	start_sleeper
	st=$RK_STATE
	run rk --state-dir="$st" true
	assert_failure 1
	assert_output "[rootlesskit:parent] error: failed to lock $st/lock, another RootlessKit is running with the same state directory?"
	# the first one is untouched
	[ -s "$st/child_pid" ] || fail "child_pid of the first instance is gone"
	[ -e "$st/lock" ] || fail "lock of the first instance is gone"
	kill -TERM "$RK_PID"
	wait_job "$RK_PID"
}

@test "stale entries of a previous run are cleared, except lock" {
	local st="$BATS_TEST_TMPDIR/st"
	mkdir -p "$st/subdir"
	touch "$st/lock" "$st/api.sock" "$st/subdir/x"
	echo 999999 >"$st/child_pid"
	ln -s "$BATS_TEST_TMPDIR/outside" "$st/link"
	touch "$BATS_TEST_TMPDIR/outside"
	run rk --state-dir="$st" sh -c 'ls -A "$ROOTLESSKIT_STATE_DIR" | tr "\n" " "; echo; cat "$ROOTLESSKIT_STATE_DIR/child_pid"'
	assert_success
	assert_line --index 0 "api.sock child_pid lock "
	refute_line --index 1 --partial "999999"
	[ -e "$BATS_TEST_TMPDIR/outside" ] || fail "a symlink target outside the state dir was deleted"
}

@test "a non-empty directory that is not a state dir is refused, not wiped" {
	local d="$BATS_TEST_TMPDIR/home"
	mkdir "$d"
	echo precious >"$d/file"
	run rk --state-dir="$d" true
	assert_failure 1
	assert_output --partial "refusing to use $d as the state directory"
	[ "$(cat "$d/file")" = precious ]
	run rk --state-dir="$HOME" true
	assert_failure 1
	assert_output --partial "refusing to use"
}

@test "an existing empty directory is used and removed at exit" {
	mkdir "$BATS_TEST_TMPDIR/empty"
	run rk --state-dir="$BATS_TEST_TMPDIR/empty" true
	assert_success
	[ ! -e "$BATS_TEST_TMPDIR/empty" ]
}

@test "restart after kill -9 on the same state dir works (upstream issue 220)" {
	local st
	start_sleeper
	st=$RK_STATE
	kill -KILL "$RK_PID"
	wait_job "$RK_PID"
	[ -e "$st/child_pid" ]
	run rk --state-dir="$st" sh -c 'cat "$ROOTLESSKIT_STATE_DIR/child_pid"'
	assert_success
}
