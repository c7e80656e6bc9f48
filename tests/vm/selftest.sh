#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# selftest.sh - check the VM harness end to end: boots the 6.1 guest a few
# times and checks the kernel, mounts, BPF capability, exit-code plumbing,
# timeout handling, /tmp visibility and --outdir.  Exit 0 when all pass.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
run=$here/run-in-vm.sh
fails=0
pass() { echo "selftest: PASS: $*"; }
fail() { echo "selftest: FAIL: $*"; fails=$((fails + 1)); }

# Prepare the cache outside the timed runs.
"$here/fetch-kernel.sh" >/dev/null
"$here/mkinitramfs.sh" >/dev/null

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# 1. Environment inside the guest.  Host-side cgroup2 mount point, so paths match.
cg=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
cg=${cg:-/sys/fs/cgroup}
tmpd=$(mktemp -d /tmp/pw-vm-selftest.XXXXXX)
trap 'rm -rf "$tmpd"' EXIT
echo "visible from the host's /tmp" >"$tmpd/marker"
cat >"$tmpd/check.sh" <<CHECK
set -u
rc=0
ok() { echo "guest-check: ok: \$*"; }
bad() { echo "guest-check: BAD: \$*"; rc=1; }
r=\$(uname -r); case \$r in 6.1.*) ok "uname -r = \$r" ;; *) bad "uname -r = \$r" ;; esac
mounted() { awk -v p="\$1" -v t="\$2" '\$2 == p && \$3 == t { f = 1 } END { exit !f }' /proc/self/mounts; }
mounted /sys/fs/bpf bpf && ok "bpffs on /sys/fs/bpf" || bad "bpffs not on /sys/fs/bpf"
mounted $cg cgroup2 && ok "cgroup2 on $cg" || bad "cgroup2 not on $cg"
mounted /sys/kernel/tracing tracefs && ok "tracefs on /sys/kernel/tracing" || bad "no tracefs"
[ -r /sys/kernel/btf/vmlinux ] && ok "/sys/kernel/btf/vmlinux" || bad "no /sys/kernel/btf/vmlinux"
grep -qw kprobe_events /sys/kernel/tracing/README 2>/dev/null || [ -e /sys/kernel/tracing/kprobe_events ] &&
	ok "kprobe_events present" || bad "no kprobe_events"
if command -v bpftool >/dev/null; then
	bpftool feature probe kernel 2>/dev/null | grep -i 'program_type kprobe is available' >/dev/null &&
		ok "bpftool: program_type kprobe available" || bad "bpftool: kprobe programs unavailable"
else
	echo "guest-check: skip: bpftool not installed on the host"
fi
ip -o link show lo | grep -q 'UP' && ok "lo is up" || bad "lo is down"
[ "\$(cat $tmpd/marker)" = "visible from the host's /tmp" ] && ok "host /tmp visible" || bad "host /tmp file not visible"
[ "\$(pwd)" = "$tmpd" ] && ok "cwd = \$(pwd)" || bad "cwd = \$(pwd)"
echo scratch >"$tmpd/written-in-guest" && ok "cwd writable (overlay)" || bad "cannot write cwd"
[ "\${PW_SELFTEST_VAR-}" = "a 'quoted' \\\$value" ] && ok "--env passed" || bad "--env: got '\${PW_SELFTEST_VAR-}'"
[ "\$(id -u)" = 0 ] && ok "root" || bad "not root"
ls --version 2>/dev/null | grep -q GNU && ok "host tools (GNU ls) on PATH" || bad "ls is not the host's"
modprobe veth && ip link add pwva type veth peer name pwvb && ok "modprobe veth + veth pair" ||
	bad "cannot load veth / create a veth pair"
echo "artifact" >"$tmpd/out/artifact" && ok "wrote to --outdir" || bad "cannot write --outdir"
exit \$rc
CHECK
mkdir -p "$tmpd/out"

t=$(now)
set +e
"$run" --timeout 120 --cwd "$tmpd" --outdir "$tmpd/out" \
	--env "PW_SELFTEST_VAR=a 'quoted' \$value" -- sh ./check.sh
rc=$?
set -e
echo "selftest: environment check took $(elapsed "$t")s (boot to exit, host wall)"
[ $rc = 0 ] && pass "guest environment checks" || fail "guest environment checks (rc=$rc)"
[ ! -e "$tmpd/written-in-guest" ] && pass "guest writes stay in the overlay" ||
	fail "guest write leaked to the host"
[ "$(cat "$tmpd/out/artifact" 2>/dev/null)" = artifact ] && pass "--outdir artifact reached the host" ||
	fail "--outdir artifact missing on the host"

# 2. Exit-code plumbing.
expect() { # expected-rc description command...
	local want=$1 what=$2 t rc
	shift 2
	t=$(now)
	set +e
	"$run" --timeout 60 "$@"
	rc=$?
	set -e
	if [ "$rc" = "$want" ]; then
		pass "$what -> $rc ($(elapsed "$t")s)"
	else
		fail "$what -> $rc, expected $want"
	fi
}
expect 0 "true" -- true
expect 1 "false" -- false
expect 7 "sh -c 'exit 7'" -- sh -c 'exit 7'
expect 125 "timeout (sleep 60 with --timeout 3)" --timeout 3 -- sleep 60
expect 127 "missing command in the guest (shell's 127)" -- /nonexistent/command
# A setup failure in the guest (job script missing) must be 125, not a test result.
PW_VM_APPEND="pw.job=/nonexistent/job.sh" expect 125 "guest setup failure" -- true

if [ $fails -gt 0 ]; then
	echo "selftest: $fails check(s) FAILED"
	exit 1
fi
echo "selftest: all checks passed"
