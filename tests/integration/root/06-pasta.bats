#!/usr/bin/env bats
# --net=pasta, with and without --detach-netns, and --port-driver=implicit. pasta needs a
# host interface with a default route to copy its set-up from, so each test runs in a
# network and mount namespace of its own: a veth pair with 198.18.0.1/24 (a benchmarking
# address, RFC 2544) and a default route that leads nowhere, /etc/resolv.conf naming
# 127.0.0.1 where the test's resolver listens, and an echo service on 127.0.0.1:18099.
# rootlesskit runs as the test user. No packet leaves that namespace.

load ../helpers

user=${RK_TEST_USER:-rktest}
ECHO="$BATS_TEST_DIRNAME/../tools/echo.py"
DNS="$BATS_TEST_DIRNAME/../tools/dns.py"

setup() {
	command -v pasta >/dev/null || skip "pasta is not installed"
	PD=$(mktemp -d /tmp/rk-pasta.XXXXXX)
	chmod 0755 "$PD"
	chown "$user" "$PD"
}

teardown() {
	rm -rf "$PD"
}

# in_net SCRIPT: runs SCRIPT (sh) as the test user inside the prepared namespace, then
# prints the user's pasta processes still alive, if any, as "left: ...". The output goes
# through a file: a process that outlived the test must not hold bats' pipe open.
in_net() {
	cat >"$PD/script" <<-EOF
		$1
	EOF
	chmod 0755 "$PD/script"
	timeout 90 unshare -n -m sh -ec "
		ip link set lo up
		ip link add rk0 type veth peer name rk1
		ip link set rk1 up
		ip addr add 198.18.0.1/24 dev rk0
		ip link set rk0 up
		ip route add default via 198.18.0.254 dev rk0
		${IN_NET_V6:+ip -6 addr add fdaa::1/64 dev rk0 nodad}
		${IN_NET_V6:+ip -6 route add default via fdaa::fe dev rk0}
		echo 'nameserver 127.0.0.1' > $PD/resolv.conf
		mount --bind $PD/resolv.conf /etc/resolv.conf
		mkfifo $PD/dns-ready $PD/echo-ready
		python3 $DNS serve 127.0.0.1 53 $PD/dns-ready 3>&- &
		SERVE_HOST=127.0.0.1 timeout 80 python3 $ECHO serve 18099 $PD/echo-ready 127.0.0.1 3>&- &
		head -n 1 $PD/dns-ready >/dev/null
		head -n 1 $PD/echo-ready >/dev/null
		rc=0
		runuser -u $user -- env RK='$RK' ECHO='$ECHO' DNS='$DNS' PD='$PD' sh -e $PD/script || rc=\$?
		sleep 0.2
		pgrep -u $user -a -f 'pasta --stderr' | sed 's/^/left: /' || true
		kill \$(jobs -p) 2>/dev/null || true
		exit \$rc" >"$PD/log" 2>&1 </dev/null && rc=0 || rc=$?
	cat "$PD/log"
	return "$rc"
}

@test "pasta: the interface it configured, resolv.conf, hosts, the API; the host through the gateway; pasta stopped at exit" {
	run in_net '
		timeout 30 $RK --net=pasta --copy-up=/etc sh -c "
			cat /sys/class/net/tap0/mtu
			ip -4 -o addr show dev tap0 | awk \"{ print \\\$4 }\"
			ip route show default
			cat /etc/resolv.conf
			tail -n 2 /etc/hosts
			python3 $ECHO chat 10.0.2.2 18099 via-gateway
			curl -s --max-time 5 --unix-socket \$ROOTLESSKIT_STATE_DIR/api.sock http://x/v1/info; echo
			curl -s --max-time 5 --unix-socket \$ROOTLESSKIT_STATE_DIR/api.sock http://x/v1/ports"'
	assert_success
	assert_line "65520"
	assert_line "10.0.2.100/24"
	assert_line --regexp '^default via 10\.0\.2\.2 dev tap0'
	assert_line "nameserver 10.0.2.3"
	assert_line --regexp "^127\.0\.0\.1 "
	assert_line "via-gateway"
	assert_output --partial '"networkDriver":{"driver":"pasta","dns":["10.0.2.3"],"childIP":"10.0.2.100"}'
	refute_output --partial '"portDriver"'
	assert_output --partial '{"message":"no PortDriver is available"}'
	assert_output --partial 'network driver is experimental. Needs very recent version of pasta'
	refute_output --partial "left:"
}

