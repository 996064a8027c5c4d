#!/bin/bash
# make check-v2: boot a throw-away QEMU VM whose only cgroup hierarchy is
# cgroup v2, run tests/vm/smoke.bats, the cgroup unit test and the bats
# integration suite in it, stream their output here and exit with their
# status.
#
#   run-v2.sh BUILD_DIR          (from the repository root)
#
# Knobs (environment, all optional):
#   SKIFF_VM_CACHE=BUILD/vm      kernel and base initramfs cache (~250 MB)
#   SKIFF_VM_TIMEOUT=2400        seconds before the VM is killed (exit 124)
#   SKIFF_VM_MEM=1536 SKIFF_VM_SMP=2   guest memory (MiB) and vCPUs
#   SKIFF_VM_CGROUP=/ci.scope    cgroup the suite runs in ("/" = the root)
#   SKIFF_VM_CONTROLLERS="cpu cpuset io memory pids"  enabled at the root
#   SKIFF_VM_MODULES="overlay veth bridge loop"       loaded at boot
#   SKIFF_VM_BATS_ARGS=          extra bats options, e.g. "--filter memory"
#   SKIFF_VM_COMMAND=            run this shell command instead of the suite
#   SKIFF_VM_PATHS=              more host files or directories to copy in (same
#                                path; ELF files bring their libraries)
#   SKIFF_VM_ACCEL=auto          kvm, tcg or auto (KVM when /dev/kvm works)
#   SKIFF_VM_VERBOSE=0           1 = kernel console on stderr while running
#   SKIFF_VM_KERNEL_PKG, SKIFF_VM_REFRESH   see fetch-kernel.sh
#   SKIFF_TEST_*                 passed into the VM for the integration suite
#
# Exit status: the suite's; 124 on timeout; 125 if the VM never reported one
# (boot failure, kernel panic: the console's tail is printed); 141 if our
# stdout went away; 130 if interrupted.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$here/lib.sh"

build=$(cd "${1:?usage: run-v2.sh BUILD_DIR}" && pwd)
repo=$(pwd)
cache=${SKIFF_VM_CACHE:-$build/vm}
timeout_s=${SKIFF_VM_TIMEOUT:-2400}
mem=${SKIFF_VM_MEM:-1536}
smp=${SKIFF_VM_SMP:-2}
accel=${SKIFF_VM_ACCEL:-auto}
verbose=${SKIFF_VM_VERBOSE:-0}
export SKIFF_VM_MODULES=${SKIFF_VM_MODULES:-overlay veth bridge loop}
t0=$(date +%s%N)
ms() { echo $((($(date +%s%N) - t0) / 1000000)); }

[ -x "$build/skiff" ] || die "$build/skiff is missing (make BUILD=... first)"
[ -d "$build/rootfs" ] || die "$build/rootfs is missing (make BUILD=... rootfs)"
[ "$(uname -m)" = x86_64 ] || die "the VM lane is x86_64 only"
sh "$repo/tests/tools/install-deps.sh" qemu-system-x86 cpio xz-utils busybox-static bats dash >&2 ||
  die "cannot install the VM's host packages"
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# ---- kernel and base initramfs: built once, reused while their inputs hold
kdir=$("$here/fetch-kernel.sh" "$cache")
base=$cache/base.cpio
key=$(
  {
    echo "${kdir##*/} $SKIFF_VM_MODULES"
    cat "$here/mkbase.sh" "$here/lib.sh" "$here/init" "$here/init2" "$here/suite.sh"
    dpkg-query -W 'bash' 'coreutils' 'util-linux' 'iproute2' 'bats*' 'busybox-static' 2>/dev/null
  } | sha256sum | cut -c1-16
)
if [ ! -f "$base" ] || [ "$(cat "$cache/base.key" 2>/dev/null)" != "$key" ]; then
  say "building the base initramfs (cached in $cache)"
  "$here/mkbase.sh" "$kdir" "$base.tmp"
  mv "$base.tmp" "$base"
  echo "$key" >"$cache/base.key"
fi

# ---- per-run payload: skiff, its libraries, the rootfs, the tests
run=$(mktemp -d "$cache/run.XXXXXX")
qpid=
cleanup() {
  [ -n "$qpid" ] && kill -TERM "$qpid" 2>/dev/null
  rm -rf "$run"
}
trap cleanup EXIT
STAGE=$run/payload
stage_skeleton
stage_path_as "$build/skiff" /skiff-build/skiff
stage_path_as "$build/rootfs" /skiff-build/rootfs
[ -x "$build/tests/test_cgroup" ] && stage_path_as "$build/tests/test_cgroup" /skiff-build/tests/test_cgroup
for p in tests docs VERSION; do [ -e "$repo/$p" ] && stage_path_as "$repo/$p" "/skiff-src/$p"; done
for p in ${SKIFF_VM_PATHS:-}; do stage_path "$p"; done
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; } # quote for sh
mkdir -p "$STAGE/skiff-vm"
{
  echo "SKIFF_VM_REPO=/skiff-src"
  echo "SKIFF_VM_BUILD=/skiff-build"
  echo "SKIFF_VM_CGROUP=$(q "${SKIFF_VM_CGROUP:-/ci.scope}")"
  echo "SKIFF_VM_CONTROLLERS=$(q "${SKIFF_VM_CONTROLLERS:-cpu cpuset io memory pids}")"
  echo "SKIFF_VM_BATS_ARGS=$(q "${SKIFF_VM_BATS_ARGS:-}")"
  echo "SKIFF_VM_COMMAND=$(q "${SKIFF_VM_COMMAND:-}")"
  # The integration suite's own knobs (SKIFF_TEST_DEADLINE, ...) pass through.
  while IFS='=' read -r name _; do
    [ -n "$name" ] && echo "export $name=$(q "${!name}")"
  done < <(compgen -e | grep '^SKIFF_TEST_' || true)
} >"$STAGE/skiff-vm/config"
stage_cpio "$run/payload.cpio"
# The kernel unpacks concatenated archives in order; later files win.
cat "$base" "$run/payload.cpio" >"$run/initrd.cpio"
rm -rf "$STAGE" "$run/payload.cpio"
say "initramfs $(($(stat -c %s "$run/initrd.cpio") >> 20)) MiB ready after $(ms) ms"

