/* launcher/logs: line splitting, prefixes, JSON records, rotation and the
 * failure paths (full disk, broken terminal), through real pipes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "logs.h"
#include "logs_internal.h"
#include "util.h"

#define NOW 1795761000123456789ull /* 2026-11-27T06:30:00.123456789Z */

struct fixture
{
  char dir[64];
  int out[2]; /* the "terminal" pipes: tests read [0] */
  int err[2];
  struct sk_log_opts o;
  struct sk_log_sink *sink;
  int cout; /* container ends */
  int cerr;
};

static void
rm_rf (const char *dir)
{
  _cleanup_free_ char *cmd = xasprintf ("rm -rf '%s'", dir);
  assert_int_equal (system (cmd), 0);
}

static int
setup (void **state)
{
  struct fixture *f = xzalloc (sizeof *f);

  strcpy (f->dir, "/tmp/skiff-test-logs-XXXXXX");
  assert_non_null (mkdtemp (f->dir));
  assert_int_equal (pipe2 (f->out, O_CLOEXEC | O_NONBLOCK), 0);
  assert_int_equal (pipe2 (f->err, O_CLOEXEC | O_NONBLOCK), 0);
  sk_log_opts_init (&f->o);
  f->o.color = false;
  f->o.name_width = 5;
  f->o.out_fd = f->out[1];
  f->o.err_fd = f->err[1];
  f->cout = f->cerr = -1;
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;

  sk_log_sink_close (f->sink);
  for (int i = 0; i < 2; i++)
    {
      close (f->out[i]);
      close (f->err[i]);
    }
  if (f->cout >= 0)
    close (f->cout);
  if (f->cerr >= 0)
    close (f->cerr);
  rm_rf (f->dir);
  free (f);
  return 0;
}

static void
open_sink (struct fixture *f, const char *name, unsigned color)
{
  _cleanup_err_ sk_err_t err = NULL;

  if (f->cout >= 0)
    close (f->cout);
  if (f->cerr >= 0)
    close (f->cerr);
  assert_int_equal (sk_log_sink_open (f->dir, name, color, &f->o, &f->sink, &err), 0);
  assert_int_equal (sk_log_sink_pipe (f->sink, SK_LOG_STDOUT, &f->cout, &err), 0);
  assert_int_equal (sk_log_sink_pipe (f->sink, SK_LOG_STDERR, &f->cerr, &err), 0);
  assert_true (sk_log_fd (f->sink, SK_LOG_STDOUT) >= 0);
  assert_true (sk_log_fd (f->sink, SK_LOG_STDERR) >= 0);
}

static void
feed (struct fixture *f, int stream, const char *data, size_t len)
{
  int fd = stream == SK_LOG_STDOUT ? f->cout : f->cerr;

  assert_int_equal (write (fd, data, len), (ssize_t)len);
  assert_int_equal (sk_log_sink_drain (f->sink, stream, NOW), 0);
}

static void
feed_str (struct fixture *f, int stream, const char *s)
{
  feed (f, stream, s, strlen (s));
}

/* Close the container end and drain to EOF. */
static void
finish (struct fixture *f, int stream)
{
  int *fd = stream == SK_LOG_STDOUT ? &f->cout : &f->cerr;

  close (*fd);
  *fd = -1;
  assert_int_equal (sk_log_sink_drain (f->sink, stream, NOW), 1);
  assert_int_equal (sk_log_fd (f->sink, stream), -1);
}

/* Everything waiting in a non-blocking pipe, NUL-terminated; *len = bytes. */
static char *
slurp_fd (int fd, size_t *len)
{
  size_t cap = 1 << 16, n = 0;
  char *buf = xmalloc (cap + 1);

  for (;;)
    {
      ssize_t r;
      if (n == cap)
        buf = xrealloc (buf, (cap *= 2) + 1);
      r = read (fd, buf + n, cap - n);
      if (r <= 0)
        break;
      n += (size_t)r;
    }
  buf[n] = '\0';
  if (len)
    *len = n;
  return buf;
}

static char *
slurp_file (const char *path, size_t *len)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  return slurp_fd (fd, len);
}

static char *
log_path (const struct fixture *f, const char *name, int index)
{
  if (index == 0)
    return xasprintf ("%s/%s.log", f->dir, name);
  return xasprintf ("%s/%s.log.%d", f->dir, name, index);
}

