#!/bin/bash
# Start-up time, side by side in one run: "rootlesskit true" and "rootlesskit --net=builtin
# --copy-up=/etc true" (this build) against "unshare --map-auto --map-root-user true",
# which does the same id-mapping work through newuidmap and newgidmap (the limit), and,
# when installed, upstream's Go RootlessKit (with --net=slirp4netns for the second row).
# Not a test: it prints figures and ratios and fails only when something cannot run.
#
#   bench/startup.sh [RUNS]        (as root it runs the commands as $RK_TEST_USER)
#
# RK_BASELINE=PATH adds another build as "baseline", measured in the same run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
runs=${1:-200}
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
bench_init
trap 'rm -rf "$work"' EXIT

limit="unshare --map-auto --map-root-user true"
# ROW|NAME|COMMAND
cmds=("true|unshare|$limit" "true|rootlesskit-c|$work/rootlesskit true"
	"builtin|unshare|$limit"
	"builtin|rootlesskit-c|$work/rootlesskit --net=builtin --copy-up=/etc true")
if [ -n "${RK_BASELINE:-}" ]; then
	install -m 0755 "$RK_BASELINE" "$work/baseline"
	cmds+=("true|baseline|$work/baseline true"
		"builtin|baseline|$work/baseline --net=builtin --copy-up=/etc true")
fi
if [ "${BENCH_PEERS:-1}" != 0 ] && [ -x /usr/bin/rootlesskit ]; then
	cmds+=("true|upstream|/usr/bin/rootlesskit true")
	command -v slirp4netns >/dev/null &&
		cmds+=("builtin|upstream-slirp4netns|/usr/bin/rootlesskit --net=slirp4netns --copy-up=/etc true")
fi

# hyperfine runs as the user too, so that its fork+exec overhead is the same for all; the
# limit is measured once, listed twice for the rows
unique=()
declare -A seen
for c in "${cmds[@]}"; do
	cmd=${c#*|*|}
	[ -n "${seen[$cmd]:-}" ] || unique+=("$cmd")
	seen[$cmd]=1
done
as_env hyperfine -N --warmup 20 --runs "$runs" --export-csv "$work/out.csv" "${unique[@]}" >&2

for c in "${cmds[@]}"; do
	IFS='|' read -r r name cmd <<<"$c"
	ms=$(awk -F, -v cmd="$cmd" 'NR > 1 && $1 == cmd { printf "%.2f", $2 * 1000 }' "$work/out.csv")
	lim=
	[ "$name" = unshare ] && lim=limit
	if [ "$r" = true ]; then
		row "start-up: true, ms" "$name" "$ms" ms $lim
	else
		row "start-up: --net=builtin --copy-up=/etc true, ms" "$name" "$ms" ms $lim
	fi
done
bench_table
