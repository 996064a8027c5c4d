# Helpers for the skiff integration tests (bats). Every .bats file does:
#
#   load helpers
#   setup() { common_setup; }
#   teardown() { common_teardown; }
#
# Environment (set by tests/tools/run-integration.sh):
#   SKIFF         the skiff binary under test
#   SKIFF_ROOTFS  the busybox image with the probe at /usr/bin/probe
#   SKIFF_BUILD   the build directory
#
# Each test gets its own state root ($ROOT, under /run) and a mark
# ($MARK) put into the environment of every container it starts, so the
# teardown can find the test's processes on the host, kill them, and fail the
# test if skiff left anything behind.

bats_require_minimum_version 1.5.0

# How long one skiff run may take before the test gives up on it.
SKIFF_TEST_DEADLINE=${SKIFF_TEST_DEADLINE:-60}
# The payload, by absolute path (one test checks the PATH lookup).
PROBE=/usr/bin/probe

common_setup() {
  if [ -z "${SKIFF:-}" ] || [ ! -x "$SKIFF" ]; then
    skip "SKIFF is not set to an executable skiff (run tests/tools/run-integration.sh BUILD)"
  fi
  if [ -z "${SKIFF_ROOTFS:-}" ] || [ ! -x "$SKIFF_ROOTFS/usr/bin/probe" ]; then
    skip "SKIFF_ROOTFS has no /usr/bin/probe (make rootfs)"
  fi
  [ "$(id -u)" -eq 0 ] || skip "needs root"
  ROOT=/run/skiff-test-$BATS_TEST_NUMBER-$$
  MARK=skiff-test-$$-$BATS_TEST_NUMBER-$RANDOM
  # Each test's task groups under a parent of its own: runs elsewhere on the
  # host (another suite, a developer) cannot confuse the leftover checks.
  export SKIFF_CGROUP_PARENT=$MARK
  TASK=$BATS_TEST_TMPDIR/task.json
  BG_PIDS=()
  rm -rf "$ROOT"
  mkdir -p "$ROOT"
  cgroup_snapshot >"$BATS_TEST_TMPDIR/cgroups.before"
}

common_teardown() {
  [ -n "${ROOT:-}" ] || return 0
  local verdict=0
  assert_host_clean 5 || verdict=1
  force_clean
  return $verdict
}

# ---- running skiff -------------------------------------------------------------

# skiff with the test's state root.
skiff() {
  "$SKIFF" --root "$ROOT" "$@"
}

# `skiff run ARGS...`, killed (and reported) if it outlives the deadline,
# so one hung run cannot hang the suite. Returns skiff's status.
skiff_run() {
  local flag=$BATS_TEST_TMPDIR/deadline.$RANDOM
  "$SKIFF" --root "$ROOT" run "$@" &
  local pid=$!
  # The watchdog must not hold the caller's stdout: `run` waits for EOF.
  # Nor bats' fd 3: bats waits for it to close before it ends the file.
  (
    sleep "$SKIFF_TEST_DEADLINE"
    kill -0 "$pid" 2>/dev/null && touch "$flag" && kill -KILL "$pid"
  ) </dev/null >/dev/null 2>&1 3>&- &
  local dog=$!
  local rc=0
  wait "$pid" || rc=$?
  kill "$dog" 2>/dev/null
  wait "$dog" 2>/dev/null
  if [ -e "$flag" ]; then
    echo "skiff_run: skiff still running after ${SKIFF_TEST_DEADLINE}s; killed it" >&2
    return 250
  fi
  return $rc
}

