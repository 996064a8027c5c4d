#!/usr/bin/env bats
# Seccomp, capabilities, no_new_privs, users, read-only root, rlimits.

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

# Docker's 14 default capabilities as a mask.
DEFAULT_CAPS=00000000a80425fb

@test "security: seccomp filter mode 2 and no_new_privs are on" {
  task_json -- "$PROBE" seccomp nnp
  run skiff_run "$TASK"
  assert_status 0
  assert_kv Seccomp 2
  assert_kv NoNewPrivs 1
}

# try_blocked NAME ERRNO: try-syscall NAME inside a default container fails
# with ERRNO. Each call was chosen so that on the host (no filter, full
# capabilities) it fails differently or succeeds: see tests/payload.
try_blocked() {
  task_json -- "$PROBE" try-syscall "$1"
  run skiff_run "$TASK"
  assert_kv "try.$1" "$2"
}

@test "security: the keyring is out of reach (keyctl, add_key: EPERM)" {
  try_blocked keyctl EPERM
  try_blocked add_key EPERM
}

@test "security: no new namespaces (unshare, clone flags, setns: EPERM)" {
  try_blocked unshare-user EPERM
  try_blocked unshare-net EPERM
  try_blocked clone-newns EPERM
  try_blocked setns EPERM
}

@test "security: no mount changes (mount, umount, pivot_root: EPERM)" {
  try_blocked mount EPERM
  try_blocked umount EPERM
  try_blocked pivot_root EPERM
}

@test "security: host-wide calls are refused (reboot, kexec, modules, swapon, acct)" {
  try_blocked reboot EPERM
  try_blocked kexec EPERM
  try_blocked init_module EPERM
  try_blocked swapon EPERM
  try_blocked acct EPERM
}

@test "security: io_uring, userfaultfd, open_by_handle_at, AF_VSOCK and AF_ALG are refused" {
  try_blocked io_uring EPERM
  try_blocked userfaultfd EPERM
  try_blocked open_by_handle_at EPERM
  try_blocked socket-vsock EPERM
  try_blocked socket-alg EPERM
}

@test "security: personality() may not turn off address randomisation" {
  try_blocked personality EPERM
}

@test "security: clone3 reports ENOSYS so libc falls back to the filterable clone" {
  try_blocked clone3 ENOSYS
}

@test "security: root gets exactly Docker's 14 default capabilities" {
  task_json -- "$PROBE" caps
  run skiff_run "$TASK"
  assert_status 0
  assert_kv CapEff $DEFAULT_CAPS
  assert_kv CapPrm $DEFAULT_CAPS
  assert_kv CapBnd $DEFAULT_CAPS
  assert_kv CapInh 0000000000000000
  assert_kv CapAmb 0000000000000000
}

@test "security: the default capabilities work (raw socket, chown, mknod, chroot)" {
  task_json -- "$PROBE" try-syscall raw-socket try-syscall chown try-syscall mknod try-syscall chroot
  run skiff_run "$TASK"
  assert_status 0
  assert_kv try.raw-socket OK
  assert_kv try.chown OK
  assert_kv try.mknod OK
  assert_kv try.chroot OK
}

@test "security: capabilities.drop removes a capability" {
  task_json -c '"linuxParameters": { "capabilities": { "drop": ["NET_RAW"] } }' \
    -- "$PROBE" caps try-syscall raw-socket
  run skiff_run "$TASK"
  assert_kv CapEff 00000000a80405fb
  assert_kv CapBnd 00000000a80405fb
  assert_kv try.raw-socket EPERM
}

@test "security: capabilities.add grants SYS_PTRACE" {
  task_json -c '"linuxParameters": { "capabilities": { "add": ["SYS_PTRACE"] } }' -- "$PROBE" caps
  run skiff_run "$TASK"
  assert_status 0
  assert_kv CapEff 00000000a80c25fb
  assert_kv CapBnd 00000000a80c25fb
}

@test "security: drop ALL leaves nothing; add after drop ALL leaves just that" {
  task_json -c '"linuxParameters": { "capabilities": { "drop": ["ALL"] } }' \
    -- "$PROBE" caps try-syscall chown
  run skiff_run "$TASK"
  assert_kv CapEff 0000000000000000
  assert_kv CapBnd 0000000000000000
  assert_kv try.chown EPERM
  task_json -c '"linuxParameters": { "capabilities": { "drop": ["ALL"], "add": ["CHOWN"] } }' \
    -- "$PROBE" caps try-syscall chown
  run skiff_run "$TASK"
  assert_status 0
  assert_kv CapEff 0000000000000001
  assert_kv try.chown OK
}

