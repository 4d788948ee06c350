#!/usr/bin/env bats
# The command runs as root in new user and mount namespaces, with the user's subordinate
# ids mapped and nothing else of ours leaking in.

load ../helpers

@test "the command runs as uid 0 and gid 0" {
	run rk sh -c 'echo "$(id -u) $(id -g)"'
	assert_success
	assert_output "0 0"
}

@test "uid_map and gid_map are 0 <id> 1, then the subordinate ranges, contiguous" {
	local want_u="0 $(id -u) 1" want_g next=1 start count
	want_g="0 $(getent passwd "$(id -un)" | cut -d: -f4) 1"
	while read -r start count; do
		want_u+=$'\n'"$next $start $count"
		next=$((next + count))
	done < <(own_ranges /etc/subuid)
	next=1
	while read -r start count; do
		want_g+=$'\n'"$next $start $count"
		next=$((next + count))
	done < <(own_ranges /etc/subgid)
	[ "$next" -gt 1 ] || fail "the test user has no /etc/subgid range"
	run rk sh -c "tr -s ' ' < /proc/self/uid_map | sed 's/^ //'"
	assert_success
	assert_output "$want_u"
	run rk sh -c "tr -s ' ' < /proc/self/gid_map | sed 's/^ //'"
	assert_success
	assert_output "$want_g"
}

@test "the command has every capability in its user namespace" {
	local last full
	last=$(cat /proc/sys/kernel/cap_last_cap)
	full=$(printf '%016x' $(((1 << (last + 1)) - 1)))
	run rk sh -c 'grep -E "^Cap(Eff|Prm):" /proc/self/status'
	assert_success
	assert_line "CapEff:	$full"
	assert_line "CapPrm:	$full"
}

@test "root inside is still the user outside: /etc/shadow is unreadable" {
	run rk cat /etc/shadow
	assert_failure 1
	assert_output --partial "Permission denied"
}

@test "user and mount namespaces are new" {
	run rk sh -c 'readlink /proc/self/ns/user /proc/self/ns/mnt'
	assert_success
	refute_line "$(readlink /proc/self/ns/user)"
	refute_line "$(readlink /proc/self/ns/mnt)"
}

@test "environment: only ROOTLESSKIT_STATE_DIR, _PARENT_EUID and _PARENT_EGID are added" {
	run env -i FOO=bar PATH="$PATH" ROOTLESSKIT_STATE_DIR=/stale "$RK" env
	assert_success
	assert_equal "$(echo "$output" | wc -l)" 5
	assert_line "FOO=bar"
	assert_line "PATH=$PATH"
	assert_line --regexp "^ROOTLESSKIT_STATE_DIR=/tmp/rootlesskit[^/]+$"
	assert_line "ROOTLESSKIT_PARENT_EUID=$(id -u)"
	assert_line "ROOTLESSKIT_PARENT_EGID=$(id -g)"
}

@test "the command inherits only fds 0, 1 and 2" {
	exec 7</dev/null 9>/dev/null
	# ls without a pipe: the shell's own pipe to another command would show in its list
	run rk sh -c 'ls /proc/$$/fd'
	exec 7<&- 9>&-
	assert_success
	[ "$(sort -n <<<"$output" | tr '\n' ' ')" = "0 1 2 " ] || fail "descriptors: $output"
}

@test "stdin, stdout and stderr are passed through" {
	run sh -c "echo from-stdin | $RK sh -c 'cat; echo to-stderr >&2'"
	assert_success
	assert_line "from-stdin"
	assert_line "to-stderr"
}

@test "a successful run prints nothing of its own" {
	run rk true
	assert_success
	assert_output ""
}