# ---- boot
kernel=$(ls "$kdir"/boot/vmlinuz-*)
# PVH entry of the uncompressed vmlinux: no emulated decompression.
[ -f "$kdir/vmlinux" ] && kernel=$kdir/vmlinux

# KVM only if a guest really boots with it: on nested hosts /dev/kvm can
# exist and open while QEMU aborts on an MSR or the vCPU never runs. The
# probe boots the kernel without an initramfs up to its "no root" panic
# (about a second with KVM); its verdict is kept until the host reboots.
kvm_boots() {
  local log=$run/kvm-probe.log verdict=$cache/kvm.verdict boot pid
  boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
  if [ -f "$verdict" ] && [ "$(cut -d' ' -f1 "$verdict")" = "$boot" ]; then
    [ "$(cut -d' ' -f2 "$verdict")" = yes ]
    return
  fi
  : >"$log"
  qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot -nic none \
    -machine pc -accel kvm -cpu host -m 256 -kernel "$kernel" \
    -append "console=ttyS0 panic=-1" -serial "file:$log" </dev/null >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 80); do
    grep -q 'Kernel panic' "$log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if grep -q 'Linux version' "$log"; then echo "$boot yes" >"$verdict"; else echo "$boot no" >"$verdict"; fi
  [ "$(cut -d' ' -f2 "$verdict")" = yes ]
}
# Otherwise TCG, pure emulation; its "-cpu max" has RDRAND, so the guest RNG
# is ready at boot instead of stalling the first getrandom() for a second.
accel_opts=(-accel tcg -cpu max)
if [ "$accel" = kvm ] || { [ "$accel" = auto ] && [ -w /dev/kvm ] && kvm_boots 2>/dev/null; }; then
  accel_opts=(-accel kvm -cpu host)
elif [ "$accel" = auto ] && [ -e /dev/kvm ]; then
  say "/dev/kvm is there but a KVM guest does not boot here; using TCG (pure emulation)"
fi
# panic=-1 with -no-reboot: a dead init ends QEMU at once. cryptomgr.notests
# saves ~0.3 s under TCG. cgroup_no_v1=all: nothing can fall back to v1.
append="console=ttyS0 panic=-1 cryptomgr.notests cgroup_no_v1=all"
[ "$verbose" = 1 ] || append+=" quiet"

console=$cache/console.log # the last run's kernel console, kept for debugging
: >"$console"
mkfifo "$run/out"
say "booting ${kdir##*/} (console: $console)"
if [ "$verbose" = 1 ]; then
  tail -n +1 -f "$console" >&2 &
  tail_pid=$!
fi
timeout -k 5 "$timeout_s" qemu-system-x86_64 \
  -nodefaults -no-user-config -display none -no-reboot -nic none \
  -machine pc "${accel_opts[@]}" -m "$mem" -smp "$smp" \
  -kernel "$kernel" -initrd "$run/initrd.cpio" -append "$append" \
  -serial "file:$console" -serial "file:$run/out" </dev/null &
qpid=$!
trap 'kill -TERM $qpid 2>/dev/null; wait $qpid; exit 130' INT TERM HUP

# Copy the test output through, keep the status line, count bats results.
# If our stdout is gone (| head), stop the VM: it would block on ttyS1.
(
  set +e
  trap '' PIPE # a failed printf, not a silent death, when stdout is gone
  passed=0 failed=0 skipped=0 status=
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
    @@skiff-vm-status=*@@)
      status=${line#@@skiff-vm-status=}
      status=${status%@@}
      continue
      ;;
    "ok "*" # skip"*) skipped=$((skipped + 1)) ;;
    "ok "*) passed=$((passed + 1)) ;;
    "not ok "*) failed=$((failed + 1)) ;;
    esac
    printf '%s\n' "$line" || {
      touch "$run/epipe"
      kill -TERM "$qpid" 2>/dev/null
      break
    }
  done
  echo "${status:-none} $passed $failed $skipped" >"$run/result"
) <"$run/out" &
reader=$!
qrc=0
wait "$qpid" || qrc=$?
qpid=
trap - INT TERM HUP
# If QEMU died before opening the FIFO, the reader still waits in open(): a
# read-write open of our own lets it through to EOF.
exec 7<>"$run/out"
exec 7>&-
wait "$reader" || true
if [ -n "${tail_pid:-}" ]; then kill "$tail_pid" 2>/dev/null || true; fi

status=none
[ -f "$run/result" ] && read -r status passed failed skipped <"$run/result"
if [ -e "$run/epipe" ]; then
  say "stdout was closed before the suite finished; stopped the VM"
  exit 141
fi
if [ "${status:-none}" = none ]; then
  if [ "$qrc" = 124 ]; then say "timed out after ${timeout_s}s"; else say "the VM reported no status (qemu exit $qrc)"; fi
  say "--- last lines of the VM console ($console; SKIFF_VM_VERBOSE=1 shows all) ---"
  tail -n 40 "$console" >&2
  [ "$qrc" = 124 ] && exit 124
  exit 125
fi
say "script start to result: $(ms) ms; suite exit status $status"
echo "check-v2: $passed passed, $failed failed, $skipped skipped"
exit "$status"
