# shellcheck shell=bash
# Helpers shared by the benchmarks (sourced, bash): timing without forks,
# statistics, the skiff task and the equivalent OCI bundle, and the summary
# file that tests/bench/all.sh prints at the end.

# Microseconds since the epoch, from bash's $EPOCHREALTIME: no fork, so the
# clock itself adds nothing measurable to a 2 ms floor.
now_us() {
  local t=${EPOCHREALTIME/./}
  echo "${t#0}"
}

# Statistics of a file of numbers, one a line: median, pN (nearest rank), max.
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
percentile() {
  sort -n "$1" | awk -v p="$2" '{ a[NR] = $1 } END { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; print a[i] }'
}
maxof() { sort -n "$1" | tail -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.2f", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1000 }'; }

# verdict VALUE OP LIMIT: PASS or MISS (OP is <= or >=).
verdict() {
  awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
    ok = (op == "<=") ? (v <= l) : (v >= l); print ok ? "PASS" : "MISS" }'
}

# summary METRIC VALUE TARGET VERDICT: one row of the final table. Rows go to
# $BENCH_SUMMARY when all.sh set it; a lone script prints only its own table.
summary() {
  [ -n "${BENCH_SUMMARY:-}" ] || return 0
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$BENCH_SUMMARY"
}

# The one-container task every launch bench runs: /bin/true (or the command
# given) with a memory limit and a read-only root; skiff adds its default
# pids limit (4096), Docker's 14 capabilities, no_new_privs, its seccomp
# profile, masked paths and a task network namespace with lo up.
write_task() { # FILE ROOTFS [CMD...]
  local file=$1 rootfs=$2
  shift 2
  local cmd='"/bin/true"'
  if [ $# -gt 0 ]; then
    cmd=$(printf '"%s",' "$@")
    cmd=${cmd%,}
  fi
  cat >"$file" <<JSON
{
  "family": "bench",
  "containerDefinitions": [
    {
      "name": "c",
      "image": "dir:$rootfs",
      "command": [$cmd],
      "memory": 64,
      "readonlyRootFilesystem": true
    }
  ]
}
JSON
}

# An OCI bundle (crun and runc read the same config.json) doing the work skiff
# does for write_task's task: pid, mount, uts, ipc, network and cgroup
# namespaces; memory 64 MiB without extra swap and pids 4096; read-only root;
# Docker's 14 capabilities (bounding, effective, permitted), no_new_privs;
# masked and read-only paths (crun spec's defaults, moby's list); and a
# seccomp allow-list: containers-common's seccomp.json (Docker's default
# profile as Podman ships it) resolved for these capabilities on x86-64.
write_bundle() { # DIR ROOTFS CGROUP-PATH (empty: one per container id)
  local dir=$1 rootfs=$2 cgpath=$3
  mkdir -p "$dir"
  (cd "$dir" && crun spec >/dev/null 2>&1) || { rm -f "$dir/config.json" && (cd "$dir" && crun spec); }
  python3 - "$dir/config.json" "$cgpath" /usr/share/containers/seccomp.json "$rootfs" <<'PY'
import json, os, sys

path, cgpath, profile, rootfs = sys.argv[1:5]
c = json.load(open(path))
caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
        "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]
p = c["process"]
p["terminal"] = False
p["args"] = ["/bin/true"]
p["noNewPrivileges"] = True
p["capabilities"] = {"bounding": caps, "effective": caps, "permitted": caps}
c["root"] = {"path": rootfs, "readonly": True}  # runc refuses a symlink
c["hostname"] = "bench"
lx = c["linux"]
ns = lx["namespaces"]
for t in ("pid", "network", "ipc", "uts", "mount", "cgroup"):
    if not any(n["type"] == t for n in ns):
        ns.append({"type": t})
mem = 64 * 1024 * 1024
lx["resources"] = {"memory": {"limit": mem, "swap": mem}, "pids": {"limit": 4096}}
if cgpath:
    lx["cgroupsPath"] = cgpath
else:  # each container its own cgroup, named after its id (parallel runs)
    lx.pop("cgroupsPath", None)

def wanted(group):
    inc, exc = group.get("includes") or {}, group.get("excludes") or {}
    if inc.get("caps") and not set(inc["caps"]) <= set(caps):
        return False
    if inc.get("arches") and "amd64" not in inc["arches"]:
        return False
    if exc.get("caps") and set(exc["caps"]) & set(caps):
        return False
    if exc.get("arches") and "amd64" in exc["arches"]:
        return False
    kv = inc.get("minKernel")
    if kv:
        have = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
        if have < tuple(int(x) for x in kv.split(".")[:2]):
            return False
    return True

src = json.load(open(profile))
rules = []
for g in src["syscalls"]:
    if not wanted(g):
        continue
    r = {"names": g["names"], "action": g["action"]}
    if g.get("args"):
        r["args"] = g["args"]
    if g.get("errnoRet") is not None:
        r["errnoRet"] = g["errnoRet"]
    rules.append(r)
lx["seccomp"] = {
    "defaultAction": src["defaultAction"],
    "defaultErrnoRet": src.get("defaultErrnoRet", 1),
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": rules,
}
json.dump(c, open(path, "w"), indent=1)
PY
}

# The runtimes to compare: crun always (installed if missing), runc when it
# is installed or can be (Debian `runc`), with containers-common for the
# seccomp profile the bundle uses.
bench_deps() { # HERE
  local here=$1 want=""
  command -v crun >/dev/null 2>&1 || want="$want crun"
  command -v runc >/dev/null 2>&1 || want="$want runc"
  [ -r /usr/share/containers/seccomp.json ] || want="$want golang-github-containers-common"
  command -v python3 >/dev/null 2>&1 || want="$want python3"
  # shellcheck disable=SC2086
  [ -z "$want" ] || sh "$here/../tools/install-deps.sh" $want || true
  command -v crun >/dev/null 2>&1 || { echo "bench: crun is required" >&2; return 1; }
}

# Run "$@" in a private mount namespace where /sys/fs/cgroup/unified is
# unmounted: crun refuses cgroup v1 hybrid hosts, and every runtime must see
# the same host.
in_v1_view() {
  unshare -m --propagation private bash -c 'umount /sys/fs/cgroup/unified 2>/dev/null || true; exec "$@"' bench "$@"
}