struct record
{
  char *time;
  char *stream;
  char *log;
  bool partial;
};

static void
records_free (struct record *r, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (r[i].time);
      free (r[i].stream);
      free (r[i].log);
    }
  free (r);
}

/* Parse every line of a log file with yajl (which checks UTF-8 too). */
static struct record *
read_records (const char *path, size_t *count)
{
  size_t len, n = 0;
  _cleanup_free_ char *text = slurp_file (path, &len);
  struct record *r = NULL;
  char *line = text, *nl;

  assert_true (len == 0 || text[len - 1] == '\n');
  while ((nl = strchr (line, '\n')) != NULL)
    {
      const char *time_key[] = { "time", NULL };
      const char *stream_key[] = { "stream", NULL };
      const char *log_key[] = { "log", NULL };
      const char *partial_key[] = { "partial", NULL };
      char errbuf[128] = "";
      yajl_val root, v;

      *nl = '\0';
      root = yajl_tree_parse (line, errbuf, sizeof errbuf);
      if (root == NULL)
        fail_msg ("not JSON (%s): %s", errbuf, line);
      r = xreallocarray (r, n + 1, sizeof *r);
      v = yajl_tree_get (root, time_key, yajl_t_string);
      assert_non_null (v);
      r[n].time = xstrdup (YAJL_GET_STRING (v));
      v = yajl_tree_get (root, stream_key, yajl_t_string);
      assert_non_null (v);
      r[n].stream = xstrdup (YAJL_GET_STRING (v));
      v = yajl_tree_get (root, log_key, yajl_t_string);
      assert_non_null (v);
      r[n].log = xstrdup (YAJL_GET_STRING (v));
      v = yajl_tree_get (root, partial_key, yajl_t_any);
      r[n].partial = v != NULL && YAJL_IS_TRUE (v);
      yajl_tree_free (root);
      n++;
      line = nl + 1;
    }
  *count = n;
  return r;
}

/* ---- sinks through pipes ------------------------------------------------ */

static void
test_lines_split_across_reads (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *term = NULL, *path = NULL;
  struct record *r;
  size_t n;

  open_sink (f, "web", 0);
  feed_str (f, SK_LOG_STDOUT, "hel");
  term = slurp_fd (f->out[0], NULL);
  assert_string_equal (term, ""); /* nothing before the newline */
  free (term);
  feed_str (f, SK_LOG_STDOUT, "lo\nwor");
  feed_str (f, SK_LOG_STDOUT, "ld\n\nlast\n");
  finish (f, SK_LOG_STDOUT);
  finish (f, SK_LOG_STDERR);
  term = slurp_fd (f->out[0], NULL);
  assert_string_equal (term, "web   | hello\nweb   | world\nweb   | \nweb   | last\n");

  path = log_path (f, "web", 0);
  assert_string_equal (sk_log_sink_path (f->sink), path);
  r = read_records (path, &n);
  assert_int_equal (n, 4);
  assert_string_equal (r[0].log, "hello");
  assert_string_equal (r[1].log, "world");
  assert_string_equal (r[2].log, "");
  assert_string_equal (r[3].log, "last");
  for (size_t i = 0; i < n; i++)
    {
      assert_string_equal (r[i].stream, "stdout");
      assert_string_equal (r[i].time, "2026-11-27T06:30:00.123456789Z");
      assert_false (r[i].partial);
    }
  records_free (r, n);
}

static void
test_prefix_colour_bytes (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *out = NULL, *err = NULL;

  f->o.color = true;
  open_sink (f, "db", 1);
  feed_str (f, SK_LOG_STDOUT, "hi\n");
  feed_str (f, SK_LOG_STDERR, "oops\n");
  out = slurp_fd (f->out[0], NULL);
  err = slurp_fd (f->err[0], NULL);
  assert_string_equal (out, "\033[33mdb    |\033[0m hi\n");
  assert_string_equal (err, "\033[33mdb    |\033[0m oops\n");
  assert_string_equal (sk_log_palette (0), "\033[36m");
  assert_string_equal (sk_log_palette (10), sk_log_palette (0));
  assert_string_not_equal (sk_log_palette (3), sk_log_palette (4));
}

