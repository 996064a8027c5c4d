/* launcher/restart + policy_labels: label parsing and long restart histories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_labels.h"
#include "restart.h"
#include "spec.h"
#include "util.h"

#define S 1000ull
#define MIN (60 * S)

/* ---- helpers --------------------------------------------------------------- */

/* Loads one container "c" with the given extra JSON members. */
static struct sk_task *
load (const char *members)
{
  _cleanup_free_ char *json = xasprintf ("{\"family\":\"f\",\"memory\":\"512\","
                                         "\"containerDefinitions\":[{\"name\":\"c\",\"image\":"
                                         "\"x\"%s%s}]}",
                                         *members ? "," : "", members);
  struct sk_diags d = { 0 };
  struct sk_task *t = NULL;
  sk_err_t err = NULL;

  if (sk_task_load_buffer (json, strlen (json), "task.json", NULL, &t, &d, &err) < 0)
    {
      sk_diags_print (&d, stderr);
      fail_msg ("cannot load %s", json);
    }
  sk_diags_clear (&d);
  sk_err_free (&err);
  return t;
}

/* Parses the policy; returns the diagnostics text ("" when valid). */
static char *
policy_of (const char *members, struct sk_restart_policy_x *p)
{
  struct sk_task *t = load (members);
  struct sk_diags d = { 0 };
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream (&text, &len);
  int rc = sk_restart_policy_from_container (&t->containers[0], p, &d);

  sk_diags_print (&d, m);
  fclose (m);
  assert_int_equal (rc, d.n_errors ? -1 : 0);
  sk_diags_clear (&d);
  sk_task_free (t);
  return text;
}

static void
must_parse (const char *members, struct sk_restart_policy_x *p)
{
  _cleanup_free_ char *diags = policy_of (members, p);
  assert_string_equal (diags, "");
}

static void
expect_error (const char *members, const char *expected)
{
  struct sk_restart_policy_x p;
  _cleanup_free_ char *diags = policy_of (members, &p);
  assert_string_equal (diags, expected);
  assert_null (p.rules);
}

static struct sk_exit_event
exited (int code)
{
  return (struct sk_exit_event){ .exit_known = true, .exit_code = code };
}

static struct sk_exit_event
killed (int sig)
{
  return (struct sk_exit_event){ .exit_known = true, .signal = sig };
}

