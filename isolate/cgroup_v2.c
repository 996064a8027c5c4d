/* cgroup v2 (pure unified hierarchy at /sys/fs/cgroup). One directory per
 * group; a controller is usable in a group only when every ancestor lists
 * it in cgroup.subtree_control, and a non-root group that delegates domain
 * controllers may not hold processes itself ("no internal processes",
 * Documentation/admin-guide/cgroup-v2.rst). */
#include "cgroup_internal.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The controllers created through libcgroup on v2; cpuacct and freezer are
 * part of the core there (cpu.stat, cgroup.freeze). */
static const enum sk_cgroup_ctrl v2_controllers[] = { SK_CG_MEMORY, SK_CG_CPU, SK_CG_PIDS };

/* Whether the space-separated list `list` names `word`. */
static bool
list_has (const char *list, const char *word)
{
  size_t len = strlen (word);

  for (const char *p = list; (p = strstr (p, word)) != NULL; p += len)
    if ((p == list || p[-1] == ' ' || p[-1] == '\n')
        && (p[len] == '\0' || p[len] == ' ' || p[len] == '\n'))
      return true;
  return false;
}

static int
v2_locate (struct sk_cgroup *cg, sk_err_t *err)
{
  _cleanup_free_ char *mount_point = NULL;
  _cleanup_free_ char *available = NULL;

  for (size_t i = 0; i < SK_ARRAY_SIZE (v2_controllers) && mount_point == NULL; i++)
    mount_point = sk_cgroup_lib_mount_point (sk_cgroup_ctrl_names[v2_controllers[i]]);
  if (mount_point == NULL)
    mount_point = xstrdup ("/sys/fs/cgroup");
  cg->unified = xasprintf ("%s/%s", mount_point, cg->path);
  if (sk_cgroup_read_file (mount_point, "cgroup.controllers", &available, err) < 0)
    return -1;
  for (size_t i = 0; i < SK_ARRAY_SIZE (v2_controllers); i++)
    {
      enum sk_cgroup_ctrl c = v2_controllers[i];

      if (list_has (available, sk_cgroup_ctrl_names[c]))
        cg->dir[c] = xstrdup (cg->unified);
    }
  return 0;
}

static int
check_availability (struct sk_cgroup *cg, const struct sk_cgroup_limits *l, sk_err_t *err)
{
  bool memory = cg->dir[SK_CG_MEMORY] != NULL;

  if (l->memory_max != 0 && !memory)
    return sk_err_set (err, 0,
                       "cgroup `%s`: cannot enforce memory limit %" PRIu64
                       ": the memory controller is not available",
                       cg->path, l->memory_max);
  if (l->cpu_quota_us != 0 && cg->dir[SK_CG_CPU] == NULL)
    return sk_err_set (err, 0,
                       "cgroup `%s`: cannot enforce CPU quota %" PRIu64
                       " us: the cpu controller is not available",
                       cg->path, l->cpu_quota_us);
  if (l->pids_max > 0 && cg->dir[SK_CG_PIDS] == NULL)
    return sk_err_set (err, 0,
                       "cgroup `%s`: cannot enforce pids limit %" PRId64
                       ": the pids controller is not available",
                       cg->path, l->pids_max);
  if (!memory && (l->memory_low != 0 || l->has_swap_max))
    sk_cgroup_note (cg, SK_CGROUP_NOTE_WARNING,
                    "cgroup `%s`: the memory controller is not available: memory reservation "
                    "and swap settings are ignored",
                    cg->path);
  if (l->cpu_shares != 0 && cg->dir[SK_CG_CPU] == NULL)
    sk_cgroup_note (cg, SK_CGROUP_NOTE_WARNING,
                    "cgroup `%s`: the cpu controller is not available: cpu shares %" PRIu32
                    " are ignored",
                    cg->path, l->cpu_shares);
  return 0;
}

