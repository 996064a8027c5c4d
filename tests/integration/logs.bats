#!/usr/bin/env bats
# Container output: the `name | ` prefix (several containers), none for one,
# --prefix/--no-prefix, and the rotated log files under a flood.

load helpers

setup() {
  common_setup
  FOLLOW_PID=""
}
teardown() {
  local id
  # A failed test leaves its detached tasks and followers: end them here.
  [ -n "${FOLLOW_PID:-}" ] && kill "$FOLLOW_PID" 2>/dev/null
  for id in $(ls "$ROOT/tasks" 2>/dev/null); do
    "$SKIFF" --root "$ROOT" rm -f "$id" >/dev/null 2>&1 || true
  done
  common_teardown
}

two_containers() {
  task_json_of \
    "$(container_json -n web -c '"essential": false' -- "$PROBE" print hello-web)" \
    "$(container_json -n worker -- /bin/sh -c 'sleep 0.3; echo hello-worker; echo oops-worker >&2')"
}

@test "logs: with several containers each line says whose it is (name | )" {
  two_containers
  run --separate-stderr skiff_run "$TASK"
  assert_status 0
  printf '%s\n' "$output" | grep -qxE 'web +\| hello-web' ||
    { echo "no 'web    | hello-web' line in:" >&2; printf '%s\n' "$output" >&2; false; }
  printf '%s\n' "$output" | grep -qxE 'worker \| hello-worker' ||
    { echo "no 'worker | hello-worker' line in:" >&2; printf '%s\n' "$output" >&2; false; }
  # The padding lines the bars up.
  [ "$(printf '%s\n' "$output" | grep -F '| hello-' | awk -F'|' '{print length($1)}' | sort -u | wc -l)" -eq 1 ]
  printf '%s\n' "$stderr" | grep -qxE 'worker \| oops-worker'
  assert_not_contains "$output" oops-worker
}

@test "logs: one container's output passes through without a prefix" {
  task_json -- "$PROBE" print hello
  run --separate-stderr skiff_run "$TASK"
  assert_status 0
  [ "$output" = hello ]
}

@test "logs: --no-prefix with several containers" {
  two_containers
  run --separate-stderr skiff_run --no-prefix "$TASK"
  assert_status 0
  printf '%s\n' "$output" | grep -qx hello-web
  printf '%s\n' "$output" | grep -qx hello-worker
  assert_not_contains "$output" '| '
}

@test "logs: --prefix with one container" {
  task_json -- "$PROBE" print hello
  run --separate-stderr skiff_run --prefix "$TASK"
  assert_status 0
  printf '%s\n' "$output" | grep -qxE 'app +\| hello'
}

@test "logs: a 5 MB flood never makes the log files exceed max-size x max-file" {
  local cap=$((64 * 1024 * 2)) slack=$((16 * 1024)) most=0 size dir
  task_json -c '"logConfiguration": { "logDriver": "json-file", "options": { "max-size": "64k", "max-file": "2" } }' \
    -- /bin/sh -c 'yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz | head -c 5000000; echo; echo flood-done; exec /usr/bin/probe sig-wait'
  skiff_bg "$TASK"
  # Measure all along, until the flood is over.
  local tries=300
  while ! grep -q flood-done "$BG_OUT" 2>/dev/null; do
    [ $tries -gt 0 ] && bg_alive || { echo "flood never ended; stderr:" >&2; cat "$BG_ERR" >&2; false; }
    for dir in "$ROOT"/tasks/*/logs; do
      [ -d "$dir" ] || continue
      size=$(du -sb --apparent-size "$dir" | awk '{print $1}')
      [ "$size" -gt "$most" ] && most=$size
    done
    sleep 0.1
    tries=$((tries - 1))
  done
  dir=$(echo "$ROOT"/tasks/*/logs)
  size=$(du -sb --apparent-size "$dir" | awk '{print $1}')
  [ "$size" -gt "$most" ] && most=$size
  ls -l "$dir" >&2
  echo "largest log directory seen: $most bytes (cap $cap)" >&2
  [ "$most" -le $((cap + slack)) ]
  # It rotated (the cap is reached) and the newest file has the last line.
  [ "$most" -ge $((cap / 2)) ]
  [ -e "$dir/app.log.1" ]
  grep -q flood-done "$dir/app.log"
  # Every byte reached the terminal all the same.
  [ "$(grep -c 0123456789abcdef "$BG_OUT")" -ge 60000 ]
  kill -INT "$BG_PID"
  wait_bg 10
  [ "$BG_STATUS" -eq 130 ]
}

