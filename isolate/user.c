/* Resolve an ECS `user` against the image's etc/passwd and etc/group. */
#include "user.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* passwd/group files of real images are a few KiB; refuse absurd sizes so a
 * hostile image cannot make the launcher read gigabytes. */
#define DB_MAX_BYTES (4u << 20)

void
sk_creds_clear (struct sk_creds *c)
{
  free (c->groups);
  c->groups = NULL;
  c->n_groups = 0;
  c->uid = 0;
  c->gid = 0;
}

/* Open `path` (relative, no leading slash) inside the rootfs. openat2 with
 * RESOLVE_IN_ROOT treats the rootfs as "/" for every symlink and "..", so an
 * etc/passwd -> /etc/shadow link in the image resolves inside the image. On
 * kernels without openat2 fall back to refusing symlinks at every component. */
static int
open_in_root (int rootfs_dirfd, const char *path)
{
  struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  _cleanup_close_ int dir = -1;
  const char *slash;
  int fd;

  fd = (int)syscall (SYS_openat2, rootfs_dirfd, path, &how, sizeof how);
  if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
    return fd;

  slash = strchr (path, '/');
  if (slash != NULL)
    {
      _cleanup_free_ char *first = xstrndup (path, (size_t)(slash - path));
      struct stat st;

      /* O_PATH|O_NOFOLLOW opens a symlink itself: check the type by hand. */
      dir = openat (rootfs_dirfd, first, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (dir < 0 || fstat (dir, &st) < 0)
        return -1;
      if (!S_ISDIR (st.st_mode))
        {
          errno = S_ISLNK (st.st_mode) ? ELOOP : ENOTDIR;
          return -1;
        }
      return open_in_root (dir, slash + 1);
    }
  return openat (rootfs_dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
}

/* Read a whole database file; a missing file is an empty database (minimal
 * images ship none). */
static int
read_db (int rootfs_dirfd, const char *path, char **out, sk_err_t *err)
{
  _cleanup_close_ int fd = open_in_root (rootfs_dirfd, path);
  _cleanup_free_ char *buf = NULL;
  struct stat st;
  size_t len = 0;

  *out = NULL;
  if (fd < 0)
    {
      if (errno == ENOENT)
        {
          *out = xstrdup ("");
          return 0;
        }
      if (errno == ELOOP)
        return sk_err_set (err, 0,
                           "open `/%s` in the image: a symbolic link on the way, which skiff "
                           "does not follow on kernels without openat2",
                           path);
      return sk_err_set (err, errno, "open `/%s` in the image", path);
    }
  if (fstat (fd, &st) < 0)
    return sk_err_set (err, errno, "fstat `/%s` in the image", path);
  if (!S_ISREG (st.st_mode))
    return sk_err_set (err, 0, "`/%s` in the image is not a regular file", path);
  if ((uintmax_t)st.st_size > DB_MAX_BYTES)
    return sk_err_set (err, EFBIG, "read `/%s` in the image", path);

  buf = xmalloc ((size_t)st.st_size + 1);
  while (len < (size_t)st.st_size)
    {
      ssize_t n = read (fd, buf + len, (size_t)st.st_size - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return sk_err_set (err, errno, "read `/%s` in the image", path);
      if (n == 0)
        break;
      len += (size_t)n;
    }
  buf[len] = '\0';
  *out = steal_pointer (&buf);
  return 0;
}

/* Split one line in place on ':' into at most max fields; returns the count. */
static size_t
split_fields (char *line, char **fields, size_t max)
{
  size_t n = 0;

  fields[n++] = line;
  for (char *p = line; *p != '\0' && n < max; p++)
    if (*p == ':')
      {
        *p = '\0';
        fields[n++] = p + 1;
      }
  return n;
}

/* Strict decimal id: digits only, below (uid_t) -1, which means "no change"
 * to the set*id calls. */
static bool
parse_id (const char *s, unsigned *out)
{
  unsigned long long v = 0;

  if (*s == '\0' || strlen (s) > 10)
    return false;
  for (const char *p = s; *p; p++)
    {
      if (!isdigit ((unsigned char)*p))
        return false;
      v = v * 10 + (unsigned)(*p - '0');
    }
  if (v >= UINT32_MAX)
    return false;
  *out = (unsigned)v;
  return true;
}

struct pw_entry
{
  bool found;
  unsigned uid;
  unsigned gid;
  char *name; /* allocated */
  char *home; /* allocated, NULL when empty */
};

static void
pw_entry_clear (struct pw_entry *pw)
{
  free (pw->name);
  free (pw->home);
  memset (pw, 0, sizeof *pw);
}

/* Find a passwd entry by name (when name != NULL) or by uid; the first match
 * wins, as getpwnam does. Lines that do not parse are skipped. */
static void
find_passwd (const char *db, const char *name, unsigned uid, struct pw_entry *pw)
{
  _cleanup_free_ char *copy = xstrdup (db);
  char *save = NULL;

  memset (pw, 0, sizeof *pw);
  for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[7];
      size_t n;
      unsigned u, g;

      if (line[0] == '#' || (n = split_fields (line, f, 7)) < 4)
        continue;
      if (!parse_id (f[2], &u) || !parse_id (f[3], &g))
        continue;
      if (name != NULL ? strcmp (f[0], name) != 0 : u != uid)
        continue;
      pw->found = true;
      pw->name = xstrdup (f[0]);
      pw->uid = u;
      pw->gid = g;
      pw->home = (n >= 6 && f[5][0] != '\0') ? xstrdup (f[5]) : NULL;
      return;
    }
}

/* gid of the group called name; false when absent. */
static bool
find_group_by_name (const char *db, const char *name, unsigned *gid)
{
  _cleanup_free_ char *copy = xstrdup (db);
  char *save = NULL;

  for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[4];

      if (line[0] == '#' || split_fields (line, f, 4) < 3)
        continue;
      if (strcmp (f[0], name) == 0 && parse_id (f[2], gid))
        return true;
    }
  return false;
}

static void
add_group (struct sk_creds *c, gid_t gid)
{
  for (size_t i = 0; i < c->n_groups; i++)
    if (c->groups[i] == gid)
      return;
  c->groups = xreallocarray (c->groups, c->n_groups + 1, sizeof *c->groups);
  c->groups[c->n_groups++] = gid;
}

/* Every group whose member list (4th field, comma separated) names user. */
static void
collect_member_groups (const char *db, const char *user, struct sk_creds *c)
{
  _cleanup_free_ char *copy = xstrdup (db);
  char *save = NULL;

  for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[4], *msave = NULL;
      unsigned gid;

      if (line[0] == '#' || split_fields (line, f, 4) < 4 || !parse_id (f[2], &gid))
        continue;
      for (char *m = strtok_r (f[3], ",", &msave); m; m = strtok_r (NULL, ",", &msave))
        if (strcmp (m, user) == 0)
          {
            add_group (c, (gid_t)gid);
            break;
          }
    }
}

