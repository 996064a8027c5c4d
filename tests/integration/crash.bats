#!/usr/bin/env bats
# Crash safety beyond detached.bats: the exact exit code survives the
# monitor's death when skiff's init is pid 1 (initProcessEnabled), a start
# is never lost nor made twice when the supervisor dies right after the
# clone (SKIFF_TEST_CRASH_AFTER_CLONE), gc of `.<id>.new` directories, and
# `wait` after `stop`.

load helpers

setup() {
  common_setup
  VOL=$BATS_TEST_TMPDIR/vol
  mkdir -p "$VOL"
}
teardown() {
  local id
  for id in $(ls "$ROOT/tasks" 2>/dev/null); do
    "$SKIFF" --root "$ROOT" rm -f "$id" >/dev/null 2>&1 || true
  done
  common_teardown
}

# jq-less JSON field: jf JSON PYTHON-EXPR (d is the parsed object).
jf() {
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# The pid of the task's monitor or supervisor (skiff-init, forked from the
# supervisor, has the same command line).
task_proc() {
  local pid
  for pid in $(pgrep -f -- "--root $ROOT $1 $2"); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = skiff-init ] && continue
    echo "$pid"
    return 0
  done
}

state() {
  jf "$(skiff inspect "$1")" "$2"
}

wait_until() {
  local tries=150
  while ! eval "$1"; do
    tries=$((tries - 1))
    [ $tries -gt 0 ] || { echo "wait_until: '$1' never became true" >&2; return 1; }
    sleep 0.1
  done
}

# One container with $VOL on /vol; INIT=true adds initProcessEnabled.
# vol_task [-c 'MEMBERS'] [--] SCRIPT
vol_task() {
  local extra=""
  [ "$1" = -c ] && { extra=", $2"; shift 2; }
  [ "$1" = -- ] && shift
  local init=""
  [ "${INIT:-false}" = true ] && init=', "linuxParameters": { "initProcessEnabled": true }'
  task_json -t "\"volumes\": [ { \"name\": \"v\", \"host\": { \"sourcePath\": \"$VOL\" } } ]" \
    -c "\"mountPoints\": [ { \"sourceVolume\": \"v\", \"containerPath\": \"/vol\" } ]$init$extra" \
    -- /bin/sh -c "$1"
}

# Kill the task's monitor (its supervisor dies with it) and wait until
# neither runs: the containers are now nobody's children but the host's.
kill_monitor() {
  local id=$1 mon
  mon=$(task_proc __monitor "$id")
  [ -n "$mon" ]
  kill -KILL "$mon"
  wait_until '[ -z "$(task_proc __monitor '"$id"')" ] && [ -z "$(task_proc __supervise '"$id"')" ]'
}

WAIT_GO='while [ ! -e /vol/go ]; do sleep 0.1; done'

@test "init: monitor killed, container exits 7 unobserved: wait says 7 (init's record)" {
  INIT=true vol_task -- "$WAIT_GO; exit 7"
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  kill_monitor "$id"
  [ -n "$(container_pid sh)" ]
  touch "$VOL/go"
  # Its status goes to the host's init; nothing of skiff runs.
  wait_until '[ -z "$(marked_pids)" ]'
  run skiff wait "$id"
  assert_status 7
  [ "$output" = 7 ]
  run -0 skiff inspect "$id"
  [ "$(jf "$output" 'd["exitCode"]')" = 7 ]
  [ "$(jf "$output" 'd["containers"][0]["exitCode"]')" = 7 ]
  [ "$(jf "$output" 'd["containers"][0]["reason"]')" = None ]
  run -0 skiff events --format json "$id"
  [ "$(grep -c '"event":"exit"' <<<"$output")" -eq 1 ]
  run -0 skiff rm "$id"
}

@test "init: monitor killed, task re-adopted while running, exits 7 later: wait says 7" {
  INIT=true vol_task -- "$WAIT_GO; exit 7"
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  kill_monitor "$id"
  # Any command re-adopts: a new monitor + supervisor, which are not the
  # container's parents.
  run -0 skiff ps
  wait_until '[ -n "$(task_proc __supervise '"$id"')" ]'
  wait_until 'skiff events --format json '"$id"' | grep -q "\"event\":\"adopted\""'
  touch "$VOL/go"
  run skiff wait "$id"
  assert_status 7
  [ "$(state "$id" 'd["containers"][0]["exitCode"]')" = 7 ]
  run -0 skiff rm "$id"
}

