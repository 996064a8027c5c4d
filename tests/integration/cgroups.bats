#!/usr/bin/env bats
# Cgroup limits, read on the host while the container sleeps, and enforced.

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

# start_sleeper [task_json args]: run a task whose container sleeps; sets
# CPID (its host pid). The container stops 1 s after SIGTERM.
start_sleeper() {
  task_json -c '"stopTimeout": 2' "$@" -- "$PROBE" sleep 60
  skiff_bg "$TASK"
  wait_for_line "$BG_OUT" '^sleeping=60$'
  CPID=$(container_pid probe)
}

stop_sleeper() {
  kill -TERM "$BG_PID"
  wait_bg 20
}

cgroup_v2() {
  [ -f /sys/fs/cgroup/cgroup.controllers ]
}

@test "cgroups: the container sits in a skiff cgroup in every controller" {
  start_sleeper
  local c dir
  for c in memory pids cpu; do
    dir=$(host_cgroup_dir "$CPID" $c)
    assert_contains "$dir" "/$SKIFF_CGROUP_PARENT/" "the $c cgroup"
  done
  stop_sleeper
}

@test "cgroups: container memory becomes the cgroup's memory limit (no swap on top)" {
  start_sleeper -m 64
  local dir
  dir=$(host_cgroup_dir "$CPID" memory)
  if cgroup_v2; then
    [ "$(cat "$dir/memory.max")" = $((64 * 1024 * 1024)) ]
    [ "$(cat "$dir/memory.swap.max")" = 0 ]
  else
    [ "$(cat "$dir/memory.limit_in_bytes")" = $((64 * 1024 * 1024)) ]
    if [ -f "$dir/memory.memsw.limit_in_bytes" ]; then
      [ "$(cat "$dir/memory.memsw.limit_in_bytes")" = $((64 * 1024 * 1024)) ]
    fi
  fi
  stop_sleeper
}

@test "cgroups: task-level memory limits the task's cgroup" {
  start_sleeper -m 64 -t '"memory": "128"'
  local dir
  dir=$(dirname "$(host_cgroup_dir "$CPID" memory)")
  if cgroup_v2; then
    [ "$(cat "$dir/memory.max")" = $((128 * 1024 * 1024)) ]
  else
    [ "$(cat "$dir/memory.limit_in_bytes")" = $((128 * 1024 * 1024)) ]
  fi
  stop_sleeper
}

@test "cgroups: every task has a pids limit" {
  start_sleeper
  local dir max
  dir=$(host_cgroup_dir "$CPID" pids)
  max=$(cat "$dir/pids.max")
  [[ $max =~ ^[0-9]+$ ]] || { echo "pids.max is '$max'" >&2; return 1; }
  stop_sleeper
}

@test "cgroups: container cpu units become cpu shares (weight on v2)" {
  start_sleeper -c '"cpu": 512'
  local dir
  dir=$(host_cgroup_dir "$CPID" cpu)
  if cgroup_v2; then
    [ "$(cat "$dir/cpu.weight")" = $((1 + ((512 - 2) * 9999) / 262142)) ]
  else
    [ "$(cat "$dir/cpu.shares")" = 512 ]
  fi
  stop_sleeper
}

@test "cgroups: task-level cpu is a hard quota on the task's cgroup" {
  start_sleeper -t '"cpu": "512"'
  local dir
  dir=$(dirname "$(host_cgroup_dir "$CPID" cpu)")
  if cgroup_v2; then
    local quota period
    read -r quota period <"$dir/cpu.max"
    [ "$quota" = $((period / 2)) ]
  else
    [ "$(cat "$dir/cpu.cfs_quota_us")" = $(($(cat "$dir/cpu.cfs_period_us") / 2)) ]
  fi
  stop_sleeper
}

@test "cgroups: the cgroups are removed when the task ends" {
  start_sleeper
  local dirs=() c
  for c in memory pids cpu; do
    dirs+=("$(host_cgroup_dir "$CPID" $c)")
  done
  stop_sleeper
  for c in "${dirs[@]}"; do
    [ ! -d "$c" ] || { echo "$c is still there" >&2; return 1; }
    local task_dir
    task_dir=$(dirname "$c")
    [ "$(basename "$task_dir")" = skiff ] && continue # no task level
    [ ! -d "$task_dir" ] || { echo "the task cgroup $task_dir is still there" >&2; return 1; }
  done
}

@test "cgroups: going over the memory limit is an OOM kill: 137 and OutOfMemory" {
  task_json -m 32 -- "$PROBE" alloc 256
  run --separate-stderr skiff_run "$TASK"
  assert_status 137
  assert_contains "$stderr" OutOfMemory stderr
  assert_not_contains "$output" allocated=256
}

@test "cgroups: a SIGKILL that is not an OOM kill is not reported as one" {
  task_json -m 256 -- "$PROBE" sleep 60
  skiff_bg "$TASK"
  wait_for_line "$BG_OUT" '^sleeping=60$'
  kill -KILL "$(container_pid probe)"
  wait_bg 20
  [ "$BG_STATUS" -eq 137 ]
  assert_not_contains "$(cat "$BG_ERR")" OutOfMemory stderr
}

@test "cgroups: the default pids limit stops a fork bomb with EAGAIN" {
  # Enough memory that the pids limit (4096), not the OOM killer, ends it.
  task_json -m 1024 -- "$PROBE" forkbomb 100000
  run skiff_run "$TASK"
  assert_status 1
  assert_kv fork.error EAGAIN
  local forked
  forked=$(kv forked)
  [ "$forked" -gt 1000 ] && [ "$forked" -lt 4096 ]
}

@test "cgroups: --pids-limit sets the container's pids.max" {
  task_json -- "$PROBE" forkbomb 1000
  run skiff_run --pids-limit 20 "$TASK"
  assert_status 1
  assert_kv fork.error EAGAIN
  # pid 1 (the probe) counts: 19 children fit under 20.
  assert_kv forked 19
}
