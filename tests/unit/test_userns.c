/* --userns: /etc/subuid parsing, the map skiff picks, the map lines, and the
 * directory preparation for the namespace's root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "error.h"
#include "userns.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
test_subid_find (void **state)
{
  const char *text = "# comment\n"
                     "alice:200000:65536\n"
                     "root:300000:131072\n"
                     "root:900000:65536\n";
  uint32_t start = 0, count = 0;
  sk_err_t err = NULL;

  (void)state;
  assert_int_equal (sk_userns_subid_find (text, "root", 0, &start, &count, &err), 1);
  assert_int_equal (start, 300000);
  assert_int_equal (count, 131072);
  assert_int_equal (sk_userns_subid_find (text, "alice", 1000, &start, &count, &err), 1);
  assert_int_equal (start, 200000);
  assert_int_equal (sk_userns_subid_find (text, "bob", 1001, &start, &count, &err), 0);
  /* A prefix of a name is not the name. */
  assert_int_equal (sk_userns_subid_find ("rootless:1:2\n", "root", 0, &start, &count, &err), 0);
  assert_null (err);
}

static void
test_subid_numeric_and_last_line (void **state)
{
  uint32_t start = 0, count = 0;
  sk_err_t err = NULL;

  (void)state;
  /* newuidmap also accepts the uid; no final newline. */
  assert_int_equal (sk_userns_subid_find ("0:500000:65536", "root", 0, &start, &count, &err), 1);
  assert_int_equal (start, 500000);
  assert_int_equal (count, 65536);
  assert_int_equal (sk_userns_subid_find ("", "root", 0, &start, &count, &err), 0);
  assert_null (err);
}

static void
test_subid_malformed (void **state)
{
  static const char *const bad[] = {
    "root:100000\n",        "root:abc:65536\n",     "root:100000:0\n",
    "root:100000:65536x\n", "root:99999999999:1\n", "root::1\n",
  };
  uint32_t start, count;

  (void)state;
  for (size_t i = 0; i < SK_ARRAY_SIZE (bad); i++)
    {
      sk_err_t err = NULL;
      assert_int_equal (sk_userns_subid_find (bad[i], "root", 0, &start, &count, &err), -1);
      assert_non_null (err);
      assert_non_null (strstr (err->msg, "line 1"));
      sk_err_free (&err);
    }
  /* Another user's broken line does not matter. */
  {
    sk_err_t err = NULL;
    assert_int_equal (sk_userns_subid_find ("bob:x\nroot:7:8\n", "root", 0, &start, &count, &err),
                      1);
    assert_int_equal (start, 7);
  }
}

static char *
write_temp (const char *text)
{
  char *path = xstrdup ("/tmp/test_userns.XXXXXX");
  int fd = mkstemp (path);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
  close (fd);
  return path;
}

