#!/usr/bin/env bats
# A detached task's supervisor hibernates when it has nothing to decide: it
# exits, and the monitor spawns a new one on a container exit, on output,
# at the deadline it left, or on a CLI request (docs/architecture.md,
# "Crash safety (detached tasks)").

load helpers

setup() {
  common_setup
  export SKIFF_HIBERNATE_MS=200
}
teardown() {
  local id
  for id in $(ls "$ROOT/tasks" 2>/dev/null); do
    "$SKIFF" --root "$ROOT" rm -f "$id" >/dev/null 2>&1 || true
  done
  common_teardown
}

jf() {
  printf '%s' "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}

task_proc() {
  pgrep -f -- "--root $ROOT $1 $2" | head -n1
}

state() {
  jf "$(skiff inspect "$1")" "$2"
}

wait_until() {
  local tries=${2:-150}
  while ! eval "$1"; do
    tries=$((tries - 1))
    [ $tries -gt 0 ] || { echo "wait_until: '$1' never became true" >&2; return 1; }
    sleep 0.1
  done
}

# The task's supervisor has hibernated: none runs, its monitor does.
hibernating() {
  [ -z "$(task_proc __supervise "$1")" ] && [ -n "$(task_proc __monitor "$1")" ] \
    && [ "$(state "$1" 'd["supervision"].get("hibernating")')" = True ]
}

@test "a sleep task hibernates: no supervisor, the monitor stays, ps and inspect say RUNNING" {
  task_json -- /bin/sh -c 'sleep 60'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until "hibernating $id"
  [ "$(state "$id" 'd["lastStatus"]')" = RUNNING ]
  [ "$(state "$id" 'd["containers"][0]["lastStatus"] if "lastStatus" in d["containers"][0] else "RUNNING"')" = RUNNING ]
  run -0 skiff ps
  assert_contains "$output" "$id"
  assert_contains "$output" RUNNING
  # It stays asleep: nothing wakes it while the container merely runs.
  local mon
  mon=$(task_proc __monitor "$id")
  sleep 1
  hibernating "$id"
  [ "$(task_proc __monitor "$id")" = "$mon" ]
  run -0 skiff rm -f "$id"
}

@test "a container exit while hibernating: exact exit code, decided once" {
  task_json -- /bin/sh -c 'sleep 1.5; exit 3'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until "hibernating $id"
  run skiff wait "$id"
  assert_status 3
  [ "$(state "$id" 'd["containers"][0]["exitCode"]')" = 3 ]
  [ "$(state "$id" 'd["stopCode"]')" = EssentialContainerExited ]
  run -0 skiff events --format json "$id"
  [ "$(grep -c '"event":"exit"' <<<"$output")" -eq 1 ]
  [ "$(grep -c '"event":"started"' <<<"$output")" -eq 1 ]
  run -0 skiff rm "$id"
}

@test "a restart policy across hibernation: restarted once, at its time, restartCount 1" {
  # Fails after 1.5 s the first time (a file in a host volume remembers),
  # then sleeps. The restart is due 1 s after the exit: the supervisor
  # hibernates meanwhile and the monitor wakes it at that time.
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  task_json -t "\"volumes\": [ { \"name\": \"v\", \"host\": { \"sourcePath\": \"$vol\" } } ]" \
    -c '"mountPoints": [ { "sourceVolume": "v", "containerPath": "/vol" } ]' \
    -c '"dockerLabels": { "skiff.restart": "on-failure", "skiff.restart.delay": "1s", "skiff.restart.jitter": "0", "skiff.restart.maxAttempts": "3" }' \
    -- /bin/sh -c 'echo start >>/vol/starts; [ -e /vol/failed ] && exec sleep 60; sleep 1.5; touch /vol/failed; exit 9'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until "hibernating $id"
  wait_until '[ "$(state $id "d[\"containers\"][0][\"supervision\"][\"backoff\"]")" = True ]'
  wait_until "hibernating $id"
  wait_until '[ "$(wc -l <"$vol/starts")" -eq 2 ]'
  wait_until "hibernating $id"
  [ "$(state "$id" 'd["lastStatus"]')" = RUNNING ]
  [ "$(state "$id" 'd["containers"][0]["restartCount"]')" = 1 ]
  run -0 skiff events --format json "$id"
  [ "$(grep -c '"event":"exit"' <<<"$output")" -eq 1 ]
  assert_contains "$output" '"exitCode":9'
  assert_contains "$output" '"decision":"restart"'
  [ "$(grep -c '"event":"started"' <<<"$output")" -eq 2 ]
  # Restarted at its time: 1 s after the exit, give or take a wake-up.
  python3 - "$output" <<'PY'
import json, sys, datetime
ev = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
t = lambda e: datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp()
exit_t = [t(e) for e in ev if e["event"] == "exit"][0]
start_t = [t(e) for e in ev if e["event"] == "started"][1]
print("restart after", start_t - exit_t, file=sys.stderr)
assert 0.9 < start_t - exit_t < 1.6, start_t - exit_t
PY
  sleep 1
  [ "$(wc -l <"$vol/starts")" -eq 2 ]
  run -0 skiff rm -f "$id"
}

@test "output wakes the supervisor: a line every 3 s, every line in skiff logs, in order" {
  task_json -- /bin/sh -c 'for i in 1 2 3 4; do echo "line $i"; sleep 3; done; echo done >&2'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until "hibernating $id"
  run skiff wait "$id"
  assert_status 0
  run -0 --separate-stderr skiff logs "$id"
  [ "$output" = "$(printf 'line 1\nline 2\nline 3\nline 4')" ]
  [ "$stderr" = done ]
  # Woken several times, quietly: a wake-up is no re-adoption.
  run -0 skiff events --format json "$id"
  [ "$(grep -c '"event":"adopted"' <<<"$output")" -eq 0 ]
  run -0 skiff rm "$id"
}

@test "stop of a hibernating task: fast, UserInitiated, the container's exit code" {
  task_json -c '"stopTimeout": 5' -- /bin/sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until "hibernating $id"
  local t0 t1
  t0=$(date +%s%N)
  run -0 skiff stop "$id"
  t1=$(date +%s%N)
  echo "stop took $(((t1 - t0) / 1000000)) ms" >&3
  [ $(((t1 - t0) / 1000000)) -lt 2000 ]
  [ "$(state "$id" 'd["lastStatus"]')" = STOPPED ]
  [ "$(state "$id" 'd["stopCode"]')" = UserInitiated ]
  [ "$(state "$id" 'd["containers"][0]["exitCode"]')" = 42 ]
  run -0 skiff rm "$id"
}

@test "stop --timeout of a hibernating task: the second request kills" {
  task_json -c '"stopTimeout": 60' -- /bin/sh -c 'trap "" TERM; while :; do sleep 0.1; done'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until "hibernating $id"
  run -0 skiff stop --timeout 1 "$id"
  [ "$(state "$id" 'd["lastStatus"]')" = STOPPED ]
  [ "$(state "$id" 'd["containers"][0]["exitCode"]')" = 137 ]
  run -0 skiff rm "$id"
}

@test "kill -s KILL of a hibernating task" {
  task_json -- /bin/sh -c 'sleep 60'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until "hibernating $id"
  run -0 skiff kill -s KILL "$id"
  run skiff wait "$id"
  assert_status 137
  run -0 skiff rm "$id"
}

@test "a health check keeps its schedule across hibernation" {
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  task_json -t "\"volumes\": [ { \"name\": \"v\", \"host\": { \"sourcePath\": \"$vol\" } } ]" \
    -c '"mountPoints": [ { "sourceVolume": "v", "containerPath": "/vol" } ]' \
    -c '"healthCheck": { "command": ["CMD-SHELL", "cut -d\" \" -f1 /proc/uptime >>/vol/probes"], "interval": 5, "timeout": 2, "retries": 3 }' \
    -- /bin/sh -c 'sleep 60'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until "[ -s $vol/probes ]" 100
  wait_until "hibernating $id"
  sleep 11
  # Three or four probes, 5 s apart (a probe due at T runs at T, not an
  # interval after a wake-up), and the supervisor slept in between.
  run -0 cat "$vol/probes"
  local n
  n=$(wc -l <"$vol/probes")
  [ "$n" -ge 3 ] && [ "$n" -le 4 ]
  python3 - "$vol/probes" <<'PY'
import sys
t = [float(x) for x in open(sys.argv[1])]
gaps = [b - a for a, b in zip(t, t[1:])]
print("gaps", gaps, file=sys.stderr)
assert all(4.5 < g < 6.0 for g in gaps), gaps
PY
  [ "$(state "$id" 'd["containers"][0]["healthStatus"]')" = HEALTHY ]
  wait_until "hibernating $id"
  run -0 skiff rm -f "$id"
}

@test "the --timeout deadline fires while hibernating" {
  task_json -- /bin/sh -c 'sleep 60'
  run -0 skiff run -d --timeout 2 "$TASK"
  id=$output
  wait_until "hibernating $id"
  run skiff wait "$id"
  [ "$(state "$id" 'd["exitCode"]')" = 124 ]
  assert_contains "$(state "$id" 'd["stoppedReason"]')" "exceeded timeout"
  run -0 skiff rm "$id"
}

@test "kill -9 of the monitor while hibernating: the next command re-adopts the task" {
  task_json -- /bin/sh -c 'sleep 3; exit 3'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until "hibernating $id"
  kill -KILL "$(task_proc __monitor "$id")"
  sleep 0.3
  [ -z "$(task_proc __monitor "$id")" ]
  run -0 skiff ps
  assert_contains "$output" "$id"
  [ -n "$(task_proc __monitor "$id")" ]
  # Its exit went to init: known to have ended, not how.
  run skiff wait "$id"
  assert_status 255
  [ "$output" = unknown ]
  # A new monitor's supervisor says it adopted the container.
  run -0 skiff events --format json "$id"
  [ "$(grep -c '"event":"adopted"' <<<"$output")" -eq 1 ]
  run -0 skiff rm "$id"
}

@test "SKIFF_HIBERNATE_MS=0: the supervisor never hibernates" {
  export SKIFF_HIBERNATE_MS=0
  task_json -- /bin/sh -c 'sleep 60'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  sleep 1
  [ -n "$(task_proc __supervise "$id")" ]
  run -0 skiff rm -f "$id"
}

@test "pidMode task: the supervisor holds the shared pid namespace and stays awake" {
  task_json -t '"pidMode": "task"' -- /bin/sh -c 'sleep 60'
  run -0 skiff run -d "$TASK"
  id=$output
  wait_until '[ "$(state $id "d[\"lastStatus\"]")" = RUNNING ]'
  sleep 1
  [ -n "$(task_proc __supervise "$id")" ]
  [ "$(state "$id" 'd["supervision"].get("hibernating")')" = None ]
  run -0 skiff stop "$id"
  run -0 skiff rm "$id"
}
