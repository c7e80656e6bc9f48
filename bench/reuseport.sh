#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Issue #4 benchmark: the packet rate into a 4-member UDP reuseport group and
# the accept rate of a 4-member TCP reuseport group, without and with the
# portwarden daemon attached, alternated (off on off on ...) in one run so
# drift on a shared machine hits both sides alike. Prints the median ratio.
# Usage: bench/reuseport.sh [BUILD_DIR] [ROUNDS] [SECS]   (root)
set -eu
O=${1:-build}
ROUNDS=${2:-${PW_BENCH_ROUNDS:-3}}
SECS=${3:-${PW_BENCH_SECS:-2}}
BIN=${PW_BIN:-$O/portwarden}
mkdir -p "$O/bench"
gcc -O2 -Wall -o "$O/bench/rp_load" bench/rp_load.c
tmp=$(mktemp -d /tmp/pw-bench-rp.XXXXXX)
dpid=
cleanup() { [ -n "$dpid" ] && kill "$dpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

. bench/lib.sh

# One measurement: both workloads in a fresh private netns.
measure() {
	unshare -n sh -c "ip link set lo up && $O/bench/rp_load udp $SECS && $O/bench/rp_load tcp $SECS"
}

# Per-packet cost of the hot-path programs themselves, independent of noise:
# the kernel's BPF run-time statistics (restored afterwards).
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
trap 'sysctl -qw kernel.bpf_stats_enabled=$stats_was; cleanup' EXIT
prog_cost() {
	bpftool -j prog show | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name", "").startswith(("tp_btf_sock_rec", "tp_btf_sk_data_", "fexit_reuseport", "kretprobe_reus")) and p.get("run_cnt"):
        print("  %s: %d runs, %.0f ns/run" % (p["name"], p["run_cnt"], p["run_time_ns"] / p["run_cnt"]))'
}

declare -a u_off u_on t_off t_on
for r in $(seq "$ROUNDS"); do
	read -r _ u _ t <<<"$(measure | tr '\n' ' ')"; u_off+=("$u"); t_off+=("$t")
	bench_daemon_on
	read -r _ u _ t <<<"$(measure | tr '\n' ' ')"; u_on+=("$u"); t_on+=("$t")
	prog_cost
	tier=$(grep -o '"reuseport": *"[A-C-]"' "$tmp/events.jsonl" | head -1 | grep -o '[A-C-]"$' | tr -d '"')
	bench_daemon_off
	printf 'round %d: udp %8s -> %8s pkt/s   tcp %7s -> %7s conn/s   (reuseport tier %s)\n' \
		"$r" "${u_off[-1]}" "${u_on[-1]}" "${t_off[-1]}" "${t_on[-1]}" "$tier"
done
python3 - "${u_off[*]}" "${u_on[*]}" "${t_off[*]}" "${t_on[*]}" <<'PY'
import statistics, sys
uo, un, to, tn = ([float(x) for x in a.split()] for a in sys.argv[1:5])
ur = statistics.median(b / a for a, b in zip(uo, un))
tr = statistics.median(b / a for a, b in zip(to, tn))
print(f"udp reuseport group: {statistics.median(uo):.0f} pkt/s off, {statistics.median(un):.0f} on, ratio {ur:.3f} (median of rounds)")
print(f"tcp reuseport group: {statistics.median(to):.0f} conn/s off, {statistics.median(tn):.0f} on, ratio {tr:.3f} (median of rounds)")
print(f"bench reuseport: udp {100 * (1 - ur):+.1f}% loss, tcp {100 * (1 - tr):+.1f}% loss (target <= 2%)")
PY
