#!/bin/sh
# make bench: cold start of a one-container /bin/true task with full isolation,
# skiff vs crun (and runc when installed) vs the unshare floor, interleaved,
# median of BENCH_RUNS runs. Prints a table of medians and ratios.
#
# crun refuses cgroup v1 hybrid hosts: the whole benchmark runs in a private
# mount namespace where /sys/fs/cgroup/unified is unmounted, skiff included,
# so both see the same host.
set -eu
build=$(cd "${1:-build}" && pwd)
runs=${BENCH_RUNS:-40}
skiff=$build/skiff
rootfs=$build/rootfs
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
command -v crun >/dev/null 2>&1 || sh "$(dirname "$0")/../tools/install-deps.sh" crun
tmp=$(mktemp -d /tmp/skiff-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/task.json" <<JSON
{
  "family": "bench-true",
  "containerDefinitions": [
    {
      "name": "true",
      "image": "dir:$rootfs",
      "command": ["/bin/true"],
      "memory": 64,
      "readonlyRootFilesystem": true
    }
  ]
}
JSON

# An OCI bundle doing the same work: pid, mount, uts, ipc, network and cgroup
# namespaces, a memory limit, crun's default seccomp-less but capability-
# reduced spec plus read-only root.
mkdir -p "$tmp/bundle"
ln -s "$rootfs" "$tmp/bundle/rootfs"
(cd "$tmp/bundle" && crun spec >/dev/null)
python3 - "$tmp/bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"] = {"path": "rootfs", "readonly": True}
ns = c["linux"]["namespaces"]
if not any(n["type"] == "cgroup" for n in ns):
    ns.append({"type": "cgroup"})
c["linux"]["resources"] = {"memory": {"limit": 64 * 1024 * 1024}, "pids": {"limit": 4096}}
c["linux"]["cgroupsPath"] = "/skiff-bench-crun"
json.dump(c, open(p, "w"))
PY

cat >"$tmp/inner.sh" <<'INNER'
set -eu
umount /sys/fs/cgroup/unified 2>/dev/null || true
ns() { date +%s%N; }
i=0
: >"$TMP/skiff.txt"; : >"$TMP/crun.txt"; : >"$TMP/floor.txt"
# warm-up: page cache, seccomp cache
"$SKIFF" --root "$TMP/root" run "$TMP/task.json" >/dev/null
crun run -b "$TMP/bundle" bench-warm >/dev/null
while [ $i -lt "$RUNS" ]; do
  t0=$(ns); "$SKIFF" --root "$TMP/root" run "$TMP/task.json"; t1=$(ns)
  echo $(( (t1 - t0) / 1000 )) >>"$TMP/skiff.txt"
  t0=$(ns); crun run -b "$TMP/bundle" "bench-$i"; t1=$(ns)
  echo $(( (t1 - t0) / 1000 )) >>"$TMP/crun.txt"
  t0=$(ns); unshare -pmnui --fork /bin/true; t1=$(ns)
  echo $(( (t1 - t0) / 1000 )) >>"$TMP/floor.txt"
  i=$((i + 1))
done
INNER
TMP=$tmp SKIFF=$skiff RUNS=$runs unshare -m --propagation private sh "$tmp/inner.sh"

median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s=$(median "$tmp/skiff.txt"); c=$(median "$tmp/crun.txt"); f=$(median "$tmp/floor.txt")
printf '%-34s %10s %8s\n' "cold start, /bin/true ($runs runs)" "median" "ratio"
printf '%-34s %8.1fms %8s\n' "unshare -pmnui --fork (floor)" "$(echo "$f" | awk '{print $1/1000}')" "1.00"
printf '%-34s %8.1fms %8.2f\n' "crun run" "$(echo "$c" | awk '{print $1/1000}')" "$(awk -v a="$c" -v b="$f" 'BEGIN{print a/b}')"
printf '%-34s %8.1fms %8.2f\n' "skiff run" "$(echo "$s" | awk '{print $1/1000}')" "$(awk -v a="$s" -v b="$f" 'BEGIN{print a/b}')"
printf 'skiff / crun = %.2f   (target <= 0.75)\n' "$(awk -v a="$s" -v b="$c" 'BEGIN{print a/b}')"
printf 'skiff / floor = %.2f  (target <= 1.5)\n' "$(awk -v a="$s" -v b="$f" 'BEGIN{print a/b}')"

# Images: pull + unpack vs skopeo + umoci, and the second start.
sh "$(dirname "$0")/pull.sh" "$build"
