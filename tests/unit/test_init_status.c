/* launcher/init_status + isolate/init: the record skiff's init writes for a
 * detached container, and the identity check that keeps a record of one
 * start from ever being taken for another. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "init.h"
#include "init_status.h"
#include "taskstate.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *
make_dir (void)
{
  char tmpl[] = "/tmp/skiff-init-status-XXXXXX";
  return xstrdup (mkdtemp (tmpl));
}

static void
rm_rf (const char *dir)
{
  _cleanup_free_ char *cmd = xasprintf ("rm -rf '%s'", dir);
  assert_int_equal (system (cmd), 0);
}

/* Run skiff's init over a task that ends with `how` (an exit code >= 0,
 * or -SIG), writing to a status file stamped for pid/start. */
static int
run_init (const char *dir, int how, pid_t stamp_pid, uint64_t stamp_start)
{
  sk_err_t err = NULL;
  int fd = sk_init_status_open (dir, &err);
  int status;
  pid_t child;

  assert_true (fd >= 0);
  assert_int_equal (sk_init_status_stamp (fd, stamp_pid, stamp_start, &err), 0);
  child = fork ();
  assert_true (child >= 0);
  if (child == 0)
    {
      sigset_t empty;
      pid_t task;

      sigemptyset (&empty);
      task = sk_init_fork (&empty);
      if (task == 0)
        {
          close (fd);
          if (how < 0)
            {
              signal (-how, SIG_DFL);
              raise (-how);
            }
          _exit (how);
        }
      sk_init_loop (task, fd);
    }
  close (fd);
  assert_int_equal (waitpid (child, &status, 0), child);
  assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
test_exit_code_recorded (void **state)
{
  _cleanup_free_ char *dir = make_dir ();
  int how = 0, status = 0;

  (void)state;
  assert_int_equal (run_init (dir, 7, 4242, 99), 7);
  assert_int_equal (sk_init_status_read (dir, 4242, 99, &how, &status), 0);
  assert_int_equal (how, CLD_EXITED);
  assert_int_equal (status, 7);
  rm_rf (dir);
}

static void
test_signal_recorded_as_init_exits (void **state)
{
  _cleanup_free_ char *dir = make_dir ();
  _cleanup_free_ char *path = xasprintf ("%s/init-exit", dir);
  _cleanup_free_ char *text = NULL;
  sk_err_t err = NULL;
  size_t len = 0;
  int how = 0, status = 0;

  (void)state;
  assert_int_equal (run_init (dir, -SIGUSR1, 4242, 99), 128 + SIGUSR1);
  assert_int_equal (sk_read_file (path, &text, &len, &err), 0);
  assert_true (len > SK_INIT_STATUS_RECORD_AT);
  assert_string_equal (text + SK_INIT_STATUS_RECORD_AT, "killed 10\n");
  /* As the live path sees init itself: an exit with 128+n. */
  assert_int_equal (sk_init_status_read (dir, 4242, 99, &how, &status), 0);
  assert_int_equal (how, CLD_EXITED);
  assert_int_equal (status, 128 + SIGUSR1);
  rm_rf (dir);
}

static void
test_other_start_is_refused (void **state)
{
  _cleanup_free_ char *dir = make_dir ();
  int how = 0, status = 0;

  (void)state;
  assert_int_equal (run_init (dir, 3, 4242, 99), 3);
  /* Same pid, other start time; other pid, same start time. */
  assert_int_equal (sk_init_status_read (dir, 4242, 100, &how, &status), -1);
  assert_int_equal (sk_init_status_read (dir, 4243, 99, &how, &status), -1);
  rm_rf (dir);
}

static void
test_no_record_without_init_exit (void **state)
{
  _cleanup_free_ char *dir = make_dir ();
  sk_err_t err = NULL;
  int how = 0, status = 0;
  int fd;

  (void)state;
  assert_int_equal (sk_init_status_read (dir, 1, 1, &how, &status), -1);
  /* Stamped, but init never wrote (it was SIGKILLed). */
  fd = sk_init_status_open (dir, &err);
  assert_true (fd >= 0);
  assert_int_equal (sk_init_status_stamp (fd, 4242, 99, &err), 0);
  close (fd);
  assert_int_equal (sk_init_status_read (dir, 4242, 99, &how, &status), -1);
  /* A new start truncates what an earlier one wrote. */
  assert_int_equal (run_init (dir, 3, 4242, 99), 3);
  fd = sk_init_status_open (dir, &err);
  assert_true (fd >= 0);
  assert_int_equal (sk_init_status_stamp (fd, 4242, 99, &err), 0);
  close (fd);
  assert_int_equal (sk_init_status_read (dir, 4242, 99, &how, &status), -1);
  rm_rf (dir);
}

static void
test_export_writes_the_monitor_record_once (void **state)
{
  _cleanup_free_ char *task = make_dir ();
  _cleanup_free_ char *ctr = xasprintf ("%s/containers", task);
  _cleanup_free_ char *path = NULL;
  sk_err_t err = NULL;
  int how = 0, status = 0;

  (void)state;
  assert_int_equal (mkdir (ctr, 0700), 0);
  assert_int_equal (sk_init_status_export (task, ctr, 4242, 99), -1);
  assert_int_equal (run_init (ctr, 7, 4242, 99), 7);
  assert_int_equal (sk_init_status_export (task, ctr, 4242, 99), 0);
  assert_int_equal (sk_exit_record_read (task, 4242, 99, &how, &status), 0);
  assert_int_equal (how, CLD_EXITED);
  assert_int_equal (status, 7);
  /* The monitor's own record wins: never replaced. */
  path = sk_exit_record_path (task, 4242, 99);
  assert_int_equal (sk_write_file_atomic (path, "2 9\n", 4, &err), 0);
  assert_int_equal (sk_init_status_export (task, ctr, 4242, 99), 0);
  assert_int_equal (sk_exit_record_read (task, 4242, 99, &how, &status), 0);
  assert_int_equal (how, CLD_KILLED);
  assert_int_equal (status, 9);
  rm_rf (task);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_exit_code_recorded),
    cmocka_unit_test (test_signal_recorded_as_init_exits),
    cmocka_unit_test (test_other_start_is_refused),
    cmocka_unit_test (test_no_record_without_init_exit),
    cmocka_unit_test (test_export_writes_the_monitor_record_once),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
