#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=dash
#
# guest-init.sh - stage 1 /init of the portwarden VM initramfs (busybox sh,
# no bashisms).  Loads the 9p/virtio/overlay modules, mounts the host's root
# (9p, read-only) with a tmpfs overlay on top and switch_roots into it,
# running guest-stage2.sh with the initramfs' own busybox.
#
# Kernel command line parameters (set by run-in-vm.sh):
#   pw.job=PATH   job script on the host (visible at the same path in the guest)
#   pw.cg=PATH    where to mount cgroup2 (e.g. /sys/fs/cgroup/unified)
#   pw.out=PATH   optional host directory shared read-write (tag pwout)
#   pw.timeout=N  command timeout in seconds
#   pw.msize=N    9p msize

B=/bin/busybox
PATH=/bin
export PATH
$B mkdir -p /proc /sys /dev /mnt/lower /mnt/rw /newroot
$B --install -s /bin

fail() {
	echo "pw-vm-init: FATAL: $*" >/dev/console
	echo "GUEST_INIT_FAILED" >/dev/console
	sync
	echo o >/proc/sysrq-trigger 2>/dev/null
	poweroff -f
	sleep 100
}

mount -t proc proc /proc || fail "mount proc"
mount -t sysfs sysfs /sys || fail "mount sysfs"
mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs"

# Modules, in dependency order (written by mkinitramfs.sh).
while read -r m; do
	[ -n "$m" ] || continue
	insmod "/lib/modules/$m.ko" || fail "insmod $m"
done </lib/modules/load-order

msize=512000
for arg in $(cat /proc/cmdline); do
	case $arg in
	pw.msize=*) msize=${arg#pw.msize=} ;;
	esac
done

# The virtio-9p device may take a moment to be bound by virtio_pci.
i=0
while ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=$msize,cache=loose \
	hostroot /mnt/lower 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "cannot mount 9p tag hostroot (is -virtfs ...mount_tag=hostroot given?)"
	sleep 0.1
done
mount -t tmpfs -o mode=0755 pwrw /mnt/rw || fail "mount tmpfs for overlay"
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work \
	overlay /newroot || fail "mount overlay"

# Private tmpfs for the stage-2 tools, so nothing shadows the host's tools
# and no 9p round trips are needed to create them.
mkdir -p /newroot/.pw-vm || fail "mkdir /.pw-vm on overlay"
mount -t tmpfs -o mode=0700 pwvm /newroot/.pw-vm || fail "mount tmpfs on /.pw-vm"
mkdir -p /newroot/.pw-vm/bin
cp /bin/busybox /newroot/.pw-vm/busybox || fail "copy busybox"
cp /stage2 /newroot/.pw-vm/stage2 || fail "copy stage2"
for a in sh mount umount mkdir ln cat cut hostname ip stty sleep kill sync \
	poweroff uname modprobe insmod rmmod depmod modinfo; do
	ln -s /.pw-vm/busybox /newroot/.pw-vm/bin/$a
done

for d in dev proc sys; do
	mount --move /$d /newroot/$d || fail "move /$d"
done
# shellcheck disable=SC2093 # fail only runs if switch_root could not exec
exec switch_root /newroot /.pw-vm/busybox sh /.pw-vm/stage2
fail "switch_root failed"
