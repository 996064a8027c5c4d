/* Opt-in user namespaces: the id map, its parent-side writing, ID-mapped
 * image mounts, and the child's switch to the namespace's root. */
#include "userns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the map ----------------------------------------------------------- */

/* A decimal uint32 that fills the whole field. */
static bool
parse_u32 (const char *s, size_t len, uint32_t *out)
{
  uint64_t v = 0;

  if (len == 0 || len > 10)
    return false;
  for (size_t i = 0; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return false;
      v = v * 10 + (uint64_t)(s[i] - '0');
    }
  if (v > UINT32_MAX)
    return false;
  *out = (uint32_t)v;
  return true;
}

/* Does the name field (len bytes) designate user or the numeric id? */
static bool
names_user (const char *name, size_t len, const char *user, uint32_t id)
{
  uint32_t n;

  if (user != NULL && strlen (user) == len && memcmp (name, user, len) == 0)
    return true;
  return parse_u32 (name, len, &n) && n == id;
}

int
sk_userns_subid_find (const char *text, const char *user, uint32_t id, uint32_t *start,
                      uint32_t *count, sk_err_t *err)
{
  unsigned lineno = 0;

  for (const char *line = text; line != NULL && *line != '\0';)
    {
      const char *end = strchr (line, '\n');
      size_t len = end != NULL ? (size_t)(end - line) : strlen (line);
      const char *c1, *c2;

      lineno++;
      c1 = memchr (line, ':', len);
      if (len > 0 && line[0] != '#' && c1 != NULL
          && names_user (line, (size_t)(c1 - line), user, id))
        {
          const char *rest = c1 + 1;
          size_t rest_len = len - (size_t)(rest - line);

          c2 = memchr (rest, ':', rest_len);
          if (c2 == NULL || !parse_u32 (rest, (size_t)(c2 - rest), start)
              || !parse_u32 (c2 + 1, rest_len - (size_t)(c2 + 1 - rest), count) || *count == 0)
            return sk_err_set (err, EINVAL, "line %u: expected `name:start:count`, got `%.*s`",
                               lineno, (int)len, line);
          return 1;
        }
      line = end != NULL ? end + 1 : NULL;
    }
  return 0;
}

/* Root's range in one subid file: 1 found, 0 absent (or no file), -1 error. */
static int
read_root_range (const char *path, uint32_t *start, uint32_t *count, sk_err_t *err)
{
  _cleanup_fclose_ FILE *fp = NULL;
  _cleanup_free_ char *text = NULL;
  size_t cap = 0;
  ssize_t n;
  int r;

  if (path == NULL)
    return 0;
  fp = fopen (path, "re");
  if (fp == NULL)
    {
      if (errno == ENOENT)
        return 0;
      return sk_err_set (err, errno, "open `%s`", path);
    }
  /* getdelim with '\0' reads the whole (small) file. */
  n = getdelim (&text, &cap, '\0', fp);
  if (n < 0)
    return feof (fp) ? 0 : sk_err_set (err, errno, "read `%s`", path);
  r = sk_userns_subid_find (text, "root", 0, start, count, err);
  if (r < 0)
    return sk_err_wrap (err, "`%s`", path);
  return r;
}

static int
check_range (const char *what, uint32_t base, uint32_t size, sk_err_t *err)
{
  if (base == 0)
    return sk_err_set (err, EINVAL,
                       "user namespace %s range starts at host id 0: the container's root "
                       "would be the host's",
                       what);
  if ((uint64_t)base + size > (uint64_t)UINT32_MAX)
    return sk_err_set (err, ERANGE,
                       "user namespace %s range %" PRIu32 "+%" PRIu32 " goes past the last host id",
                       what, base, size);
  return 0;
}

int
sk_userns_map_resolve (int64_t base_override, const char *subuid_path, const char *subgid_path,
                       struct sk_userns_map *out, sk_err_t *err)
{
  uint32_t ustart = 0, ucount = 0, gstart = 0, gcount = 0;
  int has_u, has_g;

