#!/usr/bin/env bats
# Health checks: status transitions, startPeriod, probes inside the
# container, restart on UNHEALTHY, Ctrl-C during a probe. Read from the
# event log (see evq). Intervals are ECS's minimum (5 s); during the start
# period skiff probes every 2 s.

load helpers

setup() {
  common_setup
  EV=$BATS_TEST_TMPDIR/events.jsonl
}
teardown() { common_teardown; }

# health_check 'SHELL COMMAND' [MEMBERS]: a CMD-SHELL healthCheck member.
health_check() {
  printf '"healthCheck": { "command": [ "CMD-SHELL", "%s" ], "interval": 5, "timeout": 2%s }' \
    "$1" "${2:+, $2}"
}

# Runs until the task stops it (a shell as pid 1 needs a SIGTERM handler).
STOPPABLE='trap "exit 0" TERM; while :; do sleep 0.1; done'

@test "health: UNKNOWN -> HEALTHY, then UNHEALTHY after 'retries' consecutive failures" {
  # /tmp/ok exists for the first 3 s: the probe at 2 s passes, the ones at
  # 7 s and 12 s fail.
  task_json -c "$(health_check 'test -e /tmp/ok' '"retries": 2, "startPeriod": 2')" \
    -- /bin/sh -c "touch /tmp/ok; (sleep 3; rm /tmp/ok) & $STOPPABLE"
  run skiff_run --timeout 14s --events-file "$EV" "$TASK"
  assert_status 124
  evassert "$EV" '[(e["previous"], e["status"]) for e in ev("app","health")] == [("UNKNOWN","HEALTHY"), ("HEALTHY","UNHEALTHY")]'
  evassert "$EV" '1.5 <= t("app","health",status="HEALTHY") - t("app","started") <= 3'
  # Two failures five seconds apart, not one.
  evassert "$EV" '9.5 <= t("app","health",status="UNHEALTHY") - t("app","health",status="HEALTHY") <= 11.5'
  evassert "$EV" 'one("app","health",status="UNHEALTHY")["exitCode"] == 1'
  evassert "$EV" 'one(None,"task-stopped")["containers"][0]["healthStatus"] == "UNHEALTHY"'
}

@test "health: the probe runs inside the container (its files, hostname and environment)" {
  [ ! -e /tmp/skiff-health-inside ]
  task_json -c "$(health_check 'cat /tmp/skiff-health-inside && echo \"host=$(hostname) mark=$SKIFF_TEST_MARK\"' '"startPeriod": 10')" \
    -- /bin/sh -c "echo made-in-the-container >/tmp/skiff-health-inside; $STOPPABLE"
  skiff_bg --events-file "$EV" "$TASK"
  wait_for_line "$EV" '"event":"health"' 10
  kill -TERM "$BG_PID"
  wait_bg 10
  local output
  output=$(evq "$EV" 'one("app","health")["output"]')
  assert_contains "$output" made-in-the-container
  assert_contains "$output" "mark=$MARK"
  assert_not_contains "$output" "host=$(hostname)"
  evassert "$EV" 'one("app","health")["status"] == "HEALTHY"'
}

@test "health: failures during startPeriod do not count" {
  # Failing probes at 2 and 4 s fall in the period; the next one, an
  # interval later (9 s), counts. Without the grace the first failure (2 s,
  # or 5 s without the start-period pace) would make it UNHEALTHY.
  task_json -c "$(health_check 'exit 1' '"retries": 1, "startPeriod": 6')" \
    -- /bin/sh -c "$STOPPABLE"
  run skiff_run --timeout 11s --events-file "$EV" "$TASK"
  assert_status 124
  evassert "$EV" 'len(ev("app","health")) == 1'
  evassert "$EV" '6 <= t("app","health",status="UNHEALTHY") - t("app","started") <= 10'
}

@test "health: restart on UNHEALTHY (skiff.restart=on-failure, onUnhealthy=restart), then give up" {
  task_json -c "$(health_check 'exit 1' '"retries": 1')" \
    -c '"dockerLabels": { "skiff.restart": "on-failure", "skiff.restart.onUnhealthy": "restart", "skiff.restart.delay": "100ms", "skiff.restart.maxAttempts": "1" }' \
    -- /bin/sh -c "$STOPPABLE"
  run --separate-stderr skiff_run --events-file "$EV" "$TASK"
  # The container itself exits 0 on SIGTERM: the task still failed.
  assert_status 1
  evassert "$EV" 'len(ev("app","started")) == 2'
  evassert "$EV" '[e["decision"] for e in ev("app","exit")] == ["restart", "stop"]'
  evassert "$EV" 'all(e["reason"] == "Container failed its health check" for e in ev("app","exit"))'
  evassert "$EV" 'at("app","health",status="UNHEALTHY") < at("app","stop") < at("app","exit")'
  evassert "$EV" 'one(None,"task-stopped")["stopCode"] == "ServiceSchedulerInitiated"'
  evassert "$EV" 'ev("app","exit")[-1]["why"].startswith("gave up")'
}

@test "health: onUnhealthy=stop-task stops the task; exit non-zero although the container exits 0" {
  task_json_of \
    "$(container_json -n app -c "$(health_check 'exit 1' '"retries": 1')" \
      -c '"dockerLabels": { "skiff.restart.onUnhealthy": "stop-task" }' -- /bin/sh -c "$STOPPABLE")" \
    "$(container_json -n side -c '"essential": false' -- "$PROBE" sig-wait)"
  run --separate-stderr skiff_run --events-file "$EV" "$TASK"
  assert_status 1
  evassert "$EV" 'at("app","health",status="UNHEALTHY") < at(None,"task-stopping")'
  evassert "$EV" 'one(None,"task-stopped")["stopCode"] == "ServiceSchedulerInitiated"'
  evassert "$EV" 'one(None,"task-stopped")["stoppedReason"] == "Task failed container health checks"'
  evassert "$EV" 'one("app","exit")["exitCode"] == 0 and one("side","exit")["exitCode"] == 143'
}

@test "Ctrl-C during a health probe: 130, the probe and the container gone, host clean" {
  task_json -c "$(health_check 'sleep 30' '"startPeriod": 20')" -i "dir:$SKIFF_ROOTFS" \
    -- "$PROBE" sig-wait
  skiff_bg --events-file "$EV" "$TASK"
  wait_for_line "$EV" '"event":"started"'
  container_pid sleep >/dev/null
  kill -INT "$BG_PID"
  wait_bg 10
  [ "$BG_STATUS" -eq 130 ]
  assert_host_clean 5
}
