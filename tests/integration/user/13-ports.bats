#!/usr/bin/env bats
# The builtin port driver with --net=none: upstream's integration-port cases, UDP, the
# API's port routes (raw HTTP and rootlessctl), removal, errors, and a burst of 1000
# concurrent connections. Traffic only goes to 127.0.0.1 and ::1.

load ../helpers

CTL=${RK_CTL:?RK_CTL must name the rootlessctl under test}
ECHO="$BATS_TEST_DIRNAME/../tools/echo.py"

# Starts rootlesskit --net=none --port-driver=builtin ARGS... running the echo server on
# port 80 inside (on $SERVE_HOST when set), and returns once it listens. Sets RK_PID and
# RK_STATE.
start_ports() {
	local fifo="$BATS_TEST_TMPDIR/ready"
	RK_STATE="$BATS_TEST_TMPDIR/state"
	rm -f "$fifo"
	mkfifo "$fifo"
	"$RK" --state-dir="$RK_STATE" --net=none --port-driver=builtin "$@" \
		python3 "$ECHO" serve 80 "$fifo" "${SERVE_HOST:-::}" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	[ "$(read_fifo "$fifo")" = ready ] || fail "the echo server did not start: $(cat "$BATS_TEST_TMPDIR/out")"
}

stop_ports() {
	kill -TERM "$RK_PID"
	wait_job "$RK_PID"
	RK_PID=
}

# TERM reaches the echo server, which ends, and rootlesskit with it
teardown() {
	if [ -n "${RK_PID:-}" ] && pid_alive "$RK_PID"; then
		stop_ports
	fi
}

# api METHOD PATH [BODY]: prints the body, then "|<status>" on its own line
api() {
	curl -s --max-time 10 --unix-socket "$RK_STATE/api.sock" -X "$1" ${3+--data-binary "$3"} \
		-w '\n|%{http_code}' "http://rootlesskit$2"
}

@test "upstream's integration-port cases: tcp, tcp4, tcp6 and child IPs, from 127.0.0.1 and [::1]" {
	while IFS='|' read -r args host want; do
		# shellcheck disable=SC2086
		start_ports $args
		run timeout 10 python3 "$ECHO" tcp "$host" 18080 "hello $host"
		if [ "$want" = ok ]; then
			[ "$status" = 0 ] && [ "$output" = "hello $host" ] || fail "$args, $host: $output"
		else
			[ "$status" != 0 ] || fail "$args, $host: connected, want a failure"
		fi
		stop_ports
	done <<'CASES'
-p 0.0.0.0:18080:80/tcp|127.0.0.1|ok
-p 0.0.0.0:18080:80/tcp|::1|ok
-p 0.0.0.0:18080:80/tcp4|127.0.0.1|ok
-p 0.0.0.0:18080:80/tcp4|::1|fail
-p [::]:18080:80/tcp6|127.0.0.1|fail
-p [::]:18080:80/tcp6|::1|ok
-p [::]:18080:[::1]:80/tcp6|::1|ok
-p [::]:18080:[::1]:80/tcp|::1|ok
-p [::]:18080:[127.0.0.1]:80/tcp6|::1|ok
-p [::]:18080:[127.0.0.1]:80/tcp|::1|ok
-p 0.0.0.0:18080:[::1]:80/tcp4|127.0.0.1|ok
-p 0.0.0.0:18080:[::1]:80/tcp|127.0.0.1|ok
-p 0.0.0.0:18080:80/tcp4 -p [::]:18080:80/tcp6|127.0.0.1|ok
-p 0.0.0.0:18080:80/tcp4 -p [::]:18080:80/tcp6|::1|ok
CASES
}

@test "a specific parent IP is dialled inside too; the default child IP is 127.0.0.1" {
	SERVE_HOST=127.0.0.2
	start_ports -p 127.0.0.2:18080:80/tcp -p 127.0.0.1:18081:80/tcp
	run timeout 10 python3 "$ECHO" tcp 127.0.0.2 18080 two
	assert_success
	assert_output "two"
	# 127.0.0.1 inside has no listener
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18081 one
	assert_failure
}

@test "child_pid stays readable and enterable by the user (its environ, nsenter)" {
	start_ports -p 127.0.0.1:18080:80/tcp
	local pid
	pid=$(cat "$RK_STATE/child_pid")
	run sh -c "tr '\\0' '\\n' < /proc/$pid/environ"
	assert_success
	assert_line "ROOTLESSKIT_STATE_DIR=$RK_STATE"
	run nsenter -t "$pid" -U -n --preserve-credentials sh -c 'head -n 1 /proc/self/uid_map; readlink /proc/self/ns/net'
	assert_success
	assert_line --index 0 --regexp '^ +0 +[0-9]+ +1$'
	assert_line --index 1 "$(readlink "/proc/$pid/ns/net")"
}

