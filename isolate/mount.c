/* The child half of the container filesystem: from the host's mount table
 * (copied into our new mount namespace) to a pivoted root. Parent-side
 * preparation is in rootfs.c; /dev in mount_dev.c; masks in mount_mask.c.
 *
 * Everything here runs after clone, in the child: only system calls on the
 * plan the parent prepared, fixed buffers, failures reported through
 * sk_child_fail naming the call and the object. */
#include "mount.h"
#include "mount_internal.h"
#include "safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Binds, remounts and propagation changes pass "none" as source/type where
 * the kernel ignores them (as util-linux does): never a NULL string. */

/* Kernel-owned filesystems are set up here, never by the task. */
#define SAFE_STD (SK_SAFE_DIR | SK_SAFE_MKDIR | SK_SAFE_NO_SYMLINKS)

/* Mount on the directory `fd` holds (through its /proc/self/fd path, so
 * nothing is resolved again) and close it; `shown` names it in errors. */
static int
mount_on_fd (int fd, const char *src, const char *shown, const char *fstype, unsigned long flags,
             const void *data, int phase, struct sk_child_fail *f)
{
  char fd_path[SK_SAFE_FD_PATH_MAX];
  int rc, saved;

  sk_safe_fd_path (fd_path, fd);
  rc = mount (src, fd_path, fstype, flags, data);
  saved = errno;
  close (fd);
  if (rc < 0)
    return sk_child_fail (f, phase, saved, "mount `%s` on `%s`", src, shown);
  return 0;
}

int
sk_mount_at (int rootfd, const char *src, const char *dest, const char *fstype, unsigned long flags,
             const void *data, unsigned safe_flags, int phase, struct sk_child_fail *f)
{
  int fd = sk_safe_open (rootfd, dest, safe_flags);

  if (fd < 0)
    return sk_child_fail (f, phase, errno, "open `%s` inside the container root", dest);
  return mount_on_fd (fd, src, dest, fstype, flags, data, phase, f);
}

/* statvfs reports ST_* bits; a bind remount must repeat them as MS_* or the
 * kernel tries to clear them (and refuses when they are locked). */
