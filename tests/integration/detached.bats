#!/usr/bin/env bats
# Detached tasks (`run -d`, ps, inspect, logs, events, stop, kill, rm, wait,
# stats) and crash safety: SIGKILL of the supervisor and of the monitor.

load helpers

setup() { common_setup; }
teardown() {
  # Every detached task of the test is removed, however the test ended.
  local id
  for id in $(ls "$ROOT/tasks" 2>/dev/null); do
    "$SKIFF" --root "$ROOT" rm -f "$id" >/dev/null 2>&1 || true
  done
  common_teardown
}

# jq-less JSON field: jf JSON PYTHON-EXPR (d is the parsed object).
# On stdin: `ps --format json` of 100 tasks is longer than one argument may be.
jf() {
  printf '%s' "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}

# The pid of the task's process whose command line contains WORD.
task_proc() {
  pgrep -f -- "--root $ROOT $1 $2" | head -n1
}

# state FIELD-EXPR of task ID, from inspect.
state() {
  jf "$(skiff inspect "$1")" "$2"
}

# Wait until EXPR (bash) is true, up to 15 s.
wait_until() {
  local tries=150
  while ! eval "$1"; do
    tries=$((tries - 1))
    [ $tries -gt 0 ] || { echo "wait_until: '$1' never became true" >&2; return 1; }
    sleep 0.1
  done
}

@test "run -d prints only the task id; ps, inspect, logs, events, wait, rm" {
  task_json -- /bin/sh -c 'echo hello; echo oops >&2; sleep 1; exit 7'
  run -0 skiff run -d "$TASK"
  [[ $output =~ ^[0-9a-f]{12}$ ]]
  id=$output
  run -0 skiff ps
  assert_contains "$output" "$id"
  run skiff wait "$id"
  assert_status 7
  [ "$output" = 7 ]
  run -0 skiff inspect "$id"
  [ "$(jf "$output" 'd["lastStatus"]')" = STOPPED ]
  [ "$(jf "$output" 'd["stopCode"]')" = EssentialContainerExited ]
  [ "$(jf "$output" 'd["containers"][0]["exitCode"]')" = 7 ]
  [ "$(jf "$output" 'd["desiredStatus"]')" = STOPPED ]
  [ "$(jf "$output" 'd["stoppedAt"] is not None')" = True ]
  run -0 --separate-stderr skiff logs "$id"
  [ "$output" = hello ]
  [ "$stderr" = oops ]
  run -0 skiff logs --tail 1 "$id"
  run -0 skiff events --format json "$id"
  assert_contains "$output" '"event":"task-stopped"'
  run -0 skiff ps
  assert_not_contains "$output" "$id"
  run -0 skiff ps -a --format json
  assert_contains "$output" "\"taskArn\":\"$id\""
  run -0 skiff rm "$id"
  run -0 skiff ps -a
  assert_not_contains "$output" "$id"
}

@test "--name is usable as the id and unique" {
  task_json -- /bin/sh -c 'sleep 30'
  run -0 skiff run -d --name web "$TASK"
  id=$output
  run skiff run -d --name web "$TASK"
  assert_status 125
  assert_contains "$output" "in use"
  [ "$(state web 'd["taskArn"]')" = "$id" ]
  run -0 skiff stop web
  [ "$(state web 'd["stopCode"]')" = UserInitiated ]
  run -0 skiff rm web
}

@test "stop: the container gets SIGTERM, the task is STOPPED UserInitiated" {
  # pid 1 of its namespace ignores SIGTERM unless it handles it: the
  # stopTimeout then ends it with SIGKILL.
  task_json -c '"stopTimeout": 2' -- "$PROBE" sleep 60
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  run -0 skiff stop "$id"
  [ "$(state "$id" 'd["lastStatus"]')" = STOPPED ]
  [ "$(state "$id" 'd["stopCode"]')" = UserInitiated ]
  run -0 skiff rm "$id"
}

@test "rm refuses a running task; rm -f stops and removes it" {
  task_json -- /bin/sh -c 'sleep 60'
  run -0 skiff run -d "$TASK"
  id=$output
  run skiff rm "$id"
  assert_status 125
  run -0 skiff rm -f "$id"
  [ ! -e "$ROOT/tasks/$id" ]
}

@test "kill sends a signal to the containers; the exit is 128+n" {
  task_json -- /bin/sh -c 'sleep 60'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  run -0 skiff kill --signal KILL "$id"
  run skiff wait "$id"
  assert_status 137
  run -0 skiff rm "$id"
}

@test "kill -9 of the supervisor while the container runs: exact exit code, decided once" {
  export SKIFF_HIBERNATE_MS=0 # a live supervisor (hibernate.bats covers the sleeping one)
  task_json -- /bin/sh -c 'sleep 2; exit 3'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  sup=$(task_proc __supervise "$id")
  [ -n "$sup" ]
  kill -KILL "$sup"
  run skiff wait "$id"
  assert_status 3
  [ "$(state "$id" 'd["containers"][0]["exitCode"]')" = 3 ]
  run -0 skiff events --format json "$id"
  [ "$(grep -c '"event":"exit"' <<<"$output")" -eq 1 ]
  [ "$(grep -c '"event":"started"' <<<"$output")" -eq 1 ]
  run -0 skiff rm "$id"
}

@test "kill -9 of the supervisor after the container exited (it was down meanwhile)" {
  export SKIFF_HIBERNATE_MS=0 # a live supervisor (hibernate.bats covers the sleeping one)
  task_json -- /bin/sh -c 'sleep 1; exit 5'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  # Stop the supervisor so it cannot see the exit, then kill it.
  sup=$(task_proc __supervise "$id")
  kill -STOP "$sup"
  sleep 2
  kill -KILL "$sup"
  run skiff wait "$id"
  assert_status 5
  run -0 skiff rm "$id"
}

@test "kill -9 of the supervisor during a restart backoff: restarts exactly as the policy says" {
  export SKIFF_HIBERNATE_MS=0 # a live supervisor (hibernate.bats covers the sleeping one)
  task_json -c '"dockerLabels": { "skiff.restart": "on-failure", "skiff.restart.delay": "1s", "skiff.restart.jitter": "0", "skiff.restart.maxAttempts": "2" }' \
    -- /bin/sh -c 'exit 4'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until 'skiff events --format json '"$id"' | grep -q "\"decision\":\"restart\""'
  kill -KILL "$(task_proc __supervise "$id")"
  run skiff wait "$id"
  assert_status 4
  run -0 skiff events --format json "$id"
  [ "$(grep -c '"event":"started"' <<<"$output")" -eq 3 ]
  [ "$(grep -c '"event":"exit"' <<<"$output")" -eq 3 ]
  [ "$(state "$id" 'd["containers"][0]["restartCount"]')" = 2 ]
  run -0 skiff rm "$id"
}

@test "kill -9 of the supervisor during a stop timeout: the container is still killed" {
  export SKIFF_HIBERNATE_MS=0 # a live supervisor (hibernate.bats covers the sleeping one)
  task_json -c '"stopTimeout": 2' -- /bin/sh -c 'trap "" TERM; while :; do sleep 0.1; done'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  skiff stop -t 30 "$id" &
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = DEACTIVATING ]'
  kill -KILL "$(task_proc __supervise "$id")"
  wait
  [ "$(state "$id" 'd["lastStatus"]')" = STOPPED ]
  [ "$(state "$id" 'd["containers"][0]["exitCode"]')" = 137 ]
  run -0 skiff rm "$id"
}

