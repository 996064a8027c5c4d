#!/bin/bash
# Fetch Debian's kernel into the VM cache once: download the package (no
# install, no bootloader), unpack it, generate modules.dep and extract an
# uncompressed vmlinux for a fast PVH boot.
#
#   fetch-kernel.sh CACHE_DIR     prints the kernel directory on stdout
#
# SKIFF_VM_KERNEL_PKG=linux-image-6.1.0-NN-amd64 pins the exact package;
# SKIFF_VM_KERNEL_META (default linux-image-amd64) is the package whose
# dependency names the current kernel; SKIFF_VM_REFRESH=1 asks apt again even
# when a kernel is already cached (Debian drops old ABI packages on updates).
set -euo pipefail

cache=${1:?usage: fetch-kernel.sh CACHE_DIR}
meta=${SKIFF_VM_KERNEL_META:-linux-image-amd64}
say() { echo "vm: $*" >&2; }
die() {
  say "error: $*"
  exit 125
}

mkdir -p "$cache/kernel"
cache=$(cd "$cache" && pwd)
# Parallel make jobs (or engineers) sharing one cache wait for each other.
exec 9>"$cache/kernel/.lock"
flock 9

newest_cached() {
  local d
  for d in "$cache"/kernel/linux-image-*; do
    if [ -f "$d/.complete" ]; then echo "${d##*/}"; fi
  done | sort -V | tail -n 1
}
resolve_pkg() {
  apt-cache depends "$meta" 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ { print $2; exit }' || true
}

pkg=${SKIFF_VM_KERNEL_PKG:-}
if [ -z "$pkg" ] && [ "${SKIFF_VM_REFRESH:-0}" != 1 ]; then
  pkg=$(newest_cached)
fi
if [ -z "$pkg" ]; then
  pkg=$(resolve_pkg)
  if [ -z "$pkg" ]; then
    # A fresh machine has empty apt lists.
    say "apt does not know $meta yet; running apt-get update"
    apt-get update -qq >&2 || true
    pkg=$(resolve_pkg)
  fi
  [ -n "$pkg" ] || die "cannot resolve the kernel package behind $meta (set SKIFF_VM_KERNEL_PKG)"
fi

kdir=$cache/kernel/$pkg
if [ -f "$kdir/.complete" ]; then
  echo "$kdir"
  exit 0
fi

# The bzImage carries the ELF vmlinux compressed (XZ for the generic flavour,
# LZ4 for cloud). Decompressing it once here saves ~3 s of emulated
# decompression at every boot under TCG.
extract_vmlinux() {
  local bzimage=$1 out=$2 tool magic off
  for tool in xz lz4 gzip zstd; do
    command -v "$tool" >/dev/null || continue
    case $tool in
    xz) magic=$'\xfd7zXZ' ;;
    lz4) magic=$'\x02\x21\x4c\x18' ;;
    gzip) magic=$'\x1f\x8b\x08' ;;
    zstd) magic=$'\x28\xb5\x2f\xfd' ;;
    esac
    for off in $(LC_ALL=C grep -abo "$magic" "$bzimage" | cut -d: -f1); do
      tail -c +$((off + 1)) "$bzimage" | "$tool" -dc 2>/dev/null >"$out" || true
      [ "$(head -c 4 "$out")" = $'\x7fELF' ] && return 0
    done
  done
  rm -f "$out"
  return 1
}

say "fetching $pkg into $cache/kernel (once; later runs reuse it)"
tmp=$(mktemp -d "$cache/kernel/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The _apt sandbox user may not be allowed to write into our build tree.
(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) ||
  die "apt-get download $pkg failed"
dpkg-deb -x "$tmp"/*.deb "$tmp/x"
kver=$(ls "$tmp/x/lib/modules")
# Drop hardware drivers a VM test lane never loads (~300 of ~430 MB): keep
# filesystems, networking, crypto, libraries, and the block, char, virtio,
# md and virtual network drivers.
(
  cd "$tmp/x/lib/modules/$kver/kernel"
  rm -rf sound drivers/net/{wireless,ethernet,usb,can,wwan}
  for d in drivers/*; do
    case ${d#drivers/} in block | char | virtio | md | net) ;; *) rm -rf "$d" ;; esac
  done
)
# modules.dep is made at install time, not shipped; busybox's depmod works on
# a foreign tree, so kmod is not needed.
busybox depmod -b "$tmp/x" "$kver" || die "depmod for $kver failed"
extract_vmlinux "$(ls "$tmp"/x/boot/vmlinuz-*)" "$tmp/x/vmlinux" ||
  say "note: could not extract vmlinux (xz missing?); booting the bzImage (slower)"
rm -rf "$kdir"
mv "$tmp/x" "$kdir"
touch "$kdir/.complete"
echo "$kdir"
