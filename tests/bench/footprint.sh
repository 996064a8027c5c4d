#!/bin/sh
# make bench: what skiff's own processes cost per running detached task:
# resident memory (RSS and PSS of the monitor and the supervisor, from
# /proc/PID/smaps_rollup) and the CPU they use while the task merely runs
# (utime+stime over BENCH_IDLE_SECONDS). conmon costs about 1-2 MiB per
# container for comparison.
set -eu
build=$(cd "${1:-build}" && pwd)
skiff=$build/skiff
idle=${BENCH_IDLE_SECONDS:-5}
tasks=${BENCH_TASKS:-5}
root=$(mktemp -d /run/skiff-footprint.XXXXXX)
tmp=$(mktemp -d /tmp/skiff-footprint.XXXXXX)
trap 'for id in $(ls "$root/tasks" 2>/dev/null); do "$skiff" --root "$root" rm -f "$id" >/dev/null 2>&1; done; rm -rf "$root" "$tmp"' EXIT
cat >"$tmp/task.json" <<JSON
{ "family": "footprint", "containerDefinitions": [ { "name": "idle",
  "image": "dir:$build/rootfs", "command": ["/bin/sleep", "3600"], "memory": 64 } ] }
JSON
ids=""
for i in $(seq "$tasks"); do
  ids="$ids $("$skiff" --root "$root" run -d "$tmp/task.json")"
done
sleep 1
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/smaps_rollup"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
pids=""
for id in $ids; do
  pids="$pids $(pgrep -f -- "--root $root __monitor $id") $(pgrep -f -- "--root $root __supervise $id")"
done
rss=0 pss=0 t0=0
for p in $pids; do
  rss=$((rss + $(kib "$p" Rss))) pss=$((pss + $(kib "$p" Pss))) t0=$((t0 + $(ticks "$p")))
done
sleep "$idle"
t1=0
for p in $pids; do t1=$((t1 + $(ticks "$p"))); done
echo "footprint: $tasks detached tasks, monitor + supervisor each"
echo "  RSS per task: $((rss / tasks)) KiB   PSS per task: $((pss / tasks)) KiB"
echo "  CPU while idle for ${idle}s: $((t1 - t0)) clock ticks in total"
for p in $(echo "$pids" | awk '{ print $1, $2 }'); do
  echo "  $(cat /proc/$p/comm) (pid $p): RSS $(kib "$p" Rss) KiB, PSS $(kib "$p" Pss) KiB"
done
