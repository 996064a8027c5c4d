/* launcher/taskstate: atomic files, process identity, state.json round trip,
 * task lookup by id, prefix and name, monitor exit records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "taskstate.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Valgrind does not know pidfd_open: those checks are skipped under it. */
static bool
have_pidfd (void)
{
  int fd = (int)syscall (SYS_pidfd_open, getpid (), 0);

  if (fd < 0)
    return false;
  close (fd);
  return true;
}

static char *
make_root (void)
{
  char tmpl[] = "/tmp/skiff-taskstate-XXXXXX";
  char *root = xstrdup (mkdtemp (tmpl));
  _cleanup_free_ char *tasks = xasprintf ("%s/tasks", root);
  mkdir (tasks, 0700);
  return root;
}

static void
rm_rf (const char *path)
{
  _cleanup_free_ char *cmd = xasprintf ("rm -rf '%s'", path);
  assert_int_equal (system (cmd), 0);
}

static void
add_task (const char *root, const char *id, const char *name)
{
  _cleanup_free_ char *dir = xasprintf ("%s/tasks/%s", root, id);
  _cleanup_free_ char *spec = xasprintf ("%s/spec.json", dir);
  sk_err_t err = NULL;

  assert_int_equal (mkdir (dir, 0700), 0);
  assert_int_equal (sk_write_file_atomic (spec, "{}", 2, &err), 0);
  if (name != NULL)
    {
      _cleanup_free_ char *np = xasprintf ("%s/name", dir);
      assert_int_equal (sk_write_file_atomic (np, name, strlen (name), &err), 0);
    }
}

static void
test_atomic_write_replaces_whole (void **state)
{
  _cleanup_free_ char *root = make_root ();
  _cleanup_free_ char *path = xasprintf ("%s/f", root);
  _cleanup_free_ char *text = NULL;
  sk_err_t err = NULL;
  size_t len;

  (void)state;
  assert_int_equal (sk_write_file_atomic (path, "first version", 13, &err), 0);
  assert_int_equal (sk_write_file_atomic (path, "second", 6, &err), 0);
  assert_int_equal (sk_read_file (path, &text, &len, &err), 0);
  assert_int_equal (len, 6);
  assert_string_equal (text, "second");
  /* No temporary file is left next to it (root holds tasks/ and f). */
  _cleanup_free_ char *cmd = xasprintf ("test $(ls '%s' | wc -l) -eq 2", root);
  assert_int_equal (system (cmd), 0);
  rm_rf (root);
}