@test "pasta: --disable-host-loopback blocks the host's 127.0.0.1, through the gateway and through the namespace's own loopback" {
	run in_net '
		timeout 30 $RK --net=pasta --disable-host-loopback sh -c "
			timeout 10 python3 $ECHO chat 10.0.2.2 18099 blocked || echo refused-gateway
			timeout 10 python3 $ECHO chat 127.0.0.1 18099 spliced || echo refused-loopback"'
	assert_success
	refute_line "blocked"
	refute_line "spliced"
	assert_line "refused-gateway"
	assert_line "refused-loopback"
	refute_output --partial "left:"
}

@test "pasta: --cidr, --ifname and --mtu take effect" {
	run in_net '
		timeout 30 $RK --net=pasta --cidr=10.9.8.0/24 --ifname=eth7 --mtu=9000 --copy-up=/etc sh -c "
			cat /sys/class/net/eth7/mtu
			ip -4 -o addr show dev eth7 | awk \"{ print \\\$4 }\"
			ip route show default
			cat /etc/resolv.conf
			python3 $ECHO chat 10.9.8.2 18099 custom"'
	assert_success
	assert_line "9000"
	assert_line "10.9.8.100/24"
	assert_line --regexp '^default via 10\.9\.8\.2 dev eth7'
	assert_line "nameserver 10.9.8.3"
	assert_line "custom"
}

@test "pasta --ipv6: fixed IPv6 addresses (fd00::100, gateway fd00::2, DNS fd00::3), listed in resolv.conf and the API" {
	IN_NET_V6=1 run in_net '
		timeout 30 $RK --net=pasta --ipv6 --copy-up=/etc sh -c "
			for i in \$(seq 50); do ip -6 -o addr show dev tap0 scope global | grep -q fd00::100 && break; sleep 0.1; done
			ip -6 -o addr show dev tap0 scope global | awk \"{ print \\\$4 }\"
			ip -6 route show default
			cat /etc/resolv.conf
			curl -s --max-time 5 --unix-socket \$ROOTLESSKIT_STATE_DIR/api.sock http://x/v1/info"'
	assert_success
	assert_line "fd00::100/64"
	assert_line --regexp '^default via fd00::2 dev tap0'
	assert_line "nameserver 10.0.2.3"
	assert_line "nameserver fd00::3"
	assert_line --partial '"dns":["10.0.2.3","fd00::3"],"childIP":"10.0.2.100","ipv6":true}'
	refute_output --partial "left:"
}

@test "pasta: DNS at 10.0.2.3 is answered by the host's loopback resolver" {
	run in_net '
		timeout 30 $RK --net=pasta --copy-up=/etc --disable-host-loopback sh -c "
			python3 $DNS query 10.0.2.3 rootlesskit-test.invalid
			python3 $DNS query 10.0.2.3 unknown.invalid || echo unknown-refused"'
	assert_success
	assert_line "192.0.2.53"
	assert_line "unknown-refused"
}

@test "pasta --detach-netns: the namespace at \$STATE/netns is configured, the command stays in the host's" {
	cat >"$PD/inner" <<-'EOF'
		ip -4 -o addr show dev rk0 | awk '{ print "host:", $4 }'
		nsenter -n"$ROOTLESSKIT_STATE_DIR/netns" ip -4 -o addr show dev tap0 | awk '{ print $4 }'
		nsenter -n"$ROOTLESSKIT_STATE_DIR/netns" python3 "$ECHO" chat 10.0.2.2 18099 detached
		cat "$ROOTLESSKIT_STATE_DIR/resolv.conf"
	EOF
	run in_net 'timeout 30 $RK --net=pasta --detach-netns sh -e $PD/inner'
	assert_success
	assert_line "host: 198.18.0.1/24"
	assert_line "10.0.2.100/24"
	assert_line "detached"
	assert_line "nameserver 10.0.2.3"
	refute_output --partial "left:"
}

@test "pasta --port-driver=implicit: a port opened inside is reachable on the host's 127.0.0.1; -p is ignored" {
	run in_net '
		mkfifo $PD/inner-ready
		timeout 30 $RK --net=pasta --port-driver=implicit -p 127.0.0.1:1:1/tcp sh -c "
			python3 $ECHO serve 18123 $PD/inner-ready & sleep 8; kill \$!" 3>&- &
		head -n 1 $PD/inner-ready >/dev/null
		# pasta scans the listening ports once a second
		for i in 1 2 3 4 5 6 7 8 9 10; do
			python3 $ECHO chat 127.0.0.1 18123 implicit 2>/dev/null && break
			sleep 0.5
		done
		wait'
	assert_success
	assert_line "implicit"
}