static unsigned long
ms_flags_of (int fd)
{
  static const struct
  {
    unsigned long st, ms;
  } map[] = {
    { ST_NOSUID, MS_NOSUID },   { ST_NODEV, MS_NODEV },           { ST_NOEXEC, MS_NOEXEC },
    { ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
  };
  struct statvfs sv;
  unsigned long ms = 0;
  size_t i;

  if (fstatvfs (fd, &sv) < 0)
    return 0;
  for (i = 0; i < sizeof map / sizeof map[0]; i++)
    if (sv.f_flag & map[i].st)
      ms |= map[i].ms;
  return ms;
}

/* Set read-only and/or nosuid+nodev on the mount whose root fd names. */
static int
mount_set_attrs (int fd, const char *shown, bool rdonly, bool harden, int phase,
                 struct sk_child_fail *f)
{
  struct mount_attr attr = {
    .attr_set
    = (rdonly ? MOUNT_ATTR_RDONLY : 0) | (harden ? MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV : 0),
  };
  char fd_path[SK_SAFE_FD_PATH_MAX];
  unsigned long flags;

  /* mount_setattr changes only the bits named, atomically, and for every
   * submount too (AT_RECURSIVE). */
  if (mount_setattr (fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0)
    return 0;
  if (errno != ENOSYS)
    return sk_child_fail (f, phase, errno, "mount_setattr `%s`%s%s", shown,
                          rdonly ? " read-only" : "", harden ? " nosuid,nodev" : "");

  /* Older kernels: a bind remount of this mount only (submounts keep their
   * flags), repeating the flags already on it. */
  flags = MS_BIND | MS_REMOUNT | ms_flags_of (fd) | (rdonly ? MS_RDONLY : 0)
          | (harden ? MS_NOSUID | MS_NODEV : 0);
  sk_safe_fd_path (fd_path, fd);
  if (mount ("none", fd_path, "none", flags, NULL) < 0)
    return sk_child_fail (f, phase, errno, "remount `%s`%s%s", shown, rdonly ? " read-only" : "",
                          harden ? " nosuid,nodev" : "");
  return 0;
}

int
sk_mount_make_readonly (int fd, const char *shown, bool extra_hardening, int phase,
                        struct sk_child_fail *f)
{
  return mount_set_attrs (fd, shown, true, extra_hardening, phase, f);
}

/* Overlay splits its options on ',' and lowerdir on ':', with '\' escapes
 * whose handling has changed between kernels: refuse rather than guess. */
static int
check_overlay_path (const char *path, struct sk_child_fail *f)
{
  if (strpbrk (path, ",:\\") != NULL)
    return sk_child_fail (f, SK_PHASE_MOUNT, EINVAL,
                          "overlay layer path `%s` contains ',' ':' or '\\'", path);
  return 0;
}

/* One layer for the fd-based overlay API: by fd (Linux 6.13+), else by
 * path, which fsconfig caps at 256 bytes. */
static int
overlay_layer_param (int fsfd, const char *key, const char *path, struct sk_child_fail *f)
{
  int dfd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int e;

  if (dfd < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "open overlay layer `%s`", path);
  if (syscall (SYS_fsconfig, fsfd, FSCONFIG_SET_FD, key, NULL, dfd) == 0)
    {
      close (dfd);
      return 0;
    }
  close (dfd);
  if (syscall (SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, key, path, 0) == 0)
    return 0;
  e = errno;
  return sk_child_fail (f, SK_PHASE_MOUNT, e,
                        "fsconfig overlay `%s` `%s` (too many layers for one mount option page; "
                        "this needs Linux 6.8+ for lowerdir+, 6.13+ for paths over 256 bytes)",
                        key, path);
}

/* Overlay of several lowers (a layered image). mount(2) takes at most a page
 * of options; a longer list goes through the fd-based API, one "lowerdir+"
 * per layer (Linux 6.8+). No allocation: the child runs this. */
static int
mount_layers (const struct sk_mount_plan *plan, struct sk_child_fail *f)
{
  static char data[4096];
  size_t len = 0;
  int n, fsfd, mfd;

  n = snprintf (data, sizeof data, "lowerdir=");
  len = (size_t)n;
  for (size_t i = 0; plan->lowers[i] != NULL; i++)
    {
      if (check_overlay_path (plan->lowers[i], f) < 0)
        return -1;
      n = snprintf (data + len, sizeof data - len, "%s%s", i > 0 ? ":" : "", plan->lowers[i]);
      if (n < 0 || (size_t)n >= sizeof data - len)
        goto fd_api;
      len += (size_t)n;
    }
  if (plan->upper != NULL)
    {
      if (check_overlay_path (plan->upper, f) < 0 || check_overlay_path (plan->work, f) < 0)
        return -1;
      n = snprintf (data + len, sizeof data - len, ",upperdir=%s,workdir=%s", plan->upper,
                    plan->work);
      if (n < 0 || (size_t)n >= sizeof data - len)
        goto fd_api;
    }
  if (mount ("overlay", plan->merged, "overlay", plan->upper == NULL ? MS_RDONLY : 0, data) < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "mount `overlay` of the image layers on `%s`%s",
                          plan->merged,
                          errno == ENODEV ? " (overlayfs is not available: modprobe overlay)" : "");
  return 0;

fd_api:
  fsfd = (int)syscall (SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (fsfd < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "fsopen `overlay`");
  for (size_t i = 0; plan->lowers[i] != NULL; i++)
    if (overlay_layer_param (fsfd, "lowerdir+", plan->lowers[i], f) < 0)
      {
        close (fsfd);
        return -1;
      }
  if (plan->upper != NULL
      && (overlay_layer_param (fsfd, "upperdir", plan->upper, f) < 0
          || overlay_layer_param (fsfd, "workdir", plan->work, f) < 0))
    {
      close (fsfd);
      return -1;
    }
  if (syscall (SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    {
      int e = errno;
      close (fsfd);
      return sk_child_fail (f, SK_PHASE_MOUNT, e, "fsconfig overlay for `%s`", plan->merged);
    }
  mfd = (int)syscall (SYS_fsmount, fsfd, FSMOUNT_CLOEXEC,
                      plan->upper == NULL ? MOUNT_ATTR_RDONLY : 0);
  close (fsfd);
  if (mfd < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "fsmount overlay for `%s`", plan->merged);
  if (syscall (SYS_move_mount, mfd, "", AT_FDCWD, plan->merged, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    {
      int e = errno;
      close (mfd);
      return sk_child_fail (f, SK_PHASE_MOUNT, e, "move_mount overlay on `%s`", plan->merged);
    }
  close (mfd);
  return 0;
}

static int
mount_rootfs (const struct sk_mount_plan *plan, int *rootfd, struct sk_child_fail *f)
{
  /* Static: a PATH_MAX-sized triple does not belong on the child's stack. */
  static char data[3 * PATH_MAX + 64];

  if (plan->root_premounted)
    ; /* attached by the launch code (--userns) */
  else if (plan->lowers != NULL && (plan->upper != NULL || plan->lowers[1] != NULL))
    {
      if (mount_layers (plan, f) < 0)
        return -1;
    }
  else if (plan->upper != NULL)
    {
      int n;

      if (check_overlay_path (plan->lower, f) < 0 || check_overlay_path (plan->upper, f) < 0
          || check_overlay_path (plan->work, f) < 0)
        return -1;
      n = snprintf (data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", plan->lower,
                    plan->upper, plan->work);
      if (n < 0 || (size_t)n >= sizeof data)
        return sk_child_fail (f, SK_PHASE_MOUNT, ENAMETOOLONG, "overlay options for `%s`",
                              plan->merged);
      if (mount ("overlay", plan->merged, "overlay", 0, data) < 0)
        {
          int e = errno;
          if (e == ENODEV)
            return sk_child_fail (f, SK_PHASE_MOUNT, e,
                                  "mount `overlay` on `%s` (overlayfs is not available: "
                                  "modprobe overlay)",
                                  plan->merged);
          if (e == EINVAL)
            return sk_child_fail (f, SK_PHASE_MOUNT, e,
                                  "mount `overlay` on `%s` (lower `%s`, upper `%s`; upper and "
                                  "work must be on one filesystem that overlay accepts as upper, "
                                  "not overlayfs itself)",
                                  plan->merged, plan->lower, plan->upper);
          return sk_child_fail (f, SK_PHASE_MOUNT, e, "mount `overlay` on `%s`", plan->merged);
        }
    }
  else if (mount (plan->lower, plan->merged, "none", MS_BIND | MS_REC, NULL) < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "mount `%s` on `%s`", plan->lower,
                          plan->merged);

  /* Both branches leave a mount whose root is `merged`, which is what
   * pivot_root needs, so no extra self-bind. The fd is the anchor every
   * destination is resolved from. */
  *rootfd = open (plan->merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*rootfd < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "open `%s`", plan->merged);
  return 0;
}

static int
mount_proc (int rootfd, struct sk_child_fail *f)
{
  /* A fresh procfs shows our pid namespace: the caller is already its pid 1.
   * SAFE_STD refuses an image whose /proc is a symlink (CVE-2019-16884). */
  return sk_mount_at (rootfd, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
                      SAFE_STD, SK_PHASE_MOUNT, f);
}

int
sk_mount_in_new_dir (int dirfd, const char *name, const char *shown, const char *src,
                     const char *fstype, unsigned long flags, const void *data, int phase,
                     struct sk_child_fail *f)
{
  int fd;

  if (mkdirat (dirfd, name, 0755) < 0 && errno != EEXIST)
    return sk_child_fail (f, phase, errno, "mkdir `%s`", shown);
  fd = openat (dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return sk_child_fail (f, phase, errno, "open `%s`", shown);
  return mount_on_fd (fd, src, shown, fstype, flags, data, phase, f);
}

/* On a v1 or hybrid host: a tmpfs with one read-only cgroup v1 mount per
 * hierarchy we belong to (as Docker does). The cgroup namespace was unshared
 * before, so each mount shows only our own subtree. The hierarchies' mount
 * points are made right in the new tmpfs (sk_mount_in_new_dir). */
static int
mount_cgroup_v1 (int rootfd, bool privileged, struct sk_child_fail *f)
{
  static char buf[4096];
  char dest[64 + NAME_MAX];
  unsigned long ro = privileged ? 0 : MS_RDONLY;
  ssize_t len;
  char *line, *next;
  int fd, top, rc = 0;

  if (sk_mount_at (rootfd, "tmpfs", "/sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "mode=755,size=64k", SAFE_STD, SK_PHASE_MOUNT, f)
      < 0)
    return -1;

  fd = open ("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "open `/proc/self/cgroup`");
  len = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (len < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "read `/proc/self/cgroup`");
  buf[len] = '\0';

  /* The tmpfs just mounted: resolved once, by the same rules as before. */
  top = sk_safe_open (rootfd, "/sys/fs/cgroup", SK_SAFE_DIR | SK_SAFE_NO_SYMLINKS);
  if (top < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "open `/sys/fs/cgroup`");

  /* Lines are "id:controllers:path"; "0::path" is the v2 tree, skipped. */
  for (line = buf; rc == 0 && line != NULL && *line != '\0'; line = next)
    {
      char *controllers, *colon, *dir;

      next = strchr (line, '\n');
      if (next != NULL)
        *next++ = '\0';
      controllers = strchr (line, ':');
      if (controllers == NULL)
        continue;
      controllers++;
      colon = strchr (controllers, ':');
      if (colon == NULL || colon == controllers)
        continue;
      *colon = '\0';
      dir = strncmp (controllers, "name=", 5) == 0 ? controllers + 5 : controllers;
      if (dir[0] == '\0' || strchr (dir, '/') != NULL || strcmp (dir, ".") == 0
          || strcmp (dir, "..") == 0 || strlen (dir) > NAME_MAX)
        continue;
      snprintf (dest, sizeof dest, "/sys/fs/cgroup/%s", dir);
      rc = sk_mount_in_new_dir (top, dir, dest, "cgroup", "cgroup",
                                ro | MS_NOSUID | MS_NODEV | MS_NOEXEC, controllers, SK_PHASE_MOUNT,
                                f);
    }

  /* Read-only last: the hierarchy directories had to be created first. */
  if (rc == 0 && !privileged)
    rc = sk_mount_make_readonly (top, "/sys/fs/cgroup", false, SK_PHASE_MOUNT, f);
  close (top);
  return rc;
}

static int
mount_sys (const struct sk_mount_plan *plan, int rootfd, struct sk_child_fail *f)
{
  unsigned long ro = plan->privileged ? 0 : MS_RDONLY;
  struct statfs host_cgroup;

  /* A fresh sysfs, whose network devices are those of the mounting
   * namespace (the host's with networkMode host): as real root we own every
   * network namespace. Only where the kernel refuses (inside a user
   * namespace) fall back to the host's, bound without its submounts so the
   * host's cgroup tree and securityfs do not come along, and read-only. */
  if (sk_mount_at (rootfd, "sysfs", "/sys", "sysfs", ro | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
                   SAFE_STD, SK_PHASE_MOUNT, f)
      < 0)
    {
      if (f->err != EPERM || plan->own_netns)
        return -1;
      /* In a user namespace the host's submounts are locked to /sys: the
       * kernel refuses (EINVAL) a bind that would leave them behind, so
       * they come along, read-only like the rest (runc does the same). */
      if (sk_mount_at (rootfd, "/sys", "/sys", "none", MS_BIND, NULL, SAFE_STD, SK_PHASE_MOUNT, f)
              < 0
          && (f->err != EINVAL
              || sk_mount_at (rootfd, "/sys", "/sys", "none", MS_BIND | MS_REC, NULL, SAFE_STD,
                              SK_PHASE_MOUNT, f)
                     < 0))
        return -1;
      if (!plan->privileged)
        {
          int fd = sk_safe_open (rootfd, "/sys", SK_SAFE_DIR | SK_SAFE_NO_SYMLINKS);
          int rc;
          if (fd < 0)
            return sk_child_fail (f, SK_PHASE_MOUNT, errno, "open `/sys`");
          rc = sk_mount_make_readonly (fd, "/sys", true, SK_PHASE_MOUNT, f);
          close (fd);
          if (rc < 0)
            return -1;
        }
    }

  /* The host's /sys/fs/cgroup is still reachable: it tells the layout. */
  if (statfs ("/sys/fs/cgroup", &host_cgroup) < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "statfs `/sys/fs/cgroup`");
  if (host_cgroup.f_type == CGROUP2_SUPER_MAGIC)
    return sk_mount_at (rootfd, "cgroup2", "/sys/fs/cgroup", "cgroup2",
                        ro | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, SAFE_STD, SK_PHASE_MOUNT, f);
  return mount_cgroup_v1 (rootfd, plan->privileged, f);
}

/* "/" itself and the kernel filesystems the runtime owns are not volume
 * destinations: a bind over /proc would defeat the masks below. */
static int
check_destination (const char *dest, struct sk_child_fail *f)
{
  static const char *const reserved[] = { "proc", "sys" };
  char clean[PATH_MAX];
  size_t i;

  if (dest == NULL || dest[0] != '/')
    return sk_child_fail (f, SK_PHASE_MOUNT, EINVAL, "mount destination `%s` is not absolute",
                          dest != NULL ? dest : "(null)");
  if (sk_safe_path_clean (dest, clean, sizeof clean) < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "mount destination `%s`", dest);
  if (clean[0] == '\0')
    return sk_child_fail (f, SK_PHASE_MOUNT, EINVAL, "mount destination `%s` is the root", dest);
  for (i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    {
      size_t n = strlen (reserved[i]);
      if (strncmp (clean, reserved[i], n) == 0 && (clean[n] == '\0' || clean[n] == '/'))
        return sk_child_fail (f, SK_PHASE_MOUNT, EINVAL,
                              "mount destination `%s` is under `/%s`, which skiff manages", dest,
                              reserved[i]);
    }
  return 0;
}

static int
mount_bind (const struct sk_bind_mount *b, int rootfd, struct sk_child_fail *f)
{
  struct stat st;
  int fd, rc;

  if (check_destination (b->dest, f) < 0)
    return -1;
  if (stat (b->source, &st) < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "stat `%s`", b->source);
  if (sk_mount_at (rootfd, b->source, b->dest, "none", MS_BIND | MS_REC, NULL,
                   S_ISDIR (st.st_mode) ? SK_SAFE_DIR | SK_SAFE_MKDIR : SK_SAFE_MKFILE,
                   SK_PHASE_MOUNT, f)
      < 0)
    return -1;
  /* Resolve again: the fd used for the mount names the directory under it,
   * this one names the new mount's root. Volumes are always nosuid,nodev:
   * a host directory must not bring set-uid files or device nodes in. */
  fd = sk_safe_open (rootfd, b->dest, 0);
  if (fd < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "open `%s` inside the container root", b->dest);
  rc = mount_set_attrs (fd, b->dest, b->read_only, true, SK_PHASE_MOUNT, f);
  close (fd);
  return rc;
}

static int
mount_volumes (const struct sk_mount_plan *plan, int rootfd, struct sk_child_fail *f)
{
  size_t i;

  for (i = 0; i < plan->n_binds; i++)
    if (mount_bind (&plan->binds[i], rootfd, f) < 0)
      return -1;
  for (i = 0; i < plan->n_tmpfs; i++)
    {
      const struct sk_tmpfs_mount *t = &plan->tmpfs[i];
      if (check_destination (t->dest, f) < 0
          || sk_mount_at (rootfd, "tmpfs", t->dest, "tmpfs", t->flags, t->data,
                          SK_SAFE_DIR | SK_SAFE_MKDIR, SK_PHASE_MOUNT, f)
                 < 0)
        return -1;
    }
  return 0;
}

static int
pivot (int rootfd, const char *shown, struct sk_child_fail *f)
{
  if (fchdir (rootfd) < 0)
    return sk_child_fail (f, SK_PHASE_PIVOT, errno, "fchdir `%s`", shown);
  /* pivot_root(".", "."): the old root ends up stacked on the new one, with
   * no directory needed inside the image to hold it (crun, bubblewrap). */
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return sk_child_fail (f, SK_PHASE_PIVOT, errno, "pivot_root `%s`", shown);
  /* Detach the old root, once. umount2 follows mounts stacked on ".", so
   * this reaches the old root; a second MNT_DETACH of "." is NOT a harmless
   * EINVAL: Linux 6.x detaches the new root itself and every mount under it
   * (/proc, /dev...) — observed here, hence no "until EINVAL" loop. */
  if (umount2 (".", MNT_DETACH) < 0)
    return sk_child_fail (f, SK_PHASE_PIVOT, errno, "umount2 `%s`", "old root");
  if (chdir ("/") < 0)
    return sk_child_fail (f, SK_PHASE_PIVOT, errno, "chdir `%s`", "/");
  return 0;
}

static int
remount_root_readonly (struct sk_child_fail *f)
{
  int fd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  unsigned long flags;
  int rc;

  if (fd < 0)
    return sk_child_fail (f, SK_PHASE_PIVOT, errno, "open `%s`", "/");
  /* Not recursive: /proc, /dev and volumes keep their own flags. Keep the
   * flags already on / (nosuid...), the kernel refuses to clear locked ones. */
  flags = MS_BIND | MS_REMOUNT | MS_RDONLY | ms_flags_of (fd);
  close (fd);
  rc = mount ("none", "/", "none", flags, NULL);
  if (rc < 0)
    return sk_child_fail (f, SK_PHASE_PIVOT, errno, "remount `%s` read-only", "/");
  return 0;
}

static int
setup_with_root (const struct sk_mount_plan *plan, int rootfd, struct sk_child_fail *f)
{
  /* /proc first, after the pid namespace exists (we are its pid 1) so it
   * shows the container's processes. Every "/proc/self/fd/N" we mount onto
   * below still goes through the host's /proc at "/proc", which stays
   * reachable until the pivot. */
  if (mount_proc (rootfd, f) < 0)
    return -1;
  if (sk_mount_dev (plan, rootfd, f) < 0)
    return -1;
  if (mount_sys (plan, rootfd, f) < 0)
    return -1;
  /* Volumes after the standard filesystems so a volume under /dev lands on
   * our tmpfs instead of being hidden by it. */
  if (mount_volumes (plan, rootfd, f) < 0)
    return -1;
  if (sk_mount_devices (plan, rootfd, f) < 0)
    return -1;
  /* Masks after everything that could mount over them, and before the
   * pivot while the host's verified /dev/null is still reachable. */
  if (!plan->privileged && sk_mount_mask_paths (rootfd, f) < 0)
    return -1;
  /* Every mount is done: only now may the host's tree disappear. */
  if (pivot (rootfd, plan->merged, f) < 0)
    return -1;
  /* Read-only last: until here we were creating mount points in the root. */
  if (plan->readonly_root && remount_root_readonly (f) < 0)
    return -1;
  return 0;
}

int
sk_mounts_setup_in_child (const struct sk_mount_plan *plan, struct sk_child_fail *f)
{
  mode_t old_umask;
  int rootfd = -1;
  int rc;

  if (plan->lower == NULL || plan->merged == NULL)
    return sk_child_fail (f, SK_PHASE_MOUNT, EINVAL, "mount plan without a root filesystem");

  /* First, before any mount: make every mount in our namespace private, so
   * nothing we mount reaches the host and no host mount reaches us. */
  if (mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
    return sk_child_fail (f, SK_PHASE_MOUNT, errno, "mount `%s` private", "/");

  /* Device nodes get exactly the modes we ask for. */
  old_umask = umask (0);
  rc = mount_rootfs (plan, &rootfd, f);
  if (rc == 0)
    rc = setup_with_root (plan, rootfd, f);
  if (rootfd >= 0)
    close (rootfd);
  umask (old_umask);
  return rc;
}
