#!/bin/bash
# Start-up time, side by side in one run: "rootlesskit true" (this build) against
# "unshare -Ur true" and, when installed, upstream's Go RootlessKit. Not a test: it prints
# figures and ratios and fails only when something cannot run.
#
#   bench/startup.sh [RUNS]        (as root it runs the commands as $RK_TEST_USER)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-200}
user=${RK_TEST_USER:-rktest}
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }

work=$(mktemp -d /tmp/rk-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
if [ "$(id -u)" = 0 ]; then chown "$user" "$work"; fi
install -m 0755 "$top/rootlesskit" "$work/rootlesskit"

cmds=("unshare -Ur true" "$work/rootlesskit true")
names=("unshare -Ur" "rootlesskit-c")
upstream=$(command -v rootlesskit 2>/dev/null || true)
if [ -n "$upstream" ] && [ "$upstream" != "$work/rootlesskit" ]; then
	cmds+=("$upstream true")
	names+=("upstream $("$upstream" --version | awk '{ print $3 }')")
fi

as_user=()
if [ "$(id -u)" = 0 ]; then
	as_user=(runuser -u "$user" --)
fi
# hyperfine runs as the user too, so that its fork+exec overhead is the same for all
"${as_user[@]}" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp TMPDIR=/tmp \
	hyperfine -N --warmup 20 --runs "$runs" --export-csv "$work/out.csv" "${cmds[@]}" >&2

echo
echo "start-up, $runs runs each, mean ± stddev:"
awk -F, -v n="${#names[@]}" -v names="$(IFS='|'; echo "${names[*]}")" '
	BEGIN { split(names, nm, "|") }
	NR > 1 { i = NR - 1; mean[i] = $2 * 1000; sd[i] = $3 * 1000
		printf "  %-22s %7.2f ms ± %.2f\n", nm[i], mean[i], sd[i] }
	END {
		printf "  rootlesskit-c / unshare -Ur: %.2fx\n", mean[2] / mean[1]
		if (n > 2) {
			printf "  upstream / unshare -Ur:      %.2fx\n", mean[3] / mean[1]
			printf "  upstream / rootlesskit-c:    %.2fx\n", mean[3] / mean[2]
		}
	}' "$work/out.csv"
