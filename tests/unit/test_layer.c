/* Layer extraction against hostile archives built here with libarchive's
 * writer, whiteouts, metadata, compression; and the store's digest checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "image_store.h"
#include "layer.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

struct env
{
  char base[64];
  char dest[128];
  char outside[128];
  char tar[128];
  int destfd;
};

enum kind
{
  K_FILE,
  K_DIR,
  K_SYMLINK,
  K_HARDLINK,
};

struct item
{
  enum kind kind;
  const char *path;
  const char *data; /* file content, or link target */
  mode_t mode;
  int uid;
  const char *xattr; /* "name=value" */
};

static int
setup (void **state)
{
  struct env *e = xzalloc (sizeof *e);

  snprintf (e->base, sizeof e->base, "/tmp/skiff-layer-XXXXXX");
  assert_non_null (mkdtemp (e->base));
  snprintf (e->dest, sizeof e->dest, "%s/dest", e->base);
  snprintf (e->outside, sizeof e->outside, "%s/outside", e->base);
  snprintf (e->tar, sizeof e->tar, "%s/layer.tar", e->base);
  assert_int_equal (mkdir (e->dest, 0755), 0);
  assert_int_equal (mkdir (e->outside, 0755), 0);
  e->destfd = open (e->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (e->destfd >= 0);
  *state = e;
  return 0;
}

static int
teardown (void **state)
{
  struct env *e = *state;
  char cmd[200];

  close (e->destfd);
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", e->base);
  assert_int_equal (system (cmd), 0);
  free (e);
  return 0;
}

static void
write_tar (const char *path, int filter, const struct item *items, size_t n)
{
  struct archive *a = archive_write_new ();
  struct archive_entry *en;

  archive_write_set_format_pax_restricted (a);
  if (filter == 1)
    archive_write_add_filter_gzip (a);
  else if (filter == 2)
    archive_write_add_filter_zstd (a);
  assert_int_equal (archive_write_open_filename (a, path), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++)
    {
      en = archive_entry_new ();
      archive_entry_set_pathname (en, items[i].path);
      archive_entry_set_uid (en, (la_int64_t)items[i].uid);
      archive_entry_set_gid (en, (la_int64_t)items[i].uid);
      archive_entry_set_mtime (en, 1000000, 0);
      if (items[i].xattr != NULL)
        {
          const char *eq = strchr (items[i].xattr, '=');
          char name[64];
          snprintf (name, sizeof name, "%.*s", (int)(eq - items[i].xattr), items[i].xattr);
          archive_entry_xattr_add_entry (en, name, eq + 1, strlen (eq + 1));
        }
      switch (items[i].kind)
        {
        case K_FILE:
          archive_entry_set_filetype (en, AE_IFREG);
          archive_entry_set_perm (en, items[i].mode ? items[i].mode : 0644);
          archive_entry_set_size (en, (la_int64_t)strlen (items[i].data ? items[i].data : ""));
          break;
        case K_DIR:
          archive_entry_set_filetype (en, AE_IFDIR);
          archive_entry_set_perm (en, items[i].mode ? items[i].mode : 0755);
          break;
        case K_SYMLINK:
          archive_entry_set_filetype (en, AE_IFLNK);
          archive_entry_set_perm (en, 0777);
          archive_entry_set_symlink (en, items[i].data);
          break;
        case K_HARDLINK:
          archive_entry_set_filetype (en, AE_IFREG);
          archive_entry_set_perm (en, 0644);
          archive_entry_set_hardlink (en, items[i].data);
          archive_entry_set_size (en, 0);
          break;
        }
      assert_int_equal (archive_write_header (a, en), ARCHIVE_OK);
      if (items[i].kind == K_FILE && items[i].data != NULL)
        archive_write_data (a, items[i].data, strlen (items[i].data));
      archive_entry_free (en);
    }
  archive_write_close (a);
  archive_write_free (a);
}

static int
extract (struct env *e, sk_err_t *err)
{
  int fd = open (e->tar, O_RDONLY | O_CLOEXEC);
  int r;

  assert_true (fd >= 0);
  r = sk_layer_extract (fd, e->destfd, NULL, err);
  close (fd);
  return r;
}

static void
expect_refused (struct env *e, const struct item *items, size_t n, const char *fragment)
{
  sk_err_t err = NULL;
  char probe[256];
  struct stat st;

  write_tar (e->tar, 0, items, n);
  if (extract (e, &err) == 0)
    fail_msg ("archive with `%s` was extracted", items[n - 1].path);
  if (strstr (err->msg, fragment) == NULL)
    fail_msg ("message `%s` lacks `%s`", err->msg, fragment);
  sk_err_free (&err);
  /* Nothing landed next to the layer directory. */
  snprintf (probe, sizeof probe, "%s/outside/pwned", e->base);
  assert_int_equal (stat (probe, &st), -1);
  snprintf (probe, sizeof probe, "%s/pwned", e->base);
  assert_int_equal (stat (probe, &st), -1);
}

static void
test_dotdot_and_absolute (void **state)
{
  struct env *e = *state;
  const struct item dotdot[] = { { K_FILE, "../pwned", "x", 0, 0, NULL } };
  const struct item deep[]
      = { { K_DIR, "a", NULL, 0, 0, NULL }, { K_FILE, "a/../../pwned", "x", 0, 0, NULL } };
  const struct item absolute[] = { { K_FILE, "/tmp/pwned-skiff", "x", 0, 0, NULL } };

  expect_refused (e, dotdot, 1, "`..` refused");
  expect_refused (e, deep, 2, "`..` refused");
  expect_refused (e, absolute, 1, "absolute path refused");
}

static void
test_symlink_tricks (void **state)
{
  struct env *e = *state;
  char target[160];
  struct item through_abs[]
      = { { K_SYMLINK, "escape", NULL, 0, 0, NULL }, { K_FILE, "escape/pwned", "x", 0, 0, NULL } };
  const struct item through_rel[]
      = { { K_SYMLINK, "up", "..", 0, 0, NULL }, { K_FILE, "up/pwned", "x", 0, 0, NULL } };
  const struct item through_dot[]
      = { { K_SYMLINK, "self", ".", 0, 0, NULL }, { K_DIR, "self/sub", NULL, 0, 0, NULL } };

  snprintf (target, sizeof target, "%s", e->outside);
  through_abs[0].data = target;
  expect_refused (e, through_abs, 2, "symlink");
  expect_refused (e, through_rel, 2, "symlink");
  expect_refused (e, through_dot, 2, "symlink");
}

static void
test_hardlink_tricks (void **state)
{
  struct env *e = *state;
  const struct item up[] = { { K_HARDLINK, "h", "../outside/secret", 0, 0, NULL } };
  const struct item abs[] = { { K_HARDLINK, "h", "/etc/passwd", 0, 0, NULL } };
  const struct item via_link[]
      = { { K_SYMLINK, "l", "/etc", 0, 0, NULL }, { K_HARDLINK, "h", "l/passwd", 0, 0, NULL } };

  expect_refused (e, up, 1, "`..` refused");
  expect_refused (e, abs, 1, "absolute path refused");
  expect_refused (e, via_link, 2, "inside the layer");
}

static void
test_replace_symlink_with_file (void **state)
{
  struct env *e = *state;
  char outside_file[200], inside[200];
  char target[200];
  struct item items[]
      = { { K_SYMLINK, "s", NULL, 0, 0, NULL }, { K_FILE, "s", "new", 0, 0, NULL } };
  struct stat st;
  sk_err_t err = NULL;
  int fd;

  snprintf (outside_file, sizeof outside_file, "%s/victim", e->outside);
  fd = open (outside_file, O_WRONLY | O_CREAT, 0644);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, "orig", 4), 4);
  close (fd);
  snprintf (target, sizeof target, "%s", outside_file);
  items[0].data = target;
  write_tar (e->tar, 0, items, 2);
  assert_int_equal (extract (e, &err), 0);
  snprintf (inside, sizeof inside, "%s/s", e->dest);
  assert_int_equal (lstat (inside, &st), 0);
  assert_true (S_ISREG (st.st_mode));
  assert_int_equal (stat (outside_file, &st), 0);
  assert_int_equal (st.st_size, 4);
}

