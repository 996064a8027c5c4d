/* launcher/logs: the pure pieces (sizes, time stamps, JSON escaping, cut
 * points, logConfiguration options, colour decision). */
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
#include <unistd.h>

#include "logs.h"
#include "logs_internal.h"
#include "util.h"

#define NOW 1795761000123456789ull /* 2026-11-27T06:30:00.123456789Z */

static void
test_parse_size (void **state)
{
  uint64_t b = 0;

  assert_int_equal (sk_log_parse_size ("10m", &b), 0);
  assert_int_equal (b, 10ull << 20);
  assert_int_equal (sk_log_parse_size ("1g", &b), 0);
  assert_int_equal (b, 1ull << 30);
  assert_int_equal (sk_log_parse_size ("512k", &b), 0);
  assert_int_equal (b, 512ull << 10);
  assert_int_equal (sk_log_parse_size ("512", &b), 0);
  assert_int_equal (b, 512);
  assert_int_equal (sk_log_parse_size ("1.5k", &b), 0);
  assert_int_equal (b, 1536);
  assert_int_equal (sk_log_parse_size ("10MB", &b), 0);
  assert_int_equal (b, 10ull << 20);
  assert_int_equal (sk_log_parse_size ("10MiB", &b), 0);
  assert_int_equal (b, 10ull << 20);
  assert_int_equal (sk_log_parse_size ("2 G", &b), 0);
  assert_int_equal (b, 2ull << 30);
  assert_int_equal (sk_log_parse_size ("100b", &b), 0);
  assert_int_equal (b, 100);
  assert_int_equal (sk_log_parse_size ("0.999999999t", &b), 0);

  static const char *const bad[] = { "", "k", "m10", "10x", "-5", "1.", ".5", "10mm", "1ib", " 1" };
  for (size_t i = 0; i < SK_ARRAY_SIZE (bad); i++)
    {
      errno = 0;
      assert_int_equal (sk_log_parse_size (bad[i], &b), -1);
      assert_int_equal (errno, EINVAL);
    }
  assert_int_equal (sk_log_parse_size (NULL, &b), -1);
  assert_int_equal (sk_log_parse_size ("16777216t", &b), -1);
  assert_int_equal (errno, ERANGE);
  assert_int_equal (sk_log_parse_size ("99999999999999999999999", &b), -1);
  assert_int_equal (errno, ERANGE);
}

static void
test_time_format (void **state)
{
  char buf[40];

  assert_int_equal (sk_log_format_time (buf, NOW), 30);
  assert_string_equal (buf, "2026-11-27T06:30:00.123456789Z");
  sk_log_format_time (buf, 0);
  assert_string_equal (buf, "1970-01-01T00:00:00.000000000Z");
}

static void
test_json_escape (void **state)
{
  static const char in[] = "q\"b\\s\t\x01\x7f\xff \xc3\xa9 \xe2\x82\xac \xed\xa0\x80 "
                           "\xf0\x9f\x98\x80 \xc3 \xc0\xaf end\r\n";
  static const char want[] = "q\\\"b\\\\s\\t\\u0001\\u007f\\ufffd \xc3\xa9 \xe2\x82\xac "
                             "\\ufffd\\ufffd\\ufffd \xf0\x9f\x98\x80 \\ufffd \\ufffd\\ufffd "
                             "end\\r\\n";
  char out[6 * sizeof in];
  size_t n = sk_log_json_escape (out, in, sizeof in - 1);

  assert_int_equal (n, sizeof want - 1);
  assert_memory_equal (out, want, n);
}

static void
test_record_format (void **state)
{
  char rec[SK_LOG_RECORD_MAX];
  size_t n = sk_log_format_record (rec, NOW, "stdout", "a\"b", 3, false);

  rec[n] = '\0';
  assert_string_equal (rec, "{\"time\":\"2026-11-27T06:30:00.123456789Z\",\"stream\":\"stdout\","
                            "\"log\":\"a\\\"b\"}\n");
  n = sk_log_format_record (rec, NOW, "stderr", "", 0, true);
  rec[n] = '\0';
  assert_string_equal (rec, "{\"time\":\"2026-11-27T06:30:00.123456789Z\",\"stream\":\"stderr\","
                            "\"log\":\"\",\"partial\":true}\n");
}

