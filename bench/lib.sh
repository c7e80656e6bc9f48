# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared by the bench/*.sh scripts (sourced, not run). Needs $BIN and $tmp.
# The daemon runs with no HTTP listener and no history database: a benchmark
# must not touch the host's /var/lib/portwarden or port 9742.

# Start the daemon with its JSON lines to EVENTS (extra `run` flags after the
# first three arguments) and wait until WATCH shows PATTERN: the ready line,
# or the log's last start-up line when the lines go to /dev/null.
bench_daemon_start() {
	local events=$1 watch=$2 pattern=$3
	shift 3
	: >"$tmp/daemon.log" # no start-up line of a previous daemon
	"$BIN" run --events "$events" --quiet-existing --no-http --db none "$@" \
		>"$tmp/daemon.log" 2>&1 &
	dpid=$!
	for _ in $(seq 600); do
		grep -q "$pattern" "$watch" 2>/dev/null && return 0
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$tmp/daemon.log"
	exit 1
}

# The daemon with its lines in $tmp/events.jsonl (extra `run` flags as arguments).
bench_daemon_on() {
	: >"$tmp/events.jsonl"
	bench_daemon_start "$tmp/events.jsonl" "$tmp/events.jsonl" '"type": *"ready"' "$@"
}

bench_daemon_off() { kill "$dpid"; wait "$dpid" 2>/dev/null || true; dpid=; }

# Median of numbers on stdin, one per line.
bench_median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
