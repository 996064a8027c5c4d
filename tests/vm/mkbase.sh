#!/bin/bash
# Build the base initramfs of the cgroup v2 VM: everything that does not
# change between test runs (busybox, bash and bats, the host's tools, kernel
# modules, the init scripts). run-v2.sh caches it and appends the per-run
# payload (skiff, the rootfs, the tests) as a second archive.
#
#   mkbase.sh KERNEL_DIR OUT.cpio
#
# SKIFF_VM_MODULES   kernel modules to pack and load (default below)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$here/lib.sh"

kdir=${1:?usage: mkbase.sh KERNEL_DIR OUT.cpio}
out=${2:?usage: mkbase.sh KERNEL_DIR OUT.cpio}
modules=${SKIFF_VM_MODULES:-overlay veth bridge loop}

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/skiff-vm-base.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
stage_skeleton

# busybox-static is the fallback userland and what the init scripts run on.
busybox=$(command -v busybox) || die "busybox missing (apt-get install busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then die "$busybox is not static (install busybox-static)"; fi
cp "$busybox" "$STAGE/usr/bin/busybox"

# The host's own tools, so the tests see the same GNU userland as on the
# host: bats needs bash, and the tests may use util-linux, iproute2, procps.
# Real files come first in PATH; busybox applet links only fill the gaps
# (they are made at boot and never replace a file).
packages="bash dash coreutils grep sed findutils diffutils mawk gawk util-linux mount
  iproute2 procps psmisc libcap2-bin jq bats $(dpkg-query -W -f '${Package}\n' 'bats-*' 2>/dev/null || true)"
for pkg in $packages; do
  dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || continue
  while IFS= read -r f; do
    [ -e "$f" ] && [ ! -d "$f" ] || continue
    case $f in
    */bin/* | */sbin/* | /usr/lib/bats* | /usr/libexec/bats*) stage_path "$f" ;;
    esac
  done < <(dpkg -L "$pkg")
done
# Python for the tests' event-log helper (evq in helpers.bash): the
# interpreter and its standard library, without the parts no test uses.
if [ -x /usr/bin/python3 ]; then
  py=$(readlink -f /usr/bin/python3)
  stage_path "$py"
  ln -sf "$(basename "$py")" "$STAGE/usr/bin/python3"
  pylib=/usr/lib/$(basename "$py")
  mkdir -p "$STAGE$pylib"
  (cd "$pylib" && find . -name test -prune -o -name tests -prune -o -name idlelib -prune \
    -o -name tkinter -prune -o -name ensurepip -prune -o -name lib2to3 -prune \
    -o -name '__pycache__' -prune -o -name 'config-*' -prune -o -print |
    cpio -pdm --quiet "$STAGE$pylib")
fi
# Alternatives are not in dpkg's file lists.
for f in /usr/bin/awk /usr/bin/nawk; do [ -e "$f" ] && stage_path "$f"; done
# /bin/sh is dash, as on the host: busybox ash would run its own applets
# before searching PATH, hiding the real tools packed above.
[ -e "$STAGE/usr/bin/dash" ] && ln -sf dash "$STAGE/usr/bin/sh"

cat >"$STAGE/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$STAGE/etc/group" <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOF
printf '127.0.0.1\tlocalhost skiff-vm\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$STAGE/etc/hosts"
echo skiff-vm >"$STAGE/etc/hostname"
ln -s ../proc/self/mounts "$STAGE/etc/mtab"
for f in /etc/nsswitch.conf /etc/resolv.conf /etc/os-release; do
  [ -e "$f" ] && stage_file "$f"
done

# Kernel modules and, from modules.dep, everything they depend on. The VM's
# modprobe reads the trimmed modules.dep written here.
kver=$(ls "$kdir/lib/modules")
mdir=/lib/modules/$kver
mkdir -p "$STAGE$mdir"
awk -v want="$modules" '
  function base(path) { sub(":$", "", path); sub(".*/", "", path); sub("[.]ko.*", "", path)
                        gsub("-", "_", path); return path }
  BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) { m = w[i]; gsub("-", "_", m); need[m] = 1 } }
  { line[$1] = $0; if (base($1) in need) { found[base($1)] = 1; top[$1] = 1 } }
  END {
    for (m in need) if (!(m in found)) print "MISSING " m
    for (k in top) { print line[k]; c = split(line[k], d, " "); for (i = 2; i <= c; i++) print line[d[i] ":"] }
  }' "$kdir$mdir/modules.dep" | sort -u >"$STAGE/modules.want"
while read -r word name; do
  [ "$word" = MISSING ] || continue
  grep -qE "/${name//_/[-_]}\.ko\$" "$kdir$mdir/modules.builtin" ||
    die "kernel $kver has no module $name (SKIFF_VM_MODULES)"
done <"$STAGE/modules.want"
grep -v '^MISSING' "$STAGE/modules.want" >"$STAGE$mdir/modules.dep" || true
rm "$STAGE/modules.want"
for ko in $(cut -d: -f1 "$STAGE$mdir/modules.dep"); do
  mkdir -p "$STAGE$mdir/${ko%/*}"
  cp "$kdir$mdir/$ko" "$STAGE$mdir/$ko"
done

mkdir -p "$STAGE/skiff-vm"
install -m 0755 "$here/init" "$STAGE/init"
install -m 0755 "$here/init2" "$here/suite.sh" "$STAGE/skiff-vm/"
echo "SKIFF_VM_MODULES='$modules'" >"$STAGE/skiff-vm/modules"

stage_cpio "$out"
