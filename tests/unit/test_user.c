/* ECS `user` resolution against fixture rootfs directories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "error.h"
#include "user.h"
#include "util.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct fixture
{
  char dir[64]; /* the temp dir holding everything */
  int rootfs;   /* dirfd of <dir>/rootfs: a normal image */
  int hostile;  /* dirfd of <dir>/hostile: etc/passwd links outside */
  int hostile2; /* dirfd of <dir>/hostile2: etc links outside */
  int empty;    /* dirfd of <dir>/empty: no etc at all */
};

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "# a comment\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                             "broken line without fields\n"
                             "app:x:1000:1000:App:/home/app:/bin/sh\n"
                             "nohome:x:1001:1001:::/bin/sh\n";
static const char group[] = "root:x:0:\n"
                            "wheel:x:10:root,app\n"
                            "staff:x:50:daemon,app\n"
                            "application:x:60:apple\n"
                            "app:x:1000:\n"
                            "other:x:2000:\n";
static const char evil_passwd[] = "evil:x:0:0:evil:/evil:/bin/sh\n";

static void
write_file (const char *path, const char *content)
{
  FILE *fp = fopen (path, "we");
  assert_non_null (fp);
  assert_int_equal (fputs (content, fp) >= 0, 1);
  assert_int_equal (fclose (fp), 0);
}

static int
open_dir (const char *base, const char *name)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s", base, name);
  int fd = open (p, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true (fd >= 0);
  return fd;
}

static void
mkdir_under (const char *base, const char *rel)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s", base, rel);
  assert_int_equal (mkdir (p, 0755), 0);
}

static int
setup (void **state)
{
  struct fixture *fx = xzalloc (sizeof *fx);
  _cleanup_free_ char *p = NULL, *outside = NULL, *outside_etc = NULL;

  snprintf (fx->dir, sizeof fx->dir, "/tmp/skiff-test-user-XXXXXX");
  assert_non_null (mkdtemp (fx->dir));

  mkdir_under (fx->dir, "rootfs");
  mkdir_under (fx->dir, "rootfs/etc");
  p = xasprintf ("%s/rootfs/etc/passwd", fx->dir);
  write_file (p, passwd);
  sk_freep (&p);
  p = xasprintf ("%s/rootfs/etc/group", fx->dir);
  write_file (p, group);
  sk_freep (&p);

  /* Files outside every rootfs that a hostile image tries to reach. */
  mkdir_under (fx->dir, "outside");
  outside = xasprintf ("%s/outside/passwd", fx->dir);
  write_file (outside, evil_passwd);
  outside_etc = xasprintf ("%s/outside", fx->dir);

  /* hostile: etc/passwd is an absolute symlink to the outside file, and
   * etc/group a relative one climbing out with "..". */
  mkdir_under (fx->dir, "hostile");
  mkdir_under (fx->dir, "hostile/etc");
  p = xasprintf ("%s/hostile/etc/passwd", fx->dir);
  assert_int_equal (symlink (outside, p), 0);
  sk_freep (&p);
  p = xasprintf ("%s/hostile/etc/group", fx->dir);
  assert_int_equal (symlink ("../../../outside/passwd", p), 0);
  sk_freep (&p);

  /* hostile2: the etc directory itself points outside. */
  mkdir_under (fx->dir, "hostile2");
  p = xasprintf ("%s/hostile2/etc", fx->dir);
  assert_int_equal (symlink (outside_etc, p), 0);
  sk_freep (&p);

  mkdir_under (fx->dir, "empty");

  fx->rootfs = open_dir (fx->dir, "rootfs");
  fx->hostile = open_dir (fx->dir, "hostile");
  fx->hostile2 = open_dir (fx->dir, "hostile2");
  fx->empty = open_dir (fx->dir, "empty");
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *fx = *state;
  _cleanup_free_ char *cmd = xasprintf ("rm -rf '%s'", fx->dir);

  close (fx->rootfs);
  close (fx->hostile);
  close (fx->hostile2);
  close (fx->empty);
  if (system (cmd) != 0)
    return -1;
  free (fx);
  return 0;
}

/* Resolve spec and compare with the expectation; groups in any order. */
static void
expect (int dirfd, const char *spec, unsigned uid, unsigned gid, const char *home,
        const unsigned *groups, size_t n_groups)
{
  struct sk_creds c = { 0 };
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *h = NULL;

  if (sk_user_resolve (dirfd, spec, &c, &h, &err) < 0)
    fail_msg ("resolve `%s`: %s", spec ? spec : "(null)", err->msg);
  assert_int_equal (c.uid, uid);
  assert_int_equal (c.gid, gid);
  assert_string_equal (h, home);
  assert_int_equal (c.n_groups, n_groups);
  for (size_t i = 0; i < n_groups; i++)
    {
      bool found = false;
      for (size_t j = 0; j < c.n_groups; j++)
        found |= c.groups[j] == groups[i];
      if (!found)
        fail_msg ("`%s`: group %u missing", spec ? spec : "(null)", groups[i]);
    }
  sk_creds_clear (&c);
}

static void
expect_error (int dirfd, const char *spec, const char *msg)
{
  struct sk_creds c = { 0 };
  _cleanup_err_ sk_err_t err = NULL;
  char *h = NULL;

  assert_int_equal (sk_user_resolve (dirfd, spec, &c, &h, &err), -1);
  assert_null (h);
  assert_null (c.groups);
  assert_non_null (err);
  assert_string_equal (err->msg, msg);
}

