/* Layer extraction. The archive only ever names paths; we turn each into a
 * (parent directory fd, final name) pair by walking from the layer's root
 * fd with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), then act with the
 * *at() calls on that pair. A hostile archive can therefore not reach
 * outside the directory: '..' and absolute names are refused outright, and
 * a symlink met on the way (planted by an earlier entry) fails the walk. */
#include "layer.h"
#include "imagelibs.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_MARKER ".wh..wh..opq"

/* Without openat2 (Linux < 5.6, valgrind): one component at a time, none
 * of them followed if it is a symlink. Paths here are normalized: no "..",
 * no leading '/'. */
static int
open_walk_nofollow (int dirfd, const char *path, int flags)
{
  _cleanup_free_ char *copy = xstrdup (path);
  char *save = NULL, *comp, *next;
  int cur = fcntl (dirfd, F_DUPFD_CLOEXEC, 3);

  if (cur < 0)
    return -1;
  for (comp = strtok_r (copy, "/", &save); comp != NULL; comp = next)
    {
      int fd;
      next = strtok_r (NULL, "/", &save);
      fd = openat (cur, comp,
                   next != NULL ? O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
                                : flags | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        {
          int e = errno;
          close (cur);
          errno = e;
          return -1;
        }
      close (cur);
      cur = fd;
    }
  return cur;
}

static int
openat2_beneath (int dirfd, const char *path, int flags)
{
  static bool no_openat2;
  struct open_how how = {
    .flags = (uint64_t)(flags | O_CLOEXEC),
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  int fd;

  if (!no_openat2)
    {
      fd = (int)syscall (SYS_openat2, dirfd, path, &how, sizeof how);
      if (fd >= 0 || errno != ENOSYS)
        return fd;
      no_openat2 = true;
    }
  return open_walk_nofollow (dirfd, path, flags);
}

/* "./a//b/c" -> "a/b/c"; refuses absolute names and "..". Empty result for
 * the root itself. */
static int
normalize (const char *raw, char **out, sk_err_t *err)
{
  size_t n = strlen (raw);
  char *norm = xzalloc (n + 1);
  size_t len = 0;
  const char *p = raw;

  if (raw[0] == '/')
    {
      free (norm);
      return sk_err_set (err, EPERM, "layer entry `%s`: absolute path refused", raw);
    }
  while (*p != '\0')
    {
      const char *end = strchr (p, '/');
      size_t clen = end != NULL ? (size_t)(end - p) : strlen (p);

      if (clen == 2 && p[0] == '.' && p[1] == '.')
        {
          free (norm);
          return sk_err_set (err, EPERM, "layer entry `%s`: `..` refused", raw);
        }
      if (clen > 0 && !(clen == 1 && p[0] == '.'))
        {
          if (len > 0)
            norm[len++] = '/';
          memcpy (norm + len, p, clen);
          len += clen;
        }
      p += clen;
      if (*p == '/')
        p++;
    }
  norm[len] = '\0';
  *out = norm;
  return 0;
}

/* Open (creating as needed) the directory `dir` below root, symlink-free. */
static int
open_parent (int rootfd, const char *dir, const char *entry, sk_err_t *err)
{
  _cleanup_free_ char *copy = NULL;
  int cur, fd;
  char *save = NULL, *comp;

  if (dir[0] == '\0')
    {
      fd = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
      return fd < 0 ? sk_err_set (err, errno, "dup layer root") : fd;
    }
  fd = openat2_beneath (rootfd, dir, O_PATH | O_DIRECTORY);
  if (fd >= 0)
    return fd;
  if (errno == ELOOP || errno == EXDEV || errno == ENOTDIR)
    return sk_err_set (err, EPERM,
                       "layer entry `%s`: its directory is a symlink or not a "
                       "directory (refused: it could lead outside the layer)",
                       entry);
  if (errno != ENOENT)
    return sk_err_set (err, errno, "layer entry `%s`: open `%s`", entry, dir);

  copy = xstrdup (dir);
  cur = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
  if (cur < 0)
    return sk_err_set (err, errno, "dup layer root");
  for (comp = strtok_r (copy, "/", &save); comp != NULL; comp = strtok_r (NULL, "/", &save))
    {
      if (mkdirat (cur, comp, 0755) < 0 && errno != EEXIST)
        {
          int e = errno;
          close (cur);
          return sk_err_set (err, e, "layer entry `%s`: mkdir `%s`", entry, comp);
        }
      fd = openat2_beneath (cur, comp, O_PATH | O_DIRECTORY);
      close (cur);
      if (fd < 0)
        return sk_err_set (err, errno == ELOOP || errno == ENOTDIR ? EPERM : errno,
                           "layer entry `%s`: `%s` is a symlink or not a directory (refused)",
                           entry, comp);
      cur = fd;
    }
  return cur;
}

int
sk_rm_tree_at (int parentfd, const char *name, sk_err_t *err)
{
  struct stat st;
  int fd;
  DIR *d;
  struct dirent *de;

  if (fstatat (parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : sk_err_set (err, errno, "stat `%s`", name);
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (parentfd, name, 0) < 0 && errno != ENOENT)
        return sk_err_set (err, errno, "unlink `%s`", name);
      return 0;
    }
  fd = openat (parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", name);
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return sk_err_set (err, errno, "fdopendir `%s`", name);
    }
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (sk_rm_tree_at (dirfd (d), de->d_name, err) < 0)
        {
          closedir (d);
          return sk_err_wrap (err, "remove `%s`", name);
        }
    }
  closedir (d);
  if (unlinkat (parentfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return sk_err_set (err, errno, "rmdir `%s`", name);
  return 0;
}

/* Only extended attributes that are safe to take from an image: user.* and
 * file capabilities. trusted.overlay.* would let a layer forge whiteouts
 * or redirects, so it is never copied. */
static void
apply_xattrs (const struct sk_archive_lib *ar, struct archive_entry *e, int fd)
{
  const char *name;
  const void *value;
  size_t size;

  ar->archive_entry_xattr_reset (e);
  while (ar->archive_entry_xattr_next (e, &name, &value, &size) == ARCHIVE_OK)
    {
      if (strncmp (name, "user.", 5) != 0 && strcmp (name, "security.capability") != 0)
        continue;
      /* Best effort: a filesystem without xattrs still gets the layer. */
      (void)fsetxattr (fd, name, value, size, 0);
    }
}

static void
apply_times (const struct sk_archive_lib *ar, struct archive_entry *e, int parent, const char *base)
{
  struct timespec ts[2];

  ts[0].tv_sec = ts[1].tv_sec = ar->archive_entry_mtime (e);
  ts[0].tv_nsec = ts[1].tv_nsec = ar->archive_entry_mtime_nsec (e);
  (void)utimensat (parent, base, ts, AT_SYMLINK_NOFOLLOW);
}

/* Metadata on an open fd (regular files, directories): owner first, since
 * chown clears set-id bits and file capabilities. */
static int
apply_meta_fd (const struct sk_archive_lib *ar, struct archive_entry *e, int fd, const char *path,
               sk_err_t *err)
{
  if (fchown (fd, (uid_t)ar->archive_entry_uid (e), (gid_t)ar->archive_entry_gid (e)) < 0
      && errno != EPERM && errno != EINVAL)
    return sk_err_set (err, errno, "chown `%s`", path);
  if (fchmod (fd, ar->archive_entry_perm (e) & 07777) < 0)
    return sk_err_set (err, errno, "chmod `%s`", path);
  apply_xattrs (ar, e, fd);
  return 0;
}

static int
write_file (const struct sk_archive_lib *ar, struct archive *a, struct archive_entry *e, int parent,
            const char *base, const char *path, struct sk_layer_stats *stats, sk_err_t *err)
{
  _cleanup_close_ int fd = -1;
  const void *buf;
  size_t size;
  la_int64_t offset;
  int r;

  fd = openat (parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return sk_err_set (err, errno, "create `%s`", path);
  while ((r = ar->archive_read_data_block (a, &buf, &size, &offset)) == ARCHIVE_OK)
    {
      const char *p = buf;
      while (size > 0)
        {
          ssize_t n = pwrite (fd, p, size, (off_t)offset);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            return sk_err_set (err, errno, "write `%s`", path);
          p += n;
          size -= (size_t)n;
          offset += n;
          stats->bytes += (uint64_t)n;
        }
    }
  if (r != ARCHIVE_EOF)
    return sk_err_set (err, ar->archive_errno (a) > 0 ? ar->archive_errno (a) : EIO,
                       "read `%s`: %s", path,
                       ar->archive_error_string (a) ? ar->archive_error_string (a) : "bad data");
  /* Sparse files end in a hole the blocks do not cover. */
  if (ftruncate (fd, (off_t)ar->archive_entry_size (e)) < 0)
    return sk_err_set (err, errno, "truncate `%s`", path);
  if (apply_meta_fd (ar, e, fd, path, err) < 0)
    return -1;
  return 0;
}

static int
make_dir (const struct sk_archive_lib *ar, struct archive_entry *e, int parent, const char *base,
          const char *path, sk_err_t *err)
{
  _cleanup_close_ int fd = -1;

  if (mkdirat (parent, base, 0700) < 0 && errno != EEXIST)
    return sk_err_set (err, errno, "mkdir `%s`", path);
  fd = openat2_beneath (parent, base, O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return sk_err_set (err, errno == ELOOP ? EPERM : errno, "open directory `%s`", path);
  return apply_meta_fd (ar, e, fd, path, err);
}

static int
make_hardlink (const struct sk_archive_lib *ar, int rootfd, struct archive_entry *e, int parent,
               const char *base, const char *path, sk_err_t *err)
{
  _cleanup_free_ char *target = NULL;
  _cleanup_close_ int tparent = -1;
  const char *tbase, *slash;
  _cleanup_free_ char *tdir = NULL;

  if (normalize (ar->archive_entry_hardlink (e), &target, err) < 0)
    return sk_err_wrap (err, "hardlink `%s`", path);
  if (target[0] == '\0')
    return sk_err_set (err, EPERM, "hardlink `%s` to the layer root refused", path);
  slash = strrchr (target, '/');
  tdir = slash != NULL ? xstrndup (target, (size_t)(slash - target)) : xstrdup ("");
  tbase = slash != NULL ? slash + 1 : target;
  if (tdir[0] == '\0')
    tparent = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
  else
    tparent = openat2_beneath (rootfd, tdir, O_PATH | O_DIRECTORY);
  if (tparent < 0)
    return sk_err_set (err, errno == ELOOP || errno == EXDEV ? EPERM : errno,
                       "hardlink `%s` -> `%s`: the target must be inside the layer, reached "
                       "without symlinks",
                       path, target);
  if (linkat (tparent, tbase, parent, base, 0) < 0)
    return sk_err_set (err, errno, "hardlink `%s` -> `%s`", path, target);
  return 0;
}

static int
extract_entry (const struct sk_archive_lib *ar, struct archive *a, struct archive_entry *e,
               int rootfd, struct sk_layer_stats *stats, sk_err_t *err)
{
  _cleanup_free_ char *path = NULL;
  _cleanup_free_ char *dir = NULL;
  _cleanup_close_ int parent = -1;
  const char *raw = ar->archive_entry_pathname (e);
  const char *base, *slash;
  mode_t type = ar->archive_entry_filetype (e);
  struct stat st;
  bool exists;

  if (raw == NULL)
    return sk_err_set (err, EINVAL, "layer entry without a name");
  if (normalize (raw, &path, err) < 0)
    return -1;
  if (path[0] == '\0')
    return 0; /* "./": the layer root itself, ours already */
  if (strlen (path) >= PATH_MAX)
    return sk_err_set (err, ENAMETOOLONG, "layer entry `%.64s...`", path);
  slash = strrchr (path, '/');
  dir = slash != NULL ? xstrndup (path, (size_t)(slash - path)) : xstrdup ("");
  base = slash != NULL ? slash + 1 : path;
  parent = open_parent (rootfd, dir, path, err);
  if (parent < 0)
    return -1;
  stats->entries++;

  if (strcmp (base, OPAQUE_MARKER) == 0)
    {
      _cleanup_close_ int dfd = openat (parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0 || fsetxattr (dfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
        return sk_err_set (err, errno, "mark `%s` opaque (trusted.overlay.opaque)",
                           dir[0] ? dir : "/");
      stats->whiteouts++;
      return 0;
    }
  if (strncmp (base, WHITEOUT_PREFIX, strlen (WHITEOUT_PREFIX)) == 0)
    {
      const char *victim = base + strlen (WHITEOUT_PREFIX);
      if (victim[0] == '\0' || strcmp (victim, ".") == 0 || strcmp (victim, "..") == 0)
        return sk_err_set (err, EPERM, "layer entry `%s`: invalid whiteout", path);
      if (sk_rm_tree_at (parent, victim, err) < 0)
        return -1;
      if (mknodat (parent, victim, S_IFCHR | 0000, makedev (0, 0)) < 0)
        return sk_err_set (err, errno, "whiteout `%s` (mknod 0/0)", path);
      stats->whiteouts++;
      return 0;
    }

  /* A later entry replaces an earlier one, except directory over directory. */
  exists = fstatat (parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (exists && !(type == AE_IFDIR && S_ISDIR (st.st_mode)))
    if (sk_rm_tree_at (parent, base, err) < 0)
      return -1;

  if (ar->archive_entry_hardlink (e) != NULL)
    return make_hardlink (ar, rootfd, e, parent, base, path, err);

  switch (type)
    {
    case AE_IFREG:
      if (write_file (ar, a, e, parent, base, path, stats, err) < 0)
        return -1;
      break;
    case AE_IFDIR:
      if (make_dir (ar, e, parent, base, path, err) < 0)
        return -1;
      break;
    case AE_IFLNK:
      {
        const char *target = ar->archive_entry_symlink (e);
        /* The target is only text here; it is resolved inside the
         * container's root at run time, and our own walks never follow it. */
        if (target == NULL || symlinkat (target, parent, base) < 0)
          return sk_err_set (err, target ? errno : EINVAL, "symlink `%s`", path);
        if (fchownat (parent, base, (uid_t)ar->archive_entry_uid (e),
                      (gid_t)ar->archive_entry_gid (e), AT_SYMLINK_NOFOLLOW)
            < 0)
          return sk_err_set (err, errno, "chown `%s`", path);
        break;
      }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      if (mknodat (parent, base, type | (ar->archive_entry_perm (e) & 07777),
                   ar->archive_entry_rdev (e))
          < 0)
        {
          if (errno == EPERM)
            return 0; /* no CAP_MKNOD (user namespace): devices come from /dev anyway */
          return sk_err_set (err, errno, "mknod `%s`", path);
        }
      if (fchownat (parent, base, (uid_t)ar->archive_entry_uid (e),
                    (gid_t)ar->archive_entry_gid (e), AT_SYMLINK_NOFOLLOW)
          < 0)
        return sk_err_set (err, errno, "chown `%s`", path);
      break;
    default:
      return 0; /* sockets and the like: nothing to extract */
    }
  apply_times (ar, e, parent, base);
  return 0;
}

int
sk_layer_extract (int archive_fd, int dest_dirfd, struct sk_layer_stats *stats, sk_err_t *err)
{
  struct archive *a;
  struct archive_entry *e;
  struct sk_layer_stats local = { 0 };
  const struct sk_archive_lib *ar;
  int r, ret = 0;

  if (sk_archive_load (&ar, err) < 0)
    return -1;
  if (stats == NULL)
    stats = &local;
  memset (stats, 0, sizeof *stats);
  a = ar->archive_read_new ();
  if (a == NULL)
    return sk_err_set (err, ENOMEM, "archive_read_new");
  ar->archive_read_support_filter_gzip (a);
  ar->archive_read_support_filter_zstd (a);
  ar->archive_read_support_filter_xz (a);
  ar->archive_read_support_filter_bzip2 (a);
  ar->archive_read_support_format_tar (a);
  ar->archive_read_support_format_gnutar (a);
  if (ar->archive_read_open_fd (a, archive_fd, 1 << 16) != ARCHIVE_OK)
    {
      ret = sk_err_set (err, ar->archive_errno (a) > 0 ? ar->archive_errno (a) : EINVAL,
                        "open layer archive: %s", ar->archive_error_string (a));
      goto out;
    }
  for (;;)
    {
      r = ar->archive_read_next_header (a, &e);
      if (r == ARCHIVE_EOF)
        break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        {
          ret = sk_err_set (err, ar->archive_errno (a) > 0 ? ar->archive_errno (a) : EINVAL,
                            "read layer archive: %s", ar->archive_error_string (a));
          goto out;
        }
      if (extract_entry (ar, a, e, dest_dirfd, stats, err) < 0)
        {
          ret = -1;
          goto out;
        }
    }
out:
  ar->archive_read_free (a);
  return ret;
}
