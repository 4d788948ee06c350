#!/usr/bin/env bats
# --source-ip-transparent with the builtin port driver: a service inside sees a
# non-loopback client's own address. The "host" is a network namespace of this test with
# 198.18.0.1 (a benchmarking address, RFC 2544) on its lo; rootlesskit runs as the test
# user and the client connects from 198.18.0.1 to 198.18.0.1. No traffic leaves it.

load ../helpers

user=${RK_TEST_USER:-rktest}
ECHO="$BATS_TEST_DIRNAME/../tools/echo.py"

setup() {
	SIP_DIR=$(mktemp -d /tmp/rk-sip.XXXXXX)
	chmod 0755 "$SIP_DIR"
	chown "$user" "$SIP_DIR"
}

teardown() {
	rm -rf "$SIP_DIR"
}

# peers PATH FLAGS...: prints what the service inside sees for a client from 198.18.0.1
# and one from 127.0.0.1, then rootlesskit's output. PATH is the test user's PATH.
peers() {
	local path=$1
	shift
	timeout 60 unshare -n sh -ec "
		ip link set lo up
		ip addr add 198.18.0.1/32 dev lo
		mkfifo $SIP_DIR/ready; chmod a+rw $SIP_DIR/ready
		runuser -u $user -- env PATH=$path timeout 30 $RK --state-dir=$SIP_DIR/state \
			--net=none --port-driver=builtin -p 0.0.0.0:18080:80/tcp $* \
			python3 $ECHO serve 80 $SIP_DIR/ready > $SIP_DIR/out 2>&1 3>&- &
		timeout 20 head -n 1 $SIP_DIR/ready >/dev/null || { cat $SIP_DIR/out; exit 1; }
		timeout 10 python3 $ECHO tcp 198.18.0.1 18080 peer
		timeout 10 python3 $ECHO tcp 127.0.0.1 18080 peer
		kill -TERM \$!
		wait
		cat $SIP_DIR/out"
}

@test "a non-loopback client is seen with its own address; a loopback one as 127.0.0.1" {
	command -v iptables-restore >/dev/null || skip "iptables is not installed"
	run peers /usr/sbin:/usr/bin:/sbin:/bin
	assert_success
	assert_line --index 0 "198.18.0.1"
	assert_line --index 1 "127.0.0.1"
	refute_output --partial "falling back"
}

@test "--source-ip-transparent=false: every client is seen as 127.0.0.1" {
	run peers /usr/sbin:/usr/bin:/sbin:/bin --source-ip-transparent=false
	assert_success
	assert_line --index 0 "127.0.0.1"
	assert_line --index 1 "127.0.0.1"
}

@test "without iptables-restore: one warning, and connections still work as 127.0.0.1" {
	run peers /usr/bin:/bin
	assert_success
	assert_line --index 0 "127.0.0.1"
	assert_line --index 1 "127.0.0.1"
	assert_line --partial "source IP transparent: iptables-restore not found in PATH; falling back to non-transparent mode, client source IPs will not be preserved"
}
