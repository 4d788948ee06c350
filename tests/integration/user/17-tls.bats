#!/usr/bin/env bats
# --net=builtin carries TLS byte for byte. The mbedtls fixture (tests/tools/tlsfix.c) moves
# 100 MiB each way over one connection and checks every byte against a seeded stream: from a
# client in the namespace to a server on the host's loopback (as 10.0.2.2), and from a host
# client through a published port to a server in the namespace, with both port drivers.
# Traffic goes only to 127.0.0.1 on the host and to addresses inside the namespace.

load ../helpers

TLS=${RK_TLSFIX:?RK_TLSFIX must name the TLS fixture (build/tlsfix)}
BYTES=104857600 # 100 MiB

setup() {
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
	DIR="$BATS_TEST_TMPDIR/tls"
	mkdir "$DIR"
}

# Waits (at most 20 s) for file $1 to exist.
wait_file() {
	local n=400
	while [ ! -e "$1" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "$1 did not appear within 20 s"
		sleep 0.05
	done
}

@test "builtin TLS: a client in the namespace to a server on the host's loopback, 100 MiB each way" {
	timeout 120 "$TLS" serve 127.0.0.1 18443 "$DIR" "$BYTES" >"$DIR/server.out" 2>&1 3>&- &
	local server=$!
	wait_file "$DIR/ready"
	run timeout 120 "$RK" --net=builtin --copy-up=/etc \
		"$TLS" connect 10.0.2.2 18443 "$DIR/cert.pem" "$BYTES"
	assert_success
	assert_line --partial "client: sent 104857600 bytes, received 104857600 bytes intact"
	wait_job "$server"
	assert_equal "$status" 0
	run cat "$DIR/server.out"
	assert_output --partial "server: sent 104857600 bytes, received 104857600 bytes intact"
}

# tls_through_port DRIVER: a server in the namespace behind 127.0.0.1:18444, a host client
tls_through_port() {
	"$RK" --pidns --state-dir="$BATS_TEST_TMPDIR/state" --net=builtin --copy-up=/etc \
		--port-driver="$1" -p 127.0.0.1:18444:8443/tcp \
		timeout 120 "$TLS" serve 0.0.0.0 8443 "$DIR" "$BYTES" >"$DIR/rk.out" 2>&1 3>&- &
	RK_PID=$!
	wait_file "$DIR/ready"
	run timeout 120 "$TLS" connect 127.0.0.1 18444 "$DIR/cert.pem" "$BYTES"
	assert_success
	assert_output --partial "client: sent 104857600 bytes, received 104857600 bytes intact"
	wait_job "$RK_PID"
	assert_equal "$status" 0
	run cat "$DIR/rk.out"
	assert_output --partial "server: sent 104857600 bytes, received 104857600 bytes intact"
}

@test "builtin TLS through a port published by the netstack driver, 100 MiB each way" {
	tls_through_port netstack
}

@test "builtin TLS through a port published by the builtin driver, 100 MiB each way" {
	tls_through_port builtin
}

@test "the TLS fixture refuses a server it does not trust (so the tests above prove TLS)" {
	mkdir "$DIR/other"
	timeout 60 "$TLS" serve 127.0.0.1 18445 "$DIR/other" 1 >/dev/null 2>&1 3>&- &
	local other=$!
	timeout 60 "$TLS" serve 127.0.0.1 18443 "$DIR" 1 >/dev/null 2>&1 3>&- &
	local server=$!
	wait_file "$DIR/ready"
	wait_file "$DIR/other/ready"
	run timeout 20 "$TLS" connect 127.0.0.1 18443 "$DIR/other/cert.pem" 1
	assert_failure
	assert_output --partial "handshake: X509 - Certificate verification failed"
	kill "$server" "$other" 2>/dev/null || true
}
