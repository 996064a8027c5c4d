/* The namespaces a task's containers share, as ECS awsvpc tasks do: one
 * network namespace (they reach each other on localhost) and one hostname;
 * with ipcMode task one IPC namespace, with pidMode task one pid namespace.
 * skiff holds them by file descriptor; only a shared pid namespace needs a
 * process (a minimal pid 1, like the ECS pause container). */
#ifndef SKIFF_SANDBOX_H
#define SKIFF_SANDBOX_H

#include "error.h"
#include "task.h"
#include "userns.h"

#include <stdbool.h>

#include <sys/types.h>

struct sk_sandbox
{
  int netns;    /* -1 when the task uses the host's network, or shares nothing */
  int utsns;    /* -1 when the task shares nothing */
  int ipcns;    /* -1 unless ipcMode task */
  int pidns;    /* -1 unless pidMode task */
  pid_t holder; /* pid 1 of the shared pid namespace, 0 when none */
  int holder_pidfd;
  /* --userns: the task's user namespace, created first and owner of the
   * namespaces above; every container joins it (isolate/userns.h). */
  bool has_userns;
  int userns;
  struct sk_userns_map userns_map;
};

/* A task with one container, no shared pid or ipc namespace and no user
 * namespace shares nothing: no helper is cloned and every fd stays -1; the
 * container's own clone then creates its network and uts namespaces (its
 * hostname and `lo` set by its child, as crun does), so each restart of it
 * gets fresh ones, set up the same way. */
int sk_sandbox_create (const struct sk_task *task, const char *hostname, struct sk_sandbox *sb,
                       sk_err_t *err);
/* The same inside a new user namespace mapped by `map`. */
int sk_sandbox_create_userns (const struct sk_task *task, const char *hostname,
                              const struct sk_userns_map *map, struct sk_sandbox *sb,
                              sk_err_t *err);
/* Release the namespaces; the pid holder is killed and reaped. */
void sk_sandbox_destroy (struct sk_sandbox *sb);

#endif
