#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Run every cmocka unit test binary; sum their results.
set -u
O=${1:-build}
passed=0 failed=0
for t in "$O"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1); rc=$?
	echo "$out" | grep -E '^\[  (PASSED|FAILED) \]|^\[  FAILED  \]|^\[  ERROR' | sed "s|^|$(basename "$t"): |"
	p=$(grep -Eo '^\[  PASSED  \] [0-9]+' <<<"$out" | grep -Eo '[0-9]+$' || echo 0)
	f=$(grep -Eo '^\[  FAILED  \] [0-9]+ test' <<<"$out" | grep -Eo '^[^0-9]*[0-9]+' | grep -Eo '[0-9]+$' || echo 0)
	passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
	[ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ] && { echo "FAIL $(basename "$t"): exit $rc"; failed=$((failed + 1)); }
done
echo "unit: $passed passed, $failed failed, 0 skipped"
[ $failed -eq 0 ]
