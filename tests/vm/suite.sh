#!/bin/bash
# Runs inside the VM as the test lane's "job": in the test cgroup, in the
# repository, with the environment tests/tools/run-integration.sh sets up.
# Exit status 0 only if every part passed; it is also written to
# /run/skiff-vm.status for init2.
set -u
# shellcheck source=/dev/null # written by run-v2.sh into the VM
. /skiff-vm/config
export SKIFF="$SKIFF_VM_BUILD/skiff" SKIFF_ROOTFS="$SKIFF_VM_BUILD/rootfs" SKIFF_BUILD="$SKIFF_VM_BUILD"

status=0
trap 'echo "$status" >/run/skiff-vm.status' EXIT

section() { printf '\n=== %s\n' "$*"; }

accel=$(dmesg 2>/dev/null | grep -q "Hypervisor detected: KVM" && echo kvm || echo tcg)
# Emulated CPUs are several times slower: give each skiff run more time.
[ "$accel" = tcg ] && export SKIFF_TEST_DEADLINE=${SKIFF_TEST_DEADLINE:-180}
echo "skiff-vm: $(uname -r), $accel, $(nproc) CPUs, cgroup $(cut -d: -f3 /proc/self/cgroup)," \
  "controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"

if [ -n "${SKIFF_VM_COMMAND:-}" ]; then
  section "command: $SKIFF_VM_COMMAND"
  bash -c "$SKIFF_VM_COMMAND" || status=$?
  exit "$status"
fi

section "smoke: tests/vm/smoke.bats"
# shellcheck disable=SC2086 # SKIFF_VM_BATS_ARGS is a list of options
bats --print-output-on-failure ${SKIFF_VM_BATS_ARGS:-} tests/vm/smoke.bats || status=1

section "unit: test_cgroup"
if [ -x "$SKIFF_BUILD/tests/test_cgroup" ]; then
  "$SKIFF_BUILD/tests/test_cgroup" || status=1
else
  echo "(no $SKIFF_BUILD/tests/test_cgroup yet)"
fi

section "integration: tests/integration"
if compgen -G 'tests/integration/*.bats' >/dev/null; then
  # shellcheck disable=SC2086
  bats --print-output-on-failure ${SKIFF_VM_BATS_ARGS:-} tests/integration || status=1
else
  echo "(no tests/integration/*.bats yet)"
fi
exit "$status"