static void
check_good_tree (struct env *e)
{
  char p[256], buf[64];
  struct stat st, st2;
  ssize_t n;

  snprintf (p, sizeof p, "%s/bin/tool", e->dest);
  assert_int_equal (lstat (p, &st), 0);
  assert_int_equal (st.st_mode & 07777, 04755);
  assert_int_equal (st.st_uid, 1000);
  assert_int_equal (st.st_mtime, 1000000);
  n = getxattr (p, "user.note", buf, sizeof buf);
  if (n >= 0) /* tmpfs before 6.6 has no user.* */
    assert_memory_equal (buf, "hi", 2);
  snprintf (p, sizeof p, "%s/bin/tool2", e->dest);
  assert_int_equal (lstat (p, &st2), 0);
  assert_int_equal (st2.st_ino, st.st_ino); /* hardlink */
  snprintf (p, sizeof p, "%s/bin/sh", e->dest);
  n = readlink (p, buf, sizeof buf);
  assert_int_equal (n, 4);
  assert_memory_equal (buf, "tool", 4);
  /* whiteout -> 0/0 character device */
  snprintf (p, sizeof p, "%s/etc/gone", e->dest);
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (st.st_rdev, makedev (0, 0));
  /* opaque directory */
  snprintf (p, sizeof p, "%s/var", e->dest);
  assert_int_equal (getxattr (p, "trusted.overlay.opaque", buf, sizeof buf), 1);
  assert_int_equal (buf[0], 'y');
  snprintf (p, sizeof p, "%s/var/.wh..wh..opq", e->dest);
  assert_int_equal (lstat (p, &st), -1);
  /* a forged overlay xattr in the archive is never copied */
  snprintf (p, sizeof p, "%s/etc", e->dest);
  assert_int_equal (getxattr (p, "trusted.overlay.redirect", buf, sizeof buf), -1);
}

