#include "state.h"
#include "cgroup.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int
mkdir_p_mode (const char *path, mode_t mode, sk_err_t *err)
{
  if (mkdir (path, mode) == 0 || errno == EEXIST)
    return 0;
  return sk_err_set (err, errno, "mkdir `%s`", path);
}

int
sk_state_init_root (const char *root, sk_err_t *err)
{
  _cleanup_free_ char *tasks = xasprintf ("%s/tasks", root);
  _cleanup_free_ char *cache = xasprintf ("%s/cache", root);

  if (mkdir_p_mode (root, 0700, err) < 0 || mkdir_p_mode (tasks, 0700, err) < 0
      || mkdir_p_mode (cache, 0700, err) < 0)
    return sk_err_wrap (err, "state root `%s`", root);
  return 0;
}

int
sk_task_dir_create (const char *root, struct sk_task_dir *out, sk_err_t *err)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char rnd[SK_TASK_ID_LEN / 2];
  _cleanup_free_ char *lock = NULL;
  _cleanup_free_ char *containers = NULL;
  _cleanup_free_ char *final = NULL;

  memset (out, 0, sizeof *out);
  out->lock_fd = -1;
  if (getrandom (rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
    return sk_err_set (err, errno, "getrandom for a task id");
  for (size_t i = 0; i < sizeof rnd; i++)
    {
      out->id[2 * i] = hex[rnd[i] >> 4];
      out->id[2 * i + 1] = hex[rnd[i] & 15];
    }
  /* Made under a hidden name and renamed once locked: gc never sees a task
   * directory whose lock is not yet held (it would take it for abandoned). */
  out->path = xasprintf ("%s/tasks/.%s.new", root, out->id);
  if (mkdir (out->path, 0700) < 0)
    return sk_err_set (err, errno, "mkdir `%s`", out->path);
  lock = xasprintf ("%s/lock", out->path);
  out->lock_fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (out->lock_fd < 0)
    return sk_err_set (err, errno, "open `%s`", lock);
  /* Held until we exit, however we exit: the kernel drops it for a
   * SIGKILLed skiff, which is how gc tells abandoned tasks apart. */
  if (flock (out->lock_fd, LOCK_EX | LOCK_NB) < 0)
    return sk_err_set (err, errno, "lock `%s`", lock);
  containers = xasprintf ("%s/containers", out->path);
  if (mkdir (containers, 0700) < 0)
    return sk_err_set (err, errno, "mkdir `%s`", containers);
  final = xasprintf ("%s/tasks/%s", root, out->id);
  if (rename (out->path, final) < 0)
    return sk_err_set (err, errno, "rename `%s` to `%s`", out->path, final);
  free (out->path);
  out->path = steal_pointer (&final);
  return 0;
}

static int
remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  if (type == FTW_DP)
    return rmdir (path) < 0 && errno != ENOENT ? -1 : 0;
  return unlink (path) < 0 && errno != ENOENT ? -1 : 0;
}

