#!/bin/bash
# Scale: BENCH_SCALE_TASKS (default 1000) detached one-container tasks
# running `sleep 3600`, started BENCH_PARALLEL (default 8) at a time.
# Measures: the time to start them all; once they are idle (after the
# hibernation grace, SKIFF_HIBERNATE_MS, default 2000, plus 2 s), the PSS of
# skiff's own processes (monitors, supervisors: every process whose command
# line carries this bench's --root) per task and the CPU ticks they use over
# BENCH_IDLE_SECONDS (default 10); then the time to stop them all and to
# remove them.
#
# Usage: bash tests/bench/scale.sh BUILD-DIR
#
# Safety: it refuses to start when MemAvailable or free pids look too small
# for N tasks, and an EXIT/INT/TERM trap removes every task it started
# (`skiff rm -f`, then a kill by pid of anything still carrying its --root).
# The state root is a fresh directory under /run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
build=$(cd "${1:-build}" && pwd)
skiff=$build/skiff
n=${BENCH_SCALE_TASKS:-1000}
par=${BENCH_PARALLEL:-8}
idle=${BENCH_IDLE_SECONDS:-10}
hib_ms=${SKIFF_HIBERNATE_MS:-2000}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }

# Budget: skiff's processes have measured up to ~6 MiB PSS per task, the
# container a little more; keep 2 GiB for everyone else on the machine.
avail_kib=$(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo)
need_kib=$((n * 8 * 1024 + 2 * 1024 * 1024))
if [ "$avail_kib" -lt "$need_kib" ]; then
  echo "bench: $n tasks need about $((need_kib / 1024)) MiB, only $((avail_kib / 1024)) MiB available (set BENCH_SCALE_TASKS lower)" >&2
  exit 1
