#include "task_userns.h"
#include "userns.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool
sk_userns_env_enabled (void)
{
  const char *v = getenv (SK_USERNS_ENV);

  return v != NULL
         && (strcmp (v, "1") == 0 || strcasecmp (v, "true") == 0 || strcasecmp (v, "yes") == 0);
}

int
sk_task_sandbox_create (const struct sk_task *task, const char *hostname,
                        const struct sk_run_overrides *ov, struct sk_sandbox *sb, sk_err_t *err)
{
  struct sk_userns_map map;

  if (!ov->userns)
    return sk_sandbox_create (task, hostname, sb, err);
  /* The host's pid and ipc namespaces belong to the host's user namespace:
   * inside ours, /proc and /dev/mqueue of them cannot be mounted. Say so
   * before anything starts. (The host's network works: /sys is bound.) */
  if (task->pid_mode == SK_NS_HOST)
    return sk_err_set (err, EINVAL,
                       "--userns cannot be combined with pidMode host (the host's pid namespace "
                       "is not the task's user namespace's: its /proc cannot be mounted)");
  if (task->ipc_mode == SK_NS_HOST)
    return sk_err_set (err, EINVAL,
                       "--userns cannot be combined with ipcMode host (the host's ipc namespace "
                       "is not the task's user namespace's: its /dev/mqueue cannot be mounted)");
  if (sk_userns_map_resolve (ov->userns_base > 0 ? ov->userns_base : -1, "/etc/subuid",
                             "/etc/subgid", &map, err)
      < 0)
    return sk_err_wrap (err, "--userns");
  if (sk_sandbox_create_userns (task, hostname, &map, sb, err) < 0)
    {
      sk_err_wrap (err, "--userns");
      return -1;
    }
  return 0;
}

static bool
under (const char *top, const char *path)
{
  size_t n = strlen (top);

  while (n > 1 && top[n - 1] == '/')
    n--;
  return strncmp (path, top, n) == 0 && path[n] == '/';
}

int
sk_ctr_userns_prepare (struct sk_ctr *c, const struct sk_task_ctx *t, const struct sk_sandbox *sb,
                       sk_err_t *err)
{
  const struct sk_userns_map *m = &sb->userns_map;
  struct sk_mount_plan *p = &c->mounts;

  if (!sb->has_userns)
    return 0;

  /* The image layers need nothing: skiff mounts the root filesystem itself
   * (isolate/userns.h). The writable layer belongs to the namespace's root,
   * the state directory too (the child reaches `merged` in it), so it can
   * stay closed to everyone else. */
  if (sk_userns_open_path (t->root, c->state_dir, true, m, err) < 0
      || (p->upper != NULL && sk_userns_open_path (t->root, p->upper, true, m, err) < 0)
      || (p->work != NULL && sk_userns_open_path (t->root, p->work, true, m, err) < 0)
      || (p->merged != NULL && sk_userns_open_path (t->root, p->merged, true, m, err) < 0))
    return -1;

  /* Volumes skiff made (scratch, docker volumes) are the container's; host
   * paths keep their owner (docs/isolation.md). */
  for (size_t i = 0; i < p->n_binds; i++)
    if (under (t->root, p->binds[i].source)
        && sk_userns_open_path (t->root, p->binds[i].source, true, m, err) < 0)
      return sk_err_wrap (err, "volume `%s`", p->binds[i].dest);

  p->root_premounted = true;
  c->spec.userns = true;
  c->spec.userns_fd = sb->userns;
  return 0;
}
