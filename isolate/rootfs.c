/* Parent half of the container filesystem: the writable-layer directories,
 * ECS tmpfs options, and the plan's memory. The child half is mount.c. */
#include "mount.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

/* mkdir that accepts an existing directory (a restarted container). */
static int
make_dir (const char *path, mode_t mode, sk_err_t *err)
{
  struct stat st;

  if (mkdir (path, mode) == 0)
    return 0;
  if (errno != EEXIST)
    return sk_err_set (err, errno, "mkdir `%s`", path);
  if (lstat (path, &st) < 0)
    return sk_err_set (err, errno, "stat `%s`", path);
  if (!S_ISDIR (st.st_mode))
    return sk_err_set (err, ENOTDIR, "`%s` exists and is not a directory", path);
  return 0;
}

/* Overlay's option string cannot carry these safely (mount.c refuses too,
 * this says it early and with the error object). */
static int
check_layer_path (const char *what, const char *path, sk_err_t *err)
{
  if (strpbrk (path, ",:\\") != NULL)
    return sk_err_set (err, EINVAL,
                       "%s `%s` contains ',' ':' or '\\', which overlayfs options cannot carry",
                       what, path);
  return 0;
}

int
sk_rootfs_prepare_at (struct sk_mount_plan *plan, const char *image_dir, const char *state_dir,
                      const char *mount_point, bool readonly_root, sk_err_t *err)
{
  _cleanup_free_ char *lower = NULL;
  _cleanup_free_ char *upper = NULL;
  _cleanup_free_ char *work = NULL;
  _cleanup_free_ char *merged = NULL;
  struct stat st;

  if (image_dir == NULL || image_dir[0] != '/')
    return sk_err_set (err, EINVAL, "image directory `%s` is not an absolute path",
                       image_dir != NULL ? image_dir : "(null)");
  if (state_dir == NULL || state_dir[0] != '/')
    return sk_err_set (err, EINVAL, "state directory `%s` is not an absolute path",
                       state_dir != NULL ? state_dir : "(null)");
  if (stat (image_dir, &st) < 0)
    return sk_err_set (err, errno, "stat image directory `%s`", image_dir);
  if (!S_ISDIR (st.st_mode))
    return sk_err_set (err, ENOTDIR, "image `%s` is not a directory", image_dir);
  /* The child gets a canonical host path: no symlink to chase later. */
  lower = realpath (image_dir, NULL);
  if (lower == NULL)
    return sk_err_set (err, errno, "realpath `%s`", image_dir);

  if (mount_point != NULL && mount_point[0] != '/')
    return sk_err_set (err, EINVAL, "mount point `%s` is not an absolute path", mount_point);
  /* With a shared mount point a read-only root needs no directory of its
   * own: on a disk state root every mkdir and rmdir is a journal write. */
  if ((mount_point == NULL || !readonly_root) && make_dir (state_dir, 0700, err) < 0)
    return -1;
  merged = mount_point != NULL ? xstrdup (mount_point) : xasprintf ("%s/merged", state_dir);
  if (!readonly_root)
    {
      upper = xasprintf ("%s/upper", state_dir);
      work = xasprintf ("%s/work", state_dir);
      if (check_layer_path ("image directory", lower, err) < 0
          || check_layer_path ("state directory", state_dir, err) < 0)
        return -1;
      if (make_dir (upper, 0755, err) < 0 || make_dir (work, 0700, err) < 0)
        return -1;
    }
  if (make_dir (merged, 0755, err) < 0)
    return -1;

  free (plan->lower);
  free (plan->upper);
  free (plan->work);
  free (plan->merged);
  plan->lower = steal_pointer (&lower);
  plan->upper = steal_pointer (&upper);
  plan->work = steal_pointer (&work);
  plan->merged = steal_pointer (&merged);
  plan->readonly_root = readonly_root;
  return 0;
}

