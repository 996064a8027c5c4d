#!/usr/bin/env bats
# skiff run: output, exit codes, command override, environment, images.

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

@test "run: the container's stdout and stderr reach skiff's, separately" {
  task_json -- "$PROBE" print to-stdout eprint to-stderr
  run --separate-stderr skiff_run "$TASK"
  assert_status 0
  [ "$output" = to-stdout ]
  assert_contains "$stderr" to-stderr stderr
  assert_not_contains "$output" to-stderr stdout
}

@test "run: exits with the essential container's exit code" {
  task_json -- "$PROBE" exit 42
  run skiff_run "$TASK"
  assert_status 42
}

@test "run: a container killed by SIGSEGV makes skiff exit 139" {
  task_json -- "$PROBE" segv
  run skiff_run "$TASK"
  assert_status 139
}

@test "run: a command found through PATH in the image" {
  task_json -- probe print via-path
  run skiff_run "$TASK"
  assert_status 0
  [ "$output" = via-path ]
}

@test "run: a missing executable exits 127 with one line naming it" {
  task_json -- /usr/bin/no-such-program
  run --separate-stderr skiff_run "$TASK"
  assert_status 127
  assert_one_line "$stderr"
  assert_contains "$stderr" /usr/bin/no-such-program stderr
  assert_contains "$stderr" "No such file or directory" stderr
}

@test "run: a file that is not executable exits 126" {
  task_json -- /etc/passwd
  run --separate-stderr skiff_run "$TASK"
  assert_status 126
  assert_one_line "$stderr"
  assert_contains "$stderr" /etc/passwd stderr
  assert_contains "$stderr" "Permission denied" stderr
}

@test "run: a missing image directory is a set-up error: 125, one line" {
  task_json -i dir:/nonexistent-skiff-image -- "$PROBE" pid
  run --separate-stderr skiff_run "$TASK"
  assert_status 125
  assert_one_line "$stderr"
  assert_contains "$stderr" /nonexistent-skiff-image stderr
  assert_contains "$stderr" "No such file or directory" stderr
}

@test "run: a user missing from the image is a set-up error: 125, one line" {
  task_json -c '"user": "nosuchuser"' -- "$PROBE" id
  run --separate-stderr skiff_run "$TASK"
  assert_status 125
  assert_one_line "$stderr"
  assert_contains "$stderr" nosuchuser stderr
}

@test "run -- CMD ARGS replaces the command of the only container" {
  task_json -- "$PROBE" print original
  run skiff_run "$TASK" -- "$PROBE" args one "two words"
  assert_status 0
  assert_kv arg.0 one
  assert_kv arg.1 "two words"
  assert_not_contains "$output" original
}

@test "run --container NAME -- CMD replaces that container's command only" {
  task_json_of \
    "$(container_json -n side -c '"essential": false' -- "$PROBE" print side-original)" \
    "$(container_json -n main -- "$PROBE" print main-original)"
  run skiff_run --container main "$TASK" -- "$PROBE" print main-replaced
  assert_status 0
  assert_contains "$output" main-replaced
  assert_contains "$output" side-original
  assert_not_contains "$output" main-original
}

@test "run: a relative dir: image is resolved from the task file's directory" {
  mkdir -p "$BATS_TEST_TMPDIR/project"
  ln -s "$SKIFF_ROOTFS" "$BATS_TEST_TMPDIR/project/rootfs"
  task_json -o "$BATS_TEST_TMPDIR/project/task.json" -i dir:rootfs -- "$PROBE" print relative
  cd /
  run skiff_run "$BATS_TEST_TMPDIR/project/task.json"
  assert_status 0
  [ "$output" = relative ]
}

@test "run: writes in the container never reach the image directory" {
  local marker=/etc/skiff-test-$MARK
  task_json -- "$PROBE" write "$marker" written read "$marker"
  run skiff_run "$TASK"
  assert_status 0
  assert_kv write OK
  assert_contains "$output" written
  [ ! -e "$SKIFF_ROOTFS$marker" ]
  # A second task starts from the image again.
  task_json -- "$PROBE" read "$marker"
  run skiff_run "$TASK"
  assert_status 2
  assert_kv read ENOENT
}

@test "run: the environment holds the task's variables and --env overrides them" {
  task_json -e GREETING=hello -e KEEP=kept -- "$PROBE" env
  run skiff_run --env GREETING=overridden --env EXTRA=added "$TASK"
  assert_status 0
  assert_kv GREETING overridden
  assert_kv KEEP kept
  assert_kv EXTRA added
  assert_kv SKIFF_TEST_MARK "$MARK"
  # Nothing leaks from skiff's own environment.
  SKIFF_LEAK_CHECK=host run skiff_run "$TASK"
  assert_status 0
  [ -z "$(kv SKIFF_LEAK_CHECK)" ]
}

@test "run: PATH and HOME have defaults when the task does not set them" {
  task_json -- "$PROBE" env
  run skiff_run "$TASK"
  assert_status 0
  assert_contains "$(kv PATH)" /usr/bin PATH
  [ -n "$(kv HOME)" ]
}

@test "run: workingDirectory sets the cwd; the default is /" {
  task_json -c '"workingDirectory": "/tmp"' -- "$PROBE" cwd
  run skiff_run "$TASK"
  assert_status 0
  assert_kv cwd /tmp
  task_json -- "$PROBE" cwd
  run skiff_run "$TASK"
  assert_status 0
  assert_kv cwd /
}

@test "run --timeout ends a container that runs too long: 124" {
  # As pid 1 the probe ignores SIGTERM: the stop needs SIGKILL after 2 s.
  task_json -c '"stopTimeout": 2' -- "$PROBE" sleep 60
  local start=$SECONDS
  run skiff_run --timeout 2s "$TASK"
  assert_status 124
  assert_kv sleeping 60
  [ $((SECONDS - start)) -ge 2 ]
  [ $((SECONDS - start)) -lt 15 ]
}

@test "run: an essential container's exit stops the others and sets the exit code" {
  task_json_of \
    "$(container_json -n sleeper -c '"essential": false, "stopTimeout": 2' -- "$PROBE" sleep 60)" \
    "$(container_json -n main -- "$PROBE" sleep 1 exit 3)"
  local start=$SECONDS
  run skiff_run "$TASK"
  assert_status 3
  [ $((SECONDS - start)) -lt 20 ]
}

@test "run: a non-essential container's exit changes nothing" {
  task_json_of \
    "$(container_json -n helper -c '"essential": false' -- "$PROBE" exit 5)" \
    "$(container_json -n main -- "$PROBE" sleep 1 print main-done)"
  run skiff_run "$TASK"
  assert_status 0
  assert_contains "$output" main-done
}
