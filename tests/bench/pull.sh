#!/bin/sh
# make bench, images part: pull + unpack of a multi-layer image from a local
# registry (127.0.0.1, started here), skiff vs `skopeo copy` + `umoci unpack`
# of the same image, interleaved, median of BENCH_PULL_RUNS cold runs; then
# the second start of the same image, which must not unpack again.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
runs=${BENCH_PULL_RUNS:-5}
skiff=$build/skiff
for tool in skopeo umoci docker-registry python3; do
  command -v "$tool" >/dev/null 2>&1 || sh "$here/../tools/install-deps.sh" skopeo umoci docker-registry
done
tmp=$(mktemp -d /tmp/skiff-bench-pull.XXXXXX)
cleanup() {
  sh "$here/../registry/registry.sh" stop "$tmp/reg" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The image: the test images' `multi` plus four layers of ~6 MB each, half
# compressible text, half random bytes.
sh "$here/../registry/mkimages.sh" "$build/rootfs" "$tmp/img" >/dev/null 2>&1
for i in 1 2 3 4; do
  mkdir -p "$tmp/l$i/srv/data$i"
  python3 - "$tmp/l$i/srv/data$i" "$i" <<'PY'
import os, sys
d, seed = sys.argv[1], int(sys.argv[2])
for n in range(60):
    with open(os.path.join(d, "f%03d" % n), "wb") as f:
        f.write((("layer %d file %d " % (seed, n)) * 3000).encode())
        f.write(os.urandom(50000))
PY
  (cd "$tmp/l$i" && tar --owner=0 --group=0 -cf "$tmp/l$i.tar" srv)
  umoci raw add-layer --image "$tmp/img/layout:multi" "$tmp/l$i.tar" # umoci gzips it
done
mkdir -p "$tmp/reg"
port=$(sh "$here/../registry/registry.sh" start "$tmp/reg")
ref=127.0.0.1:$port/bench/image:latest
skopeo copy --quiet --dest-tls-verify=false "oci:$tmp/img/layout:multi" "docker://$ref"
size=$(du -sh "$tmp/reg/storage" | cut -f1)

cat >"$tmp/task.json" <<JSON
{ "family": "bench-pull", "containerDefinitions": [ { "name": "c", "image": "$ref",
  "command": ["/bin/true"], "memory": 64 } ] }
JSON

ns() { date +%s%N; }
: >"$tmp/skiff.txt"; : >"$tmp/ref.txt"; : >"$tmp/warm.txt"
i=0
while [ "$i" -lt "$runs" ]; do
  rm -rf "$tmp/root" "$tmp/oci" "$tmp/bundle"
  mkdir -p "$tmp/root"
  # skiff: pull + verify + unpack every layer + start /bin/true
  t0=$(ns)
  SKIFF_INSECURE_REGISTRIES=127.0.0.1:$port "$skiff" --root "$tmp/root" run "$tmp/task.json" 2>/dev/null
  t1=$(ns)
  echo $(((t1 - t0) / 1000)) >>"$tmp/skiff.txt"
  # reference: skopeo copy to an OCI layout + umoci unpack (no container start)
  t0=$(ns)
  skopeo copy --quiet --src-tls-verify=false "docker://$ref" "oci:$tmp/oci:latest" >/dev/null
  umoci unpack --image "$tmp/oci:latest" "$tmp/bundle" >/dev/null 2>&1
  t1=$(ns)
  echo $(((t1 - t0) / 1000)) >>"$tmp/ref.txt"
  # second start of the same image: nothing to pull or unpack
  t0=$(ns)
  "$skiff" --root "$tmp/root" run "$tmp/task.json" 2>"$tmp/warm.err"
  t1=$(ns)
  echo $(((t1 - t0) / 1000)) >>"$tmp/warm.txt"
  if grep -q "unpacked layer\|pulling" "$tmp/warm.err"; then
    echo "bench: the second start pulled or unpacked again:" >&2
    cat "$tmp/warm.err" >&2
    exit 1
  fi
  i=$((i + 1))
done

median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s=$(median "$tmp/skiff.txt"); r=$(median "$tmp/ref.txt"); w=$(median "$tmp/warm.txt")
printf '\n%-44s %10s %8s\n' "pull + unpack, 7 layers, $size ($runs runs)" "median" "ratio"
printf '%-44s %8.1fms %8s\n' "skopeo copy + umoci unpack" "$(awk -v a="$r" 'BEGIN{print a/1000}')" "1.00"
printf '%-44s %8.1fms %8.2f\n' "skiff run (pull, verify, unpack, start)" \
  "$(awk -v a="$s" 'BEGIN{print a/1000}')" "$(awk -v a="$s" -v b="$r" 'BEGIN{print a/b}')"
printf '%-44s %8.1fms %8.2f\n' "skiff run, second start (no unpack)" \
  "$(awk -v a="$w" 'BEGIN{print a/1000}')" "$(awk -v a="$w" -v b="$r" 'BEGIN{print a/b}')"
printf 'skiff cold / (skopeo+umoci) = %.2f   second start / cold = %.3f\n' \
  "$(awk -v a="$s" -v b="$r" 'BEGIN{print a/b}')" "$(awk -v a="$w" -v b="$s" 'BEGIN{print a/b}')"
if [ -n "${BENCH_SUMMARY:-}" ]; then
  printf '%s\t%s\t%s\t%s\n' "pull+unpack+start skiff / (skopeo+umoci)" \
    "$(awk -v a="$s" -v b="$r" 'BEGIN { printf "%.2f", a / b }')" "" "" >>"$BENCH_SUMMARY"
  printf '%s\t%s\t%s\t%s\n' "second start / (skopeo+umoci)" \
    "$(awk -v a="$w" -v b="$r" 'BEGIN { printf "%.2f", a / b }')" "" "" >>"$BENCH_SUMMARY"
fi
