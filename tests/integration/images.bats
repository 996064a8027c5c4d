#!/usr/bin/env bats
# Images: oci:, docker-archive: and a real registry (Debian's docker-registry
# on 127.0.0.1, started and stopped here), layered roots with whiteouts,
# the image config merge, platform choice, digest refusal, concurrent pulls
# and pruning. No traffic leaves loopback.

load helpers

# bats 1.8 cannot skip from setup_file: it records why, and setup skips
# every test of the file (e.g. in the cgroup v2 VM, which has no registry).
setup_file() {
  export IMAGES_SKIP=""
  if [ "$(id -u)" -ne 0 ]; then
    IMAGES_SKIP="needs root"
    return 0
  fi
  for tool in umoci skopeo docker-registry python3; do
    if ! command -v "$tool" >/dev/null; then
      IMAGES_SKIP="$tool is not installed (make deps)"
      return 0
    fi
  done
  export IMG=$BATS_FILE_TMPDIR/img
  sh "$BATS_TEST_DIRNAME/../registry/mkimages.sh" "$SKIFF_ROOTFS" "$IMG" >/dev/null 2>&1
  export LAYOUT=$IMG/layout
  export REG_DIR=$BATS_FILE_TMPDIR/registry
  mkdir -p "$REG_DIR"
  REG_PORT=$(sh "$BATS_TEST_DIRNAME/../registry/registry.sh" start "$REG_DIR" "$LAYOUT")
  export REG="127.0.0.1:$REG_PORT"
  # The same registry behind bearer-token auth (user skiff, password s3cret).
  python3 "$BATS_TEST_DIRNAME/../registry/token_proxy.py" "$REG_PORT" skiff s3cret \
    "$BATS_FILE_TMPDIR/token.port" >/dev/null 2>&1 3>&- &
  export TOKEN_PID=$!
  local i=0
  until [ -s "$BATS_FILE_TMPDIR/token.port" ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "token proxy did not start" >&2; return 1; }
    sleep 0.1
  done
  export TOK="127.0.0.1:$(cat "$BATS_FILE_TMPDIR/token.port")"
  export SKIFF_INSECURE_REGISTRIES=$REG,$TOK
}

teardown_file() {
  if [ -n "${TOKEN_PID:-}" ]; then kill "$TOKEN_PID" 2>/dev/null || true; fi
  if [ -n "${REG_DIR:-}" ]; then sh "$BATS_TEST_DIRNAME/../registry/registry.sh" stop "$REG_DIR" || true; fi
  return 0
}

setup() {
  [ -z "${IMAGES_SKIP:-}" ] || skip "$IMAGES_SKIP"
  common_setup
}
teardown() { common_teardown; }

@test "images: an OCI layout runs as an overlay of its layers, whiteouts and opaque dirs honoured" {
  task_json -i "oci:$LAYOUT:multi" -- sh -c 'ls /opt /data/old /data/keep; cat /opt/hello.txt /data/old/c /data/keep/k'
  run skiff_run "$TASK"
  assert_status 0
  assert_contains "$output" "hello from layer 2"
  assert_contains "$output" "new c"
  assert_not_contains "$output" "doomed.txt"
  assert_not_contains "$output" "old a"
  assert_contains "$output" "kept"
  # Layers are unpacked once, shared by later runs.
  run skiff_run "$TASK"
  assert_status 0
  assert_not_contains "$output" "unpacked layer"
}

