#!/usr/bin/env bats
# rootlessctl against our api.sock, and against upstream's (Debian's Go RootlessKit with a
# real port driver), compared with upstream's own rootlessctl.

load ../helpers

CTL=${RK_CTL:?RK_CTL must name the rootlessctl under test}

@test "info, text and --json, through \$ROOTLESSKIT_STATE_DIR" {
	run rk sh -c "$CTL info; $CTL info --json"
	assert_success
	assert_line --index 0 "- REST API version: 1.1.2"
	assert_line --index 1 "- Implementation version: 3.2.0"
	assert_line --index 2 --regexp '^- State Directory: /tmp/rootlesskit'
	assert_line --index 3 --regexp '^- Child PID: [0-9]+$'
	assert_line --index 4 "{"
	assert_line --index 5 '    "apiVersion": "1.1.2",'
	run rk --net=none sh -c "$CTL info"
	assert_line "- Network Driver: none"
	assert_line "  - DNS: []"
	# API 1.1.2's fields, as the server sends them: the builtin driver's transparency
	# backend (nft: nftables answers in the child's namespace), networkDriver.ipv6
	run rk --net=none --port-driver=builtin sh -c "$CTL info --json"
	assert_line '        "extra": {'
	assert_line '            "sourceIPTransparentBackend": "nft"'
}

@test "errors: the API's message, argument errors before any call, exit codes 1 and 3" {
	run rk sh -c "$CTL list-ports; echo rc=\$?; $CTL add-ports; echo rc=\$?;
		$CTL add-ports 127.0.0.1:8080:80/tcp bad; echo rc=\$?; $CTL remove-ports 1 abc; echo rc=\$?"
	assert_success
	assert_output "error: no PortDriver is available
rc=1
error: no port specified
rc=1
error: missing proto in PortSpec string: \"bad\"
rc=1
error: strconv.Atoi: parsing \"abc\": invalid syntax
rc=1"
	run env -u ROOTLESSKIT_STATE_DIR "$CTL" info
	assert_failure 1
	assert_output 'error: please specify --socket or set $ROOTLESSKIT_STATE_DIR'
	run "$CTL" --socket /nonexistent/api.sock list-ports --json
	assert_failure 1
	assert_output "error: stat /nonexistent/api.sock: no such file or directory"
	run "$CTL" no-such-command
	assert_failure 3
	assert_output "No help topic for 'no-such-command'"
	run "$CTL" --version
	assert_output "rootlessctl version 3.2.0"
}

@test "each subcommand's help: SUB --help, SUB -h and help SUB, as urfave/cli prints it" {
	run "$CTL" add-ports --help
	assert_success
	assert_output 'NAME:
   rootlessctl add-ports - Add ports

USAGE:
   rootlessctl add-ports [command options] [flags] PARENTIP:PARENTPORT:CHILDPORT/PROTO [PARENTIP:PARENTPORT:CHILDPORT/PROTO...]

DESCRIPTION:
   Add exposed ports. The port spec is similar to `docker run -p`. e.g. "127.0.0.1:8080:80/tcp".

OPTIONS:
   --json      Prints as JSON (default: false)
   --help, -h  show help'
	# no socket is needed for help, wherever the flag stands
	run env -u ROOTLESSKIT_STATE_DIR "$CTL" remove-ports -h
	assert_success
	assert_output 'NAME:
   rootlessctl remove-ports - Remove ports

USAGE:
   rootlessctl remove-ports [command options] [flags] ID [ID...]

OPTIONS:
   --help, -h  show help'
	run "$CTL" list-ports --json --help
	assert_success
	assert_line --index 0 "NAME:"
	assert_line '   --json      Prints as JSON (default: false)'
	run "$CTL" help info
	assert_success
	assert_line '   rootlessctl info [command options] [flags]'
	run "$CTL" h list-ports
	assert_line '   rootlessctl list-ports - List ports'
	run "$CTL" help no-such-command
	assert_failure 3
	assert_output "No help topic for 'no-such-command'"
}

