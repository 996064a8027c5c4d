/* Pulls and imports. The registry path fetches the manifest (choosing the
 * platform from an index), then each missing blob under its digest lock;
 * the local transports copy blobs from the layout or tarball the same way.
 * An image becomes visible (ref written) only when all its blobs are in. */
#include "image_pull.h"
#include "image_manifest.h"
#include "image_progress.h"
#include "image_ref.h"
#include "imagelibs.h"
#include "jsonw.h"
#include "registry.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "spec.h"

int
sk_pull_policy_parse (const char *text, enum sk_pull_policy *out)
{
  if (strcmp (text, "missing") == 0)
    *out = SK_PULL_MISSING;
  else if (strcmp (text, "always") == 0)
    *out = SK_PULL_ALWAYS;
  else if (strcmp (text, "never") == 0)
    *out = SK_PULL_NEVER;
  else
    return -1;
  return 0;
}

void
sk_insecure_registry_add (const char *host)
{
  const char *old = getenv ("SKIFF_INSECURE_REGISTRIES");
  _cleanup_free_ char *list
      = old != NULL && old[0] ? xasprintf ("%s,%s", old, host) : xstrdup (host);

  setenv ("SKIFF_INSECURE_REGISTRIES", list, 1);
}

static char *
absolute_path (const char *path, const char *task_dir)
{
  char resolved[PATH_MAX];
  _cleanup_free_ char *joined = NULL;

  if (path[0] != '/')
    joined = xasprintf ("%s/%s", task_dir != NULL ? task_dir : ".", path);
  if (realpath (joined != NULL ? joined : path, resolved) == NULL)
    return xstrdup (joined != NULL ? joined : path);
  return xstrdup (resolved);
}

int
sk_image_store_name (const char *ref, const char *task_dir, char **name, sk_err_t *err)
{
  const char *rest;
  enum sk_transport t = sk_transport_of (ref, &rest);

  switch (t)
    {
    case SK_TRANSPORT_REGISTRY:
      {
        struct sk_image_ref r;
        if (sk_image_ref_parse (rest, &r, err) < 0)
          return -1;
        *name = sk_image_ref_format (&r);
        sk_image_ref_clear (&r);
        return 0;
      }
    case SK_TRANSPORT_OCI:
      {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ char *tag = NULL;
        _cleanup_free_ char *abs = NULL;
        sk_oci_ref_split (rest, &path, &tag);
        if (path[0] == '\0')
          return sk_err_set (err, EINVAL, "image `%s`: empty OCI layout path", ref);
        abs = absolute_path (path, task_dir);
        *name = xasprintf ("oci:%s%s%s", abs, tag ? ":" : "", tag ? tag : "");
        return 0;
      }
    case SK_TRANSPORT_DOCKER_ARCHIVE:
      {
        _cleanup_free_ char *abs = NULL;
        if (rest[0] == '\0')
          return sk_err_set (err, EINVAL, "image `%s`: empty archive path", ref);
        abs = absolute_path (rest, task_dir);
        *name = xasprintf ("docker-archive:%s", abs);
        return 0;
      }
    case SK_TRANSPORT_DIR:
      break;
    }
  return sk_err_set (err, EINVAL, "image `%s`: dir: images are not stored", ref);
}

static void
short_digest (const char *digest, char out[20])
{
  snprintf (out, 20, "%.12s", digest + 7);
}

/* ---- registry ---------------------------------------------------------------- */

static int
fetch_blob (struct sk_store *s, struct sk_registry *reg, const struct sk_descriptor *d,
            const struct sk_pull_opts *o, sk_err_t *err)
{
  _cleanup_close_ int lock = -1;
  struct sk_blob_writer w;
  struct sk_progress p;
  char label[20];

  if (sk_store_has_blob (s, d->digest))
    return 0;
  if (sk_store_digest_lock (s, d->digest, &lock, err) < 0)
    return -1;
  short_digest (d->digest, label);
  if (sk_store_has_blob (s, d->digest))
    {
      /* Another pull fetched it while we waited. */
      return 0;
    }
  if (sk_blob_begin (s, &w, err) < 0)
    return -1;
  sk_progress_begin (&p, o->quiet, label, d->digest, (uint64_t)d->size);
  if (sk_registry_get_blob (reg, d->digest, &w, sk_progress_update, &p, err) < 0)
    {
      sk_blob_abort (s, &w);
      return -1;
    }
  p.done = w.size;
  if (d->size >= 0 && w.size != (uint64_t)d->size)
    {
      uint64_t got = w.size;
      sk_blob_abort (s, &w);
      return sk_err_set (err, EBADMSG,
                         "blob `%s`: the registry sent %llu bytes, the manifest says %lld; "
                         "refused",
                         d->digest, (unsigned long long)got, (long long)d->size);
    }
  if (sk_blob_commit (s, &w, d->digest, NULL, err) < 0)
    return -1;
  sk_progress_end (&p, "pulled  ");
  return 0;
}

