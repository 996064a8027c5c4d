#!/usr/bin/env bats
# The image libraries (libcurl, libarchive, libcrypto) are loaded only when
# an image operation needs them (launcher/imagelibs.h): a `dir:` run and a
# second start of a stored image open none of them, and a missing one is a
# clear error. The image here is a docker-archive built with python3's
# tarfile from the test rootfs, so no registry tools are needed.

load helpers

setup() {
  common_setup
  STRACE_LOG=$BATS_TEST_TMPDIR/strace.log
}
teardown() { common_teardown; }

IMAGE_LIBS='libcurl\.so|libarchive\.so|libcrypto\.so'

# The image libraries a traced command opened (empty: none).
opened_image_libs() {
  grep -E 'openat\(' "$STRACE_LOG" | grep -Eo "[^/\"]*($IMAGE_LIBS)[^\"]*" | sort -u
}

# Can this host import a docker-archive (python3 to build one, and the
# libraries skiff loads for it; the cgroup v2 VM packs only what ldd shows)?
have_archive_libs() {
  command -v python3 >/dev/null &&
    python3 -c 'import ctypes; ctypes.CDLL("libarchive.so.13"); ctypes.CDLL("libcrypto.so.3")' 2>/dev/null
}

# A one-layer `docker save`-style tarball of $SKIFF_ROOTFS at $1.
make_docker_archive() {
  python3 - "$SKIFF_ROOTFS" "$1" <<'PY'
import hashlib, io, json, sys, tarfile
rootfs, out = sys.argv[1], sys.argv[2]
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w") as t:
    t.add(rootfs, arcname=".")
layer = layer.getvalue()
diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Cmd": ["/bin/sh"]},
                     "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
manifest = json.dumps([{"Config": "config.json", "RepoTags": [],
                        "Layers": ["layer.tar"]}]).encode()
with tarfile.open(out, mode="w") as t:
    for name, data in (("layer.tar", layer), ("config.json", config),
                       ("manifest.json", manifest)):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
PY
}

@test "imagelibs: a dir: image runs without opening libcurl, libarchive or libcrypto" {
  command -v strace >/dev/null || skip "strace is not installed"
  task_json -- "$PROBE" pid
  # LeakSanitizer cannot run under ptrace (make asan): leaks are checked elsewhere.
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    run strace -f -e trace=openat -o "$STRACE_LOG" "$SKIFF" --root "$ROOT" run "$TASK"
  assert_status 0
  grep -q 'libc\.so' "$STRACE_LOG" || { echo "strace saw no library loads"; false; }
  [ -z "$(opened_image_libs)" ] || { echo "opened: $(opened_image_libs)"; false; }
}

@test "imagelibs: a stored image starts again without opening them" {
  command -v strace >/dev/null || skip "strace is not installed"
  have_archive_libs || skip "libarchive.so.13 or libcrypto.so.3 cannot be loaded here"
  make_docker_archive "$BATS_TEST_TMPDIR/image.tar"
  run skiff pull -q "docker-archive:$BATS_TEST_TMPDIR/image.tar"
  assert_status 0
  task_json -i "docker-archive:$BATS_TEST_TMPDIR/image.tar" -- "$PROBE" pid
  # The first start unpacks the layer (libarchive), the second must not.
  run skiff_run --pull never "$TASK"
  assert_status 0
  # LeakSanitizer cannot run under ptrace (make asan): leaks are checked elsewhere.
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    run strace -f -e trace=openat -o "$STRACE_LOG" "$SKIFF" --root "$ROOT" run --pull never "$TASK"
  assert_status 0
  assert_not_contains "$output" "unpacked layer"
  [ -z "$(opened_image_libs)" ] || { echo "opened: $(opened_image_libs)"; false; }
}

@test "imagelibs: a missing library names itself and its package, exit 125" {
  run env SKIFF_TEST_LIBCURL=libskiff-absent.so.0 "$SKIFF" --root "$ROOT" pull 127.0.0.1:1/skiff/none:x
  assert_status 125
  assert_contains "$output" "skiff: pull \`127.0.0.1:1/skiff/none:x\`: load \`libskiff-absent.so.0\`: cannot open shared object file: No such file or directory (install Debian package libcurl4)"
}

@test "imagelibs: missing libarchive or libcrypto stops an import and a first start" {
  have_archive_libs || skip "libarchive.so.13 or libcrypto.so.3 cannot be loaded here"
  make_docker_archive "$BATS_TEST_TMPDIR/image.tar"
  run env SKIFF_TEST_LIBARCHIVE=libskiff-absent.so.0 "$SKIFF" --root "$ROOT" pull "docker-archive:$BATS_TEST_TMPDIR/image.tar"
  assert_status 125
  assert_contains "$output" "load \`libskiff-absent.so.0\`: cannot open shared object file"
  assert_contains "$output" "(install Debian package libarchive13)"
  run env SKIFF_TEST_LIBCRYPTO=libskiff-absent.so.0 "$SKIFF" --root "$ROOT" pull "docker-archive:$BATS_TEST_TMPDIR/image.tar"
  assert_status 125
  assert_contains "$output" "(install Debian package libssl3)"
  # Stored now; a task's first start unpacks the layer and needs libarchive.
  run skiff pull -q "docker-archive:$BATS_TEST_TMPDIR/image.tar"
  assert_status 0
  task_json -i "docker-archive:$BATS_TEST_TMPDIR/image.tar" -- "$PROBE" pid
  SKIFF_TEST_LIBARCHIVE=libskiff-absent.so.0 run skiff_run --pull never "$TASK"
  assert_status 125
  assert_contains "$output" "(install Debian package libarchive13)"
}
