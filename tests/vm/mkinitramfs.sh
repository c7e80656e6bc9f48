#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# mkinitramfs.sh - build the busybox initramfs for the portwarden VM into the
# cache.  It holds a static busybox, guest-init.sh (/init), guest-stage2.sh
# and the 9p/virtio/overlay modules of the cached kernel with their
# dependencies (read from modinfo), decompressed, plus their load order.
# Rebuilt only when an input changed.  Prints the initramfs path on stdout.
#
# Env: PW_VM_CACHE    cache directory (default /var/cache/portwarden-vm)
#      PW_VM_BUSYBOX  static busybox to use (default: /bin/busybox)
#      PW_VM_MODULES  extra modules to load at boot (space separated)
set -euo pipefail

die() { echo "mkinitramfs: error: $*" >&2; exit 1; }
log() { echo "mkinitramfs: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${PW_VM_CACHE:-/var/cache/portwarden-vm}

# run-in-vm.sh passes the kernel it already resolved.
vmlinuz=${PW_VM_VMLINUZ:-}
[ -n "$vmlinuz" ] || vmlinuz=$("$here/fetch-kernel.sh") || die "fetch-kernel.sh failed"
[ -f "$vmlinuz" ] || die "no kernel image $vmlinuz"
kroot=${vmlinuz%/boot/*}
kver=${vmlinuz##*/vmlinuz-}
moddir=$kroot/lib/modules/$kver
[ -d "$moddir" ] || die "no module directory $moddir"

busybox=${PW_VM_BUSYBOX:-}
if [ -z "$busybox" ]; then
	for b in /bin/busybox /usr/bin/busybox; do
		[ -x "$b" ] && { busybox=$b; break; }
	done
fi
[ -n "$busybox" ] && [ -x "$busybox" ] ||
	die "busybox not found (apt-get install -y busybox-static)"
if command -v file >/dev/null && ! file -L "$busybox" | grep -q 'statically linked'; then
	die "$busybox is not statically linked (apt-get install -y busybox-static)"
fi

want="virtio_pci 9pnet_virtio 9p overlay ${PW_VM_MODULES:-}"

# Input fingerprint.  An unpacked kernel directory never changes (a new ABI
# gets a new directory), so kver + module names + scripts + busybox suffice.
sum=$( {
	echo "$kver $want"
	sha256sum "$here/mkinitramfs.sh" "$here/guest-init.sh" "$here/guest-stage2.sh" "$busybox" | cut -d' ' -f1
} | sha256sum | cut -c1-16)
out=$CACHE/initramfs-$kver.cpio.gz
stamp=$out.inputs
if [ -f "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
	echo "$out"
	exit 0
fi

# Index: module name (with '-' as '_') -> file.
declare -A modfile=()
while IFS= read -r -d '' f; do
	n=${f##*/}
	n=${n%%.ko*}
	modfile[${n//-/_}]=$f
done < <(find "$moddir/kernel" -name '*.ko*' -print0)
builtin=$(sed -n 's#.*/\([^/]*\)\.ko$#\1#p' "$moddir/modules.builtin" 2>/dev/null | tr '-' '_' || true)

moddeps() { # file -> comma separated deps
	if command -v modinfo >/dev/null; then
		modinfo -F depends "$1"
	else
		"$busybox" modinfo -F depends "$1"
	fi
}

declare -A state=()
order=()
visit() {
	local m=${1//-/_} f d
	case ${state[$m]:-} in
	done) return 0 ;;
	active) die "module dependency cycle at $m" ;;
	esac
	f=${modfile[$m]:-}
	if [ -z "$f" ]; then
		if grep -qx "$m" <<<"$builtin"; then
			state[$m]="done"
			return 0
		fi
		die "module $m not found in $moddir"
	fi
	state[$m]=active
	# Compressed modules: decompress to read modinfo reliably.
	for d in $(moddeps "$(decompressed "$m" "$f")" | tr ',' ' '); do
		visit "$d"
	done
	state[$m]="done"
	order+=("$m")
}

work=$CACHE/initramfs-build
decompressed() { # name file -> path of an uncompressed .ko under $work
	local out=$work/mods/$1.ko
	if [ ! -f "$out" ]; then
		mkdir -p "$work/mods"
		case $2 in
		*.ko) cp "$2" "$out.tmp" ;;
		*.ko.xz) xz -dc "$2" >"$out.tmp" || die "xz -d $2" ;;
		*.ko.zst) zstd -qdc "$2" >"$out.tmp" || die "zstd -d $2" ;;
		*.ko.gz) gzip -dc "$2" >"$out.tmp" || die "gzip -d $2" ;;
		*) die "unknown module format $2" ;;
		esac
		mv "$out.tmp" "$out"
	fi
	echo "$out"
}

rm -rf "$work"
mkdir -p "$work/mods"
for m in $want; do
	visit "$m"
done

log "building $out (modules: ${order[*]})"
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,mnt,newroot,lib/modules}
cp "$busybox" "$root/bin/busybox"
cp "$here/guest-init.sh" "$root/init"
cp "$here/guest-stage2.sh" "$root/stage2"
chmod 0755 "$root/init" "$root/stage2" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
# The kernel opens /dev/console for init before devtmpfs is mounted.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null ||
	log "warning: cannot mknod dev/console (not root?); early init output may be lost"
for m in "${order[@]}"; do
	mv "$work/mods/$m.ko" "$root/lib/modules/$m.ko"
done
printf '%s\n' "${order[@]}" >"$root/lib/modules/load-order"

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) |
	gzip -9n >"$out.tmp" || die "cpio/gzip failed"
mv "$out.tmp" "$out"
echo "$sum" >"$stamp"
rm -rf "$work"
echo "$out"
