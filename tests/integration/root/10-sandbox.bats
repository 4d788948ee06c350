#!/usr/bin/env bats
# The --net=builtin engine's confinement fails closed. A host whose policy refuses
# unshare(CLONE_NEWUSER) (tools/deny.c: a seccomp filter loaded by root, so that newuidmap
# keeps its setuid bit; rootlesskit's own child uses clone3, which stays allowed) stops the
# start with the reason under --netstack-sandbox=true, is said once under auto, and not at
# all under false. rootlesskit runs as the test user; no traffic leaves the machine (the
# command sends nothing).

load ../helpers

user=${RK_TEST_USER:-rktest}

setup() {
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
	[ -x "${RK_DENY:-}" ] || skip "the deny tool is not built"
}

as_user_denied() { # ERRNO SYSCALL -- rootlesskit flags and command
	local e=$1 call=$2
	shift 3
	(cd /tmp && "$RK_DENY" "$e" "$call" -- runuser -u "$user" -- timeout 20 "$RK" "$@")
}

@test "--netstack-sandbox=true: a refused user namespace stops the start with the reason" {
	run as_user_denied 1 unshare -- --net=builtin --netstack-sandbox=true sh -c 'echo ran'
	assert_failure 1
	refute_line "ran"
	assert_line "[rootlesskit:parent] error: netstack sandbox: unshare: Operation not permitted"
}

@test "--netstack-sandbox=auto (the default): the kernel's refusal is said once, the other stages hold" {
	run as_user_denied 1 unshare -- --net=builtin sh -c 'echo ran'
	assert_success
	assert_line "ran"
	[ "$(echo "$output" | grep -c 'netstack sandbox: a user namespace of its own: Operation not permitted')" = 1 ] || fail "$output"
	assert_output --partial "runs without it (--netstack-sandbox=true makes this fatal, =false silent)"
}

@test "--netstack-sandbox=false: nothing is tried, nothing said; a bad mode is refused" {
	run as_user_denied 1 unshare -- --net=builtin --netstack-sandbox=false sh -c 'echo ran'
	assert_success
	assert_line "ran"
	refute_output --partial "netstack sandbox"
	run runuser -u "$user" -- timeout 20 "$RK" --net=builtin --netstack-seccomp=maybe true
	assert_failure 1
	assert_output --partial 'unsupported netstack-seccomp mode: "maybe"'
}
