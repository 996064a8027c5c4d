/* How the child half of every isolate/ subsystem reports failure.
 *
 * Between clone and exec the child only makes system calls on data the
 * parent prepared. When one fails it fills this record (no allocation, so it
 * still works when the failure was ENOMEM or a memory limit) and returns -1;
 * the launch code sends the record to the parent over the sync socket, and
 * the parent turns it into the user's one line:
 *   container app: setup failed at mount: mount `proc` on `/proc`: Operation not permitted */
#ifndef SKIFF_CHILD_H
#define SKIFF_CHILD_H

#include <stdarg.h>

enum sk_phase
{
  SK_PHASE_NONE = 0,
  SK_PHASE_SYNC,
  SK_PHASE_CGROUPNS,
  SK_PHASE_HOSTNAME,
  SK_PHASE_NETWORK,
  SK_PHASE_MOUNT,
  SK_PHASE_DEVICES,
  SK_PHASE_MASK,
  SK_PHASE_PIVOT,
  SK_PHASE_SYSCTL,
  SK_PHASE_RLIMITS,
  SK_PHASE_CHDIR,
  SK_PHASE_USER,
  SK_PHASE_CAPS,
  SK_PHASE_SECCOMP,
  SK_PHASE_INIT,
  SK_PHASE_EXEC,
  SK_PHASE_CGROUP,
};

#define SK_CHILD_TEXT_MAX 480

struct sk_child_fail
{
  int phase;                    /* enum sk_phase */
  int err;                      /* errno of the failing call, 0 for a logic error */
  char text[SK_CHILD_TEXT_MAX]; /* names the call and the object: mount `proc` on `/proc` */
};

/* Fill *f and return -1. Formats with vsnprintf into the fixed buffer. */
int sk_child_fail (struct sk_child_fail *f, int phase, int err, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

const char *sk_phase_name (int phase);

#endif
