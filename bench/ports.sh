#!/bin/bash
# Port forwarding, side by side in one run: iperf3 throughput and connections per second
# (bench/connrate.c) through a published port, for
#   direct        the servers on host loopback, no forwarding
#   rootlesskit-c --net=none --port-driver=builtin (this build)
#   upstream      Debian's Go RootlessKit, --net=slirp4netns --port-driver=builtin
# Not a test: it prints figures and ratios and fails only when something cannot run.
# Loopback only.
#
#   bench/ports.sh [SECONDS] [INFLIGHT]   (as root it runs everything as $RK_TEST_USER)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-5}
inflight=${2:-64}
user=${RK_TEST_USER:-rktest}
for c in iperf3 cc; do
	command -v "$c" >/dev/null || { echo "bench: needs $c" >&2; exit 1; }
done

work=$(mktemp -d /tmp/rk-bench.XXXXXX)
chmod 0755 "$work"
install -m 0755 "$top/rootlesskit" "$work/rootlesskit"
cc -O2 -o "$work/connrate" "$top/bench/connrate.c"
if [ "$(id -u)" = 0 ]; then
	chown "$user" "$work"
	as_user=(runuser -u "$user" --)
else
	as_user=()
fi

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# the servers, as the command of each variant: iperf3 on 5201, connrate on 8000
servers="iperf3 -s -p 5201 >/dev/null 2>&1 & exec $work/connrate serve 8000 > $work/ready.\$\$ < $work/hold"
mkfifo "$work/hold"
exec 9<>"$work/hold" # keeps the servers' stdin open until the end

# start NAME PORTOFFSET COMMAND...: runs COMMAND (which must start the servers) and waits
# until connrate answers on 127.0.0.1:8000+offset
start() {
	local name=$1 off=$2
	shift 2
	"${as_user[@]}" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp TMPDIR=/tmp "$@" \
		>"$work/$name.log" 2>&1 <&9 &
	pids+=($!)
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

measure() { # NAME PORTOFFSET
	local gbit rate
	gbit=$("${as_user[@]}" iperf3 -c 127.0.0.1 -p $((5201 + $2)) -t "$secs" -f g |
		awk '/receiver/ { print $(NF-2) }')
	rate=$("${as_user[@]}" "$work/connrate" run 127.0.0.1 $((8000 + $2)) "$secs" "$inflight" |
		awk '{ print $1 }')
	printf '%s %s %s\n' "$1" "$gbit" "$rate" >>"$work/results"
}

start direct 0 sh -c "$servers"
measure direct 0
start rootlesskit-c 10000 "$work/rootlesskit" --pidns --net=none --port-driver=builtin \
	-p 127.0.0.1:15201:5201/tcp -p 127.0.0.1:18000:8000/tcp sh -c "$servers"
measure rootlesskit-c 10000
if [ -x /usr/bin/rootlesskit ] && command -v slirp4netns >/dev/null; then
	start upstream 20000 /usr/bin/rootlesskit --pidns --net=slirp4netns --port-driver=builtin \
		-p 127.0.0.1:25201:5201/tcp -p 127.0.0.1:28000:8000/tcp sh -c "$servers"
	measure upstream 20000
fi

echo
echo "through a published port, ${secs} s each (iperf3 single stream; connections with $inflight in flight):"
awk '
	{ name[NR] = $1; g[NR] = $2; r[NR] = $3
	  printf "  %-14s %7.2f Gbit/s %9d conn/s\n", $1, $2, $3 }
	END {
		for (i = 2; i <= NR; i++)
			printf "  %-14s %5.2fx direct throughput, %5.2fx direct connection rate\n",
				name[i], g[i] / g[1], r[i] / r[1]
	}' "$work/results"
