#!/usr/bin/env bats
# Container output: the `name | ` prefix (several containers), none for one,
# --prefix/--no-prefix, and the rotated log files under a flood.

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

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