@test "logs: a container that prints nothing gets no log file; skiff logs of it prints nothing" {
  task_json -- /bin/true
  # In the foreground: the task directory never holds a logs/ directory.
  run -0 --separate-stderr skiff_run "$TASK"
  [ -z "$output" ]
  # Detached: the task stays until rm, so look inside it.
  run -0 skiff run -d "$TASK"
  local id=$output
  run -0 skiff wait "$id"
  [ ! -e "$ROOT/tasks/$id/logs" ]
  run -0 --separate-stderr skiff logs "$id"
  [ -z "$output" ]
  [ -z "$stderr" ]
  run -0 skiff logs --tail 5 "$id"
  [ -z "$output" ]
  # One line, and the file appears with it.
  task_json -- "$PROBE" print said-once
  run -0 skiff run -d "$TASK"
  local id2=$output
  run -0 skiff wait "$id2"
  [ -f "$ROOT/tasks/$id2/logs/app.log" ]
  run -0 skiff logs "$id2"
  [ "$output" = said-once ]
  run -0 skiff rm "$id" "$id2"
}

# ---- skiff logs -f --------------------------------------------------------------

# `skiff logs -f ID` in the background: output in $FOLLOW_OUT, pid in $FOLLOW_PID.
follow_bg() {
  FOLLOW_OUT=$BATS_TEST_TMPDIR/follow.out
  : >"$FOLLOW_OUT"
  timeout 60 "$SKIFF" --root "$ROOT" logs -f "$@" >"$FOLLOW_OUT" 2>&1 3>&- &
  FOLLOW_PID=$!
}

