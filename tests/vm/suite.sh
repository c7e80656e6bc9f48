#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# suite.sh - the VM kernel matrix (issue #10): the BPF system suites inside
# Debian 12's 6.1 kernel under qemu, once per bind tier (A fexit, B cgroup,
# C kprobe, forced through PW_TIER -> --force-tier bind=X), one guest per tier.
# Run by tests/run-all.sh (`make test`) and by `make test-vm`.
#
# Usage: tests/vm/suite.sh BUILD_DIR
# Env:
#   PW_VM_TIERS        tiers to run in the guest (default "A B C")
#   PW_VM_SUITES       only these suites (names without test_, e.g. "capture loss");
#                      default: every BUILD_DIR/tests/system/test_*
#   PW_VM_SKIP_SUITES  suites not run in the guest, each reported as one SKIP
#                      (default: $default_skip below; set it empty to run all)
#   PW_VM_SUITE_TIERS  "suite:TIERS ..." runs a suite at those bind tiers only,
#                      one SKIP line per other tier (default: $default_suite_tiers)
#   PW_VM_TIMEOUT      seconds for each guest's job (default 780: with boot
#                      and the host suites, `make test` stays under 15 min in CI)
#   PW_VM_JOBS         guests booted at once, one per tier (default 2)
#   and the knobs of run-in-vm.sh (PW_VM_CACHE, PW_VM_MEM, ...).
#
# Prints every guest test line as "6.1: PASS suite/test [tier X]", then
# "vm: N passed, M failed, K skipped". Missing qemu or a kernel that cannot be
# downloaded is one SKIP with the reason, never a silent pass.
set -u
O=${1:-build}
cd "$(dirname "$0")/../.."
here=tests/vm

# Suites left to the host run by default: they test userspace logic (the
# detectors, Prometheus scraping, SQLite history) on top of the same
# captured events, and under TCG (no KVM: ~20x slower) they alone would take
# the whole 15-minute CI budget (measured on 6.1, tier A: detect 163 s).
default_skip="detect metrics history"
skip_suites=${PW_VM_SKIP_SUITES-$default_skip}
# detect_matrix measures the kernel's sharing rules (they change between
# kernels) and holds the detectors against them: run it where the exact errno
# of a failed bind is captured (fexit). ~50 s in the tier A guest, which ends
# before the tier C guest anyway (measured with 2 guests at a time: A 280 s,
# B 172 s, then C 221 s; 434 s wall), so it costs no wall time. Tier C fails
# it (findings never end: bind C names a socket by its address, its release
# by its cookie).
default_suite_tiers="detect_matrix:A"
suite_tiers=${PW_VM_SUITE_TIERS-$default_suite_tiers}
tiers=${PW_VM_TIERS:-A B C}
tmo=${PW_VM_TIMEOUT:-780}

skip_all() {
	echo "SKIP vm: $*"
	echo "vm: 0 passed, 0 failed, 1 skipped"
	exit 0
}

[ "$(id -u)" = 0 ] || skip_all "needs root (qemu shares / over 9p as root)"
command -v "${PW_VM_QEMU:-qemu-system-x86_64}" >/dev/null ||
	skip_all "qemu-system-x86_64 not installed (apt-get install qemu-system-x86 busybox-static)"
command -v busybox >/dev/null || skip_all "busybox not installed (apt-get install busybox-static)"
[ -x "$O/portwarden" ] || { echo "FAIL vm: $O/portwarden not built"; echo "vm: 0 passed, 1 failed, 0 skipped"; exit 1; }

# Fetch the kernel and build the initramfs here, so that a download failure
# is a SKIP with apt's reason rather than a failed boot.
if ! kout=$("$here/fetch-kernel.sh" 2>&1 >/dev/null); then
	skip_all "cannot fetch the 6.1 kernel: $(tail -1 <<<"$kout")"
fi
if ! iout=$("$here/mkinitramfs.sh" 2>&1 >/dev/null); then
	echo "FAIL vm: mkinitramfs.sh: $(tail -1 <<<"$iout")"
	echo "vm: 0 passed, 1 failed, 0 skipped"
	exit 1
fi

passed=0 failed=0 skipped=0
bins=()
for t in "$O"/tests/system/test_*; do
	[ -x "$t" ] || continue
	name=${t##*/test_}
	if [ -n "${PW_VM_SUITES:-}" ] && ! grep -qw -- "$name" <<<"$PW_VM_SUITES"; then
		continue
	fi
	if grep -qw -- "$name" <<<"$skip_suites"; then
		echo "SKIP vm: suite $name [tiers $tiers]: excluded by PW_VM_SKIP_SUITES (too slow under TCG)"
		skipped=$((skipped + 1))
		continue
	fi
	bins+=("$t")
done

# The suites of @tier: bins minus those PW_VM_SUITE_TIERS keeps off it.
tier_bins() {
	local tier=$1 t name st
	for t in "${bins[@]}"; do
		name=${t##*/test_}
		st=$(tr ' ' '\n' <<<"$suite_tiers" | sed -n "s/^$name://p" | tail -1)
		if [ -n "$st" ] && ! grep -q "$tier" <<<"$st"; then
			echo "SKIP vm: suite $name [tier $tier]: run at tiers $st only (PW_VM_SUITE_TIERS)" >&2
			continue
		fi
		echo "$t"
	done
}
if [ ${#bins[@]} -eq 0 ]; then
	echo "FAIL vm: no system suite selected in $O/tests/system (PW_VM_SUITES='${PW_VM_SUITES:-}')"
	echo "vm: 0 passed, 1 failed, $skipped skipped"
	exit 1
fi

# One guest per tier, PW_VM_JOBS at a time (TCG runs a guest on one host
# thread). Each guest's output is kept and printed whole, in tier order.
logdir=$(mktemp -d /tmp/pw-vm-suite.XXXXXX)
trap 'rm -rf "$logdir"' EXIT
jobs=${PW_VM_JOBS:-2}
start=$SECONDS
running=0
for tier in $tiers; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	mapfile -t tbins < <(tier_bins "$tier" 2>>"$logdir/skips")
	(
		"$here/run-in-vm.sh" --timeout "$tmo" --cwd "$PWD" --env "PW_BIN=$O/portwarden" -- \
			"$here/guest-system.sh" "$O" "$tier" "${tbins[@]}" >"$logdir/$tier.log" 2>&1
		echo $? >"$logdir/$tier.rc"
	) &
	running=$((running + 1))
done
wait
rc=0
if [ -s "$logdir/skips" ]; then
	cat "$logdir/skips"
	skipped=$((skipped + $(wc -l <"$logdir/skips")))
fi
for tier in $tiers; do
	cat "$logdir/$tier.log"
	r=$(cat "$logdir/$tier.rc" 2>/dev/null || echo 125)
	[ "$r" -ne 0 ] && rc=$r
	# A tier without its summary never finished.
	line=$(grep -E "^[0-9.]+: tier $tier: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped" "$logdir/$tier.log" | tail -1)
	if [ -z "$line" ]; then
		echo "FAIL vm: tier $tier: no summary from the guest (run-in-vm exit $r)"
		failed=$((failed + 1))
		continue
	fi
	read -r p f s <<<"$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/' <<<"$line")"
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "FAIL vm: guest job exited $rc"
	failed=$((failed + 1))
fi
echo "vm: wall time $((SECONDS - start)) s for tiers $tiers ($jobs guests at a time)"
echo "vm: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