/* Make `dir` delegate our controllers to its children. */
static int
enable_in (struct sk_cgroup *cg, const char *dir, bool is_mount_root, sk_err_t *err)
{
  _cleanup_free_ char *enabled = NULL;
  _cleanup_free_ char *available = NULL;
  char request[64] = "";
  bool has_procs = false;

  if (sk_cgroup_read_file (dir, "cgroup.subtree_control", &enabled, err) < 0
      || sk_cgroup_read_file (dir, "cgroup.controllers", &available, err) < 0)
    return -1;
  for (size_t i = 0; i < SK_ARRAY_SIZE (v2_controllers); i++)
    {
      const char *name = sk_cgroup_ctrl_names[v2_controllers[i]];

      if (cg->dir[v2_controllers[i]] == NULL || list_has (enabled, name))
        continue;
      if (!list_has (available, name))
        return sk_err_set (err, 0, "controller `%s` is not delegated to `%s` by its parent", name,
                           dir);
      snprintf (request + strlen (request), sizeof request - strlen (request), "%s+%s",
                request[0] != '\0' ? " " : "", name);
    }
  if (request[0] == '\0')
    return 0;
  /* A populated group would refuse domain controllers with EBUSY, and would
   * silently turn "domain threaded" on `+pids` alone (then nothing could
   * join our leaf). Refuse before writing anything. The mount root may be
   * the real root cgroup, which is exempt; the write tells. */
  if (!is_mount_root && sk_cgroup_has_procs (dir, &has_procs, err) < 0)
    return -1;
  if (has_procs)
    return sk_err_set (err, EBUSY,
                       "enable `%s` in `%s/cgroup.subtree_control`: processes sit in that "
                       "group, and cgroup v2 lets only groups without processes delegate "
                       "controllers (start skiff from a leaf group)",
                       request, dir);
  if (sk_cgroup_write_file (dir, "cgroup.subtree_control", request, err) < 0)
    {
      if (err != NULL && *err != NULL && (*err)->errnum == EBUSY)
        sk_err_wrap (err, "processes sit in `%s` (start skiff from a leaf group)", dir);
      return -1;
    }
  return 0;
}

/* From the mount root down to the leaf's parent: create what is missing
 * and enable the controllers at each level, so the leaf gets them. */
static int
v2_prepare (struct sk_cgroup *cg, const struct sk_cgroup_limits *l, sk_err_t *err)
{
  size_t root_len = strlen (cg->unified) - strlen (cg->path) - 1;
  _cleanup_free_ char *dir = xstrdup (cg->unified);
  char *slash;

  if (check_availability (cg, l, err) < 0)
    return -1;
  dir[root_len] = '\0';
  if (enable_in (cg, dir, true, err) < 0)
    return sk_err_wrap (err, "cgroup `%s`", cg->path);
  dir[root_len] = '/';
  for (char *p = dir + root_len + 1; (slash = strchr (p, '/')) != NULL; p = slash + 1)
    {
      *slash = '\0';
      if (mkdir (dir, 0755) < 0 && errno != EEXIST)
        return sk_err_set (err, errno, "cgroup `%s`: mkdir `%s`", cg->path, dir);
      if (enable_in (cg, dir, false, err) < 0)
        return sk_err_wrap (err, "cgroup `%s`", cg->path);
      *slash = '/';
    }
  return 0;
}

static int
v2_write_limits (struct sk_cgroup *cg, const struct sk_cgroup_limits *l, sk_err_t *err)
{
  if (cg->dir[SK_CG_MEMORY] != NULL)
    {
      if (l->memory_max != 0
          && sk_cgroup_lib_write_u64 (cg, "memory", "memory.max", l->memory_max, err) < 0)
        return -1;
      if (l->has_swap_max)
        {
          if (!sk_cgroup_file_exists (cg->unified, "memory.swap.max"))
            sk_cgroup_note (cg,
                            l->swap_max_implicit ? SK_CGROUP_NOTE_DEBUG : SK_CGROUP_NOTE_WARNING,
                            "cgroup `%s`: swap accounting is off on this host (no "
                            "`memory.swap.max`): swap use is not limited",
                            cg->path);
          else if (sk_cgroup_lib_write_u64 (cg, "memory", "memory.swap.max", l->swap_max, err) < 0)
            return -1;
        }
      if (l->memory_low != 0
          && sk_cgroup_lib_write_u64 (cg, "memory", "memory.low", l->memory_low, err) < 0)
        return -1;
    }
  if (l->swappiness >= 0)
    sk_cgroup_note (cg, SK_CGROUP_NOTE_DEBUG,
                    "cgroup `%s`: cgroup v2 has no per-group swappiness; %d ignored", cg->path,
                    l->swappiness);
  if (cg->dir[SK_CG_CPU] != NULL)
    {
      if (l->cpu_shares != 0
          && sk_cgroup_lib_write_u64 (cg, "cpu", "cpu.weight",
                                      sk_cgroup_shares_to_weight (l->cpu_shares), err)
                 < 0)
        return -1;
      if (l->cpu_quota_us != 0)
        {
          char value[48];
          uint64_t period = l->cpu_period_us != 0 ? l->cpu_period_us : SK_CGROUP_DEFAULT_PERIOD_US;

          snprintf (value, sizeof value, "%" PRIu64 " %" PRIu64, l->cpu_quota_us, period);
          if (sk_cgroup_lib_write (cg, "cpu", "cpu.max", value, err) < 0)
            return -1;
        }
    }
  if (cg->dir[SK_CG_PIDS] != NULL && l->pids_max > 0
      && sk_cgroup_lib_write_u64 (cg, "pids", "pids.max", (uint64_t)l->pids_max, err) < 0)
    return -1;
  return 0;
}