fi
pid_max=$(cat /proc/sys/kernel/pid_max)
procs=(/proc/[0-9]*)
in_use=${#procs[@]}
if [ $((in_use + n * 4 + 1000)) -gt "$pid_max" ]; then
  echo "bench: $n tasks need about $((n * 4)) pids; $in_use of $pid_max in use" >&2
  exit 1
fi

root=$(mktemp -d /run/skiff-scale.XXXXXX)
tmp=$(mktemp -d /tmp/skiff-bench-scale.XXXXXX)

# Every pid whose command line names our root (unique, from mktemp):
# skiff's own processes.
own_pids() {
  # "[.]": the pattern must not match grep's own command line.
  grep -lasE -- "${root//./[.]}" /proc/[0-9]*/cmdline | cut -d/ -f3 || true
}
cleanup() {
  trap - EXIT INT TERM
  if [ -d "$root/tasks" ]; then
    # stop -t 0 first: `sleep` as pid 1 ignores SIGTERM, and rm -f alone
    # would wait out each container's stopTimeout.
    find "$root/tasks" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null >"$tmp/all" || true
    xargs -r -P "$par" -n 25 "$skiff" --root "$root" stop -t 0 <"$tmp/all" >/dev/null 2>&1 || true
    xargs -r -P "$par" -n 25 "$skiff" --root "$root" rm -f <"$tmp/all" >/dev/null 2>&1 || true
  fi
  local left
  left=$(own_pids)
  if [ -n "$left" ]; then
    echo "bench: killing $(echo "$left" | wc -w) leftover skiff processes of $root" >&2
    # shellcheck disable=SC2086 # pids, one per word
    kill -KILL $left 2>/dev/null || true
    "$skiff" --root "$root" gc >/dev/null 2>&1 || true
  fi
  rm -rf "$root" "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

write_task "$tmp/task.json" "$build/rootfs" /bin/sleep 3600

echo "scale: starting $n detached sleep tasks, $par at a time (root $root)"
t0=$(now_us)
# shellcheck disable=SC2016 # expanded by the inner shell
seq "$n" | xargs -P "$par" -I{} sh -c '"$1" --root "$2" run -d "$3" >>"$4/ids" 2>>"$4/start.err" || echo x >>"$4/failed"' \
  start "$skiff" "$root" "$tmp/task.json" "$tmp" || true
t1=$(now_us)
started=$(wc -l <"$tmp/ids")
failed=0
[ ! -f "$tmp/failed" ] || failed=$(wc -l <"$tmp/failed")
start_s=$(awk -v a=$((t1 - t0)) 'BEGIN { printf "%.2f", a / 1e6 }')
echo "scale: $started started, $failed failed in ${start_s}s"
[ ! -s "$tmp/start.err" ] || { echo "start errors (first 3):" && head -n 3 "$tmp/start.err"; }

settle=$((hib_ms / 1000 + 2))
sleep "$settle"
mapfile -t pids < <(own_pids)
pss=0 rss=0 t_a=0
declare -A kinds=()
for p in "${pids[@]}"; do
  read -r r s < <(awk '$1 == "Rss:" { r = $2 } $1 == "Pss:" { s = $2 } END { print r + 0, s + 0 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0 0)
  rss=$((rss + r)) pss=$((pss + s))
  t_a=$((t_a + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
  k=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -oE '__[a-z]+' | head -n 1 || true)
  k=${k:-other}
  kinds[$k]=$((${kinds[$k]:-0} + 1))
done
sleep "$idle"
t_b=0 gone=0
for p in "${pids[@]}"; do
  if [ -r "/proc/$p/stat" ]; then
    t_b=$((t_b + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
  else
    gone=$((gone + 1))
  fi
done
per_task_pss=$((started > 0 ? pss / started : 0))
per_task_rss=$((started > 0 ? rss / started : 0))
ticks=$((t_b - t_a))

echo "scale: stopping and removing them, $par at a time, 25 per command"
t0=$(now_us)
xargs -P "$par" -n 25 "$skiff" --root "$root" stop -t 0 <"$tmp/ids" >/dev/null 2>"$tmp/stop.err" || true
t1=$(now_us)
xargs -P "$par" -n 25 "$skiff" --root "$root" rm <"$tmp/ids" >/dev/null 2>"$tmp/rm.err" || true
t2=$(now_us)
stop_s=$(awk -v a=$((t1 - t0)) 'BEGIN { printf "%.2f", a / 1e6 }')
rm_s=$(awk -v a=$((t2 - t1)) 'BEGIN { printf "%.2f", a / 1e6 }')
left=$(find "$root/tasks" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)

echo
printf '%-52s %s\n' "scale: $n sleep tasks, $par at a time" ""
printf '%-52s %ss (%s tasks/s), %s failed\n' "start all (run -d)" "$start_s" \
  "$(awk -v n="$started" -v s="$start_s" 'BEGIN { printf "%.1f", n / s }')" "$failed"
kind_text=""
for k in "${!kinds[@]}"; do kind_text="$kind_text $k=${kinds[$k]}"; done
printf '%-52s %s (%s)\n' "skiff processes once idle (after ${settle}s)" "${#pids[@]}" "${kind_text# }"
printf '%-52s %s KiB (RSS %s KiB)\n' "PSS of skiff's processes per task" "$per_task_pss" "$per_task_rss"
printf '%-52s %s ticks (%s exited meanwhile)\n' "CPU of skiff's processes over ${idle}s idle" "$ticks" "$gone"
printf '%-52s %ss\n' "stop all (stop -t 0)" "$stop_s"
printf '%-52s %ss, %s task directories left\n' "remove all (rm)" "$rm_s" "$left"
[ ! -s "$tmp/stop.err" ] || { echo "stop errors (first 3):" && head -n 3 "$tmp/stop.err"; }
[ ! -s "$tmp/rm.err" ] || { echo "rm errors (first 3):" && head -n 3 "$tmp/rm.err"; }
vp=$(verdict "$per_task_pss" "<=" 256)
vc=$(verdict "$ticks" "<=" 0)
printf 'PSS per task = %s KiB   target <= 256   %s\n' "$per_task_pss" "$vp"
printf 'CPU while idle = %s ticks   target 0   %s\n' "$ticks" "$vc"
summary "scale: start $n tasks (s)" "$start_s" "" ""
summary "scale: skiff PSS per task (KiB)" "$per_task_pss" "<= 256" "$vp"
summary "scale: skiff CPU over ${idle}s idle (ticks)" "$ticks" "0" "$vc"
summary "scale: stop $n tasks (s)" "$stop_s" "" ""
summary "scale: rm $n tasks (s)" "$rm_s" "" ""
[ "$failed" -eq 0 ] || summary "scale: tasks failed to start" "$failed" "0" "MISS"
