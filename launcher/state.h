/* Runtime state under the skiff root (default /run/skiff):
 *   <root>/tasks/<task-id>/lock         flock held by the process running the task
 *   <root>/tasks/<task-id>/containers/<name>/{upper,work,merged}
 *   <root>/cache/seccomp/<hash>.bpf
 * A task directory whose lock nobody holds belongs to a skiff that died:
 * sk_state_gc removes it, with its cgroups; so too a `.<id>.new` directory
 * (one being created) older than a minute whose lock nobody holds. */
#ifndef SKIFF_STATE_H
#define SKIFF_STATE_H

#include "error.h"

#define SK_TASK_ID_LEN 12

struct sk_task_dir
{
  char id[SK_TASK_ID_LEN + 1];
  char *path;  /* <root>/tasks/<id> */
  int lock_fd; /* held for the task's lifetime */
};

/* Create <root> (0700) and its subdirectories if needed. */
int sk_state_init_root (const char *root, sk_err_t *err);
/* A new task directory with a fresh random id, locked. */
int sk_task_dir_create (const char *root, struct sk_task_dir *out, sk_err_t *err);
/* Remove the directory tree and release the lock. */
int sk_task_dir_remove (struct sk_task_dir *td, sk_err_t *err);
void sk_task_dir_clear (struct sk_task_dir *td);
/* The parent group of every task: $SKIFF_CGROUP_PARENT (set by
 * --cgroup-parent), default "skiff". */
const char *sk_cgroup_parent (void);
/* The cgroup path of a task ("skiff/<id>") or of one of its containers. */
char *sk_task_cgroup_path (const char *id, const char *container);
/* Remove what dead skiff processes left behind: their task directories
 * and cgroups. Best effort; returns the number of tasks cleaned. */
int sk_state_gc (const char *root);
/* rm -rf that never crosses into another filesystem or follows links. */
int sk_remove_tree (const char *path, sk_err_t *err);

#endif
