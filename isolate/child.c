#include "child.h"

#include <stdio.h>

int
sk_child_fail (struct sk_child_fail *f, int phase, int err, const char *fmt, ...)
{
  va_list ap;

  f->phase = phase;
  f->err = err;
  va_start (ap, fmt);
  vsnprintf (f->text, sizeof f->text, fmt, ap);
  va_end (ap);
  return -1;
}

const char *
sk_phase_name (int phase)
{
  static const char *const names[] = {
    [SK_PHASE_NONE] = "start",        [SK_PHASE_SYNC] = "sync",
    [SK_PHASE_CGROUPNS] = "cgroupns", [SK_PHASE_HOSTNAME] = "hostname",
    [SK_PHASE_NETWORK] = "network",   [SK_PHASE_MOUNT] = "mount",
    [SK_PHASE_DEVICES] = "devices",   [SK_PHASE_MASK] = "mask",
    [SK_PHASE_PIVOT] = "pivot_root",  [SK_PHASE_SYSCTL] = "sysctl",
    [SK_PHASE_RLIMITS] = "rlimits",   [SK_PHASE_CHDIR] = "chdir",
    [SK_PHASE_USER] = "user",         [SK_PHASE_CAPS] = "capabilities",
    [SK_PHASE_SECCOMP] = "seccomp",   [SK_PHASE_INIT] = "init",
    [SK_PHASE_EXEC] = "exec",         [SK_PHASE_CGROUP] = "cgroup",
  };
  if (phase < 0 || (unsigned)phase >= sizeof names / sizeof names[0] || names[phase] == NULL)
    return "unknown";
  return names[phase];
}
