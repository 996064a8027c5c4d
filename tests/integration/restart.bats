#!/usr/bin/env bats
# Container restarts (skiff.restart.* labels, ECS restartPolicy) and task
# retries (--retry, --retry-on), timed from the event log (see evq).

load helpers

setup() {
  common_setup
  EV=$BATS_TEST_TMPDIR/events.jsonl
  RESULT=$BATS_TEST_TMPDIR/result.json
}
teardown() { common_teardown; }

# labels KEY=VALUE...: the dockerLabels member.
labels() {
  local out="" kv
  for kv in "$@"; do
    out+="${out:+, }\"${kv%%=*}\": \"${kv#*=}\""
  done
  printf '"dockerLabels": { %s }' "$out"
}

# A task whose only container keeps a counter in a host directory: each
# run prints attempt=N and exits 0 from the Nth run on (default: never).
counter_task() {
  local succeed_from=${1:-1000} fail_code=${2:-1}
  COUNTER_DIR=$BATS_TEST_TMPDIR/counter
  mkdir -p "$COUNTER_DIR"
  task_json -t "$(printf '"volumes": [ { "name": "data", "host": { "sourcePath": "%s" } } ]' "$COUNTER_DIR")" \
    -c '"mountPoints": [ { "sourceVolume": "data", "containerPath": "/data" } ]' \
    -- /bin/sh -c "n=\$(cat /data/n 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >/data/n; echo attempt=\$n; [ \$n -ge $succeed_from ] || exit $fail_code"
}

# ---- skiff.restart ---------------------------------------------------------------

@test "restart backoff: delay 200ms, multiplier 2 gives gaps of 0.2, 0.4, 0.8 s, then gives up" {
  task_json -c "$(labels skiff.restart=always skiff.restart.delay=200ms skiff.restart.multiplier=2 \
    skiff.restart.jitter=0 skiff.restart.maxAttempts=3)" -- "$PROBE" exit 1
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 1
  evassert "$EV" 'len(ev("app","started")) == 4'
  evassert "$EV" '[e.get("delayMs") for e in ev("app","exit")] == [200, 400, 800, None]'
  local k want
  for k in 0 1 2; do
    want=$(echo "0.2 * 2 ^ $k" | bc -l)
    evassert "$EV" "$want - 0.02 <= ev('app','started')[$k + 1]['t'] - ev('app','exit')[$k]['te'] <= $want + 0.3"
  done
  evassert "$EV" '[e["restartAttempt"] for e in ev("app","exit", decision="restart")] == [1, 2, 3]'
  evassert "$EV" 'ev("app","exit")[-1]["why"].startswith("gave up")'
}

@test "crash loop: maxAttempts 3 within 1m gives up; the task stops with the last exit code" {
  task_json -c "$(labels skiff.restart=on-failure skiff.restart.delay=100ms skiff.restart.maxAttempts=3 \
    skiff.restart.window=1m)" -- "$PROBE" exit 3
  run --separate-stderr skiff_run --events-file "$EV" --result-file "$RESULT" "$TASK"
  assert_status 3
  evassert "$EV" 'len(ev("app","started")) == 4'
  evassert "$EV" 'ev("app","exit")[-1]["decision"] == "stop"'
  evassert "$EV" '"gave up: 3 attempts within 1m" in ev("app","exit")[-1]["why"]'
  evassert "$EV" 'one(None,"task-stopped")["containers"][0]["restartCount"] == 3'
  grep -q '"exitCode":3' "$RESULT"
  assert_contains "$stderr" "gave up" stderr
}

@test "skiff.restart=on-failure does not restart an exit 0" {
  task_json -c "$(labels skiff.restart=on-failure skiff.restart.delay=100ms)" -- "$PROBE" print once
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 0
  evassert "$EV" 'len(ev("app","started")) == 1'
  evassert "$EV" 'one("app","exit")["decision"] == "stop"'
}

@test "a restarted essential container does not stop the task; the restart runs the same command" {
  COUNTER_DIR=$BATS_TEST_TMPDIR/counter
  mkdir -p "$COUNTER_DIR"
  task_json -t "$(printf '"volumes": [ { "name": "data", "host": { "sourcePath": "%s" } } ]' "$COUNTER_DIR")" \
    -c '"mountPoints": [ { "sourceVolume": "data", "containerPath": "/data" } ]' \
    -c "$(labels skiff.restart=on-failure skiff.restart.delay=100ms)" \
    -- /bin/sh -c 'n=$(cat /data/n 2>/dev/null || echo 0); n=$((n + 1)); echo $n >/data/n; echo attempt=$n; [ $n -ge 3 ]'
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 0
  [ "$(cat "$COUNTER_DIR/n")" = 3 ]
  evassert "$EV" '[e["decision"] for e in ev("app","exit")] == ["restart", "restart", "stop"]'
  evassert "$EV" 'len(ev(None,"task-stopping")) == 1 and at(None,"task-stopping") > at("app","exit",decision="stop")'
}

# ---- ECS restartPolicy -------------------------------------------------------------