  memset (out, 0, sizeof *out);
  if (base_override >= 0)
    {
      if (base_override > UINT32_MAX)
        return sk_err_set (err, ERANGE, "user namespace base %" PRId64 " is not a host id",
                           base_override);
      out->uid_base = out->gid_base = (uint32_t)base_override;
      out->size = SK_USERNS_SIZE;
    }
  else
    {
      has_u = read_root_range (subuid_path, &ustart, &ucount, err);
      if (has_u < 0)
        return -1;
      has_g = read_root_range (subgid_path, &gstart, &gcount, err);
      if (has_g < 0)
        return -1;
      if (has_u && has_g)
        {
          out->uid_base = ustart;
          out->gid_base = gstart;
          out->size = ucount < gcount ? ucount : gcount;
          if (out->size > SK_USERNS_SIZE)
            out->size = SK_USERNS_SIZE;
        }
      else
        {
          out->uid_base = out->gid_base = SK_USERNS_DEFAULT_BASE;
          out->size = SK_USERNS_SIZE;
        }
    }
  if (check_range ("uid", out->uid_base, out->size, err) < 0
      || check_range ("gid", out->gid_base, out->size, err) < 0)
    return -1;
  return 0;
}

int
sk_userns_format_line (const struct sk_userns_map *m, bool gid, char *buf, size_t size)
{
  int n = snprintf (buf, size, "0 %" PRIu32 " %" PRIu32 "\n", gid ? m->gid_base : m->uid_base,
                    m->size);
  return n < 0 || (size_t)n >= size ? -1 : n;
}

/* ---- parent side ------------------------------------------------------- */

static int
write_map (pid_t pid, const char *file, const char *line, sk_err_t *err)
{
  char path[64];
  _cleanup_close_ int fd = -1;
  size_t len = strlen (line);

  snprintf (path, sizeof path, "/proc/%d/%s", (int)pid, file);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", path);
  /* The kernel takes the whole map in one write, or nothing. */
  if (write (fd, line, len) != (ssize_t)len)
    return sk_err_set (err, errno, "write `%.*s` to `%s`", (int)(len - 1), line, path);
  return 0;
}

int
sk_userns_write_maps_from_parent (pid_t pid, const struct sk_userns_map *m, sk_err_t *err)
{
  char line[64];

  if (sk_userns_format_line (m, false, line, sizeof line) < 0
      || write_map (pid, "uid_map", line, err) < 0)
    return -1;
  if (sk_userns_format_line (m, true, line, sizeof line) < 0
      || write_map (pid, "gid_map", line, err) < 0)
    return -1;
  return 0;
}

