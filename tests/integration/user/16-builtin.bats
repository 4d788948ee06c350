#!/usr/bin/env bats
# --net=builtin: the in-process usermode NAT (netstack/). The interface inside, the host's
# loopback services through the gateway and their blocking, the frame filter against frames
# written straight to 127.0.0.1, --cidr/--mtu/--ifname, --detach-netns, the builtin port
# driver over it, and that no network helper process is ever started. Traffic goes only to
# 127.0.0.1 on the host (as 10.0.2.2 inside) and to addresses inside the namespace.

load ../helpers
bats_require_minimum_version 1.5.0

ECHO="$BATS_TEST_DIRNAME/../tools/echo.py"
RAWSYN="$BATS_TEST_DIRNAME/../tools/rawsyn.py"
ICMPECHO="$BATS_TEST_DIRNAME/../tools/icmpecho.py"

setup() {
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
}

# start_echo FLAGS...: rootlesskit --pidns FLAGS... (its state directory in the test's
# directory) running the echo server on port 80 (60 s at most); returns once it listens,
# with RK_PID set
start_echo() {
	local fifo="$BATS_TEST_TMPDIR/echo-ready"
	mkfifo "$fifo"
	"$RK" --pidns --state-dir="$BATS_TEST_TMPDIR/state" "$@" \
		timeout 60 python3 "$ECHO" serve 80 "$fifo" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$fifo" >/dev/null
}

start_host_echo() {
	local fifo="$BATS_TEST_TMPDIR/host-ready"
	mkfifo "$fifo"
	timeout 60 python3 "$ECHO" serve 18095 "$fifo" 127.0.0.1 3>&- &
	HOST_ECHO=$!
	read_fifo "$fifo" >/dev/null
}

# A listener on 127.0.0.1:18094 that prints "accepted" for each connection it gets within
# $1 seconds, then "done".
start_host_watch() {
	python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18094)); s.listen(16); s.settimeout(0.2)
open(sys.argv[2], "w").write("ready\n")
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    try:
        c, _ = s.accept(); print("accepted", flush=True); c.close()
    except socket.timeout:
        pass
print("done")' "$1" "$BATS_TEST_TMPDIR/watch-ready" >"$BATS_TEST_TMPDIR/watch" 3>&- &
	WATCH=$!
	for _ in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/watch-ready" ] && break; sleep 0.1; done
}

teardown() {
	[ -n "${HOST_ECHO:-}" ] && kill "$HOST_ECHO" 2>/dev/null || true
	[ -n "${WATCH:-}" ] && kill "$WATCH" 2>/dev/null || true
	if [ -n "${RK_PID:-}" ] && pid_alive "$RK_PID"; then
		kill -KILL "$RK_PID"
	fi
}

@test "builtin: the interface, route, MTU, resolv.conf, hosts and the API's networkDriver" {
	run --separate-stderr rk --net=builtin --copy-up=/etc --disable-host-loopback sh -c '
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
	assert_line --index 6 --partial '"networkDriver":{"driver":"builtin","dns":["10.0.2.3"],"childIP":"10.0.2.100"}'
}

@test "builtin: TCP and UDP to the host's 127.0.0.1 through 10.0.2.2; neither with --disable-host-loopback" {
	start_host_echo
	run rk --net=builtin sh -c "
		python3 $ECHO tcp 10.0.2.2 18095 tcp-via-gateway
		python3 $ECHO udp 10.0.2.2 18095 udp-via-gateway"
	assert_success
	assert_line "tcp-via-gateway"
	assert_line "udp-via-gateway"
	run rk --net=builtin --disable-host-loopback sh -c "
		timeout 10 python3 $ECHO tcp 10.0.2.2 18095 blocked-tcp || echo tcp-refused
		timeout 10 python3 $ECHO udp 10.0.2.2 18095 blocked-udp || echo udp-refused"
	assert_success
	refute_line "blocked-tcp"
	refute_line "blocked-udp"
	assert_line "tcp-refused"
	assert_line "udp-refused"
}