/* A simple deterministic generator for jitter inputs. */
static uint64_t
xorshift (uint64_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Mid-range random value: jitter factor exactly 1. */
#define NO_JITTER (1ull << 63)

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

#define LABELS(x) "\"dockerLabels\":{" x "}"
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

/* ---- decisions --------------------------------------------------------------- */

/* A crash loop: every run lasts `run_ms` and exits with `code`. Records
 * every decision; returns the number of restarts before the first refusal
 * (or max_runs). */
static size_t
crash_loop (const struct sk_restart_policy_x *p, struct sk_restart_history *h, uint64_t *now,
            uint64_t run_ms, int code, size_t max_runs, uint64_t *delays,
            struct sk_restart_decision *last)
{
  size_t restarts = 0;
  struct sk_exit_event ev = exited (code);

  for (size_t i = 0; i < max_runs; i++)
    {
      sk_restart_history_record_start (h, *now);
      *now += run_ms;
      *last = sk_restart_decide (p, h, &ev, *now, NO_JITTER);
      sk_restart_history_record_decision (h, last, *now);
      if (!last->restart)
        return restarts;
      if (delays != NULL)
        delays[restarts] = last->delay_ms;
      restarts++;
      *now += last->delay_ms;
    }
  return restarts;
}

static void
test_backoff_sequence (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  uint64_t now = 1000, delays[12];
  const uint64_t expected[12] = { 1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60 };

  must_parse (LABELS ("\"skiff.restart\":\"on-failure\""), &p);
  assert_int_equal (crash_loop (&p, &h, &now, 2 * S, 1, 12, delays, &d), 12);
  for (size_t i = 0; i < 12; i++)
    assert_int_equal (delays[i], expected[i] * S);
  assert_int_equal (h.restart_count, 12);
  assert_int_equal (h.backoff_step, 12);
  assert_int_equal (h.last_delay_ms, 60 * S);
  assert_string_equal (d.reason, "exit code 1 under skiff.restart=on-failure; attempt 12; next "
                                 "in 60.0s");

  /* the printed schedule is the same curve */
  uint64_t sched[8];
  sk_restart_schedule (&p, sched, 8);
  for (size_t i = 0; i < 8; i++)
    assert_int_equal (sched[i], expected[i] * S);
  sk_restart_policy_x_clear (&p);
}

static void
test_jitter_bounds (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_exit_event ev = exited (1);
  uint64_t seed = 0x9e3779b97f4a7c15ull;

  must_parse (LABELS ("\"skiff.restart\":\"on-failure\""), &p);
  sk_restart_history_record_start (&h, 0);

  /* the extremes of the random value */
  struct sk_restart_decision lo = sk_restart_decide (&p, &h, &ev, 10, 0);
  struct sk_restart_decision hi = sk_restart_decide (&p, &h, &ev, 10, UINT64_MAX);
  assert_int_equal (lo.delay_ms, 800);
  assert_in_range (hi.delay_ms, 1199, 1200);

  for (uint32_t step = 0; step < 10; step++)
    {
      h.backoff_step = step;
      double base = 1000.0;
      for (uint32_t i = 0; i < step; i++)
        base = base * 2 < 60000 ? base * 2 : 60000;
      uint64_t min = (uint64_t)(base * 0.8), max = (uint64_t)(base * 1.2 + 1);
      if (max > 60000)
        max = 60000;
      uint64_t seen_min = UINT64_MAX, seen_max = 0;
      for (int i = 0; i < 2000; i++)
        {
          struct sk_restart_decision d = sk_restart_decide (&p, &h, &ev, 10, xorshift (&seed));
          assert_true (d.restart);
          assert_in_range (d.delay_ms, min, max);
          seen_min = d.delay_ms < seen_min ? d.delay_ms : seen_min;
          seen_max = d.delay_ms > seen_max ? d.delay_ms : seen_max;
        }
      /* the spread is used, not a constant */
      assert_true (seen_max - seen_min > (max - min) / 2);
    }
  sk_restart_policy_x_clear (&p);
}

static void
test_give_up_within_window (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  uint64_t now = 5 * S;

  must_parse (LABELS ("\"skiff.restart\":\"on-failure\",\"skiff.restart.maxAttempts\":\"5\","
                      "\"skiff.restart.window\":\"10m\",\"skiff.restart.jitter\":\"0\""),
              &p);
  /* crashes 1 s after each start: 1+2+4+8+16 s of delays, well inside 10 m */
  assert_int_equal (crash_loop (&p, &h, &now, 1 * S, 1, 50, NULL, &d), 5);
  assert_false (d.restart);
  assert_true (d.gave_up);
  assert_true (h.gave_up);
  assert_string_equal (d.reason, "gave up: 5 attempts within 10m (exit code 1)");
  assert_false (sk_restart_resume_allowed (&p, &h));
  sk_restart_policy_x_clear (&p);
}

static void
test_attempt_text (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = exited (1);
  uint64_t now = 0;

  must_parse (LABELS ("\"skiff.restart\":\"never\",\"skiff.restart.onUnhealthy\":\"restart\","
                      "\"skiff.restart.exitCodes\":\"1-3=restart\","
                      "\"skiff.restart.maxAttempts\":\"5\",\"skiff.restart.window\":\"10m\","
                      "\"skiff.restart.jitter\":\"0\""),
              &p);
  for (int i = 0; i < 3; i++)
    {
      sk_restart_history_record_start (&h, now);
      now += 1 * S;
      d = sk_restart_decide (&p, &h, &ev, now, 12345);
      sk_restart_history_record_decision (&h, &d, now);
      now += d.delay_ms;
    }
  assert_string_equal (d.reason, "exit code 1 matched rule 1-3=restart; attempt 3 of 5; next in "
                                 "4.0s");
  assert_string_equal (d.rule, "1-3=restart");
  assert_string_equal (d.trigger, "exit");
  assert_int_equal (d.attempt, 3);
  assert_int_equal (d.max_attempts, 5);

  /* outside the rules, mode never decides */
  ev = exited (4);
  d = sk_restart_decide (&p, &h, &ev, now, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "exit code 4; skiff.restart=never; not restarting");
  sk_restart_policy_x_clear (&p);
}

static void
test_window_slides (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_exit_event ev = exited (2);
  struct sk_restart_decision d;

  must_parse (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.maxAttempts\":\"3\","
                      "\"skiff.restart.window\":\"1m\",\"skiff.restart.delay\":\"0\","
                      "\"skiff.restart.maxDelay\":\"0\""),
              &p);
  /* restarts at 0 s, 20 s, 40 s; a fourth at 50 s is refused */
  const uint64_t at[] = { 0, 20 * S, 40 * S };
  for (size_t i = 0; i < 3; i++)
    {
      sk_restart_history_record_start (&h, at[i] > 0 ? at[i] - 1 : 0);
      d = sk_restart_decide (&p, &h, &ev, at[i], 0);
      assert_true (d.restart);
      assert_int_equal (d.attempt, i + 1);
      assert_int_equal (d.delay_ms, 0);
      assert_string_equal (d.reason + strlen (d.reason) - strlen ("restarting now"),
                           "restarting now");
      sk_restart_history_record_decision (&h, &d, at[i]);
    }
  d = sk_restart_decide (&p, &h, &ev, 50 * S, 0);
  assert_false (d.restart);
  assert_true (d.gave_up);
  assert_string_equal (d.reason, "gave up: 3 attempts within 1m (exit code 2)");
  /* exactly one window after the first restart it has left the window */
  d = sk_restart_decide (&p, &h, &ev, 60 * S, 0);
  assert_true (d.restart);
  assert_int_equal (d.attempt, 3);
  sk_restart_history_record_decision (&h, &d, 60 * S);
  /* 70 s: restarts at 20, 40, 60 are inside -> refused; 80 s: 20 left -> allowed */
  d = sk_restart_decide (&p, &h, &ev, 70 * S, 0);
  assert_false (d.restart);
  d = sk_restart_decide (&p, &h, &ev, 80 * S, 0);
  assert_true (d.restart);

  /* a long history keeps only the slots it needs */
  for (uint64_t t = 100 * S; t < 100 * S + 500 * 30 * S; t += 30 * S)
    {
      d = sk_restart_decide (&p, &h, &ev, t, 0);
      assert_true (d.restart);
      assert_int_equal (d.attempt, 2);
      sk_restart_history_record_decision (&h, &d, t);
    }
  assert_true (h.n_recent <= SK_RESTART_RECENT_SLOTS);
  assert_int_equal (h.restart_count, 4 + 500);
  sk_restart_policy_x_clear (&p);
}