static void
test_read_missing_file_fails_with_enoent (void **state)
{
  _cleanup_free_ char *text = NULL;
  sk_err_t err = NULL;

  (void)state;
  assert_int_equal (sk_read_file ("/nonexistent/skiff/x", &text, NULL, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  sk_err_free (&err);
}

static void
test_start_time_identifies_process (void **state)
{
  uint64_t me = sk_proc_start_time (getpid ());
  pid_t child;
  int fd;

  (void)state;
  assert_true (me > 0);
  assert_int_equal (sk_proc_start_time (-1), 0);
  if (!have_pidfd ())
    skip ();
  /* A live child: verified with its start time, refused with another. */
  child = fork ();
  if (child == 0)
    {
      pause ();
      _exit (0);
    }
  uint64_t start = sk_proc_start_time (child);
  assert_true (start >= me);
  fd = sk_pidfd_open_verified (child, start);
  assert_true (fd >= 0);
  close (fd);
  assert_int_equal (sk_pidfd_open_verified (child, start + 1), -1);
  kill (child, SIGKILL);
  /* A zombie keeps its start time (the monitor reads it before reaping). */
  usleep (50000);
  assert_int_equal (sk_proc_start_time (child), start);
  waitpid (child, NULL, 0);
  assert_int_equal (sk_proc_start_time (child), 0);
  assert_int_equal (sk_pidfd_open_verified (child, start), -1);
}

static void
test_boot_id (void **state)
{
  char id[40];

  (void)state;
  sk_boot_id (id);
  assert_int_equal (strlen (id), 36);
}

static void
test_record_round_trip (void **state)
{
  struct sk_task_record r, back;
  sk_err_t err = NULL;
  _cleanup_free_ char *text = NULL;

  (void)state;
  memset (&r, 0, sizeof r);
  r.id = xstrdup ("0123456789ab");
  r.name = xstrdup ("web");
  r.family = xstrdup ("fam");
  r.last_status = xstrdup ("RUNNING");
  r.desired_status = xstrdup ("RUNNING");
  r.created_ns = 1700000000123456789ull;
  r.attempt = 2;
  r.stopping = true;
  r.cause = 2;
  r.ended_by = 1;
  r.deadline_ms = 99999;
  snprintf (r.boot_id, sizeof r.boot_id, "boot");
  r.n = 2;
  r.c = xzalloc (2 * sizeof *r.c);
  r.c[0].name = xstrdup ("app");
  r.c[0].state = 1;
  r.c[0].pid = 1234;
  r.c[0].pid_start = 5678;
  r.c[0].health = 1;
  r.c[0].history.n_starts = 3;
  r.c[0].history.restart_count = 2;
  r.c[0].history.n_recent = 2;
  r.c[0].history.recent_ms[0] = 10;
  r.c[0].history.recent_ms[1] = 20;
  r.c[0].stop_sent = true;
  r.c[0].kill_at_ms = 4242;
  r.c[0].next_probe_ms = 777;
  r.c[0].last_probe_end_ms = 666;
  r.c[0].health_failures = 2;
  r.c[0].health_passed_once = true;
  r.hibernating = true;
  r.wake_at_ms = 555;
  r.c[1].name = xstrdup ("side \"quoted\"");
  r.c[1].state = 2;
  r.c[1].exit_known = true;
  r.c[1].exit_code = 137;
  r.c[1].reason = xstrdup ("OutOfMemoryError: x");

  text = sk_task_record_to_json (&r, false);
  assert_int_equal (sk_task_record_from_json (text, strlen (text), &back, &err), 0);
  assert_string_equal (back.id, "0123456789ab");
  assert_string_equal (back.name, "web");
  assert_string_equal (back.last_status, "RUNNING");
  assert_int_equal (back.attempt, 2);
  assert_true (back.stopping);
  assert_int_equal (back.cause, 2);
  assert_int_equal (back.ended_by, 1);
  assert_int_equal (back.deadline_ms, 99999);
  assert_int_equal (back.created_ns, 1700000000123456789ull);
  assert_string_equal (back.boot_id, "boot");
  assert_false (back.exit_known);
  assert_int_equal (back.n, 2);
  assert_int_equal (back.c[0].pid, 1234);
  assert_int_equal (back.c[0].pid_start, 5678);
  assert_int_equal (back.c[0].health, 1);
  assert_int_equal (back.c[0].history.n_starts, 3);
  assert_int_equal (back.c[0].history.restart_count, 2);
  assert_int_equal (back.c[0].history.n_recent, 2);
  assert_int_equal (back.c[0].history.recent_ms[1], 20);
  /* What a woken supervisor needs to keep the health check's schedule. */
  assert_int_equal (back.c[0].next_probe_ms, 777);
  assert_int_equal (back.c[0].last_probe_end_ms, 666);
  assert_int_equal (back.c[0].health_failures, 2);
  assert_true (back.c[0].health_passed_once);
  assert_true (back.hibernating);
  assert_int_equal (back.wake_at_ms, 555);
  assert_int_equal (back.c[1].next_probe_ms, 0);
  assert_true (back.c[0].stop_sent);
  assert_int_equal (back.c[0].kill_at_ms, 4242);
  assert_false (back.c[0].exit_known);
  assert_string_equal (back.c[1].name, "side \"quoted\"");
  assert_true (back.c[1].exit_known);
  assert_int_equal (back.c[1].exit_code, 137);
  assert_string_equal (back.c[1].reason, "OutOfMemoryError: x");
  sk_task_record_clear (&back);
  sk_task_record_clear (&r);
}

static void
test_record_rejects_garbage (void **state)
{
  struct sk_task_record r;
  sk_err_t err = NULL;

  (void)state;
  assert_int_equal (sk_task_record_from_json ("{\"taskArn\":", 11, &r, &err), -1);
  sk_err_free (&err);
  assert_int_equal (sk_task_record_from_json ("[]", 2, &r, &err), -1);
  sk_err_free (&err);
  assert_int_equal (sk_task_record_from_json ("{}", 2, &r, &err), -1);
  sk_err_free (&err);
}

static void
test_resolve_id_prefix_name (void **state)
{
  _cleanup_free_ char *root = make_root ();
  sk_err_t err = NULL;
  char *id = NULL;
  char **ids = NULL;

  (void)state;
  add_task (root, "aaaa11112222", "web");
  add_task (root, "aaaa33334444", NULL);
  add_task (root, "bbbb55556666", NULL);
  assert_int_equal (sk_task_list (root, &ids), 3);
  assert_string_equal (ids[0], "aaaa11112222");
  sk_strv_free (ids);

  assert_int_equal (sk_task_resolve (root, "bbbb55556666", &id, &err), 0);
  assert_string_equal (id, "bbbb55556666");
  free (id);
  assert_int_equal (sk_task_resolve (root, "bb", &id, &err), 0);
  assert_string_equal (id, "bbbb55556666");
  free (id);
  assert_int_equal (sk_task_resolve (root, "web", &id, &err), 0);
  assert_string_equal (id, "aaaa11112222");
  free (id);
  assert_int_equal (sk_task_resolve (root, "aaaa", &id, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  sk_err_free (&err);
  assert_int_equal (sk_task_resolve (root, "nope", &id, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  sk_err_free (&err);
  assert_int_equal (sk_task_resolve (root, "../x", &id, &err), -1);
  sk_err_free (&err);
  rm_rf (root);
}

static void
test_exit_record (void **state)
{
  _cleanup_free_ char *root = make_root ();
  _cleanup_free_ char *dir = xasprintf ("%s/tasks/t", root);
  _cleanup_free_ char *exits = xasprintf ("%s/exits", dir);
  _cleanup_free_ char *path = NULL;
  sk_err_t err = NULL;
  int how, status;

  (void)state;
  mkdir (dir, 0700);
  mkdir (exits, 0700);
  assert_int_equal (sk_exit_record_read (dir, 42, 7, &how, &status), -1);
  path = sk_exit_record_path (dir, 42, 7);
  assert_int_equal (sk_write_file_atomic (path, "2 9\n", 4, &err), 0);
  assert_int_equal (sk_exit_record_read (dir, 42, 7, &how, &status), 0);
  assert_int_equal (how, 2);
  assert_int_equal (status, 9);
  /* Another start time is another process. */
  assert_int_equal (sk_exit_record_read (dir, 42, 8, &how, &status), -1);
  rm_rf (root);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_atomic_write_replaces_whole),
    cmocka_unit_test (test_read_missing_file_fails_with_enoent),
    cmocka_unit_test (test_start_time_identifies_process),
    cmocka_unit_test (test_boot_id),
    cmocka_unit_test (test_record_round_trip),
    cmocka_unit_test (test_record_rejects_garbage),
    cmocka_unit_test (test_resolve_id_prefix_name),
    cmocka_unit_test (test_exit_record),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
