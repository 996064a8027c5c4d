#include "image.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
sk_image_resolve (const char *ref, const char *task_dir, struct sk_image *out, sk_err_t *err)
{
  memset (out, 0, sizeof *out);
  out->ref = xstrdup (ref);
  if (strncmp (ref, "dir:", 4) == 0)
    return resolve_dir (ref, ref + 4, task_dir, out, err);
  return sk_err_set (err, 0,
                     "image `%s`: registry and archive images are not supported by this skiff "
                     "build; give a root filesystem directory as \"dir:PATH\"",
                     ref);
}

void
sk_image_clear (struct sk_image *img)
{
  free (img->ref);
  free (img->rootfs);
  sk_strv_free (img->entrypoint);
  sk_strv_free (img->cmd);
  sk_strv_free (img->env);
  free (img->working_dir);
  free (img->user);
  free (img->stop_signal);
  memset (img, 0, sizeof *img);
}
