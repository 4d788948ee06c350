#!/usr/bin/env bats
# The REST API on $STATE/api.sock, with no port driver yet: upstream's routes, bodies and
# status codes, its limits, and upstream's own rootlessctl as a client.

load ../helpers
bats_require_minimum_version 1.5.0

api() { # curl arguments for the socket in $ROOTLESSKIT_STATE_DIR
	echo 'curl -s --max-time 10 --unix-socket "$ROOTLESSKIT_STATE_DIR/api.sock"'
}

@test "api.sock listens before the command starts, mode 0600 whatever the umask" {
	run sh -c "umask 000; $RK sh -c 'stat -c %a \$ROOTLESSKIT_STATE_DIR/api.sock'"
	assert_success
	assert_output "600"
}

@test "GET /v1/info: upstream's Info object; networkDriver only for a non-host network" {
	run rk sh -c "$(api) http://rootlesskit/v1/info; echo; cat \$ROOTLESSKIT_STATE_DIR/child_pid"
	assert_success
	local pid=${lines[1]}
	assert_line --index 0 --regexp '^\{"apiVersion":"1\.1\.2","version":"3\.2\.0","stateDir":"/tmp/rootlesskit[^"]+","childPID":'"$pid"'\}$'
	run rk --net=none sh -c "$(api) http://rootlesskit/v1/info"
	assert_output --regexp ',"networkDriver":\{"driver":"none"\}\}$'
}

@test "GET /v1/info: networkDriver.ipv6 (API 1.1.2) is true only where --ipv6 takes effect" {
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
	run --separate-stderr rk --net=builtin --ipv6 sh -c "$(api) http://rootlesskit/v1/info"
	assert_output --partial '"childIP":"10.0.2.100","ipv6":true}'
	run --separate-stderr rk --net=builtin sh -c "$(api) http://rootlesskit/v1/info"
	refute_output --partial '"ipv6"'
	# --net=none discards --ipv6 (with upstream's warning)
	run --separate-stderr rk --net=none --ipv6 sh -c "$(api) http://rootlesskit/v1/info"
	refute_output --partial '"ipv6"'
	[[ "$stderr" == *"--ipv6 is discarded for --net=none"* ]]
}

@test "/v1/ports without a port driver: 400 and upstream's message, for each method" {
	run rk sh -c "$(api) -i http://rootlesskit/v1/ports; $(api) -X POST -d '{}' -w '%{http_code}\n' http://rootlesskit/v1/ports; $(api) -X DELETE -w '%{http_code}\n' http://rootlesskit/v1/ports/1"
	assert_success
	assert_line --index 0 --partial "HTTP/1.1 400"
	assert_line --regexp '^Content-Type: text/plain; charset=utf-8'
	[ "$(echo "$output" | grep -c '^{"message":"no PortDriver is available"}')" = 3 ] || fail "$output"
	assert_line "400"
}

@test "unknown path: 404 with Go's text; known path, wrong method: empty 405" {
	run rk sh -c "$(api) -w '|%{http_code}\n' http://rootlesskit/v2/info; $(api) -X PUT -w '|%{http_code}\n' http://rootlesskit/v1/ports; $(api) -X POST -w '|%{http_code}\n' http://rootlesskit/v1/info; $(api) -X GET -w '|%{http_code}\n' http://rootlesskit/v1/ports/1"
	assert_success
	assert_line --index 0 "404 page not found"
	assert_line --index 1 "|404"
	assert_line --index 2 "|405"
	assert_line --index 3 "|405"
	assert_line --index 4 "|405"
}

@test "limits: a 10 MiB body and a stalled client get a clean end, and the server keeps serving" {
	run rk sh -c "
		head -c 10485760 /dev/zero > \$ROOTLESSKIT_STATE_DIR/big
		$(api) -X POST --data-binary @\$ROOTLESSKIT_STATE_DIR/big -o /dev/null -w 'big %{http_code}\n' http://rootlesskit/v1/ports
		# a client that sends half a request and waits
		(printf 'GET /v1/info HTTP/1.1\r\nHo' ; sleep 5) | socat - UNIX-CONNECT:\$ROOTLESSKIT_STATE_DIR/api.sock >/dev/null &
		$(api) -o /dev/null -w 'info %{http_code}\n' http://rootlesskit/v1/info
		kill \$! 2>/dev/null; true"
	assert_success
	assert_line --regexp '^big 4[0-9][0-9]$'
	assert_line "info 200"
}

@test "deadline: a request trickling in a byte a second is ended, however steady" {
	local tool="$BATS_TEST_DIRNAME/../tools/apistall.py"
	run rk sh -c "python3 $tool trickle \$ROOTLESSKIT_STATE_DIR/api.sock 16"
	assert_success
	# the idle timeout alone (10 s of silence) never ends it
	assert_output --regexp '^closed after (9|10|11|12) bytes$'
}

@test "300 stalled clients: counted from accept, the excess closed at once, GET /v1/info still answered" {
	local tool="$BATS_TEST_DIRNAME/../tools/apistall.py"
	run rk sh -c "ulimit -n 1024; python3 $tool flood \$ROOTLESSKIT_STATE_DIR/api.sock 300"
	assert_success
	assert_line --index 0 "closed at once: 172"
	assert_line --index 1 "info 200"
	assert_line --index 2 "still open: 0"
}

@test "300 clients one after another, each on a connection of its own, are all answered" {
	local tool="$BATS_TEST_DIRNAME/../tools/apistall.py"
	# the ones that came and went count no more, however fast they follow each other
	run rk sh -c "python3 $tool sequential \$ROOTLESSKIT_STATE_DIR/api.sock 300"
	assert_success
	assert_output "answered 300"
}

@test "100 concurrent clients are all answered" {
	run rk sh -c "
		i=0; while [ \$i -lt 100 ]; do
			$(api) -o /dev/null -w '%{http_code}\n' http://rootlesskit/v1/info &
			i=\$((i + 1))
		done; wait"
	assert_success
	[ "$(echo "$output" | grep -c '^200$')" = 100 ] || fail "$output"
}

@test "upstream's rootlessctl works against our api.sock" {
	command -v rootlessctl >/dev/null || skip "upstream rootlessctl is not installed"
	local ctl
	ctl=$(command -v rootlessctl)
	run rk sh -c "$ctl --socket \$ROOTLESSKIT_STATE_DIR/api.sock info; $ctl --socket \$ROOTLESSKIT_STATE_DIR/api.sock list-ports; echo rc=\$?"
	assert_success
	assert_line "- REST API version: 1.1.2"
	assert_line "- Implementation version: 3.2.0"
	assert_line --regexp '^- State Directory: /tmp/rootlesskit'
	assert_line --regexp '^- Child PID: [0-9]+$'
	assert_line "error: no PortDriver is available"
	assert_line "rc=1"
}
