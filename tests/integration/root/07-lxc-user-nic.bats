#!/usr/bin/env bats
# --net=lxc-user-nic with Debian's setuid helper. Each test runs in a network and mount
# namespace of its own where root sets up what lxc-net would: the bridge lxcbr0 with
# 10.0.3.1/24 and dnsmasq answering DHCP on it, and an /etc/lxc/lxc-usernet allowing the
# test user a veth on it (a bind mount: the machine's file is untouched). rootlesskit runs
# as the test user; no packet leaves that namespace.

load ../helpers

user=${RK_TEST_USER:-rktest}
ECHO="$BATS_TEST_DIRNAME/../tools/echo.py"
DNS="$BATS_TEST_DIRNAME/../tools/dns.py"
DHCPD="$BATS_TEST_DIRNAME/../tools/dhcpd.py"
LXC_NIC=/usr/libexec/lxc/lxc-user-nic

setup() {
	[ -u "$LXC_NIC" ] || skip "lxc-user-nic is not installed (Debian package lxc)"
	command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (Debian package dnsmasq-base)"
	LD=$(mktemp -d /tmp/rk-lxc.XXXXXX)
	chmod 0755 "$LD"
}

teardown() {
	rm -rf "$LD"
}

# in_bridge_net ALLOWED SCRIPT [DHCPD_ARGS]: SCRIPT (sh) as the test user, with ALLOWED as
# the lxc-usernet line. The bridge's DHCP and DNS server is dnsmasq, forwarding queries to
# the test's resolver on 127.0.0.1:5353; with DHCPD_ARGS ("LEASE [CHANGE_AT]") DHCP is
# tools/dhcpd.py instead. Output goes through a file, so that no leftover holds bats' pipe.
in_bridge_net() {
	echo "$1" >"$LD/lxc-usernet"
	cat >"$LD/script" <<-EOF
		$2
	EOF
	chmod 0644 "$LD/script" "$LD/lxc-usernet"
	timeout 90 unshare -n -m sh -ec "
		ip link set lo up
		mount -t sysfs sysfs /sys
		ip link add lxcbr0 type bridge
		ip addr add 10.0.3.1/24 dev lxcbr0
		ip link set lxcbr0 up
		mkdir -p /etc/lxc /run/lxc
		[ -e /etc/lxc/lxc-usernet ] || touch /etc/lxc/lxc-usernet
		mount --bind $LD/lxc-usernet /etc/lxc/lxc-usernet
		mount -t tmpfs tmpfs /run/lxc
		rm -f $LD/dns-ready; mkfifo $LD/dns-ready
		python3 $DNS serve 127.0.0.1 5353 $LD/dns-ready 3>&- &
		head -n 1 $LD/dns-ready >/dev/null
		if [ -z '${3:-}' ]; then
			dnsmasq --keep-in-foreground --conf-file=/dev/null --interface=lxcbr0 \
				--bind-interfaces --except-interface=lo \
				--dhcp-range=10.0.3.50,10.0.3.60,2m --no-resolv \
				--server=127.0.0.1#5353 --dhcp-leasefile=$LD/leases --pid-file= \
				--no-ping --dhcp-option=6,10.0.3.1 --log-facility=$LD/dnsmasq.log 3>&- &
		else
			python3 $DHCPD lxcbr0 10.0.3.1 10.0.3.70 $LD/dhcpd.log ${3:-} 3>&- &
		fi
		rm -f $LD/echo-ready; mkfifo $LD/echo-ready
		SERVE_HOST=10.0.3.1 timeout 80 python3 $ECHO serve 18099 $LD/echo-ready 10.0.3.1 3>&- &
		head -n 1 $LD/echo-ready >/dev/null
		rc=0
		runuser -u $user -- env RK='$RK' ECHO='$ECHO' DNS='$DNS' LD='$LD' sh -e $LD/script || rc=\$?
		kill \$(jobs -p) 2>/dev/null || true
		exit \$rc" >"$LD/log" 2>&1 </dev/null && rc=0 || rc=$?
	cat "$LD/log"
	return "$rc"
}

