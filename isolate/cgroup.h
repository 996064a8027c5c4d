/* The container's control group: one small interface over both cgroup
 * layouts. libcgroup creates the groups and writes the limits; the v1/v2
 * difference (file names, hierarchies, delegation) is ours, and so is what
 * libcgroup has no primitive for (cgroup.kill, memory.events, statistics),
 * which we read and write in cgroupfs directly.
 *
 * Paths are relative to the hierarchy root, e.g. "skiff/<task-id>/<name>";
 * on v1 the same relative path exists in each controller hierarchy. */
#ifndef SKIFF_CGROUP_H
#define SKIFF_CGROUP_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum sk_cgroup_layout
{
  SK_CGROUP_V1 = 1, /* v1 or hybrid: per-controller hierarchies under /sys/fs/cgroup */
  SK_CGROUP_V2 = 2, /* pure v2: one unified hierarchy at /sys/fs/cgroup */
};

/* Detected once by statfs("/sys/fs/cgroup") and cached; < 0 on error. */
int sk_cgroup_layout (sk_err_t *err);

struct sk_cgroup_limits
{
  uint64_t memory_max; /* bytes, 0 = unlimited (v2 memory.max, v1 memory.limit_in_bytes) */
  uint64_t memory_low; /* bytes, 0 = none (v2 memory.low, v1 memory.soft_limit_in_bytes) */
  bool has_swap_max;
  bool swap_max_implicit; /* skiff's own default (no swap on top of memory): when the host
                             cannot enforce it, say so only at debug level */
  uint64_t swap_max;      /* bytes of swap beyond memory (v2 memory.swap.max; v1
                             memory.memsw.limit_in_bytes = memory_max + swap_max) */
  int swappiness;         /* -1 = unset; v1 memory.swappiness; v2 has none */
  uint32_t cpu_shares;    /* 0 = unset; v1 cpu.shares, v2 cpu.weight (converted) */
  uint64_t cpu_quota_us;  /* 0 = unlimited; v2 cpu.max, v1 cpu.cfs_quota_us */
  uint64_t cpu_period_us; /* 0 = default 100000 */
  int64_t pids_max;       /* 0 = unlimited, else pids.max */
};

struct sk_cgroup; /* opaque */

/* Create the group at `path` (parents created as needed; on v2 the needed
 * controllers are enabled in each ancestor's cgroup.subtree_control) with
 * the limits written before any process joins. On v1 the group is created
 * in each of the memory, cpu, cpuacct, pids and freezer hierarchies that
 * are mounted. A hard limit the host cannot enforce is an error; a soft
 * setting it cannot honour becomes a warning note (sk_cgroup_notes). On
 * failure nothing of the leaf group remains. */
int sk_cgroup_create (const char *path, const struct sk_cgroup_limits *limits,
                      struct sk_cgroup **out, sk_err_t *err);

/* An object for a group with no limits of its own that is not made now:
 * sk_cgroup_create of its first child group makes it (parents are made as
 * needed), and sk_cgroup_destroy removes it (one never made is fine). For a
 * task's group: creating it through libcgroup costs a walk of /proc/mounts
 * per hierarchy, for a directory the container's group makes anyway. */
int sk_cgroup_plan (const char *path, struct sk_cgroup **out, sk_err_t *err);

/* Re-adoption (detached tasks): open a group that already exists, e.g. one
 * a previous supervisor created and whose processes still run. */
int sk_cgroup_open (const char *path, struct sk_cgroup **out, sk_err_t *err);

/* O_PATH|O_DIRECTORY fd of the v2 group for clone3(CLONE_INTO_CGROUP); -1 on
 * v1 (the caller attaches the still-blocked child with sk_cgroup_attach).
 * Owned by the cgroup object. */
int sk_cgroup_clone_fd (struct sk_cgroup *cg);

/* Cgroup v1: open, for writing, the `tasks` file of the group in every
 * hierarchy, so that a single-threaded child moves itself by writing "0"
 * to each (sk_cgroup_join_self). A thread moving itself skips the global
 * threadgroup lock, whose first writer in a while waits for an RCU grace
 * period (~10 ms); the parent writing the child's pid to cgroup.procs pays
 * it on every launch. Returns how many fds were opened (0 on v2, where
 * clone3 places the child). The caller closes them. */
