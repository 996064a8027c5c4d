#!/usr/bin/env bats
# The supervisor of multi-container tasks: dependsOn, essential containers,
# the stop order and stopTimeout, shared namespaces, --timeout, Ctrl-C.
# Decisions are checked in the event log (--events-file, see evq).

load helpers

setup() {
  common_setup
  EV=$BATS_TEST_TMPDIR/events.jsonl
  RESULT=$BATS_TEST_TMPDIR/result.json
}
teardown() { common_teardown; }

# A container that runs until the task stops it. As pid 1 of its namespace
# it needs a handler for SIGTERM to be stoppable without a SIGKILL.
SIDECAR=("$PROBE" sig-wait)

dep() { printf '"dependsOn": [ { "containerName": "%s", "condition": "%s" } ]' "$1" "$2"; }

# ---- dependsOn -------------------------------------------------------------------

@test "dependsOn START: the dependent starts once its dependency runs, before it exits" {
  # The dependency prints nothing: its start alone must wake the dependent.
  task_json_of \
    "$(container_json -n db -c '"essential": false' -- /bin/sleep 3)" \
    "$(container_json -n app -c "$(dep db START)" -- "$PROBE" print app-ran)"
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 0
  assert_contains "$output" app-ran
  evassert "$EV" 'at("db","started") < at("app","started") < at("db","exit")'
  evassert "$EV" 't("app","started") - t("db","started") < 1.0'
}

@test "dependsOn COMPLETE: the dependent starts after its dependency exited, whatever the code" {
  task_json_of \
    "$(container_json -n init -c '"essential": false' -- /bin/sh -c 'sleep 1; exit 3')" \
    "$(container_json -n app -c "$(dep init COMPLETE)" -- "$PROBE" print app-ran)"
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 0
  assert_contains "$output" app-ran
  evassert "$EV" 'one("init","exit")["exitCode"] == 3'
  evassert "$EV" 'at("init","exit") < at("app","started")'
  evassert "$EV" 't("app","started") - t("init","started") >= 0.9'
}

@test "dependsOn SUCCESS: the dependent starts after its dependency exited 0" {
  task_json_of \
    "$(container_json -n migrate -c '"essential": false' -- /bin/sh -c 'sleep 1; exit 0')" \
    "$(container_json -n app -c "$(dep migrate SUCCESS)" -- "$PROBE" print app-ran)"
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 0
  assert_contains "$output" app-ran
  evassert "$EV" 'at("migrate","exit") < at("app","started")'
  evassert "$EV" 't("app","started") - t("migrate","started") >= 0.9'
}

@test "dependsOn SUCCESS: exit 1 blocks the essential dependent: 143, TaskFailedToStart, skiff 125" {
  task_json_of \
    "$(container_json -n migrate -c '"essential": false' -- /bin/sh -c 'sleep 0.3; exit 1')" \
    "$(container_json -n app -c "$(dep migrate SUCCESS)" -- "$PROBE" print app-ran)"
  run --separate-stderr skiff_run --events-file "$EV" --result-file "$RESULT" "$TASK"
  assert_status 125
  assert_not_contains "$output" app-ran
  evassert "$EV" 'ev("app","started") == []'
  evassert "$EV" 'one("app","dependency-failed")["reason"].startswith("CannotStartContainerError: dependency graph")'
  evassert "$EV" '"did not exit successfully" in one("app","dependency-failed")["reason"]'
  evassert "$EV" '[c["exitCode"] for c in one(None,"task-stopped")["containers"] if c["name"] == "app"] == [143]'
  evassert "$EV" 'one(None,"task-stopped")["stopCode"] == "TaskFailedToStart"'
  grep -q '"stopCode":"TaskFailedToStart"' "$RESULT"
  grep -q '"exitCode":125' "$RESULT"
  assert_contains "$stderr" "did not exit successfully" stderr
}