@test "init: the restart policy applies to the recovered exit, once" {
  INIT=true vol_task -c '"dockerLabels": { "skiff.restart": "on-failure", "skiff.restart.delay": "0", "skiff.restart.jitter": "0", "skiff.restart.maxAttempts": "3" }' \
    -- "echo run >> /vol/runs; if [ \"\$(wc -l < /vol/runs)\" = 1 ]; then $WAIT_GO; exit 7; fi; exit 0"
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  kill_monitor "$id"
  touch "$VOL/go"
  wait_until '[ -z "$(marked_pids)" ]'
  run skiff wait "$id"
  assert_status 0
  [ "$(wc -l <"$VOL/runs")" -eq 2 ]
  [ "$(state "$id" 'd["containers"][0]["restartCount"]')" = 1 ]
  run -0 skiff events --format json "$id"
  [ "$(grep -c '"event":"exit"' <<<"$output")" -eq 2 ]
  [ "$(grep '"event":"exit"' <<<"$output" | grep -c '"exitCode":7')" -eq 1 ]
  [ "$(grep -c '"decision":"restart"' <<<"$output")" -eq 1 ]
  run -0 skiff rm "$id"
}

@test "without init: the same exit stays unknown (255, exitCode null)" {
  vol_task -- "$WAIT_GO; exit 7"
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  kill_monitor "$id"
  touch "$VOL/go"
  wait_until '[ -z "$(marked_pids)" ]'
  run skiff wait "$id"
  assert_status 255
  [ "$output" = unknown ]
  run -0 skiff inspect "$id"
  [ "$(jf "$output" 'd["exitCode"]')" = None ]
  [ "$(jf "$output" 'd["containers"][0]["exitCode"]')" = None ]
  assert_contains "$(jf "$output" 'd["containers"][0]["reason"]')" "ExitCodeUnknown"
  run -0 skiff rm "$id"
}

@test "init: a task killed by a signal while unobserved: 128+n" {
  INIT=true vol_task -- "$WAIT_GO; kill -USR1 \$\$; sleep 5"
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  kill_monitor "$id"
  touch "$VOL/go"
  wait_until '[ -z "$(marked_pids)" ]'
  run skiff wait "$id"
  assert_status 138
  [ "$(state "$id" 'd["containers"][0]["exitCode"]')" = 138 ]
  run -0 skiff rm "$id"
}

@test "init: a record of an earlier start is never taken for a later one" {
  # First start exits 3 (restarted by policy); the second is killed with
  # its monitor (SIGKILL of init: no record of its own).
  INIT=true vol_task -c '"dockerLabels": { "skiff.restart": "on-failure", "skiff.restart.delay": "0", "skiff.restart.jitter": "0", "skiff.restart.maxAttempts": "3" }' \
    -- 'echo run >> /vol/runs; [ "$(wc -l < /vol/runs)" -gt 1 ] || exit 3; sleep 60'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(wc -l < "$VOL/runs" 2>/dev/null)" = 2 ]'
  wait_until '[ "$(state $id "d[\"containers\"][0][\"pid\"] is not None")" = True ]'
  # The first start's "exited 3" was in the same file: never for this one.
  init=$(state "$id" 'd["containers"][0]["pid"]')
  kill_monitor "$id"
  kill -KILL "$init"
  wait_until '[ -z "$(marked_pids)" ]'
  grep -q "skiff-init pid $init " "$ROOT/tasks/$id/containers/app/init-exit"
  run skiff wait "$id"
  assert_status 255
  [ "$output" = unknown ]
  [ "$(state "$id" 'd["containers"][0]["exitCode"]')" = None ]
  run -0 skiff rm "$id"
}

@test "init: a stale init-exit of another start is refused" {
  INIT=true vol_task -- "$WAIT_GO; exit 9"
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  kill_monitor "$id"
  init=$(state "$id" 'd["containers"][0]["pid"]')
  f=$ROOT/tasks/$id/containers/app/init-exit
  kill -KILL "$init"
  wait_until '[ -z "$(marked_pids)" ]'
  # What an earlier start (another pid) would have left: never used.
  python3 - "$f" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.write(b"skiff-init pid 1 start 12345\n".ljust(64, b"\0") + b"exited 3\n")
PY
  run skiff wait "$id"
  assert_status 255
  run -0 skiff rm "$id"
}

