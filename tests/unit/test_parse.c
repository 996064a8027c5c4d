/* spec/: parsing, limits, units, messages, and the fixture corpus. Run from
 * the repository root (fixtures are found under tests/fixtures/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "spec.h"
#include "util.h"

/* Load buf as "task.json"; return the diagnostics joined by newlines. */
static char *
load (const char *json, const struct sk_load_opts *opts, int *rc, struct sk_task **out)
{
  struct sk_diags d = { 0 };
  struct sk_task *task = NULL;
  sk_err_t err = NULL;
  size_t len = 0;
  char *all;

  *rc = sk_task_load_buffer (json, strlen (json), "task.json", opts, &task, &d, &err);
  for (size_t i = 0; i < d.n; i++)
    len += strlen (d.v[i].text) + 12;
  all = xzalloc (len + 1);
  for (size_t i = 0; i < d.n; i++)
    {
      strcat (all, d.v[i].level == SK_DIAG_ERROR ? "error: " : "warning: ");
      strcat (all, d.v[i].text);
      strcat (all, "\n");
    }
  if (*rc < 0)
    {
      assert_null (task);
      assert_non_null (err);
    }
  sk_err_free (&err);
  sk_diags_clear (&d);
  if (out)
    *out = task;
  else
    sk_task_free (task);
  return all;
}

static void
expect (const char *json, const char *expected_diags, int expected_rc)
{
  int rc;
  _cleanup_free_ char *got = load (json, NULL, &rc, NULL);
  assert_string_equal (got, expected_diags);
  assert_int_equal (rc, expected_rc);
}

#define ONE(c) "{\"family\":\"f\",\"memory\":\"512\",\"containerDefinitions\":[" c "]}"

static void
test_minimal_defaults (void **state)
{
  int rc;
  struct sk_task *t = NULL;
  _cleanup_free_ char *d = load (ONE ("{\"name\":\"a\",\"image\":\"busybox\"}"), NULL, &rc, &t);
  assert_string_equal (d, "");
  assert_int_equal (rc, 0);
  assert_string_equal (t->family, "f");
  assert_int_equal (t->memory, 512);
  /* Absent networkMode is ECS's EC2 default, bridge, said explicitly. */
  assert_int_equal (t->network_mode, SK_NET_BRIDGE);
  assert_string_equal (t->os_family, "LINUX");
  assert_true (t->containers[0].essential);
  assert_int_equal (t->containers[0].stop_timeout, 30);
  assert_int_equal (t->containers[0].restart_policy.restart_attempt_period, 300);
  assert_false (t->containers[0].has_command);
  assert_non_null (t->source_dir);
  assert_true (t->source_dir[0] == '/');
  sk_task_free (t);
}

static void
test_type_errors (void **state)
{
  expect (
      ONE ("{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\",\"image\":\"x\",\"memory\":\"512m\"}"),
      "error: task.json: containerDefinitions[1].memory: expected an integer number of MiB, "
      "got the string \"512m\"\n",
      -1);
  expect (ONE ("{\"name\":\"a\",\"image\":\"x\",\"essential\":1,\"cpu\":true}"),
          "error: task.json: containerDefinitions[0].cpu: expected an integer number of CPU units, "
          "got true\n"
          "error: task.json: containerDefinitions[0].essential: expected true or false, got the "
          "number 1\n",
          -1);
  expect (ONE ("{\"name\":\"a\",\"image\":\"x\",\"stopTimeout\":3.0}"),
          "error: task.json: containerDefinitions[0].stopTimeout: expected an integer number of "
          "seconds, got the number 3.0\n",
          -1);
  expect ("42",
          "error: task.json: expected a task definition object or an array of container "
          "definitions, got the number 42\n",
          -1);
}

