/* Path resolution confined to a root directory fd. See safepath.h. */
#include "safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* Set once openat2 answered ENOSYS, or by the tests. */
static bool openat2_unavailable;

void
sk_safe_force_fallback (bool on)
{
  openat2_unavailable = on;
}

void
sk_safe_fd_path (char buf[SK_SAFE_FD_PATH_MAX], int fd)
{
  snprintf (buf, SK_SAFE_FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

int
sk_safe_path_clean (const char *path, char *out, size_t out_size)
{
  size_t len = 0;
  const char *p = path;

  if (out_size == 0)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  out[0] = '\0';
  while (*p != '\0')
    {
      const char *end;
      size_t n;

      while (*p == '/')
        p++;
      end = strchrnul (p, '/');
      n = (size_t)(end - p);
      if (n == 0 || (n == 1 && p[0] == '.'))
        ; /* nothing to add */
      else if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          /* Pop the last component; at the root ".." stays at the root. */
          char *slash = len > 0 ? memrchr (out, '/', len) : NULL;
          len = slash != NULL ? (size_t)(slash - out) : 0;
          out[len] = '\0';
        }
      else
        {
          size_t need = len + (len > 0 ? 1 : 0) + n + 1;
          if (need > out_size)
            {
              errno = ENAMETOOLONG;
              return -1;
            }
          if (len > 0)
            out[len++] = '/';
          memcpy (out + len, p, n);
          len += n;
          out[len] = '\0';
        }
      p = end;
    }
  return 0;
}

/* Userspace fallback: one component at a time with O_NOFOLLOW, refusing any
 * symlink. rel is already clean (no "..", no empty components). */
static int
walk_without_symlinks (int rootfd, const char *rel, unsigned flags)
{
  char name[NAME_MAX + 1];
  const char *p = rel;
  int cur = openat (rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

  while (cur >= 0 && *p != '\0')
    {
      const char *end = strchrnul (p, '/');
      size_t n = (size_t)(end - p);
      struct stat st;
      int next;

      if (n > NAME_MAX)
        {
          close (cur);
          errno = ENAMETOOLONG;
          return -1;
        }
      memcpy (name, p, n);
      name[n] = '\0';
      next = openat (cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      close (cur);
      if (next < 0)
        return -1;
      if (fstat (next, &st) < 0)
        {
          int saved = errno;
          close (next);
          errno = saved;
          return -1;
        }
      p = *end == '/' ? end + 1 : end;
      if (S_ISLNK (st.st_mode) || ((*p != '\0' || (flags & SK_SAFE_DIR)) && !S_ISDIR (st.st_mode)))
        {
          close (next);
          errno = S_ISLNK (st.st_mode) ? ELOOP : ENOTDIR;
          return -1;
        }
      cur = next;
    }
  return cur;
}

/* Open the clean relative path rel ("" is the root itself). */
static int
open_in_root (int rootfd, const char *rel, unsigned flags)
{
  const char *target = rel[0] == '\0' ? "." : rel;

  if (!openat2_unavailable)
    {
      struct open_how how = {
        .flags = O_PATH | O_CLOEXEC | ((flags & SK_SAFE_DIR) ? O_DIRECTORY : 0),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
                   | ((flags & SK_SAFE_NO_SYMLINKS) ? RESOLVE_NO_SYMLINKS : 0),
      };
      int fd = (int)syscall (SYS_openat2, rootfd, target, &how, sizeof how);
      if (fd >= 0 || errno != ENOSYS)
        return fd;
      openat2_unavailable = true;
    }
  return walk_without_symlinks (rootfd, rel, flags);
}

/* Create the last component of rel (a directory, or an empty file) in its
 * parent, itself resolved inside the root. An existing entry is fine: the
 * caller resolves the whole path again afterwards. */
static int
create_component (int rootfd, char *rel, size_t len, bool as_file)
{
  char *slash = memrchr (rel, '/', len);
  const char *name = slash != NULL ? slash + 1 : rel;
  int parent, rc;

  if (slash != NULL)
    *slash = '\0';
  parent = open_in_root (rootfd, slash != NULL ? rel : "", SK_SAFE_DIR);
  if (slash != NULL)
    *slash = '/';
  if (parent < 0)
    return -1;
  if (as_file)
    {
      int fd = openat (parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      rc = fd < 0 ? -1 : close (fd);
    }
  else
    rc = mkdirat (parent, name, 0755);
  if (rc < 0 && errno == EEXIST)
    rc = 0;
  if (rc < 0)
    {
      int saved = errno;
      close (parent);
      errno = saved;
      return -1;
    }
  close (parent);
  return 0;
}

/* Max dangling-symlink hops sk_safe_open creates through. */
#define MAX_DANGLING_HOPS 8

/* The component rel[0..end) exists but resolves to nothing: it is a
 * dangling symlink (an image's /etc/resolv.conf -> /run/...). Rewrite the
 * path through its target into out, so the target gets created instead,
 * still inside the root. Returns 0, or -1 with errno (ENOENT when it is not
 * a symlink). */
static int
through_dangling_link (int rootfd, const char *rel, size_t end, char *out, size_t out_size)
{
  static char target[PATH_MAX], parent_path[PATH_MAX];
  const char *slash = memrchr (rel, '/', end);
  size_t parent_len = slash != NULL ? (size_t)(slash - rel) : 0;
  const char *name = slash != NULL ? slash + 1 : rel;
  ssize_t n;
  int parent, len;

  memcpy (parent_path, rel, parent_len);
  parent_path[parent_len] = '\0';
  parent = open_in_root (rootfd, parent_path, SK_SAFE_DIR);
  if (parent < 0)
    return -1;
  n = readlinkat (parent, name, target, sizeof target - 1);
  close (parent);
  if (n < 0)
    {
      errno = errno == EINVAL ? ENOENT : errno;
      return -1;
    }
  target[n] = '\0';
  /* Absolute targets are relative to the root (RESOLVE_IN_ROOT's rule),
   * relative ones to the link's directory; clean() then bounds "..". */
  len = snprintf (out, out_size, "%s/%s/%s", target[0] == '/' ? "" : parent_path, target,
                  rel[end] != '\0' ? rel + end + 1 : "");
  if (len < 0 || (size_t)len >= out_size)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  return 0;
}

/* One pass of sk_safe_open. On a dangling link it writes the rewritten path
 * into via and sets *redirect instead of failing. */
static int
open_or_create (int rootfd, const char *path, unsigned flags, char *via, size_t via_size,
                bool *redirect)
{
  char rel[PATH_MAX];
  size_t len, end;
  int fd;

  if (sk_safe_path_clean (path, rel, sizeof rel) < 0)
    return -1;
  fd = open_in_root (rootfd, rel, flags);
  if (fd >= 0 || errno != ENOENT || !(flags & (SK_SAFE_MKDIR | SK_SAFE_MKFILE)))
    return fd;

  /* Walk the prefixes from the root down: open each one inside the root, and
   * create it in its (already resolved) parent when it is missing. Each
   * prefix is resolved from rootfd again, so a component that a symlink
   * redirects still lands inside the root. */
  len = strlen (rel);
  for (end = 0; end <= len; end++)
    {
      bool last = end == len;
      unsigned want = last ? flags : (SK_SAFE_DIR | (flags & SK_SAFE_NO_SYMLINKS));
      char saved;

      if (!last && rel[end] != '/')
        continue;
      saved = rel[end];
      rel[end] = '\0';
      fd = open_in_root (rootfd, rel, want);
      if (fd < 0 && errno == ENOENT)
        {
          if (create_component (rootfd, rel, end, last && (flags & SK_SAFE_MKFILE)) == 0)
            fd = open_in_root (rootfd, rel, want);
        }
      rel[end] = saved;
      if (fd < 0 && errno == ENOENT && !(flags & SK_SAFE_NO_SYMLINKS) && !openat2_unavailable)
        {
          /* Still missing after "creating" it: a dangling link. */
          if (through_dangling_link (rootfd, rel, end, via, via_size) < 0)
            return -1;
          *redirect = true;
          return -1;
        }
      if (fd < 0)
        return -1;
      if (!last)
        close (fd);
    }
  return fd;
}

int
sk_safe_open (int rootfd, const char *path, unsigned flags)
{
  /* Static, not on the stack: the child may run on a small clone stack. */
  static char via[PATH_MAX];
  int hops;

  for (hops = 0;; hops++)
    {
      bool redirect = false;
      int fd = open_or_create (rootfd, path, flags, via, sizeof via, &redirect);

      if (!redirect)
        return fd;
      if (hops >= MAX_DANGLING_HOPS)
        {
          errno = ELOOP;
          return -1;
        }
      path = via;
    }
}
