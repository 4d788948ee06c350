#!/bin/bash
# Port forwarding and connections, side by side in one run: iperf3 throughput both ways
# through a published port, connections per second (bench/connrate.c) through it, and the
# instance's CPU time per connection, for
#   direct                  the servers on host loopback, no forwarding (the limit)
#   rootlesskit-c builtin   --net=none --port-driver=builtin (this build)
#   rootlesskit-c netstack  --net=builtin --port-driver=netstack
#   upstream builtin        Debian's Go RootlessKit, --net=slirp4netns --port-driver=builtin
# then connections out of the namespace: connrate inside the namespace to a server on the
# host's loopback (as the gateway 10.0.2.2), with --net=builtin, our --net=pasta and
# upstream's --net=slirp4netns, against the same client on the host.
# Not a test: it prints figures and ratios and fails only when something cannot run.
# Loopback only.
#
#   bench/ports.sh [SECONDS] [INFLIGHT]   (as root it runs everything as $RK_TEST_USER)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
secs=${1:-5}
inflight=${2:-64}
for c in iperf3 cc; do
	command -v "$c" >/dev/null || { echo "bench: needs $c" >&2; exit 1; }
done
bench_init
cc -O2 -o "$work/connrate" "$bench_top/bench/connrate.c"
hz=$(getconf CLK_TCK)