# A container that becomes HEALTHY about 1 s after it starts (probes run
# every 2 s during the start period).
healthy_db() {
  container_json -n db -c '"essential": false' \
    -c '"healthCheck": { "command": [ "CMD-SHELL", "test -e /tmp/ready" ], "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 20 }' \
    "$@" -- /bin/sh -c 'trap "exit 0" TERM; sleep 1; touch /tmp/ready; while :; do sleep 0.1; done'
}

@test "dependsOn HEALTHY: the dependent starts only after its dependency's check passed" {
  task_json_of "$(healthy_db)" \
    "$(container_json -n app -c "$(dep db HEALTHY)" -- "$PROBE" print app-ran)"
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 0
  assert_contains "$output" app-ran
  evassert "$EV" 'at("db","health",status="HEALTHY") < at("app","started")'
  evassert "$EV" 'one("db","health")["previous"] == "UNKNOWN"'
}

@test "dependsOn HEALTHY + startTimeout: a dependency never healthy fails the dependent after startTimeout, no sooner" {
  task_json_of \
    "$(container_json -n db -c '"essential": false, "startTimeout": 2' \
      -c '"healthCheck": { "command": [ "CMD-SHELL", "exit 1" ], "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 60 }' \
      -- "${SIDECAR[@]}")" \
    "$(container_json -n app -c "$(dep db HEALTHY)" -- "$PROBE" print app-ran)"
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 125
  assert_not_contains "$output" app-ran
  evassert "$EV" '"has timed out" in one("app","dependency-failed")["reason"]'
  evassert "$EV" '1.9 <= t("app","dependency-failed") - t("db","started") <= 3.5'
  evassert "$EV" 'ev("app","started") == []'
}

# ---- essential and non-essential ---------------------------------------------------

@test "containers without dependencies start in parallel" {
  task_json_of \
    "$(container_json -n a -- "$PROBE" sleep 1)" \
    "$(container_json -n b -c '"essential": false' -- "$PROBE" sleep 1)"
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 0
  evassert "$EV" 'max(at("a","started"), at("b","started")) < min(at("a","exit"), at("b","exit"))'
}

@test "a non-essential container's exit changes nothing" {
  task_json_of \
    "$(container_json -n side -c '"essential": false' -- "$PROBE" exit 5)" \
    "$(container_json -n app -- /bin/sh -c 'sleep 1; echo app-done')"
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 0
  assert_contains "$output" app-done
  evassert "$EV" 'one("side","exit")["exitCode"] == 5'
  evassert "$EV" 'at("side","exit") < at("app","exit") < at(None,"task-stopping")'
  evassert "$EV" 'one(None,"task-stopping")["container"] == "app"'
}

@test "an essential container's exit stops the others; skiff exits with its code" {
  task_json_of \
    "$(container_json -n side -c '"essential": false' -- "${SIDECAR[@]}")" \
    "$(container_json -n app -- /bin/sh -c 'sleep 0.5; exit 7')"
  SECONDS=0
  run skiff_run --events-file "$EV" --result-file "$RESULT" "$TASK"
  assert_status 7
  [ "$SECONDS" -lt 10 ]
  evassert "$EV" 'at("app","exit") < at("side","stop") < at("side","exit")'
  evassert "$EV" 'one("side","exit")["exitCode"] == 143'
  evassert "$EV" 'one(None,"task-stopped")["stopCode"] == "EssentialContainerExited"'
  grep -q '"exitCode":7' "$RESULT"
}

@test "an essential container that cannot start stops the task: 127, the others stopped" {
  task_json_of \
    "$(container_json -n side -c '"essential": false' -- "${SIDECAR[@]}")" \
    "$(container_json -n app -c "$(dep side START)" -- /usr/bin/no-such-program)"
  run -127 --separate-stderr skiff_run --events-file "$EV" "$TASK"
  evassert "$EV" '"no-such-program" in one("app","start-failed")["reason"]'
  evassert "$EV" 'one(None,"task-stopped")["stopCode"] == "TaskFailedToStart"'
  evassert "$EV" 'one("side","exit")["exitCode"] == 143'
}