int
sk_rootfs_prepare (struct sk_mount_plan *plan, const char *image_dir, const char *state_dir,
                   bool readonly_root, sk_err_t *err)
{
  return sk_rootfs_prepare_at (plan, image_dir, state_dir, NULL, readonly_root, err);
}

int
sk_rootfs_prepare_layers (struct sk_mount_plan *plan, const char *const *lowers,
                          const char *state_dir, bool readonly_root, sk_err_t *err)
{
  return sk_rootfs_prepare_layers_at (plan, lowers, state_dir, NULL, readonly_root, err);
}

int
sk_rootfs_prepare_layers_at (struct sk_mount_plan *plan, const char *const *lowers,
                             const char *state_dir, const char *mount_point, bool readonly_root,
                             sk_err_t *err)
{
  size_t n = 0;
  char **copy;

  if (lowers == NULL || lowers[0] == NULL)
    return sk_err_set (err, EINVAL, "layered image without layers");
  if (sk_rootfs_prepare_at (plan, lowers[0], state_dir, mount_point, readonly_root, err) < 0)
    return -1;
  while (lowers[n] != NULL)
    n++;
  copy = xzalloc ((n + 1) * sizeof *copy);
  for (size_t i = 0; i < n; i++)
    {
      struct stat st;
      /* Layer paths come from the image store: absolute, canonical. */
      if (lowers[i][0] != '/' || stat (lowers[i], &st) < 0 || !S_ISDIR (st.st_mode))
        {
          sk_strv_free (copy);
          return sk_err_set (err, errno ? errno : ENOTDIR, "image layer `%s`", lowers[i]);
        }
      if (check_layer_path ("image layer", lowers[i], err) < 0)
        {
          sk_strv_free (copy);
          return -1;
        }
      copy[i] = xstrdup (lowers[i]);
    }
  sk_strv_free (plan->lowers);
  plan->lowers = copy;
  return 0;
}

/* Options that are MS_* flags: set or clear. */
static const struct
{
  const char *name;
  unsigned long flag;
  bool clear;
} flag_options[] = {
  { "ro", MS_RDONLY, false },
  { "rw", MS_RDONLY, true },
  { "suid", MS_NOSUID, true },
  { "nosuid", MS_NOSUID, false },
  { "dev", MS_NODEV, true },
  { "nodev", MS_NODEV, false },
  { "exec", MS_NOEXEC, true },
  { "noexec", MS_NOEXEC, false },
  { "sync", MS_SYNCHRONOUS, false },
  { "async", MS_SYNCHRONOUS, true },
  { "dirsync", MS_DIRSYNC, false },
  { "atime", MS_NOATIME, true },
  { "noatime", MS_NOATIME, false },
  { "diratime", MS_NODIRATIME, true },
  { "nodiratime", MS_NODIRATIME, false },
  { "relatime", MS_RELATIME, false },
  { "norelatime", MS_RELATIME, true },
  { "strictatime", MS_STRICTATIME, false },
  { "nostrictatime", MS_STRICTATIME, true },
};

/* ECS-valid options with no meaning for a fresh, private tmpfs: accepted and
 * ignored (docs/isolation-mounts.md). Propagation flags cannot be given with
 * a new mount (mount(2) would change the target's propagation instead), and
 * every container mount is private anyway; "mand" is gone since Linux 5.15. */
static const char *const ignored_options[] = {
  "defaults",    "remount", "bind",     "rbind", "unbindable",
  "runbindable", "private", "rprivate", "mand",  "nomand",
};

/* Propagation modes that would need a shared peer group we never create. */
static const char *const refused_options[] = { "shared", "rshared", "slave", "rslave" };

static const char *const data_keys[] = { "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol" };

static bool
in_list (const char *s, const char *const *list, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp (s, list[i]) == 0)
      return true;
  return false;
}

