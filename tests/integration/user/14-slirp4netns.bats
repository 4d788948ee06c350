#!/usr/bin/env bats
# --net=slirp4netns: the interface inside, resolv.conf and hosts, reaching a host service
# on 127.0.0.1 through the gateway (and not with --disable-host-loopback), --cidr, --mtu,
# --ifname, the builtin port driver over it, and the helper's failures. Traffic goes only
# to 127.0.0.1 on the host (as 10.0.2.2 inside) and to addresses inside the namespace.

load ../helpers
bats_require_minimum_version 1.5.0

ECHO="$BATS_TEST_DIRNAME/../tools/echo.py"

setup() {
	command -v slirp4netns >/dev/null || skip "slirp4netns is not installed"
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
}

# A TCP echo server on host loopback, port 18099, for the length of the test.
start_host_echo() {
	local fifo="$BATS_TEST_TMPDIR/host-ready"
	mkfifo "$fifo"
	SERVE_HOST=127.0.0.1 timeout 60 python3 "$ECHO" serve 18099 "$fifo" 127.0.0.1 3>&- &
	HOST_ECHO=$!
	read_fifo "$fifo" >/dev/null
}

teardown() {
	[ -n "${HOST_ECHO:-}" ] && kill "$HOST_ECHO" 2>/dev/null || true
	if [ -n "${RK_PID:-}" ] && pid_alive "$RK_PID"; then
		kill -KILL "$RK_PID"
	fi
}

@test "the interface, route, MTU, resolv.conf, hosts and the API's networkDriver" {
	run --separate-stderr rk --net=slirp4netns --copy-up=/etc sh -c '
		cat /sys/class/net/tap0/mtu
		ip -4 -o addr show dev tap0 | awk "{ print \$4 }"
		ip route show default
		cat /etc/resolv.conf
		tail -n 2 /etc/hosts
		curl -s --max-time 5 --unix-socket $ROOTLESSKIT_STATE_DIR/api.sock http://x/v1/info'
	assert_success
	assert_line --index 0 "65520"
	assert_line --index 1 "10.0.2.100/24"
	assert_line --index 2 --regexp '^default via 10\.0\.2\.2 dev tap0'
	assert_line --index 3 "nameserver 10.0.2.3"
	assert_line --index 4 "127.0.0.1 $(hostname)"
	assert_line --index 5 "::1 $(hostname)"
	assert_line --index 6 --regexp '"networkDriver":\{"driver":"slirp4netns","dns":\["10\.0\.2\.3"\],"childIP":"10\.0\.2\.100"\}'
	# with --copy-up=/etc no warning about /etc/resolv.conf
	[[ "$stderr" != *"Mounting /etc/resolv.conf without copying-up /etc"* ]] || fail "$stderr"
}

@test "without --copy-up=/etc: upstream's warning, and the files are still mounted" {
	run rk --net=slirp4netns --disable-host-loopback cat /etc/resolv.conf
	assert_success
	assert_output --partial "Mounting /etc/resolv.conf without copying-up /etc."
	assert_line "nameserver 10.0.2.3"
}

@test "a host service on 127.0.0.1 is reached as 10.0.2.2; not with --disable-host-loopback" {
	start_host_echo
	run rk --net=slirp4netns python3 "$ECHO" tcp 10.0.2.2 18099 via-gateway
	assert_success
	assert_line "via-gateway"
	assert_output --partial "specifying --disable-host-loopback is highly recommended"
	run rk --net=slirp4netns --disable-host-loopback timeout 10 python3 "$ECHO" tcp 10.0.2.2 18099 blocked
	assert_failure
	refute_line "blocked"
}

@test "--cidr, --mtu and --ifname take effect" {
	run --separate-stderr rk --net=slirp4netns --disable-host-loopback --cidr=10.0.5.0/24 --mtu=1500 --ifname=eth7 sh -c '
		cat /sys/class/net/eth7/mtu
		ip -4 -o addr show dev eth7 | awk "{ print \$4 }"
		ip route show default
		cat /etc/resolv.conf'
	assert_success
	assert_line --index 0 "1500"
	assert_line --index 1 "10.0.5.100/24"
	assert_line --index 2 --regexp '^default via 10\.0\.5\.2 dev eth7'
	assert_line --index 3 "nameserver 10.0.5.3"
}

@test "--ipv6: slirp4netns' IPv6 DNS in resolv.conf and the API" {
	run --separate-stderr rk --net=slirp4netns --disable-host-loopback --ipv6 --copy-up=/etc sh -c '
		cat /etc/resolv.conf
		curl -s --max-time 5 --unix-socket $ROOTLESSKIT_STATE_DIR/api.sock http://x/v1/info'
	assert_success
	assert_line --index 0 "nameserver 10.0.2.3"
	assert_line --index 1 "nameserver fd00::3"
	assert_line --index 2 --partial '"dns":["10.0.2.3","fd00::3"]'
}

