/* isolate/mount: the container filesystem, checked from inside a throw-away
 * container (fork, unshare, fork again so the grandchild is pid 1), and the
 * parent-side helpers. Needs root; skipped otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "mount.h"
#include "safepath.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

struct env
{
  char tmp[64];    /* /tmp/skiff-mount-XXXXXX */
  char *image;     /* tmp/image: the lower layer */
  char *state;     /* tmp/state: upper, work, merged */
  char *volume;    /* tmp/volume: a bind source with a file in it */
  char escape[64]; /* a name that must never appear in the host's /tmp */
  struct sk_mount_plan plan;
};

/* ---- helpers ------------------------------------------------------------- */

static void
write_file (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  assert_non_null (f);
  fputs (text, f);
  fclose (f);
}

static int
remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void)st, (void)type, (void)ftw;
  return remove (path);
}

static char *
slurp_mountinfo (void)
{
  char buf[4096];
  size_t cap = 0, len = 0, n;
  char *all = NULL;
  FILE *f = fopen ("/proc/self/mountinfo", "r");

  assert_non_null (f);
  while ((n = fread (buf, 1, sizeof buf, f)) > 0)
    {
      if (len + n + 1 > cap)
        {
          cap = (len + n + 1) * 2;
          all = xrealloc (all, cap);
        }
      memcpy (all + len, buf, n);
      len += n;
      all[len] = '\0';
    }
  fclose (f);
  return all;
}

/* In-container checks report the failing line through the exit status. */
#define CHECK(cond)                                                                                \
  do                                                                                               \
    {                                                                                              \
      if (!(cond))                                                                                 \
        {                                                                                          \
          fprintf (stderr, "in container: check failed: %s (line %d, errno %s)\n", #cond,          \
                   __LINE__, strerror (errno));                                                    \
          return 1;                                                                                \
        }                                                                                          \
    }                                                                                              \
  while (0)

static int
count_open_fds (void)
{
  int fd, n = 0;

  for (fd = 0; fd < 1024; fd++)
    if (fcntl (fd, F_GETFD) >= 0)
      n++;
  return n;
}

typedef int (*inside_fn) (const struct env *e, const struct sk_child_fail *f, int setup_rc);

