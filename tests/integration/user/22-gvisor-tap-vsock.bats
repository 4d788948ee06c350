#!/usr/bin/env bats
# --net=gvisor-tap-vsock and --port-driver=gvisor-tap-vsock: upstream's names, served by our
# engine on upstream's addresses (the child .100, the gateway, DNS server and host loopback
# all .1), with upstream's checks and API fields. Traffic goes only to 127.0.0.1 on the host
# (as 10.0.2.1 inside) and to addresses inside the namespace.

load ../helpers
bats_require_minimum_version 1.5.0

ECHO="$BATS_TEST_DIRNAME/../tools/echo.py"

setup() {
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
}

teardown() {
	[ -n "${HOST_ECHO:-}" ] && kill "$HOST_ECHO" 2>/dev/null || true
	if [ -n "${RK_PID:-}" ] && pid_alive "$RK_PID"; then
		kill -KILL "$RK_PID"
	fi
}

@test "gvisor-tap-vsock: 10.0.2.100/24, gateway and DNS 10.0.2.1, MTU 65520, tap0, the API's drivers" {
	run --separate-stderr rk --net=gvisor-tap-vsock --port-driver=gvisor-tap-vsock \
		--copy-up=/etc --disable-host-loopback sh -c '
		cat /sys/class/net/tap0/mtu
		ip -4 -o addr show dev tap0 | awk "{ print \$4 }"
		ip route show default
		cat /etc/resolv.conf
		curl -s --max-time 5 --unix-socket $ROOTLESSKIT_STATE_DIR/api.sock http://x/v1/info'
	assert_success
	assert_line --index 0 "65520"
	assert_line --index 1 "10.0.2.100/24"
	assert_line --index 2 --regexp '^default via 10\.0\.2\.1 dev tap0'
	assert_line --index 3 "nameserver 10.0.2.1"
	assert_line --index 4 --partial '"networkDriver":{"driver":"gvisor-tap-vsock","dns":["10.0.2.1"],"childIP":"10.0.2.100"}'
	assert_line --index 4 --partial '"portDriver":{"driver":"gvisor-tap-vsock","protos":['
	assert_line --index 4 --partial '"disallowLoopbackChildIP":true}'
	# upstream's two warnings; not its claim that --disable-host-loopback is unsupported
	[[ "$stderr" == *'\"gvisor-tap-vsock\" network driver is experimental'* ]]
	[[ "$stderr" == *'\"gvisor-tap-vsock\" port driver is experimental'* ]]
	[[ "$stderr" != *'not yet supported'* ]]
}

@test "gvisor-tap-vsock: the host's 127.0.0.1 through 10.0.2.1 (TCP and UDP); neither with --disable-host-loopback" {
	local fifo="$BATS_TEST_TMPDIR/host-ready"
	mkfifo "$fifo"
	timeout 60 python3 "$ECHO" serve 18095 "$fifo" 127.0.0.1 3>&- &
	HOST_ECHO=$!
	read_fifo "$fifo" >/dev/null
	run rk --net=gvisor-tap-vsock sh -c "
		python3 $ECHO tcp 10.0.2.1 18095 tcp-via-gateway
		python3 $ECHO udp 10.0.2.1 18095 udp-via-gateway"
	assert_success
	assert_line "tcp-via-gateway"
	assert_line "udp-via-gateway"
	run rk --net=gvisor-tap-vsock --disable-host-loopback sh -c "
		timeout 10 python3 $ECHO tcp 10.0.2.1 18095 blocked-tcp || echo tcp-refused
		timeout 10 python3 $ECHO udp 10.0.2.1 18095 blocked-udp || echo udp-refused"
	assert_success
	refute_line "blocked-tcp"
	refute_line "blocked-udp"
	assert_line "tcp-refused"
	assert_line "udp-refused"
}

