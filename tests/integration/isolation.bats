#!/usr/bin/env bats
# Namespaces, init, /proc and /dev as the container sees them.

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

@test "isolation: the container is pid 1 of its own pid namespace" {
  task_json -- "$PROBE" pid ppid
  run skiff_run "$TASK"
  assert_status 0
  assert_kv pid 1
  assert_kv ppid 0
}

@test "isolation: with initProcessEnabled the task is pid 2 under skiff's init" {
  task_json -c '"linuxParameters": { "initProcessEnabled": true }' -- "$PROBE" pid ppid
  run skiff_run "$TASK"
  assert_status 0
  assert_kv pid 2
  assert_kv ppid 1
}

@test "isolation: with initProcessEnabled pid 1 reaps orphaned children" {
  task_json -c '"linuxParameters": { "initProcessEnabled": true }' -- "$PROBE" zombies 3
  run skiff_run "$TASK"
  assert_status 0
  assert_kv zombies 0
}

@test "isolation: without an init, orphans stay zombies under the task (pid 1)" {
  # The counterpart of the test above: it shows the probe really counts.
  task_json -- "$PROBE" zombies 3
  run skiff_run "$TASK"
  assert_status 0
  assert_kv zombies 3
}

@test "isolation: initProcessEnabled passes the task's exit code through" {
  task_json -c '"linuxParameters": { "initProcessEnabled": true }' -- "$PROBE" exit 7
  run skiff_run "$TASK"
  assert_status 7
}

@test "isolation: initProcessEnabled passes a signal death through as 128+n" {
  # As pid 2 the probe can kill itself (pid 1 could not).
  task_json -c '"linuxParameters": { "initProcessEnabled": true }' -- "$PROBE" kill-self USR1
  run skiff_run "$TASK"
  assert_status 138
}

@test "isolation: cgroup, ipc, mnt, net, pid and uts namespaces are new; user is the host's" {
  task_json -- "$PROBE" ns
  run skiff_run "$TASK"
  assert_status 0
  local host
  host=$(host_probe ns)
  local ns
  for ns in cgroup ipc mnt net pid uts; do
    [ -n "$(kv "ns.$ns")" ] || { echo "no ns.$ns in output" >&2; return 1; }
    if [ "$(kv "ns.$ns")" = "$(kv "ns.$ns" "$host")" ]; then
      echo "the $ns namespace is the host's" >&2
      return 1
    fi
  done
  assert_kv ns.user "$(kv ns.user "$host")"
}

@test "isolation: the hostname differs from the host's by default" {
  task_json -- "$PROBE" hostname
  run skiff_run "$TASK"
  assert_status 0
  local name
  name=$(kv hostname)
  [ -n "$name" ]
  [ "$name" != "$(hostname)" ]
}

@test "isolation: the container's hostname field sets the hostname" {
  # ECS refuses hostname in awsvpc mode.
  task_json -N none -c '"hostname": "probe-host"' -- "$PROBE" hostname
  run skiff_run "$TASK"
  assert_status 0
  assert_kv hostname probe-host
  [ "$(hostname)" != probe-host ]
}

@test "isolation: the network namespace has only lo, and it is up" {
  task_json -- "$PROBE" net
  run skiff_run "$TASK"
  assert_status 0
  assert_kv ifaces lo
  assert_kv iface.lo up
}

@test "isolation: networkMode host shares the host's network namespace" {
  task_json -N host -- "$PROBE" ns net
  run skiff_run "$TASK"
  assert_status 0
  local host
  host=$(host_probe ns net)
  assert_kv ns.net "$(kv ns.net "$host")"
  assert_kv ifaces "$(kv ifaces "$host")"
  # Only the network is shared.
  [ "$(kv ns.mnt)" != "$(kv ns.mnt "$host")" ]
  [ "$(kv ns.pid)" != "$(kv ns.pid "$host")" ]
}

@test "isolation: the cgroup namespace is rooted at the container's cgroup" {
  task_json -- "$PROBE" cgroup
  run skiff_run "$TASK"
  assert_status 0
  if [ -d /sys/fs/cgroup/memory ]; then
    assert_kv cgroup.memory /
    assert_kv cgroup.pids /
  else
    assert_kv cgroup.unified /
  fi
}

@test "isolation: /proc is the container's own: it lists only its processes" {
  task_json -- "$PROBE" ls /proc
  run skiff_run "$TASK"
  assert_status 0
  local pids
  pids=$(printf '%s\n' "$output" | grep -cE '^[0-9]+$')
  [ "$pids" -eq 1 ] || { echo "expected 1 pid in /proc, got $pids" >&2; return 1; }
}

@test "isolation: /proc/sys is read-only and /proc is nosuid,nodev,noexec" {
  task_json -- "$PROBE" write /proc/sys/kernel/domainname changed stat /proc/sys stat /proc/self
  run skiff_run "$TASK"
  assert_kv write EROFS
  [ "$(printf '%s\n' "$output" | grep -c '^statfs.readonly=1')" -ge 1 ]
  # The second stat (/proc/self) is the proc mount itself.
  local proc_flags
  proc_flags=$(printf '%s\n' "$output" | grep -E '^statfs\.(nosuid|nodev|noexec)=' | tail -n3 | tr '\n' ' ')
  [ "$proc_flags" = "statfs.nosuid=1 statfs.nodev=1 statfs.noexec=1 " ] ||
    { echo "proc flags: $proc_flags" >&2; return 1; }
}

@test "isolation: masked /proc files read empty (timer_list, keys, kcore)" {
  [ -e /proc/timer_list ] || skip "no /proc/timer_list on this kernel"
  task_json -- "$PROBE" read /proc/timer_list
  run skiff_run "$TASK"
  assert_status 0
  [ -z "$output" ] || { echo "/proc/timer_list is readable: ${output:0:200}" >&2; return 1; }
  task_json -- "$PROBE" read /proc/keys
  run skiff_run "$TASK"
  assert_status 0
  [ -z "$output" ]
  # No kcore on some kernels; where it exists it must be masked too.
  task_json -- "$PROBE" read /proc/kcore
  run skiff_run "$TASK"
  if [ -e /proc/kcore ]; then
    assert_status 0
    [ -z "$output" ]
  else
    assert_kv read ENOENT
  fi
}

@test "isolation: /sys is read-only" {
  task_json -- "$PROBE" stat /sys
  run skiff_run "$TASK"
  assert_status 0
  assert_kv statfs.type sysfs
  assert_kv statfs.readonly 1
}

@test "isolation: /dev is a small tmpfs with only the standard nodes" {
  task_json -- "$PROBE" stat /dev ls /dev
  run skiff_run "$TASK"
  assert_status 0
  assert_kv statfs.type tmpfs
  local node
  for node in null zero full random urandom tty; do
    printf '%s\n' "$output" | grep -qx "$node" || { echo "/dev/$node missing" >&2; return 1; }
  done
  for node in kmsg fuse loop0 tty0 autofs cpu_dma_latency; do
    if printf '%s\n' "$output" | grep -qx "$node"; then
      echo "/dev/$node is exposed" >&2
      return 1
    fi
  done
}

@test "isolation: /dev/null is the real character device 1:3" {
  task_json -- "$PROBE" stat /dev/null write /dev/null discard
  run skiff_run "$TASK"
  assert_status 0
  assert_kv stat.type chr
  assert_kv stat.rdev 1:3
  assert_kv write OK
}

@test "isolation: the task inherits no descriptor but 0, 1 and 2" {
  task_json -- "$PROBE" fds
  run skiff_run "$TASK"
  assert_status 0
  assert_kv fds 0,1,2
}
