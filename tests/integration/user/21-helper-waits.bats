#!/usr/bin/env bats
# Every wait on a helper is bounded in total and ends at SIGTERM: helpers (stand-in
# scripts) that dribble output for ever, close their ready descriptor without a byte and
# go on running, or never finish their start. rootlesskit says why, or ends at the signal,
# and leaves no helper behind.

load ../helpers

setup() {
	FAKE="$BATS_TEST_TMPDIR/fake"
}

# fake BODY: $FAKE is a shell script with BODY.
fake() {
	printf '#!/bin/sh\n%s\n' "$1" >"$FAKE"
	chmod +x "$FAKE"
}

@test "a --help probe that dribbles output for ever ends at its deadline" {
	fake 'while :; do printf x; sleep 0.05; done'
	run timeout 30 "$RK" --net=slirp4netns --slirp4netns-binary="$FAKE" true
	assert_failure 1
	assert_output --partial "did not finish within 10 s, make sure slirp4netns v0.4.0+ is installed"
}

@test "slirp4netns that closes its ready fd without a byte and runs on is an error, not a hang" {
	fake '[ "$1" = --help ] && { echo "--netns-type --cidr --disable-host-loopback"; exit 0; }
exec 3>&-
exec sleep 60'
	run timeout 15 "$RK" --net=slirp4netns --slirp4netns-binary="$FAKE" true
	assert_failure 1
	assert_output --partial "waiting for ready fd: slirp4netns closed it without a byte and did not exit"
	run pgrep -f -- "$FAKE"
	assert_failure
}

@test "SIGTERM during pasta's start ends rootlesskit, and pasta with it" {
	fake '[ "$1" = --version ] && { echo "pasta 2024_01_01"; exit 0; }
[ "$2" = --version ] && exit 1
exec sleep 60'
	sigterm_while_helper_waits --net=pasta --pasta-binary="$FAKE"
}

@test "SIGTERM during lxc-user-nic create ends rootlesskit, and lxc-user-nic with it" {
	fake '[ "$1" = create ] && exec sleep 60
exit 1'
	sigterm_while_helper_waits --net=lxc-user-nic --lxc-user-nic-binary="$FAKE"
}
