/* The exit status that skiff's init (isolate/init.h) writes for a detached
 * task's container, in <task>/containers/<name>/init-exit: how the exact
 * exit code survives the death of the task's monitor, which would otherwise
 * have reaped the container (its status then goes to the host's init).
 *
 * The file is truncated for every start; while the child waits for GO the
 * parent stamps it with the host pid and /proc start time of the
 * container's init ("skiff-init pid P start S\n"), so a record is only ever
 * taken for the start it belongs to. */
#ifndef SKIFF_INIT_STATUS_H
#define SKIFF_INIT_STATUS_H

#include "error.h"

#include <stdint.h>
#include <sys/types.h>

/* Open (create, truncate) the file of the next start: O_CLOEXEC, 0600. */
int sk_init_status_open (const char *state_dir, sk_err_t *err);
/* Say which process this start is. */
int sk_init_status_stamp (int fd, pid_t pid, uint64_t start, sk_err_t *err);
/* What init wrote for the start pid/start, as the siginfo its parent would
 * have seen of init itself (CLD_EXITED with the task's code, 128+n for a
 * signal n, as init exits): 0, or -1 when the file is of another start or
 * holds no record (init was killed, or has not exited). */
int sk_init_status_read (const char *state_dir, pid_t pid, uint64_t start, int *how, int *status);
/* When the monitor recorded no exit for pid/start (<task>/exits) but init
 * did, write the monitor's record from init's, so that every reader of
 * exit records sees the exact status. 0 when a record exists now. */
int sk_init_status_export (const char *task_dir, const char *state_dir, pid_t pid, uint64_t start);

#endif
