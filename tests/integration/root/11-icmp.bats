#!/usr/bin/env bats
# ICMP echo from the child to the outside under --net=builtin without libslirp
# (netstack/icmpnat.c): through an unprivileged ICMP socket of the host where
# net.ipv4.ping_group_range allows one, dropped where it does not. The "host" is a network
# namespace of this test with 198.18.0.1 (RFC 2544) on its lo; rootlesskit runs as the
# test user. No traffic leaves it.

load ../helpers

user=${RK_TEST_USER:-rktest}
ICMPECHO="$BATS_TEST_DIRNAME/../tools/icmpecho.py"

setup() {
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
}

# ping_echo RANGE: in a namespace of ours whose ping_group_range is RANGE, the child pings
# 198.18.0.1 twice (two sockets' worth of identifiers), and the gateway once
ping_echo() {
	timeout 60 unshare -n sh -ec "
		ip link set lo up
		ip addr add 198.18.0.1/32 dev lo
		sysctl -q -w net.ipv4.ping_group_range='$1'
		cd /tmp
		runuser -u $user -- timeout 30 $RK --net=builtin sh -c '
			python3 $ICMPECHO 198.18.0.1 56 || true
			python3 $ICMPECHO 198.18.0.1 3000 || true
			python3 $ICMPECHO 10.0.2.2 56'" </dev/null
}

@test "ICMP echo to the outside goes through an ICMP socket when ping_group_range allows it" {
	run ping_echo "0 2147483647"
	assert_success
	assert_line "reply from 198.18.0.1: 56 bytes"
	assert_line "reply from 198.18.0.1: 3000 bytes"
	assert_line "reply from 10.0.2.2: 56 bytes"
}

@test "ICMP echo to the outside is dropped when ping_group_range allows no ICMP socket; the gateway still answers" {
	run ping_echo "1 0"
	assert_success
	refute_line --partial "reply from 198.18.0.1"
	[ "$(grep -c "^no reply$" <<<"$output")" = 2 ] || fail "want two pings without a reply: $output"
	assert_line "reply from 10.0.2.2: 56 bytes"
}