/* The manifest for our platform: the document itself, or the entry an
 * index chooses (fetched by digest and verified). */
static int
fetch_manifest (struct sk_store *s, struct sk_registry *reg, const struct sk_image_ref *r,
                const struct sk_pull_opts *o, char **digest_out, sk_err_t *err)
{
  _cleanup_free_ char *body = NULL;
  _cleanup_free_ char *ctype = NULL;
  size_t len = 0;
  char digest[SK_DIGEST_LEN + 1];
  const char *reference = r->digest != NULL ? r->digest : r->tag;

  if (sk_registry_get_manifest (reg, reference, &body, &len, &ctype, err) < 0)
    return -1;
  sk_sha256_buffer (body, len, digest);
  if (r->digest != NULL && strcmp (digest, r->digest) != 0)
    return sk_err_set (err, EBADMSG,
                       "manifest `%s` failed verification: the registry sent content with "
                       "digest `%s`; refused",
                       r->digest, digest);
  if (sk_manifest_is_index (body, len, ctype))
    {
      struct sk_index idx;
      const struct sk_descriptor *pick;
      const char *arch = o->arch, *variant = o->variant;
      _cleanup_free_ char *pick_digest = NULL;

      if (arch == NULL)
        sk_host_platform (&arch, &variant);
      if (sk_index_parse (body, len, &idx, err) < 0)
        return -1;
      if (sk_index_select (&idx, arch, variant, &pick, err) < 0)
        {
          sk_index_clear (&idx);
          return -1;
        }
      pick_digest = xstrdup (pick->digest);
      sk_index_clear (&idx);
      free (body);
      free (ctype);
      body = ctype = NULL;
      if (sk_registry_get_manifest (reg, pick_digest, &body, &len, &ctype, err) < 0)
        return -1;
      sk_sha256_buffer (body, len, digest);
      if (strcmp (digest, pick_digest) != 0)
        return sk_err_set (err, EBADMSG,
                           "manifest `%s` failed verification: the registry sent content with "
                           "digest `%s`; refused",
                           pick_digest, digest);
    }
  if (sk_store_put_buffer (s, body, len, digest, NULL, err) < 0)
    return -1;
  *digest_out = xstrdup (digest);
  return 0;
}

static int
pull_registry (struct sk_store *s, const char *text, const struct sk_pull_opts *o, char **out,
               sk_err_t *err)
{
  struct sk_image_ref r;
  struct sk_registry *reg = NULL;
  _cleanup_free_ char *digest = NULL;
  _cleanup_free_ char *name = NULL;
  _cleanup_free_ char *body = NULL;
  size_t len;
  struct sk_manifest m = { 0 };
  int ret = -1;

  if (sk_image_ref_parse (text, &r, err) < 0)
    return -1;
  name = sk_image_ref_format (&r);
  if (!o->quiet)
    fprintf (stderr, "skiff: pulling %s\n", name);
  if (sk_registry_open (sk_image_ref_api_host (&r), r.path,
                        sk_registry_is_insecure (r.domain)
                            || sk_registry_is_insecure (sk_image_ref_api_host (&r)),
                        &reg, err)
      < 0)
    goto out;
  if (fetch_manifest (s, reg, &r, o, &digest, err) < 0)
    goto out;
  if (sk_store_read_blob (s, digest, &body, &len, err) < 0
      || sk_manifest_parse (body, len, &m, err) < 0)
    goto out;
  if (fetch_blob (s, reg, &m.config, o, err) < 0)
    goto out;
  for (size_t i = 0; i < m.n_layers; i++)
    if (fetch_blob (s, reg, &m.layers[i], o, err) < 0)
      goto out;
  if (sk_store_add_image (s, digest, err) < 0 || sk_store_set_ref (s, name, digest, err) < 0)
    goto out;
  if (!o->quiet)
    fprintf (stderr, "skiff: %s: %s\n", name, digest);
  *out = steal_pointer (&digest);
  ret = 0;
out:
  if (ret < 0)
    sk_err_wrap (err, "pull `%s`", name != NULL ? name : text);
  sk_manifest_clear (&m);
  sk_registry_free (reg);
  sk_image_ref_clear (&r);
  return ret;
}

