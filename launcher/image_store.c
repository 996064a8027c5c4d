/* The image store: blobs, unpacked layers, refs and the locks that make it
 * safe to share (layout in image_store.h, docs/images.md). */
#include "image_store.h"
#include "image_manifest.h"
#include "image_ref.h"
#include "layer.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SMALL_BLOB_MAX (4u * 1024u * 1024u)

static const char *const store_dirs[]
    = { "blobs", "blobs/sha256", "layers", "layers/sha256", "images",
        "refs",  "locks",        "tmp",    "views" };

static const char *
hex_of (const char *digest)
{
  return digest + 7;
}

static int
mkdir_p (const char *path, sk_err_t *err)
{
  _cleanup_free_ char *copy = xstrdup (path);

  for (char *p = copy + 1; *p != '\0'; p++)
    if (*p == '/')
      {
        *p = '\0';
        if (mkdir (copy, 0755) < 0 && errno != EEXIST)
          return sk_err_set (err, errno, "mkdir `%s`", copy);
        *p = '/';
      }
  if (mkdir (copy, 0700) < 0 && errno != EEXIST)
    return sk_err_set (err, errno, "mkdir `%s`", copy);
  return 0;
}

int
sk_store_open (const char *root, struct sk_store *s, sk_err_t *err)
{
  const char *override = getenv ("SKIFF_IMAGE_STORE");

  s->dirfd = -1;
  s->lock_fd = -1;
  s->dir
      = override != NULL && override[0] == '/' ? xstrdup (override) : xasprintf ("%s/images", root);
  if (mkdir_p (s->dir, err) < 0)
    goto fail;
  s->dirfd = open (s->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (s->dirfd < 0)
    {
      sk_err_set (err, errno, "open image store `%s`", s->dir);
      goto fail;
    }
  for (size_t i = 0; i < SK_ARRAY_SIZE (store_dirs); i++)
    if (mkdirat (s->dirfd, store_dirs[i], 0700) < 0 && errno != EEXIST)
      {
        sk_err_set (err, errno, "mkdir `%s/%s`", s->dir, store_dirs[i]);
        goto fail;
      }
  s->lock_fd = openat (s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s->lock_fd < 0)
    {
      sk_err_set (err, errno, "open `%s/lock`", s->dir);
      goto fail;
    }
  return 0;
fail:
  sk_store_close (s);
  return -1;
}

void
sk_store_close (struct sk_store *s)
{
  if (s->lock_fd >= 0)
    close (s->lock_fd);
  if (s->dirfd >= 0)
    close (s->dirfd);
  free (s->dir);
  s->dir = NULL;
  s->dirfd = s->lock_fd = -1;
}

int
sk_store_lock (struct sk_store *s, bool exclusive, sk_err_t *err)
{
  while (flock (s->lock_fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
    if (errno != EINTR)
      return sk_err_set (err, errno, "flock `%s/lock`", s->dir);
  return 0;
}

void
sk_store_unlock (struct sk_store *s)
{
  (void)flock (s->lock_fd, LOCK_UN);
}

/* ---- blobs ------------------------------------------------------------------ */

char *
sk_store_blob_path (const struct sk_store *s, const char *digest)
{
  return xasprintf ("%s/blobs/sha256/%s", s->dir, hex_of (digest));
}

int
sk_blob_begin (struct sk_store *s, struct sk_blob_writer *w, sk_err_t *err)
{
  memset (w, 0, sizeof *w);
  w->fd = -1;
  if (sk_sha256_new (&w->hash, err) < 0)
    return -1;
  for (int attempt = 0; attempt < 100; attempt++)
    {
      free (w->tmp_name);
      w->tmp_name = xasprintf ("tmp/blob-%d-%08x", (int)getpid (), (unsigned)random ());
      w->fd = openat (s->dirfd, w->tmp_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (w->fd >= 0 || errno != EEXIST)
        break;
    }
  if (w->fd < 0)
    {
      int e = errno;
      /* The last name tried is not ours: abort must not unlink it. */
      free (w->tmp_name);
      w->tmp_name = NULL;
      sk_blob_abort (s, w);
      return sk_err_set (err, e, "create a temporary file in `%s/tmp`", s->dir);
    }
  return 0;
}

int
sk_blob_write (struct sk_blob_writer *w, const void *data, size_t len, sk_err_t *err)
{
  const char *p = data;
  size_t left = len;

  while (left > 0)
    {
      ssize_t n = write (w->fd, p, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == ENOSPC || errno == EDQUOT))
        return sk_err_set (err, errno,
                           "write blob: the disk holding the image store is full: free space, "
                           "or remove unused images with `skiff image prune -a`");
      if (n < 0)
        return sk_err_set (err, errno, "write blob");
      p += n;
      left -= (size_t)n;
    }
  sk_sha256_update (w->hash, data, len);
  w->size += len;
  return 0;
}

int
sk_blob_rewind (struct sk_blob_writer *w, sk_err_t *err)
{
  char ignored[SK_DIGEST_LEN + 1];

  if (ftruncate (w->fd, 0) < 0 || lseek (w->fd, 0, SEEK_SET) < 0)
    return sk_err_set (err, errno, "truncate blob");
  sk_sha256_finish (w->hash, ignored);
  w->hash = NULL;
  if (sk_sha256_new (&w->hash, err) < 0)
    return -1;
  w->size = 0;
  return 0;
}

void
sk_blob_abort (struct sk_store *s, struct sk_blob_writer *w)
{
  char ignored[SK_DIGEST_LEN + 1];

  if (w->hash != NULL)
    sk_sha256_finish (w->hash, ignored);
  if (w->fd >= 0)
    close (w->fd);
  if (w->tmp_name != NULL)
    (void)unlinkat (s->dirfd, w->tmp_name, 0);
  free (w->tmp_name);
  memset (w, 0, sizeof *w);
  w->fd = -1;
}

int
sk_blob_commit (struct sk_store *s, struct sk_blob_writer *w, const char *expected,
                char actual[SK_DIGEST_LEN + 1], sk_err_t *err)
{
  char got[SK_DIGEST_LEN + 1];
  _cleanup_free_ char *dest = NULL;

  sk_sha256_finish (w->hash, got);
  w->hash = NULL;
  if (actual != NULL)
    memcpy (actual, got, sizeof got);
  if (expected != NULL && strcmp (expected, got) != 0)
    {
      sk_blob_abort (s, w);
      return sk_err_set (err, EBADMSG,
                         "blob `%s` failed verification: its content has digest `%s`; the "
                         "data was refused (a corrupt or tampered registry, mirror or file)",
                         expected, got);
    }
  if (fsync (w->fd) < 0)
    {
      int e = errno;
      sk_blob_abort (s, w);
      return sk_err_set (err, e, "fsync blob `%s`", got);
    }
  dest = xasprintf ("blobs/sha256/%s", hex_of (got));
  if (renameat (s->dirfd, w->tmp_name, s->dirfd, dest) < 0)
    {
      int e = errno;
      sk_blob_abort (s, w);
      return sk_err_set (err, e, "rename blob into `%s/%s`", s->dir, dest);
    }
  close (w->fd);
  free (w->tmp_name);
  memset (w, 0, sizeof *w);
  w->fd = -1;
  return 0;
}

int
sk_store_put_buffer (struct sk_store *s, const void *data, size_t len, const char *expected,
                     char actual[SK_DIGEST_LEN + 1], sk_err_t *err)
{
  struct sk_blob_writer w;

  if (sk_blob_begin (s, &w, err) < 0)
    return -1;
  if (sk_blob_write (&w, data, len, err) < 0)
    {
      sk_blob_abort (s, &w);
      return -1;
    }
  return sk_blob_commit (s, &w, expected, actual, err);
}

bool
sk_store_has_blob (struct sk_store *s, const char *digest)
{
  _cleanup_free_ char *rel = xasprintf ("blobs/sha256/%s", hex_of (digest));

  return faccessat (s->dirfd, rel, F_OK, 0) == 0;
}

int
sk_store_open_blob (struct sk_store *s, const char *digest, sk_err_t *err)
{
  _cleanup_free_ char *rel = NULL;
  int fd;

  if (!sk_digest_is_valid (digest))
    return sk_err_set (err, EINVAL, "invalid digest `%s`", digest);
  rel = xasprintf ("blobs/sha256/%s", hex_of (digest));
  fd = openat (s->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return sk_err_set (err, errno, "blob `%s` in `%s`", digest, s->dir);
  return fd;
}

int
sk_store_read_blob (struct sk_store *s, const char *digest, char **data, size_t *len, sk_err_t *err)
{
  _cleanup_close_ int fd = sk_store_open_blob (s, digest, err);
  _cleanup_free_ char *buf = NULL;
  char got[SK_DIGEST_LEN + 1];
  struct stat st;
  size_t done = 0;

  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    return sk_err_set (err, errno, "stat blob `%s`", digest);
  if ((uint64_t)st.st_size > SMALL_BLOB_MAX)
    return sk_err_set (err, EFBIG, "blob `%s` is larger than %u bytes", digest, SMALL_BLOB_MAX);
  buf = xmalloc ((size_t)st.st_size + 1);
  while (done < (size_t)st.st_size)
    {
      ssize_t n = read (fd, buf + done, (size_t)st.st_size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return sk_err_set (err, n < 0 ? errno : EIO, "read blob `%s`", digest);
      done += (size_t)n;
    }
  buf[done] = '\0';
  /* Cheap for small blobs, and catches a store edited behind our back. */
  sk_sha256_buffer (buf, done, got);
  if (strcmp (got, digest) != 0)
    return sk_err_set (err, EBADMSG,
                       "stored blob `%s` has digest `%s`: the store is damaged; "
                       "run `skiff rmi` on the image and pull it again",
                       digest, got);
  *data = steal_pointer (&buf);
  *len = done;
  return 0;
}

int
sk_store_digest_lock (struct sk_store *s, const char *digest, int *fd, sk_err_t *err)
{
  _cleanup_free_ char *rel = xasprintf ("locks/%s", hex_of (digest));
  int lfd = openat (s->dirfd, rel, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (lfd < 0)
    return sk_err_set (err, errno, "open `%s/%s`", s->dir, rel);
  while (flock (lfd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        int e = errno;
        close (lfd);
        return sk_err_set (err, e, "flock `%s/%s`", s->dir, rel);
      }
  *fd = lfd;
  return 0;
}

/* ---- layers ----------------------------------------------------------------- */

char *
sk_store_layer_path (const struct sk_store *s, const char *digest)
{
  return xasprintf ("%s/layers/sha256/%s", s->dir, hex_of (digest));
}

int
sk_store_unpack_layer (struct sk_store *s, const char *digest, bool *unpacked, sk_err_t *err)
{
  _cleanup_free_ char *rel = xasprintf ("layers/sha256/%s", hex_of (digest));
  _cleanup_free_ char *tmp = NULL;
  _cleanup_close_ int lock = -1;
  _cleanup_close_ int blob = -1;
  _cleanup_close_ int dest = -1;
  sk_err_t ignored = NULL;

  *unpacked = false;
  if (faccessat (s->dirfd, rel, F_OK, 0) == 0)
    return 0;
  if (sk_store_digest_lock (s, digest, &lock, err) < 0)
    return -1;
  /* Someone else may have finished while we waited for the lock. */
  if (faccessat (s->dirfd, rel, F_OK, 0) == 0)
    return 0;
  blob = sk_store_open_blob (s, digest, err);
  if (blob < 0)
    return -1;
  tmp = xasprintf ("tmp/layer-%s", hex_of (digest));
  if (sk_rm_tree_at (s->dirfd, tmp, err) < 0)
    return -1;
  if (mkdirat (s->dirfd, tmp, 0755) < 0)
    return sk_err_set (err, errno, "mkdir `%s/%s`", s->dir, tmp);
  dest = openat (s->dirfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dest < 0)
    return sk_err_set (err, errno, "open `%s/%s`", s->dir, tmp);
  if (sk_layer_extract (blob, dest, NULL, err) < 0)
    {
      if (sk_rm_tree_at (s->dirfd, tmp, &ignored) < 0)
        sk_err_free (&ignored);
      return sk_err_wrap (err, "layer `%s`", digest);
    }
  if (renameat (s->dirfd, tmp, s->dirfd, rel) < 0)
    {
      int e = errno;
      if (sk_rm_tree_at (s->dirfd, tmp, &ignored) < 0)
        sk_err_free (&ignored);
      return sk_err_set (err, e, "rename layer into `%s/%s`", s->dir, rel);
    }
  *unpacked = true;
  return 0;
}

/* ---- refs ------------------------------------------------------------------- */

static char *
escape_name (const char *name)
{
  char *out = xmalloc (strlen (name) * 3 + 1);
  char *o = out;

  for (const char *p = name; *p != '\0'; p++)
    {
      if (*p == '/' || *p == '%' || *p == ':' || *p == '@')
        o += sprintf (o, "%%%02X", (unsigned char)*p);
      else
        *o++ = *p;
    }
  *o = '\0';
  return out;
}

static char *
unescape_name (const char *name)
{
  char *out = xmalloc (strlen (name) + 1);
  char *o = out;

  for (const char *p = name; *p != '\0'; p++)
    {
      unsigned v;
      if (*p == '%' && sscanf (p + 1, "%2X", &v) == 1)
        {
          *o++ = (char)v;
          p += 2;
        }
      else
        *o++ = *p;
    }
  *o = '\0';
  return out;
}

int
sk_store_set_ref (struct sk_store *s, const char *name, const char *digest, sk_err_t *err)
{
  _cleanup_free_ char *esc = escape_name (name);
  _cleanup_free_ char *rel = xasprintf ("refs/%s", esc);
  _cleanup_free_ char *tmp = xasprintf ("tmp/ref-%d-%08x", (int)getpid (), (unsigned)random ());
  _cleanup_close_ int fd = -1;
  size_t len = strlen (digest);

  if (strlen (esc) > NAME_MAX)
    return sk_err_set (err, ENAMETOOLONG, "image name `%s`", name);
  fd = openat (s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return sk_err_set (err, errno, "create `%s/%s`", s->dir, tmp);
  if (write (fd, digest, len) != (ssize_t)len || write (fd, "\n", 1) != 1 || fsync (fd) < 0)
    {
      int e = errno;
      (void)unlinkat (s->dirfd, tmp, 0);
      return sk_err_set (err, e, "write `%s/%s`", s->dir, tmp);
    }
  if (renameat (s->dirfd, tmp, s->dirfd, rel) < 0)
    {
      int e = errno;
      (void)unlinkat (s->dirfd, tmp, 0);
      return sk_err_set (err, e, "rename into `%s/%s`", s->dir, rel);
    }
  return 0;
}

static int
read_ref_file (struct sk_store *s, const char *rel, char **digest, sk_err_t *err)
{
  _cleanup_close_ int fd = openat (s->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  char buf[SK_DIGEST_LEN + 2];
  ssize_t n;

  *digest = NULL;
  if (fd < 0)
    return errno == ENOENT ? 0 : sk_err_set (err, errno, "open `%s/%s`", s->dir, rel);
  n = read (fd, buf, sizeof buf - 1);
  if (n < 0)
    return sk_err_set (err, errno, "read `%s/%s`", s->dir, rel);
  buf[n] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  if (!sk_digest_is_valid (buf))
    return sk_err_set (err, EINVAL, "`%s/%s` does not hold a digest", s->dir, rel);
  *digest = xstrdup (buf);
  return 0;
}

int
sk_store_get_ref (struct sk_store *s, const char *name, char **digest, sk_err_t *err)
{
  _cleanup_free_ char *esc = escape_name (name);
  _cleanup_free_ char *rel = xasprintf ("refs/%s", esc);

  return read_ref_file (s, rel, digest, err);
}

int
sk_store_remove_ref (struct sk_store *s, const char *name, sk_err_t *err)
{
  _cleanup_free_ char *esc = escape_name (name);
  _cleanup_free_ char *rel = xasprintf ("refs/%s", esc);

  if (unlinkat (s->dirfd, rel, 0) < 0)
    return sk_err_set (err, errno, "remove `%s`", name);
  return 0;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* Names of the entries of a store directory (NULL-terminated, sorted). */
static int
list_dir (struct sk_store *s, const char *rel, char ***out, sk_err_t *err)
{
  int fd = openat (s->dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;
  struct dirent *de;
  char **v = xzalloc (sizeof *v);
  size_t n = 0;

  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      free (v);
      return sk_err_set (err, e, "open `%s/%s`", s->dir, rel);
    }
  while ((de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.')
        continue;
      v = xreallocarray (v, n + 2, sizeof *v);
      v[n++] = xstrdup (de->d_name);
      v[n] = NULL;
    }
  closedir (d);
  qsort (v, n, sizeof *v, cmp_str);
  *out = v;
  return 0;
}

int
sk_store_list_refs (struct sk_store *s, char ***names, char ***digests, sk_err_t *err)
{
  _cleanup_strv_ char **files = NULL;
  char **nv, **dv;
  size_t n = 0, k = 0;

  if (list_dir (s, "refs", &files, err) < 0)
    return -1;
  while (files[n] != NULL)
    n++;
  nv = xzalloc ((n + 1) * sizeof *nv);
  dv = xzalloc ((n + 1) * sizeof *dv);
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *rel = xasprintf ("refs/%s", files[i]);
      char *digest = NULL;
      sk_err_t ignored = NULL;
      if (read_ref_file (s, rel, &digest, &ignored) < 0 || digest == NULL)
        {
          sk_err_free (&ignored);
          continue;
        }
      nv[k] = unescape_name (files[i]);
      dv[k++] = digest;
    }
  *names = nv;
  *digests = dv;
  return 0;
}

/* ---- images ----------------------------------------------------------------- */

int
sk_store_add_image (struct sk_store *s, const char *manifest_digest, sk_err_t *err)
{
  _cleanup_free_ char *rel = xasprintf ("images/%s", hex_of (manifest_digest));
  int fd = openat (s->dirfd, rel, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);

  if (fd < 0)
    return sk_err_set (err, errno, "create `%s/%s`", s->dir, rel);
  close (fd);
  return 0;
}

int
sk_store_hold_image (struct sk_store *s, const char *manifest_digest, int *fd, sk_err_t *err)
{
  _cleanup_free_ char *rel = xasprintf ("images/%s", hex_of (manifest_digest));
  int hfd = openat (s->dirfd, rel, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);

  if (hfd < 0)
    return sk_err_set (err, errno, "open `%s/%s`", s->dir, rel);
  while (flock (hfd, LOCK_SH) < 0)
    if (errno != EINTR)
      {
        int e = errno;
        close (hfd);
        return sk_err_set (err, e, "flock `%s/%s`", s->dir, rel);
      }
  *fd = hfd;
  return 0;
}

/* Is the image held by a running task? Leaves it unheld either way. */
static bool
image_in_use (struct sk_store *s, const char *hex)
{
  _cleanup_free_ char *rel = xasprintf ("images/%s", hex);
  _cleanup_close_ int fd = openat (s->dirfd, rel, O_RDONLY | O_CLOEXEC);
  bool busy;

  if (fd < 0)
    return false;
  busy = flock (fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
  return busy;
}

static bool
strv_has (char **v, const char *s)
{
  for (; v != NULL && *v != NULL; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

int
sk_store_remove_image (struct sk_store *s, const char *name, bool *removed, sk_err_t *err)
{
  _cleanup_free_ char *digest = NULL;
  _cleanup_strv_ char **names = NULL;
  _cleanup_strv_ char **digests = NULL;
  _cleanup_free_ char *rel = NULL;

  *removed = false;
  if (sk_store_get_ref (s, name, &digest, err) < 0)
    return -1;
  if (digest == NULL)
    return sk_err_set (err, ENOENT, "no image `%s` in the store (see `skiff images`)", name);
  if (image_in_use (s, hex_of (digest)))
    {
      if (sk_store_list_refs (s, &names, &digests, err) < 0)
        return -1;
      size_t users = 0;
      for (size_t i = 0; digests[i] != NULL; i++)
        users += strcmp (digests[i], digest) == 0;
      if (users <= 1)
        return sk_err_set (err, EBUSY, "image `%s` is in use by a running task; stop it first",
                           name);
    }
  if (sk_store_remove_ref (s, name, err) < 0)
    return -1;
  sk_strv_free (names);
  sk_strv_free (digests);
  names = digests = NULL;
  if (sk_store_list_refs (s, &names, &digests, err) < 0)
    return -1;
  if (strv_has (digests, digest))
    return 0; /* another name keeps it */
  rel = xasprintf ("images/%s", hex_of (digest));
  (void)unlinkat (s->dirfd, rel, 0);
  *removed = true;
  return 0;
}

/* The blobs an image needs: its manifest, config and layers. */
static int
image_blobs (struct sk_store *s, const char *digest, char ***blobs, sk_err_t *err)
{
  _cleanup_free_ char *body = NULL;
  size_t len;
  struct sk_manifest m;
  char **v;

  if (sk_store_read_blob (s, digest, &body, &len, err) < 0)
    return -1;
  if (sk_manifest_parse (body, len, &m, err) < 0)
    return -1;
  v = xzalloc ((m.n_layers + 3) * sizeof *v);
  v[0] = xstrdup (digest);
  v[1] = xstrdup (m.config.digest);
  for (size_t i = 0; i < m.n_layers; i++)
    v[2 + i] = xstrdup (m.layers[i].digest);
  sk_manifest_clear (&m);
  *blobs = v;
  return 0;
}

int
sk_store_image_size (struct sk_store *s, const char *manifest_digest, uint64_t *size, sk_err_t *err)
{
  _cleanup_strv_ char **blobs = NULL;
  uint64_t total = 0;

  if (image_blobs (s, manifest_digest, &blobs, err) < 0)
    return -1;
  for (char **b = blobs; *b != NULL; b++)
    {
      _cleanup_free_ char *rel = xasprintf ("blobs/sha256/%s", hex_of (*b));
      struct stat st;
      if (fstatat (s->dirfd, rel, &st, 0) == 0)
        total += (uint64_t)st.st_size;
    }
  *size = total;
  return 0;
}

static uint64_t
file_size_at (int dirfd, const char *rel)
{
  struct stat st;

  return fstatat (dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 ? (uint64_t)st.st_size : 0;
}

int
sk_store_prune (struct sk_store *s, bool all, struct sk_prune_report *rep, sk_err_t *err)
{
  _cleanup_strv_ char **names = NULL;
  _cleanup_strv_ char **digests = NULL;
  _cleanup_strv_ char **images = NULL;
  _cleanup_strv_ char **keep = xzalloc (sizeof (char *));
  size_t n_keep = 0;

  memset (rep, 0, sizeof *rep);
  if (sk_store_list_refs (s, &names, &digests, err) < 0 || list_dir (s, "images", &images, err) < 0)
    return -1;

  /* Refs first: with `all`, every name whose image no task holds goes. */
  if (all)
    for (size_t i = 0; names[i] != NULL; i++)
      if (!image_in_use (s, hex_of (digests[i])))
        if (sk_store_remove_ref (s, names[i], err) < 0)
          return -1;
  sk_strv_free (names);
  sk_strv_free (digests);
  names = digests = NULL;
  if (sk_store_list_refs (s, &names, &digests, err) < 0)
    return -1;

  for (size_t i = 0; images[i] != NULL; i++)
    {
      _cleanup_free_ char *digest = xasprintf ("sha256:%s", images[i]);
      _cleanup_strv_ char **blobs = NULL;
      sk_err_t ignored = NULL;

      if (!sk_digest_is_valid (digest))
        continue;
      if (!strv_has (digests, digest) && !image_in_use (s, images[i]))
        {
          _cleanup_free_ char *rel = xasprintf ("images/%s", images[i]);
          (void)unlinkat (s->dirfd, rel, 0);
          rep->images++;
          continue;
        }
      /* Kept: its blobs stay. A damaged manifest keeps only itself. */
      if (image_blobs (s, digest, &blobs, &ignored) < 0)
        {
          sk_err_free (&ignored);
          blobs = xzalloc (2 * sizeof *blobs);
          blobs[0] = xstrdup (digest);
        }
      for (char **b = blobs; *b != NULL; b++)
        {
          keep = xreallocarray (keep, n_keep + 2, sizeof *keep);
          keep[n_keep++] = xstrdup (hex_of (*b));
          keep[n_keep] = NULL;
        }
    }

  /* Sweep blobs and unpacked layers nobody keeps, and leftovers of
   * interrupted pulls (no pull runs while we hold the exclusive lock). */
  {
    static const char *const swept[] = { "blobs/sha256", "layers/sha256", "views", "tmp", "locks" };
    for (size_t k = 0; k < SK_ARRAY_SIZE (swept); k++)
      {
        _cleanup_strv_ char **entries = NULL;
        _cleanup_close_ int dfd = -1;

        if (list_dir (s, swept[k], &entries, err) < 0)
          return -1;
        dfd = openat (s->dirfd, swept[k], O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
          return sk_err_set (err, errno, "open `%s/%s`", s->dir, swept[k]);
        for (char **e = entries; *e != NULL; e++)
          {
            if (k < 3 && strv_has (keep, *e))
              continue;
            if (k == 0)
              {
                rep->bytes += file_size_at (dfd, *e);
                rep->blobs++;
              }
            else if (k == 1)
              rep->layers++;
            if (sk_rm_tree_at (dfd, *e, err) < 0)
              return -1;
          }
      }
  }
  return 0;
}