static void
test_good_layer (void **state)
{
  struct env *e = *state;
  const struct item items[] = {
    { K_DIR, "./", NULL, 0, 0, NULL },
    { K_DIR, "./bin", NULL, 0, 0, NULL },
    { K_FILE, "./bin/tool", "#!/bin/true\n", 04755, 1000, "user.note=hi" },
    { K_HARDLINK, "bin/tool2", "./bin/tool", 0, 0, NULL },
    { K_SYMLINK, "bin/sh", "tool", 0, 0, NULL },
    { K_DIR, "etc", NULL, 0, 0, "trusted.overlay.redirect=/x" },
    { K_FILE, "etc/.wh.gone", "", 0, 0, NULL },
    { K_FILE, "var/.wh..wh..opq", "", 0, 0, NULL },
    { K_FILE, "var/new", "n", 0, 0, NULL },
  };
  static const int filters[] = { 0, 1, 2 };
  char cmd[200];
  sk_err_t err = NULL;

  for (size_t f = 0; f < SK_ARRAY_SIZE (filters); f++)
    {
      snprintf (cmd, sizeof cmd, "rm -rf '%s'/* 2>/dev/null; true", e->dest);
      assert_int_equal (system (cmd), 0);
      write_tar (e->tar, filters[f], items, SK_ARRAY_SIZE (items));
      if (extract (e, &err) < 0)
        fail_msg ("filter %d: %s", filters[f], err->msg);
      check_good_tree (e);
    }
}

static void
test_store_digest_refusal (void **state)
{
  struct env *e = *state;
  struct sk_store s;
  sk_err_t err = NULL;
  char actual[SK_DIGEST_LEN + 1];
  char root[160];
  char *data = NULL;
  size_t len;
  const char *wrong = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
  char *path;
  int fd;

  snprintf (root, sizeof root, "%s/root", e->base);
  assert_int_equal (mkdir (root, 0700), 0);
  unsetenv ("SKIFF_IMAGE_STORE");
  assert_int_equal (sk_store_open (root, &s, &err), 0);
  assert_int_equal (sk_store_put_buffer (&s, "hello", 5, wrong, actual, &err), -1);
  assert_non_null (strstr (err->msg, wrong));
  assert_non_null (strstr (err->msg, "failed verification"));
  sk_err_free (&err);
  assert_false (sk_store_has_blob (&s, wrong));
  assert_false (sk_store_has_blob (&s, actual));

  assert_int_equal (sk_store_put_buffer (&s, "hello", 5, NULL, actual, &err), 0);
  assert_string_equal (actual,
                       "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  assert_int_equal (sk_store_read_blob (&s, actual, &data, &len, &err), 0);
  assert_int_equal (len, 5);
  free (data);
  /* Tamper with the stored blob: reading it again refuses. */
  path = sk_store_blob_path (&s, actual);
  fd = open (path, O_WRONLY | O_TRUNC);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, "HELLO", 5), 5);
  close (fd);
  free (path);
  assert_int_equal (sk_store_read_blob (&s, actual, &data, &len, &err), -1);
  assert_non_null (strstr (err->msg, actual));
  sk_err_free (&err);

  /* Refs survive names with '/', ':' and '@'. */
  assert_int_equal (sk_store_set_ref (&s, "h:1/a/b:t@x", actual, &err), 0);
  {
    char **names = NULL, **digests = NULL;
    assert_int_equal (sk_store_list_refs (&s, &names, &digests, &err), 0);
    assert_string_equal (names[0], "h:1/a/b:t@x");
    assert_string_equal (digests[0], actual);
    assert_null (names[1]);
    sk_strv_free (names);
    sk_strv_free (digests);
  }
  sk_store_close (&s);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_dotdot_and_absolute, setup, teardown),
    cmocka_unit_test_setup_teardown (test_symlink_tricks, setup, teardown),
    cmocka_unit_test_setup_teardown (test_hardlink_tricks, setup, teardown),
    cmocka_unit_test_setup_teardown (test_replace_symlink_with_file, setup, teardown),
    cmocka_unit_test_setup_teardown (test_good_layer, setup, teardown),
    cmocka_unit_test_setup_teardown (test_store_digest_refusal, setup, teardown),
  };
  if (geteuid () != 0)
    {
      printf ("# skip: layer tests need root (chown, mknod, trusted xattrs)\n");
      return 77;
    }
  return cmocka_run_group_tests_name ("layer", tests, NULL, NULL);
}
