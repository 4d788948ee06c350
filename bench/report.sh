#!/bin/bash
# make bench: bench/startup.sh, bench/ports.sh and bench/netstack.sh in one run, then one
# table of every figure against its row's limit (the host's loopback, a direct connection,
# unshare), with the targets of docs/performance.md. Not a test: nothing here fails on a
# figure. Loopback only.
#
#   bench/report.sh                  everything (BENCH_SECONDS per iperf3/connrate run,
#                                    5; BENCH_RUNS per start-up command, 100)
#   bench/report.sh --table FILE     only the table of the rows in FILE (what each script
#                                    prints at its end)
#
# A row is one line of FILE: ROW, VARIANT, VALUE, UNIT and "limit" for the row's reference,
# tab-separated (bench/lib.sh's row). The ratio is VALUE over the limit's: higher is better
# for throughput and rates, lower for times.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)

table() {
	awk -F'\t' '
	BEGIN {
		target["NAT child→host, MTU 65520, Gbit/s"] = "≥ 0.95x"
		target["NAT child→host, MTU 1500, Gbit/s"] = "≥ 0.85x"
		target["NAT host→child, MTU 65520, Gbit/s"] = "≥ 0.95x"
		target["NAT host→child, MTU 1500, Gbit/s"] = "≥ 0.95x"
		target["port: host→child, Gbit/s"] = "≥ 0.9x"
		target["port: child→host (iperf3 -R), Gbit/s"] = "≥ 0.9x"
		target["port: connections/s, 64 in flight"] = "≥ 0.8x"
		target["port: instance CPU per connection, µs"] = "≤ 60"
		target["out of the namespace: connections/s"] = "≥ 0.8x"
		target["out of the namespace: instance CPU per connection, µs"] = "≤ 60"
		target["start-up: true, ms"] = "≤ 1.1x"
		target["start-up: --net=builtin --copy-up=/etc true, ms"] = "≤ 1.6x"
		target["idle memory, host network, PSS KiB"] = "≤ 1024"
		target["idle memory with the NAT, PSS KiB"] = "≤ 1536"
	}
	{
		if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
		k = ++count[$1]; variant[$1, k] = $2; value[$1, k] = $3; unit[$1] = $4
		if ($5 == "limit") limit[$1] = $3
	}
	END {
		for (i = 1; i <= n; i++) {
			r = order[i]
			printf "%s%s\n", r, (r in target) ? "   (target: " target[r] " for rootlesskit-c)" : ""
			for (k = 1; k <= count[r]; k++) {
				v = value[r, k]
				ratio = ""
				if ((r in limit) && limit[r] + 0 > 0)
					ratio = sprintf("%5.2fx", v / limit[r])
				printf "  %-24s %10s %-7s %s\n", variant[r, k], v, unit[r], ratio
			}
		}
	}' "$1"
}

if [ "${1:-}" = --table ]; then
	table "$2"
	exit 0
fi
rows=$(mktemp /tmp/rk-bench-rows.XXXXXX)
trap 'rm -f "$rows"' EXIT
export RK_BENCH_ROWS=$rows
"$dir/startup.sh" "${BENCH_RUNS:-100}"
"$dir/ports.sh" "${BENCH_SECONDS:-5}"
"$dir/netstack.sh" "${BENCH_SECONDS:-5}"
echo
echo "all figures of this run, each against its row's limit:"
table "$rows"
