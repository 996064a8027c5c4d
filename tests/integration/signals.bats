#!/usr/bin/env bats
# Stopping: signals to skiff, stopTimeout, SIGKILL of skiff itself.

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

@test "signals: SIGTERM to skiff stops the container with SIGTERM; skiff exits 143" {
  task_json -- "$PROBE" sig-wait
  skiff_bg "$TASK"
  wait_for_line "$BG_OUT" '^waiting='
  kill -TERM "$BG_PID"
  wait_bg 20
  [ "$BG_STATUS" -eq 143 ] || { echo "exit status $BG_STATUS" >&2; return 1; }
  grep -qx 'signal=SIGTERM' "$BG_OUT"
}

@test "signals: SIGINT to skiff stops the container with SIGTERM; skiff exits 130" {
  task_json -- "$PROBE" sig-wait
  skiff_bg "$TASK"
  wait_for_line "$BG_OUT" '^waiting='
  kill -INT "$BG_PID"
  wait_bg 20
  [ "$BG_STATUS" -eq 130 ] || { echo "exit status $BG_STATUS" >&2; return 1; }
  # The container gets the stop signal, not the user's SIGINT.
  grep -qx 'signal=SIGTERM' "$BG_OUT"
}

@test "signals: a container that ignores SIGTERM is killed after stopTimeout" {
  task_json -c '"stopTimeout": 2' -- "$PROBE" ignore-term 60
  skiff_bg "$TASK"
  wait_for_line "$BG_OUT" '^sleeping=60$'
  local start=$SECONDS
  kill -TERM "$BG_PID"
  wait_bg 20
  local took=$((SECONDS - start))
  [ "$BG_STATUS" -eq 143 ] || { echo "exit status $BG_STATUS" >&2; return 1; }
  [ $took -ge 1 ] && [ $took -le 8 ] || { echo "stop took ${took}s, stopTimeout is 2s" >&2; return 1; }
}

@test "signals: the stop does not wait for stopTimeout when the container exits at once" {
  task_json -c '"stopTimeout": 20' -- "$PROBE" sig-wait
  skiff_bg "$TASK"
  wait_for_line "$BG_OUT" '^waiting='
  local start=$SECONDS
  kill -TERM "$BG_PID"
  wait_bg 30
  [ $((SECONDS - start)) -lt 10 ]
}

@test "signals: every process of the container is killed, not just the main one" {
  # A background child that ignores SIGTERM: whichever way skiff ends it
  # (pid namespace teardown or a kill of the whole cgroup), nothing survives.
  task_json -c '"stopTimeout": 2, "linuxParameters": { "initProcessEnabled": true }' \
    -- /bin/sh -c "$PROBE ignore-term 120 & exec $PROBE sig-wait"
  skiff_bg "$TASK"
  wait_for_line "$BG_OUT" '^waiting='
  wait_for_line "$BG_OUT" '^sleeping=120$'
  kill -TERM "$BG_PID"
  wait_bg 20
  [ -z "$(marked_pids)" ] || { echo "left running: $(marked_pids)" >&2; return 1; }
}

@test "signals: initProcessEnabled forwards the stop signal to the task" {
  task_json -c '"linuxParameters": { "initProcessEnabled": true }' -- "$PROBE" sig-wait
  skiff_bg "$TASK"
  wait_for_line "$BG_OUT" '^waiting=2$'
  kill -TERM "$BG_PID"
  wait_bg 20
  [ "$BG_STATUS" -eq 143 ]
  grep -qx 'signal=SIGTERM' "$BG_OUT"
}

@test "signals: SIGKILL of skiff takes its container down; the next run cleans up" {
  task_json -- "$PROBE" sleep 120
  skiff_bg "$TASK"
  wait_for_line "$BG_OUT" '^sleeping=120$'
  local cpid
  cpid=$(container_pid probe)
  kill -KILL "$BG_PID"
  wait_bg 10
  # The container dies with skiff (death signal of the supervisor).
  local tries=50
  while kill -0 "$cpid" 2>/dev/null && [ $tries -gt 0 ]; do
    sleep 0.1
    tries=$((tries - 1))
  done
  ! kill -0 "$cpid" 2>/dev/null || { echo "container pid $cpid survived skiff's SIGKILL" >&2; return 1; }
  # What the dead skiff left (task directory, overlay mounts, cgroups) goes
  # at the next run with the same root.
  task_json -- "$PROBE" pid
  run skiff_run "$TASK"
  assert_status 0
  assert_host_clean 2
}

@test "signals: SIGHUP to skiff also stops the task" {
  task_json -- "$PROBE" sig-wait
  skiff_bg "$TASK"
  wait_for_line "$BG_OUT" '^waiting='
  kill -HUP "$BG_PID"
  wait_bg 20
  [ "$BG_STATUS" -ne 0 ]
  grep -qx 'signal=SIGTERM' "$BG_OUT"
}