@test "init: the status file is out of the task's reach" {
  INIT=true vol_task -- 'ls -l /proc/$$/fd > /vol/self; for f in /proc/1/fd/*; do cat "$f" </dev/null >/dev/null 2>&1 && echo "$f" >> /vol/readable; done; ls /proc/1/fd > /vol/pid1; exit 0'
  run -0 skiff run -d "$TASK"
  id=$output
  run skiff wait "$id"
  assert_status 0
  # The task holds nothing but its stdio.
  run -0 cat "$VOL/self"
  assert_not_contains "$output" init-exit
  assert_not_contains "$output" "$ROOT/tasks/$id/containers/app/start"
  # init keeps stdio and the status file only, none of them readable.
  [ ! -e "$VOL/readable" ]
  [ "$(wc -l <"$VOL/pid1")" -eq 4 ]
  run -0 skiff rm "$id"
}

@test "crash right after the clone: the start is adopted, never made twice" {
  vol_task -- "echo start >> /vol/starts; $WAIT_GO; exit 5"
  SKIFF_TEST_CRASH_AFTER_CLONE=1 run -0 skiff run -d "$TASK"
  id=$output
  wait_until 'skiff events --format json '"$id"' | grep -q "\"event\":\"adopted\""'
  # Time for a (wrong) second start to show.
  sleep 1
  touch "$VOL/go"
  run skiff wait "$id"
  assert_status 5
  [ "$(wc -l <"$VOL/starts")" -eq 1 ]
  run -0 skiff events --format json "$id"
  [ "$(grep -c '"event":"started"' <<<"$output")" -eq 1 ]
  assert_contains "$output" '"recovered":true'
  [ "$(grep -c '"event":"exit"' <<<"$output")" -eq 1 ]
  run -0 skiff rm "$id"
}

@test "crash right after the clone of a container that exits at once: its code, one start" {
  INIT=true vol_task -- "echo start >> /vol/starts; exit 6"
  SKIFF_TEST_CRASH_AFTER_CLONE=1 run -0 skiff run -d "$TASK"
  id=$output
  run skiff wait "$id"
  assert_status 6
  [ "$(wc -l <"$VOL/starts")" -eq 1 ]
  run -0 skiff events --format json "$id"
  [ "$(grep -c '"event":"started"' <<<"$output")" -eq 1 ]
  run -0 skiff rm "$id"
}

@test "gc removes an abandoned .<id>.new directory, never one being created" {
  local tasks=$ROOT/tasks
  mkdir -p "$tasks/.0123456789ab.new/containers" "$tasks/.0123456789ac.new" "$tasks/.0123456789ad.new"
  touch "$tasks/.0123456789ab.new/lock" "$tasks/.0123456789ad.new/lock"
  # Old and unlocked: abandoned. Old but locked: its creator is alive.
  touch -d '-2 min' "$tasks/.0123456789ab.new" "$tasks/.0123456789ad.new"
  flock -o "$tasks/.0123456789ad.new/lock" sleep 30 &
  local holder=$!
  BG_PIDS+=("$holder")
  wait_until '[ -n "$(pgrep -P '"$holder"')" ]'
  run -0 skiff gc
  [ ! -e "$tasks/.0123456789ab.new" ]
  # Young: being created right now.
  [ -d "$tasks/.0123456789ac.new" ]
  [ -d "$tasks/.0123456789ad.new" ]
  kill "$holder"
  wait "$holder" 2>/dev/null || true
  run -0 skiff gc
  [ ! -e "$tasks/.0123456789ad.new" ]
  rm -rf "$tasks/.0123456789ac.new"
}

@test "wait after stop: the container's own code (137 after stopTimeout's SIGKILL)" {
  task_json -c '"stopTimeout": 1' -- /bin/sh -c 'trap "" TERM; while :; do sleep 0.1; done'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  run -0 skiff stop "$id"
  run skiff wait "$id"
  assert_status 137
  [ "$output" = 137 ]
  [ "$(state "$id" 'd["stopCode"]')" = UserInitiated ]
  run -0 skiff rm "$id"
}

@test "wait after a --timeout stop: 124, as run --timeout exits, not the container's code" {
  task_json -c '"stopTimeout": 1' -- /bin/sh -c 'trap "exit 3" TERM; while :; do sleep 0.1; done'
  run -0 skiff run -d --timeout 1s "$TASK"
  id=$output
  run skiff wait "$id"
  assert_status 124
  [ "$output" = 124 ]
  [ "$(state "$id" 'd["exitCode"]')" = 124 ]
  run -0 skiff rm "$id"
}
