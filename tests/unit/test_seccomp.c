/* The default seccomp profile, its BPF cache, and the filter in a child. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "caps.h"
#include "error.h"
#include "seccomp.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

/* ---- the resolved profile ---------------------------------------------- */

static bool
allowed_plain (const struct sk_seccomp_ruleset *rs, const char *name)
{
  const struct sk_seccomp_rule *r = sk_seccomp_ruleset_find (rs, name);
  return r != NULL && r->errno_ret == 0 && r->n_args == 0;
}

static size_t
count_rules (const struct sk_seccomp_ruleset *rs, const char *name)
{
  size_t n = 0;
  for (size_t i = 0; i < rs->n; i++)
    n += strcmp (rs->rules[i].name, name) == 0;
  return n;
}

static void
test_default_profile (void **state)
{
  struct sk_seccomp_ruleset rs;
  const struct sk_seccomp_rule *r;

  (void)state;
  sk_seccomp_default_rules (sk_caps_docker_default (), &rs);
  assert_true (rs.n > 340);
  assert_true (allowed_plain (&rs, "read"));
  assert_true (allowed_plain (&rs, "execve"));
  assert_true (allowed_plain (&rs, "chroot"));     /* SYS_CHROOT is in the default */
  assert_true (allowed_plain (&rs, "ptrace"));     /* kernel >= 4.8 */
  assert_true (allowed_plain (&rs, "arch_prctl")); /* x86_64 */
  assert_null (sk_seccomp_ruleset_find (&rs, "mount"));
  assert_null (sk_seccomp_ruleset_find (&rs, "unshare"));
  assert_null (sk_seccomp_ruleset_find (&rs, "setns"));
  assert_null (sk_seccomp_ruleset_find (&rs, "keyctl"));
  assert_null (sk_seccomp_ruleset_find (&rs, "io_uring_setup"));
  assert_null (sk_seccomp_ruleset_find (&rs, "kexec_load"));
  assert_null (sk_seccomp_ruleset_find (&rs, "init_module"));
  assert_null (sk_seccomp_ruleset_find (&rs, "settimeofday"));
  assert_null (sk_seccomp_ruleset_find (&rs, "pivot_root"));
  assert_null (sk_seccomp_ruleset_find (&rs, "userfaultfd"));
  assert_null (sk_seccomp_ruleset_find (&rs, "kcmp"));

  r = sk_seccomp_ruleset_find (&rs, "clone");
  assert_non_null (r);
  assert_int_equal (r->n_args, 1);
  assert_int_equal (r->args[0].op, SK_SC_MASKED_EQ);
  assert_true (r->args[0].value == 0x7E020000ull && r->args[0].value_two == 0);
  r = sk_seccomp_ruleset_find (&rs, "clone3");
  assert_non_null (r);
  assert_int_equal (r->errno_ret, ENOSYS);
  assert_int_equal (count_rules (&rs, "personality"), 5);
  assert_int_equal (count_rules (&rs, "socket"), 3);
  sk_seccomp_ruleset_clear (&rs);
}

static void
test_capability_gates (void **state)
{
  struct sk_seccomp_ruleset rs;
  uint64_t caps = sk_caps_docker_default () | SK_CAP_BIT (CAP_SYS_ADMIN) | SK_CAP_BIT (CAP_SYS_TIME)
                  | SK_CAP_BIT (CAP_SYS_MODULE) | SK_CAP_BIT (CAP_SYS_PTRACE)
                  | SK_CAP_BIT (CAP_SYSLOG) | SK_CAP_BIT (CAP_SYS_NICE) | SK_CAP_BIT (CAP_SYS_BOOT)
                  | SK_CAP_BIT (CAP_SYS_RAWIO) | SK_CAP_BIT (CAP_SYS_PACCT);

  (void)state;
  sk_seccomp_default_rules (caps, &rs);
  assert_true (allowed_plain (&rs, "mount"));
  assert_true (allowed_plain (&rs, "umount2"));
  assert_true (allowed_plain (&rs, "unshare"));
  assert_true (allowed_plain (&rs, "setns"));
  assert_true (allowed_plain (&rs, "clone"));  /* no flag filter with SYS_ADMIN */
  assert_true (allowed_plain (&rs, "clone3")); /* real clone3, not ENOSYS */
  assert_int_equal (count_rules (&rs, "clone"), 1);
  assert_int_equal (count_rules (&rs, "clone3"), 1);
  assert_int_equal (count_rules (&rs, "syslog"), 1); /* SYS_ADMIN and SYSLOG: one rule */
  assert_true (allowed_plain (&rs, "settimeofday"));
  assert_true (allowed_plain (&rs, "clock_settime"));
  assert_true (allowed_plain (&rs, "init_module"));
  assert_true (allowed_plain (&rs, "kcmp"));
  assert_true (allowed_plain (&rs, "mbind"));
  assert_true (allowed_plain (&rs, "reboot"));
  assert_true (allowed_plain (&rs, "iopl"));
  assert_true (allowed_plain (&rs, "acct"));
  assert_null (sk_seccomp_ruleset_find (&rs, "keyctl"));
  assert_null (sk_seccomp_ruleset_find (&rs, "open_by_handle_at"));
  sk_seccomp_ruleset_clear (&rs);

  /* Without SYS_CHROOT, chroot is gone. */
  sk_seccomp_default_rules (sk_caps_docker_default () & ~SK_CAP_BIT (CAP_SYS_CHROOT), &rs);
  assert_null (sk_seccomp_ruleset_find (&rs, "chroot"));
  sk_seccomp_ruleset_clear (&rs);
}

