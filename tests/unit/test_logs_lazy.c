/* launcher/logs: the log directory and file are made on the first record,
 * so a container that prints nothing leaves no inode behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logs.h"
#include "util.h"

#define NOW 1795761000123456789ull

struct fixture
{
  char base[64];
  char *logs; /* <base>/logs: not made by the test */
  int term[2];
  struct sk_log_opts o;
};

static int
setup (void **state)
{
  struct fixture *f = xzalloc (sizeof *f);

  strcpy (f->base, "/tmp/skiff-test-logs-lazy-XXXXXX");
  assert_non_null (mkdtemp (f->base));
  f->logs = xasprintf ("%s/logs", f->base);
  assert_int_equal (pipe2 (f->term, O_CLOEXEC | O_NONBLOCK), 0);
  sk_log_opts_init (&f->o);
  f->o.color = false;
  f->o.out_fd = f->term[1];
  f->o.err_fd = f->term[1];
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *cmd = xasprintf ("rm -rf '%s'", f->base);

  assert_int_equal (system (cmd), 0);
  close (f->term[0]);
  close (f->term[1]);
  free (f->logs);
  free (f);
  return 0;
}

static bool
exists (const char *path)
{
  struct stat st;

  return lstat (path, &st) == 0;
}

/* Everything waiting on the fake terminal, NUL-terminated. */
static char *
terminal_text (struct fixture *f)
{
  char *buf = xzalloc (65536);
  ssize_t n = read (f->term[0], buf, 65535);

  if (n < 0)
    n = 0;
  buf[n] = '\0';
  return buf;
}

static void
test_silent_container_makes_nothing (void **state)
{
  struct fixture *f = *state;
  _cleanup_err_ sk_err_t err = NULL;
  struct sk_log_sink *s = NULL;
  int out = -1, errfd = -1;

  assert_int_equal (sk_log_sink_open (f->logs, "quiet", 0, &f->o, &s, &err), 0);
  assert_false (exists (f->logs));
  assert_int_equal (sk_log_sink_pipe (s, SK_LOG_STDOUT, &out, &err), 0);
  assert_int_equal (sk_log_sink_pipe (s, SK_LOG_STDERR, &errfd, &err), 0);
  close (out);
  close (errfd);
  assert_int_equal (sk_log_sink_drain (s, SK_LOG_STDOUT, NOW), 1);
  assert_int_equal (sk_log_sink_drain (s, SK_LOG_STDERR, NOW), 1);
  sk_log_sink_close (s);
  assert_false (exists (f->logs));
}

static void
test_first_record_makes_dir_and_file (void **state)
{
  struct fixture *f = *state;
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *file = xasprintf ("%s/talk.log", f->logs);
  _cleanup_free_ char *text = NULL;
  struct sk_log_sink *s = NULL;
  struct stat st;
  int out = -1;

  assert_int_equal (sk_log_sink_open (f->logs, "talk", 0, &f->o, &s, &err), 0);
  assert_string_equal (sk_log_sink_path (s), file);
  assert_int_equal (sk_log_sink_pipe (s, SK_LOG_STDOUT, &out, &err), 0);
  assert_false (exists (f->logs));
  assert_int_equal (write (out, "hello\n", 6), 6);
  assert_int_equal (sk_log_sink_drain (s, SK_LOG_STDOUT, NOW), 0);
  assert_int_equal (stat (f->logs, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0700);
  assert_int_equal (stat (file, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0640);
  assert_true (st.st_size > 0);
  /* A line without its newline, flushed at close, lands in the same file. */
  assert_int_equal (write (out, "tail", 4), 4);
  assert_int_equal (sk_log_sink_drain (s, SK_LOG_STDOUT, NOW), 0);
  close (out);
  sk_log_sink_close (s);
  text = terminal_text (f);
  assert_non_null (strstr (text, "hello"));
  {
    FILE *fp = fopen (file, "re");
    char line[512];
    int n = 0;

    assert_non_null (fp);
    while (fgets (line, sizeof line, fp) != NULL)
      {
        n++;
        if (n == 1)
          assert_non_null (strstr (line, "\"log\":\"hello\""));
        else
          assert_non_null (strstr (line, "\"log\":\"tail\""));
      }
    fclose (fp);
    assert_int_equal (n, 2);
  }
}

static void
test_existing_dir_is_reused (void **state)
{
  struct fixture *f = *state;
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *file = xasprintf ("%s/again.log", f->logs);
  struct sk_log_sink *s = NULL;
  struct stat st;

  assert_int_equal (mkdir (f->logs, 0700), 0);
  assert_int_equal (sk_log_sink_open (f->logs, "again", 0, &f->o, &s, &err), 0);
  sk_log_sink_note (s, "started", NOW);
  sk_log_sink_close (s);
  assert_int_equal (stat (file, &st), 0);
  assert_true (st.st_size > 0);
}

static void
test_uncreatable_dir_drops_records (void **state)
{
  struct fixture *f = *state;
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *deep = xasprintf ("%s/no/such/logs", f->base);
  _cleanup_free_ char *text = NULL;
  struct sk_log_sink *s = NULL;
  int out = -1;

  /* Opening cannot fail on the directory any more: records are dropped,
   * counted and reported once, and the output still reaches the terminal. */
  assert_int_equal (sk_log_sink_open (deep, "lost", 0, &f->o, &s, &err), 0);
  assert_int_equal (sk_log_sink_pipe (s, SK_LOG_STDOUT, &out, &err), 0);
  assert_int_equal (write (out, "one\ntwo\n", 8), 8);
  assert_int_equal (sk_log_sink_drain (s, SK_LOG_STDOUT, NOW), 0);
  assert_true (sk_log_sink_dropped_file (s) > 0);
  close (out);
  sk_log_sink_close (s);
  text = terminal_text (f);
  assert_non_null (strstr (text, "one"));
  assert_non_null (strstr (text, "two"));
  assert_non_null (strstr (text, "opening log file"));
  assert_non_null (strstr (text, "No such file or directory"));
  assert_null (strstr (strstr (text, "opening log file") + 1, "opening log file"));
  assert_false (exists (deep));
}

static void
test_name_is_still_checked (void **state)
{
  struct fixture *f = *state;
  _cleanup_err_ sk_err_t err = NULL;
  struct sk_log_sink *s = NULL;

  assert_int_equal (sk_log_sink_open (f->logs, "../escape", 0, &f->o, &s, &err), -1);
  assert_non_null (strstr (err->msg, "not a file name"));
  assert_null (s);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_silent_container_makes_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_first_record_makes_dir_and_file, setup, teardown),
    cmocka_unit_test_setup_teardown (test_existing_dir_is_reused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_uncreatable_dir_drops_records, setup, teardown),
    cmocka_unit_test_setup_teardown (test_name_is_still_checked, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
