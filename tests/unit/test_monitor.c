/* launcher/monitor: the fd store a supervisor keeps with its monitor
 * (deposit, withdraw, forget) over the monitor's socket, served here by a
 * child process as the monitor serves it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "monitor.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t server = -1;

static int
start_server (void **state)
{
  int pair[2];
  char num[16];

  (void)state;
  assert_int_equal (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  server = fork ();
  assert_true (server >= 0);
  if (server == 0)
    {
      close (pair[1]);
      sk_monitor_serve_store (pair[0]);
      _exit (0);
    }
  close (pair[0]);
  snprintf (num, sizeof num, "%d", pair[1]);
  setenv (SK_MONITOR_FD_ENV, num, 1);
  return 0;
}

static int
stop_server (void **state)
{
  int status;

  (void)state;
  kill (server, SIGKILL);
  waitpid (server, &status, 0);
  return 0;
}

static void
test_attach_takes_the_socket_from_the_environment (void **state)
{
  (void)state;
  assert_true (sk_monitor_attach ());
  /* Nothing the supervisor starts inherits the variable. */
  assert_null (getenv (SK_MONITOR_FD_ENV));
}

static void
test_deposit_then_withdraw_gives_the_same_file (void **state)
{
  int p[2], got;
  char buf[8] = { 0 };
  sk_err_t err = NULL;

  (void)state;
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  assert_int_equal (sk_monitor_deposit_fd ("pty/web", p[1], &err), 0);
  /* Our copy goes away: the monitor's copy keeps the pipe open. */
  close (p[1]);
  got = sk_monitor_withdraw_fd ("pty/web");
  assert_true (got >= 0);
  assert_int_equal (fcntl (got, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  assert_int_equal (write (got, "hi", 2), 2);
  assert_int_equal (read (p[0], buf, sizeof buf), 2);
  assert_string_equal (buf, "hi");
  /* Withdrawing hands out a duplicate: the store keeps its own. */
  close (got);
  got = sk_monitor_withdraw_fd ("pty/web");
  assert_true (got >= 0);
  close (got);
  sk_monitor_forget_fd ("pty/web");
  errno = 0;
  assert_int_equal (sk_monitor_withdraw_fd ("pty/web"), -1);
  assert_int_equal (errno, ENOENT);
  /* Every copy is gone now: the read end sees end-of-file. */
  assert_int_equal (read (p[0], buf, sizeof buf), 0);
  close (p[0]);
}

static void
test_deposit_replaces_a_name (void **state)
{
  int a = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  int b = open ("/dev/zero", O_RDONLY | O_CLOEXEC);
  char c = 1;
  sk_err_t err = NULL;

  (void)state;
  assert_int_equal (sk_monitor_deposit_fd ("x", a, &err), 0);
  assert_int_equal (sk_monitor_deposit_fd ("x", b, &err), 0);
  int got = sk_monitor_withdraw_fd ("x");
  assert_true (got >= 0);
  assert_int_equal (read (got, &c, 1), 1); /* /dev/zero, not /dev/null */
  assert_int_equal (c, 0);
  close (got);
  close (a);
  close (b);
  sk_monitor_forget_fd ("x");
}

static void
test_unknown_and_bad_names (void **state)
{
  char long_name[80];
  sk_err_t err = NULL;

  (void)state;
  errno = 0;
  assert_int_equal (sk_monitor_withdraw_fd ("never-deposited"), -1);
  assert_int_equal (errno, ENOENT);
  memset (long_name, 'n', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  assert_int_equal (sk_monitor_deposit_fd (long_name, 0, &err), -1);
  assert_non_null (err);
  sk_err_free (&err);
  sk_monitor_forget_fd ("never-deposited"); /* harmless */
}

static void
test_store_has_room_for_sixteen (void **state)
{
  sk_err_t err = NULL;
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  char name[16];

  (void)state;
  for (int i = 0; i < 16; i++)
    {
      snprintf (name, sizeof name, "fd%d", i);
      assert_int_equal (sk_monitor_deposit_fd (name, fd, &err), 0);
    }
  assert_int_equal (sk_monitor_deposit_fd ("one-too-many", fd, &err), -1);
  assert_int_equal (err->errnum, ENOSPC);
  sk_err_free (&err);
  for (int i = 0; i < 16; i++)
    {
      snprintf (name, sizeof name, "fd%d", i);
      sk_monitor_forget_fd (name);
    }
  assert_int_equal (sk_monitor_deposit_fd ("room-again", fd, &err), 0);
  sk_monitor_forget_fd ("room-again");
  close (fd);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_attach_takes_the_socket_from_the_environment),
    cmocka_unit_test (test_deposit_then_withdraw_gives_the_same_file),
    cmocka_unit_test (test_deposit_replaces_a_name),
    cmocka_unit_test (test_unknown_and_bad_names),
    cmocka_unit_test (test_store_has_room_for_sixteen),
  };
  return cmocka_run_group_tests (tests, start_server, stop_server);
}
