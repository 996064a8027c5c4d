#!/usr/bin/env bats
# --userns: the task in its own user namespace (docs/isolation.md, "User
# namespaces"). Container ids 0-65535 are host ids BASE..BASE+65535; the
# tests pin BASE with --userns-base so that a host /etc/subuid does not
# change the expectations (one test checks the default without it).

load helpers

setup() {
  common_setup
  BASE=300000
  EV=$BATS_TEST_TMPDIR/events.jsonl
  # Host volumes must be reachable by the namespace's root, which bats'
  # own 0700 temporary directory is not.
  HOSTDIR=$(mktemp -d /tmp/skiff-userns.XXXXXX)
  chmod 0755 "$HOSTDIR"
  case $BATS_TEST_DESCRIPTION in
  *refused* | *"usage error"* | *"without ID-mapped"*) ;;
  *) need_idmap ;;
  esac
}
teardown() {
  mountpoint -q "$HOSTDIR/ramfs" 2>/dev/null && umount "$HOSTDIR/ramfs"
  rm -rf "$HOSTDIR"
  common_teardown
}

# --userns needs ID-mapped mounts on the image's filesystem (tmpfs only
# since Linux 6.3, never ramfs: the VM lane's initramfs). Checked once.
need_idmap() {
  local verdict=$BATS_FILE_TMPDIR/idmap
  if [ ! -e "$verdict" ]; then
    task_json -o "$BATS_TEST_TMPDIR/idmap.json" -- /bin/true
    if skiff_run --userns-base $BASE "$BATS_TEST_TMPDIR/idmap.json" 2>&1 |
      grep -q "does not support ID-mapped mounts"; then
      echo no >"$verdict"
    else
      echo yes >"$verdict"
    fi
  fi
  [ "$(cat "$verdict")" = yes ] ||
    skip "the image's filesystem does not support ID-mapped mounts (kernel $(uname -r))"
}

DEFAULT_CAPS=00000000a80425fb

dep() { printf '"dependsOn": [ { "containerName": "%s", "condition": "%s" } ]' "$1" "$2"; }

@test "userns: the container is root of a namespace mapping 0-65535 to the base" {
  task_json -- "$PROBE" id read /proc/self/uid_map read /proc/self/gid_map caps
  run skiff_run --userns-base $BASE "$TASK"
  assert_status 0
  assert_kv uid 0
  assert_kv gid 0
  assert_kv CapEff $DEFAULT_CAPS
  [ "$(printf '%s\n' "$output" | grep -c "^ *0 *$BASE *65536$")" -eq 2 ]
}

@test "userns: --userns, SKIFF_USERNS=1 and without: the default base or no namespace" {
  local expected=100000
  if grep -qs '^root:' /etc/subuid && grep -qs '^root:' /etc/subgid; then
    expected=$(awk -F: '$1 == "root" { print $2; exit }' /etc/subuid)
  fi
  task_json -- "$PROBE" read /proc/self/uid_map
  run skiff_run --userns "$TASK"
  assert_status 0
  assert_contains "$output" " $expected "
  SKIFF_USERNS=1 run skiff_run "$TASK"
  assert_status 0
  assert_contains "$output" " $expected "
  # Not asked: the host's identity map.
  run skiff_run "$TASK"
  assert_status 0
  assert_contains "$output" "4294967295"
}