/* ---- oci: layouts ------------------------------------------------------------ */

static int
copy_file_blob (struct sk_store *s, int dirfd, const char *rel, const char *expected,
                char actual[SK_DIGEST_LEN + 1], sk_err_t *err)
{
  _cleanup_close_ int fd = -1;
  _cleanup_close_ int lock = -1;
  struct sk_blob_writer w;
  char buf[1 << 16];

  if (expected != NULL && sk_store_has_blob (s, expected))
    return 0;
  if (expected != NULL && sk_store_digest_lock (s, expected, &lock, err) < 0)
    return -1;
  if (expected != NULL && sk_store_has_blob (s, expected))
    return 0;
  fd = openat (dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", rel);
  if (sk_blob_begin (s, &w, err) < 0)
    return -1;
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          sk_blob_abort (s, &w);
          return sk_err_set (err, e, "read `%s`", rel);
        }
      if (n == 0)
        break;
      if (sk_blob_write (&w, buf, (size_t)n, err) < 0)
        {
          sk_blob_abort (s, &w);
          return -1;
        }
    }
  return sk_blob_commit (s, &w, expected, actual, err);
}

static int
oci_blob (struct sk_store *s, int layout, const char *digest, sk_err_t *err)
{
  _cleanup_free_ char *rel = NULL;

  if (!sk_digest_is_valid (digest))
    return sk_err_set (err, EINVAL, "invalid digest `%s`", digest);
  rel = xasprintf ("blobs/sha256/%s", digest + 7);
  return copy_file_blob (s, layout, rel, digest, NULL, err);
}

