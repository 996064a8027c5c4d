/* launcher/policy_labels: the skiff.* label languages (durations, signals,
 * exit-code rules) and their errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "restart_testlib.h"

/* ---- the small languages ---------------------------------------------------- */

static void
test_durations (void **state)
{
  uint64_t ms = 1;
  char buf[32];
  char *why = NULL;

  assert_int_equal (sk_duration_parse ("0", &ms, &why), 0);
  assert_int_equal (ms, 0);
  assert_int_equal (sk_duration_parse ("500ms", &ms, &why), 0);
  assert_int_equal (ms, 500);
  assert_int_equal (sk_duration_parse ("10s", &ms, &why), 0);
  assert_int_equal (ms, 10000);
  assert_int_equal (sk_duration_parse ("5m", &ms, &why), 0);
  assert_int_equal (ms, 300000);
  assert_int_equal (sk_duration_parse ("1h", &ms, &why), 0);
  assert_int_equal (ms, 3600000);
  assert_int_equal (sk_duration_parse ("1m30s", &ms, &why), 0);
  assert_int_equal (ms, 90000);
  assert_int_equal (sk_duration_parse ("1s500ms", &ms, &why), 0);
  assert_int_equal (ms, 1500);

  const char *bad[] = { "", "10", "s", "1x", "-1s", "1.5s", " 1s", "1s ", "ms" };
  for (size_t i = 0; i < SK_ARRAY_SIZE (bad); i++)
    {
      assert_int_equal (sk_duration_parse (bad[i], &ms, &why), -1);
      assert_non_null (why);
      free (why);
      why = NULL;
    }
  assert_int_equal (sk_duration_parse ("1x", &ms, &why), -1);
  assert_string_equal (why, "expected a duration like 500ms, 10s, 5m, 1h or 1m30s, got `1x`");
  free (why);
  assert_int_equal (sk_duration_parse ("999999999999h", &ms, &why), -1);
  assert_string_equal (why, "duration `999999999999h` is longer than the limit of 7 days");
  free (why);

  struct
  {
    uint64_t ms;
    const char *text;
  } fmt[] = { { 0, "0s" },        { 500, "500ms" }, { 1500, "1.5s" }, { 1250, "1.25s" },
              { 1001, "1.001s" }, { 10000, "10s" }, { 90000, "90s" }, { 600000, "10m" },
              { 7200000, "2h" },  { 300000, "5m" } };
  for (size_t i = 0; i < SK_ARRAY_SIZE (fmt); i++)
    {
      sk_duration_format (fmt[i].ms, buf, sizeof buf);
      assert_string_equal (buf, fmt[i].text);
    }
}

static void
test_signals (void **state)
{
  char buf[16];

  assert_int_equal (sk_signal_parse ("SIGSEGV"), SIGSEGV);
  assert_int_equal (sk_signal_parse ("sigkill"), SIGKILL);
  assert_int_equal (sk_signal_parse ("TERM"), SIGTERM);
  assert_int_equal (sk_signal_parse ("SIGNOPE"), -1);
  assert_int_equal (sk_signal_parse ("SIG"), -1);
  assert_int_equal (sk_signal_parse (""), -1);
  sk_signal_format (SIGSEGV, buf, sizeof buf);
  assert_string_equal (buf, "SIGSEGV");
}