#define SK_CGROUP_MAX_JOIN_FDS 8
int sk_cgroup_join_fds (struct sk_cgroup *cg, int fds[SK_CGROUP_MAX_JOIN_FDS], sk_err_t *err);

/* Child side of sk_cgroup_join_fds: no allocation, syscalls only. Closes
 * the fds. -1 with errno set when a write fails. */
int sk_cgroup_join_self (const int *fds, size_t n);

/* Move process `pid` (all its threads) into the group in every hierarchy. */
int sk_cgroup_attach (struct sk_cgroup *cg, pid_t pid, sk_err_t *err);

/* SIGKILL every process in the group (v2: cgroup.kill when present, else
 * freeze + kill each pid + thaw; v1: freezer FROZEN, kill each, THAWED),
 * then wait until the group is empty, so sk_cgroup_destroy can follow.
 * Fails with ETIMEDOUT when processes remain after SK_CGROUP_KILL_WAIT_MS
 * (a task stuck in the kernel). The dead need not be reaped first. */
#define SK_CGROUP_KILL_WAIT_MS 2000
int sk_cgroup_kill_all (struct sk_cgroup *cg, sk_err_t *err);

/* Wait until no process is left in the group (v2: cgroup.events
 * "populated 0", woken by the kernel; v1: cgroup.procs polled every 1 ms).
 * ETIMEDOUT after timeout_ms. */
int sk_cgroup_wait_empty (struct sk_cgroup *cg, int timeout_ms, sk_err_t *err);

/* OOM kills in the group so far (v2 memory.events "oom_kill", v1
 * memory.oom_control "oom_kill", kernel >= 4.13). */
int sk_cgroup_oom_kills (struct sk_cgroup *cg, uint64_t *count, sk_err_t *err);

struct sk_cgroup_stats
{
  uint64_t memory_current; /* bytes */
  uint64_t memory_peak;    /* bytes; 0 when the kernel does not track it */
  uint64_t cpu_usage_usec;
  uint64_t pids_current;
};
/* Counters of controllers that are not available are left 0. */
int sk_cgroup_stats (struct sk_cgroup *cg, struct sk_cgroup_stats *st, sk_err_t *err);

/* Remove the group if it is empty; never migrates leftover processes to the
 * parent. Fails with EBUSY (naming the directory) when processes remain.
 * Frees nothing; may be retried. */
int sk_cgroup_destroy (struct sk_cgroup *cg, sk_err_t *err);

/* Free the object and close its fds; does not remove the group. NULL ok. */
void sk_cgroup_free (struct sk_cgroup *cg);

/* Remove the empty group `path` in every hierarchy (the task's parent group,
 * garbage left by a killed skiff). A path that does not exist is fine. */
int sk_cgroup_remove_path (const char *path, sk_err_t *err);

/* The same for the group and every group below it, deepest first (gc of a
 * killed skiff's task: its container groups are found in cgroupfs, not in
 * the task directory). The first failure is reported, the rest still
 * removed. */
int sk_cgroup_remove_tree (const char *path, sk_err_t *err);

/* The group's relative path, as given to sk_cgroup_create. */
const char *sk_cgroup_path (const struct sk_cgroup *cg);

/* The host directory of the group in the hierarchy of `controller`
 * ("memory", "cpu", "cpuacct", "pids", "freezer"); on v2 the one directory
 * for any controller. NULL when the group has no such hierarchy. */
const char *sk_cgroup_dir (const struct sk_cgroup *cg, const char *controller);

/* What sk_cgroup_create could not do exactly as asked, for the launcher to
 * print: warnings (a soft setting was weakened) and debug notes. */
enum sk_cgroup_note_level
{
  SK_CGROUP_NOTE_DEBUG,
  SK_CGROUP_NOTE_WARNING,
};
struct sk_cgroup_note
{
  enum sk_cgroup_note_level level;
  char *text;
};
size_t sk_cgroup_notes (const struct sk_cgroup *cg, const struct sk_cgroup_note **notes);

/* v1 cpu.shares (2..262144) to v2 cpu.weight (1..10000), the conversion
 * runc and crun use; out-of-range shares are clamped. */
uint64_t sk_cgroup_shares_to_weight (uint64_t shares);

#endif
