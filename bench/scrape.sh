#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Issue #5: scrape latency of /metrics with a ledger of 50k sockets and 1k
# reuseport groups (bench/scrape.c: render time, and GET over loopback through
# the daemon's own HTTP endpoint). No root needed, no BPF.
# Usage: bench/scrape.sh [BUILD_DIR]   (PW_BENCH_SOCKETS, PW_BENCH_GROUPS)
set -eu
O=${1:-build}
make -s O="$O" "$O/libpw.a" >/dev/null
mkdir -p "$O/bench"
cflags=$(pkg-config --cflags libbpf libmicrohttpd sqlite3 jansson)
libs=$(pkg-config --libs libbpf libmicrohttpd sqlite3 jansson)
gcc -O2 -g -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -I"$O" $cflags bench/scrape.c "$O/libpw.a" \
	-o "$O/bench/scrape" $libs -lelf -lz -lpthread -lm
"$O/bench/scrape" "${PW_BENCH_SOCKETS:-50000}" "${PW_BENCH_GROUPS:-1000}" 50