pids=()
cleanup() {
	# each instance is a session of its own: its whole group goes, servers included
	for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# the servers, as the command of each variant: iperf3 on 5201, connrate on 8000; each
# variant publishes them at an offset, below the ephemeral range (32768 up), where one of
# the benchmark's own client sockets could hold the port
servers="iperf3 -s -p 5201 >/dev/null 2>&1 & exec $work/connrate serve 8000 > $work/ready.\$\$ < $work/hold"
mkfifo "$work/hold"
exec 9<>"$work/hold" # keeps the servers' stdin open until the end

# start NAME PORTOFFSET COMMAND...: runs COMMAND (which must start the servers) and waits
# until connrate answers on 127.0.0.1:8000+offset; the instance's pid is in $inst
start() {
	local name=$1 off=$2
	shift 2
	setsid "${as_user[@]}" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp TMPDIR=/tmp "$@" \
		>"$work/$name.log" 2>&1 <&9 &
	inst=$!
	pids+=("$inst")
	for _ in $(seq 200); do
		if "${as_user[@]}" "$work/connrate" run 127.0.0.1 $((8000 + off)) 0.05 1 >/dev/null 2>&1; then
			sleep 0.3 # iperf3 starts alongside
			return 0
		fi
		sleep 0.05
	done
	echo "bench: $name did not start:" >&2
	cat "$work/$name.log" >&2
	exit 1
}

gbit() { # PORT [-R]: iperf3 from the host to 127.0.0.1:PORT (-R: back)
	"${as_user[@]}" iperf3 -c 127.0.0.1 -p "$1" -t "$secs" -f g ${2:-} | received
}

# us_per_conn TICKS CONNRATE-OUTPUT: the instance's CPU µs per completed connection
us_per_conn() {
	awk -v t="$1" -v hz="$hz" '{ gsub(/[(,]/, ""); if ($3 > 0) printf "%.0f", t * 1e6 / hz / $3 }' <<<"$2"
}

measure() { # NAME PORTOFFSET
	local name=$1 off=$2 in back out t0 t1 us=-
	in=$(gbit $((5201 + off)))
	back=$(gbit $((5201 + off)) -R)
	t0=$(instance_ticks "$inst")
	out=$("${as_user[@]}" "$work/connrate" run 127.0.0.1 $((8000 + off)) "$secs" "$inflight")
	t1=$(instance_ticks "$inst")
	[ "$name" = direct ] || us=$(us_per_conn $((t1 - t0)) "$out")
	printf '%s %s %s %s %s\n' "$name" "$in" "$back" "${out%% *}" "$us" | tee -a "$work/results"
	local limit=
	[ "$name" = direct ] && limit=limit
	row "port: host→child, Gbit/s" "$name" "$in" Gbit/s $limit
	row "port: child→host (iperf3 -R), Gbit/s" "$name" "$back" Gbit/s $limit
	row "port: connections/s, $inflight in flight" "$name" "${out%% *}" conn/s $limit
	[ "$us" = - ] || row "port: instance CPU per connection, µs" "$name" "$us" µs
}

# outbound NAME PORT COMMAND...: connrate inside the namespace to a server of its own on
# the host's PORT (a port no earlier run used: their TIME_WAITs would stand in the way);
# the instance's CPU is what the shell's time reports for it, less connrate's own
outbound() {
	local name=$1 port=$2 out
	shift 2
	setsid "${as_user[@]}" "$work/connrate" serve "$port" >/dev/null 2>&1 <&9 &
	pids+=($!)
	for _ in $(seq 100); do
		"${as_user[@]}" "$work/connrate" run 127.0.0.1 "$port" 0.05 1 >/dev/null 2>&1 && break
		sleep 0.05
	done
	out=$(as_env bash -c 'TIMEFORMAT="%3U %3S"; { time "$@" 2>/dev/null; } 2>&1' bench \
		"$@" "$work/connrate" run 10.0.2.2 "$port" "$secs" "$inflight") || true
	echo "$name: $out" | tee -a "$work/outbound.log"
	# "RATE conn/s (DONE done, FAILED failed, MS ms cpu)" then "USER SYS"
	awk -v name="$name" 'NR == 1 { gsub(/[(,]/, ""); rate = $1; done = $3; own = $7 }
		NR == 2 { if (done > 0) printf "%s %s %.0f\n", name, rate, (($1 + $2) * 1e3 - own) * 1e3 / done }' \
		<<<"$out" >>"$work/outbound"
	if ! read -r n rate us < <(tail -n 1 "$work/outbound") || [ "$n" != "$name" ]; then
		echo "bench: $name: no figures from connrate:" >&2
		cat "$work/outbound.log" >&2
		return 0
	fi
	row "out of the namespace: connections/s" "$name" "$rate" conn/s
	row "out of the namespace: instance CPU per connection, µs" "$name" "$us" µs
}

start direct 0 sh -c "$servers"
measure direct 0
start rootlesskit-c-builtin 10000 "$work/rootlesskit" --pidns --net=none --port-driver=builtin \
	-p 127.0.0.1:15201:5201/tcp -p 127.0.0.1:18000:8000/tcp sh -c "$servers"
measure rootlesskit-c-builtin 10000
start rootlesskit-c-netstack 1000 "$work/rootlesskit" --pidns --net=builtin \
	--port-driver=netstack -p 127.0.0.1:6201:5201/tcp -p 127.0.0.1:9000:8000/tcp \
	sh -c "$servers"
measure rootlesskit-c-netstack 1000
have_upstream=
if [ "${BENCH_PEERS:-1}" != 0 ] && [ -x /usr/bin/rootlesskit ] && command -v slirp4netns >/dev/null; then
	have_upstream=1
	start upstream-builtin 20000 /usr/bin/rootlesskit --pidns --net=slirp4netns \
		--port-driver=builtin -p 127.0.0.1:25201:5201/tcp -p 127.0.0.1:28000:8000/tcp \
		sh -c "$servers"
	measure upstream-builtin 20000
fi

row "out of the namespace: connections/s" direct "$(awk '$1 == "direct" { print $4 }' "$work/results")" conn/s limit
outbound rootlesskit-c-builtin 8101 "$work/rootlesskit" --net=builtin
if [ "${BENCH_PEERS:-1}" != 0 ] && command -v pasta >/dev/null; then
	outbound rootlesskit-c-pasta 8102 "$work/rootlesskit" --net=pasta
fi
[ -z "$have_upstream" ] || outbound upstream-slirp4netns 8103 /usr/bin/rootlesskit --net=slirp4netns

bench_table
