/* isolate/rootfs: the shared mount point (sk_rootfs_prepare_at) makes no
 * per-container directory for a read-only root, and only the writable
 * layer's for an overlay; isolate/cgroup: sk_cgroup_remove_tree finds a
 * task's container groups in cgroupfs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "cgroup.h"
#include "mount.h"
#include "util.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct env
{
  char tmp[64];
  char *image;
  char *state;       /* <tmp>/task/containers/app: made only when needed */
  char *mount_point; /* <tmp>/rootfs-mnt */
};

static int
remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void)st, (void)type, (void)ftw;
  return remove (path);
}

static int
setup (void **state)
{
  struct env *e = xzalloc (sizeof *e);
  _cleanup_free_ char *task = NULL;

  strcpy (e->tmp, "/tmp/skiff-rootfs-shared-XXXXXX");
  assert_non_null (mkdtemp (e->tmp));
  e->image = xasprintf ("%s/image", e->tmp);
  assert_int_equal (mkdir (e->image, 0755), 0);
  task = xasprintf ("%s/task", e->tmp);
  assert_int_equal (mkdir (task, 0700), 0);
  e->state = xasprintf ("%s/containers", task);
  assert_int_equal (mkdir (e->state, 0700), 0);
  free (e->state);
  e->state = xasprintf ("%s/task/containers/app", e->tmp);
  e->mount_point = xasprintf ("%s/rootfs-mnt", e->tmp);
  *state = e;
  return 0;
}

static int
teardown (void **state)
{
  struct env *e = *state;

  nftw (e->tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  free (e->image);
  free (e->state);
  free (e->mount_point);
  free (e);
  return 0;
}

static bool
is_dir (const char *path)
{
  struct stat st;

  return lstat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

static void
test_readonly_root_makes_no_state_dir (void **state)
{
  struct env *e = *state;
  struct sk_mount_plan a = { 0 }, b = { 0 };
  _cleanup_err_ sk_err_t err = NULL;

  assert_int_equal (sk_rootfs_prepare_at (&a, e->image, e->state, e->mount_point, true, &err), 0);
  assert_string_equal (a.merged, e->mount_point);
  assert_true (is_dir (e->mount_point));
  assert_false (is_dir (e->state));
  assert_null (a.upper);
  assert_null (a.work);
  /* A second container (or task) shares it. */
  assert_int_equal (sk_rootfs_prepare_at (&b, e->image, e->state, e->mount_point, true, &err), 0);
  assert_string_equal (b.merged, a.merged);
  sk_mount_plan_clear (&a);
  sk_mount_plan_clear (&b);
}

static void
test_overlay_makes_only_the_writable_layer (void **state)
{
  struct env *e = *state;
  struct sk_mount_plan p = { 0 };
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *own_merged = xasprintf ("%s/merged", e->state);
  const char *lowers[] = { e->image, NULL };

  assert_int_equal (sk_rootfs_prepare_at (&p, e->image, e->state, e->mount_point, false, &err), 0);
  assert_string_equal (p.merged, e->mount_point);
  assert_true (is_dir (p.upper));
  assert_true (is_dir (p.work));
  assert_false (is_dir (own_merged));
  sk_mount_plan_clear (&p);
  /* The layered variant takes the same mount point. */
  assert_int_equal (sk_rootfs_prepare_layers_at (&p, lowers, e->state, e->mount_point, true, &err),
                    0);
  assert_string_equal (p.merged, e->mount_point);
  assert_non_null (p.lowers);
  sk_mount_plan_clear (&p);
}

static void
test_without_mount_point_as_before (void **state)
{
  struct env *e = *state;
  struct sk_mount_plan p = { 0 };
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *own_merged = xasprintf ("%s/merged", e->state);

  assert_int_equal (sk_rootfs_prepare_at (&p, e->image, e->state, NULL, true, &err), 0);
  assert_string_equal (p.merged, own_merged);
  assert_true (is_dir (own_merged));
  sk_mount_plan_clear (&p);
}

static void
test_bad_mount_points (void **state)
{
  struct env *e = *state;
  struct sk_mount_plan p = { 0 };
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *file = xasprintf ("%s/a-file", e->tmp);
  _cleanup_free_ char *link = xasprintf ("%s/a-link", e->tmp);
  FILE *f;

  assert_int_equal (sk_rootfs_prepare_at (&p, e->image, e->state, "rel/mnt", true, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  sk_err_free (&err);
  f = fopen (file, "w");
  assert_non_null (f);
  fclose (f);
  assert_int_equal (sk_rootfs_prepare_at (&p, e->image, e->state, file, true, &err), -1);
  assert_int_equal (err->errnum, ENOTDIR);
  sk_err_free (&err);
  /* A symlink planted on the mount point is never followed. */
  assert_int_equal (symlink (e->image, link), 0);
  assert_int_equal (sk_rootfs_prepare_at (&p, e->image, e->state, link, true, &err), -1);
  assert_int_equal (err->errnum, ENOTDIR);
  sk_err_free (&err);
  sk_mount_plan_clear (&p);
}

/* ---- cgroup trees ------------------------------------------------------- */

static void
test_cgroup_remove_tree (void **state)
{
  (void)state;
  _cleanup_free_ char *task = xasprintf ("skiff-test-tree-%d", (int)getpid ());
  _cleanup_free_ char *a = xasprintf ("%s/a", task);
  _cleanup_free_ char *b = xasprintf ("%s/b", task);
  _cleanup_free_ char *deep = xasprintf ("%s/b/inner", task);
  _cleanup_err_ sk_err_t err = NULL;
  struct sk_cgroup *ca = NULL, *cb = NULL, *cd = NULL;
  _cleanup_free_ char *memdir = NULL;

  if (geteuid () != 0 || sk_cgroup_layout (NULL) <= 0)
    skip ();
  if (sk_cgroup_create (a, NULL, &ca, &err) < 0 || sk_cgroup_create (b, NULL, &cb, &err) < 0
      || sk_cgroup_create (deep, NULL, &cd, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  memdir = xstrdup (sk_cgroup_dir (ca, "memory") != NULL ? sk_cgroup_dir (ca, "memory")
                                                         : sk_cgroup_dir (ca, "pids"));
  sk_cgroup_free (ca);
  sk_cgroup_free (cb);
  sk_cgroup_free (cd);
  /* The plain removal refuses a group with children; the tree one does not. */
  assert_int_equal (sk_cgroup_remove_path (task, &err), -1);
  assert_int_equal (err->errnum, EBUSY);
  sk_err_free (&err);
  if (sk_cgroup_remove_tree (task, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  assert_false (is_dir (memdir));
  {
    /* memdir is <hierarchy>/<task>/a: its parent is the task group. */
    char *slash = strrchr (memdir, '/');
    *slash = '\0';
    assert_false (is_dir (memdir));
  }
  /* Missing is fine, as for sk_cgroup_remove_path. */
  if (sk_cgroup_remove_tree (task, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_readonly_root_makes_no_state_dir, setup, teardown),
    cmocka_unit_test_setup_teardown (test_overlay_makes_only_the_writable_layer, setup, teardown),
    cmocka_unit_test_setup_teardown (test_without_mount_point_as_before, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bad_mount_points, setup, teardown),
    cmocka_unit_test (test_cgroup_remove_tree),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