static void
test_rules_grammar (void **state)
{
  struct sk_restart_rule *rules = NULL;
  size_t n = 0;
  char *why = NULL;

  assert_int_equal (sk_restart_rules_parse (" 0 = never , 1-3=restart,SIGSEGV=restart, oom=never,"
                                            "unhealthy=never,*=RESTART",
                                            &rules, &n, &why),
                    0);
  assert_int_equal (n, 6);
  assert_string_equal (rules[0].text, "0=never");
  assert_string_equal (rules[1].text, "1-3=restart");
  assert_string_equal (rules[2].text, "SIGSEGV=restart");
  assert_string_equal (rules[3].text, "oom=never");
  assert_string_equal (rules[4].text, "unhealthy=never");
  assert_string_equal (rules[5].text, "*=restart");

  struct sk_exit_event e2 = exited (2), e4 = exited (4), segv = killed (SIGSEGV);
  struct sk_exit_event oom = killed (SIGKILL), sick = killed (SIGTERM);
  oom.oom = true;
  sick.unhealthy = true;
  assert_true (sk_restart_rule_matches (&rules[1], &e2));
  assert_false (sk_restart_rule_matches (&rules[1], &e4));
  assert_true (sk_restart_rule_matches (&rules[2], &segv));
  assert_false (sk_restart_rule_matches (&rules[1], &segv)); /* 139 is not in 1-3 */
  assert_true (sk_restart_rule_matches (&rules[3], &oom));
  assert_false (sk_restart_rule_matches (&rules[3], &e2));
  /* unhealthy kills only match "unhealthy" rules, not "*" nor their code */
  assert_false (sk_restart_rule_matches (&rules[5], &sick));
  assert_true (sk_restart_rule_matches (&rules[4], &sick));

  /* a signal death is also its 128+n code */
  struct sk_restart_rule *r2 = NULL;
  size_t n2 = 0;
  assert_int_equal (sk_restart_rules_parse ("128-159=never", &r2, &n2, &why), 0);
  assert_true (sk_restart_rule_matches (&r2[0], &segv));
  free (r2);

  struct
  {
    const char *text, *why;
  } bad[] = {
    { "", "no rules; expected e.g. 0=never,1-3=restart,*=never" },
    { "1=restart,", "empty rule in `1=restart,`" },
    { "1", "rule 1: rule `1` needs the form MATCH=ACTION, e.g. 1-3=restart" },
    { "1=maybe", "rule 1: action `maybe` is not `restart` or `never`" },
    { "0=never,256=restart", "rule 2: exit codes are numbers 0-255 or ranges like 1-3" },
    { "5-3=never", "rule 1: range 5-3 is empty" },
    { "SIGFOO=never", "rule 1: `SIGFOO` is not an exit code, a range, a signal name, `oom`, "
                      "`unhealthy` or `*`" },
    { "1-=never", "rule 1: exit codes are numbers 0-255 or ranges like 1-3" },
  };
  for (size_t i = 0; i < SK_ARRAY_SIZE (bad); i++)
    {
      size_t before = n;
      assert_int_equal (sk_restart_rules_parse (bad[i].text, &rules, &n, &why), -1);
      assert_string_equal (why, bad[i].why);
      assert_int_equal (n, before);
      free (why);
      why = NULL;
    }
  free (rules);
}

/* ---- labels ----------------------------------------------------------------- */

static void
test_labels_defaults (void **state)
{
  struct sk_restart_policy_x p;

  /* neither: never restart, as ECS */
  must_parse ("", &p);
  assert_int_equal (p.mode, SK_RESTART_NEVER);
  assert_int_equal (p.source, SK_RESTART_FROM_NONE);
  assert_int_equal (p.on_unhealthy, SK_UNHEALTHY_NONE);
  assert_false (sk_restart_policy_restarts_anything (&p));
  sk_restart_policy_x_clear (&p);

  /* ECS only: no delay, the attempt period as minimum uptime */
  must_parse ("\"restartPolicy\":{\"enabled\":true,\"ignoredExitCodes\":[0,2]}", &p);
  assert_int_equal (p.mode, SK_RESTART_ECS);
  assert_int_equal (p.source, SK_RESTART_FROM_ECS);
  assert_int_equal (p.initial_delay_ms, 0);
  assert_int_equal (p.min_uptime_ms, 300 * S);
  assert_int_equal (p.on_unhealthy, SK_UNHEALTHY_RESTART);
  assert_int_equal (p.n_rules, 2);
  assert_string_equal (p.rules[1].text, "2=never");
  assert_true (p.rules[1].from_ecs);
  sk_restart_policy_x_clear (&p);

  /* skiff.restart: every default */
  must_parse ("\"dockerLabels\":{\"skiff.restart\":\"on-failure\"}", &p);
  assert_int_equal (p.mode, SK_RESTART_ON_FAILURE);
  assert_int_equal (p.initial_delay_ms, 1 * S);
  assert_true (p.multiplier == 2.0);
  assert_int_equal (p.max_delay_ms, 60 * S);
  assert_true (p.jitter == 0.2);
  assert_int_equal (p.reset_after_ms, 60 * S);
  assert_int_equal (p.max_attempts, 0);
  assert_int_equal (p.window_ms, 0);
  assert_int_equal (p.min_uptime_ms, 0);
  assert_int_equal (p.on_unhealthy, SK_UNHEALTHY_RESTART);
  sk_restart_policy_x_clear (&p);
}