static void
test_max_attempts_forever (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  uint64_t now = 0;

  must_parse (LABELS ("\"skiff.restart\":\"on-failure\",\"skiff.restart.maxAttempts\":\"2\""), &p);
  /* long stable runs reset the backoff but not the budget (no window) */
  assert_int_equal (crash_loop (&p, &h, &now, 10 * MIN, 1, 10, NULL, &d), 2);
  assert_string_equal (d.reason, "gave up: 2 attempts (exit code 1)");
  sk_restart_policy_x_clear (&p);
}

static void
test_reset_after_stable_run (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = exited (1);
  uint64_t now = 0, delays[6];

  must_parse (LABELS ("\"skiff.restart\":\"on-failure\",\"skiff.restart.jitter\":\"0\""), &p);
  assert_int_equal (crash_loop (&p, &h, &now, 1 * S, 1, 6, delays, &d), 6);
  assert_int_equal (delays[5], 32 * S);
  /* a run just short of resetAfter keeps growing */
  sk_restart_history_record_start (&h, now);
  now += 59 * S;
  d = sk_restart_decide (&p, &h, &ev, now, 0);
  assert_false (d.backoff_reset);
  assert_int_equal (d.delay_ms, 60 * S);
  sk_restart_history_record_decision (&h, &d, now);
  now += d.delay_ms;
  /* a stable run of resetAfter: back to the initial delay */
  sk_restart_history_record_start (&h, now);
  now += 60 * S;
  d = sk_restart_decide (&p, &h, &ev, now, 0);
  assert_true (d.backoff_reset);
  assert_int_equal (d.delay_ms, 1 * S);
  assert_int_equal (d.backoff_step, 1);
  assert_string_equal (d.reason, "exit code 1 under skiff.restart=on-failure; attempt 8 (backoff "
                                 "reset after a stable run); next in 1.0s");
  sk_restart_history_record_decision (&h, &d, now);
  now += d.delay_ms;
  assert_int_equal (crash_loop (&p, &h, &now, 1 * S, 1, 3, delays, &d), 3);
  assert_int_equal (delays[0], 2 * S);
  assert_int_equal (delays[1], 4 * S);
  assert_int_equal (delays[2], 8 * S);

  /* resetAfter=0: never resets */
  sk_restart_policy_x_clear (&p);
  must_parse (LABELS ("\"skiff.restart\":\"on-failure\",\"skiff.restart.jitter\":\"0\","
                      "\"skiff.restart.resetAfter\":\"0\""),
              &p);
  memset (&h, 0, sizeof h);
  now = 0;
  assert_int_equal (crash_loop (&p, &h, &now, 1 * S, 1, 3, NULL, &d), 3);
  assert_int_equal (crash_loop (&p, &h, &now, 24 * 60 * MIN, 1, 1, delays, &d), 1);
  assert_int_equal (delays[0], 8 * S);
  sk_restart_policy_x_clear (&p);
}

