/* launcher/pty: pty pairs and their window size, the log sink reading a
 * pty master, skiff's stdin reaching a container's pty with flow control,
 * and the user's terminal put in raw mode and restored (also by exit()). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "logs.h"
#include "pty.h"
#include "util.h"

/* fds 0-2 replaced for the length of one call: the tests must not depend
 * on how the runner was started (a terminal or pipes). */
struct saved_stdio
{
  int fd[3];
};

static void
stdio_replace (struct saved_stdio *s, int in, int out, int err)
{
  int with[3] = { in, out, err };
  for (int i = 0; i < 3; i++)
    {
      s->fd[i] = dup (i);
      assert_true (s->fd[i] >= 0);
      assert_int_equal (dup2 (with[i], i), i);
    }
}

static void
stdio_restore (struct saved_stdio *s)
{
  for (int i = 0; i < 3; i++)
    {
      dup2 (s->fd[i], i);
      close (s->fd[i]);
    }
}

/* A pty of the test's own, standing for the user's terminal. */
static int
openpty_pair (int *master, int *slave)
{
  *master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*master < 0 || grantpt (*master) < 0 || unlockpt (*master) < 0)
    return -1;
  *slave = open (ptsname (*master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  return *slave < 0 ? -1 : 0;
}

static void
size_of (int fd, unsigned *rows, unsigned *cols)
{
  struct winsize ws;
  assert_int_equal (ioctl (fd, TIOCGWINSZ, &ws), 0);
  *rows = ws.ws_row;
  *cols = ws.ws_col;
}

static void
test_open_without_terminal_is_24x80 (void **state)
{
  struct saved_stdio saved;
  int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  int master = -1, slave = -1;
  char *path = NULL;
  sk_err_t err = NULL;
  unsigned rows, cols;
  struct stat a, b;

  (void)state;
  stdio_replace (&saved, devnull, devnull, devnull);
  int rc = sk_pty_open (true, &master, &slave, &path, &err);
  stdio_restore (&saved);
  assert_int_equal (rc, 0);
  assert_true (isatty (slave));
  assert_true (fcntl (master, F_GETFD) & FD_CLOEXEC);
  assert_true (fcntl (slave, F_GETFD) & FD_CLOEXEC);
  assert_true (fcntl (master, F_GETFL) & O_NONBLOCK);
  /* The name is the slave's. */
  assert_int_equal (stat (path, &a), 0);
  assert_int_equal (fstat (slave, &b), 0);
  assert_true (a.st_rdev == b.st_rdev);
  size_of (master, &rows, &cols);
  assert_int_equal (rows, 24);
  assert_int_equal (cols, 80);
  free (path);
  close (master);
  close (slave);
  close (devnull);
}

static void
test_open_copies_the_terminal_size (void **state)
{
  struct saved_stdio saved;
  struct winsize ws = { .ws_row = 40, .ws_col = 132 };
  int user_master, user_slave, master = -1, slave = -1;
  sk_err_t err = NULL;
  unsigned rows, cols;

  (void)state;
  assert_int_equal (openpty_pair (&user_master, &user_slave), 0);
  assert_int_equal (ioctl (user_slave, TIOCSWINSZ, &ws), 0);
  stdio_replace (&saved, user_slave, user_slave, user_slave);
  int rc = sk_pty_open (false, &master, &slave, NULL, &err);
  assert_int_equal (sk_term_fd (), 1);
  /* SIGWINCH handling copies again. */
  ws.ws_row = 50;
  ws.ws_col = 100;
  ioctl (user_slave, TIOCSWINSZ, &ws);
  size_of (master, &rows, &cols);
  assert_int_equal (rows, 40);
  sk_pty_copy_winsize (master);
  stdio_restore (&saved);
  assert_int_equal (rc, 0);
  size_of (master, &rows, &cols);
  assert_int_equal (rows, 50);
  assert_int_equal (cols, 100);
  close (master);
  close (slave);
  close (user_master);
  close (user_slave);
}

/* A sink writing its terminal copy into a pipe and its file into a
 * temporary directory. */
struct sink_fixture
{
  char dir[64];
  int out[2];
  struct sk_log_sink *sink;
};

static void
sink_open (struct sink_fixture *f)
{
  struct sk_log_opts o;
  sk_err_t err = NULL;

  snprintf (f->dir, sizeof f->dir, "/tmp/test_pty.XXXXXX");
  assert_non_null (mkdtemp (f->dir));
  assert_int_equal (pipe2 (f->out, O_CLOEXEC), 0);
  sk_log_opts_init (&o);
  o.prefix = false;
  o.color = false;
  o.out_fd = f->out[1];
  o.err_fd = f->out[1];
  assert_int_equal (sk_log_sink_open (f->dir, "app", 0, &o, &f->sink, &err), 0);
}

static void
sink_close (struct sink_fixture *f)
{
  char cmd[128];

  sk_log_sink_close (f->sink);
  close (f->out[0]);
  close (f->out[1]);
  snprintf (cmd, sizeof cmd, "rm -rf %s", f->dir);
  assert_int_equal (system (cmd), 0);
}

static void
test_sink_reads_the_master (void **state)
{
  struct sink_fixture f;
  struct sk_task_tty *t = NULL;
  sk_err_t err = NULL;
  const char *path = NULL;
  int slave = -1;
  char buf[256], file[4096];
  ssize_t n;

  (void)state;
  sink_open (&f);
  assert_int_equal (sk_task_tty_new (1, false, &t, &err), 0);
  assert_int_equal (sk_task_tty_open (t, 0, f.sink, false, &slave, &path, &err), 0);
  assert_non_null (path);
  assert_true (sk_log_fd (f.sink, SK_LOG_STDOUT) >= 0);
  assert_int_equal (sk_log_fd (f.sink, SK_LOG_STDERR), -1);
  assert_int_equal (write (slave, "hello\n", 6), 6);
  assert_int_equal (sk_log_sink_drain (f.sink, SK_LOG_STDOUT, sk_log_now ()), 0);
  n = read (f.out[0], buf, sizeof buf - 1);
  assert_true (n > 0);
  buf[n] = '\0';
  /* The terminal's bytes as they are; the file's line without the CR. */
  assert_string_equal (buf, "hello\r\n");
  /* Every holder of the slave gone: end of the stream. */
  close (slave);
  assert_int_equal (sk_log_sink_drain (f.sink, SK_LOG_STDOUT, sk_log_now ()), 1);
  sk_task_tty_free (t);
  snprintf (buf, sizeof buf, "%s/app.log", f.dir);
  int fd = open (buf, O_RDONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  n = read (fd, file, sizeof file - 1);
  close (fd);
  assert_true (n > 0);
  file[n] = '\0';
  assert_non_null (strstr (file, "\"stream\":\"stdout\",\"log\":\"hello\"}"));
  sink_close (&f);
}

/* skiff's stdin is a pipe fed by a child with more than the pty holds;
 * the "container" reads only later, in raw mode: every byte arrives in
 * order, then the end-of-file character. */
static void
test_input_flow_control (void **state)
{
  enum
  {
    TOTAL = 200000
  };
  struct sink_fixture f;
  struct saved_stdio saved;
  struct sk_task_tty *t = NULL;
  sk_err_t err = NULL;
  const char *path = NULL;
  struct termios raw;
  int in[2], slave = -1, devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  size_t got = 0;
  bool saw_eof = false;
  pid_t writer;

  (void)state;
  sink_open (&f);
  assert_int_equal (pipe2 (in, O_CLOEXEC), 0);
  writer = fork ();
  assert_true (writer >= 0);
  if (writer == 0)
    {
      char chunk[1000];
      close (in[0]);
      for (size_t i = 0; i < TOTAL; i += sizeof chunk)
        {
          for (size_t k = 0; k < sizeof chunk; k++)
            chunk[k] = (char)('a' + (i + k) % 26);
          if (write (in[1], chunk, sizeof chunk) != (ssize_t)sizeof chunk)
            _exit (1);
        }
      _exit (0);
    }
  close (in[1]);
  stdio_replace (&saved, in[0], devnull, devnull);
  assert_int_equal (sk_task_tty_new (1, true, &t, &err), 0);
  assert_int_equal (sk_task_tty_open (t, 0, f.sink, true, &slave, &path, &err), 0);
  assert_int_equal (tcgetattr (slave, &raw), 0);
  cfmakeraw (&raw);
  assert_int_equal (tcsetattr (slave, TCSANOW, &raw), 0);
  usleep (200000); /* the pty fills up meanwhile */
  while (!saw_eof)
    {
      struct pollfd p[2]
          = { { .fd = sk_task_tty_fd (t), .events = POLLIN }, { .fd = slave, .events = POLLIN } };
      char buf[4096];

      assert_true (poll (p, 2, 5000) > 0);
      if (p[0].revents & POLLIN)
        sk_task_tty_dispatch (t);
      if (p[1].revents & POLLIN)
        {
          ssize_t n = read (slave, buf, sizeof buf);
          assert_true (n > 0);
          for (ssize_t k = 0; k < n; k++, got++)
            if (got == TOTAL)
              {
                assert_int_equal (buf[k], 4); /* Ctrl-D */
                saw_eof = true;
              }
            else
              assert_int_equal (buf[k], (char)('a' + got % 26));
        }
    }
  stdio_restore (&saved);
  assert_int_equal (got, TOTAL + 1);
  int status;
  assert_int_equal (waitpid (writer, &status, 0), writer);
  assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  sk_task_tty_free (t);
  close (slave);
  close (in[0]);
  close (devnull);
  sink_close (&f);
}

/* In a child that has the pty as its controlling terminal, foreground:
 * raw, then restored by sk_term_restore or by exit(). */
static void
test_raw_mode_restored (void **state)
{
  int user_master, user_slave;
  struct termios before, after;

  (void)state;
  assert_int_equal (openpty_pair (&user_master, &user_slave), 0);
  assert_int_equal (tcgetattr (user_slave, &before), 0);
  assert_true (before.c_lflag & ICANON);
  for (int how = 0; how < 2; how++)
    {
      pid_t pid = fork ();
      assert_true (pid >= 0);
      if (pid == 0)
        {
          struct termios mode;
          if (setsid () < 0 || ioctl (user_slave, TIOCSCTTY, 0) < 0)
            _exit (10);
          if (!sk_term_make_raw (user_slave))
            _exit (11);
          if (tcgetattr (user_slave, &mode) < 0 || (mode.c_lflag & (ICANON | ECHO | ISIG)))
            _exit (12);
          if (how == 0)
            {
              sk_term_restore ();
              if (tcgetattr (user_slave, &mode) < 0 || !(mode.c_lflag & ICANON))
                _exit (13);
              _exit (0);
            }
          exit (0); /* atexit restores it */
        }
      int status;
      assert_int_equal (waitpid (pid, &status, 0), pid);
      assert_true (WIFEXITED (status));
      assert_int_equal (WEXITSTATUS (status), 0);
      assert_int_equal (tcgetattr (user_slave, &after), 0);
      assert_int_equal (after.c_lflag, before.c_lflag);
      assert_int_equal (after.c_iflag, before.c_iflag);
      assert_int_equal (after.c_oflag, before.c_oflag);
    }
  /* Not our terminal (no controlling tty here): left alone. */
  assert_false (sk_term_make_raw (user_slave));
  close (user_master);
  close (user_slave);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_open_without_terminal_is_24x80),
    cmocka_unit_test (test_open_copies_the_terminal_size),
    cmocka_unit_test (test_sink_reads_the_master),
    cmocka_unit_test (test_input_flow_control),
    cmocka_unit_test (test_raw_mode_restored),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
