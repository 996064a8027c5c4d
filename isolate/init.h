/* skiff's minimal init (linuxParameters.initProcessEnabled): pid 1 of the
 * container that forwards signals to the task, reaps every zombie and exits
 * with the task's status, as tini does for `docker run --init`. */
#ifndef SKIFF_INIT_H
#define SKIFF_INIT_H

#include <signal.h>
#include <sys/types.h>

/* Fork the task. In the task returns 0 with `task_mask` restored; in init
 * returns the task's pid with every signal blocked (init then finishes its
 * own confinement and calls sk_init_loop). -1 (errno) if fork fails. */
pid_t sk_init_fork (const sigset_t *task_mask);

/* Forward signals, reap, and exit with the task's status. */
__attribute__ ((noreturn)) void sk_init_loop (pid_t task);

#endif