static void
test_unknown_keys (void **state)
{
  int rc;
  struct sk_load_opts o = { .unknown_keys_are_warnings = true };
  _cleanup_free_ char *d = load (
      ONE ("{\"name\":\"a\",\"image\":\"x\",\"imagePullPolicy\":\"always\"}"), &o, &rc, NULL);
  assert_string_equal (d, "warning: task.json: containerDefinitions[0].imagePullPolicy: unknown "
                          "key ignored\n");
  assert_int_equal (rc, 0);
  expect (ONE ("{\"name\":\"a\",\"image\":\"x\",\"Essential\":true}"),
          "error: task.json: containerDefinitions[0].Essential: unknown key (did you mean "
          "\"essential\"?)\n",
          -1);
  /* Free-form maps take any key. */
  expect (
      ONE ("{\"name\":\"a\",\"image\":\"x\",\"dockerLabels\":{\"memroy\":\"x\"},"
           "\"logConfiguration\":{\"logDriver\":\"json-file\",\"options\":{\"max-file\":\"3\"}}}"),
      "", 0);
}

static void
test_hostile (void **state)
{
  expect ("{\"family\":\"a\",\n\"family\":\"b\"}",
          "error: task.json:2: duplicate key \"family\" (first at line 1)\n"
          "error: task.json: missing required key \"containerDefinitions\"\n",
          -1);
  expect (ONE ("{\"name\":\"a\",\"image\":\"x\",\"command\":[\"he\\u0000llo\"]}"),
          "error: task.json: containerDefinitions[0].command[0]: contains a NUL character "
          "(\\u0000)\n",
          -1);
  expect ("{\"family\": \"x\"", "error: task.json:1: invalid JSON: parse error: premature EOF\n",
          -1);
  expect ("", "error: task.json:1: invalid JSON: parse error: premature EOF\n", -1);
  expect ("{} []", "error: task.json:1: invalid JSON: parse error: trailing garbage\n", -1);

  char *deep = xzalloc (200001);
  memset (deep, '[', 100000);
  memset (deep + 100000, ']', 100000);
  expect (deep, "error: task.json:1: nesting deeper than 64 levels\n", -1);
  free (deep);

  size_t big = 1024 * 1024 + 10;
  char *huge = xmalloc (big + 1);
  memset (huge, ' ', big);
  huge[big] = '\0';
  expect (huge, "error: task.json: larger than the 1048576 byte limit (1048586 bytes)\n", -1);
  free (huge);

  _cleanup_free_ char *longname = xzalloc (400);
  memset (longname, 'n', 300);
  _cleanup_free_ char *json = xasprintf (ONE ("{\"name\":\"%s\",\"image\":\"x\"}"), longname);
  expect (json, "error: task.json: containerDefinitions[0].name: longer than 255 bytes (300)\n",
          -1);
}

static void
test_units (void **state)
{
  uint32_t v;
  assert_int_equal (sk_parse_cpu_units ("256", &v), 0);
  assert_int_equal (v, 256);
  assert_int_equal (sk_parse_cpu_units ("1 vCPU", &v), 0);
  assert_int_equal (v, 1024);
  assert_int_equal (sk_parse_cpu_units (".5 vcpu", &v), 0);
  assert_int_equal (v, 512);
  assert_int_equal (sk_parse_cpu_units ("0.25vCPU", &v), 0);
  assert_int_equal (v, 256);
  assert_int_equal (sk_parse_cpu_units ("1.5", &v), -1);
  assert_int_equal (sk_parse_cpu_units ("abc", &v), -1);
  assert_int_equal (sk_parse_memory_mib ("2GB", &v), 0);
  assert_int_equal (v, 2048);
  assert_int_equal (sk_parse_memory_mib ("2 GB", &v), 0);
  assert_int_equal (v, 2048);
  assert_int_equal (sk_parse_memory_mib ("512 MiB", &v), 0);
  assert_int_equal (v, 512);
  assert_int_equal (sk_parse_memory_mib ("0.5 GiB", &v), 0);
  assert_int_equal (v, 512);
  assert_int_equal (sk_parse_memory_mib ("12 TB", &v), -1);
  assert_int_equal (sk_ulimit_resource ("nofile"), RLIMIT_NOFILE);
  assert_int_equal (sk_ulimit_resource ("nofiles"), -1);
  assert_int_equal (sk_capability_number ("SYS_ADMIN"), 21);
  assert_int_equal (sk_capability_number ("CAP_SYS_ADMIN"), -1);
}