# Start `skiff run ARGS...` in the background with stdout in $BG_OUT and
# stderr in $BG_ERR; $BG_PID is skiff's pid. Bash makes background jobs
# ignore SIGINT; env --default-signal gives skiff the default dispositions
# an interactive user's skiff would have.
skiff_bg() {
  BG_OUT=$BATS_TEST_TMPDIR/bg.out
  BG_ERR=$BATS_TEST_TMPDIR/bg.err
  : >"$BG_OUT"
  : >"$BG_ERR"
  env --default-signal=INT,QUIT,TERM "$SKIFF" --root "$ROOT" run "$@" \
    </dev/null >"$BG_OUT" 2>"$BG_ERR" &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# Wait (up to SECONDS, default 15) until FILE contains a line matching the
# extended regex PATTERN.
wait_for_line() {
  local file=$1 pattern=$2 seconds=${3:-15}
  local tries=$((seconds * 10))
  while [ $tries -gt 0 ]; do
    grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
    # skiff gone: the line will never come.
    if [ -n "${BG_PID:-}" ] && ! bg_alive; then
      grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
      echo "wait_for_line: skiff exited before printing /$pattern/" >&2
      break
    fi
    sleep 0.1
    tries=$((tries - 1))
  done
  echo "wait_for_line: no line matching /$pattern/ in $file; it holds:" >&2
  cat "$file" >&2
  [ -n "${BG_ERR:-}" ] && [ "$file" != "$BG_ERR" ] && { echo "stderr:" >&2; cat "$BG_ERR" >&2; }
  return 1
}

# Is the background skiff still running? (An unreaped zombie is not.)
bg_alive() {
  kill -0 "$BG_PID" 2>/dev/null &&
    [ "$(awk '{print $3}' "/proc/$BG_PID/stat" 2>/dev/null)" != Z ]
}

# Wait for background skiff to exit; sets BG_STATUS. Fails after SECONDS.
wait_bg() {
  local seconds=${1:-30}
  local tries=$((seconds * 10))
  while bg_alive; do
    if [ $tries -le 0 ]; then
      echo "wait_bg: skiff (pid $BG_PID) still running after ${seconds}s" >&2
      return 1
    fi
    sleep 0.1
    tries=$((tries - 1))
  done
  BG_STATUS=0
  wait "$BG_PID" || BG_STATUS=$?
}

# ---- task definitions ------------------------------------------------------------

# Quote each argument as a JSON string and join them into an array.
json_array() {
  local out="" arg
  for arg in "$@"; do
    arg=${arg//\\/\\\\}
    arg=${arg//\"/\\\"}
    out+="${out:+, }\"$arg\""
  done
  printf '[%s]' "$out"
}

# task_json [-o FILE] [-i IMAGE] [-n NAME] [-m MEMORY] [-N NETWORKMODE]
#           [-e NAME=VALUE]... [-c 'CONTAINER MEMBERS'] [-t 'TASK MEMBERS'] [--] CMD ARGS...
# Writes a one-container task (default $TASK) whose container runs CMD ARGS
# (default: $PROBE pid). Extra JSON members are pasted in as given, e.g.
#   task_json -c '"user": "app", "readonlyRootFilesystem": true' -- "$PROBE" id
task_json() {
  local file=$TASK netmode=awsvpc task_extra="" container_args=()
  while [ $# -gt 0 ]; do
    case $1 in
    -o) file=$2; shift 2 ;;
    -N) netmode=$2; shift 2 ;;
    -t) task_extra=$2; shift 2 ;;
    -i | -n | -m | -e | -c) container_args+=("$1" "$2"); shift 2 ;;
    --) shift; break ;;
    *) break ;;
    esac
  done
  [ $# -gt 0 ] || set -- "$PROBE" pid
  task_json_of -o "$file" -N "$netmode" -t "$task_extra" -- \
    "$(container_json "${container_args[@]}" -- "$@")"
}

# task_json_of [-o FILE] [-N NETWORKMODE] [-t 'TASK MEMBERS'] [--] CONTAINER_JSON...
# A task made of the given container objects (see container_json).
task_json_of() {
  local file=$TASK netmode=awsvpc task_extra=""
  while [ $# -gt 0 ]; do
    case $1 in
    -o) file=$2; shift 2 ;;
    -N) netmode=$2; shift 2 ;;
    -t) task_extra=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
    esac
  done
  local containers="" c
  for c in "$@"; do
    containers+="${containers:+,
    }$c"
  done
  cat >"$file" <<JSON
{
  "family": "skiff-test-$BATS_TEST_NUMBER",
  "networkMode": "$netmode",${task_extra:+
  $task_extra,}
  "containerDefinitions": [
    $containers
  ]
}
JSON
}

# container_json [-i IMAGE] [-n NAME] [-m MEMORY] [-e NAME=VALUE]... [-c 'MEMBERS'] [--] CMD ARGS...
# One container definition: essential (unless MEMBERS say otherwise), with the
# test's mark in its environment next to the -e entries.
container_json() {
  local image="dir:$SKIFF_ROOTFS" name=app memory=256 extra=""
  local env="{ \"name\": \"SKIFF_TEST_MARK\", \"value\": \"$MARK\" }"
  while [ $# -gt 0 ]; do
    case $1 in
    -i) image=$2; shift 2 ;;
    -n) name=$2; shift 2 ;;
    -m) memory=$2; shift 2 ;;
    -e) env+=", { \"name\": \"${2%%=*}\", \"value\": \"${2#*=}\" }"; shift 2 ;;
    -c) extra+="${extra:+, }$2"; shift 2 ;;
    --) shift; break ;;
    *) break ;;
    esac
  done
  [ $# -gt 0 ] || set -- "$PROBE" pid
  local essential='"essential": true, '
  [[ $extra == *'"essential"'* ]] && essential=""
  printf '{ "name": "%s", "image": "%s", "memory": %s, %s\n' "$name" "$image" "$memory" "$essential"
  printf '      "command": %s,\n' "$(json_array "$@")"
  printf '      "environment": [ %s ]%s }' "$env" "${extra:+,
      $extra}"
}

