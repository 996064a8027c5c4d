#!/bin/sh
# Can this host run the cgroup v2 VM lane? Exit 0 if so. Otherwise print
# one SKIP line saying why and exit 1: `make check` then goes on without it,
# but never silently.
set -u
skip() {
  echo "check-v2: SKIP ($*)"
  exit 1
}
[ "${SKIFF_SKIP_V2:-0}" = 1 ] && skip "SKIFF_SKIP_V2=1"
[ "$(uname -m)" = x86_64 ] || skip "the VM lane is x86_64 only, this is $(uname -m)"
# On a pure v2 host the plain integration run is already the v2 run.
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
  skip "this host is pure cgroup v2 already; check-integration covers v2"
fi
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || skip "qemu-system-x86 is not installed and we are not root to install it"
  sh "$(dirname "$0")/../tools/install-deps.sh" qemu-system-x86 cpio xz-utils >&2 ||
    skip "qemu-system-x86 cannot be installed with apt-get"
  command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "qemu-system-x86_64 still missing after install"
fi
exit 0
