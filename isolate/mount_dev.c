/* /dev inside the container: a fresh tmpfs with the OCI default nodes and
 * links, devpts, shm, mqueue; then the task's own devices. Child side. */
#include "mount_internal.h"
#include "safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define SAFE_STD (SK_SAFE_DIR | SK_SAFE_MKDIR | SK_SAFE_NO_SYMLINKS)

/* Bind the host node onto an empty file at dest: the way in when mknod is
 * refused (EPERM in a user namespace). */
static int
bind_host_node (int rootfd, int parent, const char *name, const char *dest, const char *host_path,
                int phase, struct sk_child_fail *f)
{
  int fd = openat (parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);

  if (fd < 0)
    return sk_child_fail (f, phase, errno, "create `%s`", dest);
  close (fd);
  return sk_mount_at (rootfd, host_path, dest, "none", MS_BIND, NULL, 0, phase, f);
}

/* Create the node `name` in the directory parent (dest inside the root). */
static int
make_node_in (int rootfd, int parent, const char *name, const char *dest, mode_t mode, dev_t rdev,
              const char *host_path, int phase, struct sk_child_fail *f)
{
  int rc = mknodat (parent, name, mode, rdev);
  if (rc < 0 && errno == EEXIST)
    {
      /* A task device replacing a default one (or an image file): the
       * task's definition wins. unlinkat never follows a symlink. */
      if (unlinkat (parent, name, 0) == 0)
        rc = mknodat (parent, name, mode, rdev);
    }
  if (rc < 0 && errno == EPERM && host_path != NULL)
    rc = bind_host_node (rootfd, parent, name, dest, host_path, phase, f);
  else if (rc < 0)
    rc = sk_child_fail (f, phase, errno, "mknod `%s` (%u:%u)", dest, major (rdev), minor (rdev));
  return rc;
}

/* Create the node dest (resolved inside the root, parents created). */
static int
make_node (int rootfd, const char *dest, mode_t mode, dev_t rdev, const char *host_path, int phase,
           struct sk_child_fail *f)
{
  char parent_path[PATH_MAX];
  const char *slash = strrchr (dest, '/');
  const char *name = slash != NULL ? slash + 1 : dest;
  size_t n = slash != NULL ? (size_t)(slash - dest) : 0;
  int parent, rc;

  if (name[0] == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0 || n >= PATH_MAX)
    return sk_child_fail (f, phase, EINVAL, "device path `%s`", dest);
  memcpy (parent_path, dest, n);
  parent_path[n] = '\0';
  parent = sk_safe_open (rootfd, parent_path, SK_SAFE_DIR | SK_SAFE_MKDIR);
  if (parent < 0)
    return sk_child_fail (f, phase, errno, "open `%s` inside the container root",
                          n > 0 ? parent_path : "/");
  rc = make_node_in (rootfd, parent, name, dest, mode, rdev, host_path, phase, f);
  close (parent);
  return rc;
}

int
sk_mount_dev (const struct sk_mount_plan *plan, int rootfd, struct sk_child_fail *f)
{
  static const struct
  {
    const char *name, *host;
    unsigned major, minor;
  } nodes[] = {
    { "null", "/dev/null", 1, 3 },     { "zero", "/dev/zero", 1, 5 },
    { "full", "/dev/full", 1, 7 },     { "tty", "/dev/tty", 5, 0 },
    { "random", "/dev/random", 1, 8 }, { "urandom", "/dev/urandom", 1, 9 },
  };
  static const struct
  {
    const char *name, *target;
  } links[] = {
    { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" },
    { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
    { "core", "/proc/kcore" },       { "ptmx", "pts/ptmx" },
  };
  char data[64];
  size_t i;
  int devfd, rc = 0;

  /* No noexec, as Docker and crun: mmap(PROT_EXEC) of /dev/zero must work. */
  if (sk_mount_at (rootfd, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
                   "mode=755,size=65536k", SAFE_STD, SK_PHASE_DEVICES, f)
      < 0)
    return -1;

  /* Opened after the tmpfs mount, so this is the tmpfs root, not the
   * image's /dev underneath. Everything below is made right in it: the
   * tmpfs is new and empty, there is nothing to resolve. */
  devfd = sk_safe_open (rootfd, "/dev", SK_SAFE_DIR | SK_SAFE_NO_SYMLINKS);
  if (devfd < 0)
    return sk_child_fail (f, SK_PHASE_DEVICES, errno, "open `/dev` inside the container root");

  for (i = 0; rc == 0 && i < sizeof nodes / sizeof nodes[0]; i++)
    {
      char dest[32];

      snprintf (dest, sizeof dest, "/dev/%s", nodes[i].name);
      rc = make_node_in (rootfd, devfd, nodes[i].name, dest, S_IFCHR | 0666,
                         makedev (nodes[i].major, nodes[i].minor), nodes[i].host, SK_PHASE_DEVICES,
                         f);
    }
  for (i = 0; rc == 0 && i < sizeof links / sizeof links[0]; i++)
    if (symlinkat (links[i].target, devfd, links[i].name) < 0)
      rc = sk_child_fail (f, SK_PHASE_DEVICES, errno, "symlink `/dev/%s` to `%s`", links[i].name,
                          links[i].target);

  /* newinstance: the container's ptys are its own, not the host's. */
  if (rc == 0)
    rc = sk_mount_in_new_dir (devfd, "pts", "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                              "newinstance,ptmxmode=0666,mode=0620,gid=5", SK_PHASE_DEVICES, f);
  snprintf (data, sizeof data, "mode=1777,size=%um",
            (unsigned)(plan->shm_size_mib != 0 ? plan->shm_size_mib : 64));
  if (rc == 0)
    rc = sk_mount_in_new_dir (devfd, "shm", "/dev/shm", "shm", "tmpfs",
                              MS_NOSUID | MS_NOEXEC | MS_NODEV, data, SK_PHASE_DEVICES, f);
  /* mqueue shows the queues of the IPC namespace that mounts it: ours. */
  if (rc == 0)
    rc = sk_mount_in_new_dir (devfd, "mqueue", "/dev/mqueue", "mqueue", "mqueue",
                              MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL, SK_PHASE_DEVICES, f);
  close (devfd);
  return rc;
}

int
sk_mount_devices (const struct sk_mount_plan *plan, int rootfd, struct sk_child_fail *f)
{
  size_t i;

  for (i = 0; i < plan->n_devices; i++)
    {
      const struct sk_device_node *d = &plan->devices[i];

      if (d->dest == NULL || d->dest[0] != '/' || (!S_ISCHR (d->mode) && !S_ISBLK (d->mode)))
        return sk_child_fail (f, SK_PHASE_DEVICES, EINVAL,
                              "device `%s` is not an absolute "
                              "character or block device path",
                              d->dest != NULL ? d->dest : "(null)");
      if (make_node (rootfd, d->dest, d->mode, d->rdev, d->host_path, SK_PHASE_DEVICES, f) < 0)
        return -1;
    }
  return 0;
}
