#!/usr/bin/env bats
# Terminals: pseudoTerminal (docker -t) and interactive (docker -i) in
# `skiff run`, and `skiff exec -t`. bats has no terminal, so skiff runs
# under tests/tools/ptydrive.py, which gives it one (window 40x132 unless
# said otherwise), types, resizes, signals, and reports whether skiff left
# its terminal in the mode it found it in.

load helpers

setup() {
  common_setup
  command -v python3 >/dev/null || skip "python3 drives the terminal"
  DRIVE=$BATS_TEST_DIRNAME/../tools/ptydrive.py
}
teardown() {
  local id
  for id in $(ls "$ROOT/tasks" 2>/dev/null); do
    "$SKIFF" --root "$ROOT" rm -f "$id" >/dev/null 2>&1 || true
  done
  common_teardown
}

# drive [DRIVER STEPS...] -- SKIFF-ARGS...: skiff on a 40x132 terminal;
# sets $output (the terminal's text, CRs removed) and $status (the driver's).
drive() {
  local steps=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    steps+=("$1")
    shift
  done
  shift
  run python3 "$DRIVE" --rows 40 --cols 132 "${steps[@]}" -- "$SKIFF" --root "$ROOT" "$@"
  output=${output//$'\r'/}
}

# The driver saw skiff exit with CODE and the terminal back in its mode.
assert_drive() {
  assert_status 0
  assert_contains "$output" "ptydrive: exit=$1"
  assert_contains "$output" "ptydrive: restored=yes"
}

tty_task() {
  task_json -c '"pseudoTerminal": true, "interactive": true' -- /bin/sh -c "$1"
}

@test "pseudoTerminal: stdio is a terminal, /dev/console, its size, TERM, the exit code" {
  tty_task '[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-tty; tty; stty size; echo TERM=$TERM; read -r _ _ _ _ _ _ ctty _ </proc/1/stat; [ "$ctty" != 0 ] && echo ctty-set; exit 7'
  drive -- run "$TASK"
  assert_drive 7
  assert_contains "$output" "ctty-set"
  assert_contains "$output" "stdio-tty"
  assert_contains "$output" "/dev/console"
  assert_contains "$output" "40 132"
  assert_contains "$output" "TERM=xterm"
}

@test "pseudoTerminal as a non-root user on a read-only root: /dev/console and /dev/tty" {
  task_json -c '"pseudoTerminal": true, "user": "nobody", "readonlyRootFilesystem": true' \
    -- /bin/sh -c 'id -u; tty; echo via-dev-tty >/dev/tty; stty size'
  drive -- run "$TASK"
  assert_drive 0
  assert_contains "$output" "65534"
  assert_contains "$output" "/dev/console"
  assert_contains "$output" "via-dev-tty"
  assert_contains "$output" "40 132"
}

@test "a restarted container gets a new terminal and skiff's stdin again" {
  task_json -c '"pseudoTerminal": true, "interactive": true, "dockerLabels": { "skiff.restart": "on-failure", "skiff.restart.delay": "100ms", "skiff.restart.maxAttempts": "1" }' \
    -- /bin/sh -c 'echo ready; read l; echo got:$l; exit 1'
  drive --expect ready --send 'one\r' --expect ready --send 'two\r' -- run "$TASK"
  assert_drive 1
  assert_contains "$output" "got:one"
  assert_contains "$output" "got:two"
}

@test "pseudoTerminal: the task's TERM wins" {
  task_json -e TERM=vt100 -c '"pseudoTerminal": true' -- /bin/sh -c 'echo TERM=$TERM'
  drive -- run "$TASK"
  assert_drive 0
  assert_contains "$output" "TERM=vt100"
}

@test "interactive: typed input reaches the container; the terminal is raw meanwhile" {
  tty_task 'echo ready; read line; echo got:$line'
  drive --expect ready --check-raw --send 'hello world\r' -- run "$TASK"
  assert_drive 0
  assert_contains "$output" "got:hello world"
  assert_contains "$output" "ptydrive: raw=yes"
}

@test "a resize of skiff's terminal reaches the container" {
  tty_task 'stty size; echo ready; read x; stty size'
  drive --expect ready --resize 50x100 --send 'go\r' -- run "$TASK"
  assert_drive 0
  assert_contains "$output" "40 132"
  assert_contains "$output" "50 100"
}

@test "Ctrl-C is a byte for the container, which decides (raw mode)" {
  tty_task 'trap "echo container-got-INT; exit 5" INT; echo ready; while :; do sleep 0.1; done'
  drive --expect ready --send '\x03' -- run "$TASK"
  assert_drive 5
  assert_contains "$output" "container-got-INT"
}

@test "SIGTERM to skiff stops the task and restores the terminal" {
  tty_task 'trap "exit 3" TERM; echo ready; while :; do sleep 0.1; done'
  drive --expect ready --check-raw --signal TERM -- run "$TASK"
  assert_drive 143
  assert_contains "$output" "ptydrive: raw=yes"
}

@test "a task that cannot start restores the terminal too" {
  task_json -c '"pseudoTerminal": true, "interactive": true' -- /no/such/command
  drive -- run "$TASK"
  assert_drive 127
}

@test "initProcessEnabled: the task has the terminal and Ctrl-C, init stays out of the way" {
  task_json -c '"pseudoTerminal": true, "interactive": true, "linuxParameters": { "initProcessEnabled": true }' \
    -- /bin/sh -c 'trap "echo task-got-INT; exit 4" INT; [ -t 0 ] && echo stdio-tty; echo ready; while :; do sleep 0.1; done'
  drive --expect ready --send '\x03' -- run "$TASK"
  assert_drive 4
  assert_contains "$output" "stdio-tty"
  assert_contains "$output" "task-got-INT"
}

@test "without pseudoTerminal the container's stdout is not a terminal, even on one" {
  task_json -- /bin/sh -c '[ -t 1 ] && echo stdout-tty || echo stdout-not-tty; [ -t 0 ] || echo stdin-not-tty'
  drive -- run "$TASK"
  assert_drive 0
  assert_contains "$output" "stdout-not-tty"
  assert_contains "$output" "stdin-not-tty"
}

@test "pseudoTerminal without interactive: no input, the terminal is left alone" {
  task_json -c '"pseudoTerminal": true' -- /bin/sh -c '[ -t 1 ] && echo stdout-tty; echo ready; sleep 0.5'
  drive --expect ready --check-raw -- run "$TASK"
  assert_drive 0
  assert_contains "$output" "stdout-tty"
  assert_contains "$output" "ptydrive: raw=no"
}

@test "pseudoTerminal without a terminal: output still arrives (bats' pipes)" {
  tty_task 'stty size; echo out; echo err >&2'
  run --separate-stderr skiff_run "$TASK" </dev/null
  assert_status 0
  assert_contains "$output" "out"
  assert_contains "$output" "err"
}

# The count the container printed (what was echoed before its stty -echo
# may share the line).
count() {
  printf '%s\n' "$output" | grep -o 'count=[0-9]*' | tail -n1
}

@test "interactive pseudoTerminal, stdin a pipe or a file: every byte arrives, then the end" {
  # The container reads only after a second: skiff must wait for room in
  # the pty (flow control), never drop input.
  tty_task 'stty -echo; sleep 1; echo count=$(wc -l)'
  seq 1 20000 >"$BATS_TEST_TMPDIR/input"
  run --separate-stderr bash -c 'seq 1 20000 | timeout 60 "$1" --root "$2" run "$3"' _ "$SKIFF" "$ROOT" "$TASK"
  assert_status 0
  [ "$(count)" = count=20000 ]
  run --separate-stderr bash -c 'timeout 60 "$1" --root "$2" run "$3" <"$4"' _ "$SKIFF" "$ROOT" "$TASK" "$BATS_TEST_TMPDIR/input"
  assert_status 0
  [ "$(count)" = count=20000 ]
  run --separate-stderr bash -c 'timeout 60 "$1" --root "$2" run "$3" </dev/null' _ "$SKIFF" "$ROOT" "$TASK"
  assert_status 0
  [ "$(count)" = count=0 ]
}

@test "several containers with pseudoTerminal: prefixed lines, each its own terminal" {
  export NO_COLOR=1
  task_json_of \
    "$(container_json -n one -c '"pseudoTerminal": true, "essential": false' -- /bin/sh -c '[ -t 1 ] && echo one-tty')" \
    "$(container_json -n two -c '"pseudoTerminal": true' -- /bin/sh -c 'sleep 0.5; [ -t 1 ] && echo two-tty')"
  drive -- run "$TASK"
  assert_drive 0
  assert_contains "$output" "one | one-tty"
  assert_contains "$output" "two | two-tty"
}

@test "exec -t into a detached task: a terminal of the right size; -it takes input" {
  task_json -- sleep 60
  run -0 skiff run -d "$TASK"
  id=$output
  local tries=150
  until skiff exec "$id" -- true >/dev/null 2>&1; do
    tries=$((tries - 1))
    [ $tries -gt 0 ] || { echo "the task never ran" >&2; return 1; }
    sleep 0.1
  done
  drive -- exec -t "$id" -- /bin/sh -c '[ -t 0 ] && [ -t 1 ] && echo exec-tty; stty size; exit 6'
  assert_drive 6
  assert_contains "$output" "exec-tty"
  assert_contains "$output" "40 132"
  drive --expect ready --check-raw --send 'typed\r' -- exec -it "$id" -- /bin/sh -c 'echo ready; read l; echo got:$l'
  assert_drive 0
  assert_contains "$output" "got:typed"
  assert_contains "$output" "ptydrive: raw=yes"
  # The pty is the command's controlling terminal: Ctrl-C interrupts it.
  drive --expect ready --send '\x03' -- exec -it "$id" -- /bin/sh -c 'trap "echo exec-got-INT; exit 4" INT; echo ready; while :; do sleep 0.1; done'
  assert_drive 4
  assert_contains "$output" "exec-got-INT"
  run -0 skiff rm -f "$id"
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

@test "run -d with pseudoTerminal: the output goes to the logs, and survives kill -9 of the supervisor" {
  task_json -c '"pseudoTerminal": true, "interactive": true' -- /bin/sh -c \
    '[ -t 0 ] && [ -t 1 ] && echo detached-tty; stty size; i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.2; done'
  # Idle supervisors hibernate after 200 ms; one with a terminal to read must not.
  SKIFF_HIBERNATE_MS=200 run -0 skiff run -d "$TASK"
  id=$output
  wait_until 'skiff logs "$id" 2>/dev/null | grep -q tick-3'
  sup=$(pgrep -f -- "--root $ROOT __supervise $id" | head -n1)
  [ -n "$sup" ]
  sleep 1
  kill -0 "$sup"
  run -0 skiff logs "$id"
  assert_contains "$output" "detached-tty"
  assert_contains "$output" "24 80"
  assert_not_contains "$output" $'\r'
  kill -KILL "$sup"
  # The next supervisor takes the pty back: the ticks go on in the logs.
  last=$(skiff logs "$id" | grep -o 'tick-[0-9]*' | tail -n1)
  wait_until '[ "$(skiff logs "$id" | grep -c tick-)" -gt $(( ${last#tick-} + 10 )) ]'
  drive -- exec -t "$id" -- /bin/sh -c '[ -t 1 ] && echo exec-tty'
  assert_drive 0
  assert_contains "$output" "exec-tty"
  run -0 skiff rm -f "$id"
}

@test "several containers, one interactive: skiff's own lines end in CR LF while the terminal is raw" {
  export NO_COLOR=1
  task_json_of \
    "$(container_json -n one -c '"pseudoTerminal": true, "interactive": true, "essential": false' -- /bin/sh -c 'echo ready; read l; echo got:$l; echo one-more')" \
    "$(container_json -n two -- /bin/sh -c 'sleep 1; echo from-two; echo again-two')"
  # $output as the terminal got it, CRs kept.
  run python3 "$DRIVE" --rows 40 --cols 132 --expect ready --check-raw --send 'hi\r' -- \
    "$SKIFF" --root "$ROOT" run "$TASK"
  assert_status 0
  assert_contains "$output" "ptydrive: exit=0"
  assert_contains "$output" "ptydrive: raw=yes"
  local term=${output%%ptydrive: exit=*}
  assert_contains "$term" $'one | got:hi\r\n'
  assert_contains "$term" $'two | from-two\r\n'
  # An event line (container one exited), after a CR LF.
  assert_contains "$term" $'\r\nskiff: '
  # No line feed without its carriage return: nothing staircases.
  if [[ $term == *[!$'\r']$'\n'* ]]; then
    printf 'a bare LF in the terminal output:\n%q\n' "$term" >&2
    false
  fi
}