@test "gvisor-tap-vsock: --cidr moves the child to .100 and the gateway and DNS to .1; --mtu and --ifname apply" {
	run --separate-stderr rk --net=gvisor-tap-vsock --cidr=10.0.7.0/24 --mtu=9000 --ifname=eth7 --copy-up=/etc \
		--disable-host-loopback sh -c '
		ip -4 -o addr show dev eth7 | awk "{ print \$4 }"
		cat /sys/class/net/eth7/mtu
		ip route show default
		cat /etc/resolv.conf'
	assert_success
	assert_line --index 0 "10.0.7.100/24"
	assert_line --index 1 "9000"
	assert_line --index 2 --regexp '^default via 10\.0\.7\.1 dev eth7'
	assert_line --index 3 "nameserver 10.0.7.1"
}

@test "gvisor-tap-vsock: upstream's refusals (--ipv6, the net and port driver pairs)" {
	run rk --net=gvisor-tap-vsock --ipv6 true
	assert_failure
	assert_output --partial "[rootlesskit:parent] error: --ipv6 is not supported for gvisor-tap-vsock"
	run rk --port-driver=gvisor-tap-vsock true
	assert_failure
	assert_output --partial "error: port driver requires non-host network"
	run rk --net=slirp4netns --port-driver=gvisor-tap-vsock true
	assert_failure
	assert_output --partial "error: port driver requires gvisor-tap-vsock network"
	run rk --net=gvisor-tap-vsock --port-driver=slirp4netns true
	assert_failure
	assert_output --partial "error: port driver requires slirp4netns network"
	run rk --net=gvisor-tap-vsock --port-driver=implicit true
	assert_failure
	assert_output --partial "error: port driver requires pasta network"
	run rk --net=gvisor-tap-vsock --mtu=1000 true
	assert_failure
	assert_output --partial "mtu must be >= 1280 for --net=gvisor-tap-vsock, got 1000"
	run rk --help
	assert_output --partial "gvisor-tap-vsock(experimental; the builtin engine"
	assert_output --partial "slirp4netns, gvisor-tap-vsock(experimental), netstack"
}

@test "gvisor-tap-vsock --port-driver=gvisor-tap-vsock: TCP and UDP published, a loopback client seen as 10.0.2.1, ids from 1" {
	local fifo="$BATS_TEST_TMPDIR/echo-ready"
	mkfifo "$fifo"
	"$RK" --pidns --state-dir="$BATS_TEST_TMPDIR/state" --net=gvisor-tap-vsock \
		--port-driver=gvisor-tap-vsock -p 127.0.0.1:18091:80/tcp -p 127.0.0.1:18091:80/udp \
		timeout 30 python3 "$ECHO" serve 80 "$fifo" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$fifo" >/dev/null
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18091 via-gvisor
	assert_output "via-gvisor"
	run timeout 10 python3 "$ECHO" udp 127.0.0.1 18091 udp-via-gvisor
	assert_output "udp-via-gvisor"
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18091 peer
	assert_output "10.0.2.1"
	local sock="$BATS_TEST_TMPDIR/state/api.sock"
	run "$RK_CTL" --socket="$sock" add-ports 127.0.0.1:18092:80/tcp4
	assert_success
	assert_output "3"
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18092 added
	assert_output "added"
	run "$RK_CTL" --socket="$sock" list-ports --json
	assert_line --index 2 '{"id":3,"spec":{"proto":"tcp4","parentIP":"127.0.0.1","parentPort":18092,"childPort":80}}'
	run "$RK_CTL" --socket="$sock" remove-ports 3
	assert_success
	run timeout 5 python3 "$ECHO" tcp 127.0.0.1 18092 removed
	assert_failure
}

@test "gvisor-tap-vsock with the builtin port driver" {
	local fifo="$BATS_TEST_TMPDIR/echo-ready"
	mkfifo "$fifo"
	"$RK" --pidns --state-dir="$BATS_TEST_TMPDIR/state" --net=gvisor-tap-vsock --port-driver=builtin \
		-p 127.0.0.1:18093:80/tcp timeout 30 python3 "$ECHO" serve 80 "$fifo" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$fifo" >/dev/null
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18093 via-builtin
	assert_output "via-builtin"
	run curl -s --max-time 5 --unix-socket "$BATS_TEST_TMPDIR/state/api.sock" http://x/v1/info
	assert_output --partial '"networkDriver":{"driver":"gvisor-tap-vsock"'
	assert_output --partial '"portDriver":{"driver":"builtin"'
}