static void
test_streams_apart (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *out = NULL, *err = NULL, *path = log_path (f, "app", 0);
  struct record *r;
  size_t n;

  f->o.name_width = 3;
  open_sink (f, "app", 0);
  feed_str (f, SK_LOG_STDOUT, "to out\n");
  feed_str (f, SK_LOG_STDERR, "to err\n");
  feed_str (f, SK_LOG_STDOUT, "out again\n");
  out = slurp_fd (f->out[0], NULL);
  err = slurp_fd (f->err[0], NULL);
  assert_string_equal (out, "app | to out\napp | out again\n");
  assert_string_equal (err, "app | to err\n");
  r = read_records (path, &n);
  assert_int_equal (n, 3);
  assert_string_equal (r[0].stream, "stdout");
  assert_string_equal (r[1].stream, "stderr");
  assert_string_equal (r[1].log, "to err");
  assert_string_equal (r[2].stream, "stdout");
  records_free (r, n);
}

static void
test_no_prefix_passes_bytes (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *out = NULL, *path = log_path (f, "web", 0);
  static const char raw[] = "abc\r\n\033[1mbold\033[0m\npart";
  struct record *r;
  size_t n, len;

  f->o.prefix = false;
  open_sink (f, "web", 0);
  feed (f, SK_LOG_STDOUT, raw, 5);
  feed (f, SK_LOG_STDOUT, raw + 5, sizeof raw - 1 - 5);
  finish (f, SK_LOG_STDOUT);
  out = slurp_fd (f->out[0], &len);
  assert_int_equal (len, sizeof raw - 1);
  assert_memory_equal (out, raw, len);
  r = read_records (path, &n);
  assert_int_equal (n, 3);
  assert_string_equal (r[0].log, "abc");
  assert_string_equal (r[1].log, "\033[1mbold\033[0m");
  assert_string_equal (r[2].log, "part");
  assert_true (r[2].partial);
  records_free (r, n);
}

static void
test_crlf (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *out = NULL, *path = log_path (f, "web", 0);
  struct record *r;
  size_t n;

  open_sink (f, "web", 0);
  feed_str (f, SK_LOG_STDOUT, "one\r\ntwo\r");
  feed_str (f, SK_LOG_STDOUT, "\nprogress 1\rprogress 2\r\n\r\n");
  out = slurp_fd (f->out[0], NULL);
  assert_string_equal (out, "web   | one\nweb   | two\nweb   | progress 1\rprogress 2\nweb   | \n");
  r = read_records (path, &n);
  assert_int_equal (n, 4);
  assert_string_equal (r[0].log, "one");
  assert_string_equal (r[1].log, "two");
  assert_string_equal (r[2].log, "progress 1\rprogress 2");
  assert_string_equal (r[3].log, "");
  records_free (r, n);
}