static int
read_layout_file (int layout, const char *rel, char **body, size_t *len, sk_err_t *err)
{
  _cleanup_close_ int fd = openat (layout, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  char *buf;
  size_t done = 0;

  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", rel);
  if (fstat (fd, &st) < 0)
    return sk_err_set (err, errno, "stat `%s`", rel);
  if (st.st_size > 4 * 1024 * 1024)
    return sk_err_set (err, EFBIG, "`%s` is too large", rel);
  buf = xmalloc ((size_t)st.st_size + 1);
  while (done < (size_t)st.st_size)
    {
      ssize_t n = read (fd, buf + done, (size_t)st.st_size - done);
      if (n <= 0)
        {
          free (buf);
          return sk_err_set (err, n < 0 ? errno : EIO, "read `%s`", rel);
        }
      done += (size_t)n;
    }
  buf[done] = '\0';
  *body = buf;
  *len = done;
  return 0;
}

/* index.json entry named tag (annotation org.opencontainers.image.ref.name),
 * or the only entry when no tag is given. */
static int
oci_pick_entry (const char *body, size_t len, const char *tag, char **digest, sk_err_t *err)
{
  struct sk_diags diags = { 0 };
  struct sk_json *root = sk_json_parse (body, len, "index.json", &diags);
  const struct sk_json *list;
  int ret = -1;

  sk_diags_clear (&diags);
  list = root != NULL ? sk_json_get (root, "manifests") : NULL;
  if (list == NULL || list->type != SK_JSON_ARRAY)
    {
      sk_err_set (err, EINVAL, "index.json has no manifests array");
      goto out;
    }
  for (size_t i = 0; i < list->n; i++)
    {
      const struct sk_json *ann = sk_json_get (list->items[i], "annotations");
      const struct sk_json *nm
          = ann != NULL ? sk_json_get (ann, "org.opencontainers.image.ref.name") : NULL;
      const struct sk_json *dg = sk_json_get (list->items[i], "digest");
      bool match = tag == NULL ? list->n == 1
                               : nm != NULL && nm->type == SK_JSON_STRING && strlen (tag) == nm->len
                                     && memcmp (nm->text, tag, nm->len) == 0;
      if (match && dg != NULL && dg->type == SK_JSON_STRING)
        {
          *digest = xstrndup (dg->text, dg->len);
          ret = 0;
          goto out;
        }
    }
  if (tag == NULL)
    sk_err_set (err, ENOENT, "the layout holds %zu images: name one as oci:PATH:TAG", list->n);
  else
    sk_err_set (err, ENOENT, "no image tagged `%s` in the layout", tag);
out:
  sk_json_free (root);
  return ret;
}

static int
import_manifest_blobs (struct sk_store *s, int layout, const char *digest, sk_err_t *err)
{
  _cleanup_free_ char *body = NULL;
  size_t len;
  struct sk_manifest m;
  int ret = -1;

  if (sk_store_read_blob (s, digest, &body, &len, err) < 0
      || sk_manifest_parse (body, len, &m, err) < 0)
    return -1;
  if (oci_blob (s, layout, m.config.digest, err) < 0)
    goto out;
  for (size_t i = 0; i < m.n_layers; i++)
    if (oci_blob (s, layout, m.layers[i].digest, err) < 0)
      goto out;
  ret = 0;
out:
  sk_manifest_clear (&m);
  return ret;
}

static int
import_oci (struct sk_store *s, const char *name, const struct sk_pull_opts *o, char **out,
            sk_err_t *err)
{
  _cleanup_free_ char *path = NULL;
  _cleanup_free_ char *tag = NULL;
  _cleanup_free_ char *index = NULL;
  _cleanup_free_ char *digest = NULL;
  _cleanup_free_ char *body = NULL;
  _cleanup_close_ int layout = -1;
  size_t len;

  sk_oci_ref_split (name + 4, &path, &tag);
  layout = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (layout < 0)
    return sk_err_set (err, errno, "open OCI layout `%s`", path);
  if (read_layout_file (layout, "index.json", &index, &len, err) < 0
      || oci_pick_entry (index, len, tag, &digest, err) < 0)
    return sk_err_wrap (err, "OCI layout `%s`", path);
  /* Nested index (multi-platform layouts): choose ours. */
  for (int depth = 0;; depth++)
    {
      if (depth > 4)
        return sk_err_set (err, ELOOP, "OCI layout `%s`: indexes nested too deeply", path);
      if (oci_blob (s, layout, digest, err) < 0)
        return sk_err_wrap (err, "OCI layout `%s`", path);
      free (body);
      body = NULL;
      if (sk_store_read_blob (s, digest, &body, &len, err) < 0)
        return -1;
      if (!sk_manifest_is_index (body, len, NULL))
        break;
      {
        struct sk_index idx;
        const struct sk_descriptor *pick;
        const char *arch = o->arch, *variant = o->variant;
        if (arch == NULL)
          sk_host_platform (&arch, &variant);
        if (sk_index_parse (body, len, &idx, err) < 0)
          return -1;
        if (sk_index_select (&idx, arch, variant, &pick, err) < 0)
          {
            sk_index_clear (&idx);
            return sk_err_wrap (err, "OCI layout `%s`", path);
          }
        free (digest);
        digest = xstrdup (pick->digest);
        sk_index_clear (&idx);
      }
    }
  if (import_manifest_blobs (s, layout, digest, err) < 0)
    return sk_err_wrap (err, "OCI layout `%s`", path);
  if (sk_store_add_image (s, digest, err) < 0 || sk_store_set_ref (s, name, digest, err) < 0)
    return -1;
  *out = steal_pointer (&digest);
  return 0;
}

/* ---- docker-archive: ---------------------------------------------------------- */

struct archived
{
  char *path;
  char digest[SK_DIGEST_LEN + 1];
  uint64_t size;
};

static int
import_docker_archive (struct sk_store *s, const char *name, const struct sk_pull_opts *o,
                       char **out, sk_err_t *err)
{
  const char *path = name + strlen ("docker-archive:");
  const struct sk_archive_lib *ar;
  struct archive *a;
  struct archive_entry *e;
  struct archived *files = NULL;
  size_t n_files = 0;
  _cleanup_free_ char *manifest_json = NULL;
  size_t manifest_len = 0;
  struct sk_diags diags = { 0 };
  struct sk_json *root = NULL;
  const struct sk_json *entry, *config, *layers;
  struct sk_jw w;
  char mdigest[SK_DIGEST_LEN + 1];
  int ret = -1, r;

  if (sk_archive_load (&ar, err) < 0)
    return sk_err_wrap (err, "docker archive `%s`", path);
  a = ar->archive_read_new ();
  if (a == NULL)
    return sk_err_set (err, ENOMEM, "archive_read_new");
  sk_jw_init (&w);
  ar->archive_read_support_format_tar (a);
  ar->archive_read_support_filter_gzip (a);
  if (ar->archive_read_open_filename (a, path, 1 << 16) != ARCHIVE_OK)
    {
      sk_err_set (err, ar->archive_errno (a) > 0 ? ar->archive_errno (a) : EINVAL,
                  "open docker archive `%s`: %s", path, ar->archive_error_string (a));
      goto out;
    }
  /* One pass: every regular file becomes a blob (digest computed), and
   * manifest.json is kept in memory. Unneeded blobs go at the next prune. */
  while ((r = ar->archive_read_next_header (a, &e)) == ARCHIVE_OK)
    {
      const char *p = ar->archive_entry_pathname (e);
      struct sk_blob_writer bw;
      const void *buf;
      size_t size;
      la_int64_t off;

      if (ar->archive_entry_filetype (e) != AE_IFREG || p == NULL)
        continue;
      if (strcmp (p, "manifest.json") == 0)
        {
          la_ssize_t got;
          size_t want = (size_t)ar->archive_entry_size (e);
          if (want > (1u << 20))
            {
              sk_err_set (err, EFBIG, "docker archive `%s`: manifest.json too large", path);
              goto out;
            }
          manifest_json = xmalloc (want + 1);
          got = ar->archive_read_data (a, manifest_json, want);
          if (got < 0 || (size_t)got != want)
            {
              sk_err_set (err, EIO, "docker archive `%s`: read manifest.json", path);
              goto out;
            }
          manifest_json[want] = '\0';
          manifest_len = want;
          continue;
        }
      if (sk_blob_begin (s, &bw, err) < 0)
        goto out;
      while ((r = ar->archive_read_data_block (a, &buf, &size, &off)) == ARCHIVE_OK)
        if (sk_blob_write (&bw, buf, size, err) < 0)
          {
            sk_blob_abort (s, &bw);
            goto out;
          }
      if (r != ARCHIVE_EOF)
        {
          sk_blob_abort (s, &bw);
          sk_err_set (err, EIO, "docker archive `%s`: read `%s`: %s", path, p,
                      ar->archive_error_string (a));
          goto out;
        }
      files = xreallocarray (files, n_files + 1, sizeof *files);
      files[n_files].path = xstrdup (p);
      files[n_files].size = bw.size;
      if (sk_blob_commit (s, &bw, NULL, files[n_files].digest, err) < 0)
        {
          free (files[n_files].path);
          goto out;
        }
      n_files++;
    }
  if (r != ARCHIVE_EOF)
    {
      sk_err_set (err, EIO, "docker archive `%s`: %s", path, ar->archive_error_string (a));
      goto out;
    }
  if (manifest_json == NULL)
    {
      sk_err_set (err, EINVAL,
                  "docker archive `%s` has no manifest.json (not a `docker save` "
                  "tarball?)",
                  path);
      goto out;
    }
  root = sk_json_parse (manifest_json, manifest_len, "manifest.json", &diags);
  if (root == NULL || root->type != SK_JSON_ARRAY || root->n == 0)
    {
      sk_err_set (err, EINVAL, "docker archive `%s`: manifest.json is not a list of images", path);
      goto out;
    }
  if (root->n > 1)
    {
      sk_err_set (err, ENOTSUP, "docker archive `%s` holds %zu images; save one per file", path,
                  root->n);
      goto out;
    }
  entry = root->items[0];
  config = sk_json_get (entry, "Config");
  layers = sk_json_get (entry, "Layers");
  if (config == NULL || config->type != SK_JSON_STRING || layers == NULL
      || layers->type != SK_JSON_ARRAY)
    {
      sk_err_set (err, EINVAL, "docker archive `%s`: manifest.json lacks Config or Layers", path);
      goto out;
    }

  /* Build an OCI manifest for the image, so the store sees one shape. */
  sk_jw_begin_object (&w);
  sk_jw_kv_int (&w, "schemaVersion", 2);
  sk_jw_kv_string (&w, "mediaType", SK_MT_OCI_MANIFEST);
  for (size_t i = 0; i <= layers->n; i++)
    {
      const struct sk_json *want = i == 0 ? config : layers->items[i - 1];
      const struct archived *f = NULL;
      const char *base;

      if (want->type != SK_JSON_STRING)
        {
          sk_err_set (err, EINVAL, "docker archive `%s`: bad Layers entry", path);
          goto out;
        }
      for (size_t k = 0; k < n_files; k++)
        if (strlen (files[k].path) == want->len
            && memcmp (files[k].path, want->text, want->len) == 0)
          f = &files[k];
      if (f == NULL)
        {
          sk_err_set (err, ENOENT, "docker archive `%s`: `%.*s` is missing", path, (int)want->len,
                      want->text);
          goto out;
        }
      /* Names that carry a digest ("<hex>.json", "blobs/sha256/<hex>")
       * must match the content. */
      base = strrchr (f->path, '/') ? strrchr (f->path, '/') + 1 : f->path;
      if (strlen (base) >= 64 && strspn (base, "0123456789abcdef") == 64
          && (base[64] == '\0' || strcmp (base + 64, ".json") == 0)
          && strncmp (base, f->digest + 7, 64) != 0)
        {
          sk_err_set (err, EBADMSG,
                      "docker archive `%s`: `%s` failed verification: its content has digest "
                      "`%s`; refused",
                      path, f->path, f->digest);
          goto out;
        }
      if (i == 0)
        {
          sk_jw_key (&w, "config");
          sk_jw_begin_object (&w);
          sk_jw_kv_string (&w, "mediaType", SK_MT_OCI_CONFIG);
        }
      else
        {
          if (i == 1)
            {
              sk_jw_key (&w, "layers");
              sk_jw_begin_array (&w);
            }
          sk_jw_begin_object (&w);
          sk_jw_kv_string (&w, "mediaType", SK_MT_OCI_LAYER_TAR);
        }
      sk_jw_kv_string (&w, "digest", f->digest);
      sk_jw_kv_uint (&w, "size", f->size);
      sk_jw_end_object (&w);
    }
  if (layers->n == 0)
    {
      sk_jw_key (&w, "layers");
      sk_jw_begin_array (&w);
    }
  sk_jw_end_array (&w);
  sk_jw_end_object (&w);
  {
    _cleanup_free_ char *text = sk_jw_steal (&w);
    if (sk_store_put_buffer (s, text, strlen (text), NULL, mdigest, err) < 0)
      goto out;
  }
  if (sk_store_add_image (s, mdigest, err) < 0 || sk_store_set_ref (s, name, mdigest, err) < 0)
    goto out;
  *out = xstrdup (mdigest);
  ret = 0;
out:
  (void)o;
  sk_json_free (root);
  sk_diags_clear (&diags);
  sk_jw_free (&w);
  for (size_t k = 0; k < n_files; k++)
    free (files[k].path);
  free (files);
  ar->archive_read_free (a);
  return ret;
}

int
sk_image_pull (struct sk_store *s, const char *ref, const char *task_dir,
               const struct sk_pull_opts *o, char **manifest_digest, sk_err_t *err)
{
  const char *rest;
  _cleanup_free_ char *name = NULL;

  switch (sk_transport_of (ref, &rest))
    {
    case SK_TRANSPORT_REGISTRY:
      return pull_registry (s, rest, o, manifest_digest, err);
    case SK_TRANSPORT_OCI:
      if (sk_image_store_name (ref, task_dir, &name, err) < 0)
        return -1;
      return import_oci (s, name, o, manifest_digest, err);
    case SK_TRANSPORT_DOCKER_ARCHIVE:
      if (sk_image_store_name (ref, task_dir, &name, err) < 0)
        return -1;
      return import_docker_archive (s, name, o, manifest_digest, err);
    case SK_TRANSPORT_DIR:
      break;
    }
  return sk_err_set (err, EINVAL, "image `%s`: a dir: image needs no pull", ref);
}