@test "lxc-user-nic: eth0 from DHCP (address, route, DNS), a host on the bridge reached, dynamicChildIP" {
	run in_bridge_net "$user veth lxcbr0 4" '
		timeout 60 $RK --net=lxc-user-nic --copy-up=/etc --disable-host-loopback sh -c "
			cat /sys/class/net/eth0/mtu
			ip -4 -o addr show dev eth0 | awk \"{ print \\\$4 }\"
			ip route show default
			cat /etc/resolv.conf
			python3 $ECHO tcp 10.0.3.1 18099 over-the-bridge
			python3 $DNS query 10.0.3.1 rootlesskit-test.invalid
			curl -s --max-time 5 --unix-socket \$ROOTLESSKIT_STATE_DIR/api.sock http://x/v1/info"'
	assert_success
	assert_line "1500"
	assert_line --regexp '^10\.0\.3\.(5[0-9]|60)/24$'
	assert_line --regexp '^default via 10\.0\.3\.1 dev eth0'
	assert_line "nameserver 10.0.3.1"
	assert_line "over-the-bridge"
	assert_line "192.0.2.53"
	assert_output --partial '"networkDriver":{"driver":"lxc-user-nic","dynamicChildIP":true}'
	refute_output --partial "--disable-host-loopback is implicitly set"
	run cat "$LD/dnsmasq.log"
	assert_output --partial "DHCPACK(lxcbr0)"
}

@test "lxc-user-nic --detach-netns: the namespace at \$STATE/netns gets the address" {
	run in_bridge_net "$user veth lxcbr0 4" '
		timeout 60 $RK --net=lxc-user-nic --detach-netns --ifname=eth5 sh -c "
			nsenter -n\$ROOTLESSKIT_STATE_DIR/netns ip -4 -o addr show dev eth5 | awk \"{ print \\\$4 }\"
			cat \$ROOTLESSKIT_STATE_DIR/resolv.conf"'
	assert_success
	assert_line --regexp '^10\.0\.3\.(5[0-9]|60)/24$'
	assert_line "nameserver 10.0.3.1"
	assert_output --partial "--disable-host-loopback is implicitly set for lxc-user-nic"
}

@test "lxc-user-nic: a bridge the user may not use fails with the helper's words" {
	run in_bridge_net "nobody veth lxcbr0 4" '
		timeout 60 $RK --net=lxc-user-nic --disable-host-loopback true'
	assert_failure
	assert_output --regexp "setting up the network: /usr/[^ ]+/lxc-user-nic failed: .*: exit status 1"
	run in_bridge_net "$user veth lxcbr0 4" '
		timeout 60 $RK --net=lxc-user-nic --lxc-user-nic-binary=no-such-helper true'
	assert_failure
	assert_output --partial 'exec: "no-such-helper": executable file not found in $PATH'
}

@test "lxc-user-nic: the lease is renewed at 0.9 of its time" {
	run in_bridge_net "$user veth lxcbr0 4" '
		timeout 60 $RK --net=lxc-user-nic --disable-host-loopback sh -c "
			sleep 8
			ip -4 -o addr show dev eth0 | awk \"{ print \\\$4 }\""' 4
	assert_success
	assert_line "10.0.3.70/24"
	# the first lease, and renewals at about 3.6 s and 7.2 s
	run grep -c "^ACK 10.0.3.70$" "$LD/dhcpd.log"
	[ "$output" -ge 3 ] || fail "ACKs: $output; $(cat "$LD/dhcpd.log")"
}

@test "lxc-user-nic: a renewal that brings another address ends the command with the error" {
	run in_bridge_net "$user veth lxcbr0 4" '
		timeout 60 $RK --net=lxc-user-nic --disable-host-loopback sh -c "sleep 20; echo not-ended"' "4 1"
	assert_failure
	refute_output --partial "not-ended"
	assert_output --partial "renewing the DHCP lease of eth0: expected to retain 10.0.3.70, got 10.0.3.71"
}