static int
v2_kill_all (struct sk_cgroup *cg, sk_err_t *err)
{
  const char *dir = cg->unified;
  bool frozen = false;
  size_t n_killed;
  int ret;

  /* Linux >= 5.14: one write kills the whole group, forks included. */
  if (sk_cgroup_file_exists (dir, "cgroup.kill"))
    return sk_cgroup_write_file (dir, "cgroup.kill", "1", err);

  if (!sk_cgroup_file_exists (dir, "cgroup.freeze"))
    {
      /* Linux < 5.2: nothing stops forks; signal until no one is left. */
      for (int round = 0; round < 64; round++)
        {
          if (sk_cgroup_kill_procs (dir, &n_killed, err) < 0)
            return -1;
          if (n_killed == 0)
            break;
        }
      return 0;
    }
  if (sk_cgroup_write_file (dir, "cgroup.freeze", "1", err) < 0)
    return -1;
  ret = sk_cgroup_wait_events (dir, "frozen 1", 1000, &frozen, err);
  /* A frozen task still dies of SIGKILL; a group that did not freeze in
   * time is signalled anyway. */
  if (ret == 0)
    ret = sk_cgroup_kill_procs (dir, &n_killed, err);
  {
    _cleanup_err_ sk_err_t thaw_err = NULL;
    if (sk_cgroup_write_file (dir, "cgroup.freeze", "0", &thaw_err) < 0 && ret == 0)
      {
        if (err != NULL)
          *err = steal_pointer (&thaw_err);
        return -1;
      }
  }
  return ret;
}

static int
v2_oom_kills (struct sk_cgroup *cg, uint64_t *count, sk_err_t *err)
{
  bool found;

  if (cg->dir[SK_CG_MEMORY] == NULL)
    return sk_err_set (err, ENOTSUP, "the memory controller is not available");
  if (sk_cgroup_read_keyed (cg->unified, "memory.events", "oom_kill", count, &found, err) < 0)
    return -1;
  if (!found)
    return sk_err_set (err, ENOTSUP, "`%s/memory.events` has no `oom_kill`", cg->unified);
  return 0;
}

static int
v2_stats (struct sk_cgroup *cg, struct sk_cgroup_stats *st, sk_err_t *err)
{
  const char *dir = cg->unified;
  bool found;

  if (cg->dir[SK_CG_MEMORY] != NULL)
    {
      if (sk_cgroup_read_u64 (dir, "memory.current", &st->memory_current, err) < 0)
        return -1;
      /* memory.peak exists from Linux 5.19 on. */
      if (sk_cgroup_file_exists (dir, "memory.peak")
          && sk_cgroup_read_u64 (dir, "memory.peak", &st->memory_peak, err) < 0)
        return -1;
    }
  /* cpu.stat's usage_usec is core: present without the cpu controller. */
  if (sk_cgroup_read_keyed (dir, "cpu.stat", "usage_usec", &st->cpu_usage_usec, &found, err) < 0)
    return -1;
  if (cg->dir[SK_CG_PIDS] != NULL
      && sk_cgroup_read_u64 (dir, "pids.current", &st->pids_current, err) < 0)
    return -1;
  return 0;
}

const struct sk_cgroup_ops sk_cgroup_v2_ops = {
  .locate = v2_locate,
  .prepare = v2_prepare,
  .write_limits = v2_write_limits,
  .kill_all = v2_kill_all,
  .oom_kills = v2_oom_kills,
  .stats = v2_stats,
};