/* ---- prepare and the cache ---------------------------------------------- */

static char *
read_fd (int fd, size_t *len)
{
  struct stat st;
  char *buf;

  assert_int_equal (fstat (fd, &st), 0);
  *len = (size_t)st.st_size;
  buf = xmalloc (*len + 1);
  assert_int_equal (pread (fd, buf, *len, 0), (ssize_t)*len);
  return buf;
}

static int
prepare (uint64_t caps, const char *dir)
{
  _cleanup_err_ sk_err_t err = NULL;
  int fd = -1;

  if (sk_seccomp_prepare (caps, dir, &fd, &err) < 0)
    fail_msg ("prepare: %s", err->msg);
  assert_true (fd >= 0);
  return fd;
}

static void
test_prepare_memfd (void **state)
{
  _cleanup_close_ int fd = prepare (sk_caps_docker_default (), NULL);
  _cleanup_free_ char *link = xasprintf ("/proc/self/fd/%d", fd);
  char target[128] = "";
  struct stat st;

  (void)state;
  assert_int_equal (fstat (fd, &st), 0);
  assert_true (st.st_size > 0);
  assert_int_equal (st.st_size % (off_t)sizeof (struct sock_filter), 0);
  assert_true (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  assert_true (readlink (link, target, sizeof target - 1) > 0);
  assert_non_null (strstr (target, "memfd:skiff-seccomp"));
  /* Sealed: nothing can rewrite the program before the child reads it. */
  assert_int_equal (write (fd, "x", 1), -1);
}

struct cache_fixture
{
  char dir[64];
  char *cache_dir; /* a not-yet-existing subdirectory: prepare creates it */
};

static int
cache_setup (void **state)
{
  struct cache_fixture *fx = xzalloc (sizeof *fx);

  snprintf (fx->dir, sizeof fx->dir, "/tmp/skiff-test-seccomp-XXXXXX");
  assert_non_null (mkdtemp (fx->dir));
  fx->cache_dir = xasprintf ("%s/cache/seccomp", fx->dir);
  *state = fx;
  return 0;
}

static int
cache_teardown (void **state)
{
  struct cache_fixture *fx = *state;
  _cleanup_free_ char *cmd = xasprintf ("rm -rf '%s'", fx->dir);

  free (fx->cache_dir);
  free (fx);
  return system (cmd) == 0 ? 0 : -1;
}

static void
test_cache_reused (void **state)
{
  struct cache_fixture *fx = *state;
  uint64_t caps = sk_caps_docker_default ();
  _cleanup_free_ char *name = sk_seccomp_cache_name (caps);
  _cleanup_free_ char *path = xasprintf ("%s/%s", fx->cache_dir, name);
  _cleanup_free_ char *first = NULL, *second = NULL, *uncached = NULL;
  size_t len1, len2, len3;
  struct stat st1, st2;
  int fd;

  fd = prepare (caps, fx->cache_dir);
  first = read_fd (fd, &len1);
  close (fd);
  assert_int_equal (stat (path, &st1), 0);
  assert_true ((st1.st_mode & 0077) == 0);

  fd = prepare (caps, fx->cache_dir);
  second = read_fd (fd, &len2);
  close (fd);
  assert_int_equal (stat (path, &st2), 0);
  /* Reused, not rewritten: same inode, same modification time. */
  assert_true (st1.st_ino == st2.st_ino);
  assert_true (st1.st_mtim.tv_sec == st2.st_mtim.tv_sec
               && st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec);
  assert_int_equal (len1, len2);
  assert_memory_equal (first, second, len1);

  /* The cached program is the one a fresh build gives. */
  fd = prepare (caps, NULL);
  uncached = read_fd (fd, &len3);
  close (fd);
  assert_int_equal (len1, len3);
  assert_memory_equal (first, uncached, len1);
}

static void
test_cache_key_depends_on_caps (void **state)
{
  _cleanup_free_ char *a = sk_seccomp_cache_name (sk_caps_docker_default ());
  _cleanup_free_ char *b
      = sk_seccomp_cache_name (sk_caps_docker_default () | SK_CAP_BIT (CAP_SYS_ADMIN));
  /* NET_ADMIN gates no syscall: same rules, same key. */
  _cleanup_free_ char *c
      = sk_seccomp_cache_name (sk_caps_docker_default () | SK_CAP_BIT (CAP_NET_ADMIN));

  (void)state;
  assert_string_not_equal (a, b);
  assert_string_equal (a, c);
  assert_int_equal (strlen (a), 16 + 4);
}

static void
corrupt_and_check_rebuilt (struct cache_fixture *fx, void (*damage) (const char *path))
{
  uint64_t caps = sk_caps_docker_default ();
  _cleanup_free_ char *name = sk_seccomp_cache_name (caps);
  _cleanup_free_ char *path = xasprintf ("%s/%s", fx->cache_dir, name);
  _cleanup_free_ char *good = NULL, *again = NULL;
  size_t len_good, len_again;
  struct stat st;
  int fd;

  fd = prepare (caps, fx->cache_dir);
  good = read_fd (fd, &len_good);
  close (fd);
  assert_int_equal (stat (path, &st), 0);
  damage (path);

  fd = prepare (caps, fx->cache_dir);
  again = read_fd (fd, &len_again);
  close (fd);
  assert_int_equal (len_good, len_again);
  assert_memory_equal (good, again, len_good);
  /* The damaged file was replaced by a whole one. */
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal ((size_t)st.st_size, 24 + len_good);
}

static void
damage_truncate (const char *path)
{
  assert_int_equal (truncate (path, 30), 0);
}

static void
damage_flip_byte (const char *path)
{
  int fd = open (path, O_RDWR | O_CLOEXEC);
  char c;

  assert_true (fd >= 0);
  assert_int_equal (pread (fd, &c, 1, 100), 1);
  c ^= 0x5a;
  assert_int_equal (pwrite (fd, &c, 1, 100), 1);
  close (fd);
}

static void
damage_garbage (const char *path)
{
  int fd = open (path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, "not a bpf program at all", 24), 24);
  close (fd);
}