@test "builtin --ipv6: TCP to the host's ::1 through fd00::2; none with --disable-host-loopback" {
	local fifo="$BATS_TEST_TMPDIR/host6-ready"
	mkfifo "$fifo"
	timeout 60 python3 "$ECHO" serve 18096 "$fifo" ::1 3>&- &
	HOST_ECHO=$!
	read_fifo "$fifo" >/dev/null
	# the child's address comes from the router advertisement
	local wait_addr="for i in \$(seq 100); do ip -6 addr show tap0 | grep -q 'scope global' && break; sleep 0.1; done"
	run rk --net=builtin --ipv6 sh -c "$wait_addr
		python3 $ECHO tcp fd00::2 18096 tcp6-via-gateway"
	assert_success
	assert_line "tcp6-via-gateway"
	run rk --net=builtin --ipv6 --disable-host-loopback sh -c "$wait_addr
		timeout 10 python3 $ECHO tcp fd00::2 18096 blocked-tcp6 || echo tcp6-refused"
	assert_success
	refute_line "blocked-tcp6"
	assert_line "tcp6-refused"
}

@test "builtin: a command that exits right after writing loses nothing (the engine delivers what its sockets held)" {
	# a slow host sink (64 KiB every 2 ms): when the command exits, megabytes are still in
	# its socket's buffer and the engine's; it counts what arrives until the end
	python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18097)); s.listen(1); s.settimeout(60)
open(sys.argv[1], "w").write("ready\n")
c, _ = s.accept(); c.settimeout(60); n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
    time.sleep(0.002)
print(n)' "$BATS_TEST_TMPDIR/sink-ready" >"$BATS_TEST_TMPDIR/sink" 3>&- &
	WATCH=$!
	for _ in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/sink-ready" ] && break; sleep 0.1; done
	run rk --net=builtin python3 -c '
import os, socket
s = socket.create_connection(("10.0.2.2", 18097))
s.sendall(b"x" * (32 << 20))
os._exit(0)'
	assert_success
	wait "$WATCH"
	run cat "$BATS_TEST_TMPDIR/sink"
	assert_output "$((32 << 20))"
}

@test "builtin: a SYN written straight to 127.0.0.1 on the tap never reaches the host (the filter)" {
	# the control: the same crafted SYN to the gateway does reach the host listener, so the
	# injection works and a missing filter would show
	start_host_watch 4
	run rk --net=builtin python3 "$RAWSYN" tap0 10.0.2.2 18094
	assert_success
	wait "$WATCH" || true
	run cat "$BATS_TEST_TMPDIR/watch"
	assert_line "accepted"
	# to 127.0.0.1 and 0.0.0.0, with --disable-host-loopback: nothing arrives
	rm -f "$BATS_TEST_TMPDIR/watch-ready"
	start_host_watch 4
	run rk --net=builtin --disable-host-loopback sh -c "
		python3 $RAWSYN tap0 127.0.0.1 18094
		python3 $RAWSYN tap0 0.0.0.0 18094"
	assert_success
	wait "$WATCH" || true
	run cat "$BATS_TEST_TMPDIR/watch"
	assert_output "done"
}

@test "builtin: a UDP datagram larger than the MTU crosses in fragments, both ways" {
	start_host_echo
	run rk --net=builtin --mtu=1500 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
data = bytes(range(256)) * 16  # 4096 bytes: three fragments at MTU 1500
for _ in range(5):
    s.sendto(data, ("10.0.2.2", 18095))
    try:
        back = s.recv(65536)
    except socket.timeout:
        print("timeout")
        continue
    print("echoed", len(back), back == data)
    break'
	assert_success
	assert_line "echoed 4096 True"
}

@test "builtin: --cidr, --mtu and --ifname take effect" {
	start_host_echo
	run rk --net=builtin --cidr=10.9.8.0/24 --mtu=1500 --ifname=eth3 --copy-up=/etc sh -c "
		cat /sys/class/net/eth3/mtu
		ip -4 -o addr show dev eth3 | awk '{ print \$4 }'
		ip route show default
		cat /etc/resolv.conf
		python3 $ECHO tcp 10.9.8.2 18095 custom-network"
	assert_success
	assert_line "1500"
	assert_line "10.9.8.100/24"
	assert_line --regexp '^default via 10\.9\.8\.2 dev eth3'
	assert_line "nameserver 10.9.8.3"
	assert_line "custom-network"
}

