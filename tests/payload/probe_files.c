/* probe: files, file systems and mounts. */
#include "probe.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

/* ---- files and mounts ------------------------------------------------------------ */

int
verb_rofs (char **argv)
{
  char path[4096];
  int fd;

  snprintf (path, sizeof path, "%s/.probe-rofs-%d", argv[0], (int)getpid ());
  fd = open (path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return emit_errno ("rofs", errno);
  close (fd);
  unlink (path);
  emit ("rofs", "writable");
  return 0;
}

int
verb_read (char **argv)
{
  return dump_file ("read", argv[0]);
}

int
verb_write (char **argv)
{
  size_t len = strlen (argv[1]);
  int fd = open (argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  if (fd < 0)
    return emit_errno ("write", errno);
  if (write (fd, argv[1], len) != (ssize_t)len)
    {
      int saved = errno;
      close (fd);
      return emit_errno ("write", saved);
    }
  if (close (fd) < 0)
    return emit_errno ("write", errno);
  emit ("write", "OK");
  return 0;
}

static const char *
fs_type_name (long magic)
{
  switch ((unsigned long)magic)
    {
    case 0x01021994UL:
      return "tmpfs";
    case 0x9fa0UL:
      return "proc";
    case 0x62656572UL:
      return "sysfs";
    case 0x794c7630UL:
      return "overlay";
    case 0x1cd1UL:
      return "devpts";
    case 0xef53UL:
      return "ext4";
    case 0x63677270UL:
      return "cgroup2";
    case 0x27e0ebUL:
      return "cgroup";
    case 0x19800202UL:
      return "mqueue";
    case 0x58465342UL:
      return "xfs";
    case 0x9123683eUL:
      return "btrfs";
    default:
      return NULL;
    }
}

int
verb_stat (char **argv)
{
  struct stat st;
  struct statfs sfs;
  struct statvfs svfs;
  const char *type;

  if (lstat (argv[0], &st) < 0)
    return emit_errno ("stat", errno);
  type = S_ISDIR (st.st_mode)    ? "dir"
         : S_ISREG (st.st_mode)  ? "file"
         : S_ISLNK (st.st_mode)  ? "symlink"
         : S_ISCHR (st.st_mode)  ? "chr"
         : S_ISBLK (st.st_mode)  ? "blk"
         : S_ISFIFO (st.st_mode) ? "fifo"
                                 : "sock";
  emit ("stat.type", "%s", type);
  emit ("stat.mode", "%04o", (unsigned)(st.st_mode & 07777));
  emit ("stat.uid", "%u", (unsigned)st.st_uid);
  emit ("stat.gid", "%u", (unsigned)st.st_gid);
  emit ("stat.size", "%lld", (long long)st.st_size);
  if (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode))
    emit ("stat.rdev", "%u:%u", major (st.st_rdev), minor (st.st_rdev));
  /* The file system the path lives on (following a final symlink). */
  if (statfs (argv[0], &sfs) == 0 && statvfs (argv[0], &svfs) == 0)
    {
      const char *fs = fs_type_name ((long)sfs.f_type);
      if (fs)
        emit ("statfs.type", "%s", fs);
      else
        emit ("statfs.type", "0x%lx", (unsigned long)sfs.f_type);
      emit ("statfs.size", "%llu", (unsigned long long)svfs.f_blocks * svfs.f_frsize);
      emit ("statfs.readonly", "%d", (svfs.f_flag & ST_RDONLY) ? 1 : 0);
      emit ("statfs.nosuid", "%d", (svfs.f_flag & ST_NOSUID) ? 1 : 0);
      emit ("statfs.nodev", "%d", (svfs.f_flag & ST_NODEV) ? 1 : 0);
      emit ("statfs.noexec", "%d", (svfs.f_flag & ST_NOEXEC) ? 1 : 0);
    }
  return 0;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

int
verb_ls (char **argv)
{
  char *names[4096];
  size_t n = 0;
  struct dirent *de;
  DIR *d = opendir (argv[0]);

  if (d == NULL)
    return emit_errno ("ls", errno);
  while ((de = readdir (d)) && n < sizeof names / sizeof names[0])
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      names[n++] = strdup (de->d_name);
  closedir (d);
  qsort (names, n, sizeof names[0], compare_names);
  for (size_t i = 0; i < n; i++)
    {
      if (json_mode)
        {
          char key[32];
          snprintf (key, sizeof key, "ls.%zu", i);
          emit (key, "%s", names[i]);
        }
      else if (names[i])
        puts (names[i]);
      free (names[i]);
    }
  return 0;
}

int
verb_mounts (char **argv)
{
  return dump_file ("mounts", "/proc/self/mountinfo");
}

/* Open descriptors: a clean exec leaves exactly 0, 1 and 2. */
int
verb_fds (char **argv)
{
  char list[1024] = "";
  size_t len = 0;
  struct dirent *de;
  DIR *d = opendir ("/proc/self/fd");

  if (d == NULL)
    return emit_errno ("fds", errno);
  int self = dirfd (d);
  int fds[256];
  size_t n = 0;
  while ((de = readdir (d)) && n < sizeof fds / sizeof fds[0])
    if (de->d_name[0] != '.' && atoi (de->d_name) != self)
      fds[n++] = atoi (de->d_name);
  closedir (d);
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--)
      {
        int t = fds[j];
        fds[j] = fds[j - 1];
        fds[j - 1] = t;
      }
  for (size_t i = 0; i < n && len < sizeof list - 16; i++)
    len += (size_t)snprintf (list + len, sizeof list - len, "%s%d", i ? "," : "", fds[i]);
  emit ("fds", "%s", list);
  return 0;
}