# Wait up to SECONDS (default 15) for pid $1 to end; its status in $FOLLOW_STATUS.
wait_pid() {
  local tries=$((${2:-15} * 10))
  while kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; do
    [ $tries -gt 0 ] || { echo "pid $1 still running after ${2:-15}s" >&2; return 1; }
    sleep 0.1
    tries=$((tries - 1))
  done
  FOLLOW_STATUS=0
  wait "$1" || FOLLOW_STATUS=$?
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

@test "logs -f: a line the container prints once -f runs shows up at once" {
  # The container prints `late-line` once the test touches /tmp/go in it.
  task_json -- /bin/sh -c 'echo early-line; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo late-line; exec /usr/bin/probe sig-wait'
  run -0 skiff run -d "$TASK"
  local id=$output
  follow_bg "$id"
  wait_for_line "$FOLLOW_OUT" '^early-line$'
  skiff exec "$id" -- touch /tmp/go
  local start waited
  start=$(now_ms)
  wait_for_line "$FOLLOW_OUT" '^late-line$' 5
  waited=$(($(now_ms) - start))
  echo "late-line reached logs -f ${waited} ms after the trigger (a shared machine: noisy)" >&2
  # Generous: a wake-up, not a timing test.
  [ "$waited" -lt 1000 ]
  run -0 skiff rm -f "$id"
  wait_pid "$FOLLOW_PID"
  [ "$FOLLOW_STATUS" -eq 0 ]
}

@test "logs -f and events -f end when the task stops, after its last lines" {
  task_json -- /bin/sh -c 'trap "echo last-words; exit 0" TERM; echo hello; while :; do sleep 0.1; done'
  run -0 skiff run -d "$TASK"
  local id=$output
  follow_bg "$id"
  local events_out=$BATS_TEST_TMPDIR/events.out
  timeout 60 "$SKIFF" --root "$ROOT" events -f "$id" >"$events_out" 2>&1 3>&- &
  local events_pid=$!
  wait_for_line "$FOLLOW_OUT" '^hello$'
  wait_for_line "$events_out" ' started '
  # Still following while the task runs.
  kill -0 "$FOLLOW_PID"
  kill -0 "$events_pid"
  run -0 skiff stop "$id"
  wait_pid "$FOLLOW_PID" 10
  [ "$FOLLOW_STATUS" -eq 0 ]
  grep -qx last-words "$FOLLOW_OUT"
  wait_pid "$events_pid" 10
  [ "$FOLLOW_STATUS" -eq 0 ]
  grep -q ' task-stopped ' "$events_out"
  run -0 skiff rm "$id"
}

@test "logs -f re-adopts a task whose monitor was killed: later lines still arrive, -f ends at stop" {
  # Lines appear when the test touches /tmp/next-N in the container.
  task_json -c '"linuxParameters": {"initProcessEnabled": true}' -- /bin/sh -c \
    'echo line-0; n=1; while :; do while [ ! -e /tmp/next-$n ]; do sleep 0.05; done; echo line-$n; n=$((n+1)); done'
  run -0 skiff run -d "$TASK"
  local id=$output
  follow_bg "$id"
  wait_for_line "$FOLLOW_OUT" '^line-0$'
  local mon
  mon=$(awk '{print $1}' "$ROOT/tasks/$id/monitor")
  kill -9 "$mon"
  # Only the running `logs -f` is there to notice: no other skiff command runs.
  local tries=100
  until [ "$(awk '{print $1}' "$ROOT/tasks/$id/monitor" 2>/dev/null)" != "$mon" ]; do
    [ $((tries -= 1)) -gt 0 ] || { echo "no new monitor after 10 s" >&2; false; }
    sleep 0.1
  done
  # exec needs no supervisor; the new one reads the FIFO.
  "$SKIFF" --root "$ROOT" exec "$id" -- touch /tmp/next-1
  wait_for_line "$FOLLOW_OUT" '^line-1$' 10
  run -0 skiff stop "$id"
  wait_pid "$FOLLOW_PID" 15
  [ "$FOLLOW_STATUS" -eq 0 ]
  run -0 skiff rm "$id"
}

@test "logs -f: a log file made after -f started, and its rotations, are followed" {
  # Nothing at first (no logs/ yet), then 3,000 lines through 64 KiB files.
  task_json -c '"logConfiguration": { "logDriver": "json-file", "options": { "max-size": "64k", "max-file": "5" } }' \
    -- /bin/sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done; i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo line-$i; [ $((i % 300)) -eq 0 ] && sleep 0.1; done; echo done'
  run -0 skiff run -d "$TASK"
  local id=$output
  follow_bg "$id"
  sleep 0.3
  [ ! -e "$ROOT/tasks/$id/logs" ]
  skiff exec "$id" -- touch /tmp/go
  wait_pid "$FOLLOW_PID" 30
  [ "$FOLLOW_STATUS" -eq 0 ]
  [ -e "$ROOT/tasks/$id/logs/app.log.1" ]
  # Every line, once, in order.
  diff <({ seq 1 3000 | sed 's/^/line-/'; echo done; }) "$FOLLOW_OUT"
  run -0 skiff rm "$id"
}

@test "logs -f on a quiet running task makes no sleep calls (inotify, not polling)" {
  command -v strace >/dev/null || skip "strace is not installed"
  task_json -- /bin/sh -c 'echo hello; exec /usr/bin/probe sig-wait'
  run -0 skiff run -d "$TASK"
  local id=$output log=$BATS_TEST_TMPDIR/strace.log
  FOLLOW_OUT=$BATS_TEST_TMPDIR/follow.out
  # LeakSanitizer cannot run under strace (make asan).
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    timeout 60 strace -f -e trace=nanosleep,clock_nanosleep,inotify_add_watch -o "$log" \
    "$SKIFF" --root "$ROOT" logs -f "$id" >"$FOLLOW_OUT" 2>&1 3>&- &
  FOLLOW_PID=$!
  wait_for_line "$FOLLOW_OUT" '^hello$'
  # A quiet second: a poller would sleep several times meanwhile.
  sleep 1
  run -0 skiff stop "$id"
  wait_pid "$FOLLOW_PID" 10
  [ "$FOLLOW_STATUS" -eq 0 ]
  cat "$log" >&2
  grep -q inotify_add_watch "$log"
  ! grep -Eq 'nanosleep' "$log"
  run -0 skiff rm "$id"
}
