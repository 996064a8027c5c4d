#!/bin/bash
# Cold start of a one-container /bin/true task with full isolation: skiff vs
# crun vs runc (when installed) vs the floor `unshare -pmnui --fork
# /bin/true`. Interleaved (the order rotates each round), BENCH_RUNS rounds
# (default 40), medians and ratios, PASS/MISS against issue 8's targets.
#
# Usage: bash tests/bench/run.sh BUILD-DIR
#
# crun refuses cgroup v1 hybrid hosts: everything runs in a private mount
# namespace where /sys/fs/cgroup/unified is unmounted, skiff included, so all
# of them see the same host. Before timing, the probe payload runs in each
# runtime and the set-up it sees (capabilities, no_new_privs, seccomp,
# limits, network, read-only root) must be identical.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
build=$(cd "${1:-build}" && pwd)
runs=${BENCH_RUNS:-40}
skiff=$build/skiff
rootfs=$build/rootfs
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
bench_deps "$here"
have_runc=0
command -v runc >/dev/null 2>&1 && have_runc=1
tmp=$(mktemp -d /tmp/skiff-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

write_task "$tmp/task.json" "$rootfs"
write_bundle "$tmp/bundle" "$rootfs" /skiff-bench-cold
# For reference only: crun without the seccomp profile, to show what
# compiling it on every run costs crun.
write_bundle "$tmp/bundle-nosec" "$rootfs" /skiff-bench-nosec
python3 - "$tmp/bundle-nosec/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
del c["linux"]["seccomp"]
json.dump(c, open(sys.argv[1], "w"))
PY
# The same set-up seen from inside, for the equivalence check.
what=(/usr/bin/probe rofs / caps nnp seccomp limits net) # the last verb gives the status
write_task "$tmp/probe.json" "$rootfs" "${what[@]}"
write_bundle "$tmp/pbundle" "$rootfs" /skiff-bench-probe
python3 - "$tmp/pbundle/config.json" "${what[@]}" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = sys.argv[2:]
json.dump(c, open(sys.argv[1], "w"))
PY

export TMP=$tmp SKIFF=$skiff RUNS=$runs HAVE_RUNC=$have_runc
# shellcheck disable=SC2016 # expanded by the inner shell
in_v1_view bash -euo pipefail -c '
  "$SKIFF" --root "$TMP/root" run "$TMP/probe.json" >"$TMP/see.skiff"
  crun run -b "$TMP/pbundle" bench-probe-crun >"$TMP/see.crun"
  [ "$HAVE_RUNC" = 0 ] || runc run -b "$TMP/pbundle" bench-probe-runc >"$TMP/see.runc"
  # warm-up: page cache, seccomp caches
  "$SKIFF" --root "$TMP/root" run "$TMP/task.json"
  crun run -b "$TMP/bundle" bench-warm-crun
  [ "$HAVE_RUNC" = 0 ] || runc run -b "$TMP/bundle" bench-warm-runc
  one() {
    local t0 t1
    case $1 in
      skiff) t0=${EPOCHREALTIME/./}; "$SKIFF" --root "$TMP/root" run "$TMP/task.json"; t1=${EPOCHREALTIME/./} ;;
      crun) t0=${EPOCHREALTIME/./}; crun run -b "$TMP/bundle" "bench-c$2"; t1=${EPOCHREALTIME/./} ;;
      crun-nosec) t0=${EPOCHREALTIME/./}; crun run -b "$TMP/bundle-nosec" "bench-n$2"; t1=${EPOCHREALTIME/./} ;;
      runc) t0=${EPOCHREALTIME/./}; runc run -b "$TMP/bundle" "bench-r$2"; t1=${EPOCHREALTIME/./} ;;
      floor) t0=${EPOCHREALTIME/./}; unshare -pmnui --fork /bin/true; t1=${EPOCHREALTIME/./} ;;
    esac
    echo $((t1 - t0)) >>"$TMP/$1.txt"
  }
  order=(skiff crun floor crun-nosec)
  [ "$HAVE_RUNC" = 0 ] || order=(skiff crun runc floor crun-nosec)
  for ((i = 0; i < RUNS; i++)); do
    n=${#order[@]}
    for ((k = 0; k < n; k++)); do one "${order[(i + k) % n]}" "$i"; done
  done
'

# The equivalence check: everything the probe printed must agree.
same=yes
for rt in crun runc; do
  [ -f "$tmp/see.$rt" ] || continue
  if ! diff -u "$tmp/see.skiff" "$tmp/see.$rt" >"$tmp/diff.$rt"; then
    same=no
    echo "bench: skiff and $rt set up different containers:" >&2
    cat "$tmp/diff.$rt" >&2
  fi
done

s=$(median "$tmp/skiff.txt")
c=$(median "$tmp/crun.txt")
f=$(median "$tmp/floor.txt")
row() { printf '%-36s %8sms %8sms %8sms %8s\n' "$@"; }
echo
printf '%-36s %10s %10s %10s %8s\n' "cold start, /bin/true ($runs runs)" median p90 max "/floor"
for name in floor crun-nosec crun runc skiff; do
  [ -f "$tmp/$name.txt" ] || continue
  m=$(median "$tmp/$name.txt")
  case $name in
    floor) label="unshare -pmnui --fork (floor)" ;;
    crun-nosec) label="crun run, no seccomp (reference)" ;;
    crun) label="crun run" ;;
    runc) label="runc run" ;;
    skiff) label="skiff run" ;;
  esac
  row "$label" "$(ms "$m")" "$(ms "$(percentile "$tmp/$name.txt" 90)")" \
    "$(ms "$(maxof "$tmp/$name.txt")")" "$(ratio "$m" "$f")"
done
sc=$(ratio "$s" "$c")
sf=$(ratio "$s" "$f")
vc=$(verdict "$sc" "<=" 0.75)
vf=$(verdict "$sf" "<=" 1.5)
printf 'skiff / crun  = %s   target <= 0.75  %s\n' "$sc" "$vc"
if [ -f "$tmp/runc.txt" ]; then
  r=$(median "$tmp/runc.txt")
  printf 'skiff / runc  = %s   (no target)\n' "$(ratio "$s" "$r")"
fi
cn=$(median "$tmp/crun-nosec.txt")
printf 'skiff / crun without seccomp = %s   (no target: skiff does load its filter)\n' "$(ratio "$s" "$cn")"
printf 'skiff / floor = %s   target <= 1.5   %s\n' "$sf" "$vf"
echo "equivalent set-up (caps, no_new_privs, seccomp filter, memory+pids limits, lo up, read-only /): $same"
echo "note: all use a seccomp allow-list (skiff: its own, Docker-equivalent, BPF cached per capability set;"
echo "      crun/runc: containers-common's seccomp.json for the same capabilities, compiled on every run)."
echo "      The floor has no cgroup, seccomp, capability drop, mounts or pivot_root."

summary "cold start skiff (ms, median)" "$(ms "$s")" "" ""
summary "cold start skiff / crun" "$sc" "<= 0.75" "$vc"
[ ! -f "$tmp/runc.txt" ] || summary "cold start skiff / runc" "$(ratio "$s" "$(median "$tmp/runc.txt")")" "" ""
summary "cold start skiff / crun without seccomp" "$(ratio "$s" "$cn")" "" ""
summary "cold start skiff / unshare floor" "$sf" "<= 1.5" "$vf"
[ "$same" = yes ] || summary "cold start: runtimes set up the same" "no" "yes" "MISS"