@test "UDP round trips on udp, udp4 and udp6" {
	start_ports -p 127.0.0.1:18081:80/udp -p 0.0.0.0:18082:80/udp4 -p [::1]:18083:80/udp6
	for hp in "127.0.0.1 18081" "127.0.0.1 18082" "::1 18083"; do
		# shellcheck disable=SC2086
		run timeout 10 python3 "$ECHO" udp $hp "datagram to $hp"
		assert_success
		assert_output "datagram to $hp"
	done
	# several clients at once each get their own answers
	run sh -c "for i in 1 2 3 4 5; do timeout 10 python3 '$ECHO' udp 127.0.0.1 18081 c\$i & done; wait"
	assert_success
	[ "$(echo "$output" | sort | tr '\n' ' ')" = "c1 c2 c3 c4 c5 " ] || fail "$output"
}

@test "POST, GET and DELETE /v1/ports: upstream's schemas, Go's decoding, ids never reused" {
	start_ports
	run api GET /v1/ports
	assert_output $'null\n|200'
	# keys match case-insensitively, unknown keys are ignored, the spec is echoed as posted
	run api POST /v1/ports '{"Proto":"tcp","PARENTIP":"127.0.0.1","parentPort":18080,"childPort":80,"extra":[1]}'
	assert_output $'{"id":1,"spec":{"proto":"tcp","parentIP":"127.0.0.1","parentPort":18080,"childPort":80}}\n|201'
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18080 via-api
	assert_output "via-api"
	run api POST /v1/ports '{"proto":"udp6","parentIP":"::1","parentPort":18080,"childIP":"::1","childPort":80}'
	assert_output $'{"id":2,"spec":{"proto":"udp6","parentIP":"::1","parentPort":18080,"childPort":80,"childIP":"::1"}}\n|201'
	run api GET /v1/ports
	assert_output '[{"id":1,"spec":{"proto":"tcp","parentIP":"127.0.0.1","parentPort":18080,"childPort":80}},{"id":2,"spec":{"proto":"udp6","parentIP":"::1","parentPort":18080,"childPort":80,"childIP":"::1"}}]
|200'
	run api DELETE /v1/ports/1
	assert_output $'\n|200'
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18080 gone
	assert_failure
	# the same port again: a new id, never 1
	run api POST /v1/ports '{"proto":"tcp","parentIP":"127.0.0.1","parentPort":18080,"childPort":80}'
	assert_output --regexp '^\{"id":3,'
	# malformed JSON: 400 with the decoder's message, and the server goes on
	run api POST /v1/ports '{"proto":'
	assert_line --index 0 --regexp '^\{"message":".+"\}$'
	assert_line --index 1 '|400'
	while IFS='|' read -r method path body want; do
		want=${want//\\n/$'\n'}
		run api "$method" "$path" "$body"
		[ "$output" = "$want" ] || fail "$method $path $body: got '$output', want '$want'"
	done <<'CASES'
POST|/v1/ports||{"message":"EOF"}\n\n|400
POST|/v1/ports|[]|{"message":"json: cannot unmarshal array into Go value of type port.Spec"}\n\n|400
POST|/v1/ports|{"proto":"tcp","parentPort":"80"}|{"message":"json: cannot unmarshal string into Go struct field Spec.parentPort of type int"}\n\n|400
POST|/v1/ports|{"proto":"tcp","parentIP":"127.0.0.1","parentPort":18080,"childPort":81}|{"message":"conflict with ID 3"}\n\n|400
POST|/v1/ports|{"proto":"sctp","parentIP":"127.0.0.1","parentPort":18090,"childPort":80}|{"message":"unsupported port protocol sctp"}\n\n|400
POST|/v1/ports|{"proto":"TCP","parentPort":18090,"childPort":80}|{"message":"unknown proto: \"TCP\""}\n\n|400
POST|/v1/ports|{"proto":"tcp","parentPort":70000,"childPort":80}|{"message":"invalid ParentPort: '𑅰'"}\n\n|400
DELETE|/v1/ports/abc||{"message":"bad id abc: strconv.Atoi: parsing \"abc\": invalid syntax"}\n\n|400
DELETE|/v1/ports/1||{"message":"unknown id: 1"}\n\n|400
CASES
}

@test "rootlessctl add-ports, list-ports and remove-ports, with traffic" {
	start_ports
	export ROOTLESSKIT_STATE_DIR=$RK_STATE
	run "$CTL" add-ports 127.0.0.1:18080:80/tcp "[::1]:18081:[::1]:80/tcp6"
	assert_success
	assert_output $'1\n2'
	run "$CTL" list-ports
	assert_output "ID    PROTO    PARENTIP     PARENTPORT    CHILDIP    CHILDPORT    
1     tcp      127.0.0.1    18080                    80           
2     tcp6     ::1          18081         ::1        80           "
	run timeout 10 python3 "$ECHO" tcp ::1 18081 six
	assert_output "six"
	run "$CTL" remove-ports 1 2
	assert_output $'1\n2'
	run "$CTL" list-ports --json
	assert_success
	assert_output ""
}

@test "removing a port closes its listener and its live connections" {
	start_ports -p 127.0.0.1:18080:80/tcp
	local out="$BATS_TEST_TMPDIR/hold"
	timeout 20 python3 "$ECHO" hold 127.0.0.1 18080 >"$out" 2>&1 3>&- &
	local hold=$!
	for _ in $(seq 100); do grep -q connected "$out" && break; sleep 0.05; done
	grep -q connected "$out" || fail "no connection: $(cat "$out")"
	run api DELETE /v1/ports/1
	assert_output $'\n|200'
	wait_job "$hold"
	[ "$(cat "$out")" = $'connected\neof' ] || fail "$(cat "$out")"
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18080 x
	assert_failure
}

@test "-p failures at start-up: port in use, sctp, privileged port with upstream's hint" {
	run rk --net=none --port-driver=builtin -p 127.0.0.1:18080:80/sctp true
	assert_failure 1
	assert_output "[rootlesskit:parent] error: failed to expose port {sctp 127.0.0.1 18080 80 }: unsupported port protocol sctp"
	local start cap=""
	start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
	[ "$start" -gt 80 ] || skip "ports below 80 are unprivileged here"
	[ "$(basename "$RK")" = rootlesskit ] && cap=", or set CAP_NET_BIND_SERVICE on rootlesskit binary"
	run rk --net=none --port-driver=builtin -p 127.0.0.1:80:80/tcp true
	assert_failure 1
	assert_output "[rootlesskit:parent] error: failed to expose port {tcp 127.0.0.1 80 80 }: cannot expose privileged port 80, you can add 'net.ipv4.ip_unprivileged_port_start=80' to /etc/sysctl.conf (currently $start)$cap, or choose a larger port number (>= $start): listen tcp 127.0.0.1:80: bind: permission denied"
	start_ports -p 127.0.0.1:18080:80/tcp
	run rk --net=none --port-driver=builtin -p 127.0.0.1:18080:80/tcp true
	assert_failure 1
	assert_output "[rootlesskit:parent] error: failed to expose port {tcp 127.0.0.1 18080 80 }: listen tcp 127.0.0.1:18080: bind: address already in use"
}

fd_count() {
	ls "/proc/$RK_PID/fd" | wc -l
}

@test "1000 concurrent connections all succeed; descriptors return to their count before" {
	start_ports -p 127.0.0.1:18080:80/tcp
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18080 warm
	assert_output "warm"
	# at rest the driver keeps a fixed number of spare sockets, topped up every second
	sleep 1.5
	local before after rss_before rss_after
	before=$(fd_count)
	rss_before=$(awk '/^VmRSS/ { print $2 }' "/proc/$RK_PID/status")
	run timeout 60 python3 "$ECHO" burst 127.0.0.1 18080 1000
	assert_success
	assert_output "ok 1000"
	run timeout 60 python3 "$ECHO" burst 127.0.0.1 18080 1000
	assert_output "ok 1000"
	# the socket pool grew for the burst and shrinks back when idle (every 5 s)
	after=$(poll_until 30 "$before" fd_count) || fail "$before descriptors before, $after after"
	rss_after=$(awk '/^VmRSS/ { print $2 }' "/proc/$RK_PID/status")
	[ "$rss_after" -lt $((rss_before + 4096)) ] || fail "RSS $rss_before kB before, $rss_after kB after"
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18080 still
	assert_output "still"
}

@test "upstream's rootlessctl against our builtin driver" {
	[ -x /usr/bin/rootlessctl ] || skip "upstream rootlessctl is not installed"
	start_ports
	local up="/usr/bin/rootlessctl --socket $RK_STATE/api.sock"
	run $up add-ports 127.0.0.1:18080:80/tcp
	assert_output "1"
	run $up list-ports --json
	assert_output '{"id":1,"spec":{"proto":"tcp","parentIP":"127.0.0.1","parentPort":18080,"childPort":80}}'
	run $up info
	assert_line "- Port Driver: builtin"
	assert_line "  - Supported protocols: [tcp tcp4 tcp6 udp udp4 udp6]"
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18080 go-client
	assert_output "go-client"
	run $up remove-ports 1
	assert_output "1"
}

@test "a server that exits right after sending: a half-closed client still gets every byte" {
	local fifo="$BATS_TEST_TMPDIR/dl-ready" tool="$BATS_TEST_DIRNAME/../tools/download.py"
	mkfifo "$fifo"
	"$RK" --net=none --port-driver=builtin -p 127.0.0.1:18111:8111/tcp \
		python3 "$tool" serve 8111 20000000 "$fifo" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$fifo" >/dev/null
	run timeout 70 python3 "$tool" fetch 127.0.0.1 18111
	assert_success
	assert_output "$(python3 "$tool" expect 20000000)"
	wait_job "$RK_PID"
	[ "$status" = 0 ] || fail "exit $status: $(cat "$BATS_TEST_TMPDIR/out")"
}