@test "kill -9 of the monitor: the task keeps running, ends STOPPED with an unobserved exit code" {
  task_json -- /bin/sh -c 'sleep 2; exit 3'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  kill -KILL "$(task_proc __monitor "$id")"
  sleep 0.3
  # The container survived its monitor.
  [ -n "$(container_pid sh)" ]
  run skiff wait "$id"
  assert_status 255
  [ "$output" = unknown ]
  run -0 skiff inspect "$id"
  [ "$(jf "$output" 'd["exitCode"]')" = None ]
  assert_contains "$(jf "$output" 'd["stoppedReason"]')" "could not be observed"
  assert_contains "$(jf "$output" 'd["containers"][0]["reason"]')" "ExitCodeUnknown"
  run -0 skiff rm "$id"
}

@test "100 concurrent run -d, ps and stop: no lost or corrupted state" {
  task_json -- /bin/sh -c 'sleep 30'
  local n=${SKIFF_TEST_CONCURRENCY:-100} i
  for i in $(seq "$n"); do
    skiff run -d "$TASK" >"$BATS_TEST_TMPDIR/id.$i" 2>&1 &
    skiff ps >/dev/null 2>&1 &
  done
  wait
  run -0 skiff ps --format json
  if [ "$(jf "$output" 'len(d)')" -ne "$n" ]; then
    grep -L '^[0-9a-f]\{12\}$' "$BATS_TEST_TMPDIR"/id.* | xargs cat >&2
    jf "$output" '[(t["taskArn"], t["lastStatus"]) for t in d]' >&2
    return 1
  fi
  for i in $(seq "$n"); do
    skiff stop "$(cat "$BATS_TEST_TMPDIR/id.$i")" >/dev/null &
  done
  wait
  run -0 skiff ps -a --format json
  [ "$(jf "$output" 'len([t for t in d if t["lastStatus"] == "STOPPED"])')" -eq "$n" ]
  for i in $(seq "$n"); do
    skiff rm "$(cat "$BATS_TEST_TMPDIR/id.$i")" >/dev/null
  done
}