@test "ECS restartPolicy: a crash before restartAttemptPeriod is not restarted" {
  task_json -c '"restartPolicy": { "enabled": true, "ignoredExitCodes": [0], "restartAttemptPeriod": 60 }' \
    -- "$PROBE" exit 1
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 1
  evassert "$EV" 'len(ev("app","started")) == 1'
  evassert "$EV" 'one("app","exit")["decision"] == "stop"'
  evassert "$EV" '"attempt reset period of 60s has not elapsed" in one("app","exit")["why"]'
}

@test "ECS restartPolicy: an ignored exit code is not restarted" {
  task_json -c '"restartPolicy": { "enabled": true, "ignoredExitCodes": [0], "restartAttemptPeriod": 60 }' \
    -- "$PROBE" print done
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 0
  evassert "$EV" 'len(ev("app","started")) == 1'
  evassert "$EV" 'one("app","exit")["decision"] == "stop"'
}

@test "Ctrl-C during a restart backoff: 130 at once, no restart, host clean" {
  task_json -c "$(labels skiff.restart=always skiff.restart.delay=20s)" -- "$PROBE" exit 1
  skiff_bg --events-file "$EV" "$TASK"
  wait_for_line "$EV" '"event":"exit".*"decision":"restart"'
  kill -INT "$BG_PID"
  SECONDS=0
  wait_bg 10
  [ "$BG_STATUS" -eq 130 ]
  [ "$SECONDS" -le 3 ]
  evassert "$EV" 'len(ev("app","started")) == 1'
  assert_host_clean 5
}

# ---- task retries ------------------------------------------------------------------

@test "--retry 2: fails twice, succeeds on the third attempt: exit 0, 3 attempts" {
  counter_task 3
  run skiff_run --retry 2 --events-file "$EV" --result-file "$RESULT" "$TASK"
  assert_status 0
  [ "$(cat "$COUNTER_DIR/n")" = 3 ]
  assert_contains "$output" attempt=3
  grep -q '"attempts":3' "$RESULT"
  evassert "$EV" '[e["retry"] for e in ev(None,"task-retry")] == [True, True]'
  evassert "$EV" 'sorted({e["taskAttempt"] for e in E}) == [1, 2, 3]'
}

@test "--retry 1: a task failing every attempt exits non-zero after 2 attempts" {
  counter_task 1000 4
  run skiff_run --retry 1 --result-file "$RESULT" "$TASK"
  assert_status 4
  [ "$(cat "$COUNTER_DIR/n")" = 2 ]
  grep -q '"attempts":2' "$RESULT"
}

@test "--retry-on 'exitCode=3:EXIT' stops retrying at exit 3" {
  counter_task 1000 3
  run skiff_run --retry 3 --retry-on 'exitCode=3:EXIT' --events-file "$EV" --result-file "$RESULT" "$TASK"
  assert_status 3
  [ "$(cat "$COUNTER_DIR/n")" = 1 ]
  grep -q '"attempts":1' "$RESULT"
  evassert "$EV" 'one(None,"task-retry")["retry"] == False'
  evassert "$EV" '"matched rule 1 (exitCode=3:EXIT)" in one(None,"task-retry")["why"]'
}

@test "--retry-on 'exitCode=3:EXIT' still retries other codes" {
  counter_task 2 5
  run skiff_run --retry 3 --retry-on 'exitCode=3:EXIT' --result-file "$RESULT" "$TASK"
  assert_status 0
  [ "$(cat "$COUNTER_DIR/n")" = 2 ]
}

@test "a single container's restarts each set up their own hostname and lo (no task sandbox)" {
  COUNTER_DIR=$BATS_TEST_TMPDIR/counter
  mkdir -p "$COUNTER_DIR"
  task_json -t "$(printf '"volumes": [ { "name": "data", "host": { "sourcePath": "%s" } } ]' "$COUNTER_DIR")" \
    -c '"mountPoints": [ { "sourceVolume": "data", "containerPath": "/data" } ]' \
    -c "$(labels skiff.restart=on-failure skiff.restart.delay=100ms)" \
    -- /bin/sh -c "n=\$(cat /data/n 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >/data/n; $PROBE hostname net ns; [ \$n -ge 2 ]"
  run skiff_run "$TASK"
  assert_status 0
  [ "$(cat "$COUNTER_DIR/n")" = 2 ]
  # Both starts: lo up, the same hostname (not the host's), only lo.
  [ "$(printf '%s\n' "$output" | grep -cx 'iface.lo=up')" -eq 2 ]
  [ "$(printf '%s\n' "$output" | grep -cx 'ifaces=lo')" -eq 2 ]
  [ "$(printf '%s\n' "$output" | grep '^hostname=' | sort -u | wc -l)" -eq 1 ]
  [ "$(kv hostname)" != "$(hostname)" ]
  # Never the host's network namespace.
  local host
  host=$(host_probe ns net)
  [ "$(printf '%s\n' "$output" | grep -c '^ns.net=')" -eq 2 ]
  ! printf '%s\n' "$output" | grep -qx "ns.net=$(kv ns.net "$host")"
}
