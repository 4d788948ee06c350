#!/usr/bin/env bats
# --net=vpnkit against the tests' stand-in (tools/fakevpnkit.py: VPNKit's vmnet protocol
# with a tiny gateway at 192.168.65.1 behind it; Debian has no VPNKit). The child's tap gets
# the VIF's MAC and the offered address, and frames cross the relay both ways.

load ../helpers
bats_require_minimum_version 1.5.0

FAKE="$BATS_TEST_DIRNAME/../tools/fakevpnkit.py"

setup() {
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
	export FAKEVPNKIT_LOG="$BATS_TEST_TMPDIR/vpnkit.log"
}

@test "vpnkit: MAC, address, route, MTU and resolv.conf from the VIF; UDP through the relay; the API" {
	run --separate-stderr rk --net=vpnkit --vpnkit-binary="$FAKE" --copy-up=/etc --disable-host-loopback sh -c '
		cat /sys/class/net/tap0/address /sys/class/net/tap0/mtu
		ip -4 -o addr show dev tap0 | awk "{ print \$4 }"
		ip route show default
		cat /etc/resolv.conf
		python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b\"through-the-vif\", (\"192.168.65.1\", 7))
print(s.recv(100).decode())"
		curl -s --max-time 5 --unix-socket $ROOTLESSKIT_STATE_DIR/api.sock http://x/v1/info'
	assert_success
	assert_line --index 0 "02:50:00:00:00:0a"
	assert_line --index 1 "1500"
	assert_line --index 2 "192.168.65.3/24"
	assert_line --index 3 --regexp '^default via 192\.168\.65\.1 dev tap0'
	assert_line --index 4 "nameserver 192.168.65.1"
	assert_line --index 5 "through-the-vif"
	assert_line --index 6 --partial '"networkDriver":{"driver":"vpnkit","dns":["192.168.65.1"],"childIP":"192.168.65.3"}'
	# the stand-in saw upstream's argv, one VIF, the DHCP probe, ARP and the datagram
	run cat "$FAKEVPNKIT_LOG"
	assert_line --regexp "^argv --ethernet /tmp/[^ ]+/vpnkit-ethernet.sock --mtu 1500 --host-ip 0.0.0.0$"
	assert_line --regexp '^vif [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
	assert_line "dhcp-discover"
	assert_line "arp"
	assert_line "udp-echo through-the-vif"
}

@test "vpnkit: --mtu other than 1500 warns and is passed on; no --host-ip without --disable-host-loopback" {
	run rk --net=vpnkit --vpnkit-binary="$FAKE" --mtu=9000 --ifname=vk0 cat /sys/class/net/vk0/mtu
	assert_success
	assert_line "9000"
	assert_output --partial "vpnkit is known to have issues with non-1500 MTU (current: 9000)"
	run cat "$FAKEVPNKIT_LOG"
	assert_line --regexp "^argv --ethernet [^ ]+ --mtu 9000$"
}

@test "vpnkit: its failures and invalid combinations" {
	run rk --net=vpnkit --vpnkit-binary=no-such-vpnkit true
	assert_failure
	assert_output --partial 'exec: "no-such-vpnkit": executable file not found in $PATH'
	run rk --net=vpnkit --vpnkit-binary=/bin/false true
	assert_failure
	assert_output --regexp "setting up the network: connecting to /tmp/[^ ]+/vpnkit-ethernet.sock: vpnkit exited: exit status 1"
	run rk --net=vpnkit --vpnkit-binary="$FAKE" --cidr=10.0.3.0/24 true
	assert_failure
	assert_output --partial "custom cidr is not supported for --net=vpnkit"
	run rk --net=vpnkit --vpnkit-binary="$FAKE" --port-driver=slirp4netns true
	assert_failure
	assert_output --partial "port driver requires slirp4netns network"
}

@test "vpnkit: the builtin port driver over it" {
	local fifo="$BATS_TEST_TMPDIR/echo-ready"
	mkfifo "$fifo"
	"$RK" --pidns --net=vpnkit --vpnkit-binary="$FAKE" --port-driver=builtin -p 127.0.0.1:18098:80/tcp \
		timeout 20 python3 "$BATS_TEST_DIRNAME/../tools/echo.py" serve 80 "$fifo" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$fifo" >/dev/null
	run timeout 10 python3 "$BATS_TEST_DIRNAME/../tools/echo.py" tcp 127.0.0.1 18098 via-builtin
	assert_success
	assert_output "via-builtin"
}