int
sk_userns_idmap_tree_from_parent (const char *path, int userns_fd, int *out, sk_err_t *err)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd };
  _cleanup_close_ int fd = -1;

  fd = open_tree (AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (fd < 0)
    {
      int saved = errno;
      sk_err_set (err, saved, "open_tree `%s`", path);
      if (saved == ENOSYS)
        sk_err_wrap (err, "ID-mapped mounts need Linux >= 5.12; --userns cannot work here");
      return -1;
    }
  if (mount_setattr (fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    {
      int saved = errno;
      sk_err_set (err, saved, "mount_setattr `%s` idmap", path);
      if (saved == EINVAL || saved == EPERM || saved == ENOSYS)
        sk_err_wrap (err,
                     "the filesystem under `%s` does not support ID-mapped mounts "
                     "(needed by --userns to show image files owned by the container's root)",
                     path);
      return -1;
    }
  *out = steal_fd (&fd);
  return 0;
}

/* Overlay of the mapped layers, top first, each named by its fd through
 * /proc/self/fd (they are detached: no path reaches them). One "lowerdir"
 * string works with the legacy option parser of older kernels as well. */
static int
overlay_of (const struct sk_mount_plan *plan, const int *fds, size_t n, int *out, sk_err_t *err)
{
  _cleanup_close_ int fsfd = -1;
  _cleanup_free_ char *lowerdir = xstrdup ("");
  int mfd;

  for (size_t i = 0; i < n; i++)
    {
      char *joined = xasprintf ("%s%s/proc/self/fd/%d", lowerdir, i > 0 ? ":" : "", fds[i]);
      free (lowerdir);
      lowerdir = joined;
    }
  fsfd = fsopen ("overlay", FSOPEN_CLOEXEC);
  if (fsfd < 0)
    return sk_err_set (err, errno, "fsopen `overlay`%s",
                       errno == ENODEV ? " (overlayfs is not available: modprobe overlay)" : "");
  if (fsconfig (fsfd, FSCONFIG_SET_STRING, "lowerdir", lowerdir, 0) < 0)
    return sk_err_set (err, errno, "fsconfig overlay `lowerdir` (%zu ID-mapped layers)", n);
  if (plan->upper != NULL
      && (fsconfig (fsfd, FSCONFIG_SET_STRING, "upperdir", plan->upper, 0) < 0
          || fsconfig (fsfd, FSCONFIG_SET_STRING, "workdir", plan->work, 0) < 0))
    return sk_err_set (err, errno, "fsconfig overlay `upperdir` `%s`", plan->upper);
  if (fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return sk_err_set (err, errno, "create the overlay of ID-mapped layers for `%s`", plan->merged);
  mfd = fsmount (fsfd, FSMOUNT_CLOEXEC, plan->upper == NULL ? MOUNT_ATTR_RDONLY : 0);
  if (mfd < 0)
    return sk_err_set (err, errno, "fsmount the overlay for `%s`", plan->merged);
  *out = mfd;
  return 0;
}

int
sk_userns_root_from_parent (const struct sk_mount_plan *plan, int userns_fd, int *out,
                            sk_err_t *err)
{
  char *const *paths = plan->lowers != NULL ? plan->lowers : &plan->lower;
  size_t n = 0;
  int *fds;
  int rc = 0;

  if (plan->lowers != NULL)
    while (paths[n] != NULL)
      n++;
  else
    n = plan->lower != NULL ? 1 : 0;
  if (n == 0)
    return sk_err_set (err, EINVAL, "mount plan without a root filesystem");
  fds = xzalloc (n * sizeof *fds);
  for (size_t i = 0; i < n; i++)
    fds[i] = -1;
  for (size_t i = 0; i < n && rc == 0; i++)
    if (sk_userns_idmap_tree_from_parent (paths[i], userns_fd, &fds[i], err) < 0)
      rc = sk_err_wrap (err, "image layer");
  if (rc == 0 && n == 1 && plan->upper == NULL)
    {
      /* The read-only root is the mapped tree itself (made read-only after
       * the pivot, as without a user namespace). */
      *out = fds[0];
      fds[0] = -1;
    }
  else if (rc == 0)
    rc = overlay_of (plan, fds, n, out, err);
  for (size_t i = 0; i < n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  free (fds);
  return rc;
}

/* Add o+x to one directory (never anything else). */
static int
allow_search (const char *dir, sk_err_t *err)
{
  struct stat st;

  if (lstat (dir, &st) < 0)
    return sk_err_set (err, errno, "stat `%s`", dir);
  if (!S_ISDIR (st.st_mode) || (st.st_mode & S_IXOTH))
    return 0;
  if (chmod (dir, (st.st_mode & 07777) | S_IXOTH) < 0)
    return sk_err_set (err, errno, "chmod o+x `%s`", dir);
  return 0;
}

int
sk_userns_open_path (const char *top, const char *path, bool own, const struct sk_userns_map *m,
                     sk_err_t *err)
{
  size_t top_len = strlen (top);
  _cleanup_free_ char *copy = xstrdup (path);

  while (top_len > 1 && top[top_len - 1] == '/')
    top_len--;
  /* Only below top: host directories that are not skiff's stay as they are. */
  if (strncmp (path, top, top_len) == 0 && (path[top_len] == '/' || path[top_len] == '\0'))
    for (char *slash = copy + top_len; slash != NULL; slash = strchr (slash + 1, '/'))
      {
        /* copy[0..slash) is an ancestor of path, top first. */
        char saved = *slash;
        int rc;

        if (saved == '\0')
          break;
        *slash = '\0';
        rc = allow_search (copy, err);
        *slash = saved;
        if (rc < 0)
          return -1;
      }
  if (own)
    {
      struct stat st;
      if (lstat (path, &st) < 0)
        return sk_err_set (err, errno, "stat `%s`", path);
      if (S_ISDIR (st.st_mode) && (st.st_uid != m->uid_base || st.st_gid != m->gid_base)
          && lchown (path, m->uid_base, m->gid_base) < 0)
        return sk_err_set (err, errno, "chown `%s` to %" PRIu32 ":%" PRIu32, path, m->uid_base,
                           m->gid_base);
    }
  return 0;
}

/* ---- child side -------------------------------------------------------- */

int
sk_userns_attach_in_child (int mount_fd, const char *path, struct sk_child_fail *f)
{
  if (move_mount (mount_fd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "move_mount the ID-mapped `%s`", path);
  return 0;
}

int
sk_userns_become_root_in_child (struct sk_child_fail *f)
{
  /* Gid first: after the uid change, CAP_SETGID would still be held (we
   * become the namespace's root), but the order is the usual one. */
  if (setresgid (0, 0, 0) < 0)
    return sk_child_fail (f, SK_PHASE_USER, errno, "setresgid to `0` in the user namespace");
  if (setresuid (0, 0, 0) < 0)
    return sk_child_fail (f, SK_PHASE_USER, errno, "setresuid to `0` in the user namespace");
  return 0;
}
