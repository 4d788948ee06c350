#!/usr/bin/env bats
# --port-driver=netstack (and gvisor-tap-vsock) keeps a non-loopback client's address: the
# engine carries the connection into the child through the NAT. The "host" is a network namespace of this
# test with 198.18.0.1 (RFC 2544) on its lo; rootlesskit runs as the test user; the client
# connects from 198.18.0.1 to 198.18.0.1. No traffic leaves it.

load ../helpers

user=${RK_TEST_USER:-rktest}
ECHO="$BATS_TEST_DIRNAME/../tools/echo.py"

setup() {
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
	ND=$(mktemp -d /tmp/rk-nsp.XXXXXX)
	chmod 0755 "$ND"
	chown "$user" "$ND"
}

teardown() {
	rm -rf "$ND"
}

@test "netstack ports: a client from 198.18.0.1 is seen as 198.18.0.1; a loopback one as the gateway" {
	run timeout 60 unshare -n sh -ec "
		ip link set lo up
		ip addr add 198.18.0.1/32 dev lo
		mkfifo $ND/ready; chmod a+rw $ND/ready
		runuser -u $user -- timeout 30 $RK --net=builtin --port-driver=netstack \
			-p 0.0.0.0:18080:80/tcp python3 $ECHO serve 80 $ND/ready > $ND/out 2>&1 3>&- &
		timeout 20 head -n 1 $ND/ready >/dev/null || { cat $ND/out; exit 1; }
		timeout 10 python3 $ECHO tcp 198.18.0.1 18080 peer
		timeout 10 python3 $ECHO tcp 127.0.0.1 18080 peer
		kill -TERM \$!
		wait" </dev/null
	assert_success
	assert_line --index 0 "198.18.0.1"
	assert_line --index 1 "10.0.2.2"
}

# upstream's gvisor-tap-vsock shows every client as 10.0.2.1 (its issue #573); ours keeps the
# address. 169.254.169.254 (a cloud's metadata service) is reachable from the child, as
# upstream allows since v3.0.1: here it is this namespace's lo.
@test "gvisor-tap-vsock: a client from 198.18.0.1 is seen as 198.18.0.1; 169.254.169.254 is reachable" {
	run timeout 60 unshare -n sh -ec "
		ip link set lo up
		ip addr add 198.18.0.1/32 dev lo
		ip addr add 169.254.169.254/32 dev lo
		mkfifo $ND/ready $ND/meta; chmod a+rw $ND/ready
		timeout 30 python3 $ECHO serve 18097 $ND/meta 169.254.169.254 3>&- &
		timeout 20 head -n 1 $ND/meta >/dev/null
		runuser -u $user -- timeout 30 $RK --net=gvisor-tap-vsock \
			--port-driver=gvisor-tap-vsock --disable-host-loopback -p 0.0.0.0:18080:80/tcp \
			sh -c 'python3 $ECHO tcp 169.254.169.254 18097 metadata; \
			python3 $ECHO serve 80 $ND/ready' > $ND/out 2>&1 3>&- &
		timeout 20 head -n 1 $ND/ready >/dev/null || { cat $ND/out; exit 1; }
		timeout 10 python3 $ECHO tcp 198.18.0.1 18080 peer
		kill -TERM \$!
		wait \$! || true
		cat $ND/out" </dev/null
	assert_success
	assert_line --index 0 "198.18.0.1"
	assert_line "metadata"
}

# tcp6 with --ipv6: the child's fd00::100 sees a non-loopback IPv6 client as itself
# (2001:db8::1, a documentation address on this namespace's lo); without --ipv6 the port
# leads to the child's IPv4 address and the client shows as the gateway.
@test "netstack ports over IPv6: a client from 2001:db8::1 is seen as itself with --ipv6, as the gateway without" {
	run timeout 90 unshare -n sh -ec "
		ip link set lo up
		ip addr add 2001:db8::1/128 dev lo nodad
		mkfifo $ND/ready $ND/ready4; chmod a+rw $ND/ready $ND/ready4
		runuser -u $user -- timeout 30 $RK --net=builtin --ipv6 --port-driver=netstack \
			-p '[::]:18080:80/tcp6' python3 $ECHO serve 80 $ND/ready > $ND/out 2>&1 3>&- &
		timeout 20 head -n 1 $ND/ready >/dev/null || { cat $ND/out; exit 1; }
		timeout 10 python3 $ECHO tcp 2001:db8::1 18080 peer
		kill -TERM \$!
		wait \$! || true
		runuser -u $user -- timeout 30 $RK --net=builtin --port-driver=netstack \
			-p '[::]:18081:80/tcp6' python3 $ECHO serve 80 $ND/ready4 > $ND/out4 2>&1 3>&- &
		timeout 20 head -n 1 $ND/ready4 >/dev/null || { cat $ND/out4; exit 1; }
		timeout 10 python3 $ECHO tcp 2001:db8::1 18081 peer
		kill -TERM \$!
		wait \$! || true" </dev/null
	assert_success
	assert_line --index 0 "2001:db8::1"
	assert_line "10.0.2.2"
}
