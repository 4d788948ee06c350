#!/usr/bin/env bats
# --pidns, --reaper, --utsns, --ipcns, --cgroupns, zombies, socket activation.

load ../helpers

combos=("--pidns=false" "--pidns=true --reaper=auto" "--pidns=true --reaper=true"
	"--pidns=true --reaper=false")

@test "exit codes 0, 42 and 255 for every pidns x reaper combination (upstream's test)" {
	for args in "${combos[@]}"; do
		run rk $args sh -exc "exit 0"
		[ "$status" = 0 ] || fail "$args: exit 0 gave $status"
		run rk $args sh -exc "exit 42"
		[ "$status" = 42 ] || fail "$args: exit 42 gave $status"
		rm -rf "$BATS_TEST_TMPDIR"/*
		start_sleeper $args
		kill -USR1 "$(cat "$RK_STATE/child_pid")"
		wait_job "$RK_PID"
		[ "$status" = 255 ] || fail "$args: SIGUSR1 to child_pid gave $status"
		grep -q "user defined signal 1" "$BATS_TEST_TMPDIR/out" || fail "$args: no signal name"
	done
}

@test "--pidns: the command sees a handful of pids and a fresh /proc" {
	run rk --pidns sh -c 'echo $$; ls /proc | grep -c "^[0-9]"; cat /proc/1/cmdline | tr "\0" " "'
	assert_success
	assert_line --index 0 "2"
	[ "${lines[1]}" -le 4 ] || fail "too many pids: ${lines[1]}"
	assert_line --index 2 --partial "--pidns sh -c"
	run rk --pidns sh -c 'awk "\$5 == \"/proc\" { print \$9 }" /proc/self/mountinfo | tail -n 1'
	assert_output "proc"
}

@test "--reaper: the command gets its own session; without it the terminal's session stays" {
	run rk --pidns sh -c 'echo "$$ $(ps -o sid= -p $$)"'
	assert_success
	read -r pid sid <<<"$output"
	[ "$pid" = "$sid" ] || fail "with the reaper: pid $pid, session $sid"
	run rk --pidns --reaper=false sh -c 'echo "$$ $(ps -o sid= -p $$)"'
	read -r pid sid <<<"$output"
	[ "$pid" != "$sid" ] || fail "without the reaper the command leads its own session"
	run rk sh -c 'echo "$$ $(ps -o sid= -p $$)"'
	read -r pid sid <<<"$output"
	[ "$pid" != "$sid" ] || fail "without --pidns the command leads its own session"
}

@test "kill -9 of rootlesskit with --pidns takes the whole namespace with it" {
	local child cmd
	start_sleeper --pidns
	child=$(cat "$RK_STATE/child_pid")
	# CMD_PID is the command's pid inside the namespace (2); find it from the host
	cmd=$(pgrep -P "$child")
	[ -n "$cmd" ] || fail "no command process under the child"
	pid_alive "$cmd" || fail "the command $cmd is gone"
	kill -KILL "$RK_PID"
	wait_pid_gone "$child" 1
	wait_pid_gone "$cmd" 1
}

@test "without --pidns an orphan is re-parented to the child (subreaper), not to init" {
	run rk sh -c '( sleep 5 & echo $! > "$0" ); o=$(cat "$0"); echo "$PPID $(ps -o ppid= -p "$o")"; kill "$o"' "$BATS_TEST_TMPDIR/orphan"
	assert_success
	read -r child parent <<<"$output"
	[ -n "$parent" ] && [ "$child" = "$parent" ] || fail "orphan's parent $parent, child $child"
}

@test "200 orphaned grandchildren leave no zombie, with and without --pidns" {
	local name="rk-orphan-$$-$BATS_TEST_NUMBER"
	ln -s /bin/true "$BATS_TEST_TMPDIR/$name"
	for args in "" "--pidns"; do
		# each subshell exits at once: its child is orphaned and re-parented
		run rk $args sh -c "i=0; while [ \$i -lt 200 ]; do ( '$BATS_TEST_TMPDIR/$name' & ); i=\$((i+1)); done; sleep 0.5"
		assert_success
		local n=100 z
		while :; do
			z=$(ps -eo stat=,comm= | awk -v n="$name" '$2 == n && $1 ~ /^Z/' | wc -l)
			[ "$z" = 0 ] && break
			n=$((n - 1))
			[ "$n" -gt 0 ] || fail "$args: $z zombies of $name left"
			sleep 0.05
		done
	done
}

@test "--utsns: hostname inside does not change the host's" {
	local host
	host=$(hostname)
	run rk --utsns sh -c 'hostname rk-inside && hostname'
	assert_success
	assert_output "rk-inside"
	assert_equal "$(hostname)" "$host"
	run rk sh -c 'readlink /proc/self/ns/uts'
	assert_output "$(readlink /proc/self/ns/uts)"
}

@test "--ipcns: a new IPC namespace, its own message queues" {
	local id
	run rk --ipcns sh -c 'readlink /proc/self/ns/ipc'
	assert_success
	refute_output "$(readlink /proc/self/ns/ipc)"
	run rk sh -c 'readlink /proc/self/ns/ipc'
	assert_output "$(readlink /proc/self/ns/ipc)"
	# a queue made inside is gone with the namespace and never seen outside
	run rk --ipcns sh -c 'ipcmk -Q >/dev/null && ipcs -q | grep -c "^0x"'
	assert_success
	assert_output "1"
	# and the host's queues are not seen inside
	id=$(ipcmk -Q | grep -o '[0-9]*$')
	run rk --ipcns sh -c 'ipcs -q | grep -c "^0x" || true'
	ipcrm -q "$id"
	assert_output "0"
}

@test "--cgroupns: a new cgroup namespace rooted at our group" {
	run rk --cgroupns sh -c 'readlink /proc/self/ns/cgroup; grep "^0::" /proc/self/cgroup'
	assert_success
	refute_line --index 0 "$(readlink /proc/self/ns/cgroup)"
	assert_line --index 1 "0::/"
}

@test "socket activation: LISTEN_FDS fds at the same numbers, LISTEN_PID is the command's pid" {
	for n in 1 2 3; do
		# exec keeps the pid, so LISTEN_PID names rootlesskit as systemd would set it; ls
		# without a pipe: the shell's own pipe to another command would show in its list
		run timeout 20 sh -c "exec 3</dev/null 4</dev/null 5</dev/null 6</dev/null
			LISTEN_FDS=$n LISTEN_PID=\$\$ exec $RK sh -c 'echo \$LISTEN_FDS \$((LISTEN_PID - \$\$)); ls /proc/\$\$/fd'"
		assert_success
		assert_line --index 0 "$n 0"
		local want="0 1 2" got i
		for i in $(seq 3 $((n + 2))); do want+=" $i"; done
		got=$(tail -n +2 <<<"$output" | sort -n | tr '\n' ' ')
		[ "${got% }" = "$want" ] || fail "the command's descriptors: '$got', want '$want'"
	done
}

@test "socket activation: LISTEN_PID of another process is passed on unchanged" {
	run timeout 20 sh -c "exec 3</dev/null; LISTEN_FDS=1 LISTEN_PID=1 exec $RK sh -c 'echo \$LISTEN_PID; ls /proc/\$\$/fd'"
	assert_success
	assert_line --index 0 "1"
	[ "$(tail -n +2 <<<"$output" | sort -n | tr '\n' ' ')" = "0 1 2 3 " ] ||
		fail "the command's descriptors: $output"
}

@test "socket activation with --pidns: LISTEN_PID is the pid the command sees" {
	run timeout 20 sh -c "exec 3</dev/null; LISTEN_FDS=1 LISTEN_PID=\$\$ exec $RK --pidns sh -c 'echo \$LISTEN_PID \$\$'"
	assert_success
	assert_output "2 2"
}