@test "stats --no-stream shows the container's cgroup counters" {
  task_json -- /bin/sh -c 'sleep 30'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  run -0 skiff stats --no-stream "$id"
  assert_contains "$output" "app"
  run -0 skiff rm -f "$id"
}

@test "every new command has --help" {
  local c
  for c in ps inspect logs events stop kill rm wait exec stats gc; do
    run -0 skiff "$c" --help
    assert_contains "$output" "Usage: skiff $c"
  done
}

@test "kill -9 of the supervisor during a health check: exit code recorded, policy applied once" {
  export SKIFF_HIBERNATE_MS=0 # a live supervisor (hibernate.bats covers the sleeping one)
  task_json -c '"healthCheck": { "command": ["CMD-SHELL", "sleep 1"], "interval": 5, "timeout": 3, "retries": 2 }' \
    -- /bin/sh -c 'sleep 9; exit 6'
  run -0 skiff run -d "$TASK"
  id=$output
  # A probe is running inside the container (it carries the test's mark).
  wait_until 'pgrep -f "sleep 1\$" >/dev/null'
  kill -KILL "$(task_proc __supervise "$id")"
  run skiff wait "$id"
  assert_status 6
  run -0 skiff events --format json "$id"
  [ "$(grep -c '"event":"exit"' <<<"$output")" -eq 1 ]
  [ "$(grep -c '"event":"started"' <<<"$output")" -eq 1 ]
  run -0 skiff rm "$id"
}

@test "pid reuse: a recorded pid now owned by another process is never signalled" {
  export SKIFF_HIBERNATE_MS=0 # a live supervisor (hibernate.bats covers the sleeping one)
  task_json -- /bin/sh -c 'sleep 60'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  sup=$(task_proc __supervise "$id")
  kill -STOP "$sup"
  sleep 60 &
  local stranger=$!
  # The record now names the stranger's pid with the container's start time.
  python3 - "$ROOT/tasks/$id/state.json" "$stranger" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["containers"][0]["pid"] = int(sys.argv[2])
json.dump(d, open(sys.argv[1], "w"))
PY
  run skiff kill "$id"
  assert_status 125
  kill -0 "$stranger"
  kill "$stranger"
  kill -CONT "$sup"
  run -0 skiff rm -f "$id"
}

@test "exec sees the container's filesystem and pid namespace, as its user" {
  task_json -c '"user": "nobody"' -- /bin/sh -c 'echo data >/tmp/marker; exec sleep 60'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  wait_until 'skiff exec "$id" -- cat /tmp/marker >/dev/null 2>&1'
  run -0 skiff exec "$id" -- cat /tmp/marker
  [ "$output" = data ]
  run -0 skiff exec "$id" -- ps -o pid,comm
  assert_contains "$output" "1 sleep"
  run -0 skiff exec "$id" -- id -u
  [ "$output" = 65534 ]
  run skiff exec "$id" -- /bin/sh -c 'exit 9'
  assert_status 9
  run -127 skiff exec "$id" -- no-such-command
  run -0 skiff rm -f "$id"
}
