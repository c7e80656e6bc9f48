#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Sanitizers (#9): build ${O}-asan with ASan+UBSan (gcc), run the unit tests
# and the tier-B system suites against the ASan daemon (leak checking on), then
# run the regular daemon under valgrind from start to its ready line and
# SIGTERM: no error, no definite leak.
# PW_SANITIZE_SUITES (default "capture loss") picks the system suites, to keep
# the CI budget; "all" runs every one.
# Usage: tests/sanitize/suite.sh [O]
set -u
O=${1:-build}
AO=${O}-asan
cd "$(dirname "$0")/../.."
passed=0 failed=0 skipped=0
pass() { echo "PASS sanitize/$1"; passed=$((passed + 1)); }
fail() { echo "FAIL sanitize/$1"; failed=$((failed + 1)); }

SAN='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined'
# halt_on_error: a UBSan report fails the test that triggered it.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$PWD/tests/sanitize/lsan.supp
mkdir -p "$AO"
if make -s O="$AO" EXTRA_CFLAGS="$SAN" EXTRA_LDFLAGS="$SAN" all tests-build \
	>"$AO/build.log" 2>&1; then
	pass "build ($AO)"
else
	tail -20 "$AO/build.log"
	fail "build ($AO): see $AO/build.log"
	echo "sanitize: $passed passed, $failed failed, $skipped skipped"
	exit 1
fi

# Unit tests: every binary must exit 0 with no sanitizer report.
out=$(tests/run-unit.sh "$AO" 2>&1)
if [ $? -eq 0 ] && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error' <<<"$out"; then
	pass "unit under ASan+UBSan ($(tail -1 <<<"$out"))"
else
	grep -E 'FAIL|ERROR|runtime error|SUMMARY' <<<"$out" | head -20
	fail "unit under ASan+UBSan"
fi

# System suites, tier B, against the ASan daemon. The test programs are the
# regular build's (the code under test runs in the daemon; the tests' own
# JSON bookkeeping is not worth a leak report). The daemon's stderr goes to
# the harness's log, kept and scanned for sanitizer reports.
[ -d "$O/tests/system" ] || make -s O="$O" tests-build >/dev/null 2>&1
suites=()
if [ "${PW_SANITIZE_SUITES:-capture loss}" = all ]; then
	suites=("$O"/tests/system/test_*)
else
	for s in ${PW_SANITIZE_SUITES:-capture loss}; do
		[ -x "$O/tests/system/test_$s" ] && suites+=("$O/tests/system/test_$s")
	done
fi
if [ ${#suites[@]} -eq 0 ]; then
	echo "SKIP sanitize/system: no system suite built"
	skipped=$((skipped + 1))
else
	export PW_KEEP_LOGS=1
	before=$(ls /tmp/pw-test-*-daemon.log 2>/dev/null)
	out=$(PW_BIN="$AO/portwarden" tests/run-system.sh "$O" B "${suites[@]}" 2>&1)
	rc=$?
	logs=$(comm -13 <(echo "$before" | sort) <(ls /tmp/pw-test-*-daemon.log 2>/dev/null | sort))
	reports=$(cat $logs /dev/null 2>/dev/null | grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' | head -5)
	rm -f $logs $(sed 's/-daemon\.log/-events.jsonl/' <<<"$logs")
	if [ $rc -eq 0 ] && [ -z "$reports" ] && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error' <<<"$out"; then
		pass "system tier B under ASan+UBSan: $(tail -1 <<<"$out")"
	else
		grep -E '^FAIL|ERROR|runtime error' <<<"$out" | head -20
		[ -n "$reports" ] && echo "daemon reports: $reports"
		fail "system tier B under ASan+UBSan"
	fi
fi

# valgrind: the regular build's daemon, start to ready, then SIGTERM.
if ! command -v valgrind >/dev/null; then
	echo "SKIP sanitize/valgrind: valgrind not installed (Debian: valgrind)"
	skipped=$((skipped + 1))
elif [ ! -x "$O/portwarden" ]; then
	echo "SKIP sanitize/valgrind: $O/portwarden not built"
	skipped=$((skipped + 1))
else
	tmp=$(mktemp -d /tmp/pw-valgrind.XXXXXX)
	valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
		--suppressions=tests/sanitize/valgrind.supp --log-file="$tmp/vg.log" \
		"$O/portwarden" run --events "$tmp/events.jsonl" --quiet-existing --no-http \
		--db none >"$tmp/out.log" 2>&1 &
	vpid=$!
	for _ in $(seq 240); do
		grep -q '"type": *"ready"' "$tmp/events.jsonl" 2>/dev/null && break
		kill -0 $vpid 2>/dev/null || break
		sleep 0.5
	done
	ready=$(grep -c '"type": *"ready"' "$tmp/events.jsonl" 2>/dev/null)
	kill -TERM $vpid 2>/dev/null
	wait $vpid
	rc=$?
	if [ "${ready:-0}" -ge 1 ] && [ $rc -eq 0 ] && grep -q 'ERROR SUMMARY: 0 errors' "$tmp/vg.log"; then
		pass "valgrind daemon start+stop: $(grep -Eo 'definitely lost: [0-9,]+ bytes' "$tmp/vg.log"), 0 errors"
	else
		grep -E 'ERROR SUMMARY|definitely lost|Invalid|uninitialised' "$tmp/vg.log" | head -10
		tail -5 "$tmp/out.log"
		fail "valgrind daemon start+stop (ready=${ready:-0} exit=$rc)"
	fi
	rm -rf "$tmp"
fi
echo "sanitize: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
