#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# guest-system.sh - run inside the VM by tests/vm/suite.sh: `portwarden check`,
# then tests/run-system.sh once per bind tier, over the selected suites.
# Every line is prefixed with the kernel's major.minor ("6.1: ") so a CI log
# that interleaves host and guest runs says which kernel said what.
#
# Usage: guest-system.sh BUILD_DIR "TIERS" SUITE_BIN...
set -u
O=$1
TIERS=$2
shift 2
k=$(uname -r | cut -d. -f1,2)
export PW_BIN=${PW_BIN:-$O/portwarden}

# One line per tier with its summary, so the host can tell a tier that ran
# from one that never finished.
{
	echo "kernel $(uname -r): portwarden check"
	"$PW_BIN" check 2>&1 | sed 's/^/  /'
	for tier in $TIERS; do
		start=$SECONDS
		p=0 f=0 s=0
		# One suite at a time, to show what each costs under TCG.
		for t in "$@"; do
			t0=$SECONDS
			out=$(tests/run-system.sh "$O" "$tier" "$t" 2>&1)
			grep -v '^system: ' <<<"$out"
			sum=$(grep -E '^system: [0-9]+ passed' <<<"$out" | tail -1)
			if [ -z "$sum" ]; then
				echo "FAIL ${t##*/test_} [tier $tier]: no summary"
				f=$((f + 1))
				continue
			fi
			read -r a b c <<<"$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/' <<<"$sum")"
			p=$((p + a)) f=$((f + b)) s=$((s + c))
			echo "suite ${t##*/test_} [tier $tier]: $a passed, $b failed, $c skipped in $((SECONDS - t0)) s"
		done
		echo "tier $tier: $p passed, $f failed, $s skipped"
		echo "tier $tier done in $((SECONDS - start)) s"
	done
} | sed -u "s/^/$k: /"
