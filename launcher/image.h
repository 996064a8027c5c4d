/* Image references -> what a container's root filesystem is made of.
 *
 *   dir:PATH              a plain root filesystem (PATH absolute or relative
 *                         to the task file's directory)
 *   NAME[:TAG][@DIGEST]   a registry image (Docker's reference rules)
 *   oci:PATH[:TAG]        an OCI image layout
 *   docker-archive:PATH   a `docker save` tarball
 *
 * Everything but dir: goes through the image store (image_store.h) and
 * yields a stack of unpacked layers. See docs/images.md. */
#ifndef SKIFF_IMAGE_H
#define SKIFF_IMAGE_H

#include "error.h"
#include "image_pull.h"

#include <stdbool.h>
#include <stddef.h>

struct sk_image
{
  char *ref; /* as written in the task */
  /* A directory whose etc/passwd and etc/group are the image's: the root
   * filesystem itself for dir:, a small view the store keeps for layered
   * images (user resolution reads it before anything is mounted). */
  char *rootfs;
  /* Layered images: unpacked layer directories, top first, NULL-terminated;
   * NULL for dir:. */
  char **lowers;
  size_t n_lowers;
  char *manifest_digest;
  /* Image config defaults; NULL when the transport has none (dir:). */
  char **entrypoint;
  char **cmd;
  char **env;
  char *working_dir;
  char *user;
  char *stop_signal;
  char **healthcheck; /* recorded, not applied: ECS ignores the image's HEALTHCHECK */
  /* A shared flock on the image while the container lives: prune and rmi
   * leave it alone. */
  int hold_fd;
  bool held;
};

struct sk_image_opts
{
  const char *root;           /* skiff root: the store is <root>/images */
  enum sk_pull_policy policy; /* registry images; local transports always re-read */
  const char *cpu_arch;       /* ECS runtimePlatform.cpuArchitecture or NULL */
  bool quiet;                 /* no pull progress */
};

int sk_image_resolve (const char *ref, const char *task_dir, const struct sk_image_opts *o,
                      struct sk_image *out, sk_err_t *err);
void sk_image_clear (struct sk_image *img);

/* The signal number of an image StopSignal ("SIGQUIT", "QUIT", "3"), or -1. */
int sk_image_stop_signal (const char *name);

#endif