static void
test_long_lines_cut (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *path = log_path (f, "web", 0), *big = xmalloc (40001);
  _cleanup_free_ char *exact = xmalloc (SK_LOG_LINE_MAX + 2);
  _cleanup_free_ char *utf = xmalloc (SK_LOG_LINE_MAX + 8);
  struct record *r;
  size_t n, len;
  char *out;

  f->o.name_width = 3;
  open_sink (f, "web", 0);
  /* 40000 bytes then a newline, in one write */
  memset (big, 'x', 40000);
  big[40000] = '\n';
  feed (f, SK_LOG_STDOUT, big, 40001);
  out = slurp_fd (f->out[0], &len);
  assert_int_equal (len, 3 * strlen ("web | \n") + 40000);
  assert_memory_equal (out, "web | xxx", 9);
  free (out);
  /* exactly the limit, with CR LF: one record, not cut */
  memset (exact, 'e', SK_LOG_LINE_MAX);
  memcpy (exact + SK_LOG_LINE_MAX, "\r\n", 2);
  feed (f, SK_LOG_STDOUT, exact, SK_LOG_LINE_MAX + 2);
  /* a two-byte character across the limit is not split */
  memset (utf, 'u', SK_LOG_LINE_MAX - 1);
  memcpy (utf + SK_LOG_LINE_MAX - 1, "\xc3\xa9z\n", 4);
  feed (f, SK_LOG_STDOUT, utf, SK_LOG_LINE_MAX + 3);
  /* no newline at all, more than the buffer: cut while it streams in */
  feed (f, SK_LOG_STDERR, big, 20000);
  feed (f, SK_LOG_STDERR, big, 20000);
  finish (f, SK_LOG_STDERR);
  free (slurp_fd (f->out[0], NULL));

  r = read_records (path, &n);
  assert_int_equal (n, 3 + 1 + 2 + 3);
  assert_int_equal (strlen (r[0].log), SK_LOG_LINE_MAX);
  assert_true (r[0].partial);
  assert_int_equal (strlen (r[1].log), SK_LOG_LINE_MAX);
  assert_true (r[1].partial);
  assert_int_equal (strlen (r[2].log), 40000 - 2 * SK_LOG_LINE_MAX);
  assert_false (r[2].partial);
  assert_int_equal (strlen (r[3].log), SK_LOG_LINE_MAX);
  assert_false (r[3].partial);
  assert_int_equal (strlen (r[4].log), SK_LOG_LINE_MAX - 1);
  assert_true (r[4].partial);
  assert_string_equal (r[5].log, "\xc3\xa9z");
  assert_false (r[5].partial);
  /* stderr: 40000 bytes without newline, then EOF */
  assert_string_equal (r[6].stream, "stderr");
  assert_int_equal (strlen (r[6].log), SK_LOG_LINE_MAX);
  assert_int_equal (strlen (r[7].log), SK_LOG_LINE_MAX);
  assert_int_equal (strlen (r[8].log), 40000 - 2 * SK_LOG_LINE_MAX);
  for (size_t i = 6; i < 9; i++)
    assert_true (r[i].partial);
  records_free (r, n);
  free (slurp_fd (f->err[0], NULL));
}

static void
test_binary_and_control_bytes (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *path = log_path (f, "bin", 0), *file = NULL;
  static const char junk[] = "\x00\x01\xff\xfe\"\\\x1b[31m\xc3\x28 ok\n";
  struct record *r;
  size_t n;

  open_sink (f, "bin", 0);
  feed (f, SK_LOG_STDOUT, junk, sizeof junk - 1);
  file = slurp_file (path, NULL);
  assert_non_null (strstr (file, "\"log\":\"\\u0000\\u0001\\ufffd\\ufffd\\\"\\\\\\u001b[31m"
                                 "\\ufffd( ok\"}\n"));
  r = read_records (path, &n); /* yajl accepts it, UTF-8 checked */
  assert_int_equal (n, 1);
  records_free (r, n);
}

static void
test_eof_flushes_partial (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *out = NULL, *path = log_path (f, "web", 0);
  struct record *r;
  size_t n;

  f->o.name_width = 3;
  open_sink (f, "web", 0);
  feed_str (f, SK_LOG_STDOUT, "done\ntail");
  finish (f, SK_LOG_STDOUT);
  /* draining a finished stream stays at EOF */
  assert_int_equal (sk_log_sink_drain (f->sink, SK_LOG_STDOUT, NOW), 1);
  out = slurp_fd (f->out[0], NULL);
  assert_string_equal (out, "web | done\nweb | tail\n");
  r = read_records (path, &n);
  assert_int_equal (n, 2);
  assert_false (r[0].partial);
  assert_string_equal (r[1].log, "tail");
  assert_true (r[1].partial);
  records_free (r, n);
}

static void
test_close_flushes_partial (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *path = log_path (f, "web", 0);
  struct record *r;
  size_t n;

  open_sink (f, "web", 0);
  feed_str (f, SK_LOG_STDERR, "half");
  sk_log_sink_close (f->sink);
  f->sink = NULL;
  r = read_records (path, &n);
  assert_int_equal (n, 1);
  assert_string_equal (r[0].log, "half");
  assert_string_equal (r[0].stream, "stderr");
  records_free (r, n);
}

static void
test_note (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *err = NULL, *path = log_path (f, "web", 0);
  struct record *r;
  size_t n;

  open_sink (f, "web", 2);
  sk_log_sink_note (f->sink, "exited with code 0\n", NOW);
  err = slurp_fd (f->err[0], NULL);
  assert_string_equal (err, "web   | skiff: exited with code 0\n");
  r = read_records (path, &n);
  assert_int_equal (n, 1);
  assert_string_equal (r[0].stream, "skiff");
  assert_string_equal (r[0].log, "exited with code 0");
  records_free (r, n);

  sk_log_sink_close (f->sink);
  f->o.prefix = false;
  open_sink (f, "web", 2);
  sk_log_sink_note (f->sink, "restarting", NOW);
  free (err);
  err = slurp_fd (f->err[0], NULL);
  assert_string_equal (err, "skiff: web: restarting\n");
}

