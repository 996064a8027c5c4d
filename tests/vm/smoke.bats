#!/usr/bin/env bats
# Smoke test of the cgroup v2 VM lane (make check-v2): the VM is the pure v2
# host it claims to be, and skiff runs in it. The real coverage is
# tests/integration/, which check-v2 runs right after this file.

setup() {
  [ -f /skiff-vm/config ] || skip "runs inside the cgroup v2 VM only (make check-v2)"
  : "${SKIFF:?SKIFF must name the skiff binary}"
}

@test "/sys/fs/cgroup is cgroup2 and no v1 hierarchy is mounted" {
  run stat -f -c %T /sys/fs/cgroup
  [ "$status" -eq 0 ]
  [ "$output" = cgroup2fs ]
  run awk '$3 == "cgroup" { print $2 }' /proc/mounts
  [ -z "$output" ]
}

@test "the root cgroup delegates cpu, memory, pids and io" {
  read -r -a enabled </sys/fs/cgroup/cgroup.subtree_control
  for c in cpu memory pids io; do
    [[ " ${enabled[*]} " == *" $c "* ]] || {
      echo "missing $c in: ${enabled[*]}"
      return 1
    }
  done
}

@test "the suite runs in a v2-only process with one unified cgroup line" {
  run cat /proc/self/cgroup
  [ "${#lines[@]}" -eq 1 ]
  [[ "${lines[0]}" == 0::/* ]]
}

@test "a child cgroup gets memory.max and pids.max files (v2 names)" {
  cg=/sys/fs/cgroup/skiff-vm-smoke.$$
  mkdir "$cg"
  [ -f "$cg/memory.max" ] && [ -f "$cg/pids.max" ] && [ -f "$cg/cpu.max" ] && [ -f "$cg/io.max" ]
  [ ! -e "$cg/memory.limit_in_bytes" ]
  rmdir "$cg"
}

@test "pivot_root works in a new mount namespace (/ is not the initramfs)" {
  run unshare --mount --propagation private sh -c \
    'mount -t tmpfs smoke /mnt && mkdir /mnt/old && cd /mnt && pivot_root . old && echo pivoted'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = pivoted ]
}

@test "overlay and veth are available" {
  grep -qw overlay /proc/filesystems
  run unshare --net sh -c 'ip link add smoke0 type veth peer name smoke1 && ip -o link show smoke1'
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "skiff --version runs inside the VM" {
  run "$SKIFF" --version
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "skiff "* ]]
}

@test "skiff validate accepts a minimal task and rejects a broken one" {
  dir=$(mktemp -d)
  cat >"$dir/good.json" <<'EOF'
{"family": "smoke", "containerDefinitions": [
  {"name": "app", "image": "busybox", "essential": true, "memory": 64, "command": ["true"]}]}
EOF
  echo '{"family": "smoke", "containerDefinitions": [{"name": "app"' >"$dir/broken.json"
  run "$SKIFF" validate "$dir/good.json"
  echo "good: $output"
  [ "$status" -eq 0 ]
  run "$SKIFF" validate "$dir/broken.json"
  echo "broken: $output"
  [ "$status" -eq 1 ]
  rm -rf "$dir"
}
