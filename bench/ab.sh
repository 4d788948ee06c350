#!/bin/bash
# A/B start-up of two builds, interleaved run by run, so that the machine's drift hits both
# alike (hyperfine runs all of one command, then all of the next). Prints the median and
# quartiles of each, in ms (bash's own fork and exec included, the same for both).
#
#   bench/ab.sh RUNS OLD NEW [ARGS...]     e.g. bench/ab.sh 200 /tmp/old/rootlesskit
#                                          ./rootlesskit --net=builtin true
# As root it runs both as $RK_TEST_USER. Not a test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
runs=$1 old=$2 new=$3
shift 3
bench_init
trap 'rm -rf "$work"' EXIT
install -m 0755 "$old" "$work/A"
install -m 0755 "$new" "$work/B"
# shellcheck disable=SC2016
as_env bash -c '
	dir=$1 runs=$2
	shift 2
	for _ in $(seq "$runs"); do
		for v in A B; do
			t0=$EPOCHREALTIME
			"$dir/$v" "$@" >/dev/null 2>&1 || true
			t1=$EPOCHREALTIME
			echo "$v $(( (${t1/./} - ${t0/./}) ))"
		done
	done' ab "$work" "$runs" "$@" |
	sort -k1,1 -k2,2n |
	awk -v old="$old" -v new="$new" '
		{ v[$1] = v[$1] " " $2 }
		END {
			for (k in v) {
				n = split(v[k], x, " ")
				printf "  %s (%s): median %.2f ms, quartiles %.2f-%.2f, %d runs\n",
					k, k == "A" ? old : new, x[int(n / 2) + 1] / 1000,
					x[int(n / 4) + 1] / 1000, x[int(3 * n / 4) + 1] / 1000, n
			}
		}' | sort
