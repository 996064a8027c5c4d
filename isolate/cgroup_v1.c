/* cgroup v1 (and the v1 half of hybrid hosts): one hierarchy per
 * controller, mounted at /sys/fs/cgroup/<controller> (or comounted, e.g.
 * cpu,cpuacct). The group exists once in each hierarchy skiff uses. */
#include "cgroup_internal.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>

static bool
is_cgroup2_mount (const char *mount_point)
{
  struct statfs fs;

  return statfs (mount_point, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

static int
v1_locate (struct sk_cgroup *cg, sk_err_t *err)
{
  for (int i = 0; i < SK_CG_N_CTRL; i++)
    {
      _cleanup_free_ char *mount_point = sk_cgroup_lib_mount_point (sk_cgroup_ctrl_names[i]);

      if (mount_point == NULL)
        continue;
      /* Hybrid host with this controller on the unified tree: our v1 back-end
       * writes v1 file names, so treat the controller as unavailable. */
      if (is_cgroup2_mount (mount_point))
        {
          sk_cgroup_note (cg, SK_CGROUP_NOTE_DEBUG,
                          "controller `%s` sits on the cgroup2 tree `%s` of a hybrid host; "
                          "not used",
                          sk_cgroup_ctrl_names[i], mount_point);
          continue;
        }
      cg->dir[i] = xasprintf ("%s/%s", mount_point, cg->path);
    }
  return 0;
}

static int
v1_prepare (struct sk_cgroup *cg, const struct sk_cgroup_limits *l, sk_err_t *err)
{
  bool memory = cg->dir[SK_CG_MEMORY] != NULL;

  /* Hard limits the host cannot enforce are errors... */
  if (l->memory_max != 0 && !memory)
    return sk_err_set (err, 0,
                       "cgroup `%s`: cannot enforce memory limit %" PRIu64
                       ": no memory controller is mounted",
                       cg->path, l->memory_max);
  if (l->cpu_quota_us != 0 && cg->dir[SK_CG_CPU] == NULL)
    return sk_err_set (err, 0,
                       "cgroup `%s`: cannot enforce CPU quota %" PRIu64
                       " us: no cpu controller is mounted",
                       cg->path, l->cpu_quota_us);
  if (l->pids_max > 0 && cg->dir[SK_CG_PIDS] == NULL)
    return sk_err_set (
        err, 0, "cgroup `%s`: cannot enforce pids limit %" PRId64 ": no pids controller is mounted",
        cg->path, l->pids_max);

  /* ...soft settings it cannot honour are warnings. */
  if (!memory && (l->memory_low != 0 || l->has_swap_max || l->swappiness >= 0))
    sk_cgroup_note (cg, SK_CGROUP_NOTE_WARNING,
                    "cgroup `%s`: no memory controller is mounted: memory reservation, "
                    "swap and swappiness settings are ignored",
                    cg->path);
  if (l->cpu_shares != 0 && cg->dir[SK_CG_CPU] == NULL)
    sk_cgroup_note (cg, SK_CGROUP_NOTE_WARNING,
                    "cgroup `%s`: no cpu controller is mounted: cpu shares %" PRIu32 " are ignored",
                    cg->path, l->cpu_shares);
  if (cg->dir[SK_CG_FREEZER] == NULL)
    sk_cgroup_note (cg, SK_CGROUP_NOTE_DEBUG,
                    "cgroup `%s`: no freezer hierarchy: kill_all signals processes one by one",
                    cg->path);
  return 0;
}

static int
v1_write_memory (struct sk_cgroup *cg, const struct sk_cgroup_limits *l, sk_err_t *err)
{
  const char *dir = cg->dir[SK_CG_MEMORY];

  /* limit_in_bytes before memsw: the kernel keeps memsw >= limit. */
  if (l->memory_max != 0
      && sk_cgroup_lib_write_u64 (cg, "memory", "memory.limit_in_bytes", l->memory_max, err) < 0)
    return -1;
  if (l->has_swap_max)
    {
      enum sk_cgroup_note_level level
          = l->swap_max_implicit ? SK_CGROUP_NOTE_DEBUG : SK_CGROUP_NOTE_WARNING;

      if (l->memory_max == 0)
        sk_cgroup_note (cg, level,
                        "cgroup `%s`: swap limit ignored: cgroup v1 limits swap only together "
                        "with a memory limit",
                        cg->path);
      else if (!sk_cgroup_file_exists (dir, "memory.memsw.limit_in_bytes"))
        sk_cgroup_note (cg, level,
                        "cgroup `%s`: swap accounting is off on this host (no "
                        "`memory.memsw.limit_in_bytes`; boot with swapaccount=1): swap use is "
                        "not limited",
                        cg->path);
      else
        {
          uint64_t memsw = l->memory_max + l->swap_max;

          if (memsw < l->memory_max) /* saturate instead of wrapping */
            memsw = UINT64_MAX;
          if (sk_cgroup_lib_write_u64 (cg, "memory", "memory.memsw.limit_in_bytes", memsw, err) < 0)
            return -1;
        }
    }
  if (l->memory_low != 0
      && sk_cgroup_lib_write_u64 (cg, "memory", "memory.soft_limit_in_bytes", l->memory_low, err)
             < 0)
    return -1;
  if (l->swappiness >= 0)
    {
      if (!sk_cgroup_file_exists (dir, "memory.swappiness"))
        sk_cgroup_note (cg, SK_CGROUP_NOTE_WARNING,
                        "cgroup `%s`: this kernel has no `memory.swappiness`: swappiness %d "
                        "ignored",
                        cg->path, l->swappiness);
      else if (sk_cgroup_lib_write_u64 (cg, "memory", "memory.swappiness", (uint64_t)l->swappiness,
                                        err)
               < 0)
        return -1;
    }
  return 0;
}

static int
v1_write_limits (struct sk_cgroup *cg, const struct sk_cgroup_limits *l, sk_err_t *err)
{
  if (cg->dir[SK_CG_MEMORY] != NULL && v1_write_memory (cg, l, err) < 0)
    return -1;
  if (cg->dir[SK_CG_CPU] != NULL)
    {
      uint64_t period = l->cpu_period_us != 0 ? l->cpu_period_us : SK_CGROUP_DEFAULT_PERIOD_US;

      if (l->cpu_shares != 0
          && sk_cgroup_lib_write_u64 (cg, "cpu", "cpu.shares",
                                      l->cpu_shares < 2 ? 2 : l->cpu_shares, err)
                 < 0)
        return -1;
      /* The period first: a fresh group's quota is -1, so any period is
       * accepted, and the quota is then checked against the final period. */
      if (l->cpu_quota_us != 0
          && (sk_cgroup_lib_write_u64 (cg, "cpu", "cpu.cfs_period_us", period, err) < 0
              || sk_cgroup_lib_write_u64 (cg, "cpu", "cpu.cfs_quota_us", l->cpu_quota_us, err) < 0))
        return -1;
    }
  if (cg->dir[SK_CG_PIDS] != NULL && l->pids_max > 0
      && sk_cgroup_lib_write_u64 (cg, "pids", "pids.max", (uint64_t)l->pids_max, err) < 0)
    return -1;
  return 0;
}

/* The v1 freezer has no change notification (unlike v2's cgroup.events),
 * so FREEZING -> FROZEN is polled; 1 ms steps, bounded at about 1 s. */
static int
v1_freeze_and_wait (const char *dir, bool *frozen, sk_err_t *err)
{
  const struct timespec step = { 0, 1000 * 1000 };

  *frozen = false;
  if (sk_cgroup_write_file (dir, "freezer.state", "FROZEN", err) < 0)
    return -1;
  for (int i = 0; i < 1000; i++)
    {
      _cleanup_free_ char *state = NULL;

      if (sk_cgroup_read_file (dir, "freezer.state", &state, err) < 0)
        return -1;
      if (strncmp (state, "FROZEN", 6) == 0)
        {
          *frozen = true;
          return 0;
        }
      nanosleep (&step, NULL);
    }
  return 0;
}

/* Signal the group's processes until a round finds none left to signal;
 * used where nothing stops the group from forking meanwhile. */
static int
kill_rounds (const char *dir, sk_err_t *err)
{
  for (int round = 0; round < 64; round++)
    {
      size_t n_killed;

      if (sk_cgroup_kill_procs (dir, &n_killed, err) < 0)
        return -1;
      if (n_killed == 0)
        return 0;
      sched_yield ();
    }
  return 0;
}

static int
v1_kill_all (struct sk_cgroup *cg, sk_err_t *err)
{
  const char *freezer = cg->dir[SK_CG_FREEZER];
  const char *any = NULL;
  bool frozen = false;
  size_t n_killed;
  int ret;

  if (freezer == NULL)
    {
      for (int i = 0; i < SK_CG_N_CTRL && any == NULL; i++)
        any = cg->dir[i];
      return any == NULL ? 0 : kill_rounds (any, err);
    }
  /* Frozen, the group cannot fork while we read its pid list; the SIGKILLs
   * take effect when it thaws. */
  if (v1_freeze_and_wait (freezer, &frozen, err) < 0)
    {
      _cleanup_err_ sk_err_t ignored = NULL;
      (void)sk_cgroup_write_file (freezer, "freezer.state", "THAWED", &ignored);
      return -1;
    }
  ret = sk_cgroup_kill_procs (freezer, &n_killed, err);
  {
    /* Thaw in any case; report the first failure. */
    _cleanup_err_ sk_err_t thaw_err = NULL;
    if (sk_cgroup_write_file (freezer, "freezer.state", "THAWED", &thaw_err) < 0 && ret == 0)
      {
        if (err != NULL)
          *err = steal_pointer (&thaw_err);
        return -1;
      }
  }
  if (ret < 0)
    return -1;
  /* A group that never reached FROZEN (a task stuck in the kernel) may have
   * forked meanwhile: catch the late children. */
  return frozen ? 0 : kill_rounds (freezer, err);
}

static int
v1_oom_kills (struct sk_cgroup *cg, uint64_t *count, sk_err_t *err)
{
  const char *dir = cg->dir[SK_CG_MEMORY];
  bool found;

  if (dir == NULL)
    return sk_err_set (err, ENOTSUP, "no memory controller is mounted");
  if (sk_cgroup_read_keyed (dir, "memory.oom_control", "oom_kill", count, &found, err) < 0)
    return -1;
  if (!found)
    return sk_err_set (err, ENOTSUP, "`%s/memory.oom_control` has no `oom_kill` (kernel < 4.13)",
                       dir);
  return 0;
}

static int
v1_stats (struct sk_cgroup *cg, struct sk_cgroup_stats *st, sk_err_t *err)
{
  const char *memory = cg->dir[SK_CG_MEMORY];
  const char *cpuacct = cg->dir[SK_CG_CPUACCT];
  const char *pids = cg->dir[SK_CG_PIDS];

  if (memory != NULL
      && (sk_cgroup_read_u64 (memory, "memory.usage_in_bytes", &st->memory_current, err) < 0
          || sk_cgroup_read_u64 (memory, "memory.max_usage_in_bytes", &st->memory_peak, err) < 0))
    return -1;
  if (cpuacct != NULL)
    {
      uint64_t usage_ns;

      if (sk_cgroup_read_u64 (cpuacct, "cpuacct.usage", &usage_ns, err) < 0)
        return -1;
      st->cpu_usage_usec = usage_ns / 1000;
    }
  if (pids != NULL && sk_cgroup_read_u64 (pids, "pids.current", &st->pids_current, err) < 0)
    return -1;
  return 0;
}

const struct sk_cgroup_ops sk_cgroup_v1_ops = {
  .locate = v1_locate,
  .prepare = v1_prepare,
  .write_limits = v1_write_limits,
  .kill_all = v1_kill_all,
  .oom_kills = v1_oom_kills,
  .stats = v1_stats,
};