@test "builtin --detach-netns: \$STATE/netns is configured and reaches the host; the command stays outside" {
	start_host_echo
	run rk --net=builtin --detach-netns sh -c "
		test -e /sys/class/net/tap0 && echo tap-visible-outside || echo no-tap-outside
		nsenter -n\$ROOTLESSKIT_STATE_DIR/netns sh -c '
			ip -4 -o addr show dev tap0 | awk \"{ print \\\$4 }\"
			python3 $ECHO tcp 10.0.2.2 18095 detached'
		cat \$ROOTLESSKIT_STATE_DIR/resolv.conf"
	assert_success
	assert_line "no-tap-outside"
	assert_line "10.0.2.100/24"
	assert_line "detached"
	assert_line "nameserver 10.0.2.3"
}

@test "builtin: the builtin port driver over it" {
	start_echo --net=builtin --port-driver=builtin -p 127.0.0.1:18093:80/tcp
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18093 published
	assert_success
	assert_output "published"
}

@test "builtin: no slirp4netns, pasta, ip or nsenter process is started; the engine is ours and confined" {
	start_sleeper --net=builtin --disable-host-loopback
	# every descendant of rootlesskit, by name
	local names
	names=$(ps -e -o pid=,ppid=,comm= | awk -v root="$RK_PID" '
		{ parent[$1] = $2; name[$1] = $3 }
		END { for (p in parent) { q = p; while (q in parent && q != root) q = parent[q]; if (q == root && p != root) print name[p] } }' | sort)
	# only our own processes and the command: the engine (a fork of the parent, so named
	# rootlesskit), the child (re-executed through /proc/self/exe, as upstream's), sleep
	[ "$(echo $names)" = "exe rootlesskit sleep" ] || fail "descendants: $(echo $names)"
	# the engine is confined: no capability, no_new_privs and a seccomp filter
	local engine
	engine=$(ps -e -o pid=,ppid=,comm= | awk -v root="$RK_PID" '$2 == root && $3 == "rootlesskit" { print $1 }')
	[ -n "$engine" ] || fail "no engine process"
	run grep -E '^(NoNewPrivs|Seccomp|CapEff|CapPrm|CapAmb):' "/proc/$engine/status"
	assert_line --regexp '^NoNewPrivs:\s+1$'
	assert_line --regexp '^Seccomp:\s+2$'
	assert_line --regexp '^CapEff:\s+0+$'
	assert_line --regexp '^CapPrm:\s+0+$'
	# and sees a read-only root that holds resolv.conf and nothing else: no /run (where
	# the session bus and docker.sock live), no /tmp, no /proc
	run awk '{ print $5, $6 }' "/proc/$engine/mountinfo"
	assert_line --index 0 --regexp '^/ ro,'
	assert_line --index 1 --regexp '^/etc/resolv.conf ro,'
	[ "${#lines[@]}" = 2 ] || fail "more mounts than / and /etc/resolv.conf: $output"
	run ls -A "/proc/$engine/root" "/proc/$engine/root/etc"
	assert_output "/proc/$engine/root:
etc

/proc/$engine/root/etc:
resolv.conf"
}

@test "builtin --port-driver=netstack: TCP and UDP ports through the NAT, bursts, the API, rootlessctl" {
	# without --disable-host-loopback: with it, libslirp drops the UDP replies to a
	# loopback client (seen as the gateway), as slirp4netns does
	start_echo --net=builtin --port-driver=netstack \
		-p 127.0.0.1:18091:80/tcp -p 127.0.0.1:18091:80/udp
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18091 via-netstack
	assert_output "via-netstack"
	run timeout 10 python3 "$ECHO" udp 127.0.0.1 18091 udp-via-netstack
	assert_output "udp-via-netstack"
	# a loopback client is seen as the gateway (libslirp's rule; others keep their address)
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18091 peer
	assert_output "10.0.2.2"
	# libslirp listens with a backlog of 1; ours is raised, so a burst is not refused
	run timeout 60 python3 "$ECHO" burst 127.0.0.1 18091 500
	assert_output "ok 500"
	local sock="$BATS_TEST_TMPDIR/state/api.sock"
	run curl -s --max-time 5 --unix-socket "$sock" http://x/v1/info
	assert_output --partial '"portDriver":{"driver":"netstack","protos":["tcp","tcp4","tcp6","udp","udp4","udp6"],"disallowLoopbackChildIP":true}'
	run "$RK_CTL" --socket="$sock" add-ports 127.0.0.1:18092:80/tcp
	assert_success
	assert_output "3"
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18092 added
	assert_output "added"
	run "$RK_CTL" --socket="$sock" add-ports 127.0.0.1:18093:80/tcp6
	assert_failure
	assert_output --partial 'listen tcp6 127.0.0.1: address 127.0.0.1: non-IPv6 address'
	run "$RK_CTL" --socket="$sock" add-ports '[::1]:18093:[fd00::100]:80/tcp6'
	assert_failure
	assert_output --partial 'child IP fd00::100: the child has no IPv6 (--ipv6)'
	run "$RK_CTL" --socket="$sock" add-ports 127.0.0.1:18092:80/tcp
	assert_failure
	run "$RK_CTL" --socket="$sock" remove-ports 3
	assert_success
	run timeout 5 python3 "$ECHO" tcp 127.0.0.1 18092 removed
	assert_failure
	run curl -s --max-time 5 --unix-socket "$sock" -X DELETE http://x/v1/ports/3
	assert_output --partial "unknown id: 3"
}

# start_v6_ports FLAGS...: rootlesskit FLAGS --port-driver=netstack with tcp6 and udp6 on
# [::1]:18101 to an echo service on the child's port 80 (IPv4 and IPv6)
start_v6_ports() {
	start_echo "$@" -p '[::1]:18101:80/tcp6' -p '[::1]:18101:80/udp6'
}

@test "builtin --ipv6 --port-driver=netstack: tcp6 and udp6 reach the child's fd00::100 over IPv6; a loopback client is fd00::2" {
	start_v6_ports --net=builtin --ipv6 --port-driver=netstack
	run timeout 10 python3 "$ECHO" tcp ::1 18101 via-v6
	assert_output "via-v6"
	run timeout 10 python3 "$ECHO" tcp ::1 18101 peer
	assert_output "fd00::2"
	run timeout 10 python3 "$ECHO" udp ::1 18101 udp-via-v6
	assert_output "udp-via-v6"
	# the IPv4 host address stays unpublished: tcp6 listens to IPv6 only
	run timeout 5 python3 "$ECHO" tcp 127.0.0.1 18101 v4
	assert_failure
}

@test "builtin --port-driver=netstack without --ipv6: tcp6 and udp6 reach the child over IPv4, the client as the gateway" {
	start_v6_ports --net=builtin --port-driver=netstack
	run timeout 10 python3 "$ECHO" tcp ::1 18101 via-v4
	assert_output "via-v4"
	run timeout 10 python3 "$ECHO" tcp ::1 18101 peer
	assert_output "10.0.2.2"
	# each IPv6 client has a gateway port of its own, which the answer goes back through
	run timeout 10 python3 "$ECHO" udp ::1 18101 udp-via-v4
	assert_output "udp-via-v4"
	run timeout 10 python3 "$ECHO" udp ::1 18101 udp-again
	assert_output "udp-again"
}

@test "--port-driver=netstack needs --net=builtin" {
	run rk --net=slirp4netns --port-driver=netstack true
	assert_failure
	assert_output --partial "port driver requires builtin network"
}

# The engine's open descriptors and RSS (KiB), as "FDS RSS".
engine_usage() {
	local engine
	engine=$(ps -e -o pid=,ppid=,comm= | awk -v root="$RK_PID" '$2 == root && $3 == "rootlesskit" { print $1 }')
	echo "$(ls /proc/"$engine"/fd | wc -l) $(awk '/^VmRSS:/ { print $2 }' /proc/"$engine"/status)"
}

engine_fds() {
	local u
	u=$(engine_usage)
	echo "${u%% *}"
}

@test "builtin: floods (10 000 SYNs to closed host ports, 10 000 unfinished fragments) leave the engine bounded and responsive" {
	start_host_echo
	start_sleeper --net=builtin
	local before after fds rss
	before=$(engine_usage)
	run nsenter -t "$CMD_PID" -U -n --preserve-credentials timeout 60 python3 "$RAWSYN" flood tap0 10.0.2.2 20000 10000
	assert_success
	run nsenter -t "$CMD_PID" -U -n --preserve-credentials timeout 60 python3 "$RAWSYN" fragflood tap0 10.0.2.2 10000
	assert_success
	# refused connections are closed again: back to the baseline within 20 s
	for _ in $(seq 100); do
		after=$(engine_usage)
		[ "${after%% *}" -le $((${before%% *} + 2)) ] && break
		sleep 0.2
	done
	[ "${after%% *}" -le $((${before%% *} + 2)) ] || fail "descriptors: $before -> $after"
	# memory stays bounded: 8 reassembly slots, not 14 MB of held fragments (malloc keeps
	# a few MiB of libslirp's freed connection buffers, so not exactly the baseline). Not
	# in the sanitized build, whose quarantine keeps every freed block for a while.
	if ! grep -qa __asan_init "$RK"; then
		[ "${after##* }" -le $((${before##* } + 8192)) ] || fail "RSS (KiB): $before -> $after"
	fi
	run nsenter -t "$CMD_PID" -U -n --preserve-credentials timeout 10 python3 "$ECHO" tcp 10.0.2.2 18095 still-answering
	assert_success
	assert_output "still-answering"
}

@test "builtin --port-driver=netstack: 1100 idle clients of a published port leave the next one served" {
	local idle="$BATS_TEST_TMPDIR/idle"
	mkfifo "$idle"
	start_echo --net=builtin --port-driver=netstack \
		-p 127.0.0.1:18096:80/tcp
	# more than the 1024 connections the table once held: a full table let new clients
	# wait in the listener's queue for ever
	timeout 60 python3 "$ECHO" idle 127.0.0.1 18096 1100 40 >"$idle" 3>&- &
	WATCH=$!
	[ "$(read_fifo "$idle")" = "idle 1100" ] || fail "the idle clients did not connect"
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18096 served
	assert_success
	assert_output "served"
}

@test "builtin: 20 000 UDP sources from the child leave the engine at most 4 500 descriptors, and a new one works" {
	start_host_echo
	start_sleeper --net=builtin
	run nsenter -t "$CMD_PID" -U -n --preserve-credentials timeout 60 python3 "$ECHO" udpsources 10.0.2.2 18095 10000 20000
	assert_success
	assert_output "sent 20000"
	local fds
	fds=$(engine_usage)
	fds=${fds%% *}
	[ "$fds" -le 4500 ] || fail "the engine holds $fds descriptors"
	# and it did take them (4096 sources open at the end), not lose them on the way
	[ "$fds" -ge 4000 ] || fail "only $fds descriptors: the sources did not reach the engine"
	run nsenter -t "$CMD_PID" -U -n --preserve-credentials timeout 10 python3 "$ECHO" udp 10.0.2.2 18095 still-working
	assert_success
	assert_output "still-working"
}

@test "builtin: Ctrl-C (SIGINT to the whole process group) leaves the network to the command's handler" {
	local got="$BATS_TEST_TMPDIR/got" ready="$BATS_TEST_TMPDIR/rk-ready"
	mkfifo "$ready"
	# the host's side: what arrives on 127.0.0.1:18099 within 20 s
	timeout 20 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 18099))
s.settimeout(20)
print(s.recvfrom(100)[0].decode(), flush=True)' >"$got" 3>&- &
	WATCH=$!
	# a session of its own, as a terminal's, with SIGINT at its default (a background job
	# of a script starts with it ignored): a handler that takes its time, then sends
	setsid env --default-signal=INT,QUIT "$RK" --net=builtin python3 -c '
import signal, socket, sys, time
def on_int(sig, frame):
    time.sleep(0.5)
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"after ctrl-c", ("10.0.2.2", 18099))
    sys.exit(0)
signal.signal(signal.SIGINT, on_int)
open(sys.argv[1], "w").write("ready\n")
time.sleep(20)' "$ready" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	RK_PID=$!
	read_fifo "$ready" >/dev/null
	kill -INT -- -"$RK_PID"
	wait_job "$RK_PID" || fail "rootlesskit said: $(cat "$BATS_TEST_TMPDIR/out")"
	assert_equal "$status" 0
	wait_job "$WATCH"
	[ "$(cat "$got")" = "after ctrl-c" ] || fail "the host got '$(cat "$got")'; rootlesskit said: $(cat "$BATS_TEST_TMPDIR/out")"
}

# The engine's pid: rootlesskit's child named rootlesskit (the child proper is "exe").
engine_pid() {
	ps -e -o pid=,ppid=,comm= | awk -v root="$RK_PID" '$2 == root && $3 == "rootlesskit" { print $1 }'
}

# Waits (5 s at most) for an engine other than $1; prints its pid.
wait_new_engine() {
	local e n=100
	while [ "$n" -gt 0 ]; do
		e=$(engine_pid)
		if [ -n "$e" ] && [ "$e" != "$1" ]; then
			echo "$e"
			return 0
		fi
		n=$((n - 1))
		sleep 0.05
	done
	return 1
}

@test "builtin: a crashed engine is replaced on the same tap; published ports, outbound connections and the API work again" {
	local engine new cpid
	start_host_echo
	start_echo --net=builtin --port-driver=netstack \
		-p 127.0.0.1:18101:80/tcp
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18101 before
	assert_output "before"
	engine=$(engine_pid)
	[ -n "$engine" ] || fail "no engine process"
	kill -SEGV "$engine"
	new=$(wait_new_engine "$engine") || fail "no new engine: $(cat "$BATS_TEST_TMPDIR/out")"
	# the port is installed again (a few tries: the listener comes with the new engine)
	for _ in $(seq 20); do
		run timeout 5 python3 "$ECHO" tcp 127.0.0.1 18101 after
		[ "$output" = after ] && break
		sleep 0.1
	done
	assert_output "after"
	run curl -s --max-time 5 --unix-socket "$BATS_TEST_TMPDIR/state/api.sock" http://x/v1/ports
	assert_output --partial '"id":1,'
	# the child reaches the host through the new engine
	cpid=$(cat "$BATS_TEST_TMPDIR/state/child_pid")
	run timeout 10 nsenter -U -n -t "$cpid" --preserve-credentials python3 "$ECHO" chat 10.0.2.2 18095 outbound
	assert_output "outbound"
	# and the new one is confined like the first
	run grep -E '^Seccomp:' "/proc/$new/status"
	assert_output --regexp '2$'
	# (how it ended: a segmentation fault, or whatever the sanitized build's own report of
	# the fault runs into under the seccomp filter)
	grep -qE "network driver builtin exited: [^;]+; a new engine took over" \
		"$BATS_TEST_TMPDIR/out" || fail "$(cat "$BATS_TEST_TMPDIR/out")"
	kill -TERM "$RK_PID"
	wait_job "$RK_PID"
}

@test "builtin: an engine that dies 5 times within a minute stops the command; the exit status says so" {
	local engine
	start_sleeper --net=builtin
	engine=$(engine_pid)
	for i in 1 2 3 4; do
		kill -KILL "$engine"
		engine=$(wait_new_engine "$engine") || fail "no engine after death $i: $(cat "$BATS_TEST_TMPDIR/out")"
	done
	kill -KILL "$engine"
	wait_job "$RK_PID"
	[ "$status" != 0 ] || fail "exit 0 without a network: $(cat "$BATS_TEST_TMPDIR/out")"
	grep -q "error: netstack engine exited 5 times within 60 s (the last: signal: killed); stopping the command" \
		"$BATS_TEST_TMPDIR/out" || fail "$(cat "$BATS_TEST_TMPDIR/out")"
}

@test "builtin --port-driver=netstack: clients from one address and port to two ports forwarded to one service are both served" {
	start_echo --net=builtin --port-driver=netstack \
		-p 127.0.0.1:18121:80/tcp -p 127.0.0.1:18122:80/tcp
	# both connections show as the gateway with the same port inside: the second must not
	# take (and be refused for) the first one's place
	run timeout 20 python3 -c '
import socket
def client(port):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind(("127.0.0.1", 18123))
    c.settimeout(5)
    c.connect(("127.0.0.1", port))
    return c
a = client(18121)
a.sendall(b"first\n"); print(a.recv(64).decode().strip())
b = client(18122)
b.sendall(b"second\n"); print(b.recv(64).decode().strip())
a.sendall(b"again\n"); print(a.recv(64).decode().strip())'
	assert_success
	assert_output "first
second
again"
	kill -TERM "$RK_PID"
	wait_job "$RK_PID"
}

@test "builtin --port-driver=netstack: a client port used again at once is served, after a short and after a long connection" {
	start_echo --net=builtin --port-driver=netstack -p 127.0.0.1:18124:80/tcp
	# The service closes first, so the child keeps a TIME_WAIT for the gateway's port
	# (the client's) and its own. The next connection from that port must open at once:
	# after a short connection, because the engine's initial sequence number rises with
	# time; after one that sent more than that clock rose by since, because the
	# TIME_WAIT's answer to the SYN gets a reset and the SYN goes again. Either way a
	# stalled SYN would wait out the TIME_WAIT (60 s) and the client's 10 s.
	run timeout 40 python3 "$ECHO" reuse 127.0.0.1 18124 8 10
	assert_success
	assert_output "reused 8"
	run timeout 40 python3 "$ECHO" reuse 127.0.0.1 18124 3 2000000
	assert_success
	assert_output "reused 3"
	kill -TERM "$RK_PID"
	wait_job "$RK_PID"
}

@test "builtin --port-driver=netstack: 1000 concurrent connections all served, twice; the engine's descriptors return to their count before" {
	local before after
	start_echo --net=builtin --port-driver=netstack -p 127.0.0.1:18125:80/tcp
	run timeout 10 python3 "$ECHO" tcp 127.0.0.1 18125 warm
	assert_output "warm"
	before=$(engine_fds)
	run timeout 60 python3 "$ECHO" burst 127.0.0.1 18125 1000
	assert_success
	assert_output "ok 1000"
	run timeout 60 python3 "$ECHO" burst 127.0.0.1 18125 1000
	assert_output "ok 1000"
	after=$(poll_until 10 "$before" engine_fds) ||
		fail "the engine held $before descriptors before, $after after"
	kill -TERM "$RK_PID"
	wait_job "$RK_PID"
}

@test "builtin: a start that fails before the tap exists leaves no engine behind (it is started while the ids are mapped)" {
	local mark="/nonexistent-engine-mark-$$"
	run "$RK" --net=builtin --copy-up="$mark" true
	assert_failure
	assert_output --partial "[rootlesskit:parent] error: copy-up: $mark: No such file or directory"
	refute_output --partial "netstack"
	# the engine is a fork of the parent: it carries the same command line
	run pgrep -f -- "--copy-up=$mark"
	assert_failure
}

# The engine's maps name libslirp (and GLib with it) or not.
engine_maps_slirp() {
	grep -q libslirp "/proc/$(engine_pid)/maps"
}

@test "builtin without --ipv6: ICMP echo to the gateway and the DNS address answered by the engine, fragments included; libslirp not loaded" {
	run "$RK" --net=builtin --mtu=1500 sh -c "python3 $ICMPECHO 10.0.2.2 4000; python3 $ICMPECHO 10.0.2.3 56; python3 $ICMPECHO 10.0.2.50 56"
	assert_line "reply from 10.0.2.2: 4000 bytes"
	assert_line "reply from 10.0.2.3: 56 bytes"
	# no other host in the network: nothing answers for it
	assert_line "no reply"
	start_sleeper --net=builtin
	! engine_maps_slirp || fail "the engine mapped libslirp: $(grep -o '[^ ]*slirp[^ ]*' /proc/"$(engine_pid)"/maps | sort -u)"
	# the engine answers the running command too
	run nsenter -t "$CMD_PID" -U -n --preserve-credentials timeout 10 python3 "$ICMPECHO" 10.0.2.2 56
	assert_output "reply from 10.0.2.2: 56 bytes"
}

@test "builtin --ipv6: the engine loads libslirp (neighbour discovery, router advertisements), and ICMP echo to the gateway is answered" {
	start_sleeper --net=builtin --ipv6
	engine_maps_slirp || fail "the engine did not map libslirp"
	run nsenter -t "$CMD_PID" -U -n --preserve-credentials timeout 10 python3 "$ICMPECHO" 10.0.2.2 56
	assert_output "reply from 10.0.2.2: 56 bytes"
}