static void
test_task_sizes_and_model (void **state)
{
  int rc;
  struct sk_task *t = NULL;
  _cleanup_free_ char *d = load (
      "{\"family\":\"f\",\"cpu\":\".5 vcpu\",\"memory\":\"1 GB\",\"containerDefinitions\":[{"
      "\"name\":\"a\",\"image\":\"x\",\"user\":\"1000:1000\","
      "\"environment\":[{\"name\":\"Z\",\"value\":\"1\"},{\"name\":\"A\",\"value\":\"2\"}],"
      "\"ulimits\":[{\"name\":\"nofile\",\"softLimit\":1024,\"hardLimit\":-1}],"
      "\"linuxParameters\":{\"capabilities\":{\"add\":[\"cap_net_admin\"],\"drop\":[\"ALL\"]},"
      "\"devices\":[{\"hostPath\":\"/dev/fuse\",\"permissions\":[\"read\"]}]},"
      "\"healthCheck\":{\"command\":[\"CMD-SHELL\",\"curl\",\"-f\",\"localhost\"]}}]}",
      NULL, &rc, &t);
  assert_string_equal (d, "");
  assert_int_equal (rc, 0);
  assert_int_equal (t->cpu, 512);
  assert_int_equal (t->memory, 1024);
  struct sk_container *c = sk_task_find_container (t, "a");
  assert_non_null (c);
  assert_null (sk_task_find_container (t, "b"));
  assert_string_equal (c->user, "1000:1000");
  assert_string_equal (c->environment.v[0].name, "Z"); /* file order */
  assert_int_equal (c->ulimits[0].resource, RLIMIT_NOFILE);
  assert_true (c->ulimits[0].hard == UINT64_MAX);
  assert_string_equal (c->cap_add.v[0], "NET_ADMIN");
  assert_null (c->cap_add.v[1]);
  assert_string_equal (c->cap_drop.v[0], "ALL");
  assert_string_equal (c->devices[0].container_path, "/dev/fuse");
  assert_int_equal (c->devices[0].permissions, SK_DEVICE_READ);
  assert_true (c->health_check.shell);
  assert_string_equal (c->health_check.command.v[0], "curl -f localhost");
  assert_int_equal (c->health_check.interval, 30);
  assert_int_equal (c->health_check.timeout, 5);
  assert_int_equal (c->health_check.retries, 3);
  sk_task_free (t);
}

static void
test_print_roundtrip (void **state)
{
  int rc;
  struct sk_task *t = NULL;
  _cleanup_free_ char *d = load (
      ONE ("{\"name\":\"a\",\"image\":\"x\",\"command\":[\"say \\\"hi\\\"\\n\"]}"), NULL, &rc, &t);
  assert_int_equal (rc, 0);
  _cleanup_free_ char *json = sk_task_to_json (t, false);
  assert_non_null (strstr (json, "\"command\":[\"say \\\"hi\\\"\\u000a\"]"));
  assert_non_null (strstr (json, "\"stopTimeout\":30"));
  /* The printed form loads again, to the same printed form. */
  struct sk_task *t2 = NULL;
  _cleanup_free_ char *d2 = load (json, NULL, &rc, &t2);
  /* The explicit default only brings the note about how bridge runs. */
  assert_string_equal (d2, "warning: task.json: networkMode: bridge runs as awsvpc: the task's "
                           "containers share one network namespace\n");
  assert_int_equal (rc, 0);
  _cleanup_free_ char *json2 = sk_task_to_json (t2, false);
  assert_string_equal (json, json2);
  sk_task_free (t);
  sk_task_free (t2);
}

