/* skiff's minimal init (linuxParameters.initProcessEnabled): pid 1 of the
 * container that forwards signals to the task, reaps every zombie and exits
 * with the task's status, as tini does for `docker run --init`. */
#ifndef SKIFF_INIT_H
#define SKIFF_INIT_H

#include <signal.h>
#include <sys/types.h>

/* The init status file of a detached task's container (launcher/
 * init_status.h): its first SK_INIT_STATUS_RECORD_AT bytes say which start
 * it belongs to (written by the parent while the child waits for GO); init
 * writes its one record ("exited N\n" or "killed SIG\n", about the task)
 * at that offset just before it exits, so that the exact status survives a
 * monitor that cannot reap it any more. */
#define SK_INIT_STATUS_RECORD_AT 64

/* Fork the task. In the task returns 0 with `task_mask` restored; in init
 * returns the task's pid with every signal blocked (init then finishes its
 * own confinement and calls sk_init_loop). -1 (errno) if fork fails. */
pid_t sk_init_fork (const sigset_t *task_mask);

/* In init, before it confines itself: close every fd above 2 but `keep`
 * (-1: none). Init never execs, so close-on-exec alone would leave it
 * holding all the launcher's fds for the container's life. */
void sk_init_close_fds (int keep);

/* Forward signals, reap, and exit with the task's status, first writing it
 * to `status_fd` when that is >= 0 (see SK_INIT_STATUS_RECORD_AT). */
__attribute__ ((noreturn)) void sk_init_loop (pid_t task, int status_fd);

#endif
