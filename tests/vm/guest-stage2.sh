#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=dash
#
# guest-stage2.sh - runs as PID 1 in the guest after switch_root, with the
# initramfs' busybox (copied to /.pw-vm/busybox).  Busybox sh only.
# Mounts the pseudo file systems, brings lo up, runs the job written by
# run-in-vm.sh with a timeout, reports GUEST_EXIT=<code> and powers off.
#
# Output protocol:
#   /dev/ttyS0  kernel console + status lines (host keeps it in console.log)
#   /dev/ttyS1  the command's stdout+stderr (host streams it to stdout)
#   Lines on both: "GUEST_EXIT=<code>" on completion, "GUEST_TIMEOUT" when
#   the command ran out of time, "GUEST_INIT_FAILED" on setup failure.

BB=/.pw-vm/busybox
# Busybox applets for the setup only; the job gets the host's usual PATH.
PATH=/.pw-vm/bin
export PATH

con=/dev/ttyS0
out=/dev/ttyS1
[ -c $out ] || out=$con

msg() { echo "pw-vm: $*" >$con; }
halt_now() {
	sync
	echo o >/proc/sysrq-trigger 2>/dev/null
	poweroff -f
	sleep 100
}
fail() {
	msg "FATAL: $*"
	echo "pw-vm: FATAL: $*" >$out
	echo "GUEST_INIT_FAILED" >$con
	halt_now
}

job='' cg=/sys/fs/cgroup outdir='' tmo=600 mods=''
for arg in $(cat /proc/cmdline); do
	case $arg in
	pw.job=*) job=${arg#pw.job=} ;;
	pw.cg=*) cg=${arg#pw.cg=} ;;
	pw.out=*) outdir=${arg#pw.out=} ;;
	pw.timeout=*) tmo=${arg#pw.timeout=} ;;
	pw.mods=*) mods=${arg#pw.mods=} ;;
	esac
done

# No module auto-loading until the modules are in place: mounting bpffs asks
# for "bpf_preload", which costs ~0.3 s under TCG for nothing.
echo >/proc/sys/kernel/modprobe

# Pseudo file systems.  Mount points that do not exist are created on the
# overlay (the host root is read-only underneath).
mnt() { # type source target [options]
	mkdir -p "$3" 2>/dev/null
	if [ -n "$4" ]; then
		mount -t "$1" -o "$4" "$2" "$3"
	else
		mount -t "$1" "$2" "$3"
	fi || fail "mount -t $1 $3"
}
mnt devpts devpts /dev/pts "gid=5,mode=620,ptmxmode=666"
mnt tmpfs shm /dev/shm "mode=1777"
mnt tmpfs run /run "mode=0755"
mnt bpf bpffs /sys/fs/bpf "mode=0700"
mnt tracefs tracefs /sys/kernel/tracing
mnt debugfs debugfs /sys/kernel/debug
mnt securityfs securityfs /sys/kernel/security
case $cg in
/sys/fs/cgroup) mnt cgroup2 cgroup2 /sys/fs/cgroup ;;
/sys/fs/cgroup/*)
	# Hybrid layout like the host: a tmpfs at /sys/fs/cgroup, cgroup2 below.
	mnt tmpfs cgroup /sys/fs/cgroup "mode=0755"
	mnt cgroup2 cgroup2 "$cg"
	;;
*) mnt cgroup2 cgroup2 "$cg" ;;
esac
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
if [ -n "$outdir" ]; then
	mkdir -p "$outdir" 2>/dev/null
	mount -t 9p -o trans=virtio,version=9p2000.L,rw,msize=512000 pwout "$outdir" ||
		fail "mount 9p tag pwout on $outdir"
fi

# Kernel modules of the guest kernel (from the cache, same path on the
# host), loadable with busybox's modprobe, which reads the text modules.dep
# (the host's kmod needs modules.dep.bin, which nothing here can generate).
kver=$(uname -r)
if [ -n "$mods" ] && [ -f "$mods/modules.dep" ]; then
	mkdir -p /lib/modules/$kver && mount --bind "$mods" /lib/modules/$kver ||
		fail "bind-mount modules on /lib/modules/$kver"
	echo /.pw-vm/bin/modprobe >/proc/sys/kernel/modprobe
	for t in modprobe insmod rmmod depmod modinfo; do
		for d in /usr/sbin /sbin; do
			if [ -e $d/$t ] || [ -L $d/$t ]; then
				ln -sf /.pw-vm/busybox $d/$t 2>/dev/null
			fi
		done
	done
fi

hostname pw-vm
ip link set lo up || fail "ip link set lo up"

[ -n "$job" ] || fail "no pw.job= on the kernel command line"
[ -r "$job" ] || fail "job script $job not readable in the guest"

# Raw output line on the command's serial port (no \n -> \r\n translation).
[ "$out" = "$con" ] || stty -F $out raw -echo -onlcr 2>/dev/null

echo "pw-vm: guest $(uname -r) up after $(cut -d' ' -f1 /proc/uptime)s, running job (timeout ${tmo}s)" >$out
echo "PW_VM_BEGIN" >$con
echo "<6>pw-vm: command start" >/dev/kmsg 2>/dev/null

# Timeout watchdog: report and power off; everything dies with the VM.
(
	sleep "$tmo"
	echo "" >$out
	echo "pw-vm: command timed out after ${tmo}s" >$out
	echo "GUEST_TIMEOUT" >$out
	echo "GUEST_TIMEOUT" >$con
	halt_now
) &
wd=$!

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root TERM=dumb LANG=C.UTF-8
export PATH HOME TERM LANG
# The job runs under the host's /bin/sh: Debian's static busybox prefers
# its own applets when exec'ing, which would shadow the host's tools.
jobsh=/bin/sh
[ -x $jobsh ] || jobsh="$BB sh"
$jobsh "$job" </dev/null >$out 2>&1
rc=$?
PATH=/.pw-vm/bin
kill $wd 2>/dev/null

echo "GUEST_EXIT=$rc" >$out
echo "GUEST_EXIT=$rc" >$con
if [ -n "$outdir" ]; then
	umount "$outdir" 2>/dev/null
fi
halt_now
