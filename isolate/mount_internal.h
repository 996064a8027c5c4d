/* Shared between the child-side mount files (mount.c, mount_dev.c,
 * mount_mask.c); not part of the isolate/ interface. */
#ifndef SKIFF_MOUNT_INTERNAL_H
#define SKIFF_MOUNT_INTERNAL_H

#include "mount.h"

/* Resolve dest inside the root (with sk_safe_open's safe_flags) and mount
 * onto the resolved object. Failure names `src` and `dest`. */
int sk_mount_at (int rootfd, const char *src, const char *dest, const char *fstype,
                 unsigned long flags, const void *data, unsigned safe_flags, int phase,
                 struct sk_child_fail *f);

/* Make the directory `name` in dirfd (if missing) and mount onto it, never
 * following a symlink. Only for a directory of a filesystem this child has
 * just mounted (the /dev or /sys/fs/cgroup tmpfs): it is empty, so there is
 * nothing to resolve, which spares the walk from the container root. shown
 * names the path in the failure line. */
int sk_mount_in_new_dir (int dirfd, const char *name, const char *shown, const char *src,
                         const char *fstype, unsigned long flags, const void *data, int phase,
                         struct sk_child_fail *f);

/* Make the mount whose root fd refers to read-only, with nosuid/nodev added
 * when extra_hardening, recursively when possible (mount_setattr), else by a
 * bind remount that keeps the flags already on it. shown names the path in
 * the failure line. */
int sk_mount_make_readonly (int fd, const char *shown, bool extra_hardening, int phase,
                            struct sk_child_fail *f);

/* /dev: tmpfs, nodes, symlinks, pts, shm, mqueue (mount_dev.c). */
int sk_mount_dev (const struct sk_mount_plan *plan, int rootfd, struct sk_child_fail *f);

/* plan->devices (mount_dev.c). */
int sk_mount_devices (const struct sk_mount_plan *plan, int rootfd, struct sk_child_fail *f);

/* Masked and read-only paths under /proc and /sys (mount_mask.c). */
int sk_mount_mask_paths (int rootfd, struct sk_child_fail *f);

#endif
