#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# fetch-kernel.sh - download and unpack Debian's current 6.1 generic kernel
# (linux-image-<abi>-amd64) into the VM cache, once.  Idempotent.
# Prints the path of the vmlinuz on stdout; progress goes to stderr.
#
# Env: PW_VM_CACHE   cache directory (default /var/cache/portwarden-vm)
#      PW_VM_KPKG    override the kernel package name (e.g. linux-image-6.1.0-57-amd64)
#      PW_VM_RESOLVE_TTL  seconds to trust the last apt answer (default 3600)
set -euo pipefail

die() { echo "fetch-kernel: error: $*" >&2; exit 1; }
log() { echo "fetch-kernel: $*" >&2; }

CACHE=${PW_VM_CACHE:-/var/cache/portwarden-vm}
mkdir -p "$CACHE" || die "cannot create cache dir $CACHE"

command -v apt-cache >/dev/null || die "apt-cache not found (Debian host required)"
command -v dpkg >/dev/null || die "dpkg not found"

# Resolve the ABI package from the meta package (never hard-code the version).
# apt-cache takes >1 s here (no pkgcache.bin), so the answer is remembered
# for PW_VM_RESOLVE_TTL seconds (default 3600; 0 = always ask apt).
pkg=${PW_VM_KPKG:-}
resolved=$CACHE/kernel-package
ttl=${PW_VM_RESOLVE_TTL:-3600}
if [ -z "$pkg" ] && [ -f "$resolved" ] && [ "$ttl" -gt 0 ] &&
	[ $(($(date +%s) - $(stat -c %Y "$resolved"))) -lt "$ttl" ]; then
	pkg=$(cat "$resolved")
fi
if [ -z "$pkg" ]; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: *\(linux-image-[0-9][^ ]*-amd64\) *$/\1/p' | head -n1) || true
	if [ -z "$pkg" ]; then
		# apt lists may be empty on a fresh host.
		log "resolving linux-image-amd64 failed; running apt-get update"
		apt-get update -qq >&2 || die "apt-get update failed"
		pkg=$(apt-cache depends linux-image-amd64 |
			sed -n 's/^ *Depends: *\(linux-image-[0-9][^ ]*-amd64\) *$/\1/p' | head -n1) || true
	fi
	[ -n "$pkg" ] || die "could not resolve the ABI package of linux-image-amd64"
	echo "$pkg" >"$resolved.tmp" && mv "$resolved.tmp" "$resolved"
fi
case $pkg in
linux-image-6.1.*) ;;
*) die "expected a 6.1 kernel package, got '$pkg'" ;;
esac

kver=${pkg#linux-image-}            # e.g. 6.1.0-57-amd64
kdir=$CACHE/kernels/$kver
stamp=$kdir/.unpacked
vmlinuz=$kdir/root/boot/vmlinuz-$kver

# Extract the uncompressed ELF vmlinux from the bzImage: qemu boots it
# directly through its PVH entry point (CONFIG_PVH), which saves the ~6-7 s
# the XZ decompressor needs under TCG.  run-in-vm.sh uses it when present.
extract_pvh() {
	local out=$kdir/vmlinux-pvh magic off dec
	[ -f "$out" ] && return 0
	for magic in xz zstd gzip; do
		case $magic in
		xz) off=$(LC_ALL=C grep -aboF $'\xfd7zXZ' "$vmlinuz" | head -n1 | cut -d: -f1); dec="xz -dc --single-stream" ;;
		zstd) off=$(LC_ALL=C grep -aboF $'\x28\xb5\x2f\xfd' "$vmlinuz" | head -n1 | cut -d: -f1); dec="zstd -dc" ;;
		gzip) off=$(LC_ALL=C grep -aboF $'\x1f\x8b\x08' "$vmlinuz" | head -n1 | cut -d: -f1); dec="gzip -dc" ;;
		esac
		[ -n "$off" ] || continue
		command -v "${dec%% *}" >/dev/null || continue
		tail -c +$((off + 1)) "$vmlinuz" | $dec >"$out.tmp" 2>/dev/null || true
		if [ "$(head -c 4 "$out.tmp" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
			if ! command -v readelf >/dev/null ||
				readelf -n "$out.tmp" | grep -q 'note type: (0x00000012)'; then
				mv "$out.tmp" "$out"
				log "extracted PVH-bootable vmlinux ($magic)"
				return 0
			fi
		fi
		rm -f "$out.tmp"
	done
	log "note: no PVH-bootable vmlinux could be extracted; booting the bzImage (slower)"
	return 0
}

# modules.dep/modules.alias for the guest's (busybox) modprobe; the host
# has no depmod, busybox has one.
make_moddep() {
	local bb
	[ -f "$kdir/root/lib/modules/$kver/modules.dep" ] && return 0
	bb=$(command -v busybox || true)
	if [ -z "$bb" ]; then
		log "note: busybox not found; no modules.dep, modprobe will not work in the guest"
		return 0
	fi
	log "generating modules.dep (busybox depmod)"
	"$bb" depmod -b "$kdir/root" "$kver" || die "busybox depmod failed"
}

if [ -f "$stamp" ] && [ -f "$vmlinuz" ]; then
	extract_pvh
	make_moddep
	echo "$vmlinuz"
	exit 0
fi

mkdir -p "$CACHE/debs"
deb=$(ls "$CACHE"/debs/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
	log "downloading $pkg"
	(cd "$CACHE/debs" && apt-get -q -o APT::Sandbox::User=root download "$pkg" >&2) ||
		die "apt-get download $pkg failed"
	deb=$(ls "$CACHE"/debs/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)
	[ -n "$deb" ] || die "download of $pkg produced no .deb in $CACHE/debs"
fi

log "unpacking $(basename "$deb") into $kdir"
rm -rf "$kdir"
mkdir -p "$kdir"
tmp=$kdir/root.tmp
dpkg -x "$deb" "$tmp" || die "dpkg -x $deb failed"
mv "$tmp" "$kdir/root"
[ -f "$vmlinuz" ] || die "package $pkg has no boot/vmlinuz-$kver"
extract_pvh
make_moddep
echo "$kver" >"$stamp"
# Record the current kernel so other scripts can find it without apt.
ln -sfn "kernels/$kver" "$CACHE/current"
# Older ABIs are dead weight (~460 MB each): drop them and their .debs.
for d in "$CACHE"/kernels/*; do
	[ "$d" = "$kdir" ] || [ ! -d "$d" ] || { log "removing old kernel $d"; rm -rf "$d"; }
done
for f in "$CACHE"/debs/*.deb; do
	[ "$f" = "$deb" ] || [ ! -f "$f" ] || rm -f "$f"
done
echo "$vmlinuz"