static void
test_restart_reuses_file (void **state)
{
  struct fixture *f = *state;
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *path = log_path (f, "web", 0);
  struct record *r;
  size_t n;

  open_sink (f, "web", 0);
  feed_str (f, SK_LOG_STDOUT, "run 1\nunfinished");
  finish (f, SK_LOG_STDOUT);
  assert_int_equal (sk_log_sink_pipe (f->sink, SK_LOG_STDOUT, &f->cout, &err), 0);
  feed_str (f, SK_LOG_STDOUT, "run 2\n");
  /* a new pipe while the old one is still open: the old one is finished */
  feed_str (f, SK_LOG_STDERR, "pending");
  close (f->cerr);
  assert_int_equal (sk_log_sink_pipe (f->sink, SK_LOG_STDERR, &f->cerr, &err), 0);
  feed_str (f, SK_LOG_STDERR, "new stderr\n");
  r = read_records (path, &n);
  assert_int_equal (n, 5);
  assert_string_equal (r[0].log, "run 1");
  assert_string_equal (r[1].log, "unfinished");
  assert_true (r[1].partial);
  assert_string_equal (r[2].log, "run 2");
  assert_string_equal (r[3].log, "pending");
  assert_true (r[3].partial);
  assert_string_equal (r[4].log, "new stderr");
  records_free (r, n);

  /* appending across sinks, as after a supervisor restart */
  sk_log_sink_close (f->sink);
  f->sink = NULL;
  open_sink (f, "web", 0);
  feed_str (f, SK_LOG_STDOUT, "run 3\n");
  r = read_records (path, &n);
  assert_int_equal (n, 6);
  assert_string_equal (r[5].log, "run 3");
  records_free (r, n);
}

static void
test_rotation (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *p0 = log_path (f, "rot", 0), *p1 = log_path (f, "rot", 1);
  _cleanup_free_ char *p2 = log_path (f, "rot", 2), *p3 = log_path (f, "rot", 3);
  const char *paths[] = { p2, p1, p0 }; /* oldest first */
  size_t written = 0;
  int line = 0, expect;
  struct stat st;

  f->o.max_bytes = 1000;
  f->o.max_files = 3;
  open_sink (f, "rot", 0);
  while (written < 3500)
    {
      char buf[32];
      int len = snprintf (buf, sizeof buf, "line %04d\n", line++);
      feed (f, SK_LOG_STDOUT, buf, (size_t)len);
      /* {"time":"...30...","stream":"stdout","log":"line 0000"}\n */
      written += 78;
    }
  assert_int_equal (stat (p3, &st), -1);
  /* the three files hold the newest lines, in order, each within the cap */
  expect = line - 1;
  for (int i = 2; i >= 0; i--)
    {
      size_t n;
      struct record *r;

      assert_int_equal (stat (paths[i], &st), 0);
      assert_true (st.st_size <= 1000);
      if (i < 2) /* rotated files were full */
        assert_true (st.st_size > 1000 - 78);
      r = read_records (paths[i], &n);
      for (size_t k = n; k-- > 0;)
        {
          char want[32];
          snprintf (want, sizeof want, "line %04d", expect--);
          assert_string_equal (r[k].log, want);
        }
      records_free (r, n);
    }
  free (slurp_fd (f->out[0], NULL));
}

static void
test_rotation_single_file (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *p0 = log_path (f, "one", 0), *p1 = log_path (f, "one", 1);
  struct stat st;

  f->o.max_bytes = 500;
  f->o.max_files = 1;
  open_sink (f, "one", 0);
  for (int i = 0; i < 50; i++)
    feed_str (f, SK_LOG_STDOUT, "0123456789\n");
  assert_int_equal (stat (p0, &st), 0);
  assert_true (st.st_size <= 500 && st.st_size > 0);
  assert_int_equal (stat (p1, &st), -1);
  free (slurp_fd (f->out[0], NULL));
}

/* A container writing far more than the cap through a real child process:
 * the files never hold more than max_bytes x max_files. */
