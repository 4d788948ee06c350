#!/bin/bash
# What linking Debian's libevent, jansson, libseccomp and libnftnl statically (make
# LINK=static) saves against linking them shared (the default, Debian's policy): the idle
# memory of a whole instance (PSS and RSS, with the host network and with --net=builtin)
# and the start-up time, both builds measured in one run, interleaved.
#
#   bench/linking.sh [ROUNDS] [RUNS]     medians of ROUNDS idle instances (default 5) and
#                                        of RUNS start-ups (default 200) per build
# As root it runs the instances as $RK_TEST_USER. Not a test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
rounds=${1:-5} runs=${2:-200}
bench_init
trap 'rm -rf "$work"' EXIT
make -s -C "$bench_top" build/link/rootlesskit-shared build/link/rootlesskit-static
for l in shared static; do
	# named rootlesskit, as pss_rss finds the instance's processes by name
	install -D -m 0755 "$bench_top/build/link/rootlesskit-$l" "$work/$l/rootlesskit"
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A mem
for _ in $(seq "$rounds"); do
	for l in shared static; do
		for net in host builtin; do
			read -r pss rss < <(memory "$work/$l/rootlesskit --net=$net")
			mem[$l.$net.pss]+="$pss "
			mem[$l.$net.rss]+="$rss "
		done
	done
done

# start-up of "true", interleaved run by run (µs)
# shellcheck disable=SC2016
as_env bash -c '
	for _ in $(seq "$2"); do
		for l in shared static; do
			t0=$EPOCHREALTIME
			"$1/$l/rootlesskit" true >/dev/null 2>&1 || true
			t1=$EPOCHREALTIME
			echo "$l $(( ${t1/./} - ${t0/./} ))"
		done
	done' linking "$work" "$runs" >"$work/startup"

printf '%-8s %22s %22s %14s\n' link "idle PSS/RSS, host" "idle PSS/RSS, builtin" "start-up"
for l in shared static; do
	m() { tr ' ' '\n' <<<"${mem[$l.$1]}" | sed '/^$/d' | median; }
	s=$(awk -v l="$l" '$1 == l { print $2 }' "$work/startup" | median)
	printf '%-8s %11s/%-6s KiB %11s/%-6s KiB %9s ms\n' "$l" "$(m host.pss)" "$(m host.rss)" \
		"$(m builtin.pss)" "$(m builtin.rss)" "$(awk -v s="$s" 'BEGIN { printf "%.2f", s / 1000 }')"
done