# ---- stopping ------------------------------------------------------------------------

@test "stop order: a dependency is signalled only after its dependent exited" {
  # app depends on db and takes 1 s to stop; db must wait for it.
  task_json_of \
    "$(container_json -n db -c '"essential": false' \
      -- /bin/sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done')" \
    "$(container_json -n app -c '"essential": false' -c "$(dep db START)" \
      -- /bin/sh -c 'trap "sleep 1; exit 0" TERM; while :; do sleep 0.1; done')" \
    "$(container_json -n trigger -- /bin/sh -c 'sleep 1')"
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 0
  evassert "$EV" 'at("trigger","exit") < at("app","stop") < at("app","exit") < at("db","stop")'
  evassert "$EV" 't("db","stop") - t("app","stop") >= 0.9'
}

@test "stopTimeout: a container ignoring SIGTERM is killed after its stopTimeout and no sooner" {
  task_json_of \
    "$(container_json -n stubborn -c '"essential": false, "stopTimeout": 2' -- "$PROBE" ignore-term 60)" \
    "$(container_json -n trigger -- /bin/sh -c 'sleep 0.5')"
  run skiff_run --events-file "$EV" "$TASK"
  assert_status 0
  evassert "$EV" 'one("stubborn","stop")["stopTimeout"] == 2'
  evassert "$EV" '1.9 <= t("stubborn","kill") - t("stubborn","stop") <= 3.5'
  evassert "$EV" 'one("stubborn","exit")["exitCode"] == 137'
}

@test "--timeout with several containers: 124, every container stopped" {
  task_json_of \
    "$(container_json -n a -- "${SIDECAR[@]}")" \
    "$(container_json -n b -c '"essential": false' -- "${SIDECAR[@]}")" \
    "$(container_json -n c -c '"essential": false, "stopTimeout": 2' -- "$PROBE" ignore-term 60)"
  run skiff_run --timeout 1s --events-file "$EV" "$TASK"
  assert_status 124
  evassert "$EV" 'len(ev(None,"exit")) == 3'
  evassert "$EV" 'one(None,"task-stopping")["stoppedReason"] == "Job attempt duration exceeded timeout"'
  evassert "$EV" 'one("c","exit")["exitCode"] == 137'
}

# ---- shared namespaces -------------------------------------------------------------------

@test "shared namespaces: containers reach each other on localhost and share the hostname" {
  task_json_of \
    "$(container_json -n web -c '"essential": false' -- /bin/sh -c \
      'mkdir -p /tmp/www && echo hello-from-web >/tmp/www/index.html && echo "web-host=$(hostname)"; httpd -f -p 127.0.0.1:8080 -h /tmp/www & trap "exit 0" TERM; wait')" \
    "$(container_json -n client -c "$(dep web START)" -- /bin/sh -c \
      'echo "client-host=$(hostname)"; for i in $(seq 50); do wget -q -O - http://127.0.0.1:8080/ && exit 0; sleep 0.1; done; exit 1')"
  run skiff_run --no-prefix "$TASK"
  assert_status 0
  assert_contains "$output" hello-from-web
  local web client
  web=$(kv web-host)
  client=$(kv client-host)
  [ -n "$web" ] && [ "$web" = "$client" ]
  [ "$web" != "$(hostname)" ]
}