static void
test_ecs_attempt_period (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = exited (1);

  must_parse ("\"restartPolicy\":{\"enabled\":true}", &p);
  /* dies 12 s after the first start: not restarted */
  sk_restart_history_record_start (&h, 1000);
  d = sk_restart_decide (&p, &h, &ev, 13000, 0);
  assert_false (d.restart);
  assert_false (d.gave_up);
  assert_string_equal (d.reason, "attempt reset period of 300s has not elapsed (ran 12s)");
  /* after 300 s: restarted at once, exit 0 too */
  ev = exited (0);
  d = sk_restart_decide (&p, &h, &ev, 301000, 0);
  assert_true (d.restart);
  assert_int_equal (d.delay_ms, 0);
  assert_string_equal (d.rule, "restartPolicy.enabled");
  assert_string_equal (d.reason, "exit code 0 under restartPolicy.enabled; attempt 1; restarting "
                                 "now");
  sk_restart_history_record_decision (&h, &d, 301000);
  sk_restart_history_record_start (&h, 301000);
  /* 299 s after the restart: refused; 300 s: allowed */
  d = sk_restart_decide (&p, &h, &ev, 600000, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "attempt reset period of 300s has not elapsed (ran 299s)");
  d = sk_restart_decide (&p, &h, &ev, 601000, 0);
  assert_true (d.restart);
  sk_restart_policy_x_clear (&p);
}

