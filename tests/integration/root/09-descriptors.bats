#!/usr/bin/env bats
# The engine out of descriptors: with a low RLIMIT_NOFILE, DNS queries that no resolver
# answers hold the engine's descriptors (64 queries, 5 s each), and a client of a port
# published with --port-driver=netstack finds accept() failing with EMFILE. The listener
# must rest and try again instead of spinning, and serve the client once the queries have
# expired. The test runs in network and mount namespaces of its own, where
# /etc/resolv.conf names a resolver of the test's on 127.0.0.1 that reads nothing: no
# query can reach this machine's real resolver. rootlesskit runs as the test user.

load ../helpers

user=${RK_TEST_USER:-rktest}
ECHO="$BATS_TEST_DIRNAME/../tools/echo.py"

setup() {
	[ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
	DIR=$(mktemp -d /tmp/rk-fd.XXXXXX)
	chmod 0777 "$DIR"
}

teardown() {
	rm -rf "$DIR"
}

@test "--net=builtin: the engine's listener, out of descriptors, rests, and serves once they are free" {
	run timeout 90 unshare -n -m sh -ec "
		ip link set lo up
		echo 'nameserver 127.0.0.1' > $DIR/resolv.conf
		mount --bind $DIR/resolv.conf /etc/resolv.conf
		python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((\"127.0.0.1\", 53)); time.sleep(80)' &
		mkfifo -m 0666 $DIR/ready $DIR/flooding
		runuser -u $user -- prlimit --nofile=64:64 $RK --pidns --state-dir=$DIR/state \
			--net=builtin --copy-up=/etc \
			--port-driver=netstack -p 127.0.0.1:18098:80/tcp sh -c '
				python3 $ECHO serve 80 $DIR/ready &
				sleep 0.5
				echo go > $DIR/flooding
				python3 $ECHO dnsflood 10.0.2.3 4
				sleep 20' 3>&- &
		head -n 1 $DIR/ready >/dev/null
		head -n 1 $DIR/flooding >/dev/null
		sleep 1
		# the engine: the child's sibling named rootlesskit (another instance of the
		# user's may be running)
		child=\$(cat $DIR/state/child_pid)
		rk=\$(ps -o ppid= -p \$child | tr -d ' ')
		engine=\$(ps -e -o pid=,ppid=,comm= | awk -v child=\$child -v rk=\$rk '
			\$2 == rk && \$3 == \"rootlesskit\" && \$1 != child { print \$1 }')
		[ -n \"\$engine\" ] || { echo no engine; ps -ef; exit 1; }
		# a client now: the engine is out of descriptors, the connection waits queued
		timeout 20 python3 $ECHO tcp 127.0.0.1 18098 served > $DIR/client &
		client=\$!
		before=\$(awk '{ print \$14 + \$15 }' /proc/\$engine/stat)
		sleep 2
		after=\$(awk '{ print \$14 + \$15 }' /proc/\$engine/stat)
		echo ticks \$((after - before))
		wait \$client
		cat $DIR/client"
	assert_success
	# a third of a core at most over the 2 s (a spinning loop takes all of one)
	local ticks
	ticks=$(awk '$1 == "ticks" { print $2 }' <<<"$output")
	[ -n "$ticks" ] && [ "$ticks" -lt 66 ] || fail "the engine took ${ticks:-?} ticks in 2 s: $output"
	assert_line "served"
}
