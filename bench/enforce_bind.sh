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

. bench/lib.sh

# One measurement in a fresh netns, from inside the test cgroup.
measure() {
	unshare -n sh -c "echo \$\$ > $cg/cgroup.procs && ip link set lo up &&
		$O/bench/bind_load $1 $PORT $SECS"
}

for proto in udp tcp; do
	: >"$tmp/off" ; : >"$tmp/cap" ; : >"$tmp/enf"
	for _ in $(seq "$ROUNDS"); do
		measure $proto >>"$tmp/off"
		bench_daemon_on --cgroup "$cg"
		measure $proto >>"$tmp/cap"
		bench_daemon_off
		bench_daemon_on --cgroup "$cg" --enforce --protect "$PORT/$proto=uid:0" --deny-cross-uid --deny-shadowing
		measure $proto >>"$tmp/enf"
		bench_daemon_off
	done
	off=$(bench_median <"$tmp/off"); cap=$(bench_median <"$tmp/cap"); enf=$(bench_median <"$tmp/enf")
	echo "enforce_bind $proto: binds/s no daemon $off, capture only $cap, enforce $enf;" \
		"ratio enforce/capture $(awk -v a="$enf" -v b="$cap" 'BEGIN { printf "%.3f", a / b }')," \
		"enforce/no daemon $(awk -v a="$enf" -v b="$off" 'BEGIN { printf "%.3f", a / b }')"
done
