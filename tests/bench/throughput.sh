#!/bin/bash
# Throughput: BENCH_TASKS (default 500) one-container /bin/true tasks with
# full isolation, BENCH_PARALLEL (default 8) at a time (xargs -P), wall time
# and tasks/s for skiff, crun (and runc when installed). Each runtime runs
# BENCH_TP_ROUNDS times (default 1), interleaved; the median round counts.
#
# Usage: bash tests/bench/throughput.sh BUILD-DIR
#
# Same task and bundle as run.sh, same private mount namespace without
# /sys/fs/cgroup/unified. crun and runc get a unique container id per task
# and each container is deleted after it ran (`run` already does; the delete
# makes sure, and costs both the same).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
build=$(cd "${1:-build}" && pwd)
tasks=${BENCH_TASKS:-500}
par=${BENCH_PARALLEL:-8}
rounds=${BENCH_TP_ROUNDS:-1}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
bench_deps "$here"
have_runc=0
command -v runc >/dev/null 2>&1 && have_runc=1
tmp=$(mktemp -d /tmp/skiff-bench-tp.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

write_task "$tmp/task.json" "$build/rootfs"
write_bundle "$tmp/bundle" "$build/rootfs" ""
# One task each; a failure is counted, not fatal, and reported.
cat >"$tmp/one.sh" <<'ONE'
#!/bin/bash
rt=$1 i=$2
case $rt in
  skiff) "$SKIFF" --root "$TMP/root" run "$TMP/task.json" >/dev/null 2>>"$TMP/err.$rt" ;;
  crun | runc)
    "$rt" run -b "$TMP/bundle" "tp-$rt-$i" >/dev/null 2>>"$TMP/err.$rt" </dev/null
    rc=$?
    "$rt" delete -f "tp-$rt-$i" >/dev/null 2>&1
    exit $rc
    ;;
esac
ONE
chmod +x "$tmp/one.sh"

export TMP=$tmp SKIFF=$build/skiff TASKS=$tasks PAR=$par ROUNDS=$rounds HAVE_RUNC=$have_runc
# shellcheck disable=SC2016 # expanded by the inner shell
in_v1_view bash -euo pipefail -c '
  list=(skiff crun)
  [ "$HAVE_RUNC" = 0 ] || list=(skiff crun runc)
  for rt in "${list[@]}"; do "$TMP/one.sh" "$rt" warm || true; done
  for ((r = 0; r < ROUNDS; r++)); do
    n=${#list[@]}
    for ((k = 0; k < n; k++)); do
      rt=${list[(r + k) % n]}
      t0=${EPOCHREALTIME/./}
      if ! seq -f "$r-%g" "$TASKS" | xargs -P "$PAR" -n 1 "$TMP/one.sh" "$rt"; then
        echo "fail" >>"$TMP/fail.$rt"
      fi
      t1=${EPOCHREALTIME/./}
      echo $((t1 - t0)) >>"$TMP/$rt.txt"
    done
  done
'

echo
printf '%-40s %10s %10s %8s\n' "throughput: $tasks tasks, $par at a time ($rounds rounds)" "wall" "tasks/s" "failed"
for rt in crun runc skiff; do
  [ -f "$tmp/$rt.txt" ] || continue
  w=$(median "$tmp/$rt.txt")
  tps=$(awk -v n="$tasks" -v w="$w" 'BEGIN { printf "%.1f", n / (w / 1e6) }')
  failed=$(wc -l <"$tmp/err.$rt" 2>/dev/null || echo 0)
  printf '%-40s %9ss %10s %8s\n' "$rt run" "$(awk -v a="$w" 'BEGIN { printf "%.2f", a / 1e6 }')" "$tps" \
    "$([ -f "$tmp/fail.$rt" ] && echo "yes ($failed err lines)" || echo 0)"
  eval "tps_$rt=$tps"
done
# shellcheck disable=SC2154 # set by the eval above
r=$(ratio "$tps_skiff" "$tps_crun")
v=$(verdict "$r" ">=" 1.3)
printf 'skiff tasks/s / crun tasks/s = %s   target >= 1.3   %s\n' "$r" "$v"
if [ -f "$tmp/runc.txt" ]; then
  # shellcheck disable=SC2154
  printf 'skiff tasks/s / runc tasks/s = %s   (no target)\n' "$(ratio "$tps_skiff" "$tps_runc")"
fi
for rt in skiff crun runc; do
  if [ -s "$tmp/err.$rt" ]; then
    echo "$rt errors (first 3):"
    head -n 3 "$tmp/err.$rt"
  fi
done
summary "throughput skiff (tasks/s)" "$tps_skiff" "" ""
summary "throughput skiff / crun" "$r" ">= 1.3" "$v"
[ ! -f "$tmp/runc.txt" ] || summary "throughput skiff / runc" "$(ratio "$tps_skiff" "$tps_runc")" "" ""
[ ! -f "$tmp/fail.skiff" ] || summary "throughput: skiff tasks failed" "yes" "none" "MISS"
