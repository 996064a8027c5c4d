/* The container's filesystem view: parent prepares a plan, the child carries
 * it out inside its new mount namespace, up to and including pivot_root. */
#ifndef SKIFF_MOUNT_H
#define SKIFF_MOUNT_H

#include "child.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sk_bind_mount
{
  char *source; /* absolute host path, opened by the parent's checks */
  char *dest;   /* absolute path inside the container */
  bool read_only;
};

struct sk_tmpfs_mount
{
  char *dest;          /* absolute path inside the container */
  unsigned long flags; /* MS_* flags from the mountOptions */
  char *data;          /* "size=...,mode=..." and the other data options */
};

struct sk_device_node
{
  char *dest;      /* absolute path inside the container, e.g. /dev/fuse */
  char *host_path; /* the host node; bound when mknod is not possible */
  mode_t mode;     /* S_IFCHR or S_IFBLK | permissions */
  dev_t rdev;
};

struct sk_mount_plan
{
  /* Root filesystem: with upper == NULL (readonlyRootFilesystem) the image
   * directory `lower` itself is bound read-only; otherwise an overlay of
   * lower + upper/work (directories the parent created under the task's
   * state) is mounted on `merged` inside the child's mount namespace, so it
   * vanishes with the namespace. */
  char *lower;
  /* Layered images (launcher/image.c): the lower directories, top first,
   * NULL-terminated; when non-NULL they replace `lower` (which then names
   * the top one) and overlay gets lowerdir=top:...:bottom. */
  char **lowers;
  char *upper;
  char *work;
  char *merged;
  bool readonly_root;
  /* The root filesystem is already on `merged` when the child starts its
   * mounts: with a user namespace the parent builds it from ID-mapped
   * layers (isolate/userns.h) and the child attaches it. */
  bool root_premounted;

  bool own_netns;        /* fresh sysfs when true, read-only bind of /sys otherwise */
  bool privileged;       /* no masked paths, /sys writable, host devices */
  uint32_t shm_size_mib; /* /dev/shm size, default 64 */

  size_t n_binds;
  struct sk_bind_mount *binds;
  size_t n_tmpfs;
  struct sk_tmpfs_mount *tmpfs;
  size_t n_devices;
  struct sk_device_node *devices;
};

/* Parent: create the writable-layer directories and fill plan->lower/upper/
 * work/merged for an image directory. state_dir is the container's own
 * directory under the task state. */
int sk_rootfs_prepare (struct sk_mount_plan *plan, const char *image_dir, const char *state_dir,
                       bool readonly_root, sk_err_t *err);

/* The same for a layered image: lowers top first, NULL-terminated. */
int sk_rootfs_prepare_layers (struct sk_mount_plan *plan, const char *const *lowers,
                              const char *state_dir, bool readonly_root, sk_err_t *err);

/* The same, with the root filesystem mounted on `mount_point` instead of
 * `<state_dir>/merged`: one directory (made if missing) that every container
 * can share, since each child mounts on it inside its own private mount
 * namespace. state_dir is then made only for the writable layer. Not for a
 * root the parent premounts in a user namespace: that one is chowned to the
 * namespace's root and needs its own directory. NULL: as above. */
int sk_rootfs_prepare_at (struct sk_mount_plan *plan, const char *image_dir, const char *state_dir,
                          const char *mount_point, bool readonly_root, sk_err_t *err);
int sk_rootfs_prepare_layers_at (struct sk_mount_plan *plan, const char *const *lowers,
                                 const char *state_dir, const char *mount_point, bool readonly_root,
                                 sk_err_t *err);

/* Parse ECS tmpfs mountOptions into flags + data. */
int sk_tmpfs_options (const char *const *options, size_t n, uint32_t size_mib, unsigned long *flags,
                      char **data, sk_err_t *err);

/* Child, in its new mount namespace: propagation private, rootfs, /proc,
 * /dev, /sys, volumes, tmpfs, devices, masked and read-only paths, then
 * pivot_root and the read-only remount of /. Every destination is resolved
 * inside the rootfs without following symlinks out of it. */
int sk_mounts_setup_in_child (const struct sk_mount_plan *plan, struct sk_child_fail *f);

void sk_mount_plan_clear (struct sk_mount_plan *plan);

#endif