static void
test_forms (void **state)
{
  struct fixture *fx = *state;

  expect (fx->rootfs, NULL, 0, 0, "/root", (const unsigned[]){ 0, 10 }, 2);
  expect (fx->rootfs, "", 0, 0, "/root", (const unsigned[]){ 0, 10 }, 2);
  expect (fx->rootfs, "root", 0, 0, "/root", (const unsigned[]){ 0, 10 }, 2);
  /* user */
  expect (fx->rootfs, "app", 1000, 1000, "/home/app", (const unsigned[]){ 1000, 10, 50 }, 3);
  /* user:group */
  expect (fx->rootfs, "app:other", 1000, 2000, "/home/app", (const unsigned[]){ 2000, 10, 50 }, 3);
  /* uid */
  expect (fx->rootfs, "1000", 1000, 1000, "/home/app", (const unsigned[]){ 1000, 10, 50 }, 3);
  /* uid:gid */
  expect (fx->rootfs, "1000:50", 1000, 50, "/home/app", (const unsigned[]){ 50, 10 }, 2);
  /* user:gid */
  expect (fx->rootfs, "daemon:2000", 1, 2000, "/usr/sbin", (const unsigned[]){ 2000, 50 }, 2);
  /* uid:group */
  expect (fx->rootfs, "1:wheel", 1, 10, "/usr/sbin", (const unsigned[]){ 10, 50 }, 2);
  /* a uid without passwd entry: gid 0, home / (Docker) */
  expect (fx->rootfs, "4242", 4242, 0, "/", (const unsigned[]){ 0 }, 1);
  expect (fx->rootfs, "4242:other", 4242, 2000, "/", (const unsigned[]){ 2000 }, 1);
  expect (fx->rootfs, "4242:7", 4242, 7, "/", (const unsigned[]){ 7 }, 1);
  /* empty home field */
  expect (fx->rootfs, "nohome", 1001, 1001, "/", (const unsigned[]){ 1001 }, 1);
}

static void
test_membership_is_exact (void **state)
{
  struct fixture *fx = *state;

  /* "apple" in group application must not count as "app". */
  struct sk_creds c = { 0 };
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *h = NULL;

  assert_int_equal (sk_user_resolve (fx->rootfs, "app", &c, &h, &err), 0);
  for (size_t i = 0; i < c.n_groups; i++)
    assert_int_not_equal (c.groups[i], 60);
  sk_creds_clear (&c);
}

static void
test_missing_names (void **state)
{
  struct fixture *fx = *state;

  expect_error (fx->rootfs, "foo", "user `foo`: no such user in the image's /etc/passwd");
  expect_error (fx->rootfs, "app:nogroup",
                "group `nogroup`: no such group in the image's /etc/group");
  expect_error (fx->rootfs, "1000:nogroup",
                "group `nogroup`: no such group in the image's /etc/group");
  expect_error (fx->rootfs, "app:", "user `app:`: expected user, user:group, uid or uid:gid");
  expect_error (fx->rootfs, "a:b:c", "user `a:b:c`: expected user, user:group, uid or uid:gid");
  expect_error (fx->rootfs, ":0", "user: empty user name");
  /* 2^32-1 is "no change" to setresuid: not a valid uid. */
  expect_error (fx->rootfs, "4294967295",
                "user `4294967295`: no such user in the image's /etc/passwd");
}

static void
test_image_without_etc (void **state)
{
  struct fixture *fx = *state;

  expect (fx->empty, NULL, 0, 0, "/", (const unsigned[]){ 0 }, 1);
  expect (fx->empty, "123:456", 123, 456, "/", (const unsigned[]){ 456 }, 1);
  expect_error (fx->empty, "app", "user `app`: no such user in the image's /etc/passwd");
}

static bool
have_openat2 (void)
{
  struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
  int fd = (int)syscall (SYS_openat2, AT_FDCWD, "/", &how, sizeof how);

  if (fd < 0)
    return false;
  close (fd);
  return true;
}

/* Resolution must fail without reaching the outside file: with openat2 the
 * link resolves inside the rootfs (no such file, so no such user); without
 * it (old kernels, valgrind) the link is refused. */
static void
expect_not_followed (int dirfd, const char *spec, const char *msg_openat2, const char *file)
{
  struct sk_creds c = { 0 };
  sk_err_t err = NULL;
  char *h = NULL;
  _cleanup_free_ char *refused = xasprintf ("open `%s` in the image", file);
  int rc = sk_user_resolve (dirfd, spec, &c, &h, &err);
  bool ok = rc == -1 && err != NULL && h == NULL
            && (strcmp (err->msg, msg_openat2) == 0
                || strncmp (err->msg, refused, strlen (refused)) == 0);

  if (!ok)
    fprintf (stderr, "`%s`: %s\n", spec, err ? err->msg : "resolved");
  sk_err_free (&err);
  free (h);
  sk_creds_clear (&c);
  assert_true (ok);
}

static void
test_symlinks_stay_inside (void **state)
{
  struct fixture *fx = *state;

  /* The outside file defines "evil"; following the link out would find it. */
  expect_not_followed (fx->hostile, "evil", "user `evil`: no such user in the image's /etc/passwd",
                       "/etc/passwd");
  expect_not_followed (fx->hostile, "0:evil",
                       "group `evil`: no such group in the image's /etc/group", "/etc/passwd");
  expect_not_followed (fx->hostile2, "evil", "user `evil`: no such user in the image's /etc/passwd",
                       "/etc/passwd");
  if (have_openat2 ())
    expect (fx->hostile, "0", 0, 0, "/", (const unsigned[]){ 0 }, 1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_forms),
    cmocka_unit_test (test_membership_is_exact),
    cmocka_unit_test (test_missing_names),
    cmocka_unit_test (test_image_without_etc),
    cmocka_unit_test (test_symlinks_stay_inside),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
