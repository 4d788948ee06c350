# bench/lib.sh: what the benchmark scripts share (sourced, not run).
#
#   bench_init            a work directory ($work; the script removes it at exit) holding
#                         this build as $work/rootlesskit, and $as_user: the prefix that runs
#                         a command as $RK_TEST_USER when the script runs as root
#   bench_table           at the end of a script run by itself: the table of its rows
#                         against their limits (bench/report.sh)
#   as_env CMD...         CMD as that user, in a clean environment
#   row ROW VARIANT VALUE UNIT [limit]
#                         one figure for bench/report.sh, appended to $RK_BENCH_ROWS when set:
#                         "limit" marks the row's reference (loopback, direct, unshare)
#   instance_ticks PID    the CPU time (clock ticks) used so far by the instance started as
#                         PID: its descendants named rootlesskit, exe (a re-executed child),
#                         slirp4netns or pasta; the benchmark's servers and clients left out
#   pss_rss PID           "PSS RSS" in KiB, summed over the same processes
#   memory CMD            "PSS RSS" in KiB of every process of an idle instance of CMD
#                         (a rootlesskit command line, run as the user with "sleep 30")
#   received              a filter: the Gbit/s iperf3's receiver line reports (its -f g)

user=${RK_TEST_USER:-rktest}
bench_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bench_init() {
	work=$(mktemp -d /tmp/rk-bench.XXXXXX)
	chmod 0755 "$work"
	install -m 0755 "$bench_top/rootlesskit" "$work/rootlesskit"
	if [ -z "${RK_BENCH_ROWS:-}" ]; then
		RK_BENCH_ROWS=$work/rows
		own_rows=1
	fi
	as_user=()
	if [ "$(id -u)" = 0 ]; then
		chown "$user" "$work"
		as_user=(runuser -u "$user" --)
	fi
}

bench_table() {
	if [ -n "${own_rows:-}" ]; then
		echo
		"$bench_top/bench/report.sh" --table "$RK_BENCH_ROWS"
	fi
}

as_env() {
	"${as_user[@]}" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp TMPDIR=/tmp "$@"
}

row() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$RK_BENCH_ROWS"
}

# descendants PID REGEX: PID's descendants whose name matches REGEX
descendants() {
	ps -e -o pid=,ppid=,comm= | awk -v root="$1" -v want="$2" '
		{ parent[$1] = $2; name[$1] = $3 }
		END { for (p in parent) { q = p; while (q in parent && q != root) q = parent[q]
			if ((q == root || p == root) && name[p] ~ want) print p } }'
}

# the instance's own processes: rootlesskit's parent, child and engine, upstream's
# slirp4netns, pasta (whose process is passt or passt.avx2)
instance_re='^(rootlesskit|exe|slirp4netns|pasta|passt)(\.avx2)?$'

instance_ticks() {
	local p s=0 t
	for p in $(descendants "$1" "$instance_re"); do
		t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || continue
		s=$((s + t))
	done
	echo "$s"
}

pss_rss() {
	local p pss=0 rss=0 a b
	for p in $(descendants "$1" "$instance_re"); do
		read -r a b < <(awk '/^Pss:/ { p = $2 } /^Rss:/ { r = $2 } END { print p + 0, r + 0 }' \
			"/proc/$p/smaps_rollup" 2>/dev/null) || continue
		pss=$((pss + a))
		rss=$((rss + b))
	done
	echo "$pss $rss"
}

memory() {
	local inst m
	# shellcheck disable=SC2086
	as_env $1 sleep 30 >/dev/null 2>&1 &
	inst=$!
	sleep 2
	m=$(pss_rss "$inst")
	kill -TERM -- $(descendants "$inst" "$instance_re") 2>/dev/null || true
	wait "$inst" 2>/dev/null || true
	echo "$m"
}

received() {
	awk '/receiver/ { print $(NF-2) }'
}
