#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Build every libFuzzer target (tests/fuzz/fuzz_*.c) with clang and ASan+UBSan
# into ${O}-fuzz, then run each for a bounded time (PW_FUZZ_SECS, default 15)
# from its seed corpus (tests/fuzz/corpus/<name>/). A crash, leak or UBSan
# report fails the target and leaves the reproducer in ${O}-fuzz/crashes/.
# Usage: tests/fuzz/suite.sh [O]   (make fuzz: PW_FUZZ_SECS=300)
set -u
O=${1:-build}
FO=${O}-fuzz
SECS=${PW_FUZZ_SECS:-15}
cd "$(dirname "$0")/../.."
passed=0 failed=0 skipped=0
if ! command -v clang >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a \
	>/dev/null 2>&1; then
	echo "SKIP fuzz: clang or libclang_rt.fuzzer missing (Debian: libclang-rt-14-dev)"
	echo "fuzz: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
mkdir -p "$FO"
if ! make -s O="$FO" CC=clang \
	EXTRA_CFLAGS='-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' \
	fuzz-build >"$FO/build.log" 2>&1; then
	mkdir -p "$FO"
	tail -30 "$FO/build.log"
	echo "FAIL fuzz: build failed (log: $FO/build.log)"
	echo "fuzz: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
mkdir -p "$FO/crashes"
for bin in "$FO"/tests/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	seeds=tests/fuzz/corpus/${name#fuzz_}
	work="$FO/corpus/${name#fuzz_}"
	mkdir -p "$work"
	[ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null
	log="$FO/$name.log"
	# -rss_limit_mb: the machine is shared; -timeout: a hang is a failure too.
	if timeout $((SECS + 60)) "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=1024 \
		-max_len=4096 -artifact_prefix="$FO/crashes/$name-" -print_final_stats=1 \
		"$work" >"$log" 2>&1; then
		runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$')
		echo "PASS fuzz/$name: ${runs:-?} inputs in ${SECS}s, no crash"
		passed=$((passed + 1))
	else
		echo "FAIL fuzz/$name (log: $log)"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -8
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