@test "the builtin port driver over slirp4netns" {
	local fifo="$BATS_TEST_TMPDIR/ready"
	mkfifo "$fifo"
	"$RK" --state-dir="$BATS_TEST_TMPDIR/state" --net=slirp4netns --disable-host-loopback \
		--port-driver=builtin -p 127.0.0.1:18080:80/tcp \
		python3 "$ECHO" serve 80 "$fifo" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$fifo" >/dev/null
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18080 published
	assert_output "published"
	run curl -s --max-time 5 --unix-socket "$BATS_TEST_TMPDIR/state/api.sock" http://x/v1/info
	assert_output --regexp '"portDriver":\{"driver":"builtin","protos":\["tcp","tcp4","tcp6","udp","udp4","udp6"\],"extra":\{"sourceIPTransparentBackend":"nft"\}\}'
}

@test "--port-driver=slirp4netns: slirp4netns' host forwards, its ids, IPv4 only" {
	local fifo="$BATS_TEST_TMPDIR/ready" ctl="$RK_CTL --socket $BATS_TEST_TMPDIR/state/api.sock"
	mkfifo "$fifo"
	# without --disable-host-loopback: with it, slirp4netns (upstream's too) drops UDP
	# replies to a client on host loopback
	"$RK" --state-dir="$BATS_TEST_TMPDIR/state" --net=slirp4netns \
		--port-driver=slirp4netns -p 127.0.0.1:18080:80/tcp \
		python3 "$ECHO" serve 80 "$fifo" 0.0.0.0 >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$fifo" >/dev/null
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18080 forwarded
	assert_output "forwarded"
	run $ctl add-ports 127.0.0.1:18081:80/tcp4 127.0.0.1:18082:80/udp
	assert_success
	assert_output $'2\n3'
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18081 second
	assert_output "second"
	run timeout 10 python3 "$ECHO" udp 127.0.0.1 18082 datagram
	assert_output "datagram"
	run $ctl add-ports "[::1]:18083:80/tcp6"
	assert_failure 1
	assert_output 'error: unsupported protocol "tcp6"'
	run $ctl add-ports "127.0.0.1:18083:[::1]:80/tcp"
	assert_output 'error: unsupported IP (v6?): ::1'
	run $ctl add-ports 127.0.0.1:18080:81/tcp
	assert_output 'error: conflict with ID 1'
	run $ctl info --json
	assert_output --partial '"driver": "slirp4netns",
        "protos": [
            "tcp",
            "tcp4",
            "udp",
            "udp4"
        ],
        "disallowLoopbackChildIP": true'
	run $ctl remove-ports 1 99
	assert_failure 1
	assert_output --regexp $'^1\nerror: reply.Error: map\[desc:.+\]$'
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18080 gone
	assert_failure
	run $ctl list-ports --json
	assert_output '{"id":2,"spec":{"proto":"tcp4","parentIP":"127.0.0.1","parentPort":18081,"childPort":80}}
{"id":3,"spec":{"proto":"udp","parentIP":"127.0.0.1","parentPort":18082,"childPort":80}}'
}

@test "--detach-netns: the command stays in the host's network namespace, the network is at \$STATE/netns" {
	local state="$BATS_TEST_TMPDIR/state" fifo="$BATS_TEST_TMPDIR/ready"
	mkfifo "$fifo"
	# the server runs inside the detached namespace; the client (the command) outside
	run --separate-stderr rk --state-dir="$state" --net=slirp4netns --disable-host-loopback \
		--detach-netns --port-driver=builtin -p 127.0.0.1:18080:80/tcp sh -c "
		readlink /proc/self/ns/net
		nsenter -n\$ROOTLESSKIT_STATE_DIR/netns ip -4 -o addr show tap0 | awk '{ print \$4 }'
		cat \$ROOTLESSKIT_STATE_DIR/resolv.conf
		nsenter -n\$ROOTLESSKIT_STATE_DIR/netns python3 $ECHO serve 80 $fifo &
		head -n 1 $fifo >/dev/null
		python3 $ECHO tcp 127.0.0.1 18080 detached
		kill \$!"
	assert_success
	assert_line --index 0 "$(readlink /proc/self/ns/net)"
	assert_line --index 1 "10.0.2.100/24"
	assert_line --index 2 "nameserver 10.0.2.3"
	assert_line --index 3 "detached"
	# /etc/resolv.conf is left alone: no warning about mounting it
	[[ "$stderr" != *"Mounting /etc/resolv.conf"* ]] || fail "$stderr"
}

@test "--detach-netns conflicts with --slirp4netns-sandbox=true" {
	run rk --net=slirp4netns --detach-netns --slirp4netns-sandbox=true true
	assert_failure 1
	assert_output --partial "error: --slirp4netns-sandbox conflicts with --detach-netns (https://github.com/rootless-containers/slirp4netns/issues/317)"
}

