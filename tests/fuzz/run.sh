#!/bin/sh
# Run the libFuzzer harnesses of tests/fuzz/ (docs/testing-fuzz.md).
#
#   run.sh fuzz  OUT SECONDS HARNESS...   fuzz each harness for SECONDS
#   run.sh check OUT SECONDS HARNESS...   replay seeds + regressions, then a
#                                         bounded pass of SECONDS per harness
#
# OUT is the harnesses' build directory: each keeps its growing corpus in
# OUT/corpus/NAME and writes crash/leak/timeout inputs to OUT/artifacts/.
# Exits non-zero on the first harness that finds anything.
set -u
mode=${1:?mode}
out=${2:?build dir}
seconds=${3:?seconds}
shift 3
[ $# -gt 0 ] || { echo "run.sh: no harness given" >&2; exit 2; }

here=$(dirname "$0")
seeds=$here/corpus/spec
regressions=$here/regressions
dict=$here/spec.dict
# Inputs past the loader's 1 MiB cap are refused up front, so mutating at
# 16 KiB keeps the speed where the parser's logic is; the full-size hostile
# seeds are replayed whole by `check` (files given one by one are never cut).
max_len=${FUZZ_MAX_LEN:-16384}
# Leaks and UB must fail the run; symbolize for readable stacks.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p "$out/artifacts"

failed=0
passed=0

report() { # harness rc what
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $1 ($3, exit $2): see above; new inputs go to $out/artifacts/" >&2
    echo "  minimize: $1 -minimize_crash=1 -runs=10000 -exact_artifact_path=min.json INPUT" >&2
    echo "  then keep it: cp min.json $regressions/<what-it-is>.json" >&2
  fi
}

# Every seed and regression file, run once each at full size; one process
# per file so every failing input is named, not only the first.
replay() { # harness
  bad=0
  for f in $(find "$seeds" "$regressions" -type f ! -name '.*' ! -name '*.md' | sort); do
    if ! "$1" -runs=1 -timeout=30 -rss_limit_mb=2048 -error_exitcode=77 "$f" >"$out/replay.log" 2>&1; then
      bad=$((bad + 1))
      why=$(grep -m1 -E 'property broken|ERROR: [A-Za-z]+Sanitizer|runtime error|ERROR: libFuzzer' \
        "$out/replay.log")
      echo "$(basename "$1"): $f: $why" >&2
      cp "$out/replay.log" "$out/replay-$(basename "$1")-$(basename "$f").log"
    fi
  done
  [ $bad -eq 0 ] || echo "$(basename "$1"): $bad input(s) failed; logs in $out/replay-*.log" >&2
  [ $bad -eq 0 ]
}

explore() { # harness seconds
  name=$(basename "$1")
  corpus=$out/corpus/$name
  mkdir -p "$corpus"
  # -jobs=1 would fork a worker; one process in the foreground suffices and
  # leaves the second core to the rest of the build.
  "$1" -max_total_time="$2" -max_len="$max_len" -dict="$dict" -timeout=10 -rss_limit_mb=2048 \
    -error_exitcode=77 -print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" \
    "$corpus" "$seeds" 2>"$out/$name.log"
  rc=$?
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE' "$out/$name.log" |
    sed "s|^|$name: |"
  [ $rc -eq 0 ] || tail -n 80 "$out/$name.log" >&2
  return $rc
}

for h in "$@"; do
  name=$(basename "$h")
  case $mode in
  check)
    replay "$h"
    report "$name" $? "seed/regression replay"
    explore "$h" "$seconds"
    report "$name" $? "bounded fuzzing, ${seconds}s"
    ;;
  fuzz)
    explore "$h" "$seconds"
    report "$name" $? "fuzzing, ${seconds}s"
    ;;
  *)
    echo "run.sh: unknown mode $mode (fuzz|check)" >&2
    exit 2
    ;;
  esac
done
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