# ---- reading results -------------------------------------------------------------------

# The value of the first `KEY=value` line in $output (or in $2).
kv() {
  local key=$1 text=${2-$output}
  printf '%s\n' "$text" | sed -n "s/^$(printf '%s' "$key" | sed 's/[.[\*^$]/\\&/g')=//p" | head -n1
}

# assert_kv KEY EXPECTED: the probe printed KEY=EXPECTED.
assert_kv() {
  local got
  got=$(kv "$1")
  if [ "$got" != "$2" ]; then
    echo "expected $1=$2, got '${got:-<no such line>}'" >&2
    echo "--- output:" >&2
    printf '%s\n' "$output" >&2
    return 1
  fi
}

assert_status() {
  if [ "$status" -ne "$1" ]; then
    echo "expected exit status $1, got $status" >&2
    echo "--- output:" >&2
    printf '%s\n' "$output" >&2
    [ -n "${stderr:-}" ] && { echo "--- stderr:" >&2; printf '%s\n' "$stderr" >&2; }
    return 1
  fi
}

# assert_contains TEXT NEEDLE [WHAT]
assert_contains() {
  if [[ $1 != *"$2"* ]]; then
    echo "expected ${3:-output} to contain '$2'; it is:" >&2
    printf '%s\n' "$1" >&2
    return 1
  fi
}

assert_not_contains() {
  if [[ $1 == *"$2"* ]]; then
    echo "expected ${3:-output} not to contain '$2'; it is:" >&2
    printf '%s\n' "$1" >&2
    return 1
  fi
}

# assert_one_line TEXT: a failure is reported as exactly one line.
assert_one_line() {
  local n
  n=$(printf '%s\n' "$1" | grep -c .)
  if [ "$n" -ne 1 ]; then
    echo "expected exactly one line, got $n:" >&2
    printf '%s\n' "$1" >&2
    return 1
  fi
}

# A host-side value, for comparison with the container's.
host_probe() {
  "$SKIFF_ROOTFS/usr/bin/probe" "$@"
}

# ---- the host side of a running container -------------------------------------------------

# Host pids of the processes carrying this test's mark (containers' processes).
marked_pids() {
  local f
  for f in $(grep -lsF -z "SKIFF_TEST_MARK=$MARK" /proc/[0-9]*/environ 2>/dev/null); do
    f=${f#/proc/}
    echo "${f%/environ}"
  done
}

# The host pid of the container process whose command line is COMM
# (default probe), waiting up to 10 s for it to appear.
container_pid() {
  local comm=${1:-probe} tries=100 pid
  while [ $tries -gt 0 ]; do
    for pid in $(marked_pids); do
      if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ]; then
        echo "$pid"
        return 0
      fi
    done
    sleep 0.1
    tries=$((tries - 1))
  done
  echo "container_pid: no process '$comm' with mark $MARK" >&2
  return 1
}