static void
test_labels_all_keys (void **state)
{
  struct sk_restart_policy_x p;

  must_parse ("\"dockerLabels\":{\"skiff.restart\":\"always\",\"skiff.restart.delay\":\"500ms\","
              "\"skiff.restart.multiplier\":\"3\",\"skiff.restart.maxDelay\":\"2m\","
              "\"skiff.restart.jitter\":\"10%\",\"skiff.restart.resetAfter\":\"5m\","
              "\"skiff.restart.maxAttempts\":\"5\",\"skiff.restart.window\":\"10m\","
              "\"skiff.restart.exitCodes\":\"0=never,*=restart\","
              "\"skiff.restart.onUnhealthy\":\"stop-task\",\"other.label\":\"kept\"}",
              &p);
  assert_int_equal (p.mode, SK_RESTART_ALWAYS);
  assert_int_equal (p.initial_delay_ms, 500);
  assert_true (p.multiplier == 3.0);
  assert_int_equal (p.max_delay_ms, 2 * MIN);
  assert_true (p.jitter > 0.0999 && p.jitter < 0.1001);
  assert_int_equal (p.reset_after_ms, 5 * MIN);
  assert_int_equal (p.max_attempts, 5);
  assert_int_equal (p.window_ms, 10 * MIN);
  assert_int_equal (p.n_rules, 2);
  assert_int_equal (p.on_unhealthy, SK_UNHEALTHY_STOP_TASK);
  sk_restart_policy_x_clear (&p);

  /* both: skiff.restart wins; ignoredExitCodes become the first rules; the
   * attempt period is not applied */
  must_parse ("\"restartPolicy\":{\"enabled\":true,\"ignoredExitCodes\":[3],"
              "\"restartAttemptPeriod\":60},"
              "\"dockerLabels\":{\"skiff.restart\":\"on-failure\","
              "\"skiff.restart.exitCodes\":\"1-5=restart\"}",
              &p);
  assert_int_equal (p.mode, SK_RESTART_ON_FAILURE);
  assert_int_equal (p.source, SK_RESTART_FROM_LABEL);
  assert_int_equal (p.min_uptime_ms, 0);
  assert_int_equal (p.n_rules, 2);
  assert_string_equal (p.rules[0].text, "3=never");
  assert_string_equal (p.rules[1].text, "1-5=restart");
  sk_restart_policy_x_clear (&p);

  /* skiff.restart=never beats restartPolicy.enabled */
  must_parse ("\"restartPolicy\":{\"enabled\":true},\"dockerLabels\":{\"skiff.restart\":\"never\"}",
              &p);
  assert_int_equal (p.mode, SK_RESTART_NEVER);
  assert_false (sk_restart_policy_restarts_anything (&p));
  sk_restart_policy_x_clear (&p);

  /* never + onUnhealthy=restart: restarts unhealthy kills only, knobs allowed */
  must_parse ("\"dockerLabels\":{\"skiff.restart.onUnhealthy\":\"restart\","
              "\"skiff.restart.delay\":\"2s\"}",
              &p);
  assert_int_equal (p.mode, SK_RESTART_NEVER);
  assert_true (sk_restart_policy_restarts_anything (&p));
  sk_restart_policy_x_clear (&p);

  /* ECS mode accepts the knobs too */
  must_parse ("\"restartPolicy\":{\"enabled\":true},\"dockerLabels\":{\"skiff.restart.delay\":"
              "\"1s\",\"skiff.restart.maxAttempts\":\"3\"}",
              &p);
  assert_int_equal (p.mode, SK_RESTART_ECS);
  assert_int_equal (p.initial_delay_ms, 1 * S);
  assert_int_equal (p.max_attempts, 3);
  sk_restart_policy_x_clear (&p);
}