static void
test_flood_is_capped (void **state)
{
  struct fixture *f = *state;
  const uint64_t cap = 64 * 1024;
  uint64_t total = 0;
  int status, rc = 0;
  pid_t pid;

  f->o.max_bytes = cap;
  f->o.max_files = 2;
  f->o.out_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  open_sink (f, "flood", 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      char line[100];
      memset (line, 'f', sizeof line - 1);
      line[sizeof line - 1] = '\n';
      for (int i = 0; i < 40000; i++) /* 4 MB */
        if (write (f->cout, line, sizeof line) < 0)
          _exit (1);
      _exit (0);
    }
  close (f->cout);
  f->cout = -1;
  while (rc == 0)
    {
      struct pollfd p = { .fd = sk_log_fd (f->sink, SK_LOG_STDOUT), .events = POLLIN };
      assert_int_equal (poll (&p, 1, 10000), 1);
      rc = sk_log_sink_drain (f->sink, SK_LOG_STDOUT, sk_log_now ());
    }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  for (int i = 0; i < 3; i++)
    {
      _cleanup_free_ char *p = log_path (f, "flood", i);
      struct stat st;
      if (stat (p, &st) == 0)
        {
          assert_true (i < 2);
          assert_true ((uint64_t)st.st_size <= cap);
          total += (uint64_t)st.st_size;
        }
    }
  assert_true (total <= 2 * cap);
  assert_true (total > cap);
  assert_int_equal (sk_log_sink_dropped_file (f->sink), 0);
  assert_int_equal (sk_log_sink_dropped_terminal (f->sink), 0);
  close (f->o.out_fd);
}

/* The terminal refuses writes (ENOSPC from /dev/full): the file keeps
 * everything, draining goes on, one warning. */
static void
test_terminal_failure (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *err = NULL, *path = log_path (f, "web", 0);
  struct record *r;
  size_t n;
  int full = open ("/dev/full", O_WRONLY | O_CLOEXEC);

  assert_true (full >= 0);
  f->o.out_fd = full;
  open_sink (f, "web", 0);
  for (int i = 0; i < 10; i++)
    feed_str (f, SK_LOG_STDOUT, "lost on the terminal\n");
  finish (f, SK_LOG_STDOUT);
  assert_int_equal (sk_log_sink_dropped_terminal (f->sink),
                    10 * strlen ("web   | lost on the terminal\n"));
  err = slurp_fd (f->err[0], NULL);
  assert_non_null (strstr (err, "writing its output to the terminal"));
  assert_non_null (strstr (err, "No space left on device"));
  assert_null (strstr (strstr (err, "terminal") + 1, "writing its output"));
  r = read_records (path, &n);
  assert_int_equal (n, 10);
  records_free (r, n);
  close (full);
}

/* A terminal someone made non-blocking and nobody reads: the line waits a
 * bounded time, then only the terminal copy is dropped. */
static void
test_stuck_terminal_is_bounded (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *err = NULL, *path = log_path (f, "web", 0);
  char fill[4096];
  struct record *r;
  size_t n;
  uint64_t start;

  memset (fill, 'z', sizeof fill);
  while (write (f->out[1], fill, sizeof fill) > 0)
    ;
  assert_int_equal (errno, EAGAIN);
  open_sink (f, "web", 0);
  start = sk_log_now ();
  feed_str (f, SK_LOG_STDOUT, "x\n");
  assert_true (sk_log_now () - start < 3000000000ull);
  assert_int_equal (sk_log_sink_dropped_terminal (f->sink), strlen ("web   | x\n"));
  err = slurp_fd (f->err[0], NULL);
  assert_non_null (strstr (err, "Resource temporarily unavailable"));
  r = read_records (path, &n);
  assert_int_equal (n, 1);
  records_free (r, n);
  free (slurp_fd (f->out[0], NULL));
}

/* A log directory on a 16 KiB tmpfs (root only, in a private mount
 * namespace): the disk fills, draining continues, the loss is counted and
 * reported once, and the file still holds only whole records. */
