#!/usr/bin/env bats
# Volumes, tmpfs, /dev/shm, and mount destinations planted as symlinks.

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

# host_volume NAME PATH: the task member declaring a host volume.
host_volume() {
  printf '"volumes": [ { "name": "%s", "host": { "sourcePath": "%s" } } ]' "$1" "$2"
}

@test "mounts: a host volume is shared read-write with the host" {
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  echo from-host >"$vol/in"
  task_json -t "$(host_volume data "$vol")" \
    -c '"mountPoints": [ { "sourceVolume": "data", "containerPath": "/data" } ]' \
    -- "$PROBE" read /data/in write /data/out from-container
  run skiff_run "$TASK"
  assert_status 0
  assert_contains "$output" from-host
  assert_kv write OK
  [ "$(cat "$vol/out")" = from-container ]
}

@test "mounts: a readOnly mount point refuses writes (EROFS) but reads" {
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  echo from-host >"$vol/in"
  task_json -t "$(host_volume data "$vol")" \
    -c '"mountPoints": [ { "sourceVolume": "data", "containerPath": "/data", "readOnly": true } ]' \
    -- "$PROBE" read /data/in write /data/out x
  run skiff_run "$TASK"
  assert_contains "$output" from-host
  assert_kv write EROFS
  [ ! -e "$vol/out" ]
}

@test "mounts: volume mounts are nosuid and nodev" {
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  task_json -t "$(host_volume data "$vol")" \
    -c '"mountPoints": [ { "sourceVolume": "data", "containerPath": "/data" } ]' \
    -- "$PROBE" stat /data
  run skiff_run "$TASK"
  assert_status 0
  assert_kv statfs.nosuid 1
  assert_kv statfs.nodev 1
}

@test "mounts: a missing containerPath is created in the container, not in the image" {
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  task_json -t "$(host_volume data "$vol")" \
    -c '"mountPoints": [ { "sourceVolume": "data", "containerPath": "/skiff-new/dir" } ]' \
    -- "$PROBE" write /skiff-new/dir/f ok
  run skiff_run "$TASK"
  assert_status 0
  assert_kv write OK
  [ -e "$vol/f" ]
  [ ! -e "$SKIFF_ROOTFS/skiff-new" ]
}

@test "mounts: linuxParameters.tmpfs mounts a tmpfs of the given size" {
  task_json -c '"linuxParameters": { "tmpfs": [ { "containerPath": "/scratch", "size": 16 } ] }' \
    -- "$PROBE" stat /scratch rofs /scratch
  run skiff_run "$TASK"
  assert_status 0
  assert_kv statfs.type tmpfs
  assert_kv statfs.size $((16 * 1024 * 1024))
  assert_kv rofs writable
}

@test "mounts: tmpfs mountOptions are applied (ro, noexec)" {
  task_json -c '"linuxParameters": { "tmpfs": [ { "containerPath": "/scratch", "size": 8, "mountOptions": ["ro", "noexec"] } ] }' \
    -- "$PROBE" stat /scratch rofs /scratch
  run skiff_run "$TASK"
  assert_kv statfs.readonly 1
  assert_kv statfs.noexec 1
  assert_kv rofs EROFS
}

@test "mounts: /dev/shm is a 64 MiB tmpfs by default, nosuid,nodev,noexec" {
  task_json -- "$PROBE" stat /dev/shm
  run skiff_run "$TASK"
  assert_status 0
  assert_kv statfs.type tmpfs
  assert_kv statfs.size $((64 * 1024 * 1024))
  assert_kv statfs.nosuid 1
  assert_kv statfs.nodev 1
  assert_kv statfs.noexec 1
}

@test "mounts: sharedMemorySize sets the size of /dev/shm" {
  task_json -c '"linuxParameters": { "sharedMemorySize": 32 }' -- "$PROBE" stat /dev/shm
  run skiff_run "$TASK"
  assert_status 0
  assert_kv statfs.size $((32 * 1024 * 1024))
}

@test "mounts: a scratch volume is shared between the containers of a task" {
  task_json_of -t '"volumes": [ { "name": "shared" } ]' \
    "$(container_json -n writer -c '"essential": false,
      "mountPoints": [ { "sourceVolume": "shared", "containerPath": "/shared" } ]' \
      -- "$PROBE" write /shared/note from-writer)" \
    "$(container_json -n reader -c '"dependsOn": [ { "containerName": "writer", "condition": "SUCCESS" } ],
      "mountPoints": [ { "sourceVolume": "shared", "containerPath": "/shared" } ]' \
      -- "$PROBE" read /shared/note)"
  run skiff_run "$TASK"
  assert_status 0
  assert_contains "$output" from-writer
}

# An image copy whose /evil is a symlink to a host directory.
image_with_symlink() {
  IMAGE=$BATS_TEST_TMPDIR/image
  TARGET=$BATS_TEST_TMPDIR/host-target
  cp -a "$SKIFF_ROOTFS" "$IMAGE"
  mkdir -p "$TARGET"
  echo untouched >"$TARGET/sentinel"
  ln -s "$TARGET" "$IMAGE/evil"
}

# The host target must be exactly as before: same content, no mount on it.
assert_target_untouched() {
  [ "$(ls -A "$TARGET")" = sentinel ] || { echo "host target changed: $(ls -A "$TARGET")" >&2; return 1; }
  [ "$(cat "$TARGET/sentinel")" = untouched ]
  if grep -qF " $TARGET " /proc/self/mountinfo; then
    echo "something is mounted on the host target" >&2
    return 1
  fi
}

@test "mounts: a symlink in the image cannot point a volume at the host" {
  image_with_symlink
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  echo volume-content >"$vol/payload"
  task_json -i "dir:$IMAGE" -t "$(host_volume data "$vol")" \
    -c '"mountPoints": [ { "sourceVolume": "data", "containerPath": "/evil" } ]' \
    -- "$PROBE" ls /evil
  run skiff_run "$TASK"
  # Refused (125) or resolved inside the rootfs: either way the host is intact.
  if [ "$status" -ne 125 ]; then
    assert_status 0
  fi
  assert_target_untouched
}

@test "mounts: a symlink in the image cannot point a tmpfs at the host" {
  image_with_symlink
  task_json -i "dir:$IMAGE" \
    -c '"linuxParameters": { "tmpfs": [ { "containerPath": "/evil", "size": 1 } ] }' \
    -- "$PROBE" write /evil/dropped x
  run skiff_run "$TASK"
  if [ "$status" -ne 125 ]; then
    assert_status 0
  fi
  assert_target_untouched
}

@test "mounts: a container writing through an image symlink stays in its overlay" {
  image_with_symlink
  task_json -i "dir:$IMAGE" -- "$PROBE" write /evil/dropped x
  run skiff_run "$TASK"
  # /evil resolves inside the container's root, where the target is absent.
  assert_kv write ENOENT
  assert_target_untouched
}