@test "security: privileged gets every capability the host has and may mount" {
  task_json -c '"privileged": true' -- "$PROBE" caps try-syscall mount
  run skiff_run "$TASK"
  local host_bnd
  host_bnd=$(kv CapBnd "$(host_probe caps)")
  assert_kv CapEff "$host_bnd"
  assert_kv CapBnd "$host_bnd"
  # Past the filter and the capability check: the file system type is bogus.
  assert_kv try.mount ENODEV
}

@test "security: privileged sees the host's device nodes; the default /dev does not" {
  [ -c /dev/kmsg ] || skip "the host has no /dev/kmsg"
  task_json -c '"privileged": true' -- "$PROBE" stat /dev/kmsg
  run skiff_run "$TASK"
  assert_status 0
  assert_kv stat.type chr
  task_json -- "$PROBE" stat /dev/kmsg
  run skiff_run "$TASK"
  [ "$status" -ne 0 ]
  assert_not_contains "$output" "stat.type=chr"
}

@test "security: user as a uid takes the passwd entry's group" {
  task_json -c '"user": "1000"' -- "$PROBE" id
  run skiff_run "$TASK"
  assert_status 0
  assert_kv uid 1000
  assert_kv euid 1000
  assert_kv gid 1000
}

@test "security: user as uid:gid" {
  task_json -c '"user": "1000:44"' -- "$PROBE" id
  run skiff_run "$TASK"
  assert_status 0
  assert_kv uid 1000
  assert_kv gid 44
  assert_kv egid 44
}

@test "security: user as a name resolves uid, gid and groups in the image" {
  task_json -c '"user": "app"' -- "$PROBE" id
  run skiff_run "$TASK"
  assert_status 0
  assert_kv uid 1000
  assert_kv gid 1000
  assert_kv groups 29,44,1000
}

@test "security: user as name:group" {
  task_json -c '"user": "app:video"' -- "$PROBE" id
  run skiff_run "$TASK"
  assert_status 0
  assert_kv uid 1000
  assert_kv gid 44
}

@test "security: a non-root user has no effective capabilities" {
  task_json -c '"user": "app"' -- "$PROBE" caps try-syscall chown
  run skiff_run "$TASK"
  assert_kv CapEff 0000000000000000
  assert_kv CapPrm 0000000000000000
  assert_kv CapAmb 0000000000000000
  assert_kv try.chown EPERM
}

@test "security: readonlyRootFilesystem makes / read-only, /dev/shm stays writable" {
  task_json -c '"readonlyRootFilesystem": true' -- "$PROBE" rofs / rofs /dev/shm
  run skiff_run "$TASK"
  assert_status 0
  [ "$(printf '%s\n' "$output" | sed -n 1p)" = rofs=EROFS ]
  [ "$(printf '%s\n' "$output" | sed -n 2p)" = rofs=writable ]
}

@test "security: the root file system is writable by default" {
  task_json -- "$PROBE" rofs /
  run skiff_run "$TASK"
  assert_status 0
  assert_kv rofs writable
}

@test "security: ulimits lower nofile to exactly the given soft and hard values" {
  task_json -c '"ulimits": [ { "name": "nofile", "softLimit": 100, "hardLimit": 200 } ]' \
    -- "$PROBE" rlimit nofile
  run skiff_run "$TASK"
  assert_status 0
  assert_kv rlimit.nofile.soft 100
  assert_kv rlimit.nofile.hard 200
}

@test "security: raising a hard limit beyond the host's fails clearly (no CAP_SYS_RESOURCE)" {
  if grep -q '^CapBnd:.*' /proc/self/status &&
    [ $((0x$(awk '/^CapBnd/ {print $2}' /proc/self/status) >> 24 & 1)) -eq 1 ]; then
    skip "this host's root has CAP_SYS_RESOURCE"
  fi
  local hard
  hard=$(ulimit -Hn)
  [ "$hard" != unlimited ] && [ "$hard" -lt 1048576 ] || skip "host nofile hard limit is already the maximum"
  local want=$((hard + 1000))
  task_json -c "\"ulimits\": [ { \"name\": \"nofile\", \"softLimit\": 1024, \"hardLimit\": $want } ]" \
    -- "$PROBE" rlimit nofile
  run --separate-stderr skiff_run "$TASK"
  assert_status 125
  assert_one_line "$stderr"
  assert_contains "$stderr" nofile stderr
  assert_contains "$stderr" CAP_SYS_RESOURCE stderr
}