/* Exit status of the grandchild: 0 when every check passed. */
static int
run_in_container (const struct env *e, inside_fn inside)
{
  int status;
  pid_t pid = fork ();

  assert_true (pid >= 0);
  if (pid == 0)
    {
      pid_t inner;

      if (unshare (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC
                   | CLONE_NEWCGROUP)
          < 0)
        _exit (90);
      inner = fork ();
      if (inner < 0)
        _exit (91);
      if (inner == 0)
        {
          struct sk_child_fail f = { 0 };
          int fds_before = count_open_fds ();
          int rc = sk_mounts_setup_in_child (&e->plan, &f);

          /* No fd of the host's tree may survive into the container
           * (CVE-2024-21626): setup closes everything it opened. */
          if (count_open_fds () != fds_before)
            {
              fprintf (stderr, "setup leaked %d fds\n", count_open_fds () - fds_before);
              _exit (93);
            }
          if (rc < 0 && inside == NULL)
            fprintf (stderr, "setup failed at %s: %s: %s\n", sk_phase_name (f.phase), f.text,
                     strerror (f.err));
          _exit (inside != NULL ? inside (e, &f, rc) : (rc < 0 ? 100 : 0));
        }
      if (waitpid (inner, &status, 0) < 0)
        _exit (92);
      _exit (WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
    }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

/* openat2 may be missing: old kernels, or valgrind 3.19, which does not know
 * the syscall. Then the userspace walk refuses image symlinks instead of
 * resolving them inside the root, and the tests expect that. */
static bool
have_openat2 (void)
{
  struct open_how how = { .flags = O_PATH | O_CLOEXEC };
  int fd = (int)syscall (SYS_openat2, AT_FDCWD, "/", &how, sizeof how);

  if (fd < 0)
    return errno != ENOSYS;
  close (fd);
  return true;
}

static void
skip_unless_root (void)
{
  if (geteuid () != 0)
    skip ();
}

/* ---- fixture ------------------------------------------------------------- */

static int
setup (void **state)
{
  struct env *e = xzalloc (sizeof *e);
  char *p;

  snprintf (e->tmp, sizeof e->tmp, "/tmp/skiff-mount-XXXXXX");
  assert_non_null (mkdtemp (e->tmp));
  e->image = xasprintf ("%s/image", e->tmp);
  e->state = xasprintf ("%s/state", e->tmp);
  e->volume = xasprintf ("%s/volume", e->tmp);
  snprintf (e->escape, sizeof e->escape, "skiff-escape-%d", (int)getpid ());

  assert_int_equal (mkdir (e->image, 0755), 0);
  assert_int_equal (mkdir (e->volume, 0755), 0);
  p = xasprintf ("%s/etc", e->image);
  assert_int_equal (mkdir (p, 0755), 0);
  free (p);
  p = xasprintf ("%s/tmp", e->image);
  assert_int_equal (mkdir (p, 01777), 0);
  free (p);
  p = xasprintf ("%s/etc/hostname", e->image);
  write_file (p, "lower\n");
  free (p);
  /* The planted escape: absolute, pointing at the host's /tmp. */
  p = xasprintf ("%s/etc/target", e->image);
  assert_int_equal (symlink ("/tmp", p), 0);
  free (p);
  p = xasprintf ("%s/hello", e->volume);
  write_file (p, "from the host\n");
  free (p);
  *state = e;
  return 0;
}

static int
teardown (void **state)
{
  struct env *e = *state;

  sk_mount_plan_clear (&e->plan);
  nftw (e->tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  free (e->image);
  free (e->state);
  free (e->volume);
  free (e);
  return 0;
}

static void
prepare (struct env *e, bool readonly_root)
{
  sk_err_t err = NULL;

  assert_int_equal (sk_rootfs_prepare (&e->plan, e->image, e->state, readonly_root, &err), 0);
  assert_null (err);
  e->plan.own_netns = true;
  e->plan.shm_size_mib = 32;
}

static void
add_bind (struct env *e, const char *source, const char *dest, bool read_only)
{
  struct sk_bind_mount *b;

  e->plan.binds = xreallocarray (e->plan.binds, e->plan.n_binds + 1, sizeof *e->plan.binds);
  b = &e->plan.binds[e->plan.n_binds++];
  b->source = xstrdup (source);
  b->dest = xstrdup (dest);
  b->read_only = read_only;
}

static bool
exists_free (char *path)
{
  struct stat st;
  bool found = lstat (path, &st) == 0;
  free (path);
  return found;
}
#define EXISTS(...) exists_free (xasprintf (__VA_ARGS__))

/* ---- pure helpers ---------------------------------------------------------- */

static void
test_path_clean (void **state)
{
  static const char *const cases[][2] = {
    { "/", "" },           { "", "" },
    { "/a/b/", "a/b" },    { "//a//./b", "a/b" },
    { "/a/../../b", "b" }, { "/../../../etc/x", "etc/x" },
    { "a/./b/..", "a" },   { "/a/b/../c/", "a/c" },
  };
  char out[64];
  size_t i;

  (void)state;
  for (i = 0; i < SK_ARRAY_SIZE (cases); i++)
    {
      assert_int_equal (sk_safe_path_clean (cases[i][0], out, sizeof out), 0);
      assert_string_equal (out, cases[i][1]);
    }
  assert_int_equal (sk_safe_path_clean ("/aaaa/bbbb", out, 6), -1);
  assert_int_equal (errno, ENAMETOOLONG);
}

static void
test_tmpfs_options (void **state)
{
  const char *defaults[] = { "defaults" };
  const char *custom[] = { "rw", "exec", "mode=1777", "uid=1000", "ro", "private", "noatime" };
  const char *unknown[] = { "nosuid", "size=1g" };
  const char *bad_value[] = { "mode=1777,uid=0" };
  const char *shared[] = { "rshared" };
  unsigned long flags = 0;
  char *data = NULL;
  sk_err_t err = NULL;
  _cleanup_free_ char *text = NULL;

  (void)state;
  assert_int_equal (sk_tmpfs_options (defaults, 1, 64, &flags, &data, &err), 0);
  assert_int_equal (flags, MS_NOSUID | MS_NODEV | MS_NOEXEC);
  assert_string_equal (data, "size=64m");

  assert_int_equal (sk_tmpfs_options (custom, SK_ARRAY_SIZE (custom), 8, &flags, &data, &err), 0);
  assert_int_equal (flags, MS_NOSUID | MS_NODEV | MS_RDONLY | MS_NOATIME);
  assert_string_equal (data, "size=8m,mode=1777,uid=1000");
  free (data);
  data = NULL;

  assert_int_equal (sk_tmpfs_options (unknown, 2, 8, &flags, &data, &err), -1);
  text = sk_err_text (&err);
  assert_non_null (strstr (text, "unknown tmpfs option `size=1g`"));
  sk_err_free (&err);
  assert_int_equal (sk_tmpfs_options (bad_value, 1, 8, &flags, &data, &err), -1);
  sk_err_free (&err);
  assert_int_equal (sk_tmpfs_options (shared, 1, 8, &flags, &data, &err), -1);
  sk_err_free (&err);
  assert_int_equal (sk_tmpfs_options (NULL, 0, 0, &flags, &data, &err), -1);
  sk_err_free (&err);
  assert_null (data);
}

static void
test_rootfs_prepare (void **state)
{
  struct env *e = *state;
  struct sk_mount_plan plan = { 0 };
  sk_err_t err = NULL;
  struct stat st;
  _cleanup_free_ char *file = xasprintf ("%s/etc/hostname", e->image);
  _cleanup_free_ char *comma = xasprintf ("%s/a,b", e->tmp);

  assert_int_equal (sk_rootfs_prepare (&plan, e->image, e->state, false, &err), 0);
  assert_string_equal (plan.lower, e->image);
  assert_non_null (plan.upper);
  assert_int_equal (stat (plan.work, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0700);
  assert_int_equal (stat (plan.merged, &st), 0);
  /* Twice is fine (a restarted container); read-only drops upper/work. */
  assert_int_equal (sk_rootfs_prepare (&plan, e->image, e->state, true, &err), 0);
  assert_null (plan.upper);
  assert_null (plan.work);
  assert_true (plan.readonly_root);
  sk_mount_plan_clear (&plan);

  assert_int_equal (sk_rootfs_prepare (&plan, "image", e->state, false, &err), -1);
  sk_err_free (&err);
  assert_int_equal (sk_rootfs_prepare (&plan, file, e->state, false, &err), -1);
  assert_int_equal (err->errnum, ENOTDIR);
  sk_err_free (&err);
  assert_int_equal (sk_rootfs_prepare (&plan, e->image, comma, false, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  sk_err_free (&err);
  sk_mount_plan_clear (&plan);
}

/* Without any namespace: resolution alone must stay in the root. */
static void
test_safe_open_stays_inside (void **state)
{
  struct env *e = *state;
  _cleanup_close_ int rootfd = open (e->image, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd;

  assert_true (rootfd >= 0);
  _cleanup_free_ char *dest = xasprintf ("/etc/target/%s/y", e->escape);
  bool resolving = have_openat2 ();

  fd = sk_safe_open (rootfd, dest, SK_SAFE_DIR | SK_SAFE_MKDIR);
  if (resolving)
    {
      assert_true (fd >= 0);
      close (fd);
      assert_true (EXISTS ("%s/tmp/%s/y", e->image, e->escape));
    }
  else
    assert_true (fd < 0 && errno == ELOOP);
  assert_false (EXISTS ("/tmp/%s", e->escape));

  fd = sk_safe_open (rootfd, "/../../../etc/dotdot", SK_SAFE_MKFILE);
  assert_true (fd >= 0);
  close (fd);
  assert_true (EXISTS ("%s/etc/dotdot", e->image));

  /* With SK_SAFE_NO_SYMLINKS, and in the fallback walk, a link is refused. */
  assert_int_equal (sk_safe_open (rootfd, "/etc/target", SK_SAFE_NO_SYMLINKS), -1);
  assert_int_equal (errno, ELOOP);
  sk_safe_force_fallback (true);
  assert_int_equal (sk_safe_open (rootfd, "/etc/target/z", SK_SAFE_MKDIR), -1);
  assert_int_equal (errno, ELOOP);
  fd = sk_safe_open (rootfd, "/etc/fallback/dir", SK_SAFE_DIR | SK_SAFE_MKDIR);
  assert_true (fd >= 0);
  close (fd);
  sk_safe_force_fallback (false);
  assert_true (EXISTS ("%s/etc/fallback/dir", e->image));
}

/* ---- in a container -------------------------------------------------------- */

static int
inside_default (const struct env *e, const struct sk_child_fail *f, int rc)
{
  struct statfs sf;
  struct stat st;
  char link[32];
  ssize_t n;
  int fd;

  (void)e;
  if (rc < 0)
    {
      fprintf (stderr, "setup failed at %s: %s: %s\n", sk_phase_name (f->phase), f->text,
               strerror (f->err));
      return 2;
    }
  CHECK (statfs ("/", &sf) == 0 && sf.f_type == OVERLAYFS_SUPER_MAGIC);
  CHECK (getpid () == 1);
  n = readlink ("/proc/self", link, sizeof link - 1);
  CHECK (n > 0);
  link[n] = '\0';
  CHECK (strcmp (link, "1") == 0);
  CHECK (statfs ("/proc", &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC);
  CHECK (stat ("/dev/null", &st) == 0 && S_ISCHR (st.st_mode) && st.st_rdev == makedev (1, 3));
  CHECK ((st.st_mode & 0777) == 0666);
  CHECK (stat ("/dev/urandom", &st) == 0 && st.st_rdev == makedev (1, 9));
  CHECK (lstat ("/dev/ptmx", &st) == 0 && S_ISLNK (st.st_mode));
  CHECK (stat ("/dev/pts/ptmx", &st) == 0 && S_ISCHR (st.st_mode));
  CHECK (statfs ("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC);
  CHECK ((unsigned long long)sf.f_blocks * sf.f_bsize == 32ULL << 20);
  CHECK (statfs ("/dev/mqueue", &sf) == 0 && sf.f_type == MQUEUE_MAGIC);
  CHECK (stat ("/dev/skiff-null", &st) == 0 && st.st_rdev == makedev (1, 3));
  /* Masked: the null device, reading gives nothing (kcore exists only on
   * kernels built with it; keys always). */
  CHECK (access ("/proc/kcore", F_OK) < 0
         || (stat ("/proc/kcore", &st) == 0 && st.st_rdev == makedev (1, 3)));
  CHECK (stat ("/proc/keys", &st) == 0 && S_ISCHR (st.st_mode) && st.st_rdev == makedev (1, 3));
  fd = open ("/proc/keys", O_RDONLY);
  CHECK (fd >= 0 && read (fd, link, sizeof link) == 0);
  close (fd);
  /* Read-only /proc/sys. */
  fd = open ("/proc/sys/kernel/hostname", O_WRONLY);
  CHECK (fd < 0 && errno == EROFS);
  /* Read-only sysfs, and no host cgroup hierarchy writable. */
  CHECK (statfs ("/sys", &sf) == 0 && sf.f_type == SYSFS_MAGIC);
  CHECK (mkdir ("/sys/fs/cgroup/x", 0755) < 0 && errno == EROFS);
  CHECK (statfs ("/sys/firmware", &sf) < 0 || sf.f_type == TMPFS_MAGIC);
  /* The root is writable, and the write goes to the upper layer. */
  fd = open ("/newfile", O_WRONLY | O_CREAT | O_EXCL, 0644);
  CHECK (fd >= 0 && write (fd, "x", 1) == 1);
  close (fd);
  CHECK (stat ("/srv/volume/hello", &st) == 0);
  /* chroot-style escape attempts see only the container. */
  CHECK (stat ("/../../etc/hostname", &st) == 0);
  CHECK (stat ("/state", &st) < 0);
  return 0;
}

static void
test_default_container (void **state)
{
  struct env *e = *state;
  _cleanup_free_ char *before = NULL;
  _cleanup_free_ char *after = NULL;

  skip_unless_root ();
  prepare (e, false);
  add_bind (e, e->volume, "/srv/volume", true);
  e->plan.devices = xzalloc (sizeof *e->plan.devices);
  e->plan.n_devices = 1;
  e->plan.devices[0].dest = xstrdup ("/dev/skiff-null");
  e->plan.devices[0].host_path = xstrdup ("/dev/null");
  e->plan.devices[0].mode = S_IFCHR | 0600;
  e->plan.devices[0].rdev = makedev (1, 3);

  before = slurp_mountinfo ();
  assert_int_equal (run_in_container (e, inside_default), 0);
  after = slurp_mountinfo ();
  /* The mount namespace died with the child: nothing leaked to the host. */
  assert_string_equal (before, after);

  /* Writes went to upper, the image is unchanged. */
  assert_false (EXISTS ("%s/newfile", e->image));
  assert_true (EXISTS ("%s/upper/newfile", e->state));
  assert_false (EXISTS ("%s/srv", e->image));
  assert_true (EXISTS ("%s/upper/srv/volume", e->state));
}

static int
inside_readonly (const struct env *e, const struct sk_child_fail *f, int rc)
{
  struct statfs sf;
  int fd;

  (void)e;
  if (rc < 0)
    {
      fprintf (stderr, "setup failed at %s: %s: %s\n", sk_phase_name (f->phase), f->text,
               strerror (f->err));
      return 2;
    }
  CHECK (mkdir ("/newdir", 0755) < 0 && errno == EROFS);
  CHECK (open ("/etc/hostname", O_WRONLY) < 0 && errno == EROFS);
  /* The read-only volume is visible and read-only, the rw one writable. */
  fd = open ("/data/hello", O_RDONLY);
  CHECK (fd >= 0);
  close (fd);
  CHECK (open ("/data/new", O_WRONLY | O_CREAT, 0644) < 0 && errno == EROFS);
  fd = open ("/rw/written", O_WRONLY | O_CREAT, 0644);
  CHECK (fd >= 0);
  close (fd);
  /* A tmpfs volume with its size and flags. */
  CHECK (statfs ("/scratch", &sf) == 0 && sf.f_type == TMPFS_MAGIC);
  CHECK ((unsigned long long)sf.f_blocks * sf.f_bsize == 8ULL << 20);
  CHECK ((sf.f_flags & ST_NOEXEC) && (sf.f_flags & ST_NOSUID));
  fd = open ("/scratch/f", O_WRONLY | O_CREAT, 0644);
  CHECK (fd >= 0);
  close (fd);
  /* /proc and /dev are their own mounts, still writable where they should. */
  fd = open ("/dev/null", O_WRONLY);
  CHECK (fd >= 0);
  close (fd);
  return 0;
}

static void
test_readonly_root_and_volumes (void **state)
{
  struct env *e = *state;
  const char *opts[] = { "mode=1777" };
  sk_err_t err = NULL;
  _cleanup_free_ char *rw = xasprintf ("%s/rw", e->tmp);

  skip_unless_root ();
  prepare (e, true);
  /* With a read-only root the image itself is bound: the mount points must
   * exist in it already (skiff would create them there). */
  assert_int_equal (mkdir (rw, 0755), 0);
  add_bind (e, e->volume, "/data", true);
  add_bind (e, rw, "/rw", false);
  e->plan.tmpfs = xzalloc (sizeof *e->plan.tmpfs);
  e->plan.n_tmpfs = 1;
  e->plan.tmpfs[0].dest = xstrdup ("/scratch");
  assert_int_equal (
      sk_tmpfs_options (opts, 1, 8, &e->plan.tmpfs[0].flags, &e->plan.tmpfs[0].data, &err), 0);

  assert_int_equal (run_in_container (e, inside_readonly), 0);
  assert_true (EXISTS ("%s/rw/written", e->tmp));
  assert_false (EXISTS ("%s/new", e->volume));
}

static int
inside_expect_loop (const struct env *e, const struct sk_child_fail *f, int rc)
{
  (void)e;
  CHECK (rc < 0);
  CHECK (f->phase == SK_PHASE_MOUNT);
  CHECK (f->err == ELOOP);
  CHECK (strstr (f->text, "/etc/target/") != NULL);
  return 0;
}

/* Kernels without openat2: the userspace walk refuses the planted link. */
static void
test_fallback_refuses_symlink (void **state)
{
  struct env *e = *state;
  char dest[128];

  skip_unless_root ();
  prepare (e, false);
  snprintf (dest, sizeof dest, "/etc/target/%s", e->escape);
  add_bind (e, e->volume, dest, false);
  sk_safe_force_fallback (true);
  assert_int_equal (run_in_container (e, inside_expect_loop), 0);
  sk_safe_force_fallback (false);
  assert_false (EXISTS ("/tmp/%s", e->escape));
}

static int
inside_escape (const struct env *e, const struct sk_child_fail *f, int rc)
{
  char path[128];
  struct stat st;

  CHECK (rc == 0);
  (void)f;
  snprintf (path, sizeof path, "/tmp/%s/hello", e->escape);
  CHECK (stat (path, &st) == 0);
  CHECK (stat ("/etc/dotdot/hello", &st) == 0);
  CHECK (stat ("/etc/resolv.conf", &st) == 0 && S_ISREG (st.st_mode) && st.st_size > 0);
  CHECK (open ("/etc/resolv.conf", O_WRONLY) < 0 && errno == EROFS);
  return 0;
}

/* An absolute symlink and ".." in destinations land inside the root. */
static void
test_symlink_and_dotdot_stay_inside (void **state)
{
  struct env *e = *state;
  _cleanup_free_ char *link = xasprintf ("%s/etc/resolv.conf", e->image);
  _cleanup_free_ char *hello = xasprintf ("%s/hello", e->volume);
  char dest[128];

  skip_unless_root ();
  prepare (e, false);
  snprintf (dest, sizeof dest, "/etc/target/%s", e->escape);
  add_bind (e, e->volume, dest, false);
  add_bind (e, e->volume, "/../../../../etc/dotdot", false);
  /* A dangling image link (as a systemd image's resolv.conf): the file is
   * created at its target, inside the root. */
  assert_int_equal (symlink ("/run/skiff/resolv.conf", link), 0);
  add_bind (e, hello, "/etc/resolv.conf", true);
  assert_int_equal (run_in_container (e, have_openat2 () ? inside_escape : inside_expect_loop), 0);
  assert_false (EXISTS ("/tmp/%s", e->escape));
  assert_false (EXISTS ("/etc/dotdot"));
  assert_false (EXISTS ("/run/skiff/resolv.conf"));
  if (have_openat2 ())
    {
      assert_true (EXISTS ("%s/upper/tmp/%s", e->state, e->escape));
      assert_true (EXISTS ("%s/upper/run/skiff/resolv.conf", e->state));
    }
}

static int
inside_expect_refusal (const struct env *e, const struct sk_child_fail *f, int rc)
{
  (void)e;
  CHECK (rc < 0 && f->phase == SK_PHASE_MOUNT && f->err == EINVAL);
  CHECK (strstr (f->text, "`/proc/sys/kernel`") != NULL);
  return 0;
}

static void
test_refuses_reserved_destination (void **state)
{
  struct env *e = *state;

  skip_unless_root ();
  prepare (e, false);
  add_bind (e, e->volume, "/proc/sys/kernel", false);
  assert_int_equal (run_in_container (e, inside_expect_refusal), 0);
}

static int
inside_expect_overlay_refusal (const struct env *e, const struct sk_child_fail *f, int rc)
{
  (void)e;
  CHECK (rc < 0 && f->phase == SK_PHASE_MOUNT && f->err == EINVAL);
  CHECK (strstr (f->text, "overlay layer path") != NULL && strstr (f->text, "a,b") != NULL);
  return 0;
}

/* A plan built by hand (not by sk_rootfs_prepare) with a ',' in a layer:
 * the child refuses before the kernel could misparse the options. */
static void
test_refuses_unescapable_overlay_path (void **state)
{
  struct env *e = *state;

  skip_unless_root ();
  prepare (e, false);
  free (e->plan.upper);
  e->plan.upper = xasprintf ("%s/a,b", e->tmp);
  assert_int_equal (run_in_container (e, inside_expect_overlay_refusal), 0);
}

static int
inside_privileged (const struct env *e, const struct sk_child_fail *f, int rc)
{
  struct stat st;

  (void)e, (void)f;
  CHECK (rc == 0);
  /* No masks: keys is procfs's own file again. */
  CHECK (stat ("/proc/keys", &st) == 0 && S_ISREG (st.st_mode));
  CHECK (access ("/proc/sys/kernel/hostname", W_OK) == 0);
  return 0;
}

static void
test_privileged_unmasked (void **state)
{
  struct env *e = *state;

  skip_unless_root ();
  prepare (e, false);
  e->plan.privileged = true;
  assert_int_equal (run_in_container (e, inside_privileged), 0);
}

static int
inside_host_sys (const struct env *e, const struct sk_child_fail *f, int rc)
{
  struct statfs sf;

  (void)e, (void)f;
  CHECK (rc == 0);
  CHECK (statfs ("/sys", &sf) == 0 && (sf.f_flags & ST_RDONLY));
  CHECK (mkdir ("/sys/fs/cgroup/x", 0755) < 0 && errno == EROFS);
  return 0;
}

/* Sharing the host network: /sys is the host's, read-only. */
static void
test_host_sys_readonly (void **state)
{
  struct env *e = *state;

  skip_unless_root ();
  prepare (e, false);
  e->plan.own_netns = false;
  assert_int_equal (run_in_container (e, inside_host_sys), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_path_clean),
    cmocka_unit_test (test_tmpfs_options),
    cmocka_unit_test_setup_teardown (test_rootfs_prepare, setup, teardown),
    cmocka_unit_test_setup_teardown (test_safe_open_stays_inside, setup, teardown),
    cmocka_unit_test_setup_teardown (test_default_container, setup, teardown),
    cmocka_unit_test_setup_teardown (test_readonly_root_and_volumes, setup, teardown),
    cmocka_unit_test_setup_teardown (test_fallback_refuses_symlink, setup, teardown),
    cmocka_unit_test_setup_teardown (test_symlink_and_dotdot_stay_inside, setup, teardown),
    cmocka_unit_test_setup_teardown (test_refuses_reserved_destination, setup, teardown),
    cmocka_unit_test_setup_teardown (test_refuses_unescapable_overlay_path, setup, teardown),
    cmocka_unit_test_setup_teardown (test_privileged_unmasked, setup, teardown),
    cmocka_unit_test_setup_teardown (test_host_sys_readonly, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