static void
test_cache_corrupt_rebuilt (void **state)
{
  corrupt_and_check_rebuilt (*state, damage_truncate);
  corrupt_and_check_rebuilt (*state, damage_flip_byte);
  corrupt_and_check_rebuilt (*state, damage_garbage);
}

static void
test_cache_dir_unwritable_is_not_fatal (void **state)
{
  struct cache_fixture *fx = *state;
  _cleanup_free_ char *file = xasprintf ("%s/plainfile", fx->dir);
  _cleanup_free_ char *bad_dir = xasprintf ("%s/plainfile/seccomp", fx->dir);
  int fd;

  fd = open (file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  assert_true (fd >= 0);
  close (fd);
  /* The cache directory cannot exist (a file is in the way): still a filter. */
  fd = prepare (sk_caps_docker_default (), bad_dir);
  close (fd);
}

/* ---- the filter, loaded in a forked child ------------------------------- */

#define CHILD_EXPECT(cond, code)                                                                   \
  do                                                                                               \
    {                                                                                              \
      if (!(cond))                                                                                 \
        {                                                                                          \
          fprintf (stderr, "child check failed (errno %d): %s\n", errno, #cond);                   \
          _exit (code);                                                                            \
        }                                                                                          \
    }                                                                                              \
  while (0)

static bool
status_seccomp_mode (const char *want)
{
  FILE *fp = fopen ("/proc/self/status", "re");
  char line[256];
  bool ok = false;

  if (fp == NULL)
    return false;
  while (fgets (line, sizeof line, fp))
    if (strncmp (line, "Seccomp:", 8) == 0)
      {
        char *v = line + 8;
        while (*v == ' ' || *v == '\t')
          v++;
        ok = strncmp (v, want, strlen (want)) == 0 && v[strlen (want)] == '\n';
      }
  fclose (fp);
  return ok;
}

static void
child_load_and_probe (int bpf_fd)
{
  struct sk_seccomp_program prog;
  struct sk_child_fail f = { 0 };
  pid_t pid;
  int status, sfd;

  if (sk_seccomp_read_in_child (bpf_fd, &prog, &f) < 0)
    _exit (2);
  CHILD_EXPECT (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, 3);
  if (sk_seccomp_load_in_child (&prog, &f) < 0)
    {
      fprintf (stderr, "load: %s: %s\n", f.text, strerror (f.err));
      _exit (4);
    }
  sk_seccomp_program_clear (&prog);

  CHILD_EXPECT (status_seccomp_mode ("2"), 10);
  /* Blocked with EPERM. */
  errno = 0;
  CHILD_EXPECT (syscall (SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0) == -1 && errno == EPERM,
                11);
  errno = 0;
  CHILD_EXPECT (unshare (CLONE_NEWUSER) == -1 && errno == EPERM, 12);
  errno = 0;
  CHILD_EXPECT (personality (ADDR_NO_RANDOMIZE) == -1 && errno == EPERM, 13);
  errno = 0;
  CHILD_EXPECT (socket (AF_VSOCK, SOCK_STREAM, 0) == -1 && errno == EPERM, 14);
  errno = 0;
  CHILD_EXPECT (socket (AF_ALG, SOCK_SEQPACKET, 0) == -1 && errno == EPERM, 15);
  errno = 0;
  CHILD_EXPECT (mount ("none", "/tmp", "tmpfs", 0, NULL) == -1 && errno == EPERM, 16);
  errno = 0;
  /* A no-op root may do, but the clock is gated on CAP_SYS_TIME. */
  CHILD_EXPECT (syscall (SYS_settimeofday, NULL, NULL) == -1 && errno == EPERM, 17);
  errno = 0;
  CHILD_EXPECT (
      syscall (SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0) == -1 && errno == EPERM, 18);
  /* clone3 pretends not to exist so libc falls back to clone. */
  errno = 0;
  CHILD_EXPECT (syscall (SYS_clone3, NULL, 0) == -1 && errno == ENOSYS, 19);

  /* Allowed. */
  CHILD_EXPECT (syscall (SYS_getpid) > 0, 30);
  CHILD_EXPECT (personality (0xffffffff) != -1, 31);
  sfd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHILD_EXPECT (sfd >= 0, 32);
  close (sfd);
  pid = fork (); /* clone without namespace flags */
  CHILD_EXPECT (pid >= 0, 33);
  if (pid == 0)
    _exit (0);
  CHILD_EXPECT (waitpid (pid, &status, 0) == pid && WIFEXITED (status), 34);
  _exit (0);
}

static void
test_filter_in_child (void **state)
{
  _cleanup_close_ int fd = prepare (sk_caps_docker_default (), NULL);
  int status;
  pid_t pid;

  (void)state;
  pid = fork ();
  if (pid == 0)
    child_load_and_probe (fd);
  assert_true (pid > 0);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
}

static void
test_read_rejects_bad_size (void **state)
{
  struct sk_seccomp_program prog;
  struct sk_child_fail f = { 0 };
  int fd = memfd_create ("bad", MFD_CLOEXEC);

  (void)state;
  assert_true (fd >= 0);
  assert_int_equal (sk_seccomp_read_in_child (fd, &prog, &f), -1); /* empty */
  assert_int_equal (f.phase, SK_PHASE_SECCOMP);
  assert_int_equal (write (fd, "abc", 3), 3);
  assert_int_equal (sk_seccomp_read_in_child (fd, &prog, &f), -1); /* not whole insns */
  assert_null (prog.filter);
  close (fd);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_profile),
    cmocka_unit_test (test_capability_gates),
    cmocka_unit_test (test_prepare_memfd),
    cmocka_unit_test (test_cache_key_depends_on_caps),
    cmocka_unit_test_setup_teardown (test_cache_reused, cache_setup, cache_teardown),
    cmocka_unit_test_setup_teardown (test_cache_corrupt_rebuilt, cache_setup, cache_teardown),
    cmocka_unit_test_setup_teardown (test_cache_dir_unwritable_is_not_fatal, cache_setup,
                                     cache_teardown),
    cmocka_unit_test (test_filter_in_child),
    cmocka_unit_test (test_read_rejects_bad_size),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
