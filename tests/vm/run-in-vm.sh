#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# run-in-vm.sh - run a command as root inside a qemu (TCG) guest booted from
# Debian's 6.1 kernel, with the host's / shared read-only (9p) under a tmpfs
# overlay, so the working tree is visible at the same path.  The command's
# stdout+stderr are streamed to our stdout; the exit status is the command's.
#
# Usage: run-in-vm.sh [options] -- COMMAND [ARG...]
#   --timeout SECS   command timeout inside the guest (default 600)
#   --cwd DIR        working directory in the guest (default: current dir)
#   --env NAME=VAL   export a variable to the command (repeatable)
#   --outdir DIR     share host DIR read-write at the same path in the guest
#                    (for test artifacts; everything else written is lost)
#   --mem MB         guest memory (default 1024, env PW_VM_MEM)
#   --verbose        also stream the guest kernel console to stderr
#
# Exit status: the command's own exit code (0..255), or
#   125  the guest never reported an exit code: boot/setup failure, command
#        timeout, qemu failure, or a usage error of this script.  A reason is
#        printed on stderr as "run-in-vm: ...".
#
# Env: PW_VM_CACHE (default /var/cache/portwarden-vm), PW_VM_MEM,
#      PW_VM_BOOT_TIMEOUT (extra seconds allowed for boot, default 180),
#      PW_VM_CGROUP (guest cgroup2 mount point; default: same as the host),
#      PW_VM_APPEND (extra kernel command line), PW_VM_VERBOSE=1,
#      PW_VM_QEMU (default qemu-system-x86_64), PW_VM_KEEP=1 (keep run dir),
#      PW_VM_NO_PVH=1 (boot the compressed bzImage instead of the PVH vmlinux).
set -euo pipefail

HARNESS_FAIL=125
die() { echo "run-in-vm: error: $*" >&2; exit $HARNESS_FAIL; }
usage() { sed -n '/^# Usage:/,/^# Env:/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit $HARNESS_FAIL; }

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${PW_VM_CACHE:-/var/cache/portwarden-vm}
tmo=600
cwd=$PWD
mem=${PW_VM_MEM:-1024}
outdir=
verbose=${PW_VM_VERBOSE:-0}
envs=()

while [ $# -gt 0 ]; do
	case $1 in
	--timeout) [ $# -ge 2 ] || usage; tmo=$2; shift 2 ;;
	--timeout=*) tmo=${1#*=}; shift ;;
	--cwd) [ $# -ge 2 ] || usage; cwd=$2; shift 2 ;;
	--cwd=*) cwd=${1#*=}; shift ;;
	--env) [ $# -ge 2 ] || usage; envs+=("$2"); shift 2 ;;
	--env=*) envs+=("${1#*=}"); shift ;;
	--outdir) [ $# -ge 2 ] || usage; outdir=$2; shift 2 ;;
	--outdir=*) outdir=${1#*=}; shift ;;
	--mem) [ $# -ge 2 ] || usage; mem=$2; shift 2 ;;
	--mem=*) mem=${1#*=}; shift ;;
	--verbose) verbose=1; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	*) echo "run-in-vm: unknown option '$1' (did you forget '--'?)" >&2; usage ;;
	esac
done
[ $# -gt 0 ] || { echo "run-in-vm: no command given" >&2; usage; }
case $tmo in '' | *[!0-9]*) die "--timeout needs a number of seconds, got '$tmo'" ;; esac
[ "$tmo" -gt 0 ] || die "--timeout must be > 0"
case $mem in '' | *[!0-9]*) die "--mem needs a number of MiB, got '$mem'" ;; esac