@test "slirp4netns dying while the command runs is reported, and the exit status says so" {
	local fifo="$BATS_TEST_TMPDIR/ready"
	mkfifo "$fifo"
	"$RK" --net=slirp4netns --disable-host-loopback sh -c "echo up > $fifo; sleep 3" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$fifo" >/dev/null
	local s4nn
	s4nn=$(pgrep -P "$RK_PID" -x slirp4netns)
	[ -n "$s4nn" ] || fail "no slirp4netns child of rootlesskit"
	kill -KILL "$s4nn"
	wait_job "$RK_PID"
	# the command exited 0, but without a network: that is no success
	[ "$status" = 1 ] || fail "exit $status: $(cat "$BATS_TEST_TMPDIR/out")"
	grep -q "network driver slirp4netns exited: signal: killed; the child has no network connectivity now" \
		"$BATS_TEST_TMPDIR/out" || fail "$(cat "$BATS_TEST_TMPDIR/out")"
	grep -q "error: the network was lost while the command ran (network driver slirp4netns exited: signal: killed)" \
		"$BATS_TEST_TMPDIR/out" || fail "$(cat "$BATS_TEST_TMPDIR/out")"
}

@test "slirp4netns inherits nothing rootlesskit's caller left open" {
	local fifo="$BATS_TEST_TMPDIR/ready" marker="$BATS_TEST_TMPDIR/marker"
	mkfifo "$fifo"
	touch "$marker"
	"$RK" --net=slirp4netns --disable-host-loopback sh -c "echo up > $fifo; sleep 10" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- 7<"$marker" 251<"$marker" &
	RK_PID=$!
	read_fifo "$fifo" >/dev/null
	local s4nn
	s4nn=$(pgrep -P "$RK_PID" -x slirp4netns)
	[ -n "$s4nn" ] || fail "no slirp4netns child of rootlesskit"
	run ls -l "/proc/$s4nn/fd"
	assert_success
	refute_output --partial "$marker"
	kill -TERM "$RK_PID"
	wait_job "$RK_PID"
}

@test "helper failures: missing binary, too old, exiting before ready" {
	run rk --net=slirp4netns --slirp4netns-binary=no-such-slirp true
	assert_failure 1
	assert_output --partial 'error: exec: "no-such-slirp": executable file not found in $PATH'
	local fake="$BATS_TEST_TMPDIR/fake-slirp4netns"
	printf '#!/bin/sh\necho "usage: slirp4netns"\n' >"$fake"
	chmod +x "$fake"
	run rk --net=slirp4netns --slirp4netns-binary="$fake" true
	assert_failure 1
	assert_output --partial "error: slirp4netns seems older than v0.4.0"
	printf '#!/bin/sh\n[ "$1" = --help ] && { echo "--netns-type --cidr --disable-host-loopback"; exit 0; }\nexit 3\n' >"$fake"
	run rk --net=slirp4netns --slirp4netns-binary="$fake" true
	assert_failure 1
	assert_output --partial "error: setting up the network: waiting for ready fd: slirp4netns exited: exit status 3"
	# one that never gets ready: SIGTERM ends the wait, and the helper goes with us
	printf '#!/bin/sh\n[ "$1" = --help ] && { echo "--netns-type --cidr --disable-host-loopback"; exit 0; }\nexec sleep 60\n' >"$fake"
	sigterm_while_helper_waits --net=slirp4netns --slirp4netns-binary="$fake"
}

# Starts rootlesskit with --port-driver=slirp4netns whose command replaces .s4nn.sock with
# tools/fakes4nn.py in mode $1, and returns once it listens.
start_fake_api() {
	local fifo="$BATS_TEST_TMPDIR/ready"
	mkfifo "$fifo"
	RK_STATE="$BATS_TEST_TMPDIR/state"
	"$RK" --state-dir="$RK_STATE" --net=slirp4netns --disable-host-loopback \
		--port-driver=slirp4netns sh -c 'python3 "$1" "$2" "$ROOTLESSKIT_STATE_DIR/.s4nn.sock" >"$3"; sleep 60' \
		sh "$BATS_TEST_DIRNAME/../tools/fakes4nn.py" "$1" "$fifo" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$fifo" >/dev/null
}

@test "--port-driver=slirp4netns: an id from the API socket that no int holds is refused" {
	start_fake_api huge-id
	run timeout 20 "${RK_CTL:?}" --socket "$RK_STATE/api.sock" add-ports 127.0.0.1:18310:80/tcp
	assert_failure
	assert_output --partial "unexpected reply"
	run timeout 10 "$RK_CTL" --socket "$RK_STATE/api.sock" list-ports
	assert_success
	refute_output --partial 18310
}

@test "--port-driver=slirp4netns: an answer dribbled a byte at a time holds the API 5 s at most" {
	start_fake_api dribble
	run timeout 30 "${RK_CTL:?}" --socket "$RK_STATE/api.sock" add-ports 127.0.0.1:18311:80/tcp
	assert_failure
	assert_output --partial "no answer within 5 s"
}
