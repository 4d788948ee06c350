#!/bin/bash
# --net=builtin against upstream's --net=slirp4netns (Debian's Go RootlessKit), side by
# side in one run: iperf3 through the NAT from the child to a server on the host's loopback
# (as the gateway 10.0.2.2) and back (-R), and from the host to a server in the child
# through a port published by the NAT's own port driver (ours: netstack; upstream's:
# slirp4netns), at MTU 65520 and 1500, then the idle memory of a whole instance (the RSS of
# every process: rootlesskit, its child, the engine or slirp4netns). With pasta installed,
# our --net=pasta (pasta's own port forwarding) runs too. Not a test: it prints figures and
# ratios and fails only when something cannot run. Loopback only.
#
#   bench/netstack.sh [SECONDS]   (as root it runs everything as $RK_TEST_USER)
#
# RK_BASELINE=PATH adds another rootlesskit-c build (an earlier commit's, say) as the
# variant "baseline", so that a change is measured against the build before it in one run;
# BENCH_PEERS=0 leaves out upstream and pasta.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-5}
user=${RK_TEST_USER:-rktest}
command -v iperf3 >/dev/null || { echo "bench: needs iperf3" >&2; exit 1; }

work=$(mktemp -d /tmp/rk-bench.XXXXXX)
chmod 0755 "$work"
install -m 0755 "$top/rootlesskit" "$work/rootlesskit"
if [ "$(id -u)" = 0 ]; then
	chown "$user" "$work"
	as_user=(runuser -u "$user" --)
else
	as_user=()
fi
server=
cleanup() {
	[ -z "$server" ] || kill "$server" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

"${as_user[@]}" iperf3 -s -B 127.0.0.1 -p 5301 >/dev/null 2>&1 &
server=$!
sleep 0.5

variants=("rootlesskit-c|$work/rootlesskit --net=builtin|netstack")
if [ -n "${RK_BASELINE:-}" ]; then
	install -m 0755 "$RK_BASELINE" "$work/baseline"
	variants+=("baseline|$work/baseline --net=builtin|netstack")
fi
peers=${BENCH_PEERS:-1}
if [ "$peers" != 0 ] && [ -x /usr/bin/rootlesskit ] && command -v slirp4netns >/dev/null; then
	variants+=("upstream-slirp4netns|/usr/bin/rootlesskit --net=slirp4netns|slirp4netns")
fi
if [ "$peers" != 0 ] && command -v pasta >/dev/null; then
	variants+=("rootlesskit-c-pasta|$work/rootlesskit --net=pasta|implicit")
fi

# through NAME MTU [-R]: Gbit/s received, client inside the namespace
through() {
	local cmd=$1 mtu=$2 rev=${3:-}
	"${as_user[@]}" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp TMPDIR=/tmp \
		$cmd --mtu="$mtu" iperf3 -c 10.0.2.2 -p 5301 -t "$secs" -f g $rev 2>/dev/null |
		awk '/receiver/ { print $(NF-2) }'
}

# published NAME MTU DRIVER: Gbit/s received by a server in the namespace from a host
# client through 127.0.0.1:5302, published by the port driver DRIVER
published() {
	local cmd=$1 mtu=$2 driver=$3 inst r
	"${as_user[@]}" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp TMPDIR=/tmp \
		$cmd --mtu="$mtu" --port-driver="$driver" -p 127.0.0.1:5302:5302/tcp \
		timeout $((secs + 15)) iperf3 -s -1 -p 5302 >/dev/null 2>&1 &
	inst=$!
	for _ in $(seq 50); do
		r=$("${as_user[@]}" iperf3 -c 127.0.0.1 -p 5302 -t "$secs" -f g 2>/dev/null |
			awk '/receiver/ { print $(NF-2) }')
		[ -n "$r" ] && break
		sleep 0.2
	done
	wait "$inst" 2>/dev/null || true
	echo "$r"
}

# rss CMD: the summed RSS (KiB) of every process of an idle instance
rss() {
	local cmd=$1 pid total
	"${as_user[@]}" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp TMPDIR=/tmp \
		$cmd sleep 30 >/dev/null 2>&1 &
	pid=$!
	sleep 2
	# the instance: the runuser wrapper's descendants (rootlesskit, child, helpers)
	total=$(ps -e -o pid=,ppid=,rss=,comm= | awk -v root="$pid" '
		{ parent[$1] = $2; rss[$1] = $3; name[$1] = $4 }
		END { for (p in parent) { q = p; while (q in parent && q != root) q = parent[q];
			if (q == root && p != root && name[p] != "sleep" && name[p] != "runuser")
				s += rss[p] } print s + 0 }')
	kill "$pid" 2>/dev/null || true
	pkill -u "$user" -f "sleep 30" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	echo "$total"
}

printf '%-22s %6s %12s %12s %12s %10s\n' "" MTU "child->host" "host->child" "port->child" "idle RSS"
for v in "${variants[@]}"; do
	name=${v%%|*}
	rest=${v#*|}
	cmd=${rest%|*}
	driver=${rest##*|}
	mem=$(rss "$cmd")
	for mtu in 65520 1500; do
		up=$(through "$cmd" "$mtu")
		down=$(through "$cmd" "$mtu" -R)
		port=$(published "$cmd" "$mtu" "$driver")
		printf '%-22s %6s %7s Gb/s %7s Gb/s %7s Gb/s %6s KiB\n' "$name" "$mtu" "${up:-?}" \
			"${down:-?}" "${port:-?}" "$mem" | tee -a "$work/results"
	done
done
echo
awk '
	{ key = $2; if ($1 == "rootlesskit-c") { up[key] = $3; down[key] = $5; port[key] = $7; mem = $9 }
	  else printf "  rootlesskit-c at MTU %s against %s: %.2fx child->host, %.2fx host->child, %.2fx through a published port; memory %.2fx\n",
		key, $1, up[key] / ($3 ? $3 : 1), down[key] / ($5 ? $5 : 1), port[key] / ($7 ? $7 : 1), mem / ($9 ? $9 : 1) }' "$work/results"