[ "$(id -u)" = 0 ] || die "must run as root (the guest shares / via 9p with security_model=none)"
qemu=${PW_VM_QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null || die "$qemu not found (apt-get install -y qemu-system-x86)"

# Paths must be absolute and visible in the guest (it mounts fresh proc, sys,
# dev and run over the host's).
[ -d "$cwd" ] || die "--cwd $cwd: no such directory"
cwd=$(cd "$cwd" && pwd -P)
hidden() {
	case $1 in /proc | /proc/* | /sys | /sys/* | /dev | /dev/* | /run | /run/*) return 0 ;; esac
	return 1
}
hidden "$cwd" && die "--cwd $cwd is hidden in the guest (/proc, /sys, /dev, /run are remounted)"
if [ -n "$outdir" ]; then
	mkdir -p "$outdir" || die "cannot create --outdir $outdir"
	outdir=$(cd "$outdir" && pwd -P)
	hidden "$outdir" && die "--outdir $outdir would be hidden in the guest"
	case $outdir in *[[:space:]]*) die "--outdir must not contain white space" ;; esac
fi
for e in ${envs[@]+"${envs[@]}"}; do
	case $e in
	[A-Za-z_]*=*) n=${e%%=*}; case $n in *[!A-Za-z0-9_]*) die "bad --env name '$n'" ;; esac ;;
	*) die "--env expects NAME=VALUE, got '$e'" ;;
	esac
done

# Kernel and initramfs (cached; built on first use).
vmlinuz=$("$here/fetch-kernel.sh") || die "fetch-kernel.sh failed"
initrd=$(PW_VM_VMLINUZ=$vmlinuz "$here/mkinitramfs.sh") || die "mkinitramfs.sh failed"

# Prefer the uncompressed PVH vmlinux (fetch-kernel.sh extracts it).
kimage=$vmlinuz
pvh=${vmlinuz%/root/boot/*}/vmlinux-pvh
[ "${PW_VM_NO_PVH:-0}" != 1 ] && [ -f "$pvh" ] && kimage=$pvh

# cgroup2 mount point in the guest: the host's, so paths match.
cg=${PW_VM_CGROUP:-$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)}
cg=${cg:-/sys/fs/cgroup}

mkdir -p "$CACHE/runs" || die "cannot create $CACHE/runs"
# Failed runs keep their directory (console.log) for a day.
find "$CACHE/runs" -mindepth 1 -maxdepth 1 -name 'run.*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
run=$(mktemp -d "$CACHE/runs/run.XXXXXX") || die "mktemp in $CACHE/runs failed"
case $run in *[[:space:]]*) die "cache path must not contain white space: $run" ;; esac
hidden "$run" && die "PW_VM_CACHE $CACHE is hidden in the guest"

# Job script, run by the guest's busybox sh.  POSIX single-quote quoting.
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	echo "# generated by run-in-vm.sh"
	for e in ${envs[@]+"${envs[@]}"}; do
		echo "export ${e%%=*}=$(q "${e#*=}")"
	done
	echo "cd $(q "$cwd") || { echo 'run-in-vm: cannot cd to $cwd in the guest' >&2; exit 125; }"
	printf 'exec'
	for a in "$@"; do printf ' %s' "$(q "$a")"; done
	echo
} >"$run/job.sh"

console=$run/console.log
: >"$console"
mods=${vmlinuz%/boot/*}/lib/modules/${vmlinuz##*/vmlinuz-}
append="console=ttyS0 loglevel=4 panic=-1 pw.job=$run/job.sh pw.cg=$cg pw.timeout=$tmo pw.mods=$mods"
[ -n "$outdir" ] && append="$append pw.out=$outdir"
append="$append ${PW_VM_APPEND:-}"

# shellcheck disable=SC2054 # commas belong to qemu options
qargs=(
	-accel tcg -cpu max -smp 1 -m "$mem"
	-nodefaults -no-user-config -display none -no-reboot
	-kernel "$kimage" -initrd "$initrd" -append "$append"
	-serial "file:$console"
	-chardev stdio,id=pwout -serial chardev:pwout
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
)
[ -n "$outdir" ] &&
	qargs+=(-virtfs "local,path=$outdir,mount_tag=pwout,security_model=none,multidevs=remap")

hard=$((tmo + ${PW_VM_BOOT_TIMEOUT:-180}))
tailpid=
cleanup() {
	[ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null || true
	if [ "${PW_VM_KEEP:-0}" != 1 ] && [ "${keep_run:-0}" != 1 ]; then
		rm -rf "$run"
	fi
}
trap cleanup EXIT
if [ "$verbose" = 1 ]; then
	tail -n +1 -F "$console" 2>/dev/null | sed -u 's/^/guest-console: /' >&2 &
	tailpid=$!
fi

start=$(date +%s.%N)
timeout -k 10 "$hard" "$qemu" "${qargs[@]}" </dev/null &
qpid=$!
interrupted=0
trap 'interrupted=1; kill -TERM $qpid 2>/dev/null || true' INT TERM HUP
qrc=0
while :; do
	wait "$qpid" && qrc=0 || qrc=$?
	kill -0 "$qpid" 2>/dev/null || break
done
trap - INT TERM HUP
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
[ -n "$tailpid" ] && { sleep 0.2; kill "$tailpid" 2>/dev/null || true; tailpid=; }

clog=$(tr -d '\r' <"$console")
rc=$(printf '%s\n' "$clog" | sed -n 's/^GUEST_EXIT=\([0-9][0-9]*\)$/\1/p' | tail -n1)

# Kernel messages (loglevel <= warning) printed while the command ran.
kmsgs=$(printf '%s\n' "$clog" | sed -n '/^PW_VM_BEGIN$/,/^GUEST_\(EXIT=.*\|TIMEOUT\)$/p' |
	sed '1d;/^GUEST_/d')
if [ -n "$kmsgs" ] && [ "$verbose" != 1 ]; then
	printf '%s\n' "$kmsgs" | sed 's/^/guest-kernel: /' >&2
fi

if [ -n "$rc" ]; then
	echo "run-in-vm: command exited with $rc (VM wall time ${secs}s)" >&2
	exit "$rc"
fi

keep_run=1
if [ "$interrupted" = 1 ]; then
	echo "run-in-vm: interrupted" >&2
elif printf '%s\n' "$clog" | grep -qx GUEST_TIMEOUT; then
	echo "run-in-vm: command timed out after ${tmo}s (guest powered off)" >&2
elif [ "$qrc" = 124 ]; then
	echo "run-in-vm: VM killed after ${hard}s (timeout ${tmo}s + boot allowance); guest hung?" >&2
elif printf '%s\n' "$clog" | grep -qx GUEST_INIT_FAILED; then
	echo "run-in-vm: guest setup failed:" >&2
	printf '%s\n' "$clog" | grep 'pw-vm.*FATAL' | sed 's/^/  /' >&2
else
	echo "run-in-vm: guest never reported an exit code (qemu exit $qrc after ${secs}s)" >&2
fi
if [ "$verbose" != 1 ]; then
	echo "run-in-vm: last lines of the guest console ($console):" >&2
	printf '%s\n' "$clog" | tail -n 30 | sed 's/^/  | /' >&2
fi
exit $HARNESS_FAIL