# host_cgroup_dir PID CONTROLLER: the host directory of PID's v1 cgroup for
# CONTROLLER (or of its v2 group when CONTROLLER is on the unified tree).
host_cgroup_dir() {
  local pid=$1 controller=$2 line path
  while IFS= read -r line; do
    path=${line#*:*:}
    local controllers=${line#*:}
    controllers=${controllers%%:*}
    if [[ ",$controllers," == *",$controller,"* ]]; then
      local mnt
      for mnt in /sys/fs/cgroup/"$controllers" /sys/fs/cgroup/"$controller"; do
        [ -d "$mnt$path" ] && { echo "$mnt$path"; return 0; }
      done
    fi
    if [ -z "$controllers" ] && [ -f /sys/fs/cgroup/cgroup.controllers ]; then
      echo "/sys/fs/cgroup$path"
      return 0
    fi
  done <"/proc/$pid/cgroup"
  echo "host_cgroup_dir: no $controller cgroup for pid $pid" >&2
  return 1
}

# ---- leaving nothing behind ---------------------------------------------------------------

# Every skiff task cgroup on the host, one directory a line.
cgroup_snapshot() {
  local d
  for d in /sys/fs/cgroup/*/"$SKIFF_CGROUP_PARENT" /sys/fs/cgroup/"$SKIFF_CGROUP_PARENT"; do
    [ -d "$d" ] && find "$d" -mindepth 1 -type d 2>/dev/null
  done | sort
}

# Cgroups that appeared since the test started. Another skiff run on this
# host at the same time would show up here too: run the suite alone.
new_cgroups() {
  cgroup_snapshot | comm -13 "$BATS_TEST_TMPDIR/cgroups.before" -
}

# assert_host_clean [GRACE]: within GRACE seconds (default 2) none of the
# test's container processes run, no mount mentions its root, no task
# directory is left under the root, and no cgroup created during the test
# remains.
assert_host_clean() {
  local grace=${1:-2} tries problems
  tries=$((grace * 10))
  while :; do
    problems=""
    local pids
    pids=$(marked_pids | tr '\n' ' ')
    [ -n "$pids" ] && problems+="container processes still running: $pids"$'\n'
    local mounts
    mounts=$(grep -F -- "$ROOT" /proc/self/mountinfo || true)
    [ -n "$mounts" ] && problems+="mounts left:"$'\n'"$mounts"$'\n'
    local tasks
    tasks=$(ls -A "$ROOT/tasks" 2>/dev/null || true)
    [ -n "$tasks" ] && problems+="task directories left in $ROOT/tasks: $tasks"$'\n'
    local cgroups
    cgroups=$(new_cgroups)
    [ -n "$cgroups" ] && problems+="cgroups left:"$'\n'"$cgroups"$'\n'
    [ -z "$problems" ] && return 0
    [ $tries -le 0 ] && break
    sleep 0.1
    tries=$((tries - 1))
  done
  # Also on fd 3: bats shows it even when the test's stderr is captured.
  { echo "host not clean after the test:"; printf '%s' "$problems"; } | tee /dev/fd/3 >&2
  return 1
}

# Kill and remove whatever the test left, so the next test starts clean.
force_clean() {
  local pid m d
  for pid in "${BG_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for pid in $(marked_pids); do
    kill -KILL "$pid" 2>/dev/null
  done
  # Deepest mount first.
  for m in $(awk '{print $5}' /proc/self/mountinfo | grep -F -- "$ROOT" | sort -r); do
    umount -l "$m" 2>/dev/null
  done
  for d in $(new_cgroups | sort -r); do
    rmdir "$d" 2>/dev/null
  done
  # The test's parent group itself (skiff leaves the parent, as it leaves
  # /sys/fs/cgroup/*/skiff).
  for d in /sys/fs/cgroup/*/"$SKIFF_CGROUP_PARENT" /sys/fs/cgroup/"$SKIFF_CGROUP_PARENT"; do
    [ -d "$d" ] && rmdir "$d" 2>/dev/null
  done
  rm -rf --one-file-system "$ROOT"
}

# ---- the supervisor's event log (--events-file) --------------------------------------------

# evq FILE EXPR: evaluate the Python expression EXPR over the JSON-lines event
# log FILE and print the result. In EXPR: E (every event, in order, each with
# "t", its time in seconds), ev(CONTAINER, EVENT, KEY=VALUE...) (the matching
# events; None matches any), one(...) (the first match, or a failure naming
# what the log holds), at(...) (its position in E), t(...) (its time).
evq() {
  python3 - "$1" "$2" <<'PY'
import datetime, json, sys
E = []
for line in open(sys.argv[1]):
    if line.strip():
        e = json.loads(line)
        e["t"] = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
        # exit events: "te" is when the exit was seen (exitedAt), else the event time
        e["te"] = (datetime.datetime.strptime(e["exitedAt"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
                   if "exitedAt" in e else e["t"])
        E.append(e)
def ev(c=None, kind=None, **kw):
    return [e for e in E if (c is None or e.get("container") == c)
            and (kind is None or e["event"] == kind)
            and all(e.get(k) == v for k, v in kw.items())]
def one(c=None, kind=None, **kw):
    r = ev(c, kind, **kw)
    if not r:
        sys.exit("evq: no event %s/%s %s; the log holds: %s"
                 % (c, kind, kw, [(x.get("container"), x["event"]) for x in E]))
    return r[0]
def at(c=None, kind=None, **kw):
    return E.index(one(c, kind, **kw))
def t(c=None, kind=None, **kw):
    return one(c, kind, **kw)["t"]
print(eval(sys.argv[2]))
PY
}

# evassert FILE EXPR: fail, showing the event log, unless EXPR (see evq) is true.
evassert() {
  local got
  got=$(evq "$1" "$2") || { cat "$1" >&2; return 1; }
  if [ "$got" != True ]; then
    echo "evassert: '$2' is $got; events:" >&2
    cat "$1" >&2
    return 1
  fi
}
