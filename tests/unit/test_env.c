/* The environment merge order: defaults, image, environmentFiles,
 * environment, secrets, --env; and the env-file format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "env.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *
lookup (char **envp, const char *name)
{
  size_t len = strlen (name);
  for (char **e = envp; *e != NULL; e++)
    if (strncmp (*e, name, len) == 0 && (*e)[len] == '=')
      return *e + len + 1;
  return NULL;
}

static size_t
count (char **envp)
{
  size_t n = 0;
  while (envp[n] != NULL)
    n++;
  return n;
}

static void
test_defaults (void **state)
{
  struct sk_container def = { .name = (char *)"app" };
  struct sk_task task = { 0 };
  struct sk_image image = { 0 };
  struct sk_run_overrides ov = { 0 };
  char **envp = NULL;
  sk_err_t err = NULL;

  (void)state;
  assert_int_equal (sk_env_build (&def, &task, &image, "/home/app", "host1", &ov, &envp, &err), 0);
  assert_string_equal (lookup (envp, "PATH"),
                       "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  assert_string_equal (lookup (envp, "HOME"), "/home/app");
  assert_string_equal (lookup (envp, "HOSTNAME"), "host1");
  assert_null (lookup (envp, "TERM"));
  sk_strv_free (envp);
}

static void
test_merge_order (void **state)
{
  char dir[] = "/tmp/skiff-test-env-XXXXXX";
  char path[128];
  FILE *f;
  struct sk_kv envs[] = { { (char *)"A", (char *)"from-environment" },
                          { (char *)"B", (char *)"from-environment" },
                          { (char *)"HOME", (char *)"/custom" } };
  struct sk_kv secrets[] = { { (char *)"B", (char *)"arn:aws:ssm:x" } };
  char *files[] = { (char *)"one.env", NULL };
  char *image_env[] = { (char *)"A=from-image", (char *)"IMG=1", (char *)"PATH=/img/bin", NULL };
  char *cli_env[] = { (char *)"C=from-cli", NULL };
  char *cli_secrets[] = { (char *)"B=s3cret", NULL };
  struct sk_container def = { .name = (char *)"app" };
  struct sk_task task = { 0 };
  struct sk_image image = { .env = image_env };
  struct sk_run_overrides ov
      = { .n_env = 1, .env = cli_env, .n_secrets = 1, .secrets = cli_secrets };
  char **envp = NULL;
  sk_err_t err = NULL;

  (void)state;
  assert_non_null (mkdtemp (dir));
  snprintf (path, sizeof path, "%s/one.env", dir);
  f = fopen (path, "w");
  assert_non_null (f);
  fputs ("# comment\n\nC=from-file\nD=with spaces 'and quotes'\n  E=indented\n", f);
  fclose (f);

  def.environment.n = 3;
  def.environment.v = envs;
  def.secrets.n = 1;
  def.secrets.v = secrets;
  def.environment_files.n = 1;
  def.environment_files.v = files;
  task.source_dir = dir;

  assert_int_equal (sk_env_build (&def, &task, &image, "/root", "h", &ov, &envp, &err), 0);
  assert_string_equal (lookup (envp, "A"), "from-environment");
  assert_string_equal (lookup (envp, "B"), "s3cret");
  assert_string_equal (lookup (envp, "C"), "from-cli");
  assert_string_equal (lookup (envp, "D"), "with spaces 'and quotes'");
  assert_string_equal (lookup (envp, "E"), "indented");
  assert_string_equal (lookup (envp, "IMG"), "1");
  assert_string_equal (lookup (envp, "PATH"), "/img/bin");
  assert_string_equal (lookup (envp, "HOME"), "/custom");
  /* each name once */
  assert_int_equal (count (envp), 9);
  sk_strv_free (envp);
  unlink (path);
  rmdir (dir);
}

static void
test_missing_secret (void **state)
{
  struct sk_kv secrets[] = { { (char *)"DB_PASSWORD", (char *)"arn:aws:secretsmanager:x" } };
  struct sk_container def = { .name = (char *)"app" };
  struct sk_task task = { 0 };
  struct sk_image image = { 0 };
  struct sk_run_overrides ov = { 0 };
  char **envp = NULL;
  sk_err_t err = NULL;

  (void)state;
  unsetenv ("SKIFF_SECRET_DB_PASSWORD");
  def.secrets.n = 1;
  def.secrets.v = secrets;
  assert_int_equal (sk_env_build (&def, &task, &image, "/", "h", &ov, &envp, &err), -1);
  assert_string_equal (err->msg, "secret `DB_PASSWORD` (valueFrom `arn:aws:secretsmanager:x`): no "
                                 "local value; pass --secret DB_PASSWORD=VALUE or set "
                                 "SKIFF_SECRET_DB_PASSWORD");
  sk_err_free (&err);
  setenv ("SKIFF_SECRET_DB_PASSWORD", "from-env", 1);
  assert_int_equal (sk_env_build (&def, &task, &image, "/", "h", &ov, &envp, &err), 0);
  assert_string_equal (lookup (envp, "DB_PASSWORD"), "from-env");
  sk_strv_free (envp);
  unsetenv ("SKIFF_SECRET_DB_PASSWORD");
}

static void
test_env_file_errors (void **state)
{
  char *files[] = { (char *)"arn:aws:s3:::bucket/app.env", NULL };
  char *missing[] = { (char *)"/nonexistent/skiff.env", NULL };
  struct sk_container def = { .name = (char *)"app" };
  struct sk_task task = { 0 };
  struct sk_image image = { 0 };
  struct sk_run_overrides ov = { 0 };
  char **envp = NULL;
  sk_err_t err = NULL;

  (void)state;
  def.environment_files.n = 1;
  def.environment_files.v = files;
  assert_int_equal (sk_env_build (&def, &task, &image, "/", "h", &ov, &envp, &err), -1);
  assert_non_null (strstr (err->msg, "is in S3, which skiff cannot read"));
  sk_err_free (&err);
  def.environment_files.v = missing;
  assert_int_equal (sk_env_build (&def, &task, &image, "/", "h", &ov, &envp, &err), -1);
  assert_string_equal (err->msg, "environmentFiles: open `/nonexistent/skiff.env`");
  sk_err_free (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_defaults),
    cmocka_unit_test (test_merge_order),
    cmocka_unit_test (test_missing_secret),
    cmocka_unit_test (test_env_file_errors),
  };
  return cmocka_run_group_tests_name ("env", tests, NULL, NULL);
}
