#!/bin/bash
# --net=builtin against upstream's --net=slirp4netns (Debian's Go RootlessKit) and our
# --net=pasta, side by side in one run: iperf3 through the NAT from the child to a server on
# the host's loopback (as the gateway 10.0.2.2) and back (-R), and from the host to a
# server in the child through a port published by the NAT's own port driver (ours:
# netstack; upstream's: slirp4netns; pasta's own forwarding), at MTU 65520 and 1500,
# against the host's loopback (the limit); then the idle memory (PSS and RSS) of every
# process of an instance, with the host's network and with the NAT. Not a test: it prints
# figures and ratios and fails only when something cannot run. Loopback only.
#
#   bench/netstack.sh [SECONDS]   (as root it runs everything as $RK_TEST_USER)
#
# RK_BASELINE=PATH adds another rootlesskit-c build (an earlier commit's, say) as the
# variant "baseline", so that a change is measured against the build before it in one run;
# BENCH_PEERS=0 leaves out upstream and pasta.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
secs=${1:-5}
command -v iperf3 >/dev/null || { echo "bench: needs iperf3" >&2; exit 1; }
bench_init
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

# NAME|NAT COMMAND|ITS PORT DRIVER|THE SAME TOOL WITH THE HOST'S NETWORK
variants=("rootlesskit-c|$work/rootlesskit --net=builtin|netstack|$work/rootlesskit")
if [ -n "${RK_BASELINE:-}" ]; then
	install -m 0755 "$RK_BASELINE" "$work/baseline"
	variants+=("baseline|$work/baseline --net=builtin|netstack|$work/baseline")
fi
peers=${BENCH_PEERS:-1}
if [ "$peers" != 0 ] && [ -x /usr/bin/rootlesskit ] && command -v slirp4netns >/dev/null; then
	variants+=("upstream-slirp4netns|/usr/bin/rootlesskit --net=slirp4netns|slirp4netns|/usr/bin/rootlesskit")
fi
if [ "$peers" != 0 ] && command -v pasta >/dev/null; then
	variants+=("rootlesskit-c-pasta|$work/rootlesskit --net=pasta|implicit|")
fi

# through CMD MTU [-R]: client inside the namespace
through() {
	# shellcheck disable=SC2086
	as_env $1 --mtu="$2" iperf3 -c 10.0.2.2 -p 5301 -t "$secs" -f g ${3:-} 2>/dev/null | received
}

# published CMD MTU DRIVER: a server in the namespace, a host client through 127.0.0.1:5302,
# published by the port driver DRIVER
published() {
	local cmd=$1 mtu=$2 driver=$3 inst r
	# shellcheck disable=SC2086
	as_env $cmd --mtu="$mtu" --port-driver="$driver" -p 127.0.0.1:5302:5302/tcp \
		timeout $((secs + 15)) iperf3 -s -1 -p 5302 >/dev/null 2>&1 &
	inst=$!
	for _ in $(seq 50); do
		r=$("${as_user[@]}" iperf3 -c 127.0.0.1 -p 5302 -t "$secs" -f g 2>/dev/null | received)
		[ -n "$r" ] && break
		sleep 0.2
	done
	wait "$inst" 2>/dev/null || true
	echo "$r"
}

lo_up=$("${as_user[@]}" iperf3 -c 127.0.0.1 -p 5301 -t "$secs" -f g | received)
lo_down=$("${as_user[@]}" iperf3 -c 127.0.0.1 -p 5301 -t "$secs" -f g -R | received)
printf '%-22s %6s %12s %12s %12s %18s %18s\n' "" MTU "child->host" "host->child" "port->child" \
	"idle PSS/RSS NAT" "with host network"
printf '%-22s %6s %7s Gb/s %7s Gb/s\n' "host loopback" - "$lo_up" "$lo_down"
for mtu in 65520 1500; do
	row "NAT child→host, MTU $mtu, Gbit/s" loopback "$lo_up" Gbit/s limit
	row "NAT host→child, MTU $mtu, Gbit/s" loopback "$lo_down" Gbit/s limit
	row "the NAT's port driver → child, MTU $mtu, Gbit/s" loopback "$lo_up" Gbit/s limit
done
for v in "${variants[@]}"; do
	IFS='|' read -r name cmd driver hostcmd <<<"$v"
	read -r pss rss < <(memory "$cmd")
	hpss=- hrss=-
	[ -z "$hostcmd" ] || read -r hpss hrss < <(memory "$hostcmd")
	row "idle memory with the NAT, PSS KiB" "$name" "$pss" KiB
	row "idle memory with the NAT, RSS KiB" "$name" "$rss" KiB
	if [ -n "$hostcmd" ]; then
		row "idle memory, host network, PSS KiB" "${name%-slirp4netns}" "$hpss" KiB
		row "idle memory, host network, RSS KiB" "${name%-slirp4netns}" "$hrss" KiB
	fi
	for mtu in 65520 1500; do
		up=$(through "$cmd" "$mtu")
		down=$(through "$cmd" "$mtu" -R)
		port=$(published "$cmd" "$mtu" "$driver")
		printf '%-22s %6s %7s Gb/s %7s Gb/s %7s Gb/s %8s/%-6s KiB %8s/%-6s KiB\n' "$name" \
			"$mtu" "${up:-?}" "${down:-?}" "${port:-?}" "$pss" "$rss" "$hpss" "$hrss"
		row "NAT child→host, MTU $mtu, Gbit/s" "$name" "${up:-0}" Gbit/s
		row "NAT host→child, MTU $mtu, Gbit/s" "$name" "${down:-0}" Gbit/s
		row "the NAT's port driver → child, MTU $mtu, Gbit/s" "$name" "${port:-0}" Gbit/s
	done
done
bench_table