@test "images: the container's writes go to its own upper layer, gone with the task" {
  task_json -i "oci:$LAYOUT:multi" -- sh -c 'echo mine >/opt/hello.txt; cat /opt/hello.txt'
  run skiff_run "$TASK"
  assert_status 0
  assert_contains "$output" mine
  task_json -i "oci:$LAYOUT:multi" -- cat /opt/hello.txt
  run skiff_run "$TASK"
  assert_contains "$output" "hello from layer 2"
  ! cat "$ROOT"/images/layers/sha256/*/opt/hello.txt | grep -q mine
}

@test "images: readonlyRootFilesystem over layers refuses writes" {
  task_json -i "oci:$LAYOUT:multi" -c '"readonlyRootFilesystem": true' -- \
    sh -c 'cat /opt/hello.txt; echo x >/opt/new && echo WROTE'
  run skiff_run "$TASK"
  assert_contains "$output" "hello from layer 2"
  assert_not_contains "$output" WROTE
  assert_contains "$output" "Read-only file system"
}

@test "images: image Env, WorkingDir and Cmd are defaults the task overrides" {
  # No command: the image's Cmd (cat /opt/hello.txt) runs in its WorkingDir.
  cat >"$TASK" <<JSON
{ "family": "img", "containerDefinitions": [ { "name": "app", "image": "oci:$LAYOUT:multi",
  "memory": 64, "environment": [ { "name": "SKIFF_TEST_MARK", "value": "$MARK" } ] } ] }
JSON
  run skiff_run "$TASK"
  assert_status 0
  assert_contains "$output" "hello from layer 2"
  task_json -i "oci:$LAYOUT:multi" -e SHARED=task -- sh -c 'echo "wd=$(pwd) shared=$SHARED only=$IMAGE_ONLY"'
  run skiff_run "$TASK"
  assert_contains "$output" "wd=/opt shared=task only=yes"
  task_json -i "oci:$LAYOUT:multi" -c '"workingDirectory": "/data"' -- pwd
  run skiff_run "$TASK"
  assert_contains "$output" "/data"
}

@test "images: Entrypoint and Cmd merge as in Docker and ECS" {
  local entry=oci:$LAYOUT:entry
  # Neither given: ENTRYPOINT + CMD.
  cat >"$TASK" <<JSON
{ "family": "img", "containerDefinitions": [ { "name": "app", "image": "$entry", "memory": 64,
  "environment": [ { "name": "SKIFF_TEST_MARK", "value": "$MARK" } ] } ] }
JSON
  run --separate-stderr skiff_run "$TASK"
  assert_status 0
  [ "$output" = "E C" ] || { echo "got '$output'"; false; }
  # command given: ENTRYPOINT + command.
  task_json -i "$entry" -- X Y
  run --separate-stderr skiff_run "$TASK"
  [ "$output" = "E X Y" ] || { echo "got '$output'"; false; }
  # entryPoint given: the image's CMD is dropped.
  task_json -i "$entry" -c '"entryPoint": ["/bin/echo", "own"]' -- arg
  run --separate-stderr skiff_run "$TASK"
  [ "$output" = "own arg" ] || { echo "got '$output'"; false; }
}

@test "images: a docker-archive tarball runs" {
  task_json -i "docker-archive:$IMG/image.tar" -- sh -c 'cat /opt/hello.txt; ls /data/old'
  run skiff_run "$TASK"
  assert_status 0
  assert_contains "$output" "hello from layer 2"
  assert_contains "$output" "c"
}

@test "images: pulled from a local registry, then run offline with --pull never" {
  task_json -i "$REG/skiff/test:multi" -- cat /opt/hello.txt
  run skiff_run "$TASK"
  assert_status 0
  assert_contains "$output" "hello from layer 2"
  assert_contains "$output" "pulling $REG/skiff/test:multi"
  run skiff_run --pull never "$TASK"
  assert_status 0
  assert_not_contains "$output" pulling
  run skiff images
  assert_contains "$output" "$REG/skiff/test:multi"
}

@test "images: --pull never without the image says what to do" {
  task_json -i "$REG/skiff/test:multi" -- true
  run skiff_run --pull never "$TASK"
  assert_status 125
  assert_contains "$output" "not in the image store"
  assert_contains "$output" "skiff pull"
}

@test "images: unknown tag and plain-HTTP registry without opt-in are clear errors" {
  run skiff pull "$REG/skiff/test:nope"
  assert_status 125
  assert_contains "$output" "not found"
  SKIFF_INSECURE_REGISTRIES= run skiff pull "$REG/skiff/test:multi"
  assert_status 125
  assert_contains "$output" "--insecure-registry $REG"
  run skiff pull --insecure-registry 127.0.0.1:1 127.0.0.1:1/x
  assert_status 125
  assert_contains "$output" "unreachable"
}

@test "images: a multi-arch index chooses the host's platform, or runtimePlatform's" {
  task_json -i "$REG/skiff/test:multiarch" -- sh -c 'echo "arch=${ARCH:-host}"'
  run skiff_run "$TASK"
  assert_status 0
  assert_contains "$output" "arch=host"
  # The arm64 entry (same busybox layers, so it still runs here).
  task_json -i "$REG/skiff/test:multiarch" \
    -t '"runtimePlatform": { "cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX" }' \
    -- sh -c 'echo "arch=${ARCH:-host}"'
  run skiff_run --pull always "$TASK"
  [ "$(uname -m)" = x86_64 ] || skip "host is not amd64"
  assert_contains "$output" "arch=arm64"
}

@test "images: an index without our platform is refused, naming what it offers" {
  task_json -i "$REG/skiff/test:armonly" -- true
  run skiff_run "$TASK"
  assert_status 125
  assert_contains "$output" "no image for linux/amd64"
  assert_contains "$output" "linux/arm64/v8"
}

@test "images: a tampered blob in the registry is refused, naming its digest" {
  local digest data
  digest=$(python3 -c '
import json,sys
idx=json.load(open(sys.argv[1]+"/index.json"))
m=[x for x in idx["manifests"] if x["annotations"]["org.opencontainers.image.ref.name"]=="entry"][0]
print(json.load(open(sys.argv[1]+"/blobs/sha256/"+m["digest"][7:]))["config"]["digest"])' "$LAYOUT")
  data=$(find "$REG_DIR/storage" -path "*/blobs/sha256/*/${digest#sha256:}/data")
  [ -f "$data" ]
  cp "$data" "$BATS_TEST_TMPDIR/orig"
  sed -i 's/"E"/"Z"/' "$data"
  run skiff pull "$REG/skiff/test:entry"
  cp "$BATS_TEST_TMPDIR/orig" "$data"
  assert_status 125
  assert_contains "$output" "$digest"
  assert_contains "$output" "failed verification"
  [ -z "$(ls -A "$ROOT/images/tmp")" ]
  [ ! -e "$ROOT/images/blobs/sha256/${digest#sha256:}" ]
}

@test "images: concurrent pulls of one image share one copy" {
  local i pids=()
  for i in 1 2 3 4; do
    "$SKIFF" --root "$ROOT" pull -q "$REG/skiff/test:multi" >"$BATS_TEST_TMPDIR/p$i" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  [ "$(sort -u "$BATS_TEST_TMPDIR"/p? | wc -l)" -eq 1 ]
  grep -q '^sha256:' "$BATS_TEST_TMPDIR/p1"
  run skiff images -q
  [ "$output" = "$REG/skiff/test:multi" ]
  [ "$(ls "$ROOT/images/blobs/sha256" | wc -l)" -eq 5 ] # manifest, config, 3 layers
  [ -z "$(ls -A "$ROOT/images/tmp")" ]
  # Concurrent starts unpack each layer once.
  task_json -i "$REG/skiff/test:multi" -- true
  for i in 1 2 3; do skiff_run --pull never "$TASK" >"$BATS_TEST_TMPDIR/r$i" 2>&1 & pids+=($!); done
  wait
  [ "$(cat "$BATS_TEST_TMPDIR"/r? | grep -c 'unpacked layer')" -eq 3 ]
  [ "$(ls "$ROOT/images/layers/sha256" | wc -l)" -eq 3 ]
}

@test "images: prune keeps what a running task uses, rmi and prune free the rest" {
  run skiff pull -q "$REG/skiff/test:multi" "$REG/skiff/test:entry"
  assert_status 0
  task_json -i "$REG/skiff/test:multi" -- sleep 30
  skiff_bg --pull never "$TASK"
  wait_for_line "$BG_ERR" 'unpacked layer|started' 10 || sleep 1
  container_pid sleep >/dev/null
  run skiff image prune -a
  assert_status 0
  run skiff images -q
  [ "$output" = "$REG/skiff/test:multi" ] || { echo "left: $output"; false; }
  [ -d "$ROOT/images/layers/sha256" ] && [ "$(ls "$ROOT/images/layers/sha256" | wc -l)" -eq 3 ]
  run skiff rmi "$REG/skiff/test:multi"
  assert_status 125
  assert_contains "$output" "in use by a running task"
  kill -TERM "$BG_PID"
  wait "$BG_PID" || true
  run skiff rmi "$REG/skiff/test:multi"
  assert_status 0
  run skiff image prune
  [ -z "$(ls -A "$ROOT/images/blobs/sha256")" ]
  [ -z "$(ls -A "$ROOT/images/layers/sha256")" ]
}

@test "images: bearer-token auth with credentials from DOCKER_CONFIG" {
  export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker
  mkdir -p "$DOCKER_CONFIG"
  # No credentials: the anonymous token request is refused.
  run skiff pull "$TOK/skiff/test:multi"
  assert_status 125
  assert_contains "$output" "refused the anonymous token request"
  # Wrong password.
  printf '{"auths": {"%s": {"auth": "%s"}}}' "$TOK" "$(printf skiff:nope | base64)" \
    >"$DOCKER_CONFIG/config.json"
  run skiff pull "$TOK/skiff/test:multi"
  assert_status 125
  assert_contains "$output" "check the credentials"
  # Right credentials, "auth" form, then username/password form.
  printf '{"auths": {"http://%s": {"auth": "%s"}}}' "$TOK" "$(printf skiff:s3cret | base64)" \
    >"$DOCKER_CONFIG/config.json"
  task_json -i "$TOK/skiff/test:multi" -- cat /opt/hello.txt
  run skiff_run "$TASK"
  assert_status 0
  assert_contains "$output" "hello from layer 2"
  printf '{"auths": {"%s": {"username": "skiff", "password": "s3cret"}}}' "$TOK" \
    >"$DOCKER_CONFIG/config.json"
  run skiff pull "$TOK/skiff/test:entry"
  assert_status 0
}

@test "images: more layers than one mount option page holds (fsconfig lowerdir+)" {
  local long i
  cp -a "$LAYOUT" "$BATS_TEST_TMPDIR/layout"
  umoci tag --image "$BATS_TEST_TMPDIR/layout:multi" many
  for i in $(seq 1 22); do
    mkdir -p "$BATS_TEST_TMPDIR/l$i/many"
    echo "$i" >"$BATS_TEST_TMPDIR/l$i/many/$i"
    tar -C "$BATS_TEST_TMPDIR/l$i" -cf "$BATS_TEST_TMPDIR/l$i.tar" many
    umoci raw add-layer --image "$BATS_TEST_TMPDIR/layout:many" "$BATS_TEST_TMPDIR/l$i.tar"
  done
  # A long store path makes 25 lowerdirs overflow the 4 KiB option page.
  long=$ROOT/$(printf 's%.0s' $(seq 1 200))
  task_json -i "oci:$BATS_TEST_TMPDIR/layout:many" -- sh -c 'ls /many | wc -l; cat /opt/hello.txt'
  SKIFF_IMAGE_STORE=$long run skiff_run "$TASK"
  assert_status 0
  assert_contains "$output" "22"
  assert_contains "$output" "hello from layer 2"
}
