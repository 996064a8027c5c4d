/* Resolving an image reference for a container: dir: directly; anything
 * else through the store (pull per policy, unpack each layer once, hold the
 * image while the task runs) and the image config's defaults. */
#include "image.h"
#include "image_manifest.h"
#include "image_ref.h"
#include "image_store.h"
#include "layer.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static int
resolve_dir (const char *ref, const char *path, const char *task_dir, struct sk_image *out,
             sk_err_t *err)
{
  _cleanup_free_ char *joined = NULL;
  char resolved[PATH_MAX];
  struct stat st;

  if (path[0] == '\0')
    return sk_err_set (err, 0, "image `%s`: empty directory path", ref);
  if (path[0] != '/')
    joined = xasprintf ("%s/%s", task_dir != NULL ? task_dir : ".", path);
  if (realpath (joined != NULL ? joined : path, resolved) == NULL)
    return sk_err_set (err, errno, "image `%s`: root filesystem `%s`", ref,
                       joined != NULL ? joined : path);
  if (stat (resolved, &st) < 0)
    return sk_err_set (err, errno, "image `%s`: stat `%s`", ref, resolved);
  if (!S_ISDIR (st.st_mode))
    return sk_err_set (err, ENOTDIR, "image `%s`: `%s`", ref, resolved);
  if (strcmp (resolved, "/") == 0)
    return sk_err_set (err, 0, "image `%s`: the host's root cannot be a container image", ref);
  out->rootfs = xstrdup (resolved);
  return 0;
}

int
sk_image_stop_signal (const char *name)
{
  char *end;
  long n;

  if (name == NULL || name[0] == '\0')
    return -1;
  n = strtol (name, &end, 10);
  if (*end == '\0')
    return n > 0 && n < NSIG ? (int)n : -1;
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (int s = 1; s < NSIG; s++)
    {
      const char *abbrev = sigabbrev_np (s);
      if (abbrev != NULL && strcasecmp (abbrev, name) == 0)
        return s;
    }
  return -1;
}