static void
test_ecs_ignored_exit_codes (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = exited (0);

  must_parse ("\"restartPolicy\":{\"enabled\":true,\"ignoredExitCodes\":[0],"
              "\"restartAttemptPeriod\":60}",
              &p);
  sk_restart_history_record_start (&h, 0);
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "exit code 0 matched rule 0=never; not restarting");
  ev = exited (1);
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_true (d.restart);
  d = sk_restart_decide (&p, &h, &ev, 59 * S, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "attempt reset period of 60s has not elapsed (ran 59s)");
  sk_restart_policy_x_clear (&p);
}

static void
test_never_restart_cases (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = exited (1);

  /* no policy */
  must_parse ("", &p);
  sk_restart_history_record_start (&h, 0);
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "exit code 1; no restart policy; not restarting");
  sk_restart_policy_x_clear (&p);

  must_parse (LABELS ("\"skiff.restart\":\"always\""), &p);
  /* a stopping task never restarts, whatever happened */
  for (int code = 0; code < 256; code++)
    {
      ev = exited (code);
      ev.task_stopping = true;
      ev.oom = code % 2;
      d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
      assert_false (d.restart);
    }
  ev = killed (SIGTERM);
  ev.task_stopping = true;
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_string_equal (d.reason, "signal SIGTERM (exit code 143): the task is stopping");
  /* unknown exit status */
  ev = (struct sk_exit_event){ .exit_known = false };
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_false (d.restart);
  assert_string_equal (d.trigger, "unknown");
  assert_string_equal (d.reason, "exit code unknown: not restarting a container whose exit "
                                 "status is lost");
  /* always restarts exit 0 */
  ev = exited (0);
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_true (d.restart);
  sk_restart_policy_x_clear (&p);

  /* on-failure: exit 0 is a success */
  must_parse (LABELS ("\"skiff.restart\":\"on-failure\""), &p);
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "exit code 0 is a success; skiff.restart=on-failure restarts "
                                 "failures only");
  ev = killed (SIGSEGV);
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, NO_JITTER);
  assert_true (d.restart);
  assert_string_equal (d.trigger, "signal");
  assert_string_equal (d.reason, "signal SIGSEGV (exit code 139) under skiff.restart=on-failure; "
                                 "attempt 1; next in 1.0s");
  sk_restart_policy_x_clear (&p);
}

static void
test_user_stop_and_resume (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = killed (SIGTERM);

  ev.user_stopped = true;
  must_parse (LABELS ("\"skiff.restart\":\"unless-stopped\""), &p);
  sk_restart_history_record_start (&h, 0);
  assert_true (sk_restart_resume_allowed (&p, &h));
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_false (d.restart);
  assert_true (d.user_stopped);
  sk_restart_history_record_decision (&h, &d, 10 * S);
  assert_true (h.user_stopped);
  assert_false (sk_restart_resume_allowed (&p, &h));
  p.mode = SK_RESTART_ALWAYS;
  assert_true (sk_restart_resume_allowed (&p, &h));
  /* a new start forgets the user stop */
  p.mode = SK_RESTART_UNLESS_STOPPED;
  sk_restart_history_record_start (&h, 20 * S);
  assert_true (sk_restart_resume_allowed (&p, &h));
  sk_restart_policy_x_clear (&p);
}

static void
test_oom (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = killed (SIGKILL);

  ev.oom = true;
  must_parse (LABELS ("\"skiff.restart\":\"on-failure\""), &p);
  sk_restart_history_record_start (&h, 0);
  d = sk_restart_decide (&p, &h, &ev, 10 * S, NO_JITTER);
  assert_true (d.restart);
  assert_string_equal (d.trigger, "OutOfMemoryError");
  assert_string_equal (d.reason, "OutOfMemoryError (exit code 137) under skiff.restart=on-failure; "
                                 "attempt 1; next in 1.0s");
  sk_restart_policy_x_clear (&p);

  /* an oom rule placed first wins over the code rules */
  must_parse (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.exitCodes\":\"oom=never,"
                      "137=restart\""),
              &p);
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "OutOfMemoryError (exit code 137) matched rule oom=never; not "
                                 "restarting");
  ev.oom = false;
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_true (d.restart);
  assert_string_equal (d.rule, "137=restart");
  sk_restart_policy_x_clear (&p);
}