int
sk_remove_tree (const char *path, sk_err_t *err)
{
  /* FTW_PHYS: never follow a symlink a container planted; FTW_MOUNT: never
   * descend into something mounted there. */
  if (nftw (path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
    return sk_err_set (err, errno, "remove `%s`", path);
  return 0;
}

void
sk_task_dir_clear (struct sk_task_dir *td)
{
  if (td->lock_fd >= 0)
    close (td->lock_fd);
  td->lock_fd = -1;
  free (td->path);
  td->path = NULL;
}

int
sk_task_dir_remove (struct sk_task_dir *td, sk_err_t *err)
{
  int r = 0;

  if (td->path != NULL)
    r = sk_remove_tree (td->path, err);
  sk_task_dir_clear (td);
  return r;
}

const char *
sk_cgroup_parent (void)
{
  /* --cgroup-parent, as Docker's: where task groups go. Relative to each
   * hierarchy's root, never climbing out of it. */
  const char *p = getenv ("SKIFF_CGROUP_PARENT");

  if (p == NULL || p[0] == '\0' || p[0] == '/' || strstr (p, "..") != NULL || strlen (p) > 200)
    return "skiff";
  return p;
}

char *
sk_task_cgroup_path (const char *id, const char *container)
{
  if (container == NULL)
    return xasprintf ("%s/%s", sk_cgroup_parent (), id);
  return xasprintf ("%s/%s/%s", sk_cgroup_parent (), id, container);
}

static void
gc_task (const char *root, const char *id)
{
  _cleanup_free_ char *dir = xasprintf ("%s/tasks/%s", root, id);
  _cleanup_free_ char *lock = xasprintf ("%s/lock", dir);
  _cleanup_free_ char *task_cg = sk_task_cgroup_path (id, NULL);
  _cleanup_close_ int fd = open (lock, O_RDWR | O_CLOEXEC);
  sk_err_t err = NULL;

  _cleanup_free_ char *spec = xasprintf ("%s/spec.json", dir);

  /* A detached task (`run -d`) is kept for ps/inspect until `rm`; one whose
   * monitor died is re-adopted (taskstate.h), never removed here. */
  if (access (spec, F_OK) == 0)
    return;
  /* A task whose lock is held is alive; one without a lock file is being
   * created right now. Leave both alone. */
  if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB) < 0)
    return;
  /* The container groups are found in cgroupfs: a foreground container
   * has no directory under containers/ to name it. */
  sk_cgroup_remove_tree (task_cg, &err);
  sk_err_free (&err);
  sk_remove_tree (dir, &err);
  sk_err_free (&err);
}

/* How old an unfinished task directory must be before gc takes it for the
 * remains of a crash: creation takes milliseconds, and its lock is held
 * from the start anyway. */
#define SK_NEW_DIR_GRACE_S 60

/* `.<id>.new`: a task directory whose creator died before renaming it. */
static bool
is_new_dir_name (const char *name, char id[SK_TASK_ID_LEN + 1])
{
  size_t len = strlen (name);

  if (len != 1 + SK_TASK_ID_LEN + 4 || name[0] != '.' || strcmp (name + len - 4, ".new") != 0)
    return false;
  for (size_t i = 0; i < SK_TASK_ID_LEN; i++)
    if (!strchr ("0123456789abcdef", name[1 + i]) || name[1 + i] == '\0')
      return false;
  memcpy (id, name + 1, SK_TASK_ID_LEN);
  id[SK_TASK_ID_LEN] = '\0';
  return true;
}

static bool
gc_new_dir (const char *root, const char *name)
{
  char id[SK_TASK_ID_LEN + 1];
  _cleanup_free_ char *dir = NULL;
  _cleanup_free_ char *lock = NULL;
  _cleanup_close_ int fd = -1;
  _cleanup_free_ char *task_cg = NULL;
  sk_err_t err = NULL;
  struct stat st;

  if (!is_new_dir_name (name, id))
    return false;
  dir = xasprintf ("%s/tasks/%s", root, name);
  if (lstat (dir, &st) < 0 || !S_ISDIR (st.st_mode)
      || time (NULL) - st.st_mtime < SK_NEW_DIR_GRACE_S)
    return false;
  /* Its creator holds the lock from right after the mkdir: a held lock is a
   * creation in progress, however slow. */
  lock = xasprintf ("%s/lock", dir);
  fd = open (lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno != ENOENT)
    return false;
  if (fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) < 0)
    return false;
  task_cg = sk_task_cgroup_path (id, NULL);
  sk_cgroup_remove_tree (task_cg, &err);
  sk_err_free (&err);
  sk_remove_tree (dir, &err);
  sk_err_free (&err);
  return true;
}

int
sk_state_gc (const char *root)
{
  _cleanup_free_ char *tasks = xasprintf ("%s/tasks", root);
  struct dirent *de;
  int n = 0;
  DIR *d = opendir (tasks);

  if (d == NULL)
    return 0;
  while ((de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.' && gc_new_dir (root, de->d_name))
        n++;
      if (de->d_name[0] == '.' || strlen (de->d_name) != SK_TASK_ID_LEN)
        continue;
      gc_task (root, de->d_name);
      n++;
    }
  closedir (d);
  return n;
}
