#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Run every system suite (build/tests/system/test_*) once per bind tier.
# A tier the kernel refuses is one SKIP line with the loader's reason.
# Usage: tests/run-system.sh BUILD_DIR [TIERS] [SUITE...]
set -u
O=${1:-build}
TIERS=${2:-${PW_TIERS:-A B C}}
shift $(( $# > 2 ? 2 : $# ))
export PW_BIN=${PW_BIN:-$O/portwarden}
passed=0 failed=0 skipped=0
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=($(ls "$O"/tests/system/test_* 2>/dev/null))
for tier in $TIERS; do
	if ! why=$("$PW_BIN" check --force-tier bind=$tier 2>&1) || ! grep -q "^bind *tier $tier" <<<"$why"; then
		reason=$(grep -m1 -E "any tier|$tier refused" <<<"$why" || tail -1 <<<"$why")
		echo "SKIP system [tier $tier]: bind tier $tier does not load on $(uname -r): ${reason# *}"
		skipped=$((skipped + 1))
		continue
	fi
	for t in "${suites[@]}"; do
		out=$(PW_TIER=$tier timeout 900 "$t" 2>&1)
		rc=$?
		echo "$out" | grep -E '^(PASS|FAIL|SKIP) '
		summary=$(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
		if [ -z "$summary" ]; then
			echo "FAIL $(basename "$t") [tier $tier]: no summary (exit $rc)"
			echo "$out" | tail -20
			failed=$((failed + 1))
			continue
		fi
		read -r p f s <<<"$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/' <<<"$summary")"
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
		[ $rc -ne 0 ] && [ "$f" -eq 0 ] && { echo "FAIL $(basename "$t") [tier $tier]: exit $rc"; failed=$((failed + 1)); }
	done
done
echo "system: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
