/* Image references -> a root filesystem directory.
 * Today: `dir:PATH` (a plain root filesystem; PATH absolute or relative to
 * the task file's directory). Registry, `oci:` and `docker-archive:`
 * transports slot in here (issue: images). */
#ifndef SKIFF_IMAGE_H
#define SKIFF_IMAGE_H

#include "error.h"

#include <stdbool.h>

struct sk_image
{
  char *ref;        /* as written in the task */
  char *rootfs;     /* absolute, symlinks resolved */
  /* Image config defaults; NULL when the transport has none (dir:). */
  char **entrypoint;
  char **cmd;
  char **env;
  char *working_dir;
  char *user;
  char *stop_signal;
};

int sk_image_resolve (const char *ref, const char *task_dir, struct sk_image *out, sk_err_t *err);
void sk_image_clear (struct sk_image *img);

#endif
