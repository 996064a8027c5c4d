/* What starting a container (launch.c) and joining one (exec.c) share:
 * the child's wait for the go-ahead and its clean signal state, and the
 * parent's preparation of the waiting child, its reading of the sync
 * records until exec, and its cleanup of a child that failed. */
#ifndef SKIFF_SPAWN_H
#define SKIFF_SPAWN_H

#include "cgroup.h"
#include "child.h"
#include "error.h"
#include "launch.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Exit status of a child whose parent went away or gave up; the parent
 * reports the record it got, never this number. */
#define SK_SPAWN_ABANDONED 125

/* Child: wait for the record `expected`; _exit when the parent is gone. */
int sk_spawn_child_wait_for (int sock, int expected, struct sk_child_fail *f);
/* Child: default dispositions and an empty mask, as from a shell (skiff
 * blocks signals for its signalfd and ignores SIGPIPE). */
void sk_spawn_child_reset_signals (void);

/* Cgroup v1: the child moves itself into its group (sk_cgroup_join_fds
 * says why). The parent opens the fds before clone and closes its copies
 * after; the child writes and closes them right after GO. Empty on v2. */
struct sk_spawn_join
{
  int fds[SK_CGROUP_MAX_JOIN_FDS];
  size_t n;
  const char *cgroup_path;
};
int sk_spawn_join_open (struct sk_cgroup *cg, struct sk_spawn_join *j, sk_err_t *err);
void sk_spawn_join_close (struct sk_spawn_join *j);
int sk_spawn_child_join (struct sk_spawn_join *j, struct sk_child_fail *f);

/* Parent, while the child waits: its cgroup (unless born in it), its
 * rlimits (from outside, naming CAP_SYS_RESOURCE when that is what is
 * missing) and its OOM score. */
int sk_spawn_prepare_from_parent (pid_t pid, struct sk_cgroup *cgroup, bool in_cgroup,
                                  const struct sk_rlimit *rlimits, size_t n_rlimits,
                                  int oom_score_adj, sk_err_t *err);

/* Parent: read records until the child execs (EXECING then end-of-file:
 * 0), reports an ERROR (its one line; exit code 126/127 for exec), dies, or
 * misses the deadline. READY is answered with START. `what` names the
 * set-up in the timeout message. */
int sk_spawn_follow (int sock, int timeout_ms, const char *what, sk_err_t *err);

/* Parent: SIGKILL the child and reap it. */
void sk_spawn_kill_and_reap (int pidfd);

#endif
