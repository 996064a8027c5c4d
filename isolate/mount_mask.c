/* Masked and read-only paths (moby's defaults, security.md 1.3). Child side,
 * before pivot_root. */
#include "mount_internal.h"
#include "safepath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *const masked_paths[] = {
  "/proc/acpi",
  "/proc/asound",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/sys/devices/virtual/powercap",
  "/sys/firmware",
};

static const char *const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* Open a mask target; 1 when it does not exist (skipped, not an error). */
static int
open_target (int rootfd, const char *path, int *fd, struct sk_child_fail *f)
{
  /* No symlinks: under /proc and /sys nothing we mask is one, and a swapped
   * link must not redirect the mask. */
  *fd = sk_safe_open (rootfd, path, SK_SAFE_NO_SYMLINKS);
  if (*fd >= 0)
    return 0;
  if (errno == ENOENT)
    return 1;
  return sk_child_fail (f, SK_PHASE_MASK, errno, "open `%s` inside the container root", path);
}

static int
mask_one (int rootfd, const char *path, const char *null_path, struct sk_child_fail *f)
{
  char fd_path[SK_SAFE_FD_PATH_MAX];
  struct stat st;
  int fd, rc;

  rc = open_target (rootfd, path, &fd, f);
  if (rc != 0)
    return rc < 0 ? -1 : 0;
  if (fstat (fd, &st) < 0)
    {
      rc = sk_child_fail (f, SK_PHASE_MASK, errno, "stat `%s`", path);
      close (fd);
      return rc;
    }
  sk_safe_fd_path (fd_path, fd);
  /* Directories: an empty read-only tmpfs; files: the verified null device. */
  if (S_ISDIR (st.st_mode))
    rc = mount ("tmpfs", fd_path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=555,size=4k");
  else
    rc = mount (null_path, fd_path, "none", MS_BIND, NULL);
  if (rc < 0)
    rc = sk_child_fail (f, SK_PHASE_MASK, errno, "mask `%s` with `%s`", path,
                        S_ISDIR (st.st_mode) ? "tmpfs" : "/dev/null");
  close (fd);
  return rc;
}

static int
readonly_one (int rootfd, const char *path, struct sk_child_fail *f)
{
  char fd_path[SK_SAFE_FD_PATH_MAX];
  int fd, rc;

  rc = open_target (rootfd, path, &fd, f);
  if (rc != 0)
    return rc < 0 ? -1 : 0;
  /* Bind onto itself so it is a mount of its own that can be read-only. */
  sk_safe_fd_path (fd_path, fd);
  rc = mount (fd_path, fd_path, "none", MS_BIND | MS_REC, NULL);
  close (fd);
  if (rc < 0)
    return sk_child_fail (f, SK_PHASE_MASK, errno, "mount `%s` on `%s`", path, path);
  /* The old fd names the object under the new bind; the bind's root is
   * what gets the read-only flag. */
  rc = open_target (rootfd, path, &fd, f);
  if (rc != 0)
    return rc < 0 ? -1 : sk_child_fail (f, SK_PHASE_MASK, ENOENT, "reopen `%s`", path);
  rc = sk_mount_make_readonly (fd, path, false, SK_PHASE_MASK, f);
  close (fd);
  return rc;
}

/* moby 2025 (GHSA-6fw5-f8r9-fgfm): per-CPU thermal throttle counters leak
 * host activity. One mask per existing cpuN/thermal_throttle. */
static int
mask_thermal_throttle (int rootfd, const char *null_path, struct sk_child_fail *f)
{
  static const char cpu_dir[] = "/sys/devices/system/cpu";
  char path[sizeof cpu_dir + NAME_MAX + 32];
  struct dirent *de;
  DIR *dir;
  int fd, dfd, rc = 0;

  fd = sk_safe_open (rootfd, cpu_dir, SK_SAFE_DIR | SK_SAFE_NO_SYMLINKS);
  if (fd < 0)
    return errno == ENOENT ? 0 : sk_child_fail (f, SK_PHASE_MASK, errno, "open `%s`", cpu_dir);
  dfd = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  close (fd);
  if (dfd < 0)
    return sk_child_fail (f, SK_PHASE_MASK, errno, "open `%s`", cpu_dir);
  dir = fdopendir (dfd);
  if (dir == NULL)
    {
      close (dfd);
      return sk_child_fail (f, SK_PHASE_MASK, errno, "opendir `%s`", cpu_dir);
    }
  while (rc == 0 && (de = readdir (dir)) != NULL)
    {
      const char *digits = de->d_name + 3;
      if (strncmp (de->d_name, "cpu", 3) != 0 || *digits == '\0'
          || strspn (digits, "0123456789") != strlen (digits))
        continue;
      snprintf (path, sizeof path, "%s/%s/thermal_throttle", cpu_dir, de->d_name);
      rc = mask_one (rootfd, path, null_path, f);
    }
  closedir (dir);
  return rc;
}

int
sk_mount_mask_paths (int rootfd, struct sk_child_fail *f)
{
  char null_path[SK_SAFE_FD_PATH_MAX];
  struct stat st;
  size_t i;
  int null_fd, rc = 0;

  /* The host's /dev/null, checked to be the real 1:3 device and used through
   * this fd only (CVE-2025-31133: a swapped /dev/null unmasks files). */
  null_fd = open ("/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
  if (null_fd < 0)
    return sk_child_fail (f, SK_PHASE_MASK, errno, "open `%s`", "/dev/null");
  if (fstat (null_fd, &st) < 0 || !S_ISCHR (st.st_mode) || st.st_rdev != makedev (1, 3))
    {
      close (null_fd);
      return sk_child_fail (f, SK_PHASE_MASK, EINVAL, "`%s` is not the null device (1:3)",
                            "/dev/null");
    }
  sk_safe_fd_path (null_path, null_fd);

  for (i = 0; rc == 0 && i < sizeof masked_paths / sizeof masked_paths[0]; i++)
    rc = mask_one (rootfd, masked_paths[i], null_path, f);
  if (rc == 0)
    rc = mask_thermal_throttle (rootfd, null_path, f);
  for (i = 0; rc == 0 && i < sizeof readonly_paths / sizeof readonly_paths[0]; i++)
    rc = readonly_one (rootfd, readonly_paths[i], f);
  close (null_fd);
  return rc;
}
