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
# and one from 127.0.0.1, the API's portDriver.extra as it was before them, then
# rootlesskit's output. PATH is the test user's PATH;
# PEERS_WRAP, when set, is put before the service's command.
peers() {
	local path=$1
	shift
	timeout 60 unshare -n sh -ec "
		ip link set lo up
		ip addr add 198.18.0.1/32 dev lo
		mkfifo $SIP_DIR/ready; chmod a+rw $SIP_DIR/ready
		runuser -u $user -- env PATH=$path timeout 30 $RK --state-dir=$SIP_DIR/state \
			--net=none --port-driver=builtin -p 0.0.0.0:18080:80/tcp $* \
			${PEERS_WRAP:-} python3 $ECHO serve 80 $SIP_DIR/ready > $SIP_DIR/out 2>&1 3>&- &
		timeout 20 head -n 1 $SIP_DIR/ready >/dev/null || { cat $SIP_DIR/out; exit 1; }
		extra=\$(curl -s --max-time 5 --unix-socket $SIP_DIR/state/api.sock \
			http://x/v1/info | grep -o '\"extra\":{[^}]*}' || echo no-extra)
		timeout 10 python3 $ECHO tcp 198.18.0.1 18080 peer
		timeout 10 python3 $ECHO tcp 127.0.0.1 18080 peer
		echo \"\$extra\"
		kill -TERM \$!
		wait
		cat $SIP_DIR/out"
}

@test "a non-loopback client is seen with its own address; a loopback one as 127.0.0.1 (nftables, the default)" {
	run peers /usr/sbin:/usr/bin:/sbin:/bin
	assert_success
	assert_line --index 0 "198.18.0.1"
	assert_line --index 1 "127.0.0.1"
	# reported from the start, before any connection needed the rules (upstream's test)
	assert_line --index 2 '"extra":{"sourceIPTransparentBackend":"nft"}'
	refute_output --partial "falling back"
}

@test "--source-ip-transparent-backend=nft needs no nft or iptables binary" {
	run peers /usr/bin:/bin --source-ip-transparent-backend=nft
	assert_success
	assert_line --index 0 "198.18.0.1"
	assert_line --index 2 '"extra":{"sourceIPTransparentBackend":"nft"}'
}

@test "--source-ip-transparent-backend=iptables: iptables-restore makes the rules" {
	command -v iptables-restore >/dev/null || skip "iptables is not installed"
	run peers /usr/sbin:/usr/bin:/sbin:/bin --source-ip-transparent-backend=iptables
	assert_success
	assert_line --index 0 "198.18.0.1"
	assert_line --index 1 "127.0.0.1"
	assert_line --index 2 '"extra":{"sourceIPTransparentBackend":"iptables"}'
	refute_output --partial "falling back"
}

@test "--source-ip-transparent-backend: a bad value is refused before anything starts" {
	run runuser -u "$user" -- "$RK" --source-ip-transparent-backend=pf true
	assert_failure 1
	assert_output '[rootlesskit:parent] error: unknown source-ip-transparent-backend: "pf" (expected auto, nft or iptables)'
}

@test "--source-ip-transparent=false: every client is seen as 127.0.0.1" {
	run peers /usr/sbin:/usr/bin:/sbin:/bin --source-ip-transparent=false
	assert_success
	assert_line --index 0 "127.0.0.1"
	assert_line --index 1 "127.0.0.1"
	assert_line --index 2 '"extra":{"sourceIPTransparentBackend":"none"}'
}

@test "--source-ip-transparent-backend=iptables without iptables-restore: one warning, backend none, connections still work as 127.0.0.1" {
	run peers /usr/bin:/bin --source-ip-transparent-backend=iptables
	assert_success
	assert_line --index 0 "127.0.0.1"
	assert_line --index 1 "127.0.0.1"
	assert_line --index 2 '"extra":{"sourceIPTransparentBackend":"none"}'
	assert_line --partial "source IP transparent: iptables-restore not found in PATH; falling back to non-transparent mode, client source IPs will not be preserved"
	[ "$(grep -c 'source IP transparent' <<<"$output")" -eq 1 ]
}

@test "--detach-netns: the client's address is kept every time (nothing else reaps iptables-restore)" {
	command -v iptables-restore >/dev/null || skip "iptables is not installed"
	# the supervisor's reaping used to race its port thread's wait for iptables-restore:
	# lost 1 in 3
	# the service runs in the detached namespace, where the ports lead
	PEERS_WRAP="nsenter --net=$SIP_DIR/state/netns"
	for i in 1 2 3 4 5 6; do
		rm -f "$SIP_DIR/ready"
		run peers /usr/sbin:/usr/bin:/sbin:/bin --detach-netns \
			--source-ip-transparent-backend=iptables
		assert_success
		[ "${lines[0]}" = "198.18.0.1" ] || fail "run $i: the service saw '${lines[0]}': $output"
		refute_output --partial "falling back"
	done
}

@test "iptables-restore and ip6tables-restore get stdio only (not the port channel)" {
	command -v iptables-restore >/dev/null || skip "iptables is not installed"
	local bin="$SIP_DIR/bin"
	mkdir "$bin"
	for n in iptables-restore ip6tables-restore; do
		ln -s "$BATS_TEST_DIRNAME/../tools/standin.py" "$bin/$n"
	done
	touch "$SIP_DIR/fds"
	chmod 0666 "$SIP_DIR/fds"
	chmod -R a+rx "$bin"
	run env RK_FDLOG="$SIP_DIR/fds" RK_REAL_iptables_restore="$(command -v iptables-restore)" \
		RK_REAL_ip6tables_restore="$(command -v ip6tables-restore)" \
		bash -c "$(declare -f peers); RK=$RK SIP_DIR=$SIP_DIR user=$user ECHO=$ECHO peers $bin:/usr/sbin:/usr/bin:/sbin:/bin --source-ip-transparent-backend=iptables"
	assert_success
	assert_line --index 0 "198.18.0.1"
	run cat "$SIP_DIR/fds"
	assert_line "iptables-restore --noflush: 0 1 2"
	assert_line "ip6tables-restore --noflush: 0 1 2"
}