static void
test_cut_point (void **state)
{
  assert_int_equal (sk_log_cut_point ("abcd", 4), 4);
  assert_int_equal (sk_log_cut_point ("abc\r", 4), 3);
  assert_int_equal (sk_log_cut_point ("ab\xc3", 3), 2);         /* é cut after its lead */
  assert_int_equal (sk_log_cut_point ("a\xc3\xa9", 3), 3);      /* é complete */
  assert_int_equal (sk_log_cut_point ("a\xe2\x82", 3), 1);      /* € missing one byte */
  assert_int_equal (sk_log_cut_point ("ab\xf0\x9f\x98", 5), 2); /* emoji missing one */
  assert_int_equal (sk_log_cut_point ("a\x80\x80\x80", 4), 4);  /* garbage: cut anywhere */
}

static void
test_apply_config (void **state)
{
  _cleanup_err_ sk_err_t err = NULL;
  struct sk_log_opts o;
  struct sk_kv kv[2]
      = { { (char *)"max-size", (char *)"1m" }, { (char *)"max-file", (char *)"5" } };
  struct sk_log_config c = { .driver = (char *)"json-file", .options = { 2, kv } };

  sk_log_opts_init (&o);
  assert_int_equal (o.max_bytes, SK_LOG_DEFAULT_MAX_BYTES);
  assert_int_equal (o.max_files, SK_LOG_DEFAULT_MAX_FILES);
  assert_int_equal (sk_log_opts_apply_config (&o, &c, &err), 0);
  assert_int_equal (o.max_bytes, 1 << 20);
  assert_int_equal (o.max_files, 5);

  /* other drivers: logged locally with the defaults, options ignored */
  sk_log_opts_init (&o);
  kv[0].value = (char *)"garbage";
  c.driver = (char *)"awslogs";
  assert_int_equal (sk_log_opts_apply_config (&o, &c, &err), 0);
  assert_int_equal (o.max_bytes, SK_LOG_DEFAULT_MAX_BYTES);
  assert_int_equal (sk_log_opts_apply_config (&o, NULL, &err), 0);

  c.driver = (char *)"json-file";
  assert_int_equal (sk_log_opts_apply_config (&o, &c, &err), -1);
  assert_non_null (strstr (err->msg, "max-size `garbage`"));
  sk_err_free (&err);

  kv[0].value = (char *)"-1";
  assert_int_equal (sk_log_opts_apply_config (&o, &c, &err), 0);
  assert_int_equal (o.max_bytes, 0);

  kv[1].value = (char *)"0";
  assert_int_equal (sk_log_opts_apply_config (&o, &c, &err), -1);
  assert_non_null (strstr (err->msg, "max-file `0`"));
}

static void
test_color_wanted (void **state)
{
  _cleanup_close_ int fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);

  _cleanup_close_ int master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  _cleanup_close_ int tty = -1;

  assert_false (sk_log_color_wanted (fd)); /* not a TTY */
  if (master < 0 || grantpt (master) < 0 || unlockpt (master) < 0)
    skip ();
  tty = open (ptsname (master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  assert_true (tty >= 0);
  unsetenv ("NO_COLOR");
  assert_true (sk_log_color_wanted (tty));
  setenv ("NO_COLOR", "", 1); /* empty: as if unset (no-color.org) */
  assert_true (sk_log_color_wanted (tty));
  setenv ("NO_COLOR", "1", 1);
  assert_false (sk_log_color_wanted (tty));
  unsetenv ("NO_COLOR");
}

static void
test_name_width (void **state)
{
  struct sk_container c[3]
      = { { .name = (char *)"web" }, { .name = (char *)"sidecar" }, { .name = (char *)"db" } };
  struct sk_task t = { .n_containers = 3, .containers = c };

  assert_int_equal (sk_log_name_width (&t), 7);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_size),   cmocka_unit_test (test_time_format),
    cmocka_unit_test (test_json_escape),  cmocka_unit_test (test_record_format),
    cmocka_unit_test (test_cut_point),    cmocka_unit_test (test_apply_config),
    cmocka_unit_test (test_color_wanted), cmocka_unit_test (test_name_width),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