static void
test_map_resolve (void **state)
{
  struct sk_userns_map m;
  sk_err_t err = NULL;
  _cleanup_free_ char *uid = write_temp ("root:200000:65536\n");
  _cleanup_free_ char *gid = write_temp ("root:300000:131072\n");
  _cleanup_free_ char *small = write_temp ("root:400000:1000\n");
  _cleanup_free_ char *zero = write_temp ("root:0:65536\n");

  (void)state;
  /* Neither file: the documented default. */
  assert_int_equal (sk_userns_map_resolve (-1, "/nonexistent/a", "/nonexistent/b", &m, &err), 0);
  assert_int_equal (m.uid_base, SK_USERNS_DEFAULT_BASE);
  assert_int_equal (m.gid_base, SK_USERNS_DEFAULT_BASE);
  assert_int_equal (m.size, SK_USERNS_SIZE);

  /* Both: their ranges, at most 65536 ids. */
  assert_int_equal (sk_userns_map_resolve (-1, uid, gid, &m, &err), 0);
  assert_int_equal (m.uid_base, 200000);
  assert_int_equal (m.gid_base, 300000);
  assert_int_equal (m.size, 65536);

  /* Only one of them: the default, for both (one consistent range). */
  assert_int_equal (sk_userns_map_resolve (-1, uid, "/nonexistent/b", &m, &err), 0);
  assert_int_equal (m.uid_base, SK_USERNS_DEFAULT_BASE);

  /* A smaller range maps fewer ids. */
  assert_int_equal (sk_userns_map_resolve (-1, small, gid, &m, &err), 0);
  assert_int_equal (m.size, 1000);

  /* The override wins over the files. */
  assert_int_equal (sk_userns_map_resolve (500000, uid, gid, &m, &err), 0);
  assert_int_equal (m.uid_base, 500000);
  assert_int_equal (m.gid_base, 500000);
  assert_int_equal (m.size, SK_USERNS_SIZE);
  assert_null (err);

  /* Host root inside the range, or a range past the last id: refused. */
  assert_int_equal (sk_userns_map_resolve (-1, zero, gid, &m, &err), -1);
  assert_non_null (strstr (err->msg, "host id 0"));
  sk_err_free (&err);
  assert_int_equal (sk_userns_map_resolve (0, uid, gid, &m, &err), -1);
  sk_err_free (&err);
  assert_int_equal (sk_userns_map_resolve (4294967000LL, uid, gid, &m, &err), -1);
  sk_err_free (&err);

  unlink (uid);
  unlink (gid);
  unlink (small);
  unlink (zero);
}

static void
test_format_line (void **state)
{
  struct sk_userns_map m = { .uid_base = 100000, .gid_base = 200000, .size = 65536 };
  char buf[64];

  (void)state;
  assert_int_equal (sk_userns_format_line (&m, false, buf, sizeof buf), 15);
  assert_string_equal (buf, "0 100000 65536\n");
  assert_true (sk_userns_format_line (&m, true, buf, sizeof buf) > 0);
  assert_string_equal (buf, "0 200000 65536\n");
  assert_int_equal (sk_userns_format_line (&m, true, buf, 8), -1);
}

static void
test_open_path (void **state)
{
  struct sk_userns_map m = { .uid_base = 100000, .gid_base = 100000, .size = 65536 };
  char top[] = "/tmp/test_userns_dir.XXXXXX";
  _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
  sk_err_t err = NULL;
  struct stat st;

  (void)state;
  if (geteuid () != 0)
    skip ();
  assert_non_null (mkdtemp (top));
  a = xasprintf ("%s/a", top);
  b = xasprintf ("%s/a/b", top);
  c = xasprintf ("%s/a/b/c", top);
  assert_int_equal (mkdir (a, 0700), 0);
  assert_int_equal (mkdir (b, 0750), 0);
  assert_int_equal (mkdir (c, 0700), 0);
  assert_int_equal (chmod (top, 0700), 0);

  assert_int_equal (sk_userns_open_path (top, c, true, &m, &err), 0);
  assert_null (err);
  /* top and every ancestor below it: o+x added, nothing else. */
  assert_int_equal (stat (top, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0701);
  assert_int_equal (stat (a, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0701);
  assert_int_equal (stat (b, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0751);
  /* The path itself: owned by the mapped root, mode untouched. */
  assert_int_equal (stat (c, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0700);
  assert_int_equal (st.st_uid, 100000);
  assert_int_equal (st.st_gid, 100000);

  /* Outside top: nothing is changed. */
  assert_int_equal (chmod (a, 0700), 0);
  assert_int_equal (sk_userns_open_path ("/nonexistent", c, false, &m, &err), 0);
  assert_int_equal (stat (a, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0700);

  rmdir (c);
  rmdir (b);
  rmdir (a);
  rmdir (top);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_subid_find),      cmocka_unit_test (test_subid_numeric_and_last_line),
    cmocka_unit_test (test_subid_malformed), cmocka_unit_test (test_map_resolve),
    cmocka_unit_test (test_format_line),     cmocka_unit_test (test_open_path),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