static void
test_bare_array_family (void **state)
{
  struct sk_diags d = { 0 };
  struct sk_task *t = NULL;
  sk_err_t err = NULL;
  struct sk_load_opts o = { .memory = "1GB" };
  const char *json = "[{\"name\":\"a\",\"image\":\"x\"}]";

  assert_int_equal (
      sk_task_load_buffer (json, strlen (json), "deploy/web.tf.json", &o, &t, &d, &err), 0);
  assert_string_equal (t->family, "web-tf");
  assert_int_equal (t->memory, 1024);
  sk_task_free (t);
  sk_diags_clear (&d);
}

static char *
read_text (const char *path)
{
  FILE *f = fopen (path, "r");
  char *buf = NULL;
  size_t n = 0;
  if (f == NULL)
    return NULL;
  if (getdelim (&buf, &n, '\0', f) < 0)
    buf[0] = '\0';
  fclose (f);
  return buf;
}

/* Every valid fixture loads without errors; every invalid one fails with
 * exactly the diagnostics in its .expected file. */
static void
run_corpus (const char *dir, bool valid)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  int files = 0;

  assert_non_null (d);
  while ((e = readdir (d)) != NULL)
    {
      size_t n = strlen (e->d_name);
      if (n < 6 || strcmp (e->d_name + n - 5, ".json") != 0)
        continue;
      _cleanup_free_ char *path = xasprintf ("%s/%s", dir, e->d_name);
      struct sk_diags diags = { 0 };
      struct sk_task *t = NULL;
      sk_err_t err = NULL;
      int rc = sk_task_load_file (path, NULL, &t, &diags, &err);
      files++;
      if (valid)
        {
          if (rc != 0)
            {
              sk_diags_print (&diags, stderr);
              fail_msg ("%s should be valid", path);
            }
          _cleanup_free_ char *json = sk_task_to_json (t, true);
          assert_non_null (json);
        }
      else
        {
          _cleanup_free_ char *exp_path
              = xasprintf ("%.*s.expected", (int)(strlen (path) - 5), path);
          _cleanup_free_ char *expected = read_text (exp_path);
          char *got = NULL;
          size_t got_len = 0;
          FILE *m = open_memstream (&got, &got_len);
          assert_int_equal (rc, -1);
          sk_diags_print (&diags, m);
          fclose (m);
          assert_non_null (expected);
          if (strcmp (got, expected) != 0)
            fail_msg ("%s:\nexpected:\n%s\ngot:\n%s", path, expected, got);
          free (got);
        }
      sk_task_free (t);
      sk_diags_clear (&diags);
      sk_err_free (&err);
    }
  closedir (d);
  assert_true (files >= 5);
}

static void
test_valid_corpus (void **state)
{
  run_corpus ("tests/fixtures/valid", true);
}

static void
test_invalid_corpus (void **state)
{
  run_corpus ("tests/fixtures/invalid", false);
}

static void
test_io_error (void **state)
{
  struct sk_diags d = { 0 };
  struct sk_task *t = NULL;
  sk_err_t err = NULL;
  assert_int_equal (sk_task_load_file ("tests/fixtures/does-not-exist.json", NULL, &t, &d, &err),
                    -1);
  assert_int_equal (d.n_errors, 0);
  assert_string_equal (err->msg, "open `tests/fixtures/does-not-exist.json`");
  sk_err_free (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_minimal_defaults),
    cmocka_unit_test (test_type_errors),
    cmocka_unit_test (test_unknown_keys),
    cmocka_unit_test (test_hostile),
    cmocka_unit_test (test_units),
    cmocka_unit_test (test_task_sizes_and_model),
    cmocka_unit_test (test_print_roundtrip),
    cmocka_unit_test (test_bare_array_family),
    cmocka_unit_test (test_valid_corpus),
    cmocka_unit_test (test_invalid_corpus),
    cmocka_unit_test (test_io_error),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
