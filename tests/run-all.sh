#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `make test`: every suite, one summary. Each suite script prints
# "<suite>: N passed, M failed, K skipped" as its last line.
set -u
O=${1:-build}
cd "$(dirname "$0")/.."
total_p=0 total_f=0 total_s=0
run_suite() {
	local name=$1; shift
	echo "=== $name"
	local start=$SECONDS
	"$@" 2>&1 | tee "/tmp/pw-suite-$$.log"
	local line
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "/tmp/pw-suite-$$.log" | tail -1)
	rm -f "/tmp/pw-suite-$$.log"
	if [ -z "$line" ]; then
		echo "FAIL $name: no summary line"
		total_f=$((total_f + 1))
		return
	fi
	read -r p f s <<<"$(sed -E 's/.*[^0-9]([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' <<<" $line")"
	total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + ${s:-0}))
	echo "--- $name done in $((SECONDS - start)) s"
}
run_suite unit tests/run-unit.sh "$O"
run_suite system tests/run-system.sh "$O" "${PW_TIERS:-A B C}"
[ -x tests/deploy/run.sh ] && run_suite deploy tests/deploy/run.sh
for extra in tests/*/suite.sh; do
	[ -x "$extra" ] && run_suite "$(basename "$(dirname "$extra")")" "$extra" "$O"
done
echo
echo "all: $total_p passed, $total_f failed, $total_s skipped"
[ $total_f -eq 0 ]
