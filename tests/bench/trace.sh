#!/bin/bash
# Where the time of a cold start goes: BENCH_TRACE_RUNS (default 5) runs of
# `skiff run` and of `crun run` of the cold-start task/bundle (run.sh's)
# under `strace -f --seccomp-bpf -ttt -T`, traced syscalls limited to the
# phase markers so the other syscalls run at full speed. The trace is cut at
# markers (first match after the previous one) and each phase's median is
# printed, in ms of the traced run: tracing still inflates every traced
# call, so read shares, not absolute numbers; run.sh has the real totals.
#
# Usage: bash tests/bench/trace.sh BUILD-DIR [KEEP-DIR]
#   KEEP-DIR: keep the raw traces there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
build=$(cd "${1:-build}" && pwd)
keep=${2:-}
runs=${BENCH_TRACE_RUNS:-5}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
command -v strace >/dev/null 2>&1 || sh "$here/../tools/install-deps.sh" strace
bench_deps "$here"
tmp=$(mktemp -d /tmp/skiff-bench-trace.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
write_task "$tmp/task.json" "$build/rootfs"
write_bundle "$tmp/bundle" "$build/rootfs" /skiff-bench-trace

calls=execve,openat,mkdir,mkdirat,rmdir,clone,clone3,setns,unshare,mount,pivot_root,umount2
calls=$calls,seccomp,exit_group,write,pidfd_send_signal,kill,waitid,wait4,sethostname,ioctl
export TMP=$tmp SKIFF=$build/skiff RUNS=$runs CALLS=$calls
# shellcheck disable=SC2016 # expanded by the inner shell
in_v1_view bash -euo pipefail -c '
  "$SKIFF" --root "$TMP/root" run "$TMP/task.json"
  crun run -b "$TMP/bundle" trace-warm
  for ((i = 0; i < RUNS; i++)); do
    strace -f --seccomp-bpf -ttt -T -s 96 -e trace="$CALLS" -o "$TMP/skiff.$i" \
      "$SKIFF" --root "$TMP/root" run "$TMP/task.json"
    strace -f --seccomp-bpf -ttt -T -s 96 -e trace="$CALLS" -o "$TMP/crun.$i" \
      crun run -b "$TMP/bundle" "trace-$i"
  done
'

python3 - "$tmp" "$runs" <<'PY'
import re, statistics, sys

tmp, runs = sys.argv[1], int(sys.argv[2])
LINE = re.compile(r"(\d+)\s+(\d+\.\d+)\s+(.*)")

# (label of the phase that ENDS at this marker, regex, whose call):
# "main" = the runtime's first process, "payload" = the process that execs
# /bin/true, "any" = whichever.
MARKERS = {
    "skiff": [
        ("exec skiff, dynamic loading, libc init", r'openat\(.*"[^"]*task\.json"', "main"),
        ("parse + validate, task directory", r'mkdir\("/sys/fs/cgroup/[^"]+/[0-9a-f]{12}",.*= 0', "main"),
        ("container cgroups + limits, seccomp BPF (cache), logs", r"clone3\(.*CLONE_NEWPID", "main"),
        ("clone3 (all ns, net made here), joins its cgroups", r'mount\("none", "/"', "any"),
        ("hostname, lo; mounts: root, /proc /dev /sys, masks", r"pivot_root\(", "any"),
        ("pivot_root, read-only /, caps and creds", r"seccomp\(SECCOMP_SET_MODE_FILTER, [^,]*, \{", "any"),
        ("seccomp load", r'execve\("/bin/true"', "any"),
        ("exec /bin/true, it runs", r"exit_group\(", "payload"),
        ("teardown: reap, cgroup rmdir, task dir, netns", r"exit_group\(", "main"),
    ],
    "crun": [
        ("exec crun, dynamic loading, /proc/self/exe check", r'openat\(.*"config\.json"', "main"),
        ("parse config, state dir", r"clone\(.*CLONE_NEWPID", "main"),
        ("clone (all ns) until the first cgroup.procs write", r'openat\(.*cgroup\.procs", O_WRONLY', "main"),
        ("cgroup attach (first cgroup.procs write) + limits", r"seccomp\(SECCOMP_GET_ACTION_AVAIL", "main"),
        ("seccomp compile (libseccomp), in the parent", r'write\(\d+, " \\0\\0\\0', "main"),
        ("mounts (child, overlaps the above) to pivot_root", r"pivot_root\(", "any"),
        ("pivot_root, caps and creds", r"seccomp\(SECCOMP_SET_MODE_FILTER, [^,]*, \{", "any"),
        ("seccomp load, status file", r'execve\("/bin/true"', "any"),
        ("exec /bin/true, it runs", r"exit_group\(", "payload"),
        ("teardown: wait, freeze/thaw, cgroup rmdir, state", r"exit_group\(", "main"),
    ],
}

def phases(path, markers):
    rows = []
    for l in open(path):
        m = LINE.match(l)
        if m:
            rows.append((int(m.group(1)), float(m.group(2)) * 1000, m.group(3)))
    if not rows:
        return None
    main, t0 = rows[0][0], rows[0][1]
    payload = next((p for p, _, s in rows if s.startswith('execve("/bin/true"')), None)
    out, k, prev = [], 0, t0
    for label, rx, who in markers:
        r = re.compile(rx)
        while k < len(rows):
            pid, t, s = rows[k]
            k += 1
            if (who == "main" and pid != main) or (who == "payload" and pid != payload):
                continue
            if r.search(s):
                out.append(t - prev)
                prev = t
                break
        else:
            return None
    return out, prev - t0

for rt, markers in MARKERS.items():
    got = [phases(f"{tmp}/{rt}.{i}", markers) for i in range(runs)]
    got = [g for g in got if g]
    print(f"\n{rt} run under strace: {len(got)} of {runs} traces matched every marker")
    if not got:
        continue
    total = statistics.median(g[1] for g in got)
    print(f"  {'phase (ends at the next marker)':<56} {'median':>8} {'share':>6}")
    for j, (label, _, _) in enumerate(markers):
        v = statistics.median(g[0][j] for g in got)
        print(f"  {label:<56} {v:7.2f}ms {100 * v / total:5.1f}%")
    print(f"  {'total (traced)':<56} {total:7.2f}ms")
PY
if [ -n "$keep" ]; then
  mkdir -p "$keep"
  cp "$tmp"/skiff.* "$tmp"/crun.* "$keep"/
  echo "raw traces in $keep"
fi
