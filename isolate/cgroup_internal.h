/* Shared between cgroup.c (common part, libcgroup glue, cgroupfs file
 * helpers) and the two layout back-ends cgroup_v1.c and cgroup_v2.c. Not
 * for use outside isolate/cgroup*.c. */
#ifndef SKIFF_CGROUP_INTERNAL_H
#define SKIFF_CGROUP_INTERNAL_H

#include "cgroup.h"

#include <stdbool.h>
#include <stdint.h>

/* The controllers skiff uses. On v2 cpuacct and freezer are built into the
 * core (cpu.stat, cgroup.freeze) and have no entry of their own. */
enum sk_cgroup_ctrl
{
  SK_CG_MEMORY,
  SK_CG_CPU,
  SK_CG_CPUACCT,
  SK_CG_PIDS,
  SK_CG_FREEZER,
  SK_CG_N_CTRL,
};
extern const char *const sk_cgroup_ctrl_names[SK_CG_N_CTRL];

struct sk_cgroup
{
  enum sk_cgroup_layout layout;
  const struct sk_cgroup_ops *ops;
  char *path; /* relative to the hierarchy root */
  /* Host directory of the group per controller, NULL when that controller
   * is not available. On v2 every available controller has the same
   * directory (`unified`), which exists even with no controller at all. */
  char *dir[SK_CG_N_CTRL];
  char *unified; /* v2 only */
  int clone_fd;  /* v2 only, else -1 */
  struct sk_cgroup_note *notes;
  size_t n_notes;
};

/* What differs between the layouts. */
struct sk_cgroup_ops
{
  /* Fill cg->dir (and cg->unified) for the hierarchies present. */
  int (*locate) (struct sk_cgroup *cg, sk_err_t *err);
  /* Before the group exists: refuse hard limits the host cannot enforce,
   * note weakened soft ones; v2: enable controllers in the ancestors. */
  int (*prepare) (struct sk_cgroup *cg, const struct sk_cgroup_limits *limits, sk_err_t *err);
  /* After the group exists, before any process joins. */
  int (*write_limits) (struct sk_cgroup *cg, const struct sk_cgroup_limits *limits, sk_err_t *err);
  int (*kill_all) (struct sk_cgroup *cg, sk_err_t *err);
  int (*oom_kills) (struct sk_cgroup *cg, uint64_t *count, sk_err_t *err);
  int (*stats) (struct sk_cgroup *cg, struct sk_cgroup_stats *st, sk_err_t *err);
};
extern const struct sk_cgroup_ops sk_cgroup_v1_ops;
extern const struct sk_cgroup_ops sk_cgroup_v2_ops;

#define SK_CGROUP_DEFAULT_PERIOD_US 100000

/* cgroup_init() once per process, on first need (it costs ~3.6 ms). */
int sk_cgroup_lib_init (sk_err_t *err);

/* The mount point of `controller` as libcgroup sees it, or NULL. */
char *sk_cgroup_lib_mount_point (const char *controller);

/* Write one value through libcgroup (cgroup_modify_cgroup with a single
 * value, so a failure names exactly the file and value that failed). */
int sk_cgroup_lib_write (struct sk_cgroup *cg, const char *controller, const char *file,
                         const char *value, sk_err_t *err);
int sk_cgroup_lib_write_u64 (struct sk_cgroup *cg, const char *controller, const char *file,
                             uint64_t value, sk_err_t *err);

void sk_cgroup_note (struct sk_cgroup *cg, enum sk_cgroup_note_level level, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* cgroupfs files read and written directly, for what libcgroup lacks.
 * Errors name the full path; callers wrap them with the group's path. */
bool sk_cgroup_file_exists (const char *dir, const char *file);
int sk_cgroup_read_file (const char *dir, const char *file, char **out, sk_err_t *err);
int sk_cgroup_write_file (const char *dir, const char *file, const char *value, sk_err_t *err);
/* A file holding one number; "max" reads as UINT64_MAX. */
int sk_cgroup_read_u64 (const char *dir, const char *file, uint64_t *value, sk_err_t *err);
/* A "key value" line of a flat-keyed file (memory.events, cpu.stat, ...);
 * *found is false when the key is absent. */
int sk_cgroup_read_keyed (const char *dir, const char *file, const char *key, uint64_t *value,
                          bool *found, sk_err_t *err);
/* SIGKILL every pid in `dir`/cgroup.procs; *n_killed counts those signalled. */
int sk_cgroup_kill_procs (const char *dir, size_t *n_killed, sk_err_t *err);
/* Whether `dir`/cgroup.procs lists any process. */
int sk_cgroup_has_procs (const char *dir, bool *has, sk_err_t *err);
/* v2: wait until `dir`/cgroup.events holds the line `line` (e.g.
 * "populated 0"), woken by POLLPRI; *reached is false after timeout_ms. */
int sk_cgroup_wait_events (const char *dir, const char *line, int timeout_ms, bool *reached,
                           sk_err_t *err);
/* v1: wait until none of `dirs` lists a process; *reached as above. */
int sk_cgroup_wait_no_procs (const char *const *dirs, size_t n_dirs, int timeout_ms, bool *reached,
                             sk_err_t *err);

#endif
