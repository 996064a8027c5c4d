#!/bin/sh
# make bench: what skiff's own processes cost per running detached task once
# its supervisor hibernates (docs/architecture.md, "Crash safety"): PSS,
# private dirty and RSS of every skiff process of the run (monitors, and
# supervisors still awake), from /proc/PID/smaps_rollup, and the CPU they
# use while the tasks merely run (utime+stime over BENCH_IDLE_SECONDS).
# Target: PSS <= 256 KiB per task, no CPU. conmon costs about 1-2 MiB per
# container for comparison. The machine may be shared: numbers are noisy.
#
#   SKIFF_BENCH_TASKS (or BENCH_TASKS)  how many `sleep` tasks (default 5)
#   BENCH_IDLE_SECONDS                  the idle window (default 10)
#   SKIFF_HIBERNATE_MS                  passed on (default: skiff's, 2000)
set -eu
build=$(cd "${1:-build}" && pwd)
skiff=$build/skiff
idle=${BENCH_IDLE_SECONDS:-10}
tasks=${SKIFF_BENCH_TASKS:-${BENCH_TASKS:-5}}
root=$(mktemp -d /run/skiff-footprint.XXXXXX)
tmp=$(mktemp -d /tmp/skiff-footprint.XXXXXX)
cleanup() {
  # A few at a time: a thousand parallel `rm -f` would swamp a shared machine.
  ls "$root/tasks" 2>/dev/null | xargs -r -n 25 -P 4 "$skiff" --root "$root" rm -f >/dev/null 2>&1 || true
  rm -rf "$root" "$tmp"
}
trap cleanup EXIT
cat >"$tmp/task.json" <<JSON
{ "family": "footprint", "containerDefinitions": [ { "name": "idle",
  "image": "dir:$build/rootfs", "command": ["/bin/sleep", "36000"], "memory": 64 } ] }
JSON
start=$(date +%s)
i=0
while [ "$i" -lt "$tasks" ]; do
  "$skiff" --root "$root" run -d "$tmp/task.json" >/dev/null
  i=$((i + 1))
done
echo "started $tasks tasks in $(($(date +%s) - start)) s"

procs() { pgrep -f -- "--root $root __$1" || true; }
count() { procs "$1" | wc -l; }
asleep() { grep -l '"hibernating":true' "$root"/tasks/*/state.json 2>/dev/null | wc -l; }
# Every supervisor hibernates once its task is idle (at most two minutes here).
waited=0
while { [ "$(asleep)" -lt "$tasks" ] || [ "$(count supervise)" -gt 0 ]; } && [ "$waited" -lt 1200 ]; do
  sleep 0.1
  waited=$((waited + 1))
done
monitors=$(count monitor)
supervisors=$(count supervise)
running=$("$skiff" --root "$root" ps | grep -c RUNNING || true)
echo "after $((waited / 10)) s: $running tasks RUNNING, $(asleep) hibernating, $monitors monitors, $supervisors supervisors awake"

kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
# utime + stime, and those of reaped children: a supervisor woken meanwhile counts.
ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pids="$(procs monitor) $(procs supervise)"
rss=0 pss=0 dirty=0 t0=0
for p in $pids; do
  rss=$((rss + $(kib "$p" Rss))) pss=$((pss + $(kib "$p" Pss)))
  dirty=$((dirty + $(kib "$p" Private_Dirty))) t0=$((t0 + $(ticks "$p")))
done
sleep "$idle"
t1=0
for p in $pids; do t1=$((t1 + $(ticks "$p"))); done
echo "footprint: $tasks detached tasks (sleep), skiff's own processes"
echo "  PSS per task: $((pss / tasks)) KiB   private dirty per task: $((dirty / tasks)) KiB   RSS per task: $((rss / tasks)) KiB"
echo "  CPU while idle for ${idle}s: $((t1 - t0)) clock ticks in total"
p=$(procs monitor | head -n1)
[ -z "$p" ] || echo "  one monitor (pid $p): RSS $(kib "$p" Rss) KiB, PSS $(kib "$p" Pss) KiB, private dirty $(kib "$p" Private_Dirty) KiB"