@test "shared namespaces: net, uts and ipc (ipcMode task) are the same in every container" {
  task_json_of -t '"ipcMode": "task"' \
    "$(container_json -n a -c '"essential": false' -- "$PROBE" ns)" \
    "$(container_json -n b -- /bin/sh -c 'sleep 0.5; /usr/bin/probe ns')"
  run skiff_run "$TASK"
  assert_status 0
  local kind va vb
  for kind in net uts ipc; do
    va=$(printf '%s\n' "$output" | sed -n "s/^a *| ns\.$kind=//p")
    vb=$(printf '%s\n' "$output" | sed -n "s/^b *| ns\.$kind=//p")
    [ -n "$va" ] && [ "$va" = "$vb" ] || { echo "ns.$kind: a=$va b=$vb" >&2; false; }
    [ "$va" != "$(host_probe ns | sed -n "s/^ns\.$kind=//p")" ]
  done
}

@test "pidMode task: containers see each other's processes" {
  task_json_of -t '"pidMode": "task"' \
    "$(container_json -n a -c '"essential": false' -- "${SIDECAR[@]}")" \
    "$(container_json -n b -c "$(dep a START)" -- /bin/sh -c 'sleep 0.3; ps -o pid,args')"
  run skiff_run "$TASK"
  assert_status 0
  printf '%s\n' "$output" | grep -E '^b +\|.*probe sig-wait' ||
    { echo "b does not see a's process:" >&2; printf '%s\n' "$output" >&2; false; }
}

@test "without pidMode task a container does not see the others' processes" {
  task_json_of \
    "$(container_json -n a -c '"essential": false' -- "${SIDECAR[@]}")" \
    "$(container_json -n b -c "$(dep a START)" -- /bin/sh -c 'sleep 0.3; ps -o pid,args')"
  run skiff_run "$TASK"
  assert_status 0
  ! printf '%s\n' "$output" | grep -E '^b +\|.*probe sig-wait'
}

# ---- Ctrl-C in every phase ------------------------------------------------------------------

@test "Ctrl-C while a dependent waits for HEALTHY: 130, host clean" {
  task_json_of \
    "$(container_json -n db -c '"essential": false' \
      -c '"healthCheck": { "command": [ "CMD-SHELL", "exit 1" ], "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 60 }' \
      -- "${SIDECAR[@]}")" \
    "$(container_json -n app -c "$(dep db HEALTHY)" -- "$PROBE" print app-ran)"
  skiff_bg --events-file "$EV" "$TASK"
  wait_for_line "$EV" '"container":"db","event":"started"'
  sleep 0.5
  kill -INT "$BG_PID"
  wait_bg 10
  [ "$BG_STATUS" -eq 130 ]
  evassert "$EV" 'ev("app","started") == []'
  assert_host_clean 5
}

@test "Ctrl-C during a stop timeout: 130, the stubborn container killed, host clean" {
  task_json_of \
    "$(container_json -n stubborn -c '"essential": false, "stopTimeout": 20' -- "$PROBE" ignore-term 60)" \
    "$(container_json -n trigger -- /bin/sh -c 'sleep 0.5')"
  skiff_bg --events-file "$EV" "$TASK"
  wait_for_line "$EV" '"container":"stubborn","event":"stop"'
  sleep 0.3
  kill -INT "$BG_PID"
  wait_bg 10
  [ "$BG_STATUS" -eq 130 ]
  evassert "$EV" 't("stubborn","kill") - t("stubborn","stop") < 5'
  assert_host_clean 5
}

@test "Ctrl-C with several running containers: 130, each stopped, host clean" {
  task_json_of \
    "$(container_json -n a -- "${SIDECAR[@]}")" \
    "$(container_json -n b -c '"essential": false' -- "${SIDECAR[@]}")"
  skiff_bg --events-file "$EV" "$TASK"
  wait_for_line "$EV" '"container":"b","event":"started"'
  wait_for_line "$EV" '"container":"a","event":"started"'
  kill -INT "$BG_PID"
  wait_bg 10
  [ "$BG_STATUS" -eq 130 ]
  evassert "$EV" 'one(None,"task-stopped")["stopCode"] == "UserInitiated"'
  evassert "$EV" 'len(ev(None,"stop")) == 2'
  assert_host_clean 5
}