@test "userns: the host sees the container's root as the base uid, user 1000 as base+1000" {
  task_json_of \
    "$(container_json -n a -c '"essential": false' -- "$PROBE" sleep 30)" \
    "$(container_json -n b -c '"user": "1000:1000"' -- /bin/sh -c 'exec /usr/bin/probe sleep 30')"
  skiff_bg --userns-base $BASE --timeout 20s "$TASK"
  local pid
  wait_for_line "$BG_OUT" 'sleeping=30'
  local uids
  uids=$(for pid in $(marked_pids); do stat -c %u "/proc/$pid"; done | sort -u | tr '\n' ' ')
  [ "$uids" = "$BASE $((BASE + 1000)) " ] || {
    echo "host uids of the container processes: '$uids'" >&2
    return 1
  }
  # The writable layers belong to the namespace's root.
  local upper
  for upper in "$ROOT"/tasks/*/containers/*/upper; do
    [ "$(stat -c %u:%g "$upper")" = "$BASE:$BASE" ]
  done
  [ -n "$upper" ] && [ -d "$upper" ]
  kill -TERM "$BG_PID"
  wait_bg
}

@test "userns: image files are root's inside, / is writable, /proc and /sys are fresh" {
  task_json -- /bin/sh -c 'ls -ln /bin/busybox /etc/passwd; echo hi >/written && echo write=OK; ls -ln /written; probe stat /sys | grep ^statfs.type; probe stat /proc | grep ^statfs.type'
  run skiff_run --userns-base $BASE "$TASK"
  assert_status 0
  assert_contains "$output" write=OK
  # ls -ln: mode links uid gid ...
  [ "$(printf '%s\n' "$output" | awk '/\/bin\/busybox$/ { print $3 ":" $4 }')" = "0:0" ]
  [ "$(printf '%s\n' "$output" | awk '/\/etc\/passwd$/ { print $3 ":" $4 }')" = "0:0" ]
  [ "$(printf '%s\n' "$output" | awk '/\/written$/ { print $3 ":" $4 }')" = "0:0" ]
  assert_contains "$output" statfs.type=proc
  assert_contains "$output" statfs.type=sysfs
  # The image itself is untouched.
  [ "$(stat -c %u "$SKIFF_ROOTFS/bin")" = 0 ]
  [ ! -e "$SKIFF_ROOTFS/written" ]
}

@test "userns: readonlyRootFilesystem keeps the image's ids and a read-only /" {
  task_json -c '"readonlyRootFilesystem": true' -- /bin/sh -c \
    'ls -ln /etc/passwd; /usr/bin/probe rofs / rofs /dev/shm'
  run skiff_run --userns-base $BASE "$TASK"
  assert_status 0
  [ "$(printf '%s\n' "$output" | awk '/\/etc\/passwd$/ { print $3 }')" = 0 ]
  assert_contains "$output" rofs=EROFS
  assert_contains "$output" rofs=writable
}

