/* The cgroup object and what both layouts share: layout detection, the
 * libcgroup glue (create, write one value, delete), attach and removal.
 * What differs between v1 and v2 lives in cgroup_v1.c and cgroup_v2.c behind
 * struct sk_cgroup_ops. */
#include "cgroup_internal.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libcgroup.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

const char *const sk_cgroup_ctrl_names[SK_CG_N_CTRL] = {
  [SK_CG_MEMORY] = "memory", [SK_CG_CPU] = "cpu",         [SK_CG_CPUACCT] = "cpuacct",
  [SK_CG_PIDS] = "pids",     [SK_CG_FREEZER] = "freezer",
};

/* The launcher is single-threaded (launch-path.md §0), so plain statics are
 * enough for these once-per-process facts. */
static int detected_layout;
static bool lib_initialized;

int
sk_cgroup_layout (sk_err_t *err)
{
  struct statfs fs;

  if (detected_layout != 0)
    return detected_layout;
  if (statfs (CGROUP_ROOT, &fs) < 0)
    return sk_err_set (err, errno, "statfs `%s`", CGROUP_ROOT);
  if (fs.f_type == CGROUP2_SUPER_MAGIC)
    detected_layout = SK_CGROUP_V2;
  else if (fs.f_type == TMPFS_MAGIC)
    detected_layout = SK_CGROUP_V1; /* v1 or hybrid: controllers in per-controller hierarchies */
  else
    return sk_err_set (err, 0, "`%s` is neither a cgroup2 nor a tmpfs mount (f_type 0x%lx)",
                       CGROUP_ROOT, (unsigned long)fs.f_type);
  return detected_layout;
}

int
sk_cgroup_lib_init (sk_err_t *err)
{
  int ret;

  if (lib_initialized)
    return 0;
  ret = cgroup_init ();
  if (ret != 0)
    {
      if (ret == ECGOTHER)
        return sk_err_set (err, cgroup_get_last_errno (), "cgroup_init");
      return sk_err_set (err, 0, "cgroup_init: %s", cgroup_strerror (ret));
    }
  lib_initialized = true;
  return 0;
}

char *
sk_cgroup_lib_mount_point (const char *controller)
{
  char *mount_point = NULL;

  if (cgroup_get_subsys_mount_point (controller, &mount_point) != 0)
    {
      free (mount_point);
      return NULL;
    }
  return mount_point;
}

/* Turn a libcgroup failure into our error: ECGOTHER carries a real errno,
 * the other codes only libcgroup's own text. */
static int
lib_error (sk_err_t *err, int ret, const char *what)
{
  if (ret == ECGOTHER)
    return sk_err_set (err, cgroup_get_last_errno (), "%s", what);
  return sk_err_set (err, 0, "%s: %s", what, cgroup_strerror (ret));
}

int
sk_cgroup_lib_write (struct sk_cgroup *cg, const char *controller, const char *file,
                     const char *value, sk_err_t *err)
{
  struct cgroup *lc;
  struct cgroup_controller *ctrl;
  int ret;

  lc = cgroup_new_cgroup (cg->path);
  if (lc == NULL)
    return sk_err_set (err, ENOMEM, "cgroup `%s`: cgroup_new_cgroup", cg->path);
  ctrl = cgroup_add_controller (lc, controller);
  ret = ctrl == NULL ? ECGFAIL : cgroup_add_value_string (ctrl, file, value);
  if (ret == 0)
    ret = cgroup_modify_cgroup (lc);
  cgroup_free (&lc);
  if (ret != 0)
    {
      _cleanup_free_ char *what = xasprintf ("write `%s` = `%s`", file, value);
      lib_error (err, ret, what);
      return sk_err_wrap (err, "cgroup `%s`", cg->path);
    }
  return 0;
}

int
sk_cgroup_lib_write_u64 (struct sk_cgroup *cg, const char *controller, const char *file,
                         uint64_t value, sk_err_t *err)
{
  char buf[32];

  snprintf (buf, sizeof buf, "%" PRIu64, value);
  return sk_cgroup_lib_write (cg, controller, file, buf, err);
}