/* Values go into a comma-separated option string: they must not split it. */
static int
check_data_value (const char *key, const char *value, sk_err_t *err)
{
  const char *allowed;

  if (strcmp (key, "mode") == 0)
    allowed = "01234567";
  else if (strcmp (key, "uid") == 0 || strcmp (key, "gid") == 0)
    allowed = "0123456789";
  else if (strcmp (key, "mpol") == 0)
    allowed = "abcdefghijklmnopqrstuvwxyz0123456789:-=";
  else
    allowed = "0123456789kKmMgG%";
  if (value[0] == '\0' || strspn (value, allowed) != strlen (value))
    return sk_err_set (err, EINVAL, "tmpfs option `%s=%s` has an invalid value", key, value);
  return 0;
}

int
sk_tmpfs_options (const char *const *options, size_t n, uint32_t size_mib, unsigned long *flags,
                  char **data, sk_err_t *err)
{
  /* Docker's defaults for a tmpfs. */
  unsigned long f = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  _cleanup_free_ char *d = NULL;
  size_t i, j;

  if (size_mib == 0)
    return sk_err_set (err, EINVAL, "tmpfs size must be at least 1 MiB");
  d = xasprintf ("size=%um", (unsigned)size_mib);

  for (i = 0; i < n; i++)
    {
      const char *opt = options[i];
      const char *eq;
      bool known = false;

      if (opt == NULL)
        return sk_err_set (err, EINVAL, "tmpfs option %zu is null", i);
      for (j = 0; j < SK_ARRAY_SIZE (flag_options); j++)
        if (strcmp (opt, flag_options[j].name) == 0)
          {
            if (flag_options[j].clear)
              f &= ~flag_options[j].flag;
            else
              f |= flag_options[j].flag;
            /* The atime modes exclude each other. */
            if (!flag_options[j].clear && flag_options[j].flag == MS_STRICTATIME)
              f &= ~(MS_RELATIME | MS_NOATIME);
            if (!flag_options[j].clear && flag_options[j].flag == MS_RELATIME)
              f &= ~(MS_STRICTATIME | MS_NOATIME);
            known = true;
            break;
          }
      if (known || in_list (opt, ignored_options, SK_ARRAY_SIZE (ignored_options)))
        continue;
      if (in_list (opt, refused_options, SK_ARRAY_SIZE (refused_options)))
        return sk_err_set (err, EINVAL,
                           "tmpfs option `%s` is not supported: container mounts are private", opt);

      eq = strchr (opt, '=');
      if (eq != NULL)
        {
          _cleanup_free_ char *key = xstrndup (opt, (size_t)(eq - opt));
          if (in_list (key, data_keys, SK_ARRAY_SIZE (data_keys)))
            {
              char *joined;
              if (check_data_value (key, eq + 1, err) < 0)
                return -1;
              joined = xasprintf ("%s,%s", d, opt);
              free (d);
              d = joined;
              continue;
            }
        }
      return sk_err_set (err, EINVAL, "unknown tmpfs option `%s`", opt);
    }
  *flags = f;
  free (*data);
  *data = steal_pointer (&d);
  return 0;
}

void
sk_mount_plan_clear (struct sk_mount_plan *plan)
{
  size_t i;

  if (plan == NULL)
    return;
  free (plan->lower);
  sk_strv_free (plan->lowers);
  free (plan->upper);
  free (plan->work);
  free (plan->merged);
  for (i = 0; i < plan->n_binds; i++)
    {
      free (plan->binds[i].source);
      free (plan->binds[i].dest);
    }
  free (plan->binds);
  for (i = 0; i < plan->n_tmpfs; i++)
    {
      free (plan->tmpfs[i].dest);
      free (plan->tmpfs[i].data);
    }
  free (plan->tmpfs);
  for (i = 0; i < plan->n_devices; i++)
    {
      free (plan->devices[i].dest);
      free (plan->devices[i].host_path);
    }
  free (plan->devices);
  memset (plan, 0, sizeof *plan);
}