#define PREFIX "error: container `c`: dockerLabels "

static void
test_labels_errors (void **state)
{
  expect_error (LABELS ("\"skiff.restart\":\"sometimes\""),
                PREFIX "`skiff.restart`: expected never, on-failure, always or unless-stopped, "
                       "got `sometimes`\n");
  expect_error (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.maxdelay\":\"5m\""),
                PREFIX "`skiff.restart.maxdelay`: unknown skiff label; did you mean "
                       "`skiff.restart.maxDelay`?\n");
  expect_error (LABELS ("\"skiff.restart\":\"always\",\"skiff.restrat.delay\":\"5s\""),
                PREFIX "`skiff.restrat.delay`: unknown skiff label (known: skiff.restart and "
                       "skiff.restart.{delay,multiplier,maxDelay,jitter,resetAfter,maxAttempts,"
                       "window,exitCodes,onUnhealthy})\n");
  expect_error (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.delay\":\"10\""),
                PREFIX "`skiff.restart.delay`: expected a duration like 500ms, 10s, 5m, 1h or "
                       "1m30s, got `10`\n");
  expect_error (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.multiplier\":\"0.5\""),
                PREFIX "`skiff.restart.multiplier`: expected a number from 1 to 100, got "
                       "`0.5`\n");
  expect_error (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.jitter\":\"150%\""),
                PREFIX "`skiff.restart.jitter`: expected a number from 0 to 1 (or a percentage "
                       "like 20%), got `150%`\n");
  expect_error (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.maxAttempts\":\"2.5\""),
                PREFIX "`skiff.restart.maxAttempts`: expected a whole number, got `2.5`\n");
  expect_error (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.maxAttempts\":\"101\""),
                PREFIX "`skiff.restart.maxAttempts`: expected a number from 0 to 100, got "
                       "`101`\n");
  expect_error (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.delay\":\"2m\","
                        "\"skiff.restart.maxDelay\":\"1m\""),
                PREFIX "`skiff.restart.maxDelay`: 1m is shorter than skiff.restart.delay (2m)\n");
  expect_error (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.window\":\"10m\""),
                PREFIX "`skiff.restart.window`: has no effect without "
                       "skiff.restart.maxAttempts\n");
  expect_error (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.exitCodes\":\"1=maybe\""),
                PREFIX "`skiff.restart.exitCodes`: rule 1: action `maybe` is not `restart` or "
                       "`never`\n");
  expect_error (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.onUnhealthy\":\"kill\""),
                PREFIX "`skiff.restart.onUnhealthy`: expected restart, stop-task or none, got "
                       "`kill`\n");
  expect_error (LABELS ("\"skiff.restart.delay\":\"1s\""),
                PREFIX "`skiff.restart.delay`: has no effect: the container never restarts (set "
                       "skiff.restart or restartPolicy.enabled)\n");
  /* every problem is reported, not only the first */
  expect_error (LABELS ("\"skiff.restart\":\"on-fail\",\"skiff.restart.delay\":\"x\""),
                PREFIX "`skiff.restart`: expected never, on-failure, always or unless-stopped, "
                       "got `on-fail`\n" PREFIX "`skiff.restart.delay`: expected a duration like "
                       "500ms, 10s, 5m, 1h or 1m30s, got `x`\n" PREFIX "`skiff.restart.delay`: "
                       "has no effect: the container never restarts (set skiff.restart or "
                       "restartPolicy.enabled)\n");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_durations),       cmocka_unit_test (test_signals),
    cmocka_unit_test (test_rules_grammar),   cmocka_unit_test (test_labels_defaults),
    cmocka_unit_test (test_labels_all_keys), cmocka_unit_test (test_labels_errors),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