void
sk_cgroup_note (struct sk_cgroup *cg, enum sk_cgroup_note_level level, const char *fmt, ...)
{
  va_list ap;
  char *text = NULL;

  va_start (ap, fmt);
  if (vasprintf (&text, fmt, ap) < 0)
    text = NULL;
  va_end (ap);
  if (text == NULL)
    return;
  cg->notes = xreallocarray (cg->notes, cg->n_notes + 1, sizeof *cg->notes);
  cg->notes[cg->n_notes].level = level;
  cg->notes[cg->n_notes].text = text;
  cg->n_notes++;
}

/* A relative path of plain names: no "", ".", ".." components, so it can
 * never leave the hierarchy it is joined to. */
static int
check_path (const char *path, sk_err_t *err)
{
  const char *p = path;

  if (path == NULL || path[0] == '\0')
    return sk_err_set (err, EINVAL, "cgroup path is empty");
  if (path[0] == '/')
    return sk_err_set (err, EINVAL, "cgroup path `%s` must be relative", path);
  if (strlen (path) > 1024)
    return sk_err_set (err, ENAMETOOLONG, "cgroup path `%.64s...` is too long", path);
  while (*p != '\0')
    {
      size_t len = strcspn (p, "/");

      if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
        return sk_err_set (err, EINVAL, "cgroup path `%s` has an empty, `.` or `..` component",
                           path);
      p += len;
      if (*p == '/')
        p++;
      if (*p == '\0' && p[-1] == '/')
        return sk_err_set (err, EINVAL, "cgroup path `%s` ends with `/`", path);
    }
  return 0;
}

/* The group's distinct host directories: one per v1 hierarchy (controllers
 * mounted together share one), the unified one on v2. */
static size_t
distinct_dirs (const struct sk_cgroup *cg, const char *out[SK_CG_N_CTRL])
{
  size_t n = 0;

  if (cg->layout == SK_CGROUP_V2)
    {
      out[0] = cg->unified;
      return 1;
    }
  for (int i = 0; i < SK_CG_N_CTRL; i++)
    {
      bool seen = false;

      if (cg->dir[i] == NULL)
        continue;
      for (size_t j = 0; j < n; j++)
        seen = seen || strcmp (out[j], cg->dir[i]) == 0;
      if (!seen)
        out[n++] = cg->dir[i];
    }
  return n;
}

static struct sk_cgroup *
new_object (const char *path, enum sk_cgroup_layout layout)
{
  struct sk_cgroup *cg = xzalloc (sizeof *cg);

  cg->layout = layout;
  cg->ops = layout == SK_CGROUP_V2 ? &sk_cgroup_v2_ops : &sk_cgroup_v1_ops;
  cg->path = xstrdup (path);
  cg->clone_fd = -1;
  return cg;
}

/* Shared start of create and remove_path: validate, detect, init, locate. */
static int
open_object (const char *path, struct sk_cgroup **out, sk_err_t *err)
{
  struct sk_cgroup *cg;
  int layout;

  if (check_path (path, err) < 0)
    return -1;
  layout = sk_cgroup_layout (err);
  if (layout < 0)
    return -1;
  if (sk_cgroup_lib_init (err) < 0)
    return -1;
  cg = new_object (path, layout);
  if (cg->ops->locate (cg, err) < 0)
    {
      sk_cgroup_free (cg);
      return sk_err_wrap (err, "cgroup `%s`", path);
    }
  *out = cg;
  return 0;
}

/* Re-adoption (detached tasks): the group already exists and may hold
 * the processes of a container started by an earlier supervisor. */
int
sk_cgroup_open (const char *path, struct sk_cgroup **out, sk_err_t *err)
{
  struct sk_cgroup *cg = NULL;
  const char *dirs[SK_CG_N_CTRL];
  size_t n_dirs;

  if (open_object (path, &cg, err) < 0)
    return -1;
  n_dirs = distinct_dirs (cg, dirs);
  for (size_t i = 0; i < n_dirs; i++)
    if (access (dirs[i], F_OK) != 0)
      {
        int saved = errno;
        sk_cgroup_free (cg);
        return sk_err_set (err, saved, "cgroup `%s`: `%s`", path, dirs[i]);
      }
  if (cg->layout == SK_CGROUP_V2)
    cg->clone_fd = open (cg->unified, O_PATH | O_DIRECTORY | O_CLOEXEC);
  *out = cg;
  return 0;
}

