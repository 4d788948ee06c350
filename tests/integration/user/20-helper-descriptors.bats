#!/usr/bin/env bats
# Everything rootlesskit executes starts with only the descriptors meant for it: stdio, and
# fd 3 where the helper's interface says so (slirp4netns' ready fd). Each helper is a
# stand-in (tools/standin.py) that writes down its open descriptors and then runs the real
# one where the test needs it to work. rootlesskit's caller leaves fds 7 and 251 open.

load ../helpers

STANDIN="$BATS_TEST_DIRNAME/../tools/standin.py"

setup() {
	BIN="$BATS_TEST_TMPDIR/bin"
	mkdir -p "$BIN"
	export RK_FDLOG="$BATS_TEST_TMPDIR/fds"
	: >"$RK_FDLOG"
	touch "$BATS_TEST_TMPDIR/marker"
}

# standin NAME: $BIN/NAME is the stand-in.
standin() {
	ln -s "$STANDIN" "$BIN/$1"
}

# Runs rootlesskit with the arguments given, the caller's fds 7 and 251 open.
rk_leaky() {
	run timeout --kill-after=2 20 "$RK" "$@" 7<"$BATS_TEST_TMPDIR/marker" 251<"$BATS_TEST_TMPDIR/marker"
}

# assert_fds NAME FDS [ARG]: NAME ran (with first argument ARG, when given), and every
# such run had exactly the descriptors FDS open.
assert_fds() {
	local lines
	lines=$(grep "^$1 ${3:-}" "$RK_FDLOG") || fail "$1 ${3:-} never ran: $(cat "$RK_FDLOG")"
	while IFS= read -r line; do
		[ "${line##*: }" = "$2" ] || fail "want '$1 ...: $2', got '$line'"
	done <<<"$lines"
}

@test "newuidmap and newgidmap get stdio only" {
	standin newuidmap
	standin newgidmap
	RK_REAL_newuidmap=$(command -v newuidmap) RK_REAL_newgidmap=$(command -v newgidmap) \
		PATH="$BIN:$PATH" rk_leaky --net=none true
	assert_success
	assert_fds newuidmap "0 1 2"
	assert_fds newgidmap "0 1 2"
}

@test "slirp4netns gets stdio and its ready fd 3; its --help probe stdio only" {
	command -v slirp4netns >/dev/null || skip "slirp4netns is not installed"
	standin slirp4netns
	RK_REAL_slirp4netns=$(command -v slirp4netns) \
		rk_leaky --net=slirp4netns --slirp4netns-binary="$BIN/slirp4netns" true
	assert_success
	assert_fds slirp4netns "0 1 2" --help
	assert_fds slirp4netns "0 1 2 3" --mtu
}

@test "pasta's probe, vpnkit and lxc-user-nic get stdio only" {
	standin pasta
	standin vpnkit
	standin lxc-user-nic
	rk_leaky --net=pasta --pasta-binary="$BIN/pasta" true
	assert_failure
	assert_fds pasta "0 1 2" --version
	rk_leaky --net=vpnkit --vpnkit-binary="$BIN/vpnkit" true
	assert_failure
	assert_fds vpnkit "0 1 2"
	rk_leaky --net=lxc-user-nic --lxc-user-nic-binary="$BIN/lxc-user-nic" true
	assert_failure
	assert_fds lxc-user-nic "0 1 2" create
}