static void
test_full_disk (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *small = xasprintf ("%s/small", f->dir);
  _cleanup_free_ char *err = NULL, *path = NULL;
  _cleanup_err_ sk_err_t e = NULL;
  struct record *r;
  char line[200];
  size_t n;
  int drained = 0;

  if (geteuid () != 0 || unshare (CLONE_NEWNS) < 0
      || mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
    skip ();
  assert_int_equal (mkdir (small, 0700), 0);
  if (mount ("tmpfs", small, "tmpfs", 0, "size=16k") < 0)
    skip ();
  f->o.max_bytes = 0; /* no cap: fill the disk */
  f->o.out_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  assert_int_equal (sk_log_sink_open (small, "full", 0, &f->o, &f->sink, &e), 0);
  assert_int_equal (sk_log_sink_pipe (f->sink, SK_LOG_STDOUT, &f->cout, &e), 0);
  memset (line, 'd', sizeof line - 1);
  line[sizeof line - 1] = '\n';
  for (int i = 0; i < 1000; i++) /* 200 KB into 16 KiB */
    {
      feed (f, SK_LOG_STDOUT, line, sizeof line);
      drained++;
    }
  assert_int_equal (drained, 1000);
  finish (f, SK_LOG_STDOUT);
  assert_true (sk_log_sink_dropped_file (f->sink) > 100000);
  err = slurp_fd (f->err[0], NULL);
  assert_non_null (strstr (err, "No space left on device"));
  assert_non_null (strstr (err, "dropping log records"));
  assert_null (strstr (strstr (err, "dropping log records") + 1, "dropping log records"));
  path = xstrdup (sk_log_sink_path (f->sink));
  sk_log_sink_close (f->sink);
  f->sink = NULL;
  free (err);
  err = slurp_fd (f->err[0], NULL);
  assert_non_null (strstr (err, "bytes of log records could not be written"));
  r = read_records (path, &n); /* whole records only */
  assert_true (n > 10 && n < 100);
  records_free (r, n);
  close (f->o.out_fd);
  assert_int_equal (umount (small), 0);
}

static void
test_open_errors (void **state)
{
  struct fixture *f = *state;
  _cleanup_err_ sk_err_t err = NULL;
  struct sk_log_sink *s = NULL;
  int fd;

  assert_int_equal (sk_log_sink_open (f->dir, "../escape", 0, &f->o, &s, &err), -1);
  assert_non_null (strstr (err->msg, "not a file name"));
  sk_err_free (&err);
  assert_int_equal (sk_log_sink_open (f->dir, "", 0, &f->o, &s, &err), -1);
  sk_err_free (&err);
  /* A missing directory is made on the first record: test_logs_lazy.c. */
  open_sink (f, "web", 0);
  assert_int_equal (sk_log_sink_pipe (f->sink, 3, &fd, &err), -1);
  assert_int_equal (sk_log_fd (f->sink, 0), -1);
  assert_int_equal (sk_log_sink_drain (f->sink, 7, NOW), 1);
  sk_log_sink_close (NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_lines_split_across_reads, setup, teardown),
    cmocka_unit_test_setup_teardown (test_prefix_colour_bytes, setup, teardown),
    cmocka_unit_test_setup_teardown (test_streams_apart, setup, teardown),
    cmocka_unit_test_setup_teardown (test_no_prefix_passes_bytes, setup, teardown),
    cmocka_unit_test_setup_teardown (test_crlf, setup, teardown),
    cmocka_unit_test_setup_teardown (test_long_lines_cut, setup, teardown),
    cmocka_unit_test_setup_teardown (test_binary_and_control_bytes, setup, teardown),
    cmocka_unit_test_setup_teardown (test_eof_flushes_partial, setup, teardown),
    cmocka_unit_test_setup_teardown (test_close_flushes_partial, setup, teardown),
    cmocka_unit_test_setup_teardown (test_note, setup, teardown),
    cmocka_unit_test_setup_teardown (test_restart_reuses_file, setup, teardown),
    cmocka_unit_test_setup_teardown (test_rotation, setup, teardown),
    cmocka_unit_test_setup_teardown (test_rotation_single_file, setup, teardown),
    cmocka_unit_test_setup_teardown (test_flood_is_capped, setup, teardown),
    cmocka_unit_test_setup_teardown (test_terminal_failure, setup, teardown),
    cmocka_unit_test_setup_teardown (test_stuck_terminal_is_bounded, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_errors, setup, teardown),
    /* last: it moves the process into a private mount namespace */
    cmocka_unit_test_setup_teardown (test_full_disk, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