/* The libcgroup controller list for this group. */
static struct cgroup *
lib_group (const struct sk_cgroup *cg, size_t *n_controllers)
{
  struct cgroup *lc = cgroup_new_cgroup (cg->path);

  *n_controllers = 0;
  if (lc == NULL)
    return NULL;
  for (int i = 0; i < SK_CG_N_CTRL; i++)
    {
      if (cg->dir[i] == NULL)
        continue;
      if (cgroup_add_controller (lc, sk_cgroup_ctrl_names[i]) == NULL)
        {
          cgroup_free (&lc);
          return NULL;
        }
      (*n_controllers)++;
    }
  return lc;
}

static int
lib_create (struct sk_cgroup *cg, sk_err_t *err)
{
  struct cgroup *lc;
  size_t n_controllers;
  int ret;

  lc = lib_group (cg, &n_controllers);
  if (lc == NULL)
    return sk_err_set (err, ENOMEM, "cgroup `%s`: build the libcgroup group", cg->path);
  if (n_controllers == 0)
    {
      /* Only possible on v2 with no controller enabled at all: the group
       * is then a bare directory (its ancestors exist, see v2 prepare). */
      cgroup_free (&lc);
      if (mkdir (cg->unified, 0755) < 0)
        return sk_err_set (err, errno, "cgroup `%s`: mkdir `%s`", cg->path, cg->unified);
      return 0;
    }
  /* ignore_ownership: we are root and the group stays root's. */
  ret = cgroup_create_cgroup (lc, 1);
  cgroup_free (&lc);
  if (ret != 0)
    {
      lib_error (err, ret, "cgroup_create_cgroup");
      return sk_err_wrap (err, "cgroup `%s`", cg->path);
    }
  return 0;
}

/* An empty group goes with one rmdir per hierarchy, which also gives the
 * precise errno (EBUSY: processes or child groups remain). Never anything
 * that would migrate leftover processes to the parent. libcgroup's delete
 * did the same rmdir after a walk of the directory (and then ours failed
 * with ENOENT): twice the syscalls on every container's teardown. */
static int
remove_dirs (struct sk_cgroup *cg, sk_err_t *err)
{
  const char *dirs[SK_CG_N_CTRL];
  size_t n_dirs = distinct_dirs (cg, dirs);

  for (size_t i = 0; i < n_dirs; i++)
    {
      if (rmdir (dirs[i]) == 0 || errno == ENOENT)
        continue;
      if (errno == EBUSY)
        return sk_err_set (err, EBUSY,
                           "cgroup `%s`: remove `%s` (processes or child groups remain)", cg->path,
                           dirs[i]);
      return sk_err_set (err, errno, "cgroup `%s`: remove `%s`", cg->path, dirs[i]);
    }
  return 0;
}