/* Is `name` in layer dir `layer` a whiteout (0/0 char device)? */
static bool
is_whiteout (int layer, const char *name)
{
  struct stat st;

  return fstatat (layer, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR (st.st_mode)
         && st.st_rdev == makedev (0, 0);
}

static bool
is_opaque (int layer, const char *dir)
{
  char v[2];
  _cleanup_close_ int fd = openat (layer, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  return fd >= 0 && fgetxattr (fd, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
}

/* Copy the effective etc/FILE of the layer stack (top first) into view. */
static int
copy_effective (char **lowers, int viewfd, const char *file, sk_err_t *err)
{
  _cleanup_free_ char *rel = xasprintf ("etc/%s", file);

  for (char **l = lowers; *l != NULL; l++)
    {
      _cleanup_close_ int layer = open (*l, O_PATH | O_DIRECTORY | O_CLOEXEC);
      _cleanup_close_ int src = -1;
      _cleanup_close_ int dst = -1;
      char buf[1 << 14];
      ssize_t n;

      if (layer < 0)
        return sk_err_set (err, errno, "open layer `%s`", *l);
      if (is_whiteout (layer, "etc") || is_whiteout (layer, rel))
        return 0;
      src = openat (layer, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (src < 0)
        {
          if (is_opaque (layer, "etc"))
            return 0;
          continue;
        }
      dst = openat (viewfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (dst < 0)
        return sk_err_set (err, errno, "create view `%s`", rel);
      while ((n = read (src, buf, sizeof buf)) > 0)
        if (write (dst, buf, (size_t)n) != n)
          return sk_err_set (err, errno, "write view `%s`", rel);
      return 0;
    }
  return 0;
}

/* <store>/views/<hex>/etc/{passwd,group}, built once, renamed into place. */
static int
build_view (struct sk_store *s, const char *digest, char **lowers, char **out, sk_err_t *err)
{
  _cleanup_free_ char *rel = xasprintf ("views/%s", digest + 7);
  _cleanup_free_ char *tmp = xasprintf ("tmp/view-%d-%s", (int)getpid (), digest + 7);
  _cleanup_free_ char *tmp_etc = xasprintf ("%s/etc", tmp);
  _cleanup_close_ int viewfd = -1;

  *out = xasprintf ("%s/%s", s->dir, rel);
  if (faccessat (s->dirfd, rel, F_OK, 0) == 0)
    return 0;
  if (mkdirat (s->dirfd, "views", 0700) < 0 && errno != EEXIST)
    return sk_err_set (err, errno, "mkdir `%s/views`", s->dir);
  if (sk_rm_tree_at (s->dirfd, tmp, err) < 0)
    return -1;
  if (mkdirat (s->dirfd, tmp, 0755) < 0 || mkdirat (s->dirfd, tmp_etc, 0755) < 0)
    return sk_err_set (err, errno, "mkdir `%s/%s`", s->dir, tmp);
  viewfd = openat (s->dirfd, tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (viewfd < 0)
    return sk_err_set (err, errno, "open `%s/%s`", s->dir, tmp);
  if (copy_effective (lowers, viewfd, "passwd", err) < 0
      || copy_effective (lowers, viewfd, "group", err) < 0)
    return -1;
  if (renameat (s->dirfd, tmp, s->dirfd, rel) < 0)
    {
      sk_err_t ignored = NULL;
      if (sk_rm_tree_at (s->dirfd, tmp, &ignored) < 0)
        sk_err_free (&ignored);
      /* Another task built it first. */
      if (errno == EEXIST || errno == ENOTEMPTY)
        return 0;
      return sk_err_set (err, errno, "rename view into `%s/%s`", s->dir, rel);
    }
  return 0;
}

/* Unpack the layers, read the config, fill out. Holds the image. */
static int
materialize (struct sk_store *s, const char *digest, const struct sk_image_opts *o,
             struct sk_image *out, sk_err_t *err)
{
  _cleanup_free_ char *body = NULL;
  _cleanup_free_ char *cfg_body = NULL;
  size_t len, cfg_len;
  struct sk_manifest m;
  struct sk_image_config cfg;
  int ret = -1;

  if (sk_store_hold_image (s, digest, &out->hold_fd, err) < 0)
    return -1;
  out->held = true;
  out->manifest_digest = xstrdup (digest);
  if (sk_store_read_blob (s, digest, &body, &len, err) < 0
      || sk_manifest_parse (body, len, &m, err) < 0)
    return -1;
  if (m.n_layers == 0)
    {
      sk_manifest_clear (&m);
      return sk_err_set (err, EINVAL, "image has no layers");
    }
  if (sk_store_read_blob (s, m.config.digest, &cfg_body, &cfg_len, err) < 0
      || sk_image_config_parse (cfg_body, cfg_len, &cfg, err) < 0)
    {
      sk_manifest_clear (&m);
      return -1;
    }
  out->lowers = xzalloc ((m.n_layers + 1) * sizeof *out->lowers);
  out->n_lowers = m.n_layers;
  for (size_t i = 0; i < m.n_layers; i++)
    {
      const char *ld = m.layers[i].digest;
      bool fresh = false;
      if (!sk_store_has_blob (s, ld))
        {
          sk_err_set (err, ENOENT, "layer blob `%s` is missing from the store; pull again", ld);
          goto out;
        }
      if (sk_store_unpack_layer (s, ld, &fresh, err) < 0)
        goto out;
      if (fresh && !o->quiet)
        fprintf (stderr, "skiff: unpacked layer %.12s\n", ld + 7);
      /* The manifest lists bottom first; overlay wants top first. */
      out->lowers[m.n_layers - 1 - i] = sk_store_layer_path (s, ld);
    }
  if (build_view (s, digest, out->lowers, &out->rootfs, err) < 0)
    goto out;
  out->entrypoint = steal_pointer (&cfg.entrypoint);
  out->cmd = steal_pointer (&cfg.cmd);
  out->env = steal_pointer (&cfg.env);
  out->working_dir = steal_pointer (&cfg.working_dir);
  out->user = steal_pointer (&cfg.user);
  out->stop_signal = steal_pointer (&cfg.stop_signal);
  out->healthcheck = steal_pointer (&cfg.healthcheck);
  ret = 0;
out:
  sk_manifest_clear (&m);
  sk_image_config_clear (&cfg);
  return ret;
}

static int
resolve_stored (const char *ref, const char *task_dir, const struct sk_image_opts *o,
                enum sk_transport t, struct sk_image *out, sk_err_t *err)
{
  struct sk_store s;
  _cleanup_free_ char *name = NULL;
  _cleanup_free_ char *digest = NULL;
  struct sk_pull_opts po = { .quiet = o->quiet };
  bool pull;
  int ret = -1;

  po.arch = sk_ecs_arch_to_oci (o->cpu_arch);
  if (sk_image_store_name (ref, task_dir, &name, err) < 0)
    return -1;
  if (sk_store_open (o->root, &s, err) < 0)
    return -1;
  /* Shared: other pulls and starts run alongside; rmi / prune wait. */
  if (sk_store_lock (&s, false, err) < 0)
    goto out;
  if (sk_store_get_ref (&s, name, &digest, err) < 0)
    goto out;
  if (t != SK_TRANSPORT_REGISTRY)
    pull = o->policy != SK_PULL_NEVER || digest == NULL; /* local files: cheap to re-read */
  else
    pull = o->policy == SK_PULL_ALWAYS || (o->policy == SK_PULL_MISSING && digest == NULL);
  if (!pull && digest == NULL)
    {
      sk_err_set (err, ENOENT,
                  "image `%s` is not in the image store and the pull policy is `never`: run "
                  "`skiff pull %s` first",
                  name, ref);
      goto out;
    }
  if (pull)
    {
      free (digest);
      digest = NULL;
      if (sk_image_pull (&s, ref, task_dir, &po, &digest, err) < 0)
        goto out;
    }
  if (materialize (&s, digest, o, out, err) < 0)
    goto out;
  ret = 0;
out:
  sk_store_unlock (&s);
  sk_store_close (&s);
  if (ret < 0)
    return sk_err_wrap (err, "image `%s`", ref);
  return 0;
}

int
sk_image_resolve (const char *ref, const char *task_dir, const struct sk_image_opts *o,
                  struct sk_image *out, sk_err_t *err)
{
  const char *rest;
  enum sk_transport t;

  memset (out, 0, sizeof *out);
  out->hold_fd = -1;
  out->ref = xstrdup (ref);
  t = sk_transport_of (ref, &rest);
  if (t == SK_TRANSPORT_DIR)
    return resolve_dir (ref, rest, task_dir, out, err);
  return resolve_stored (ref, task_dir, o, t, out, err);
}

void
sk_image_clear (struct sk_image *img)
{
  if (img->held && img->hold_fd >= 0)
    close (img->hold_fd);
  free (img->ref);
  free (img->rootfs);
  sk_strv_free (img->lowers);
  free (img->manifest_digest);
  sk_strv_free (img->entrypoint);
  sk_strv_free (img->cmd);
  sk_strv_free (img->env);
  free (img->working_dir);
  free (img->user);
  free (img->stop_signal);
  sk_strv_free (img->healthcheck);
  memset (img, 0, sizeof *img);
  img->hold_fd = -1;
}