static int
resolve_user_part (const char *passwd, const char *user, struct pw_entry *pw, sk_err_t *err)
{
  unsigned uid;

  if (parse_id (user, &uid))
    {
      /* A numeric uid need not exist in the image (Docker allows it). */
      find_passwd (passwd, NULL, uid, pw);
      if (!pw->found)
        {
          pw->uid = uid;
          pw->gid = 0;
        }
      return 0;
    }
  if (user[0] == '\0')
    return sk_err_set (err, 0, "user: empty user name");
  find_passwd (passwd, user, 0, pw);
  if (!pw->found)
    return sk_err_set (err, 0, "user `%s`: no such user in the image's /etc/passwd", user);
  return 0;
}

int
sk_user_resolve (int rootfs_dirfd, const char *spec, struct sk_creds *out, char **home,
                 sk_err_t *err)
{
  _cleanup_free_ char *passwd = NULL, *group = NULL, *user = NULL;
  const char *group_part = NULL, *colon;
  struct pw_entry pw = { 0 };
  unsigned gid;

  *home = NULL;
  out->n_groups = 0;
  out->groups = NULL;
  if (spec == NULL || spec[0] == '\0')
    spec = "0";
  colon = strchr (spec, ':');
  if (colon != NULL)
    {
      user = xstrndup (spec, (size_t)(colon - spec));
      group_part = colon + 1;
      if (group_part[0] == '\0' || strchr (group_part, ':') != NULL)
        return sk_err_set (err, 0, "user `%s`: expected user, user:group, uid or uid:gid", spec);
    }
  else
    user = xstrdup (spec);

  if (read_db (rootfs_dirfd, "etc/passwd", &passwd, err) < 0
      || read_db (rootfs_dirfd, "etc/group", &group, err) < 0)
    return -1;
  if (resolve_user_part (passwd, user, &pw, err) < 0)
    return -1;

  gid = pw.gid;
  if (group_part != NULL && !parse_id (group_part, &gid)
      && !find_group_by_name (group, group_part, &gid))
    {
      pw_entry_clear (&pw);
      return sk_err_set (err, 0, "group `%s`: no such group in the image's /etc/group", group_part);
    }

  out->uid = (uid_t)pw.uid;
  out->gid = (gid_t)gid;
  add_group (out, (gid_t)gid);
  if (pw.found)
    collect_member_groups (group, pw.name, out);
  *home = xstrdup (pw.home ? pw.home : "/");
  pw_entry_clear (&pw);
  return 0;
}
