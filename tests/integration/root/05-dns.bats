#!/usr/bin/env bats
# DNS through --net=slirp4netns and --net=builtin, answered by a resolver of the test on loopback. The test
# runs in its own network and mount namespaces, where /etc/resolv.conf names 127.0.0.1 and
# the resolver listens there: no query can reach this machine's real resolver. rootlesskit
# runs as the test user.

load ../helpers

user=${RK_TEST_USER:-rktest}
DNS="$BATS_TEST_DIRNAME/../tools/dns.py"

setup() {
	DNS_DIR=$(mktemp -d /tmp/rk-dns.XXXXXX)
	chmod 0755 "$DNS_DIR"
}

teardown() {
	rm -rf "$DNS_DIR"
}

# in_private_net FLAGS...: runs rootlesskit FLAGS as the test user with the resolver up,
# querying $DNS_TARGET (10.0.2.3) for the test name and for an unknown one
in_private_net() {
	timeout 60 unshare -n -m sh -ec "
		ip link set lo up
		echo 'nameserver ${DNS_ADDR:-127.0.0.1}' > $DNS_DIR/resolv.conf
		mount --bind $DNS_DIR/resolv.conf /etc/resolv.conf
		mkfifo $DNS_DIR/ready
		python3 $DNS serve ${DNS_ADDR:-127.0.0.1} 53 $DNS_DIR/ready 3>&- &
		head -n 1 $DNS_DIR/ready >/dev/null
		runuser -u $user -- timeout 30 $RK $* sh -c '
			cat /etc/resolv.conf
			python3 $DNS query ${DNS_TARGET:-10.0.2.3} rootlesskit-test.invalid
			python3 $DNS query ${DNS_TARGET:-10.0.2.3} unknown.invalid || echo unknown-refused'
		kill \$!"
}

@test "DNS at 10.0.2.3 is answered by the host's (loopback) resolver" {
	command -v slirp4netns >/dev/null || skip "slirp4netns is not installed"
	run in_private_net --net=slirp4netns --copy-up=/etc --disable-host-loopback
	assert_success
	assert_line "nameserver 10.0.2.3"
	assert_line "192.0.2.53"
	assert_line "unknown-refused"
}

@test "--net=builtin: DNS at 10.0.2.3 is answered by the host's loopback resolver" {
	run in_private_net --net=builtin --copy-up=/etc --disable-host-loopback
	assert_success
	assert_line "nameserver 10.0.2.3"
	assert_line "192.0.2.53"
	assert_line "unknown-refused"
}

@test "--net=gvisor-tap-vsock: DNS at the gateway 10.0.2.1 is answered, with --disable-host-loopback too" {
	DNS_TARGET=10.0.2.1 run in_private_net --net=gvisor-tap-vsock --copy-up=/etc \
		--disable-host-loopback
	assert_success
	assert_line "nameserver 10.0.2.1"
	assert_line "192.0.2.53"
	assert_line "unknown-refused"
}

@test "--net=builtin --ipv6: fd00::3 is listed, and DNS at 10.0.2.3 still answers" {
	run in_private_net --net=builtin --ipv6 --copy-up=/etc --disable-host-loopback
	assert_success
	assert_line "nameserver 10.0.2.3"
	assert_line "nameserver fd00::3"
	assert_line "192.0.2.53"
}

@test "--net=builtin: a systemd-resolved style stub on 127.0.0.53 answers too" {
	DNS_ADDR=127.0.0.53
	run in_private_net --net=builtin --copy-up=/etc --disable-host-loopback
	assert_success
	assert_line "192.0.2.53"
	assert_line "unknown-refused"
}

@test "--net=builtin: an IPv6-only loopback stub (::1) answers queries to 10.0.2.3 and fd00::3, over UDP and TCP" {
	DNS_ADDR=::1
	run in_private_net --net=builtin --ipv6 --copy-up=/etc --disable-host-loopback
	assert_success
	assert_line "192.0.2.53"
	assert_line "unknown-refused"
	run timeout 60 unshare -n -m sh -ec "
		ip link set lo up
		echo 'nameserver ::1' > $DNS_DIR/resolv.conf
		mount --bind $DNS_DIR/resolv.conf /etc/resolv.conf
		mkfifo $DNS_DIR/ready6
		python3 $DNS serve ::1 53 $DNS_DIR/ready6 3>&- &
		head -n 1 $DNS_DIR/ready6 >/dev/null
		runuser -u $user -- timeout 30 $RK --net=builtin --ipv6 --copy-up=/etc sh -c '
			# SLAAC: the address is usable once duplicate detection ends (about 4 s)
			for i in \$(seq 100); do
				ip -6 addr show tap0 | grep -q \"scope global dynamic\" && break
				sleep 0.1
			done
			python3 $DNS query fd00::3 rootlesskit-test.invalid
			python3 $DNS query-tcp 10.0.2.3 rootlesskit-test.invalid'
		kill \$!"
	assert_success
	assert_line "192.0.2.53"
	assert_line "tcp 192.0.2.53"
}