int
sk_cgroup_create (const char *path, const struct sk_cgroup_limits *limits, struct sk_cgroup **out,
                  sk_err_t *err)
{
  static const struct sk_cgroup_limits no_limits = { .swappiness = -1 };
  struct sk_cgroup *cg = NULL;
  const char *dirs[SK_CG_N_CTRL];
  size_t n_dirs;

  if (limits == NULL)
    limits = &no_limits;
  if (check_path (path, err) < 0)
    return -1;
  if (limits->pids_max < 0)
    return sk_err_set (err, EINVAL, "cgroup `%s`: pids_max %" PRId64 " is negative", path,
                       limits->pids_max);
  if (limits->swappiness > 100)
    return sk_err_set (err, EINVAL, "cgroup `%s`: swappiness %d is above 100", path,
                       limits->swappiness);
  if (open_object (path, &cg, err) < 0)
    return -1;

  /* A leftover of a killed skiff may still hold processes: never adopt it. */
  n_dirs = distinct_dirs (cg, dirs);
  for (size_t i = 0; i < n_dirs; i++)
    if (access (dirs[i], F_OK) == 0)
      {
        sk_err_set (err, EEXIST, "cgroup `%s`: `%s` already exists", path, dirs[i]);
        goto fail;
      }

  if (cg->ops->prepare (cg, limits, err) < 0)
    goto fail;
  if (lib_create (cg, err) < 0)
    {
      /* libcgroup may have created some hierarchies before failing. */
      _cleanup_err_ sk_err_t ignored = NULL;
      (void)remove_dirs (cg, &ignored);
      goto fail;
    }
  if (cg->ops->write_limits (cg, limits, err) < 0)
    goto fail_created;
  if (cg->layout == SK_CGROUP_V2)
    {
      cg->clone_fd = open (cg->unified, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (cg->clone_fd < 0)
        {
          sk_err_set (err, errno, "cgroup `%s`: open `%s`", path, cg->unified);
          goto fail_created;
        }
    }
  *out = cg;
  return 0;

fail_created:
  {
    _cleanup_err_ sk_err_t ignored = NULL;
    (void)remove_dirs (cg, &ignored); /* empty: no process joined yet */
  }
fail:
  sk_cgroup_free (cg);
  return -1;
}

int
sk_cgroup_plan (const char *path, struct sk_cgroup **out, sk_err_t *err)
{
  return open_object (path, out, err);
}

int
sk_cgroup_clone_fd (struct sk_cgroup *cg)
{
  return cg->clone_fd;
}

int
sk_cgroup_attach (struct sk_cgroup *cg, pid_t pid, sk_err_t *err)
{
  const char *dirs[SK_CG_N_CTRL];
  size_t n_dirs = distinct_dirs (cg, dirs);
  char pid_text[24];

  /* cgroup.procs moves the whole thread group, unlike v1 `tasks`. */
  snprintf (pid_text, sizeof pid_text, "%d", (int)pid);
  for (size_t i = 0; i < n_dirs; i++)
    if (sk_cgroup_write_file (dirs[i], "cgroup.procs", pid_text, err) < 0)
      return sk_err_wrap (err, "cgroup `%s`: attach pid %d", cg->path, (int)pid);
  return 0;
}

int
sk_cgroup_join_fds (struct sk_cgroup *cg, int fds[SK_CGROUP_MAX_JOIN_FDS], sk_err_t *err)
{
  const char *dirs[SK_CG_N_CTRL];
  size_t n_dirs, n = 0;

  if (cg->layout != SK_CGROUP_V1)
    return 0;
  n_dirs = distinct_dirs (cg, dirs);
  for (size_t i = 0; i < n_dirs && n < SK_CGROUP_MAX_JOIN_FDS; i++)
    {
      _cleanup_free_ char *path = xasprintf ("%s/tasks", dirs[i]);
      int fd = open (path, O_WRONLY | O_CLOEXEC);

      if (fd < 0)
        {
          int saved = errno;
          while (n > 0)
            close (fds[--n]);
          return sk_err_set (err, saved, "cgroup `%s`: open `%s`", cg->path, path);
        }
      fds[n++] = fd;
    }
  return (int)n;
}

int
sk_cgroup_join_self (const int *fds, size_t n)
{
  int ret = 0, saved = 0;

  for (size_t i = 0; i < n; i++)
    {
      if (ret == 0 && write (fds[i], "0", 1) != 1)
        {
          saved = errno;
          ret = -1;
        }
      close (fds[i]);
    }
  errno = saved;
  return ret;
}

int
sk_cgroup_wait_empty (struct sk_cgroup *cg, int timeout_ms, sk_err_t *err)
{
  const char *dirs[SK_CG_N_CTRL];
  size_t n_dirs = distinct_dirs (cg, dirs);
  bool empty = false;
  int ret;

  /* A process leaves its group when it exits, before it is reaped. */
  if (cg->layout == SK_CGROUP_V2)
    ret = sk_cgroup_wait_events (cg->unified, "populated 0", timeout_ms, &empty, err);
  else
    ret = sk_cgroup_wait_no_procs (dirs, n_dirs, timeout_ms, &empty, err);
  if (ret < 0)
    return sk_err_wrap (err, "cgroup `%s`", cg->path);
  if (!empty)
    return sk_err_set (err, ETIMEDOUT, "cgroup `%s`: processes remain after %d ms", cg->path,
                       timeout_ms);
  return 0;
}

int
sk_cgroup_kill_all (struct sk_cgroup *cg, sk_err_t *err)
{
  if (cg->ops->kill_all (cg, err) < 0)
    return sk_err_wrap (err, "cgroup `%s`: kill all", cg->path);
  return sk_cgroup_wait_empty (cg, SK_CGROUP_KILL_WAIT_MS, err);
}

int
sk_cgroup_oom_kills (struct sk_cgroup *cg, uint64_t *count, sk_err_t *err)
{
  *count = 0;
  if (cg->ops->oom_kills (cg, count, err) < 0)
    return sk_err_wrap (err, "cgroup `%s`: OOM kill count", cg->path);
  return 0;
}

int
sk_cgroup_stats (struct sk_cgroup *cg, struct sk_cgroup_stats *st, sk_err_t *err)
{
  memset (st, 0, sizeof *st);
  if (cg->ops->stats (cg, st, err) < 0)
    return sk_err_wrap (err, "cgroup `%s`: statistics", cg->path);
  return 0;
}

int
sk_cgroup_destroy (struct sk_cgroup *cg, sk_err_t *err)
{
  return remove_dirs (cg, err);
}

void
sk_cgroup_free (struct sk_cgroup *cg)
{
  if (cg == NULL)
    return;
  if (cg->clone_fd >= 0)
    close (cg->clone_fd);
  for (int i = 0; i < SK_CG_N_CTRL; i++)
    free (cg->dir[i]);
  for (size_t i = 0; i < cg->n_notes; i++)
    free (cg->notes[i].text);
  free (cg->notes);
  free (cg->unified);
  free (cg->path);
  free (cg);
}

int
sk_cgroup_remove_path (const char *path, sk_err_t *err)
{
  struct sk_cgroup *cg = NULL;
  int ret;

  if (open_object (path, &cg, err) < 0)
    return -1;
  ret = remove_dirs (cg, err);
  sk_cgroup_free (cg);
  return ret;
}

/* The names of the child groups of `cg` in any of its hierarchies, each
 * once (a container group exists in all of them, a half-made one may not). */
static char **
child_group_names (const struct sk_cgroup *cg)
{
  const char *dirs[SK_CG_N_CTRL];
  size_t n_dirs = distinct_dirs (cg, dirs), n = 0;
  char **names = xzalloc (sizeof *names);

  for (size_t i = 0; i < n_dirs; i++)
    {
      DIR *d = opendir (dirs[i]);
      struct dirent *e;

      if (d == NULL)
        continue;
      while ((e = readdir (d)) != NULL)
        {
          bool seen = false;

          if (e->d_type != DT_DIR || e->d_name[0] == '.')
            continue;
          for (size_t j = 0; j < n && !seen; j++)
            seen = strcmp (names[j], e->d_name) == 0;
          if (seen)
            continue;
          names = xreallocarray (names, n + 2, sizeof *names);
          names[n++] = xstrdup (e->d_name);
          names[n] = NULL;
        }
      closedir (d);
    }
  return names;
}

static int
remove_tree (const char *path, int depth, sk_err_t *err)
{
  struct sk_cgroup *cg = NULL;
  _cleanup_strv_ char **children = NULL;
  int ret = 0;

  if (open_object (path, &cg, err) < 0)
    return -1;
  children = depth < 8 ? child_group_names (cg) : NULL;
  for (size_t i = 0; children != NULL && children[i] != NULL; i++)
    {
      _cleanup_free_ char *child = xasprintf ("%s/%s", path, children[i]);
      sk_err_t child_err = NULL;

      if (remove_tree (child, depth + 1, &child_err) < 0)
        {
          /* Keep going: remove what can be; the first failure is reported. */
          if (ret == 0)
            *err = steal_pointer (&child_err);
          sk_err_free (&child_err);
          ret = -1;
        }
    }
  if (ret == 0)
    ret = remove_dirs (cg, err);
  sk_cgroup_free (cg);
  return ret;
}

int
sk_cgroup_remove_tree (const char *path, sk_err_t *err)
{
  return remove_tree (path, 0, err);
}

const char *
sk_cgroup_path (const struct sk_cgroup *cg)
{
  return cg->path;
}

const char *
sk_cgroup_dir (const struct sk_cgroup *cg, const char *controller)
{
  if (cg->layout == SK_CGROUP_V2)
    return cg->unified;
  for (int i = 0; i < SK_CG_N_CTRL; i++)
    if (controller != NULL && strcmp (controller, sk_cgroup_ctrl_names[i]) == 0)
      return cg->dir[i];
  return NULL;
}

size_t
sk_cgroup_notes (const struct sk_cgroup *cg, const struct sk_cgroup_note **notes)
{
  *notes = cg->notes;
  return cg->n_notes;
}

uint64_t
sk_cgroup_shares_to_weight (uint64_t shares)
{
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  /* Maps [2, 262144] linearly onto [1, 10000]. */
  return 1 + ((shares - 2) * 9999) / 262142;
}