# Starts upstream's rootlesskit with slirp4netns and the builtin port driver; sets UP_SOCK.
start_upstream() {
	[ -x /usr/bin/rootlesskit ] || skip "upstream rootlesskit is not installed"
	command -v slirp4netns >/dev/null || skip "slirp4netns is not installed"
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
	UP_STATE="$BATS_TEST_TMPDIR/up"
	/usr/bin/rootlesskit --net=slirp4netns --port-driver=builtin --state-dir="$UP_STATE" \
		sleep 60 >/dev/null 2>&1 3>&- &
	RK_PID=$!
	UP_SOCK="$UP_STATE/api.sock"
	# upstream gives no readiness signal: wait (bounded) for its socket
	for _ in $(seq 200); do
		[ -S "$UP_SOCK" ] && return 0
		sleep 0.05
	done
	fail "upstream's api.sock did not appear"
}

@test "add, list and remove ports against upstream's API, output identical to upstream's rootlessctl" {
	start_upstream
	run "$CTL" --socket "$UP_SOCK" add-ports 127.0.0.1:18080:80/tcp "[::1]:18081:[::1]:81/tcp6"
	assert_success
	assert_output $'1\n2'
	run "$CTL" --socket "$UP_SOCK" add-ports --json 127.0.0.1:18082:82/udp
	assert_output '{"id":3,"spec":{"proto":"udp","parentIP":"127.0.0.1","parentPort":18082,"childPort":82}}'
	for args in "list-ports" "list-ports --json" "info" "info --json"; do
		local ours theirs
		# the port list comes from a Go map: compare sorted lines
		ours=$("$CTL" --socket "$UP_SOCK" $args | sort)
		theirs=$(/usr/bin/rootlessctl --socket "$UP_SOCK" $args | sort)
		[ "$ours" = "$theirs" ] || fail "$args differs:
ours:
$ours
theirs:
$theirs"
	done
	run "$CTL" --socket "$UP_SOCK" add-ports 127.0.0.1:18080:80/tcp
	assert_failure 1
	assert_output "error: conflict with ID 1"
	run "$CTL" --socket "$UP_SOCK" remove-ports 1 2 99
	assert_failure 1
	assert_output $'1\n2\nerror: unknown id: 99'
	run "$CTL" --socket "$UP_SOCK" list-ports --json
	assert_output '{"id":3,"spec":{"proto":"udp","parentIP":"127.0.0.1","parentPort":18082,"childPort":82}}'
}

@test "a hostile server's terminal control sequences are printed escaped, never as they come" {
	local sock="$BATS_TEST_TMPDIR/api.sock" fifo="$BATS_TEST_TMPDIR/listening" hostile
	mkfifo "$fifo"
	timeout 60 python3 "$BATS_TEST_DIRNAME/../tools/hostileapi.py" "$sock" >"$fifo" 3>&- &
	hostile=$!
	read_fifo "$fifo" >/dev/null
	for args in info "list-ports" "add-ports 127.0.0.1:8080:80/tcp"; do
		# shellcheck disable=SC2086
		timeout 10 "$CTL" --socket "$sock" $args >"$BATS_TEST_TMPDIR/shown" 2>&1 || true
		# no ESC, BEL, CR or C1 CSI byte reaches the terminal
		if LC_ALL=C grep -q $'[\x1b\x07\r]\|\xc2\x9b' "$BATS_TEST_TMPDIR/shown"; then
			fail "rootlessctl $args printed control characters: $(od -c "$BATS_TEST_TMPDIR/shown" | head)"
		fi
		grep -qF '\x1b[31mred' "$BATS_TEST_TMPDIR/shown" ||
			fail "rootlessctl $args did not show the text escaped: $(cat "$BATS_TEST_TMPDIR/shown")"
	done
	kill "$hostile"
}
