#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Issue #7 benchmark: bind()+close() per second on a protected port, in a test
# cgroup, without the daemon, with the daemon capturing only, and with the
# daemon enforcing (--protect PORT=uid:0 --deny-cross-uid --deny-shadowing,
# so every bind runs the policy lookup, the holder lock and the release).
# Rounds alternate off / capture / enforce so drift on a shared machine hits
# all alike; prints the medians and the ratios.
# Usage: bench/enforce_bind.sh [BUILD_DIR] [ROUNDS] [SECS]   (root)
set -eu
O=${1:-build}
ROUNDS=${2:-${PW_BENCH_ROUNDS:-3}}
SECS=${3:-${PW_BENCH_SECS:-2}}
BIN=${PW_BIN:-$O/portwarden}
mkdir -p "$O/bench"
gcc -O2 -Wall -o "$O/bench/bind_load" bench/bind_load.c
root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$root" ] || { echo "enforce_bind: SKIP (no cgroup v2)"; exit 0; }
cg="$root/pw-bench-enforce-$$"
mkdir "$cg"
tmp=$(mktemp -d /tmp/pw-bench-enf.XXXXXX)
dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null
	wait 2>/dev/null
	rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
PORT=$((20000 + $$ % 20000))

daemon_on() {
	: >"$tmp/events.jsonl"
	"$BIN" run --cgroup "$cg" --events "$tmp/events.jsonl" --quiet-existing --no-http \
		--db none "$@" >"$tmp/daemon.log" 2>&1 &
	dpid=$!
	for _ in $(seq 600); do
		grep -q '"type": *"ready"' "$tmp/events.jsonl" 2>/dev/null && break
		sleep 0.05
	done
	grep -q '"type": *"ready"' "$tmp/events.jsonl" || { cat "$tmp/daemon.log"; exit 1; }
}
daemon_off() { kill "$dpid"; wait "$dpid" 2>/dev/null || true; dpid=; }

# One measurement in a fresh netns, from inside the test cgroup.
measure() {
	unshare -n sh -c "echo \$\$ > $cg/cgroup.procs && ip link set lo up &&
		$O/bench/bind_load $1 $PORT $SECS"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for proto in udp tcp; do
	: >"$tmp/off" ; : >"$tmp/cap" ; : >"$tmp/enf"
	for _ in $(seq "$ROUNDS"); do
		measure $proto >>"$tmp/off"
		daemon_on
		measure $proto >>"$tmp/cap"
		daemon_off
		daemon_on --enforce --protect "$PORT/$proto=uid:0" --deny-cross-uid --deny-shadowing
		measure $proto >>"$tmp/enf"
		daemon_off
	done
	off=$(median <"$tmp/off"); cap=$(median <"$tmp/cap"); enf=$(median <"$tmp/enf")
	echo "enforce_bind $proto: binds/s no daemon $off, capture only $cap, enforce $enf;" \
		"ratio enforce/capture $(awk -v a="$enf" -v b="$cap" 'BEGIN { printf "%.3f", a / b }')," \
		"enforce/no daemon $(awk -v a="$enf" -v b="$off" 'BEGIN { printf "%.3f", a / b }')"
done