static void
test_unhealthy_routing (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = killed (SIGTERM);
  uint64_t now = 0;

  ev.unhealthy = true;
  /* default with a policy: restart, through the same backoff and budget */
  must_parse (LABELS ("\"skiff.restart\":\"on-failure\",\"skiff.restart.exitCodes\":\"*=never\","
                      "\"skiff.restart.maxAttempts\":\"2\",\"skiff.restart.jitter\":\"0\""),
              &p);
  sk_restart_history_record_start (&h, now);
  now += 5 * S;
  d = sk_restart_decide (&p, &h, &ev, now, 0);
  assert_true (d.restart);
  assert_string_equal (d.trigger, "health-check-failed");
  assert_string_equal (d.rule, "onUnhealthy=restart");
  assert_string_equal (d.reason, "health-check-failed (exit code 143) under onUnhealthy=restart; "
                                 "attempt 1 of 2; next in 1.0s");
  sk_restart_history_record_decision (&h, &d, now);
  sk_restart_history_record_start (&h, now += d.delay_ms);
  now += 5 * S;
  d = sk_restart_decide (&p, &h, &ev, now, 0);
  assert_int_equal (d.delay_ms, 2 * S);
  sk_restart_history_record_decision (&h, &d, now);
  d = sk_restart_decide (&p, &h, &ev, now + 10 * S, 0);
  assert_false (d.restart);
  assert_true (d.gave_up);
  sk_restart_policy_x_clear (&p);

  /* onUnhealthy=none */
  memset (&h, 0, sizeof h);
  must_parse (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.onUnhealthy\":\"none\""), &p);
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "health-check-failed (exit code 143); onUnhealthy=none; not "
                                 "restarting");
  sk_restart_policy_x_clear (&p);

  /* an explicit unhealthy rule wins */
  must_parse (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.exitCodes\":"
                      "\"unhealthy=never\""),
              &p);
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_false (d.restart);
  assert_string_equal (d.rule, "unhealthy=never");
  sk_restart_policy_x_clear (&p);

  /* no restart policy, but restart on unhealthy (moby#28400) */
  must_parse (LABELS ("\"skiff.restart.onUnhealthy\":\"restart\""), &p);
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_true (d.restart);
  struct sk_exit_event crash = exited (1);
  d = sk_restart_decide (&p, &h, &crash, 10 * S, 0);
  assert_false (d.restart);
  sk_restart_policy_x_clear (&p);

  /* no policy at all: unhealthy is reported only */
  must_parse ("", &p);
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_false (d.restart);
  sk_restart_policy_x_clear (&p);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_durations),
    cmocka_unit_test (test_signals),
    cmocka_unit_test (test_rules_grammar),
    cmocka_unit_test (test_labels_defaults),
    cmocka_unit_test (test_labels_all_keys),
    cmocka_unit_test (test_labels_errors),
    cmocka_unit_test (test_backoff_sequence),
    cmocka_unit_test (test_jitter_bounds),
    cmocka_unit_test (test_give_up_within_window),
    cmocka_unit_test (test_attempt_text),
    cmocka_unit_test (test_window_slides),
    cmocka_unit_test (test_max_attempts_forever),
    cmocka_unit_test (test_reset_after_stable_run),
    cmocka_unit_test (test_ecs_attempt_period),
    cmocka_unit_test (test_ecs_ignored_exit_codes),
    cmocka_unit_test (test_never_restart_cases),
    cmocka_unit_test (test_user_stop_and_resume),
    cmocka_unit_test (test_oom),
    cmocka_unit_test (test_unhealthy_routing),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