@test "userns: a layered image keeps its whiteouts and opaque directories" {
  for tool in umoci skopeo; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (make deps)"
  done
  sh "$BATS_TEST_DIRNAME/../registry/mkimages.sh" "$SKIFF_ROOTFS" "$BATS_TEST_TMPDIR/img" >/dev/null 2>&1
  task_json -i "oci:$BATS_TEST_TMPDIR/img/layout:multi" -- sh -c \
    'ls /opt /data/old /data/keep; cat /opt/hello.txt /data/old/c /data/keep/k; ls -ln /data/keep/k; echo mine >/opt/hello.txt && cat /opt/hello.txt'
  run skiff_run --userns-base $BASE "$TASK"
  assert_status 0
  assert_contains "$output" "hello from layer 2"
  assert_contains "$output" "new c"
  assert_contains "$output" "kept"
  assert_contains "$output" mine
  assert_not_contains "$output" "doomed.txt"
  assert_not_contains "$output" "old a"
  [ "$(printf '%s\n' "$output" | awk '/\/data\/keep\/k$/ { print $3 ":" $4 }')" = "0:0" ]
  # The shared layers are untouched.
  ! cat "$ROOT"/images/layers/sha256/*/opt/hello.txt | grep -q mine
}

@test "userns: files written in volumes are owned by the base on the host" {
  local host=$HOSTDIR/vol
  mkdir -p "$host"
  chown $BASE:$BASE "$host"
  task_json -t "\"volumes\": [ { \"name\": \"h\", \"host\": { \"sourcePath\": \"$host\" } }, { \"name\": \"s\" } ]" \
    -c '"mountPoints": [ { "sourceVolume": "h", "containerPath": "/h" }, { "sourceVolume": "s", "containerPath": "/s" } ]' \
    -- /bin/sh -c 'echo a >/h/by-root && echo b >/s/scratch && ls -ln /h/by-root /s/scratch'
  run skiff_run --userns-base $BASE "$TASK"
  assert_status 0
  [ "$(stat -c %u:%g "$host/by-root")" = "$BASE:$BASE" ]
  # Inside, both are the container root's.
  [ "$(printf '%s\n' "$output" | awk '{ print $3 }' | sort -u)" = 0 ]
  # A host path under a directory closed to others cannot be reached.
  chmod 0700 "$HOSTDIR"
  run skiff_run --userns-base $BASE "$TASK"
  assert_status 125
  assert_contains "$output" "Permission denied"
  assert_one_line "$output"
}

@test "userns: capabilities are the namespace's: host root's files stay closed" {
  local host=$HOSTDIR/rootonly
  mkdir -p "$host"
  chmod 0755 "$host"
  task_json -t "\"volumes\": [ { \"name\": \"h\", \"host\": { \"sourcePath\": \"$host\" } } ]" \
    -c '"mountPoints": [ { "sourceVolume": "h", "containerPath": "/h" } ]' \
    -- "$PROBE" caps write /h/f x
  # Without a user namespace root writes there (CAP_DAC_OVERRIDE)...
  run skiff_run "$TASK"
  assert_status 0
  assert_kv write OK
  rm -f "$host/f"
  # ...with one, the same capability does not reach an unmapped owner.
  run skiff_run --userns-base $BASE "$TASK"
  assert_kv CapEff $DEFAULT_CAPS
  assert_kv write EACCES
  [ ! -e "$host/f" ]
  # Host ids outside the map show as the overflow id.
  task_json -- /bin/sh -c 'ls -ln /proc/1/ns/user >/dev/null; stat -c %u /dev/null'
  run skiff_run --userns-base $BASE "$TASK"
  assert_status 0
  assert_contains "$output" 65534
}

@test "userns: seccomp, no_new_privs and the blocked calls are unchanged" {
  task_json -- /bin/sh -c '/usr/bin/probe seccomp nnp; for c in unshare-user unshare-net mount keyctl setns; do /usr/bin/probe try-syscall $c; done; mount -t proc proc /proc; echo mount=$?'
  run skiff_run --userns-base $BASE "$TASK"
  assert_kv Seccomp 2
  assert_kv NoNewPrivs 1
  assert_kv try.unshare-user EPERM
  assert_kv try.unshare-net EPERM
  assert_kv try.mount EPERM
  assert_kv try.keyctl EPERM
  assert_kv try.setns EPERM
  assert_kv mount 1
}

@test "userns: a task's containers share one user namespace and reach each other on localhost" {
  task_json_of -t '"pidMode": "task", "ipcMode": "task"' \
    "$(container_json -n web -c '"essential": false' -- /bin/sh -c \
      '/usr/bin/probe ns | sed s/^/web./; mkdir -p /tmp/www && echo hello-from-web >/tmp/www/index.html; httpd -f -p 127.0.0.1:8080 -h /tmp/www & trap "exit 0" TERM; wait')" \
    "$(container_json -n client -c "$(dep web START)" -- /bin/sh -c \
      '/usr/bin/probe ns | sed s/^/client./; for i in $(seq 50); do wget -q -O - http://127.0.0.1:8080/ && exit 0; sleep 0.1; done; exit 1')"
  run skiff_run --no-prefix --userns-base $BASE "$TASK"
  assert_status 0
  assert_contains "$output" hello-from-web
  local k
  for k in user net uts ipc pid; do
    [ -n "$(kv web.ns.$k)" ] && [ "$(kv web.ns.$k)" = "$(kv client.ns.$k)" ] || {
      echo "ns.$k differs: web $(kv web.ns.$k) client $(kv client.ns.$k)" >&2
      return 1
    }
  done
  # ...and it is not the host's.
  [ "$(kv web.ns.user)" != "$(host_probe ns | sed -n 's/^ns.user=//p')" ]
  # mnt stays per container.
  [ "$(kv web.ns.mnt)" != "$(kv client.ns.mnt)" ]
}

@test "userns: health checks run inside the user namespace" {
  task_json -c '"healthCheck": { "command": [ "CMD-SHELL", "test \"$(id -u)\" = 0 && grep -q '"$BASE"' /proc/self/uid_map" ], "interval": 5, "timeout": 2, "startPeriod": 2 }' \
    -- /bin/sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
  run skiff_run --timeout 5s --events-file "$EV" --userns-base $BASE "$TASK"
  assert_status 124
  evassert "$EV" '[e["status"] for e in ev("app","health")] == ["HEALTHY"]'
}

@test "userns: networkMode host works (the host's /sys, read-only)" {
  task_json -N host -- /bin/sh -c '/usr/bin/probe id rofs /sys; ls /sys/class/net | grep -c lo'
  run skiff_run --userns-base $BASE "$TASK"
  assert_status 0
  assert_kv uid 0
  assert_kv rofs EROFS
}

@test "userns: cgroup limits and OOM reporting are unchanged" {
  task_json -m 32 -- "$PROBE" limits alloc 256
  run --separate-stderr skiff_run --userns-base $BASE "$TASK"
  assert_status 137
  assert_kv limit.memory 33554432
  assert_contains "$stderr" OutOfMemory stderr
  assert_not_contains "$output" allocated=256
}

@test "userns: skiff exec joins the container's user namespace (run -d)" {
  task_json -- /bin/sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
  run -0 skiff run -d --userns-base $BASE "$TASK"
  local id=$output i
  # run -d returns before the container runs.
  for i in $(seq 100); do
    skiff exec "$id" -- /bin/true 2>/dev/null && break
    sleep 0.1
  done
  run -0 skiff exec "$id" -- /usr/bin/probe id read /proc/self/uid_map
  assert_kv uid 0
  assert_contains "$output" " $BASE "
  run -0 skiff exec "$id" -- /bin/sh -c 'touch /from-exec && stat -c %u /from-exec'
  assert_contains "$output" 0
  run -0 skiff stop "$id"
  run -0 skiff rm "$id"
}

@test "userns: pidMode host and ipcMode host are refused with one line" {
  task_json -t '"pidMode": "host"'
  run skiff_run --userns-base $BASE "$TASK"
  assert_status 125
  assert_one_line "$output"
  assert_contains "$output" "pidMode host"
  task_json -t '"ipcMode": "host"'
  run skiff_run --userns-base $BASE "$TASK"
  assert_status 125
  assert_one_line "$output"
  assert_contains "$output" "ipcMode host"
}

@test "userns: an image on a filesystem without ID-mapped mounts fails with one clear line" {
  mkdir "$HOSTDIR/ramfs"
  mount -t ramfs ramfs "$HOSTDIR/ramfs"
  cp -a "$SKIFF_ROOTFS/." "$HOSTDIR/ramfs/"
  task_json -i "dir:$HOSTDIR/ramfs" -- "$PROBE" id
  run skiff_run --userns-base $BASE "$TASK"
  assert_status 125
  assert_one_line "$output"
  assert_contains "$output" "does not support ID-mapped mounts"
  # Without --userns the same image runs.
  run skiff_run "$TASK"
  assert_status 0
  assert_kv uid 0
}

@test "userns: a bad --userns-base is a usage error" {
  task_json
  run skiff_run --userns-base 0 "$TASK"
  assert_status 125
  assert_contains "$output" "--userns-base"
}
